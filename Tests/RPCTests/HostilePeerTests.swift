import CSystem
import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import Testing
import TestSupport

/// Peers that misbehave at the transport (docs/PROTOCOL.md, "Back-pressure and limits"): what a
/// stranger may make a server hold before it authenticated, peers that send without reading,
/// busy peers that are not slow, and connection floods by peers that cannot prove themselves.
@Suite("RPC transport against hostile peers", .serialized)
struct HostilePeerTests {
    static func frameBytes(_ frame: RpcV1.Frame) -> [UInt8] {
        var bytes: [UInt8] = []
        frame.appendLengthPrefixed(to: &bytes)
        return bytes
    }

    static func ping(_ size: Int, id: UInt64 = 0) -> [UInt8] {
        var ping = RpcV1.Frame()
        ping.kind = .ping
        ping.callID = id
        ping.payload = [UInt8](repeating: 7, count: size)
        return frameBytes(ping)
    }

    /// True when the server closed `peer`'s connection (end of stream within `waiting` seconds),
    /// false when it is still open then.
    static func endOfStream(_ peer: RawPeer, waiting: Double = 3) -> Bool {
        var tv = timeval(tv_sec: Int(waiting), tv_usec: Int((waiting - Double(Int(waiting))) * 1_000_000))
        setsockopt(peer.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(peer.fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        }
    }

    static func request(_ method: String, id: UInt64, payload: [UInt8]) -> [UInt8] {
        var request = RpcV1.Frame()
        request.kind = .request
        request.callID = id
        request.method = method
        var echo = RpcV1.EchoRequest()
        echo.payload = payload
        request.payload = echo.serializedBytes()
        request.endStream = true
        return frameBytes(request)
    }

    @Test("before it authenticated, a peer may not announce a frame larger than the handshake needs (16 KiB): GOAWAY RESOURCE_EXHAUSTED and closed; after the handshake the configured limit applies")
    func smallFramesBeforeAuthentication() throws {
        let server = try LoopbackServer()
        let stranger = try RawPeer(port: server.server.port)
        #expect(stranger.receive()?.kind == .hello)
        stranger.send([0, 1, 0, 0])  // announces 64 KiB, far below the 4 MiB frame limit
        let goaway = try #require(stranger.receive())
        #expect(goaway.kind == .goaway)
        #expect(goaway.status?.code == RPCStatusCode.resourceExhausted.rawValue)
        #expect(stranger.receive() == nil, "the server closed the connection")

        let member = try RawPeer(port: server.server.port)
        #expect(member.authenticate(server.secret))
        member.send(Self.request(RpcV1.Echo.echo.path, id: 1, payload: [UInt8](repeating: 3, count: 1 << 20)))
        let answer = try #require(member.receive())
        #expect(answer.kind == .response && answer.status == nil)
        #expect(try RpcV1.EchoResponse(serializedBytes: answer.payload).payload.count == 1 << 20)
    }

    @Test("a peer that sends PINGs and never reads the PONGs is read no further once about a frame's worth waits for it (TCP pushes back; the server does not buffer without bound); once it reads, every PING is answered and the connection goes on")
    func unreadAnswersPushBack() throws {
        var limits = RPCLimits()
        limits.maxFrameSize = 1 << 20
        let server = try LoopbackServer(limits: limits)
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        let frame = Self.ping(256 << 10)
        var sent = 0
        var stalledSince: Date?
        let giveUp = Date().addingTimeInterval(30)
        // Up to 256 MiB, sent without reading anything; stop once the server stops taking them.
        while sent < 256 << 20 && Date() < giveUp {
            let offset = sent % frame.count
            let n = frame.withUnsafeBytes {
                Glibc.send(peer.fd, $0.baseAddress! + offset, frame.count - offset, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
            if n > 0 {
                sent += n
                stalledSince = nil
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if let since = stalledSince {
                    if Date().timeIntervalSince(since) > 1 { break }
                } else {
                    stalledSince = Date()
                }
                usleep(2_000)
            } else {
                Issue.record("send failed: errno \(errno)")
                return
            }
        }
        // Kernel buffers on both sides hold some MiB; without back-pressure all 256 went in.
        #expect(sent < 64 << 20, "the server kept reading a peer that does not read: \(sent >> 20) MiB taken")
        // Read every answer (on a thread: the server reads no more until we do), and send the
        // rest of the frame in progress.
        let tail = (frame.count - sent % frame.count) % frame.count
        let pings = (sent + tail) / frame.count
        let counted = Completions()
        let reader = Thread {
            var pongs = 0
            while pongs < pings, let answer = peer.receive() {
                if answer.kind == .pong { pongs += 1 }
            }
            counted.record(0, .success(Array(String(pongs).utf8)))
        }
        reader.start()
        if tail > 0 { peer.send(Array(frame[(frame.count - tail)...])) }
        let pongs = (try? counted.wait(for: 1, seconds: 60)[0]?.get()).map { Int(String(decoding: $0, as: UTF8.self)) ?? -1 } ?? -1
        #expect(pongs == pings, "\(pongs) of \(pings) PINGs answered (\(sent >> 20) MiB sent)")
        peer.send(Self.request(RpcV1.Echo.echo.path, id: 5, payload: [1, 2, 3]))
        #expect(peer.receive()?.callID == 5)
    }

    @Test("the frame timeout runs per frame: a busy peer whose writes always end mid-frame, each frame completing in time, keeps its connection long past the timeout")
    func busyPeerIsNotSlow() throws {
        var limits = RPCLimits()
        limits.frameCompletionTimeoutMilliseconds = 300
        let server = try LoopbackServer(limits: limits)
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        let frame = Self.ping(100)
        let half = frame.count / 2
        // 1.5 s (five timeouts) of frames that each take 50 ms, every write ending in the middle of one.
        peer.send(Array(frame[..<half]))
        for _ in 0..<30 {
            usleep(50_000)
            peer.send(Array(frame[half...]) + Array(frame[..<half]))
        }
        peer.send(Array(frame[half...]))
        var pongs = 0
        while pongs < 31, let answer = peer.receive() {
            if answer.kind == .pong { pongs += 1 }
        }
        #expect(pongs == 31, "the connection was closed after \(pongs) frames")
    }

    @Test("frames the server leaves unread while a connection is at its in-flight limit are not the peer's delay: no frame timeout, every call answered once calls finish")
    func pausedReadingIsNotSlowLoris() throws {
        var limits = RPCLimits()
        limits.frameCompletionTimeoutMilliseconds = 300
        limits.maxInFlightPerConnection = 1
        let server = try LoopbackServer(limits: limits)
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        // One write: a call that waits at the server, a second call and half of a PING.
        let ping = Self.ping(100, id: 9)
        peer.send(Self.request(TestMethods.gate.path, id: 1, payload: [1])
            + Self.request(RpcV1.Echo.echo.path, id: 3, payload: [3])
            + Array(ping[..<(ping.count / 2)]))
        #expect(waitFor { server.probe.gateEntered.load(ordering: .relaxed) == 1 })
        usleep(1_000_000)  // several frame timeouts with reading paused
        server.probe.gateOpen.store(true, ordering: .releasing)
        var answered: Set<UInt64> = []
        while answered.count < 2, let answer = peer.receive() {
            if answer.kind == .response { answered.insert(answer.callID) }
        }
        #expect(answered == [1, 3])
        peer.send(Array(ping[(ping.count / 2)...]))
        let pong = peer.receive()
        #expect(pong?.kind == .pong && pong?.callID == 9)
    }

    @Test("at the connection limit, a new connection replaces the oldest one that has not authenticated: strangers holding every slot no longer keep the deployment's callers out; authenticated connections are never replaced")
    func strangersDoNotStarveCallers() throws {
        var limits = RPCLimits()
        limits.maxConnections = 8
        limits.authenticationTimeoutMilliseconds = 60_000
        let server = try LoopbackServer(limits: limits, eventLoops: 1)
        var strangers: [RawPeer] = []
        for _ in 0..<8 {
            let stranger = try RawPeer(port: server.server.port)
            #expect(stranger.receive()?.kind == .hello)
            strangers.append(stranger)
        }
        #expect(server.server.openConnections == 8)
        let client = server.client()
        defer { client.close() }
        #expect(try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving)
        #expect(Self.endOfStream(strangers[0]), "the oldest stranger made room")
        #expect(!Self.endOfStream(strangers[1], waiting: 0.2), "the others wait for their timeout")
        #expect(server.server.openConnections == 8)

        // Members fill every slot: a ninth connection is refused, nobody is replaced.
        var members: [RawPeer] = []
        for _ in 0..<7 {
            let member = try RawPeer(port: server.server.port)
            #expect(member.authenticate(server.secret))
            members.append(member)
        }
        #expect(server.server.openConnections == 8)
        let late = try RawPeer(port: server.server.port)
        let refused = late.receive()
        #expect(refused?.kind == .goaway && refused?.status?.code == RPCStatusCode.resourceExhausted.rawValue)
        #expect(try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving)
        for member in members {
            member.send(Self.ping(8, id: 4))
            #expect(member.receive()?.kind == .pong)
        }
    }
}

extension HostilePeerTests {
    static func echo(_ bytes: [UInt8]) -> RpcV1.EchoRequest { LoopbackTests.echoRequest(bytes) }

    @Test("streams waiting on their peers do not hold the worker pool: with more idle bidirectional streams and unread server streams open than there are workers, unary calls still run; past the server's stream limit a new stream is RESOURCE_EXHAUSTED, and room comes back when one ends")
    func idleStreamsDoNotHoldWorkers() throws {
        var limits = RPCLimits()
        limits.maxStreamingHandlers = 6
        let server = try LoopbackServer(limits: limits, workers: 2)
        let client = server.client(timeout: 20_000)
        defer { client.close() }
        // Four echo streams that never send, two tickers nobody reads (their handlers wait for window).
        var idle: [StreamingCall<RpcV1.EchoRequest, RpcV1.EchoResponse>] = []
        for _ in 0..<4 { idle.append(try client.streamingCall(RpcV1.Echo.echoStream)) }
        let tickers = try (0..<2).map { _ in try client.serverStream(TestMethods.ticker, Self.echo([])) }
        #expect(waitFor { server.server.runningStreamHandlers == 6 }, "\(server.server.runningStreamHandlers) stream handlers")

        let started = Date()
        let answer = try client.call(TestMethods.sleepy, Self.echo([1]), options: CallOptions(timeoutMilliseconds: 5_000))
        #expect(answer.payload == [1])
        #expect(Date().timeIntervalSince(started) < 4, "a unary call waited for the streams")

        let extra = try client.streamingCall(RpcV1.Echo.echoStream)
        do {
            _ = try extra.receive()
            Issue.record("a stream past the limit ran")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted, "\(error)")
            #expect(error.retryAfterMilliseconds != nil, "\(error)")
        }

        idle[0].cancel()
        #expect(waitFor { server.server.runningStreamHandlers == 5 })
        let next = try client.streamingCall(RpcV1.Echo.echoStream)
        try next.send(Self.echo([4, 2]))
        #expect(try next.receive()?.payload == [4, 2])
        try next.closeSend()
        #expect(try next.receive() == nil)
        for stream in idle.dropFirst() { stream.cancel() }
        for ticker in tickers { ticker.cancel() }
        #expect(waitFor { server.server.runningStreamHandlers == 0 })
    }
}

extension HostilePeerTests {
    @Test("a caller's request and trace ids are taken only when they look like ids (1 to 100 bytes of letters, digits and -_.:): a 4 KiB id, or one with a line break, is replaced by the server's own and is not passed on; a megabyte one is refused with its frame (RESOURCE_EXHAUSTED, metadata over 16 KiB)")
    func requestIDsAreBounded() throws {
        var router = RPCRouter()
        let method = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Ids", clientStreaming: false, serverStreaming: false)
        router.register(method) { _, context in
            var response = RpcV1.EchoResponse()
            response.payload = Array("\(context.requestID)|\(context.outgoingMetadata[MetadataKey.traceID] ?? "-")|\(context.outgoingMetadata[MetadataKey.requestID] ?? "-")".utf8)
            return response
        }
        let secret = DeploymentSecret.random()
        let server = RPCServer(configuration: ServerConfiguration(serviceName: "ids", secret: secret), router: router,
                               logger: Logger(service: "ids", level: .critical))
        try server.start()
        defer { server.shutdown(gracePeriodMilliseconds: 100) }
        let client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: server.port)], secret: secret))
        defer { client.close() }
        func ids(_ requestID: String, _ traceID: String) throws -> [String] {
            let answer = try client.call(method, RpcV1.EchoRequest(),
                                         options: CallOptions(metadata: [MetadataKey.requestID: requestID, MetadataKey.traceID: traceID]))
            return String(decoding: answer.payload, as: UTF8.self).split(separator: "|").map(String.init)
        }
        #expect(try ids("gw-1a2b-7", "trace:çã-9") == ["gw-1a2b-7", "trace:çã-9", "gw-1a2b-7"])
        let megabyte = String(repeating: "a", count: 1 << 20)
        #expect(throws: RPCError.self) { try ids(megabyte, "t") }
        do { _ = try ids(megabyte, "t") } catch let error as RPCError {
            #expect(error.code == .resourceExhausted && error.message.contains("metadata bytes"))
        }
        let huge = String(repeating: "a", count: 4 << 10)
        let replaced = try ids(huge, huge)
        #expect(replaced[0].hasPrefix("ids-") && replaced[0].utf8.count < 100, "\(replaced[0].prefix(120))")
        #expect(replaced[1] == "-" && replaced[2] == replaced[0])
        let forged = try ids("x\n{\"level\":\"error\"}", "t\n")
        #expect(forged[0].hasPrefix("ids-") && forged[1] == "-")
        #expect(RequestIDs.accepted(String(repeating: "b", count: 100)) != nil)
        #expect(RequestIDs.accepted("ação-1") != nil && RequestIDs.accepted("a b") == nil)
        #expect(RequestIDs.accepted(String(repeating: "b", count: 101)) == nil)
        #expect(RequestIDs.accepted("") == nil)
    }
}

