import Foundation
@testable import GatewayCore
import Observability
import Synchronization
import Testing

/// A form sink that records every call the server makes.
final class RecordingFormSink: HTTPBodySink, @unchecked Sendable {
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
        let boundary = "XyZ"
        // Values starting like a boundary make the parser wait for more bytes before it can pass any.
        let fields: [Field] = [
            ("ticket", nil, Array("{}".utf8)),
            ("files", "vazio.txt", []),
            ("files", "vazio.txt", []),
            ("files", "a.txt", Array("\r\n--XyY\r\n--\r\n-\r\n--Xy".utf8)),
            ("files", "b.bin", Array("-".utf8)),
            ("files", "vazio2.txt", []),
        ]
        let posted = try Self.post(fields, boundary: boundary, contentType: "multipart/form-data; boundary=\(boundary)", piece: piece)
        #expect(posted.answer.hasSuffix("ok"))
        #expect(posted.calls.filter { $0.offset == 0 }.map(\.field) == fields.map { $0.file ?? $0.name }, "\(posted.calls)")
        #expect(posted.values == fields.map(\.value))
    }

    /// RFC 2046 lets a client quote the boundary (.NET's `MultipartFormDataContent` does), add
    /// parameters after it (Apache HttpClient's `charset`) or spell the parameter in capitals;
    /// libmicrohttpd alone took everything after `boundary=` as the boundary, so the last three
    /// kinds were refused 400 `INVALID_FORM` (`FormContentType`).
    @Test("a form's boundary is read as RFC 2046 spells it: quoted, followed by parameters, in capitals, after a parameter that mentions it",
          arguments: [
            "multipart/form-data; boundary=\"XyZ\"",
            "multipart/form-data; boundary=XyZ; charset=UTF-8",
            "Multipart/Form-Data; BOUNDARY=XyZ",
            "multipart/form-data; charset=utf-8; boundary=\"XyZ\"",
            "multipart/form-data; note=\"boundary=Q\"; boundary=XyZ",
            "multipart/form-data;boundary=XyZ",
          ])
    func boundarySpellings(contentType: String) throws {
        let fields: [Field] = [("ticket", nil, Array("{}".utf8)), ("files", "a.txt", Array("conteúdo".utf8))]
        for piece in [100_000, 5] {
            let posted = try Self.post(fields, boundary: "XyZ", contentType: contentType, piece: piece)
            #expect(posted.answer.hasSuffix("ok"), "\(contentType): \(posted.answer)")
            #expect(posted.values == fields.map(\.value), "\(contentType)")
        }
    }

    @Test("a form without a usable boundary is not guessed: refused as malformed, or no field found")
    func noBoundary() throws {
        for contentType in ["multipart/form-data", "multipart/form-data; boundary=\"XyZ", "multipart/form-data; boundary=\"\""] {
            let posted = try Self.post([("ticket", nil, Array("{}".utf8))], boundary: "XyZ", contentType: contentType, piece: 100_000)
            // Refused at once, or (an unterminated quote, taken whole as the boundary) no field
            // found, which the form routes answer 400 for their missing JSON field.
            #expect(posted.answer.hasPrefix("HTTP/1.1 400") || posted.values.isEmpty, "\(contentType): \(posted.answer)")
        }
    }

    typealias Field = (name: String, file: String?, value: [UInt8])

    /// Posts `fields` as a form to a server whose form sink records what it is handed, `piece`
    /// bytes of the body at a time; the answer's text and what the sink saw.
    static func post(_ fields: [Field], boundary: String, contentType: String, piece: Int) throws
        -> (answer: String, calls: [RecordingFormSink.Call], values: [[UInt8]]) {
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
        var body: [UInt8] = []
        for field in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field.name)\"\(field.file.map { "; filename=\"\($0)\"" } ?? "")\r\n".utf8)
            body += Array("Content-Type: application/octet-stream\r\n\r\n".utf8) + field.value + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        let head = "POST /v1/tickets HTTP/1.1\r\nHost: t\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
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
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received <= 0 { break }
            answer += buffer.prefix(received)
        }
        let recorded = sink.withLock { $0 }
        return (String(decoding: answer, as: UTF8.self), recorded?.calls.withLock { $0 } ?? [], recorded?.values.withLock { $0 } ?? [])
    }
}
