import Foundation
@testable import GatewayCore
import Observability
import Synchronization
import Testing

@Suite("HTTP server: connections dealt out over its workers", .serialized)
struct HTTPWorkerSpreadTests {
    /// A server whose handler holds each request (as a handler waiting for an RPC call does)
    /// until `expected` requests arrived or 3 s passed, recording how many ran at once.
    final class HoldingServer: Sendable {
        final class Counts: Sendable {
            let arrived = Mutex(0)
            let running = Mutex(0)
            let most = Mutex(0)
        }

        let server: HTTPServer
        let counts = Counts()
        /// The most requests the handler ran at once.
        var most: Int { counts.most.withLock { $0 } }

        init(threads: Int, maxConnections: Int, expected: Int) throws {
            var configuration = HTTPServerConfiguration()
            configuration.port = 0
            configuration.threads = threads
            configuration.maxConnections = maxConnections
            let counts = counts
            server = HTTPServer(configuration: configuration, logger: Logger(service: "test", level: .error),
                                tooLarge: { _ in HTTPResponse.text("", status: 413) }) { _ in
                counts.arrived.withLock { $0 += 1 }
                let now = counts.running.withLock { $0 += 1; return $0 }
                counts.most.withLock { $0 = max($0, now) }
                let limit = Date().addingTimeInterval(20)  // all arrive at once on a quiet machine
                while counts.arrived.withLock({ $0 }) < expected && Date() < limit { usleep(1_000) }
                counts.running.withLock { $0 -= 1 }
                return HTTPResponse.text("ok")
            }
            try server.start()
        }
    }

    /// A connected TCP socket to 127.0.0.1:`port`.
    static func connect(_ port: Int) throws -> Int32 {
        try connect(socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0), port)
    }

    /// Connects `fd` to 127.0.0.1:`port`.
    static func connect(_ fd: Int32, _ port: Int) throws -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw HTTPServerError(description: "connect failed (errno \(errno))")
        }
        return fd
    }

    /// Sends one GET on `fd` and returns the status line of the answer.
    static func get(_ fd: Int32) -> String {
        let request = Array("GET /held HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !received.contains(UInt8(ascii: "\n")) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
    }

    @Test("connections opened together land on different workers: 8 requests held until all 8 are in run at once on 8 workers, though one worker has room for all of them")
    func connectionsOpenedTogetherRunAtOnce() throws {
        let holding = try HoldingServer(threads: 8, maxConnections: 64, expected: 8)
        defer { holding.server.stop() }
        // All connected first (accepted together, as a load generator's or a proxy's are), then a
        // request on each at once. The sockets are made before any connects, so that the server's
        // ends get consecutive descriptor numbers, as in a server process (the pool picks a
        // worker by that number), not every other one.
        let unconnected = (0..<8).map { _ in socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        let sockets = try unconnected.map { try Self.connect($0, holding.server.port) }
        defer { sockets.forEach { close($0) } }
        let statuses = Mutex<[String]>([])
        let group = DispatchGroup()
        for fd in sockets {
            group.enter()
            Thread {
                let status = Self.get(fd)
                statuses.withLock { $0.append(status) }
                group.leave()
            }.start()
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(statuses.withLock { $0 } == Array(repeating: "HTTP/1.1 200 OK", count: 8))
        // Two connections may share a worker when another test took a descriptor number between
        // them (the pool picks the worker by it); libmicrohttpd accepting by itself put them on 1–4.
        #expect(holding.most >= 6, "requests running at once: \(holding.most)")
    }

    @Test("a server of one thread serves its connections, and stop ends it with connections still open")
    func oneThreadAndStop() throws {
        let holding = try HoldingServer(threads: 1, maxConnections: 8, expected: 1)
        let idle = try Self.connect(holding.server.port)
        defer { close(idle) }
        let fd = try Self.connect(holding.server.port)
        defer { close(fd) }
        #expect(Self.get(fd) == "HTTP/1.1 200 OK")
        let started = Date()
        holding.server.stop()
        #expect(Date().timeIntervalSince(started) < 5)
        #expect((try? Self.connect(holding.server.port)) == nil, "no longer listening")
    }
}
