import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import Synchronization
import Testing

/// Error metadata between a real server and client over TCP: what the server writes (read raw
/// off the socket), what the client makes of it (retries, limits), and an old server's marker
/// violations read by a new client.
@Suite("Error metadata over TCP", .serialized)
struct ErrorMetadataTransportTests {
    /// What a handler throws when its "database" goes away mid-call: translated to `UNAVAILABLE`
    /// like storage's errors (``HandlerErrorTranslation``).
    struct MidCallOutage: Error, CustomStringConvertible {
        var description: String { "MidCallOutage: connection to db.internal:5432 lost" }
    }

    static let translated: Void = HandlerErrorTranslation.register { error in
        error is MidCallOutage ? RPCError(.unavailable, "banco de dados indisponível no momento / the database is unavailable right now") : nil
    }

    static let midCall = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Errors/MidCall", clientStreaming: false, serverStreaming: false)
    static let oldMidCall = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Errors/OldMidCall", clientStreaming: false, serverStreaming: false)
    static let oldTooLarge = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Errors/OldTooLarge", clientStreaming: false, serverStreaming: false)
    static let flood = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Errors/Flood", clientStreaming: false, serverStreaming: false)

    /// A server whose methods fail: `midCall` as a handler whose database went away, `oldMidCall`
    /// and `oldTooLarge` with the marker violations an older server sent instead of metadata,
    /// `flood` with far more metadata than may travel. Counts the runs of each.
    final class FailingServer: @unchecked Sendable {
        let server: RPCServer
        let secret = DeploymentSecret.random()
        let counts = Counts()

        /// Runs by method path.
        final class Counts: Sendable {
            let byPath = Mutex<[String: Int]>([:])
            func bump(_ method: RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>) { byPath.withLock { $0[method.path, default: 0] += 1 } }
        }

        init() throws {
            _ = ErrorMetadataTransportTests.translated
            var router = RPCRouter()
            let counts = self.counts
            router.register(ErrorMetadataTransportTests.midCall) { _, _ in
                counts.bump(ErrorMetadataTransportTests.midCall)
                throw MidCallOutage()
            }
            router.register(ErrorMetadataTransportTests.oldMidCall) { _, _ in
                counts.bump(ErrorMetadataTransportTests.oldMidCall)
                throw RPCError(.unavailable, "banco de dados indisponível no momento / the database is unavailable right now",
                               violations: [ErrorMetadataTests.legacyHandlerStarted])
            }
            router.register(ErrorMetadataTransportTests.oldTooLarge) { _, _ in
                counts.bump(ErrorMetadataTransportTests.oldTooLarge)
                throw RPCError(.resourceExhausted, "resposta grande demais / response too large", violations: [ErrorMetadataTests.legacyResponseTooLarge])
            }
            router.register(ErrorMetadataTransportTests.flood) { _, _ in
                var metadata = ErrorMetadataTransportTests.floodMetadata
                metadata[RPCError.causeKey] = "the logged cause"
                throw RPCError(.unavailable, "cheio / full", metadata: metadata)
            }
            server = RPCServer(configuration: ServerConfiguration(serviceName: "test", secret: secret), router: router,
                               logger: Logger(service: "test", level: .critical))
            try server.start()
        }

