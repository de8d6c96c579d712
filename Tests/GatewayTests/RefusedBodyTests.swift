import Foundation
import Testing
import TestSupport

/// A client that sends a body the gateway has already refused from the headers (too large, no
/// credentials) without waiting for `100 Continue` reads the answer, not a reset.
@Suite("Refused bodies sent without waiting")
struct RefusedBodyTests {
    /// One request over a fresh connection: the head, then `body` bytes of filler written in
    /// full before reading (as a naive client does); what was sent and the status read.
    static func exchange(port: Int, head: String, body: Int) throws -> (sent: Int, status: Int, text: String) {
        let connection = try RawConnection(port: port, timeoutSeconds: 10)
        let filler = [UInt8](repeating: 0x41, count: 1 << 20)
        var sent = connection.sendCounting(Array(head.utf8)) - head.utf8.count
        while sent < body {
            let piece = Array(filler.prefix(min(filler.count, body - sent)))
            let written = connection.sendCounting(piece)
            sent += written
            if written < piece.count { break }
        }
        let answer = String(decoding: connection.readToEnd() ?? [], as: UTF8.self)
        let status = Int(answer.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (sent, status, answer)
    }

    /// Sends `head` and then 1 MiB chunks without end; how many the gateway took before it closed
    /// the connection (at most 512).
    static func chunkedWithoutEnd(port: Int, head: String) throws -> Int {
        let connection = try RawConnection(port: port, timeoutSeconds: 10)
        guard connection.send(Array((head + "Transfer-Encoding: chunked\r\n\r\n").utf8)) else { return 0 }
        let chunk = Array("100000\r\n".utf8) + [UInt8](repeating: 0x41, count: 1 << 20) + Array("\r\n".utf8)
        var chunks = 0
        while chunks < 512, connection.sendCounting(chunk) == chunk.count { chunks += 1 }
        return chunks
    }

    @Test("an announced body over the limit is read, dropped and answered 413; an upload without credentials 401; past GATEWAY_HTTP_DISCARD_MAX_BYTES (announced, or chunked past the limit) the gateway answers at once and closes")
    func refusedBodies() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_HTTP_MAX_BODY_BYTES": "4096",
                                                                  "GATEWAY_HTTP_DISCARD_MAX_BYTES": String(24 << 20)])
        // 16 MiB: more than the loopback socket buffers hold, so an answer sent at once would
        // close the connection with unread bytes and reset it under the client's writes.
        let body = 16 << 20
        let announced = try Self.exchange(port: gateway.httpPort, head: "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body)\r\n\r\n", body: body)
        #expect(announced.sent == body)
        #expect(announced.status == 413, "\(announced.text.prefix(300))")
        #expect(announced.text.contains("PAYLOAD_TOO_LARGE"))

        let unauthenticated = try Self.exchange(port: gateway.httpPort, head: "POST /v1/attachments?file_name=a.bin HTTP/1.1\r\n"
            + "Host: x\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nContent-Length: \(body)\r\n\r\n", body: body)
        #expect(unauthenticated.sent == body)
        #expect(unauthenticated.status == 401, "\(unauthenticated.text.prefix(300))")

        // Announced past the bound: answered from the headers, the body is not read.
        let huge = 512 << 20
        let past = try Self.exchange(port: gateway.httpPort, head: "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(huge)\r\n\r\n", body: huge)
        #expect(past.sent < 64 << 20, "the gateway read \(past.sent >> 20) MiB of a body it had refused")

        // A chunked body that never ends: dropped up to the bound once past the limit, then the
        // connection closes (a streamed upload's case: AttachmentStreamTests).
        #expect(try Self.chunkedWithoutEnd(port: gateway.httpPort, head: "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n") < 64)

        // The gateway still serves.
        #expect(try gateway.request("GET", "/healthz").status == 200)
    }
}
