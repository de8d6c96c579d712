import CSystem
import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import Synchronization

/// Methods only the tests serve, typed with the echo messages.
enum TestMethods {
    /// Sleeps `payload[0]` milliseconds (blocking pool), then echoes the payload.
    static let sleepy = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Sleepy", clientStreaming: false, serverStreaming: false)
    /// Answers `payload[0]` × 16 KiB: an answer much larger than its request.
    static let inflate = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Inflate", clientStreaming: false, serverStreaming: false)
    /// Blocks until the test releases it, honouring cancellation.
    static let gate = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Gate", clientStreaming: false, serverStreaming: false)
    /// Waits until its call is cancelled or expires, then returns as if done (echoes the payload).
    static let untilCancelled = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/UntilCancelled", clientStreaming: false, serverStreaming: false)
    /// Streams a message every 10 ms until cancelled.
    static let ticker = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Ticker", clientStreaming: false, serverStreaming: true)
    /// Answered later from another thread (`registerCompleting`): echoes, or fails when `payload[0]` is 1
    /// with an RPCError and when it is 2 with another error.
    static let later = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Later", clientStreaming: false, serverStreaming: false)
    /// Held by the server until the test answers it (`Probe.held`, `registerCompleting`).
    static let held = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Held", clientStreaming: false, serverStreaming: false)
    /// Sums the sizes of uploaded chunks.
    static let upload = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Upload", clientStreaming: true, serverStreaming: false)
    /// Sums the sizes of uploaded chunks on a worker, answered later from another thread
    /// (`registerStreamingCompleting`); fails when the first chunk starts with 1 (an RPCError) or
    /// 2 (another error).
    static let uploadLater = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/UploadLater", clientStreaming: true, serverStreaming: false)
    /// Like `upload`, counting its handler's starts (`Probe.watchedStarts`).
    static let watchedUpload = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/WatchedUpload", clientStreaming: true, serverStreaming: false)
    /// Like `upload`, reading nothing until the test opens the gate (`Probe.gateOpen`).
    static let gatedUpload = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/GatedUpload", clientStreaming: true, serverStreaming: false)
    /// Sums the sizes of uploaded chunks (`registerStreamingCompleting`), on the event loop when
    /// the whole call is here and has at most 3 chunks.
    static let smallInline = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/SmallInline", clientStreaming: true, serverStreaming: false)
    /// Answers the uploaded chunks' bytes joined in the order read, then a byte per request the
    /// handler read after the end (none expected); on the event loop when whole with at most 3 chunks.
    static let joinInline = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/JoinInline", clientStreaming: true, serverStreaming: false)
}

/// Shared observations of the test handlers.
final class Probe: Sendable {
    let gateOpen = Atomic<Bool>(false)
    let gateEntered = Atomic<Int>(0)
    let cancellationsSeen = Atomic<Int>(0)
    let tickerStopped = Atomic<Bool>(false)
    let watchedStarts = Atomic<Int>(0)
    /// Calls of `TestMethods.held` waiting for an answer: their request payload and `respond`.
    let held = Mutex<[(payload: [UInt8], respond: @Sendable (Result<RpcV1.EchoResponse, any Error>) -> Void)]>([])
}

/// A real server on a loopback port chosen by the OS, with the built-ins and the test methods.
final class LoopbackServer: @unchecked Sendable {
    let server: RPCServer
    let secret: DeploymentSecret
    let probe = Probe()

