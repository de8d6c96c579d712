import Foundation
@testable import GatewayCore
import Observability
import Synchronization
import Testing

/// SIGTERM stops the gateway's HTTP server: requests already being answered finish (their
/// writes done, their answers sent) before the connections close.
@Suite("HTTP server: stopping lets requests in progress finish", .serialized)
struct HTTPDrainTests {
    @Test("a request whose handler is still running when the server stops gets its answer, with Connection: close; a new connection is refused")
    func inProgressFinishes() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.threads = 2
        let entered = Mutex(false)
        // The handler waits (as for an RPC call, an open being written) until the test lets it
        // go, once the stop is draining: a fixed 800 ms handler could end before a loaded
        // machine's stop began, and its answer then lacked Connection: close.
        let release = DispatchSemaphore(value: 0)
        let server = HTTPServer(configuration: configuration, logger: Logger(service: "test", level: .error),
                                tooLarge: { _ in HTTPResponse.text("", status: 413) }) { _ in
            entered.withLock { $0 = true }
            _ = release.wait(timeout: .now() + 20)
            return HTTPResponse.text("gravado")
        }
        try server.start()
        let port = server.port
        let fd = try HTTPWorkerSpreadTests.connect(port)
        defer { close(fd) }
        let request = Array("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let deadline = Date().addingTimeInterval(20)
        while !entered.withLock({ $0 }) && Date() < deadline { usleep(1_000) }
        let stopped = Thread { server.stop() }
        stopped.start()
        let draining = Date().addingTimeInterval(20)
        while !server.draining.load(ordering: .sequentiallyConsistent) && Date() < draining { usleep(1_000) }
        release.signal()
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        let answer = String(decoding: received, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 200") && answer.hasSuffix("gravado"), "\(answer.debugDescription)")
        #expect(answer.lowercased().contains("connection: close"), "\(answer.debugDescription)")
        #expect(throws: HTTPServerError.self) { close(try HTTPWorkerSpreadTests.connect(port)) }
    }

    @Test("an idle keep-alive connection, its request answered, does not hold the stop for the drain's time")
    func idleConnectionDoesNotHoldStop() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.threads = 2
        let server = HTTPServer(configuration: configuration, logger: Logger(service: "test", level: .error),
                                tooLarge: { _ in HTTPResponse.text("", status: 413) }) { _ in HTTPResponse.text("ok") }
        try server.start()
        let fd = try HTTPWorkerSpreadTests.connect(server.port)
        defer { close(fd) }
        let request = Array("GET /a HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        #expect(String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self).hasSuffix("ok"))
        let started = Date()
        server.stop()
        // Half the drain's 10 s: a loaded machine's delays are not mistaken for waiting.
        #expect(Date().timeIntervalSince(started) < 5, "stop waited \(Date().timeIntervalSince(started)) s for an idle connection")
    }
}