extension HostilePeerTests {
    @Test("PONG answers with its PING's call id and payload (docs/PROTOCOL.md), so RPCClient.ping measures a round trip; it timed out against every server, whose PONG carried call id 0")
    func pongCarriesTheCallID() throws {
        let server = try LoopbackServer()
        let client = server.client()
        defer { client.close() }
        let rounds = client.ping(timeoutMilliseconds: 3_000)
        #expect(rounds.count == 1)
        #expect(rounds[server.endpoint] != .some(nil), "\(rounds)")
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        var ping = RpcV1.Frame()
        ping.kind = .ping
        ping.callID = 77
        ping.payload = [1, 2, 3]
        peer.send(ping)
        let pong = try #require(peer.receive())
        #expect(pong.kind == .pong && pong.callID == 77 && pong.payload == [1, 2, 3])
    }
}

extension HostilePeerTests {
    @Test("a handler that stops because its deadline passed and returns as if done ends the call with DEADLINE_EXCEEDED, not OK (it raced the server's deadline tick): a client never takes work cut by the deadline, a stream cut short, for whole")
    func streamCutByTheDeadlineIsNotWhole() throws {
        let server = try LoopbackServer()
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        // The handler returns normally as soon as its deadline passed; each round raced the
        // server's deadline tick (every 10 ms), and OK usually won. A raw peer has no deadline of
        // its own that could fail the call first.
        var endings: [String] = []
        for round in 0..<12 {
            var request = RpcV1.Frame()
            request.kind = .request
            request.callID = UInt64(2 * round + 1)
            request.method = TestMethods.untilCancelled.path
            request.payload = LoopbackTests.echoRequest([]).serializedBytes()
            request.endStream = true
            request.timeoutMs = 60
            peer.send(request)
            while let frame = peer.receive() {
                guard frame.kind == .response, frame.callID == request.callID else { continue }
                endings.append(frame.status.map { RPCStatusCode(rawValue: $0.code)?.name ?? "\($0.code)" } ?? "OK")
                break
            }
        }
        #expect(endings == Array(repeating: "DEADLINE_EXCEEDED", count: 12), "\(endings)")
    }
}
