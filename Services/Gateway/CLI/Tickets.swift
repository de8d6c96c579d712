import Foundation
import GatewayCore
import Messages

/// `ocorre tickets ...` and `ocorre kb ...`: the ticket routes of the HTTP API.
enum Tickets {
    static func run(_ options: Ocorre.Options, _ arguments: [String]) throws {
        guard let sub = arguments.first else { throw Ocorre.Failure(description: Ocorre.help("tickets"), status: 2) }
        switch sub {
        case "list":
            var query: [String] = []
            // `--state` is the old spelling of `--stage`.
            for (flag, argument) in [("stage", "stage"), ("state", "stage"), ("priority", "priority"), ("category", "category"),
                                     ("text", "text"), ("product", "product"), ("module", "module"), ("agent", "agent_id"),
                                     ("group", "group_id"), ("sla", "sla_state"), ("page-size", "page_size"), ("cursor", "cursor")] {
                guard var value = options.flags[flag] else { continue }
                if argument == "stage" { value = try value.split(separator: ",").map { try stageKey(options, String($0)) }.joined(separator: ",") }
                query.append("\(argument)=\(try queryValue(flag, argument, value))")
            }
            // Agents: only the tickets they hold; only open ones.
            if options.switches.contains("mine") { query.append("mine=true") }
            if options.switches.contains("open-only") { query.append("open_only=true") }
            let answer = try flagged(["page_size": "--page-size", "cursor": "--cursor", "sla_state": "--sla", "stage": "--stage",
                                      "agent_id": "--agent", "group_id": "--group"]) {
                try Ocorre.http(options, "GET", "/v1/tickets" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
            }
            if options.json { try Ocorre.show(answer, options) } else {
                let language = TicketText.language(options)
                print(TicketText.list(answer["tickets"] as? [[String: Any]] ?? [], language))
                if let next = answer["next_cursor"] as? String, !next.isEmpty {
                    print(language == .portuguese ? "\nPróxima página: --cursor \(next)" : "\nNext page: --cursor \(next)")
                }
            }
        case "show":
            guard arguments.count > 1 else { throw Ocorre.Failure(description: "uso / usage: ocorre tickets show ID", status: 2) }
            let answer = try wholeConversation(options, try Ocorre.http(options, "GET", "/v1/tickets/\(pathSegment(arguments[1]))"))
            if options.json { try Ocorre.show(answer, options) } else {
                // The SLA's targets for staff (customers are refused it: shown without).
                let id = TicketText.text((answer["intake"] as? [String: Any])?["id"])
                let sla = answer["workflow"] is [String: Any] && !id.isEmpty ? try? Ocorre.http(options, "GET", "/v1/tickets/\(pathSegment(id))/sla") : nil
                print(TicketText.view(answer, TicketText.language(options), labels: ListLabels.read(options), sla: sla))
            }
        case "open":
            var body: [String: Any] = [:]
            // Flags named after what people say; fields named as in intake's OpenTicketRequest.
            // Staff and integrations open for a customer: its organization and contact (a customer's own are filled by intake).
            for (flag, field) in [("subject", "subject"), ("description", "request"), ("product", "product"), ("module", "module"),
                                  ("organization", "organization_id"), ("contact", "contact_id"), ("channel", "channel"), ("origin", "origin")] {
                if let value = options.flags[flag] { body[field] = value }
            }
            // Typed as people say them, as `list` takes them.
            for field in ["category", "priority"] {
                if let value = options.flags[field] { body[field] = try enumName(field, field, value) }
            }
            for (key, value) in try files(options) { body[key] = value }
            let answer = try flagged(openFlags) { try Ocorre.http(options, "POST", "/v1/tickets", body: body) }
            if options.json { return try Ocorre.show(answer, options) }
            // One line: the code to use next, the subject; the id and files for scripts that read text.
            let ticket = answer["ticket"] as? [String: Any] ?? [:]
            let pt = TicketText.language(options) == .portuguese
            let opened = answer["duplicate"] as? Bool == true
                ? (pt ? "já aberta há pouco (a mesma; nada novo)" : "already opened moments ago (the same one; nothing new)")
                : (pt ? "aberta" : "opened")
            print("\(TicketText.text(ticket["code"])): \(opened) · \(TicketText.text(ticket["subject"]))  id \(TicketText.text(ticket["id"]))")
            printFiles(ticket["attachments"], pt)
        case "reply":
            // A reply with files needs no text (intake's ReplyRequest).
            guard arguments.count > 1, options.flags["text"] != nil || options.flags["attach"] != nil else {
                throw Ocorre.Failure(description: "uso / usage: ocorre tickets reply ID [--text T] [--attach FILE]...", status: 2)
            }
            var body: [String: Any] = ["text": options.flags["text"] ?? ""]
            for (key, value) in try files(options) { body[key] = value }
            let pt = TicketText.language(options) == .portuguese
            if try signedInAsStaff(options) {
                // Staff answer the customer as the portal's agent page does: a public discussion
                // entry (workflow's AddDiscussion, files put on the ticket by intake first), not
                // intake's customer reply, which would record the text as the customer's message.
                // (Workflow requires its text: refused naming --text, with no file stored.)
                body["is_public"] = true
                let id = try ticketID(options, arguments[1])
                let answer = try flagged(["text": "--text", "attachment_ids": "--attach", "files": "--attach"]) {
                    try Ocorre.http(options, "POST", "/v1/tickets/\(id)/discussion", body: body)
                }
                if options.json { return try Ocorre.show(answer, options) }
                let entry = answer["entry"] as? [String: Any] ?? [:]
                print("\(arguments[1]): \(pt ? "resposta ao cliente enviada" : "reply to the customer sent")  id \(TicketText.text(entry["entry_id"]))")
                printFiles(entry["attachments"], pt)
                return
            }
            let answer = try flagged(["text": "--text", "attachment_ids": "--attach", "files": "--attach"]) {
                try Ocorre.http(options, "POST", "/v1/tickets/\(pathSegment(arguments[1]))/replies", body: body)
            }
            if options.json { return try Ocorre.show(answer, options) }
            let message = answer["message"] as? [String: Any] ?? [:]
            print("\(arguments[1]): \(pt ? "resposta enviada" : "reply sent")  id \(TicketText.text(message["id"]))")
            printFiles(message["attachments"], pt)
        case "discuss":
            // An agent's discussion entry: internal unless --public; text required, files like a reply's.
            guard arguments.count > 1, let text = options.flags["text"] else {
                throw Ocorre.Failure(description: "uso / usage: ocorre tickets discuss ID --text T [--public] [--attach FILE]...", status: 2)
            }
            var body: [String: Any] = ["text": text, "is_public": options.switches.contains("public")]
            for (key, value) in try files(options) { body[key] = value }
            try Ocorre.show(try Ocorre.http(options, "POST", "/v1/tickets/\(try ticketID(options, arguments[1]))/discussion", body: body), options)
        case "move":
            guard arguments.count > 1, let stage = options.flags["stage"] else {
                throw Ocorre.Failure(description: "uso / usage: ocorre tickets move ID --stage S [--note T] [--public-note T]", status: 2)
            }
            // Some moves need a note (an agent's cancel) or a text for the customer (asking for
            // information, a denial): workflow says which (`GET /v1/tickets/{id}/moves`).
            let id = try ticketID(options, arguments[1])
            var body: [String: Any] = ["to_stage": try stageKey(options, stage, moves: id)]
            for (flag, field) in [("note", "note"), ("public-note", "public_note")] {
                if let value = options.flags[flag] { body[field] = value }
            }
            try changed(options, try flagged(["to_stage": "--stage", "note": "--note", "public_note": "--public-note"]) {
                try Ocorre.http(options, "POST", "/v1/tickets/\(id)/move", body: body)
            })
        case "read":
            // The customer's messages read: workflow refuses to transfer or solve while some are unread.
            guard arguments.count > 1 else { throw Ocorre.Failure(description: "uso / usage: ocorre tickets read ID", status: 2) }
            try changed(options, try Ocorre.http(options, "POST", "/v1/tickets/\(try ticketID(options, arguments[1]))/read", body: [String: Any]()))
        case "take":
            guard arguments.count > 1 else { throw Ocorre.Failure(description: "uso / usage: ocorre tickets take ID", status: 2) }
            try changed(options, try Ocorre.http(options, "POST", "/v1/tickets/\(try ticketID(options, arguments[1]))/take", body: [String: Any]()))
        case "transfer":
            guard arguments.count > 1, options.flags["agent"] != nil || options.flags["group"] != nil else {
                throw Ocorre.Failure(description: "uso / usage: ocorre tickets transfer ID (--agent ID | --group ID) [--note T]", status: 2)
            }
            var body: [String: Any] = [:]
            for (flag, field) in [("agent", "to_agent_id"), ("group", "to_group_id"), ("note", "note")] {
                if let value = options.flags[flag] { body[field] = value }
            }
            try changed(options, try Ocorre.http(options, "POST", "/v1/tickets/\(try ticketID(options, arguments[1]))/transfer", body: body))
        case "solve":
            guard arguments.count > 1, let text = options.flags["text"] else {
                throw Ocorre.Failure(description: "uso / usage: ocorre tickets solve ID --text T", status: 2)
            }
            try changed(options, try Ocorre.http(options, "POST", "/v1/tickets/\(try ticketID(options, arguments[1]))/solution", body: ["text": text]))
        case "cancel":
            guard arguments.count > 1, let reason = options.flags["reason"] else {
                throw Ocorre.Failure(description: "uso / usage: ocorre tickets cancel ID --reason T", status: 2)
            }
            let answer = try Ocorre.http(options, "POST", "/v1/tickets/\(pathSegment(arguments[1]))/cancel", body: ["reason": reason])
            if options.json { try Ocorre.show(answer, options) } else {
                let pt = TicketText.language(options) == .portuguese
                print("\(TicketText.text(answer["code"])): \(pt ? "cancelada" : "cancelled")")
            }
        case "history":
            guard arguments.count > 1 else { throw Ocorre.Failure(description: "uso / usage: ocorre tickets history ID", status: 2) }
            // Every page, oldest first (the route answers the newest page and a cursor to the older).
            let path = "/v1/tickets/\(try ticketID(options, arguments[1]))/history?limit=\(pageLimit)"
            var answer = try Ocorre.http(options, "GET", path)
            answer["entries"] = try olderPages(options, answer["entries"], before: answer["before"], key: "entries", cursorKey: "before") {
                path + "&before=" + $0
            }
            answer["older_entries"] = 0
            answer["before"] = ""
            if options.json { try Ocorre.show(answer, options) } else {
                print(TicketText.history(answer["entries"] as? [[String: Any]] ?? [], TicketText.language(options)))
            }
        default:
            throw Ocorre.Failure(description: "subcomando desconhecido / unknown subcommand \(sub)\n" + Ocorre.help("tickets"), status: 2)
        }
    }

    /// Whether the signed-in user is support staff (`GET /v1/me`: principal kind `agent`, every
    /// staff role). An integration key (kind `integration`) and customers are not: their reply
    /// stays intake's customer reply.
    static func signedInAsStaff(_ options: Ocorre.Options) throws -> Bool {
        let me = try Ocorre.http(options, "GET", "/v1/me")
        return (me["principal"] as? [String: Any])?["kind"] as? String == "agent"
    }

    /// Items asked per page when reading every page (the services' most).
    static let pageLimit = 200

    /// A ticket view (`GET /v1/tickets/{id}`) with the whole of its two long lists: the view holds
    /// the newest page of intake's messages and of workflow's discussion; the older pages are read
    /// from `GET /v1/tickets/{id}/conversation` until none is left, so `show` prints (and `--json`
    /// answers) the whole history, with no older item left out.
    static func wholeConversation(_ options: Ocorre.Options, _ view: [String: Any]) throws -> [String: Any] {
        guard let id = (view["intake"] as? [String: Any])?["id"] as? String, !id.isEmpty else { return view }
        var whole = view
        for (part, list) in [("intake", "messages"), ("workflow", "discussion")] {
            guard var answer = whole[part] as? [String: Any] else { continue }
            answer[list] = try olderPages(options, answer[list], before: answer["\(list)_before"], key: list, cursorKey: "\(list)_before") {
                "/v1/tickets/\(pathSegment(id))/conversation?limit=\(pageLimit)&\(list)_before=\($0)"
            }
            answer["older_\(list)"] = 0
            answer["\(list)_before"] = ""
            whole[part] = answer
        }
        return whole
    }

    /// `items` (a page, oldest first) preceded by every older page: each read from the path made
    /// of the previous page's cursor (`before`, then each page's `cursorKey`), until a page comes without one.
    static func olderPages(_ options: Ocorre.Options, _ items: Any?, before: Any?, key: String, cursorKey: String,
                           path: (String) -> String) throws -> [Any] {
        var all = items as? [Any] ?? []
        var cursor = before as? String ?? ""
        while !cursor.isEmpty {
            let page = try Ocorre.http(options, "GET", path(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor))
            let older = page[key] as? [Any] ?? []
            guard !older.isEmpty else { break }
            all = older + all
            cursor = page[cursorKey] as? String ?? ""
        }
        return all
    }

    /// The ticket's id for workflow's routes, which take ids only: a code (`2026-000123`) is
    /// looked up through the ticket view first.
    static func ticketID(_ options: Ocorre.Options, _ reference: String) throws -> String {
        guard reference.count != 36 || reference.filter({ $0 == "-" }).count != 4 else { return pathSegment(reference) }
        let view = try Ocorre.http(options, "GET", "/v1/tickets/\(pathSegment(reference))")
        guard let id = (view["intake"] as? [String: Any])?["id"] as? String, !id.isEmpty else {
            throw Ocorre.Failure(description: "ocorrência sem id / ticket without an id: \(reference)")
        }
        return pathSegment(id)
    }

    /// What a change answered (workflow's `TicketView`): with `--json` as it came, else one line
    /// with the ticket's code, stage (in the chosen language) and holder.
    static func changed(_ options: Ocorre.Options, _ answer: [String: Any]) throws {
        if options.json { return try Ocorre.show(answer, options) }
        let row = answer["row"] as? [String: Any] ?? [:]
        print([TicketText.text(row["code"]), TicketText.stage(row, "stage_name", TicketText.language(options)), TicketText.holder(row["holder"])]
            .filter { !$0.isEmpty }.joined(separator: " · "))
    }

    /// A ticket id or code as one path segment.
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? text
    }