        func client(attempts: Int) -> RPCClient {
            var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: server.port)], secret: secret)
            configuration.maxAttempts = attempts
            return RPCClient(configuration: configuration)
        }

        func runs(of method: RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>) -> Int { counts.byPath.withLock { $0[method.path] ?? 0 } }

        deinit { server.shutdown(gracePeriodMilliseconds: 100) }
    }

    /// 5,000 entries under status., one of them 100 KB, the handler-started marker, and the keys a
    /// server must never be able to set in a client: `transport.sent` "false" would make it retry
    /// a call that was sent.
    static let floodMetadata: [String: String] = {
        var metadata: [String: String] = [:]
        for index in 0..<5_000 { metadata[String(format: "status.x%05d", index)] = "v" }
        metadata["status.huge"] = String(repeating: "x", count: 100_000)
        metadata[ErrorMetadata.handlerStarted] = "true"
        metadata["transport.sent"] = "false"
        return metadata
    }()

    /// The frame a server at `port` answers to `request`, read raw off a connection authenticated with `secret`.
    static func rawAnswer(port: Int, secret: DeploymentSecret, _ request: RpcV1.Frame) throws -> (frame: RpcV1.Frame, status: RpcV1.Status) {
        let peer = try RawPeer(port: port)
        #expect(peer.authenticate(secret))
        peer.send(request)
        let frame = try #require(peer.receive())
        return (frame, try #require(frame.status))
    }

    /// A REQUEST frame for `method` with an empty request.
    static func request(_ callID: UInt64, _ path: String, payload: [UInt8] = []) -> RpcV1.Frame {
        var frame = RpcV1.Frame()
        frame.kind = .request
        frame.callID = callID
        frame.method = path
        frame.payload = payload
        frame.endStream = true
        return frame
    }

    @Test("a handler whose database went away mid-call: on the wire UNAVAILABLE with status.handler_started, and for older clients the old marker violation (no server.cause); the client repeats it only with an idempotency key")
    func handlerStarted() throws {
        let failing = try FailingServer()
        let (answer, status) = try Self.rawAnswer(port: failing.server.port, secret: failing.secret, Self.request(1, Self.midCall.path))
        #expect(answer.kind == .response && answer.callID == 1 && status.code == RPCStatusCode.unavailable.rawValue)
        #expect(status.metadata == [ErrorMetadata.handlerStarted: "true"], "\(status.metadata)")
        #expect(status.metadata[RPCError.causeKey] == nil)
        #expect(status.violations.map { [$0.field, $0.reason] } == [["", "handler_started"]], "the old form too, for clients older than the metadata")
        #expect(!answer.serializedBytes().containsSequence(Array("db.internal".utf8)), "the cause is nowhere in the frame")

        let client = failing.client(attempts: 3)
        defer { client.close() }
        let plain = #expect(throws: RPCError.self) { try client.call(Self.midCall, RpcV1.EchoRequest()) }
        #expect(plain?.handlerStarted == true && plain?.violations.isEmpty == true && plain?.metadata[RPCError.causeKey] == nil)
        #expect(failing.runs(of: Self.midCall) == 2, "the raw call and one client call: not repeated without a key")
        _ = #expect(throws: RPCError.self) { try client.call(Self.midCall, RpcV1.EchoRequest(), options: CallOptions(idempotencyKey: "k-1")) }
        #expect(failing.runs(of: Self.midCall) == 5, "repeated with one (3 attempts)")
    }

    @Test("a handler whose own call was lost after it left (its upstream went away mid-call, as behind the gateway's RPC port) answers UNAVAILABLE marked status.handler_started: its caller repeats it only with an idempotency key")
    func lostUpstreamCall() throws {
        let slow = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Errors/Slow", clientStreaming: false, serverStreaming: false)
        let relay = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Errors/Relay", clientStreaming: false, serverStreaming: false)
        let secret = DeploymentSecret.random()
        let entered = Atomic<Int>(0)
        // The upstream's handler holds its call until the test has its answer (at most 30 s), so
        // the call is surely still running when the upstream goes away: a fixed 1.5 s handler
        // could finish first on a loaded machine, and the relay would then answer OK.
        let release = DispatchSemaphore(value: 0)
        var upstreamRouter = RPCRouter()
        upstreamRouter.register(slow) { request, _ in
            entered.add(1, ordering: .relaxed)
            _ = release.wait(timeout: .now() + 30)
            return RpcV1.EchoResponse()
        }
        let upstream = RPCServer(configuration: ServerConfiguration(serviceName: "upstream", secret: secret), router: upstreamRouter,
                                 logger: Logger(service: "upstream", level: .critical))
        try upstream.start()
        var upstreamConfiguration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: upstream.port)], secret: secret)
        upstreamConfiguration.maxAttempts = 1
        let upstreamClient = RPCClient(configuration: upstreamConfiguration)
        defer { upstreamClient.close() }
        let relays = Atomic<Int>(0)
        var relayRouter = RPCRouter()
        relayRouter.register(relay) { request, _ in
            relays.add(1, ordering: .relaxed)
            return try upstreamClient.call(slow, request)
        }
        let relayServer = RPCServer(configuration: ServerConfiguration(serviceName: "relay", secret: secret), router: relayRouter,
                                    logger: Logger(service: "relay", level: .critical))
        try relayServer.start()
        defer { relayServer.shutdown(gracePeriodMilliseconds: 100) }

        // The upstream goes away while the relayed call runs in it (closed after a 50 ms grace).
        Thread.detachNewThread {
            while entered.load(ordering: .relaxed) == 0 { usleep(1_000) }
            upstream.shutdown(gracePeriodMilliseconds: 50)
        }
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: relayServer.port)], secret: secret)
        configuration.maxAttempts = 3
        let client = RPCClient(configuration: configuration)
        defer { client.close() }
        defer { release.signal() }  // first: lets the upstream's shutdown finish
        let error = #expect(throws: RPCError.self) { try client.call(relay, RpcV1.EchoRequest()) }
        #expect(error?.code == .unavailable && error?.handlerStarted == true, "\(String(describing: error))")
        #expect(error?.metadata[RPCError.sentKey] == nil, "the relay's transport facts never travel, \(String(describing: error))")
        #expect(relays.load(ordering: .relaxed) == 1, "not repeated without a key")
        #expect(entered.load(ordering: .relaxed) == 1)
    }

    @Test("an older server's answers (marker violations with an empty field) are understood by a new client: handler_started not repeated without a key, response_too_large marked, no violation left")
    func olderServer() throws {
        let failing = try FailingServer()
        let client = failing.client(attempts: 3)
        defer { client.close() }
        let started = #expect(throws: RPCError.self) { try client.call(Self.oldMidCall, RpcV1.EchoRequest()) }
        #expect(started?.handlerStarted == true && started?.violations.isEmpty == true, "\(String(describing: started))")
        #expect(failing.runs(of: Self.oldMidCall) == 1)
        _ = #expect(throws: RPCError.self) { try client.call(Self.oldMidCall, RpcV1.EchoRequest(), options: CallOptions(idempotencyKey: "k-2")) }
        #expect(failing.runs(of: Self.oldMidCall) == 4)
        let large = #expect(throws: RPCError.self) { try client.call(Self.oldTooLarge, RpcV1.EchoRequest()) }
        #expect(large?.isResponseTooLarge == true && large?.violations.isEmpty == true, "\(String(describing: large))")
    }

    @Test("an answer over the frame limit is RESOURCE_EXHAUSTED with status.response_too_large on the wire, and the old marker violation for older clients")
    func responseTooLargeOnTheWire() throws {
        var limits = RPCLimits()
        limits.maxFrameSize = 256 << 10
        let server = try LoopbackServer(limits: limits)
        let (answer, status) = try Self.rawAnswer(port: server.server.port, secret: server.secret,
                                                  Self.request(3, TestMethods.inflate.path, payload: LoopbackTests.echoRequest([20]).serializedBytes()))
        #expect(answer.callID == 3 && status.code == RPCStatusCode.resourceExhausted.rawValue)
        #expect(status.metadata == [ErrorMetadata.responseTooLarge: "true"], "\(status)")
        #expect(status.violations.map { [$0.field, $0.reason] } == [["", "response_too_large"]], "\(status)")
        #expect(status.message.contains("grande demais") && status.message.contains("too large"))
    }

    @Test("a server sends at most 16 status.* entries of bounded size, the known ones first, never server.cause or transport.*")
    func serverSendsWithinLimits() throws {
        let failing = try FailingServer()
        let (answer, status) = try Self.rawAnswer(port: failing.server.port, secret: failing.secret, Self.request(1, Self.flood.path))
        let metadata = status.metadata
        #expect(metadata.count == ErrorMetadata.maxEntries && metadata[ErrorMetadata.handlerStarted] == "true", "\(metadata.count)")
        #expect(metadata.keys.allSatisfy { $0.hasPrefix("status.") } && metadata["status.huge"] == nil)
        #expect(answer.serializedBytes().count < 2_048, "\(answer.serializedBytes().count) bytes")
    }

    @Test("a client keeps at most 16 status.* entries of bounded size from a server that sends 5,000 (and a 100 KB one, and transport.sent=false): the call fails as sent, marked handler_started, not repeated")
    func clientAcceptsWithinLimits() throws {
        let secret = DeploymentSecret.random()
        let rogue = try RogueServer(secret: secret) { request in
            var status = RpcV1.Status()
            status.code = RPCStatusCode.unavailable.rawValue
            status.message = "muito / too much"
            status.metadata = Self.floodMetadata
            var answer = RpcV1.Frame()
            answer.kind = .response
            answer.callID = request.callID
            answer.status = status
            return answer
        }
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: rogue.port)], secret: secret)
        configuration.maxAttempts = 3
        let client = RPCClient(configuration: configuration)
        defer { client.close() }
        let error = #expect(throws: RPCError.self) { try client.call(RpcV1.Echo.echo, RpcV1.EchoRequest()) }
        let metadata = error?.metadata ?? [:]
        #expect(error?.code == .unavailable && error?.handlerStarted == true, "\(String(describing: error))")
        #expect(metadata.count == ErrorMetadata.maxEntries && metadata.keys.allSatisfy { $0.hasPrefix("status.") }, "\(metadata.count)")
        #expect(metadata.values.allSatisfy { $0.utf8.count <= ErrorMetadata.maxValueBytes })
        #expect(rogue.requests == 1, "transport.sent=false from a server is ignored: not repeated")
    }

    @Test("a draining server says when it is gone: GOAWAY and the UNAVAILABLE of a new call carry status.retry_after_ms within the grace period")
    func drainingRetryAfter() throws {
        let server = try LoopbackServer()
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        peer.send(Self.request(1, TestMethods.gate.path, payload: LoopbackTests.echoRequest([1]).serializedBytes()))
        let entered = Date(timeIntervalSinceNow: 5)
        while server.probe.gateEntered.load(ordering: .relaxed) == 0, Date() < entered { usleep(1_000) }
        let stopped = OneShotResult<Bool>()
        Thread.detachNewThread {
            server.server.shutdown(gracePeriodMilliseconds: 3_000)
            _ = stopped.complete(true)
        }
        let goaway = try #require(peer.receive())
        let farewell = try #require(goaway.status)
        #expect(goaway.kind == .goaway && farewell.code == RPCStatusCode.unavailable.rawValue)
        let said = Int(farewell.metadata[ErrorMetadata.retryAfterMilliseconds] ?? "") ?? 0
        #expect((1...3_000).contains(said), "\(farewell.metadata)")
        peer.send(Self.request(2, RpcV1.Echo.echo.path))
        let refused = try #require(peer.receive())
        let refusal = try #require(refused.status)
        #expect(refused.callID == 2 && refusal.code == RPCStatusCode.unavailable.rawValue)
        let after = Int(refusal.metadata[ErrorMetadata.retryAfterMilliseconds] ?? "") ?? 0
        #expect((1...max(1, said)).contains(after), "\(refusal.metadata)")
        server.probe.gateOpen.store(true, ordering: .releasing)
        #expect(peer.receive()?.callID == 1)
        _ = stopped.wait()
    }
}

