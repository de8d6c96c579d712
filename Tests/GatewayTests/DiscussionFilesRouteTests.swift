import Foundation
import GatewayCore
import Storage
import Testing
import TestSupport

/// `POST /v1/tickets/{id}/discussion` with files (JSON and multipart, and `ocorre tickets discuss
/// --attach`): a public entry's files reach the customer byte-exact; an internal entry's never do.
@Suite("An agent's discussion entries carry files; internal ones never reach the customer", .serialized)
struct DiscussionFilesRouteTests {
    /// Every attachment the customer's (or agent's) view of the ticket lists, anywhere in it.
    static func listed(_ view: GatewayHarness.Response) -> [[String: Any]] {
        var found: [[String: Any]] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let files = object["attachments"] as? [[String: Any]] { found += files }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(view.json)
        return found
    }

    /// The entry with `text` in the view's workflow part.
    static func entry(_ view: GatewayHarness.Response, _ text: String) -> [String: Any]? {
        ((view.json["workflow"] as? [String: Any])?["discussion"] as? [[String: Any]])?.first { $0["text"] as? String == text }
    }

    @Test("an agent's public entry with files (JSON `files` and `attachment_ids`, multipart, `ocorre tickets discuss --attach`) lists them to the customer, who downloads them byte-exact; an internal entry's file is in no customer listing and downloads as 404; bad input is 400 by field, a customer 403, an agent who may not answer in public 403, too large 413, none storing a file; small, large, small files make one upload, listed as chosen (file_positions)")
    func entriesWithFiles() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite, gatewayEnvironment: [
            "GATEWAY_HTTP_INLINE_FILE_BYTES": "1000", "GATEWAY_HTTP_MAX_UPLOAD_BYTES": "200000"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try ReplyFilesTests.openTicket(gateway, seeded)
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: seeded.ana).text.contains(ticketID) })
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/take", bearer: seeded.ana).status == 200)
        let path = "/v1/tickets/\(ticketID)/discussion"

        // JSON: a small file inside, a larger one uploaded first.
        let fix = Data("UPDATE pedidos SET status = 'gravado';\n".utf8)
        let manual = AttachmentStreamTests.file(bytes: 5_000, seed: 7)
        let upload = try gateway.request("POST", "/v1/attachments?file_name=manual.pdf", body: manual,
                                         headers: ["Content-Type": "application/pdf"], bearer: seeded.ana)
        #expect(upload.status == 201, "\(upload.text)")
        let uploadID = try #require(upload.json["id"] as? String)
        let json = try gateway.request("POST", path, json: [
            "text": "Segue a correção e o manual.", "is_public": true, "attachment_ids": [uploadID],
            "files": [["file_name": "correcao.sql", "content_type": "text/plain", "data": fix.base64EncodedString()]]], bearer: seeded.ana)
        #expect(json.status == 201, "\(json.text)")
        let jsonFiles = try #require((json.json["entry"] as? [String: Any])?["attachments"] as? [[String: Any]], "\(json.text)")
        #expect(jsonFiles.compactMap { $0["file_name"] as? String } == ["manual.pdf", "correcao.sql"])

        // Multipart (curl -F), as the portal sends it.
        let screenshot = AttachmentStreamTests.file(bytes: 3_000, seed: 8)
        let files = try TemporaryDirectory()
        try screenshot.write(to: URL(fileURLWithPath: files.path + "/tela.png"))
        func form(_ fields: [String], as token: String) throws -> GatewayHarness.Response {
            var arguments = ["-s", "-i", "--max-time", "60", "-H", "Expect:", "-H", "Authorization: Bearer \(token)"]
            for field in fields { arguments += ["-F", field] }
            return try GatewayHarness.curl(arguments + ["http://127.0.0.1:\(gateway.httpPort)\(path)"], input: Data())
        }
        let multipart = try form(["discussion={\"text\":\"Veja a tela.\",\"is_public\":true};type=application/json",
                                  "files=@\(files.path)/tela.png;type=image/png"], as: seeded.ana)
        #expect(multipart.status == 201, "\(multipart.text)")

        // An internal entry's file: internal at intake.
        let evidence = Data("senha do banco do cliente: nao-mostrar\n".utf8)
        let note = try gateway.request("POST", path, json: [
            "text": "Evidência interna.", "is_public": false,
            "files": [["file_name": "evidencia.txt", "content_type": "text/plain", "data": evidence.base64EncodedString()]]], bearer: seeded.ana)
        #expect(note.status == 201, "\(note.text)")
        let internalFile = try #require(((note.json["entry"] as? [String: Any])?["attachments"] as? [[String: Any]])?.first, "\(note.text)")
        #expect(internalFile["internal"] as? Bool == true)
        let internalID = try #require(internalFile["id"] as? String)

        // `ocorre tickets discuss --attach`, repeated.
        let log = AttachmentStreamTests.file(bytes: 2_500, seed: 9)
        try log.write(to: URL(fileURLWithPath: files.path + "/servidor.log"))
        let cli = try ReplyFilesTests.ocorre(["tickets", "discuss", ticketID, "--text", "Log do servidor.", "--public", "--json",
                                              "--attach", files.path + "/servidor.log", "--attach", files.path + "/tela.png"],
                                             gateway, token: seeded.ana)
        #expect(cli.status == 0, "\(cli.error)")
        let cliAnswer = try #require((try? JSONSerialization.jsonObject(with: Data(cli.output.utf8))) as? [String: Any], "\(cli.output)")
        #expect(((cliAnswer["entry"] as? [String: Any])?["attachments"] as? [[String: Any]])?.compactMap { $0["file_name"] as? String }
                == ["servidor.log", "tela.png"], "\(cli.output)")
        let usage = try ReplyFilesTests.ocorre(["tickets", "discuss", ticketID, "--attach", files.path + "/tela.png"], gateway, token: seeded.ana)
        #expect(usage.status == 2 && usage.error.contains("discuss"), "\(usage.error)")

        // The customer: every public entry's file, listed on its entry and downloaded byte-exact; the internal one nowhere.
        let expected: [String: Data] = ["manual.pdf": manual, "correcao.sql": fix, "tela.png": screenshot, "servidor.log": log]
        #expect(try waitFor {
            let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria)
            return Self.entry(view, "Log do servidor.") != nil
        })
        let customerView = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria)
        #expect(!customerView.text.contains(internalID) && !customerView.text.contains("evidencia.txt")
                && !customerView.text.contains("Evidência interna."), "\(customerView.text)")
        #expect((Self.entry(customerView, "Veja a tela.")?["attachments"] as? [[String: Any]])?.count == 1, "listed on its entry")
        let customerFiles = Self.listed(customerView)
        #expect(Set(customerFiles.compactMap { $0["file_name"] as? String }) == Set(expected.keys), "\(customerFiles)")
        for file in customerFiles {
            let id = try #require(file["id"] as? String), name = try #require(file["file_name"] as? String)
            #expect(try gateway.request("GET", "/v1/attachments/\(id)", bearer: seeded.maria).body == expected[name], "\(name)")
        }
        #expect(try gateway.request("GET", "/v1/attachments/\(internalID)", bearer: seeded.maria).status == 404)
        // Staff see and download it.
        let agentView = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
        #expect(Self.listed(agentView).contains { $0["id"] as? String == internalID && $0["internal"] as? Bool == true }, "\(agentView.text)")
        #expect(try gateway.request("GET", "/v1/attachments/\(internalID)", bearer: seeded.ana).body == evidence)

        // Errors: a field by name, before anything is stored; a customer may not; too large.
        let noText = try gateway.request("POST", path, json: ["is_public": true, "files": [["file_name": "a.txt", "data": "YQ=="]]], bearer: seeded.ana)
        #expect(noText.status == 400 && noText.text.contains("\"text\""), "\(noText.text)")
        let forged = try gateway.request("POST", path, json: ["text": "x", "attachments": [["id": internalID]]], bearer: seeded.ana)
        #expect(forged.status == 400 && forged.text.contains("\"attachments\""), "\(forged.text)")
        let badName = try gateway.request("POST", path, json: ["text": "x", "is_public": true, "files": [["file_name": " ", "data": "YQ=="]]],
                                          bearer: seeded.ana)
        #expect(badName.status == 400 && badName.text.contains("files[0].file_name"), "\(badName.text)")
        let customer = try gateway.request("POST", path, json: ["text": "Eu também", "is_public": true,
                                                                "files": [["file_name": "a.txt", "data": "YQ=="]]], bearer: seeded.maria)
        #expect(customer.status == 403, "\(customer.text)")
        // Another agent, who sees the ticket but does not hold it: no public entry, so no file stored either.
        #expect(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-bia", "name": "Bia", "email": "bia@suporte.example",
                                                                           "max_access_level": 1, "active": true]], bearer: seeded.admin).status == 200)
        let bia = try gateway.createUser(admin: seeded.admin, email: "bia@suporte.example", role: "agent", agent: "A-bia", accessLevel: 1)
        let notHolder = try gateway.request("POST", path, json: ["text": "Também tenho um arquivo.", "is_public": true,
                                                                 "files": [["file_name": "bia.txt", "data": "YQ=="]]], bearer: bia)
        #expect(notHolder.status == 403, "\(notHolder.text)")
        let huge = AttachmentStreamTests.file(bytes: 250_000, seed: 10)
        try huge.write(to: URL(fileURLWithPath: files.path + "/grande.bin"))
        let tooLarge = try form(["discussion={\"text\":\"Grande.\",\"is_public\":true}", "files=@\(files.path)/grande.bin"], as: seeded.ana)
        #expect(tooLarge.status == 413, "\(tooLarge.text)")
        #expect(Set(Self.listed(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)).compactMap { $0["id"] as? String }).count == 6,
                "no file of a refused entry was stored")

        // Small, large (over the inline size), small: one upload, the small ones inside the call
        // placed around it (file_positions to intake's AddFiles), listed on the entry as chosen.
        try Data("a".utf8).write(to: URL(fileURLWithPath: files.path + "/a.txt"))
        try AttachmentStreamTests.file(bytes: 5_000, seed: 11).write(to: URL(fileURLWithPath: files.path + "/b.bin"))
        try Data("c".utf8).write(to: URL(fileURLWithPath: files.path + "/c.txt"))
        let before = try ReplyFilesTests.uploads(gateway, admin: seeded.admin)
        let placed = try form(["discussion={\"text\":\"Três arquivos.\",\"is_public\":false};type=application/json"]
                              + ["a.txt", "b.bin", "c.txt"].map { "files=@\(files.path)/\($0);type=application/octet-stream" }, as: seeded.ana)
        #expect(placed.status == 201, "\(placed.text)")
        #expect(try ReplyFilesTests.uploads(gateway, admin: seeded.admin) == before + 1, "only b.bin uploaded")
        #expect(((placed.json["entry"] as? [String: Any])?["attachments"] as? [[String: Any]])?.compactMap { $0["file_name"] as? String }
                == ["a.txt", "b.bin", "c.txt"], "\(placed.text)")
    }
}
