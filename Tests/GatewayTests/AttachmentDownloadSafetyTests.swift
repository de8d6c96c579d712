import Foundation
import Storage
import Testing
import TestSupport

/// What a file uploaded by a customer can do once downloaded from the gateway's origin: nothing.
/// HTML and SVG come back as attachments in a sandbox, never sniffed; a content type that would
/// add header lines is refused at intake; and a form sent in small pieces opens its ticket with
/// each file once (`FormPiecesTests` pins the parser part).
@Suite("Attachment downloads and forms from the gateway", .serialized)
struct AttachmentDownloadSafetyTests {
    @Test("HTML and SVG uploads download as attachments with CSP sandbox and nosniff, their type as declared; a content type with CR/LF is 400 on files[0].content_type and stores nothing")
    func activeContentIsInert() throws {
        let (deployment, gateway, seeded) = try CLIUsageTests.seeded()
        defer { withExtendedLifetime(deployment) {} }
        let page = Data("<html><script>alert(document.cookie)</script></html>".utf8)
        let drawing = Data("<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".utf8)
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Página", "request": "Segue.", "category": "DUVIDA", "priority": "NORMAL", "product": "ERP",
            "files": [["file_name": "pagina.html", "content_type": "text/html", "data": page.base64EncodedString()],
                      ["file_name": "desenho.svg", "content_type": "image/svg+xml", "data": drawing.base64EncodedString()]]], bearer: seeded.maria)
        let files = try #require((opened.json["ticket"] as? [String: Any])?["attachments"] as? [[String: Any]], "\(opened.text)")
        let raw = try gateway.request("POST", "/v1/attachments?file_name=outra.html", body: page, headers: ["Content-Type": "text/html"],
                                      bearer: seeded.maria)
        #expect(raw.status == 201, "\(raw.text)")
        let ids = files.compactMap { $0["id"] as? String } + [raw.json["id"] as? String ?? ""]
        for (id, (type, bytes)) in zip(ids, [("text/html", page), ("image/svg+xml", drawing), ("text/html", page)]) {
            let download = try gateway.request("GET", "/v1/attachments/\(id)", bearer: seeded.maria)
            #expect(download.status == 200 && download.body == bytes)
            #expect(download.header("Content-Type") == type)
            #expect(download.header("Content-Disposition")?.hasPrefix("attachment; ") == true, "\(download.headers)")
            #expect(download.headers("Content-Security-Policy") == ["sandbox"], "\(download.headers)")
            #expect(download.header("X-Content-Type-Options") == "nosniff")
        }

        let before = try gateway.request("GET", "/v1/tickets", bearer: seeded.maria).text
        let injected = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Injeção", "request": "Segue.", "category": "DUVIDA", "priority": "NORMAL", "product": "ERP",
            "files": [["file_name": "pagina.html", "content_type": "text/html\r\nContent-Disposition: inline",
                       "data": page.base64EncodedString()]]], bearer: seeded.maria)
        #expect(injected.status == 400, "\(injected.text)")
        let details = (injected.json["error"] as? [String: Any])?["details"] as? [[String: Any]] ?? []
        #expect(details.map { $0["field"] as? String } == ["files[0].content_type"], "\(injected.text)")
        #expect(details.map { $0["reason"] as? String } == ["invalid_content_type"], "\(injected.text)")
        #expect(!(try gateway.request("GET", "/v1/tickets", bearer: seeded.maria).text.contains("Injeção")) && !before.contains("Injeção"))
    }

    @Test("a multipart open sent a few bytes at a time opens its ticket with each file once, byte-exact (its ticket field was refused as repeated, a file got an empty twin)")
    func formInSmallPieces() throws {
        let (deployment, gateway, seeded) = try CLIUsageTests.seeded()
        defer { withExtendedLifetime(deployment) {} }
        let boundary = "----ocorrencias7MA4YWxkTrZu0gW"
        let ticket = #"{"subject":"Em pedaços","request":"Rede lenta.","category":"DUVIDA","priority":"NORMAL","product":"ERP"}"#
        let log = Array("\r\n--linha que parece fronteira\r\n-".utf8) + Array(AttachmentStreamTests.file(bytes: 3_000, seed: 9))
        var body: [UInt8] = []
        func field(_ disposition: String, _ type: String, _ value: [UInt8]) {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; \(disposition)\r\nContent-Type: \(type)\r\n\r\n".utf8) + value + Array("\r\n".utf8)
        }
        field("name=\"ticket\"", "application/json", Array(ticket.utf8))
        field("name=\"files\"; filename=\"log.txt\"", "text/plain", log)
        field("name=\"files\"; filename=\"vazio.txt\"", "text/plain", [])
        body += Array("--\(boundary)--\r\n".utf8)
        let head = "POST /v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(seeded.maria)\r\nConnection: close\r\n"
            + "Content-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: \(body.count)\r\n\r\n"
        let fd = try HTTPWorkerSpreadTests.connect(gateway.httpPort)
        defer { close(fd) }
        _ = Array(head.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var offset = 0
        while offset < body.count {
            // Small pieces around each field's start, larger ones inside the file.
            let end = min(offset + (offset < 400 || body.count - offset < 300 ? 3 : 512), body.count)
            _ = Array(body[offset..<end]).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            usleep(500)
            offset = end
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        let answer = GatewayHarness.parse(Data(received))
        #expect(answer.status == 201, "\(answer.text)")
        let files = (answer.json["ticket"] as? [String: Any])?["attachments"] as? [[String: Any]] ?? []
        #expect(files.map { $0["file_name"] as? String } == ["log.txt", "vazio.txt"], "\(answer.text)")
        for (file, bytes) in zip(files, [log, []]) {
            #expect(try gateway.request("GET", "/v1/attachments/\(file["id"] as? String ?? "")", bearer: seeded.maria).body == Data(bytes))
        }
    }
}
