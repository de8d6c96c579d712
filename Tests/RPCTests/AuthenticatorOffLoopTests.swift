import Foundation
import Messages
import RPC
import RPCTransport
import Synchronization
import Testing

/// A connection authenticator that reads a database (the gateway's API keys) runs on a worker,
/// not on the event loop (docs/threat_model.md, RPC review): a stranger's keys being checked
/// do not stall the other connections of that loop.
@Suite("Authenticator off the event loop", .serialized)
struct AuthenticatorOffLoopTests {
    /// Accepts any key; key `slow` takes 600 ms to check (a slow database read).
    final class SlowKeys: ConnectionAuthenticator {
        let closed = Atomic<Int>(0)
        func authenticate(metadata: [String: String], payload: [UInt8], peer: String) throws -> [String: String]? {
            guard let key = metadata[MetadataKey.apiKey] else { return nil }
            if key == "slow" { usleep(600_000) }
            if key == "refused" { return nil }
            return [MetadataKey.apiKey: key]
        }
        func connectionClosed(attached: [String: String]) { closed.wrappingAdd(1, ordering: .relaxed) }
    }

    static func auth(_ key: String) -> RpcV1.Frame {
        var frame = RpcV1.Frame()
        frame.kind = .auth
        frame.metadata = [MetadataKey.apiKey: key]
        frame.payload = [UInt8](repeating: 1, count: 32)
        return frame
    }

    static func echo(id: UInt64) -> RpcV1.Frame {
        var frame = RpcV1.Frame()
        frame.kind = .request
        frame.callID = id
        frame.method = RpcV1.Echo.echo.path
        frame.payload = LoopbackTests.echoRequest([UInt8(id)]).serializedBytes()
        frame.endStream = true
        return frame
    }

    @Test("while slow key checks run, another connection of the same (only) event loop is answered at once; the slow ones are accepted when their check ends, a refused key is UNAUTHENTICATED and closed")
    func otherConnectionsAreServed() throws {
        let keys = SlowKeys()
        let server = try LoopbackServer(eventLoops: 1, authenticator: keys)
        let member = try RawPeer(port: server.server.port)
        #expect(member.receive()?.kind == .hello)
        member.send(Self.auth("fast"))
        #expect(member.receive()?.kind == .authOk)

        let strangers = try (0..<3).map { _ in try RawPeer(port: server.server.port) }
        for stranger in strangers {
            #expect(stranger.receive()?.kind == .hello)
            stranger.send(Self.auth("slow"))
        }
        usleep(50_000)
        let started = Date()
        member.send(Self.echo(id: 1))
        let answer = try #require(member.receive())
        let elapsed = Date().timeIntervalSince(started)
        #expect(answer.callID == 1 && answer.status == nil)
        #expect(elapsed < 0.3, "answered in \(elapsed) s while three 600 ms key checks ran (they ran on the loop: 1.8 s)")
        for stranger in strangers { #expect(stranger.receive()?.kind == .authOk) }
        strangers[0].send(Self.echo(id: 2))
        #expect(strangers[0].receive()?.callID == 2)

        let refused = try RawPeer(port: server.server.port)
        #expect(refused.receive()?.kind == .hello)
        refused.send(Self.auth("refused"))
        #expect(refused.receive()?.status?.code == RPCStatusCode.unauthenticated.rawValue)
        #expect(refused.receive() == nil)
    }

    @Test("a connection that closes while its key is checked gives back what the authenticator counted for it (the gateway's per-key connection count)")
    func closedWhileChecking() throws {
        let keys = SlowKeys()
        var limits = RPCLimits()
        limits.authenticationTimeoutMilliseconds = 200
        let server = try LoopbackServer(limits: limits, eventLoops: 1, authenticator: keys)
        let stranger = try RawPeer(port: server.server.port)
        #expect(stranger.receive()?.kind == .hello)
        stranger.send(Self.auth("slow"))
        #expect(stranger.receive() == nil, "closed by the authentication timeout")
        let deadline = Date().addingTimeInterval(3)
        while keys.closed.load(ordering: .relaxed) == 0 && Date() < deadline { usleep(10_000) }
        #expect(keys.closed.load(ordering: .relaxed) == 1)
    }
}