    init(limits: RPCLimits = RPCLimits(), workers: Int = 16, secret: DeploymentSecret = .random(), eventLoops: Int = 2,
         acceptsUnboundPrincipals: Bool = false, authenticator: (any ConnectionAuthenticator)? = nil) throws {
        self.secret = secret
        var router = RPCRouter()
        BuiltinServices.register(in: &router, service: "test") { .serving }
        let probe = self.probe
        router.register(TestMethods.inflate) { request, _ in
            var response = RpcV1.EchoResponse()
            response.payload = [UInt8](repeating: 9, count: Int(request.payload.first ?? 0) * 16 << 10)
            return response
        }
        router.register(TestMethods.sleepy) { request, _ in
            usleep(UInt32(request.payload.first ?? 0) * 1000)
            var response = RpcV1.EchoResponse()
            response.payload = request.payload
            return response
        }
        router.register(TestMethods.gate) { request, context in
            probe.gateEntered.wrappingAdd(1, ordering: .relaxed)
            while !probe.gateOpen.load(ordering: .acquiring) {
                if context.isCancelled {
                    probe.cancellationsSeen.wrappingAdd(1, ordering: .relaxed)
                    throw RPCError(.cancelled, "cancelled")
                }
                usleep(1000)
            }
            var response = RpcV1.EchoResponse()
            response.payload = request.payload
            return response
        }
        router.registerCompleting(TestMethods.later) { request, _, respond in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(request.payload.count % 3))) {
                switch request.payload.first {
                case 1: respond(.failure(RPCError(.failedPrecondition, "refused later")))
                case 2: respond(.failure(CocoaError(.fileNoSuchFile)))
                default:
                    var response = RpcV1.EchoResponse()
                    response.payload = request.payload
                    respond(.success(response))
                }
            }
        }
        router.register(TestMethods.untilCancelled) { request, context in
            while !context.isCancelled { usleep(100) }
            var response = RpcV1.EchoResponse()
            response.payload = request.payload
            return response
        }
        router.registerCompleting(TestMethods.held) { request, _, respond in
            probe.held.withLock { $0.append((request.payload, respond)) }
        }
        router.registerStreaming(TestMethods.ticker) { _, responses, context in
            var n: UInt8 = 0
            defer { probe.tickerStopped.store(true, ordering: .releasing) }
            while !context.isCancelled {
                var response = RpcV1.EchoResponse()
                response.payload = [n]
                n &+= 1
                try responses.send(response)
                usleep(10_000)
            }
            return nil
        }
        router.registerStreaming(TestMethods.upload) { requests, _, _ in
            var total = 0
            while let chunk = try requests.receive() { total += chunk.payload.count }
            var response = RpcV1.EchoResponse()
            response.payload = Array(String(total).utf8)
            return response
        }
        router.registerStreaming(TestMethods.gatedUpload) { requests, _, context in
            while !probe.gateOpen.load(ordering: .acquiring) && !context.isCancelled { usleep(1000) }
            var total = 0
            while let chunk = try requests.receive() { total += chunk.payload.count }
            var response = RpcV1.EchoResponse()
            response.payload = Array(String(total).utf8)
            return response
        }
        router.registerStreaming(TestMethods.watchedUpload) { requests, _, _ in
            probe.watchedStarts.wrappingAdd(1, ordering: .relaxed)
            var total = 0
            while let chunk = try requests.receive() { total += chunk.payload.count }
            var response = RpcV1.EchoResponse()
            response.payload = Array(String(total).utf8)
            return response
        }
        router.registerStreamingCompleting(TestMethods.smallInline, runsInline: { $0.count <= 3 }) { requests, _, respond in
            var total = 0
            do {
                while let chunk = try requests.receive() { total += chunk.payload.count }
            } catch {
                respond(.failure(error))
                return
            }
            var response = RpcV1.EchoResponse()
            response.payload = Array(String(total).utf8)
            respond(.success(response))
        }
        router.registerStreamingCompleting(TestMethods.joinInline, runsInline: { $0.count <= 3 }) { requests, _, respond in
            var joined: [UInt8] = []
            do {
                while let chunk = try requests.receive() { joined += chunk.payload }
                while try requests.receive() != nil { joined.append(0xFF) }
            } catch {
                respond(.failure(error))
                return
            }
            var response = RpcV1.EchoResponse()
            response.payload = joined
            respond(.success(response))
        }
        router.registerStreamingCompleting(TestMethods.uploadLater) { requests, _, respond in
            var total = 0
            var first: UInt8?
            do {
                while let chunk = try requests.receive() {
                    if first == nil { first = chunk.payload.first ?? 0 }
                    total += chunk.payload.count
                }
            } catch {
                respond(.failure(error))
                return
            }
            let sum = total, kind = first
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(sum % 3)) {
                switch kind {
                case 1: respond(.failure(RPCError(.failedPrecondition, "refused later")))
                case 2: respond(.failure(CocoaError(.fileNoSuchFile)))
                default:
                    var response = RpcV1.EchoResponse()
                    response.payload = Array(String(sum).utf8)
                    respond(.success(response))
                }
            }
        }
        var configuration = ServerConfiguration(serviceName: "test", secret: secret)
        configuration.limits = limits
        configuration.workerThreads = workers
        configuration.eventLoops = eventLoops
        configuration.acceptsUnboundPrincipals = acceptsUnboundPrincipals
        configuration.authenticator = authenticator
        server = RPCServer(configuration: configuration, router: router, logger: Logger(service: "test", level: .critical))
        try server.start()
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: server.port) }

    func client(secret: DeploymentSecret? = nil, timeout: Int = 5_000) -> RPCClient {
        var configuration = ClientConfiguration(endpoints: [endpoint], secret: secret ?? self.secret)
        configuration.defaultTimeoutMilliseconds = timeout
        return RPCClient(configuration: configuration)
    }

    deinit { server.shutdown(gracePeriodMilliseconds: 100) }
}