    /// A list filter's value as the route takes it: priorities and categories by their API names
    /// (`alta` or `Alta` → `ALTA`; several separated by commas), everything percent-encoded.
    /// - Throws: a usage failure naming the flag for a priority or category that does not exist.
    static func queryValue(_ flag: String, _ argument: String, _ value: String) throws -> String {
        var value = value
        if argument == "priority" || argument == "category" {
            value = try value.split(separator: ",").map { try enumName(flag, argument, String($0)) }.joined(separator: ",")
        }
        return value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ",-_."))) ?? value
    }

    /// A priority or category as people type it (`alta`, `Urgente`, `exigência fiscal`,
    /// `EXIGENCIA_FISCAL`, `sugestao`) as the API names it (`ALTA`); an unknown or ambiguous one is
    /// a usage error (exit 2) before any call, listing the accepted names.
    /// - Parameter argument: `priority` or `category`.
    static func enumName(_ flag: String, _ argument: String, _ typed: String) throws -> String {
        let values: [(name: String, labels: [String])] = argument == "priority"
            ? CommonV1.Priority.allCases.filter { $0 != .unspecified }.map { ($0.protoName, [$0.protoName, $0.label(.portuguese), $0.label(.english)]) }
            : CommonV1.Category.allCases.filter { $0 != .unspecified }.map { ($0.protoName, [$0.protoName, $0.label(.portuguese), $0.label(.english)]) }
        // Case, accents, spaces and underscores ignored; the start of one name is enough
        // (`sugestao` for "Sugestão de melhoria", `exigencia`), when it is the start of one only.
        func key(_ text: String) -> String {
            text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).filter { $0.isLetter || $0.isNumber }
        }
        let typedKey = key(typed)
        let exact = values.filter { $0.labels.contains { key($0) == typedKey } }
        let started = typedKey.count >= 3 ? values.filter { $0.labels.contains { key($0).hasPrefix(typedKey) } } : []
        guard let match = exact.first ?? (started.count == 1 ? started.first : nil) else {
            throw Ocorre.Failure(description: "--\(flag): valor desconhecido / unknown value \(typed); aceitos / accepted: "
                                 + values.map { $0.labels[1] }.joined(separator: ", "), status: 2)
        }
        return match.name
    }

    /// The `--attach` files of an open, a reply or a discussion entry as the API takes them: small ones inside the
    /// call (`files`, base64: one call, one transaction at intake), larger ones uploaded first
    /// (streamed from disk) and named in `attachment_ids`, decided by the gateway's own limits
    /// (`GET /v1/file-limits`, read when there are files). `--attach` repeats; a value that is not
    /// a file is split at commas (`--attach a.png,log.txt`).
    /// Every small file that fits the call's allowance goes inside wherever it stands and
    /// `file_positions` places it (``InlineFileLimits/placed(_:)``), so the files are listed in
    /// the order given and only the others are uploaded.
    static func files(_ options: Ocorre.Options) throws -> [String: Any] {
        var paths: [String] = []
        for value in options.lists["attach"] ?? [] {
            if FileManager.default.fileExists(atPath: value) { paths.append(value); continue }
            paths += value.split(separator: ",").map(String.init).filter { !$0.isEmpty }
        }
        guard !paths.isEmpty else { return [:] }
        for path in paths where !FileManager.default.isReadableFile(atPath: path) {
            throw Ocorre.Failure(description: "não é possível ler / cannot read \(path)", status: 2)
        }
        let answer = try Ocorre.http(options, "GET", "/v1/file-limits")
        guard let limits = InlineFileLimits(json: answer) else {
            throw Ocorre.Failure(description: "resposta inesperada de / unexpected answer from /v1/file-limits: \(answer)")
        }
        let sizes = paths.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? Int.max }
        for (path, size) in zip(paths, sizes) where size > limits.uploadBytes {
            throw Ocorre.Failure(description: "\(path): \(ByteCount.stated(size)); o limite é / the limit is \(ByteCount.stated(limits.uploadBytes))",
                                 status: 2)
        }
        let fits = limits.placed(sizes)
        var ids: [String] = [], inline: [[String: Any]] = [], carried: [Bool] = []
        for (index, path) in paths.enumerated() {
            let url = URL(fileURLWithPath: path)
            if fits[index], let data = try? Data(contentsOf: url), data.count == sizes[index] {
                inline.append(["file_name": url.lastPathComponent, "data": data.base64EncodedString()])
                carried.append(true)
                continue
            }
            carried.append(false)
            let name = url.lastPathComponent.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "arquivo"
            let reference = try Ocorre.http(options, "POST", "/v1/attachments?file_name=\(name)", file: url)
            guard let id = reference["id"] as? String else {
                throw Ocorre.Failure(description: "envio sem id / upload answered no id: \(reference)")
            }
            ids.append(id)
        }
        var fields: [String: Any] = [:]
        if !ids.isEmpty { fields["attachment_ids"] = ids }
        if !inline.isEmpty { fields["files"] = inline }
        if !inline.isEmpty { fields["file_positions"] = InlineFileLimits.positions(carried) }
        return fields
    }

    /// A stage as workflow keys it (`em_atendimento`) from what people type: the key itself, or
    /// a stage's name in Portuguese or English (`"Em atendimento"`, `"in service"`; case and accents
    /// ignored). For a move the names are
    /// those of the ticket's allowed moves (`GET /v1/tickets/{id}/moves`); for a list, of the
    /// stages that hold tickets (`GET /v1/tickets/counts`), read only when the value is not
    /// written as a key. A name that matches none is sent as typed (workflow answers for it).
    static func stageKey(_ options: Ocorre.Options, _ typed: String, moves ticketID: String? = nil) throws -> String {
        let trimmed = typed.trimmingCharacters(in: .whitespaces)
        let looksLikeKey = trimmed.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
        if looksLikeKey && ticketID == nil { return trimmed }
        let answer = ticketID.map { (try? Ocorre.http(options, "GET", "/v1/tickets/\($0)/moves")) ?? [:] }
            ?? ((try? Ocorre.http(options, "GET", "/v1/tickets/counts")) ?? [:])
        let rows = (answer["moves"] ?? answer["counts"]) as? [[String: Any]] ?? []
        func key(_ text: String) -> String {
            text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).filter { $0.isLetter || $0.isNumber }
        }
        let wanted = key(trimmed)
        for row in rows {
            let stage = TicketText.text(row["to_stage"] ?? row["stage"])
            if stage == trimmed || key(stage) == wanted || key(TicketText.text(row["stage_name"])) == wanted
                || key(TicketText.text(row["stage_name_en"])) == wanted { return stage }
        }
        return trimmed
    }

    /// The request fields `tickets open` fills from its flags, by flag.
    static let openFlags = ["subject": "--subject", "request": "--description", "category": "--category", "priority": "--priority",
                            "product": "--product", "module": "--module", "organization_id": "--organization", "contact_id": "--contact",
                            "channel": "--channel", "origin": "--origin", "attachment_ids": "--attach", "files": "--attach"]

    /// Runs `call`; a refusal naming request fields the command filled from flags says the flag
    /// beside each field (`- request (--description): Campo obrigatório.`), so people know what to type.
    static func flagged(_ flags: [String: String], _ call: () throws -> [String: Any]) throws -> [String: Any] {
        do {
            return try call()
        } catch var failure as Ocorre.Failure {
            for (field, flag) in flags.sorted(by: { $0.key.count > $1.key.count }) {
                failure.description = failure.description.replacingOccurrences(of: "\n  - \(field):", with: "\n  - \(field) (\(flag)):")
                failure.description = failure.description.replacingOccurrences(of: "\n  - \(field)[", with: "\n  - (\(flag)) \(field)[")
            }
            throw failure
        }
    }

    /// The files an open or a reply stored, one line each (name, size, id).
    static func printFiles(_ files: Any?, _ pt: Bool) {
        for file in files as? [[String: Any]] ?? [] {
            print("  📎 \(TicketText.text(file["file_name"])) (\(TicketText.size(file["size_bytes"])))  id \(TicketText.text(file["id"]))")
        }
    }

    static func knowledge(_ options: Ocorre.Options, _ arguments: [String]) throws {
        guard arguments.first == "search", arguments.count > 1 else {
            throw Ocorre.Failure(description: "uso / usage: ocorre kb search TEXT", status: 2)
        }
        // Every character but letters and digits encoded: "C++ & Delphi" is one query, not "C  " and a stray parameter.
        let query = arguments.dropFirst().joined(separator: " ").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let answer = try Ocorre.http(options, "GET", "/v1/knowledge/search?q=\(query)")
        if options.json { try Ocorre.show(answer, options) } else {
            print(TicketText.searchHits(answer, TicketText.language(options)))
        }
    }
}
