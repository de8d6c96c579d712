import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Messages
import RPC
import RPCTransport
import Synchronization
import Testing

/// The server's writes: frames queued by many threads on one connection, written by one sender
/// at a time outside the connection's lock (`ServerConnection.flush()`).
@Suite("Server writes from many threads", .serialized)
struct ServerWritesTests {
    /// A payload that tells its call apart in every byte.
    static func payload(_ index: Int, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
    }

    /// Holds `count` calls of `TestMethods.held` started on one connection with `bytes`-byte
    /// payloads, and returns them once the server holds them all.
    static func holdCalls(_ server: LoopbackServer, count: Int, bytes: Int, completions: Completions) -> [(payload: [UInt8], respond: @Sendable (Result<RpcV1.EchoResponse, any Error>) -> Void)] {
        var configuration = ClientConfiguration(endpoints: [server.endpoint], secret: server.secret)
        configuration.defaultTimeoutMilliseconds = 20_000
        configuration.connectionsPerEndpoint = 1
        let client = RPCClient(configuration: configuration)
        for i in 0..<count {
            var request = RpcV1.EchoRequest()
            request.payload = Self.payload(i, bytes: bytes)
            _ = client.start(path: TestMethods.held.path, payload: request.serializedBytes()) { result in
                completions.record(i, result)
            }
        }
        let limit = Date().addingTimeInterval(10)
        while server.probe.held.withLock({ $0.count }) < count && Date() < limit { usleep(2_000) }
        return server.probe.held.withLock { calls in
            defer { calls.removeAll() }
            return calls
        }
    }

    @Test("answers written at once by 8 threads on one connection, 3 MiB in all (more than the socket takes without blocking), reach each caller whole")
    func concurrentLargeAnswers() throws {
        let server = try LoopbackServer()
        let completions = Completions()
        let count = 48, bytes = 64 << 10
        let held = Self.holdCalls(server, count: count, bytes: bytes, completions: completions)
        #expect(held.count == count)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for call in held.enumerated() where call.offset % 8 == thread {
                var response = RpcV1.EchoResponse()
                response.payload = call.element.payload
                call.element.respond(.success(response))
            }
        }
        let results = completions.wait(for: count, seconds: 20)
        #expect(results.count == count)
        for (i, result) in results {
            #expect(try RpcV1.EchoResponse(serializedBytes: try result.get()).payload == Self.payload(i, bytes: bytes))
        }
    }

    @Test("answers one thread writes in turn arrive in that order, while other threads write on the same connection")
    func oneThreadsAnswersKeepTheirOrder() throws {
        let server = try LoopbackServer()
        let completions = Completions()
        let count = 64
        let held = Self.holdCalls(server, count: count, bytes: 8 << 10, completions: completions)
        #expect(held.count == count)
        // Even calls answered in order by one thread; odd ones by 4 others at the same time.
        let ordered = held.enumerated().filter { $0.offset % 2 == 0 }
        let others = held.enumerated().filter { $0.offset % 2 == 1 }
        DispatchQueue.concurrentPerform(iterations: 5) { thread in
            let mine = thread == 0 ? ordered : others.filter { $0.offset / 2 % 4 == thread - 1 }
            for call in mine {
                var response = RpcV1.EchoResponse()
                response.payload = call.element.payload
                call.element.respond(.success(response))
            }
        }
        let results = completions.wait(for: count, seconds: 20)
        #expect(results.count == count)
        // The client completes calls in the order their answers are read from the connection.
        let evenOrder = completions.order.filter { $0 % 2 == 0 }
        #expect(evenOrder == ordered.map(\.offset))
        for (i, result) in results {
            #expect(try RpcV1.EchoResponse(serializedBytes: try result.get()).payload == Self.payload(i, bytes: 8 << 10))
        }
    }

    @Test("peers that leave while 8 threads write their answers: no byte reaches another connection (its descriptor number may be reused)",
          arguments: Array(0..<4))
    func peersLeavingWhileWritten(round: Int) throws {
        let server = try LoopbackServer()
        for _ in 0..<3 {
            let peer = try RawPeer(port: server.server.port)
            #expect(peer.authenticate(server.secret))
            let count = 24
            for i in 0..<count {
                var request = RpcV1.EchoRequest()
                request.payload = Self.payload(i, bytes: 64 << 10)
                var frame = RpcV1.Frame()
                frame.kind = .request
                frame.callID = UInt64(i + 1)
                frame.method = TestMethods.held.path
                frame.timeoutMs = 10_000
                frame.payload = request.serializedBytes()
                peer.send(frame)
            }
            let limit = Date().addingTimeInterval(10)
            while server.probe.held.withLock({ $0.count }) < count && Date() < limit { usleep(1_000) }
            let held = server.probe.held.withLock { calls in
                defer { calls.removeAll() }
                return calls
            }
            #expect(held.count == count)
            // The peer reads nothing and closes while the answers are being written.
            let fd = peer.fd
            let leaving = Thread {
                usleep(UInt32(200 * (round + 1)))
                shutdown(fd, Int32(SHUT_RDWR))
            }
            leaving.start()
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                for call in held.enumerated() where call.offset % 8 == thread {
                    var response = RpcV1.EchoResponse()
                    response.payload = call.element.payload
                    call.element.respond(.success(response))
                }
            }
            // New connections (likely on the descriptor numbers just freed) get exactly their own answers.
            let client = server.client(timeout: 10_000)
            for i in 0..<4 {
                let answer = try client.call(TestMethods.later, LoopbackTests.echoRequest([9, UInt8(i)]))
                #expect(answer.payload == [9, UInt8(i)])
            }
            let fresh = try RawPeer(port: server.server.port)
            #expect(fresh.authenticate(server.secret))
            var ping = RpcV1.Frame()
            ping.kind = .ping
            ping.payload = [7, UInt8(round)]
            fresh.send(ping)
            let pong = fresh.receive()
            #expect(pong?.kind == .pong && pong?.payload == [7, UInt8(round)])
        }
    }
}