/// A raw TCP peer that speaks frames by hand, to misbehave on purpose.
final class RawPeer: @unchecked Sendable {
    let fd: Int32
    var decoder = FrameDecoder(maxFrameSize: 8 << 20)

    init(port: Int) throws {
        fd = csystem_connect_tcp("127.0.0.1", Int32(port), 2000)
        if fd < 0 { throw RPCError(.unavailable, "connect failed") }
        var tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The server side of a connection a test accepted itself (``RogueServer``); closed with this peer.
    init(accepted: Int32) {
        fd = accepted
        var tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func send(_ frame: RpcV1.Frame) {
        var bytes: [UInt8] = []
        frame.appendLengthPrefixed(to: &bytes)
        send(bytes)
    }

    /// The next frame, or nil when the server closed the connection (or 3 s passed).
    func receive() -> RpcV1.Frame? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let frame = try? decoder.next() { return frame }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            decoder.append(Array(buffer[0..<n]))
        }
    }

    /// True once the server has closed the connection.
    func isClosedByServer() -> Bool {
        while let _ = receive() {}
        return true
    }

    /// Completes the handshake with `secret`.
    func authenticate(_ secret: DeploymentSecret) -> Bool {
        guard let hello = receive(), hello.kind == .hello else { return false }
        let nonce = DeploymentSecret.randomBytes(32)
        var auth = RpcV1.Frame()
        auth.kind = .auth
        auth.payload = nonce + secret.mac(Array("ocorrencias-rpc-v1 client".utf8), hello.payload, nonce)
        send(auth)
        return receive()?.kind == .authOk
    }
}

/// Counts completions of asynchronous calls and lets a test wait for all of them.
final class Completions: @unchecked Sendable {
    private let lock = NSCondition()
    private var results: [Int: Result<[UInt8], RPCError>] = [:]
    private(set) var order: [Int] = []

    func record(_ index: Int, _ result: Result<[UInt8], RPCError>) {
        lock.lock()
        results[index] = result
        order.append(index)
        lock.broadcast()
        lock.unlock()
    }

    func wait(for count: Int, seconds: Double) -> [Int: Result<[UInt8], RPCError>] {
        let limit = Date().addingTimeInterval(seconds)
        lock.lock()
        defer { lock.unlock() }
        while results.count < count && lock.wait(until: limit) {}
        return results
    }
}
