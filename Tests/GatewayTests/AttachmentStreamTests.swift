import Foundation
import RPCTransport
import Storage
import Testing
import TestSupport

/// `POST /v1/attachments` streams the body to intake as it arrives: files far over the JSON body
/// limit fit, the gateway's memory does not grow with them, and a cut-off upload leaves nothing.
@Suite("Attachment uploads stream through the gateway", .serialized)
struct AttachmentStreamTests {
    /// A file's bytes that no compressor or deduplication shortcut makes cheap.
    static func file(bytes count: Int, seed: UInt64) -> Data {
        var state = seed
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for index in words.indices {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                words[index] = state
            }
        }
        return data
    }

    /// The gateway process's peak resident memory (VmHWM), in bytes.
    static func peakMemory(_ process: ServiceProcess) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.process.processIdentifier)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])) * 1024
    }

    /// Regular files under `root`, outside its `tmp` folder, and the files in `tmp`.
    static func storedFiles(_ root: String) -> (contents: Int, temporary: Int) {
        var contents = 0
        for case let path as String in FileManager.default.enumerator(atPath: root) ?? FileManager.default.enumerator(atPath: "/nonexistent")! {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue,
               !path.hasPrefix("tmp/") { contents += 1 }
        }
        let temporary = (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp"))?.count ?? 0
        return (contents, temporary)
    }

    @Test("a 40 MiB file (4× the 10 MiB body limit) streams to intake and back byte-exact; the gateway's peak memory grows far less than the file both ways",
          arguments: TestEngines.all)
    func largeFileStreams(engine: DatabaseEngine) throws {
        let attachments = try TemporaryDirectory()
        let deployment = try ProxyTests.Deployment(engine: engine, serviceEnvironment: ["INTAKE_ATTACHMENTS_DIR": attachments.path])
        let gateway = deployment.gateway
        let maria = try TicketFlowTests.seed(gateway).maria
        let file = Self.file(bytes: 40 << 20, seed: 7)
        let before = try Self.peakMemory(gateway.process)
        let upload = try gateway.request("POST", "/v1/attachments?file_name=gravacao-da-tela.webm", body: file,
                                         headers: ["Content-Type": "video/webm"], bearer: maria, maxSeconds: 120)
        #expect(upload.status == 201, "\(upload.text)")
        let growth = try Self.peakMemory(gateway.process) - before
        #expect(growth < 16 << 20, "the gateway's peak memory grew by \(growth >> 20) MiB for a 40 MiB upload")
        #expect(upload.json["size_bytes"] as? String == String(file.count) || upload.json["size_bytes"] as? Int == file.count, "\(upload.text)")
        #expect(upload.json["sha256"] as? String == Digest.hex(Digest.sha256(Array(file))))
        let id = try #require(upload.json["id"] as? String)
        let download = try gateway.request("GET", "/v1/attachments/\(id)", bearer: maria, maxSeconds: 120)
        #expect(download.status == 200)
        #expect(download.body == file)
        #expect(download.header("content-type") == "video/webm")
        #expect(download.header("content-length") == String(file.count))
        let afterDownload = try Self.peakMemory(gateway.process) - before
        #expect(afterDownload < 16 << 20, "the gateway's peak memory grew by \(afterDownload >> 20) MiB after a 40 MiB download")
        // A download the client abandons half way leaves the gateway serving.
        _ = try GatewayHarness.curl(["-s", "-o", "/dev/null", "--max-filesize", "1", "--limit-rate", "1M", "--max-time", "1",
                                     "-H", "Authorization: Bearer \(maria)", "http://127.0.0.1:\(gateway.httpPort)/v1/attachments/\(id)"], input: Data())
        #expect(try gateway.request("GET", "/v1/me", bearer: maria).status == 200)
    }

    @Test("over GATEWAY_HTTP_MAX_UPLOAD_BYTES is 413 before the body (announced) or as soon as it passes (chunked; an endless one is closed); no token is 401; an upload cut off keeps nothing")
    func limitsAndCutOff() throws {
        let attachments = try TemporaryDirectory()
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: ["INTAKE_ATTACHMENTS_DIR": attachments.path],
                                                   gatewayEnvironment: ["GATEWAY_HTTP_MAX_UPLOAD_BYTES": String(1 << 20)])
        let gateway = deployment.gateway
        let maria = try TicketFlowTests.seed(gateway).maria
        let big = Self.file(bytes: 2 << 20, seed: 1)

        // The answer comes from the headers alone: the client waits for it (100-continue) and never
        // sends the body. (One that sends it anyway: RefusedBodyTests.)
        let announced = try gateway.request("POST", "/v1/attachments?file_name=a.bin", body: big,
                                            headers: ["Expect": "100-continue"], bearer: maria)
        #expect(announced.status == 413)
        #expect(announced.errorCode == "PAYLOAD_TOO_LARGE")
        let chunked = try gateway.request("POST", "/v1/attachments?file_name=a.bin", body: big,
                                          headers: ["Transfer-Encoding": "chunked"], bearer: maria)
        #expect(chunked.status == 413)
        // One that never ends is dropped up to GATEWAY_HTTP_DISCARD_MAX_BYTES past the limit, then closed.
        let endless = try RefusedBodyTests.chunkedWithoutEnd(port: gateway.httpPort, head: "POST /v1/attachments?file_name=a.bin HTTP/1.1\r\n"
            + "Host: x\r\nAuthorization: Bearer \(maria)\r\nContent-Type: application/octet-stream\r\n")
        #expect(endless < 64, "the gateway kept reading \(endless) MiB of an upload past its limit")
        #expect(try gateway.request("POST", "/v1/attachments?file_name=a.bin", body: Data("x".utf8)).status == 401)
        let unnamed = try gateway.request("POST", "/v1/attachments", body: Data("x".utf8), bearer: maria)
        #expect(unnamed.status == 400)
        #expect(((unnamed.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first?["field"] as? String == "file_name")
        #expect(Self.storedFiles(attachments.path).contents == 0)

        // Within the limit, chunked (no Content-Length): stored once, hash and size from the stream.
        let small = Self.file(bytes: 700_000, seed: 2)
        let stored = try gateway.request("POST", "/v1/attachments?file_name=b.bin", body: small,
                                         headers: ["Transfer-Encoding": "chunked"], bearer: maria)
        #expect(stored.status == 201, "\(stored.text)")
        #expect(stored.json["sha256"] as? String == Digest.hex(Digest.sha256(Array(small))))
        #expect(Self.storedFiles(attachments.path).contents == 1)

        // A client that announces 900 kB, sends 300 kB and goes away: nothing is kept.
        let connection = try RawConnection(port: gateway.httpPort, timeoutSeconds: 10)
        let head = "POST /v1/attachments?file_name=c.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(maria)\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Length: 900000\r\n\r\n"
        let part = Array(head.utf8) + Array(Self.file(bytes: 300_000, seed: 3))
        #expect(connection.send(part))
        usleep(300_000)
        connection.hangUp()
        #expect(waitFor(10) { Self.storedFiles(attachments.path).temporary == 0 })
        #expect(Self.storedFiles(attachments.path).contents == 1)
        // The gateway still serves uploads.
        let again = try gateway.request("POST", "/v1/attachments?file_name=d.bin", body: Data("ok".utf8), bearer: maria)
        #expect(again.status == 201)
    }

    @Test("a ticket opens from one multipart form with its files (a 12 MiB recording and a log), relayed as they arrive; bad forms are 400 and store no ticket",
          arguments: TestEngines.all)
    func ticketFromMultipartForm(engine: DatabaseEngine) throws {
        let attachments = try TemporaryDirectory()
        let files = try TemporaryDirectory()
        let deployment = try ProxyTests.Deployment(engine: engine, serviceEnvironment: ["INTAKE_ATTACHMENTS_DIR": attachments.path])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let recording = Self.file(bytes: 12 << 20, seed: 11)
        let log = Data("NF-e rejeitada: erro 539\n".utf8)
        try recording.write(to: URL(fileURLWithPath: files.path + "/gravacao.webm"))
        try log.write(to: URL(fileURLWithPath: files.path + "/log.txt"))
        let ticket: [String: Any] = [
            "subject": "Nota fiscal não transmite", "request": "Ao transmitir a NF-e a rotina FIS001 devolve erro 539.",
            "category": "PROBLEMA", "priority": "ALTA", "product": "ERP", "module": "Fiscal", "organization_id": seeded.organizationID]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ticket), as: UTF8.self)
        func form(_ fields: [String], token: String? = seeded.maria) throws -> GatewayHarness.Response {
            var arguments = ["-s", "-i", "--max-time", "120", "-H", "Expect:"]
            if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
            for field in fields { arguments += ["-F", field] }
            return try GatewayHarness.curl(arguments + ["http://127.0.0.1:\(gateway.httpPort)/v1/tickets"], input: Data())
        }
        let opened = try form(["ticket=\(json);type=application/json", "files=@\(files.path)/gravacao.webm;type=video/webm",
                               "files=@\(files.path)/log.txt;type=text/plain"])
        #expect(opened.status == 201, "\(opened.text)")
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String)
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria)
        let intake = try #require(view.json["intake"] as? [String: Any])
        let listed = try #require(((intake["ticket"] as? [String: Any])?["attachments"] ?? intake["attachments"]) as? [[String: Any]], "\(view.text)")
        #expect(Set(listed.compactMap { $0["file_name"] as? String }) == ["gravacao.webm", "log.txt"])
        for attachment in listed {
            let id = try #require(attachment["id"] as? String)
            let body = try gateway.request("GET", "/v1/attachments/\(id)", bearer: seeded.maria).body
            #expect(body == (attachment["file_name"] as? String == "log.txt" ? log : recording))
        }

        // Refusals: no ticket field, an unknown field, a ticket that is not JSON, no token; none opens a ticket.
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets", bearer: seeded.maria).text.contains(ticketID) })
        let before = try gateway.request("GET", "/v1/tickets", bearer: seeded.maria).text
        let noTicket = try form(["files=@\(files.path)/log.txt"])
        #expect(noTicket.status == 400 && noTicket.text.contains("\"ticket\""), "\(noTicket.text)")
        let unknown = try form(["ticket=\(json)", "extra=1"])
        #expect(unknown.status == 400 && unknown.text.contains("extra"), "\(unknown.text)")
        let notJSON = try form(["ticket=assunto: nota"])
        #expect(notJSON.status == 400 && notJSON.text.contains("invalid_json"), "\(notJSON.text)")
        #expect(try form(["ticket=\(json)"], token: nil).status == 401)
        let invalid = try form(["ticket={\"subject\":\"\"}", "files=@\(files.path)/log.txt"])
        #expect(invalid.status == 400 && invalid.text.contains("subject"), "\(invalid.text)")
        // Workflow lists only the first ticket, a moment after any other would have reached it.
        usleep(500_000)
        #expect(try gateway.request("GET", "/v1/tickets", bearer: seeded.maria).text.components(separatedBy: "\"id\"").count
                == before.components(separatedBy: "\"id\"").count)
    }

    @Test("a form's small files travel inside the open (one OpenTicket, no upload) wherever they stand, placed by file_positions; only a file over the inline size and files past the form's inline count are uploaded; all are listed byte-exact in form order; a refused open stores none of its small files",
          arguments: TestEngines.all)
    func smallFilesInsideTheOpen(engine: DatabaseEngine) throws {
        let attachments = try TemporaryDirectory()
        let files = try TemporaryDirectory()
        let deployment = try ProxyTests.Deployment(engine: engine, serviceEnvironment: ["INTAKE_ATTACHMENTS_DIR": attachments.path])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        func uploads() throws -> Double {
            ViewCacheTests.counter(try gateway.request("GET", "/metrics", bearer: seeded.admin).text, "gateway_rpc_client_calls_total",
                                   ["Intake/UploadAttachment\""])
        }
        func opens() throws -> Double {
            ViewCacheTests.counter(try gateway.request("GET", "/metrics", bearer: seeded.admin).text, "gateway_rpc_client_calls_total",
                                   ["Intake/OpenTicket\""])
        }
        var contents: [String: Data] = [:]
        func write(_ name: String, _ data: Data) throws -> String {
            contents[name] = data
            try data.write(to: URL(fileURLWithPath: files.path + "/" + name))
            return "files=@\(files.path)/\(name);type=application/octet-stream"
        }
        let ticket: [String: Any] = [
            "subject": "Tela congela ao salvar", "request": "Ao salvar o pedido a tela congela, seguem prints e o log.",
            "category": "PROBLEMA", "priority": "NORMAL", "product": "ERP", "module": "Vendas", "organization_id": seeded.organizationID]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ticket), as: UTF8.self)
        func form(_ fields: [String]) throws -> GatewayHarness.Response {
            var arguments = ["-s", "-i", "--max-time", "120", "-H", "Expect:", "-H", "Authorization: Bearer \(seeded.maria)"]
            for field in fields { arguments += ["-F", field] }
            return try GatewayHarness.curl(arguments + ["http://127.0.0.1:\(gateway.httpPort)/v1/tickets"], input: Data())
        }
        func listed(_ response: GatewayHarness.Response) throws -> [[String: Any]] {
            let ticketID = try #require((response.json["ticket"] as? [String: Any])?["id"] as? String, "\(response.text)")
            let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria)
            let intake = try #require(view.json["intake"] as? [String: Any])
            return try #require(((intake["ticket"] as? [String: Any])?["attachments"] ?? intake["attachments"]) as? [[String: Any]], "\(view.text)")
        }
        func byteExact(_ attachments: [[String: Any]]) throws {
            for attachment in attachments {
                let id = try #require(attachment["id"] as? String)
                let name = try #require(attachment["file_name"] as? String)
                #expect(try gateway.request("GET", "/v1/attachments/\(id)", bearer: seeded.maria).body == contents[name], "\(name)")
            }
        }

        // Two small files and one just over 256 KiB between them: both small ones ride inside the
        // open, which places them (file_positions), so the ticket lists them in form order with
        // only the large one uploaded (before 2026-12-01 the small one before it was uploaded too:
        // intake listed uploads first).
        let small = try [write("print.png", AttachmentStreamTests.file(bytes: 40_000, seed: 21)),
                         write("log.txt", Data("Pedido 123: timeout ao gravar\n".utf8))]
        let large = try write("dump.bin", AttachmentStreamTests.file(bytes: (256 << 10) + 8, seed: 22))
        var (uploadsBefore, opensBefore) = (try uploads(), try opens())
        let mixed = try form(["ticket=\(json);type=application/json", small[0], large, small[1]])
        #expect(mixed.status == 201, "\(mixed.text)")
        #expect(try uploads() == uploadsBefore + 1, "only the file over the inline size is uploaded")
        #expect(try opens() == opensBefore + 1)
        let mixedFiles = try listed(mixed)
        #expect(mixedFiles.compactMap { $0["file_name"] as? String } == ["print.png", "dump.bin", "log.txt"])
        try byteExact(mixedFiles)

        // Ten small files: eight inside the open (the form's inline count), the last two uploaded,
        // listed in form order all the same.
        let many = try (0..<10).map { try write("nota-\($0).xml", Data("<nfe numero=\"\($0)\"/>".utf8)) }
        (uploadsBefore, opensBefore) = (try uploads(), try opens())
        let manyOpened = try form(["ticket=\(json);type=application/json"] + many)
        #expect(manyOpened.status == 201, "\(manyOpened.text)")
        #expect(try uploads() == uploadsBefore + 2)
        let manyFiles = try listed(manyOpened)
        #expect(manyFiles.compactMap { $0["file_name"] as? String } == (0..<10).map { "nota-\($0).xml" })
        try byteExact(manyFiles)

        // A refused open (no subject) with only small files: no upload, no ticket, no content.
        let storedBefore = AttachmentStreamTests.storedFiles(attachments.path).contents
        uploadsBefore = try uploads()
        let refused = try form(["ticket={\"request\":\"sem assunto\"}"] + small)
        #expect(refused.status == 400 && refused.text.contains("subject"), "\(refused.text)")
        #expect(try uploads() == uploadsBefore)
        #expect(AttachmentStreamTests.storedFiles(attachments.path).contents == storedBefore)
    }
}
