import Foundation
import Storage
import GatewayCore
import Testing
import TestSupport

/// Files of opens and replies from every client, decided by one set of limits: the gateway's
/// (`GATEWAY_HTTP_INLINE_*`), served at `GET /v1/file-limits` and read by the portal and `ocorre`.
@Suite("Files of replies from every client; the inline-file limits served are the ones applied", .serialized)
struct ReplyFilesTests {
    /// A ticket opened by the seeded customer (JSON, no files), once workflow has it; its id.
    static func openTicket(_ gateway: GatewayHarness, _ seeded: TicketFlowTests.Seeded, subject: String = "Pedido não grava") throws -> String {
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": subject, "request": "Ao gravar o pedido a tela congela.", "category": "PROBLEMA", "priority": "NORMAL",
            "product": "ERP", "module": "Vendas", "organization_id": seeded.organizationID], bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let id = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        // Workflow learns of it by event: routes about the ticket that ask workflow first (its
        // discussion, the gateway's visibility gate) find it once workflow has it.
        #expect(waitFor(30) { (try? gateway.request("GET", "/v1/tickets/\(id)", bearer: seeded.admin).json["workflow"] as? [String: Any]) != nil })
        return id
    }

    /// Intake's `UploadAttachment` calls made by the gateway so far.
    static func uploads(_ gateway: GatewayHarness, admin: String) throws -> Double {
        ViewCacheTests.counter(try gateway.request("GET", "/metrics", bearer: admin).text, "gateway_rpc_client_calls_total",
                               ["Intake/UploadAttachment\""])
    }

    /// Runs `ocorre` against the deployment's gateway with a bearer token.
    static func ocorre(_ arguments: [String], _ gateway: GatewayHarness, token: String,
                       language: String = "pt") throws -> (status: Int32, output: String, error: String) {
        try GatewayHarness.run(BuildProducts.executable("ocorre"), arguments,
                               environment: ["OCORRE_URL": "http://127.0.0.1:\(gateway.httpPort)", "OCORRE_TOKEN": token,
                                             "OCORRE_CONFIG": gateway.directory.path + "/none.json", "OCORRE_LANG": language])
    }

    /// The attachments of a reply as `ocorre --json` printed it (`ReplyResponse.message`).
    static func replyAttachments(_ output: String) throws -> [[String: Any]] {
        let answer = try #require((try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any], "\(output.prefix(2000))")
        return try #require((answer["message"] as? [String: Any])?["attachments"] as? [[String: Any]], "\(output.prefix(2000))")
    }

    @Test("the defaults and GATEWAY_HTTP_INLINE_* / GATEWAY_HTTP_MAX_UPLOAD_BYTES make one set of limits; a budget takes files in order until the size, count or bytes run out")
    func limitsAndBudget() throws {
        #expect(HTTPServerConfiguration().inlineFiles == InlineFileLimits(fileBytes: 256 << 10, maxFiles: 8, maxBytes: 2 << 20, uploadBytes: 100 << 20))
        let configured = try HTTPServerConfiguration(environment: ["GATEWAY_HTTP_INLINE_FILE_BYTES": "1000", "GATEWAY_HTTP_INLINE_MAX_FILES": "2",
                                                               "GATEWAY_HTTP_INLINE_MAX_BYTES": "1800", "GATEWAY_HTTP_MAX_UPLOAD_BYTES": "5000000"])
        let limits = configured.inlineFiles
        #expect(limits == InlineFileLimits(fileBytes: 1000, maxFiles: 2, maxBytes: 1800, uploadBytes: 5_000_000))
        #expect(InlineFileLimits(json: limits.json) == limits)
        var budget = limits.budget()
        // At the size: inside; over it: uploaded; 1000 + 801 > 1800 bytes: uploaded; 1800 exactly:
        // inside; then the third file is past the count.
        let taken = [1000, 1001, 801, 800, 1].map { budget.take($0) }
        #expect(taken == [true, false, false, true, false])
        #expect(budget.files == 2 && budget.bytes == 1800)
        #expect(try !HTTPServerConfiguration(environment: ["GATEWAY_HTTP_INLINE_FILE_BYTES": "0"]).inlineFiles.budget().fits(0))

        // A call places its files (file_positions): each that fits what is left goes inside
        // wherever it stands; the positions are their indices (the uploads take the rest).
        #expect(try HTTPServerConfiguration(environment: ["GATEWAY_HTTP_INLINE_FILE_BYTES": "0"]).inlineFiles.placed([0, 0]) == [false, false])
        #expect(limits.placed([1000, 1001, 800, 10]) == [true, false, true, false], "over the size; then past the count")
        #expect(limits.placed([10, 1001, 20]) == [true, false, true], "a small file before a large one is not uploaded")
        #expect(limits.placed([900, 901, 900]) == [true, false, true], "past the bytes: 900 + 901 > 1800, 900 + 900 fits")
        #expect(InlineFileLimits.positions([true, false, true, false]) == [0, 2])
        #expect(InlineFileLimits.positions([false, false]).isEmpty)
    }

    @Test("GET /v1/file-limits serves the gateway's configured limits (signed-in callers only); the multipart open, `ocorre tickets open --attach`, the multipart reply and `ocorre tickets reply --attach` decide with them: files over the size, or past the count or bytes, are uploaded, the small ones before them placed inside the call (file_positions); a reply of small, large, small files makes one upload; all download byte-exact, listed in the order given",
          arguments: TestEngines.all)
    func servedLimitsAreApplied(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine, gatewayEnvironment: [
            "GATEWAY_HTTP_INLINE_FILE_BYTES": "1000", "GATEWAY_HTTP_INLINE_MAX_FILES": "2", "GATEWAY_HTTP_INLINE_MAX_BYTES": "1800",
            "GATEWAY_HTTP_MAX_UPLOAD_BYTES": "5000000"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let served = try gateway.request("GET", "/v1/file-limits", bearer: seeded.maria)
        #expect(served.status == 200, "\(served.text)")
        #expect(served.json["inline_file_bytes"] as? Int == 1000 && served.json["max_inline_files"] as? Int == 2
                && served.json["max_inline_bytes"] as? Int == 1800 && served.json["max_upload_bytes"] as? Int == 5_000_000, "\(served.text)")
        #expect(try gateway.request("GET", "/v1/file-limits").status == 401)

        let files = try TemporaryDirectory()
        var contents: [String: Data] = [:]
        func write(_ name: String, _ count: Int, seed: UInt64) throws -> String {
            let data = AttachmentStreamTests.file(bytes: count, seed: seed)
            contents[name] = data
            try data.write(to: URL(fileURLWithPath: files.path + "/" + name))
            return files.path + "/" + name
        }
        // In order: 1000 B, then 1001 B over the size, 800 B and 10 B. An open or reply places
        // its files: a.bin and c.bin inside (1,800 B, the bytes), b.bin (the size) and d.bin (the
        // count) uploaded.
        let paths = try [write("a.bin", 1000, seed: 1), write("b.bin", 1001, seed: 2), write("c.bin", 800, seed: 3), write("d.bin", 10, seed: 4)]
        func byteExact(_ attachments: [[String: Any]], sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(Set(attachments.compactMap { $0["file_name"] as? String }) == Set(contents.keys), "\(attachments)", sourceLocation: sourceLocation)
            for attachment in attachments {
                let id = try #require(attachment["id"] as? String)
                let name = try #require(attachment["file_name"] as? String)
                #expect(try gateway.request("GET", "/v1/attachments/\(id)", bearer: seeded.maria).body == contents[name], "\(name)",
                        sourceLocation: sourceLocation)
            }
        }

        // The gateway's own multipart open.
        var before = try Self.uploads(gateway, admin: seeded.admin)
        let ticket: [String: Any] = ["subject": "Tela congela", "request": "Seguem os arquivos.", "category": "PROBLEMA", "product": "ERP",
                                     "organization_id": seeded.organizationID]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ticket), as: UTF8.self)
        var arguments = ["-s", "-i", "--max-time", "60", "-H", "Expect:", "-H", "Authorization: Bearer \(seeded.maria)",
                         "-F", "ticket=\(json);type=application/json"]
        for path in paths { arguments += ["-F", "files=@\(path);type=application/octet-stream"] }
        let form = try GatewayHarness.curl(arguments + ["http://127.0.0.1:\(gateway.httpPort)/v1/tickets"], input: Data())
        #expect(form.status == 201, "\(form.text)")
        #expect(try Self.uploads(gateway, admin: seeded.admin) == before + 2, "b.bin and d.bin uploaded, a.bin and c.bin inside")
        let formOpened = ((form.json["ticket"] as? [String: Any])?["attachments"] as? [[String: Any]]) ?? []
        #expect(formOpened.compactMap { $0["file_name"] as? String } == ["a.bin", "b.bin", "c.bin", "d.bin"])
        try byteExact(formOpened)

        // `ocorre tickets open --attach` places its files too: a small, a large and a small file
        // cost one upload (before positions: two, the small one before the large uploaded too).
        before = try Self.uploads(gateway, admin: seeded.admin)
        let three = [paths[0], paths[1], paths[3]]
        let opened = try Self.ocorre(["tickets", "open", "--subject", "Tela congela", "--description", "Seguem os arquivos.",
                                      "--category", "PROBLEMA", "--product", "ERP", "--json"] + three.flatMap { ["--attach", $0] },
                                     gateway, token: seeded.maria)
        #expect(opened.status == 0, "\(opened.error)")
        #expect(try Self.uploads(gateway, admin: seeded.admin) == before + 1, "only b.bin uploaded")
        let openedAnswer = (try? JSONSerialization.jsonObject(with: Data(opened.output.utf8))) as? [String: Any] ?? [:]
        let openedFiles = ((openedAnswer["ticket"] as? [String: Any])?["attachments"] as? [[String: Any]]) ?? []
        #expect(openedFiles.compactMap { $0["file_name"] as? String } == ["a.bin", "b.bin", "d.bin"], "\(opened.output.prefix(2000))")

        // `ocorre tickets reply --attach`, repeated: the same decision from the served limits.
        let ticketID = try Self.openTicket(gateway, seeded)
        before = try Self.uploads(gateway, admin: seeded.admin)
        let reply = try Self.ocorre(["tickets", "reply", ticketID, "--text", "Seguem os arquivos.", "--json"] + paths.flatMap { ["--attach", $0] },
                                    gateway, token: seeded.maria)
        #expect(reply.status == 0, "\(reply.error)")
        #expect(try Self.uploads(gateway, admin: seeded.admin) == before + 2, "b.bin and d.bin uploaded, a.bin and c.bin inside")
        #expect(try Self.replyAttachments(reply.output).compactMap { $0["file_name"] as? String } == ["a.bin", "b.bin", "c.bin", "d.bin"])
        try byteExact(try Self.replyAttachments(reply.output))

        // The reply route's multipart form (curl -F): the gateway decides the same way.
        before = try Self.uploads(gateway, admin: seeded.admin)
        func replyForm(_ fields: [String]) throws -> GatewayHarness.Response {
            var arguments = ["-s", "-i", "--max-time", "60", "-H", "Expect:", "-H", "Authorization: Bearer \(seeded.maria)"]
            for field in fields { arguments += ["-F", field] }
            return try GatewayHarness.curl(arguments + ["http://127.0.0.1:\(gateway.httpPort)/v1/tickets/\(ticketID)/replies"], input: Data())
        }
        let formReply = try replyForm(["reply={\"text\":\"Pelo formulário.\"};type=application/json"]
                                      + paths.map { "files=@\($0);type=application/octet-stream" })
        #expect(formReply.status == 201, "\(formReply.text)")
        #expect(try Self.uploads(gateway, admin: seeded.admin) == before + 2, "b.bin and d.bin uploaded, a.bin and c.bin inside")
        let formMessage = try #require(formReply.json["message"] as? [String: Any], "\(formReply.text)")
        #expect(formMessage["text"] as? String == "Pelo formulário.")
        // In form order.
        let formFiles = try #require(formMessage["attachments"] as? [[String: Any]])
        #expect(formFiles.compactMap { $0["file_name"] as? String } == ["a.bin", "b.bin", "c.bin", "d.bin"])
        try byteExact(formFiles)

        // Small, large, small: one upload (before positions: two, the small one before the large
        // uploaded too for the order's sake), listed as chosen; so for `ocorre tickets reply`.
        before = try Self.uploads(gateway, admin: seeded.admin)
        let smallLargeSmall = try replyForm(["reply={\"text\":\"Três arquivos.\"};type=application/json"]
                                            + three.map { "files=@\($0);type=application/octet-stream" })
        #expect(smallLargeSmall.status == 201, "\(smallLargeSmall.text)")
        #expect(try Self.uploads(gateway, admin: seeded.admin) == before + 1, "only b.bin uploaded")
        let placedFiles = ((smallLargeSmall.json["message"] as? [String: Any])?["attachments"] as? [[String: Any]]) ?? []
        #expect(placedFiles.compactMap { $0["file_name"] as? String } == ["a.bin", "b.bin", "d.bin"], "\(smallLargeSmall.text)")
        before = try Self.uploads(gateway, admin: seeded.admin)
        let cliThree = try Self.ocorre(["tickets", "reply", ticketID, "--text", "Três arquivos.", "--json"] + three.flatMap { ["--attach", $0] },
                                       gateway, token: seeded.maria)
        #expect(cliThree.status == 0, "\(cliThree.error)")
        #expect(try Self.uploads(gateway, admin: seeded.admin) == before + 1, "only b.bin uploaded")
        #expect(try Self.replyAttachments(cliThree.output).compactMap { $0["file_name"] as? String } == ["a.bin", "b.bin", "d.bin"])
        let noReply = try replyForm(["files=@\(paths[0])"])
        #expect(noReply.status == 400 && noReply.text.contains("\"reply\""), "\(noReply.text)")
        let wrongField = try replyForm(["ticket={}"])
        #expect(wrongField.status == 400 && wrongField.text.contains("unknown_field"), "\(wrongField.text)")

        // A file over the served upload limit is refused by ocorre before sending anything.
        let huge = try write("grande.bin", 5_000_001, seed: 5)
        before = try Self.uploads(gateway, admin: seeded.admin)
        let refused = try Self.ocorre(["tickets", "reply", ticketID, "--attach", huge], gateway, token: seeded.maria)
        #expect(refused.status == 2 && refused.error.contains("5000000"), "\(refused.error)")
        #expect(try Self.uploads(gateway, admin: seeded.admin) == before)
    }
}
