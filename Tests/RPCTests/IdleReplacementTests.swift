import Foundation
import Messages
import RPC
import RPCTransport
import Testing

/// At the connection limit, authenticated connections kept open by PINGs alone make room for new
/// ones, longest idle first (`OCORRENCIAS_RPC_IDLE_REPLACE_MS`): many integration keys together
/// cannot fill the gateway's RPC port for good (docs/threat_model.md, RPC review).
@Suite("Idle connections replaced at the connection limit", .serialized)
struct IdleReplacementTests {
    @Test("with every slot held by authenticated connections, a new one replaces the one idle longest past the threshold (its PINGs do not count; it is told GOAWAY UNAVAILABLE); one with a call in flight or a recent call is never replaced; with none idle enough a new connection is refused")
    func longestIdleGoesFirst() throws {
        var limits = RPCLimits()
        limits.maxConnections = 3
        limits.idleReplaceAfterMilliseconds = 300
        let server = try LoopbackServer(limits: limits, eventLoops: 1)
        let pinger = try RawPeer(port: server.server.port)
        #expect(pinger.authenticate(server.secret))
        let quiet = try RawPeer(port: server.server.port)
        #expect(quiet.authenticate(server.secret))
        let busy = try RawPeer(port: server.server.port)
        #expect(busy.authenticate(server.secret))
        busy.send(HostilePeerTests.request(TestMethods.gate.path, id: 1, payload: [1]))
        // The pinger keeps its connection alive with PINGs; the quiet one makes a call half-way.
        for round in 0..<6 {
            pinger.send(HostilePeerTests.ping(8, id: UInt64(round)))
            #expect(pinger.receive()?.kind == .pong)
            if round == 3 {
                quiet.send(HostilePeerTests.request(RpcV1.Echo.echo.path, id: 5, payload: [5]))
                #expect(quiet.receive()?.callID == 5)
            }
            usleep(100_000)
        }
        let newcomer = try RawPeer(port: server.server.port)
        #expect(newcomer.authenticate(server.secret), "admitted in the place of an idle connection")
        let told = pinger.receive()
        #expect(told?.kind == .goaway && told?.status?.code == RPCStatusCode.unavailable.rawValue)
        #expect(HostilePeerTests.endOfStream(pinger), "the longest idle (PINGs only) made room")
        #expect(!HostilePeerTests.endOfStream(quiet, waiting: 0.1), "idle for less long: kept")

        // The quiet one is idle past the threshold by now; the busy one has its call in flight.
        usleep(350_000)
        let second = try RawPeer(port: server.server.port)
        #expect(second.authenticate(server.secret))
        #expect(HostilePeerTests.endOfStream(quiet))
        // Nobody idle enough now (the newcomer just made a call): the next one is refused, the
        // busy call still runs.
        newcomer.send(HostilePeerTests.request(RpcV1.Echo.echo.path, id: 6, payload: [6]))
        #expect(newcomer.receive()?.callID == 6)
        let late = try RawPeer(port: server.server.port)
        let refused = late.receive()
        #expect(refused?.kind == .goaway && refused?.status?.code == RPCStatusCode.resourceExhausted.rawValue)
        server.probe.gateOpen.store(true, ordering: .releasing)
        #expect(busy.receive()?.callID == 1)
    }

    @Test("the threshold's setting is read from the environment")
    func setting() {
        #expect(RPCLimits().idleReplaceAfterMilliseconds == 120_000)
        #expect(RPCLimits(environment: ["OCORRENCIAS_RPC_IDLE_REPLACE_MS": "5000"]).idleReplaceAfterMilliseconds == 5_000)
    }
}
