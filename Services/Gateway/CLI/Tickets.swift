import Foundation

/// `ocorre tickets ...` and `ocorre kb ...`: the ticket routes of the HTTP API.
enum Tickets {
    /// `--attach` files up to this size travel inside the open (intake's default inline limit).
    static let inlineFileBytes = 256 << 10
    /// At most this many files, and bytes together, inside one open (under intake's 16 / 3 MiB).
    static let maxInlineFiles = 8, maxInlineBytes = 2 << 20

    static func run(_ options: Ocorre.Options, _ arguments: [String]) throws {
        guard let sub = arguments.first else { throw Ocorre.Failure(description: Ocorre.usage, status: 2) }
        switch sub {
        case "list":
            var path = "/v1/tickets"
            if let state = options.flags["state"] { path += "?state=\(state.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? state)" }
            let answer = try Ocorre.http(options, "GET", path)
            if options.json { try Ocorre.show(answer, options) } else {
                print(Ocorre.table(answer["tickets"] as? [[String: Any]] ?? [], columns: ["code", "subject", "stage_name", "priority", "organization_name", "last_interaction_at_ms"]))
            }
        case "show":
            guard arguments.count > 1 else { throw Ocorre.Failure(description: "uso / usage: ocorre tickets show ID", status: 2) }
            try Ocorre.show(try Ocorre.http(options, "GET", "/v1/tickets/\(arguments[1])"), options)
        case "open":
            var body: [String: Any] = [:]
            // Flags named after what people say; fields named as in intake's OpenTicketRequest.
            for (flag, field) in [("subject", "subject"), ("description", "request"), ("category", "category"), ("priority", "priority"),
                                  ("product", "product"), ("module", "module")] {
                if let value = options.flags[flag] { body[field] = value }
            }
            // Small files travel inside the open (`files`, base64: one call, one transaction at
            // intake); larger ones are uploaded first (streamed from disk), then linked by id.
            if let files = options.flags["attach"] {
                var ids: [String] = [], inline: [[String: Any]] = [], inlineBytes = 0
                for path in files.split(separator: ",").map(String.init) where !path.isEmpty {
                    let url = URL(fileURLWithPath: path)
                    guard FileManager.default.isReadableFile(atPath: url.path) else {
                        throw Ocorre.Failure(description: "não é possível ler / cannot read \(path)", status: 2)
                    }
                    let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? Int.max
                    if size <= Self.inlineFileBytes, inline.count < Self.maxInlineFiles, inlineBytes + size <= Self.maxInlineBytes,
                       let data = try? Data(contentsOf: url), data.count == size {
                        inline.append(["file_name": url.lastPathComponent, "data": data.base64EncodedString()])
                        inlineBytes += size
                        continue
                    }
                    let name = url.lastPathComponent.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "arquivo"
                    let reference = try Ocorre.http(options, "POST", "/v1/attachments?file_name=\(name)", file: url)
                    if let id = reference["id"] as? String { ids.append(id) }
                }
                if !ids.isEmpty { body["attachment_ids"] = ids }
                if !inline.isEmpty { body["files"] = inline }
            }
            try Ocorre.show(try Ocorre.http(options, "POST", "/v1/tickets", body: body), options)
        case "reply":
            guard arguments.count > 1, let text = options.flags["text"] else {
                throw Ocorre.Failure(description: "uso / usage: ocorre tickets reply ID --text T", status: 2)
            }
            try Ocorre.show(try Ocorre.http(options, "POST", "/v1/tickets/\(arguments[1])/replies", body: ["text": text]), options)
        case "move":
            guard arguments.count > 1, let stage = options.flags["stage"] else {
                throw Ocorre.Failure(description: "uso / usage: ocorre tickets move ID --stage S", status: 2)
            }
            try Ocorre.show(try Ocorre.http(options, "POST", "/v1/tickets/\(arguments[1])/move", body: ["to_stage": stage]), options)
        default:
            throw Ocorre.Failure(description: Ocorre.usage, status: 2)
        }
    }

    static func knowledge(_ options: Ocorre.Options, _ arguments: [String]) throws {
        guard arguments.first == "search", arguments.count > 1 else {
            throw Ocorre.Failure(description: "uso / usage: ocorre kb search TEXT", status: 2)
        }
        let query = arguments.dropFirst().joined(separator: " ").addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? ""
        let answer = try Ocorre.http(options, "GET", "/v1/knowledge/search?q=\(query)")
        if options.json { try Ocorre.show(answer, options) } else {
            print(Ocorre.table(answer["results"] as? [[String: Any]] ?? answer["hits"] as? [[String: Any]] ?? []))
        }
    }
}
