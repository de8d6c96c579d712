import Foundation
@testable import GatewayCore
import Observability
import Synchronization
import Testing

/// A form sink that records every call the server makes.
private final class RecordingFormSink: HTTPBodySink, @unchecked Sendable {
    struct Call: Equatable {
        var field: String
        var offset: UInt64
        var size: Int
    }
    let calls = Mutex<[Call]>([])
    let values = Mutex<[[UInt8]]>([])
    var refused: Bool { false }
    func write(_ bytes: UnsafeRawBufferPointer) {}
    func write(part: HTTPFormPart, offset: UInt64, _ data: UnsafeRawBufferPointer) -> Bool {
        calls.withLock { $0.append(Call(field: part.fileName ?? part.name, offset: offset, size: data.count)) }
        values.withLock {
            if offset == 0 { $0.append([]) }
            $0[$0.count - 1] += Array(data)
        }
        return true
    }
    func finish() -> HTTPResponse { .text("ok") }
    func malformed() -> HTTPResponse { .text("malformed", status: 400) }
    func abandon() {}
}

/// libmicrohttpd's post processor, fed a form in small pieces (a slow or mobile client), calls
/// the field iterator at offset 0 twice for one field (first with no bytes). The server hands
/// each field's start to its sink once (`HTTPServer.Pending.deliver`), so `TicketForm` no longer
/// answers "the ticket field came more than once" nor adds an empty twin of a file.
@Suite("HTTP server: a form's fields start once however the body is cut", .serialized)
struct FormPiecesTests {
    @Test("each field starts once at offset 0 with its bytes exact, empty files included (one after another, and last), for pieces of 1 byte to the whole body",
          arguments: [100_000, 1, 2, 3, 7, 64])
    func fieldsStartOnce(piece: Int) throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.threads = 1
        let sink = Mutex<RecordingFormSink?>(nil)
        let streaming = HTTPBodyStreaming(streams: { _, _, _ in true }) { _ in
            let made = RecordingFormSink()
            sink.withLock { $0 = made }
            return .streamForm(made)
        }
        let server = HTTPServer(configuration: configuration, logger: Logger(service: "test", level: .error),
                                tooLarge: { _ in HTTPResponse.text("", status: 413) }, streaming: streaming) { _ in HTTPResponse.text("x") }
        try server.start()
        defer { server.stop() }
        let boundary = "XyZ"
        // Values starting like a boundary make the parser wait for more bytes before it can pass any.
        let fields: [(name: String, file: String?, value: [UInt8])] = [
            ("ticket", nil, Array("{}".utf8)),
            ("files", "vazio.txt", []),
            ("files", "vazio.txt", []),
            ("files", "a.txt", Array("\r\n--XyY\r\n--\r\n-\r\n--Xy".utf8)),
            ("files", "b.bin", Array("-".utf8)),
            ("files", "vazio2.txt", []),
        ]
        var body: [UInt8] = []
        for field in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field.name)\"\(field.file.map { "; filename=\"\($0)\"" } ?? "")\r\n".utf8)
            body += Array("Content-Type: application/octet-stream\r\n\r\n".utf8) + field.value + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        let head = "POST /v1/tickets HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: \(body.count)\r\n\r\n"
        let fd = try HTTPWorkerSpreadTests.connect(server.port)
        defer { close(fd) }
        _ = Array(head.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var offset = 0
        while offset < body.count {
            let end = min(offset + piece, body.count)
            _ = Array(body[offset..<end]).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            usleep(1_000)  // each piece read on its own
            offset = end
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        #expect(String(decoding: buffer.prefix(max(received, 0)), as: UTF8.self).hasSuffix("ok"))
        let recorded = try #require(sink.withLock { $0 })
        let calls = recorded.calls.withLock { $0 }
        #expect(calls.filter { $0.offset == 0 }.map(\.field) == fields.map { $0.file ?? $0.name }, "\(calls)")
        #expect(recorded.values.withLock { $0 } == fields.map(\.value))
    }
}