/// A server that speaks the protocol by hand (handshake with the deployment secret, then
/// answers each REQUEST with what `answer` makes of it), to misbehave on purpose.
final class RogueServer: @unchecked Sendable {
    let port: Int
    /// REQUEST frames received, over every connection.
    var requests: Int { counter.value.load(ordering: .relaxed) }
    private let counter = Counter()
    private let listenFD: Int32

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    init(secret: DeploymentSecret, answer: @escaping @Sendable (RpcV1.Frame) -> RpcV1.Frame) throws {
        let listener = try ListeningSocket(host: "127.0.0.1", port: 0)
        port = listener.port
        guard let fd = listener.take(blocking: true) else { throw RPCError(.internal, "listener taken") }
        listenFD = fd
        let counter = self.counter
        Thread.detachNewThread {
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 { return }
                Thread.detachNewThread {
                    Self.serve(RawPeer(accepted: connection), secret: secret, counter: counter, answer: answer)
                }
            }
        }
    }

    deinit {
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    private static func serve(_ peer: RawPeer, secret: DeploymentSecret, counter: Counter, answer: (RpcV1.Frame) -> RpcV1.Frame) {
        let serverNonce = DeploymentSecret.randomBytes(32)
        var hello = RpcV1.Frame()
        hello.kind = .hello
        hello.payload = serverNonce
        peer.send(hello)
        guard let auth = peer.receive(), auth.kind == .auth, auth.payload.count == 64 else { return }
        let clientNonce = Array(auth.payload[0..<32])
        var ok = RpcV1.Frame()
        ok.kind = .authOk
        ok.payload = secret.mac(Array("ocorrencias-rpc-v1 server".utf8), clientNonce, serverNonce)
        peer.send(ok)
        while let frame = peer.receive() {
            guard frame.kind == .request else { continue }
            counter.value.wrappingAdd(1, ordering: .relaxed)
            peer.send(answer(frame))
        }
    }
}

extension Array where Element == UInt8 {
    func containsSequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { Array(self[$0..<($0 + needle.count)]) == needle }
    }
}
