import CSystem
import Foundation
import Messages
import Observability
import RPC
import Synchronization

/// A TCP server for the Ocorrências RPC protocol (docs/PROTOCOL.md).
///
/// Event loops (epoll, one thread each) read, decode and dispatch frames; handlers that block run
/// on a bounded ``WorkerPool``. Every connection authenticates with the deployment secret before
/// any call; limits on frame size, in-flight calls, connections and time apply throughout.
///
/// ```swift
/// var router = RPCRouter()
/// BuiltinServices.register(in: &router, service: "intake", health: { .serving })
/// let server = RPCServer(configuration: config, router: router, logger: logger)
/// try server.start()
/// print("listening on", server.port)
/// server.shutdown()        // GOAWAY, drain, close
/// ```
///
/// A server may also start before its methods are ready (``init(configuration:logger:whileStarting:)``,
/// a service migrating its database) and get them later, on the same socket (``serve(_:)``).
public final class RPCServer: @unchecked Sendable {
    public let configuration: ServerConfiguration
    let logger: Logger
    /// Per-method call counts and latencies.
    public let metrics = RPCMetrics()
    let workers: WorkerPool
    /// Where streaming handlers run (``StreamThreads``), so that streams waiting on their peers
    /// never hold the workers unary calls need.
    let streamThreads: StreamThreads
    /// The methods served, once ``serve(_:)`` (or the initializer) gave them.
    private let servingRoutes = AtomicLazyReference<Routes>()
    /// What answers until then.
    private let startingRoutes: Routes?

    private var loops: [ServerLoop] = []
    private var listenFD: Int32 = -1
    private let connectionCount = Atomic<Int>(0)
    private let nextConnectionID = Atomic<UInt64>(1)
    private let requestPrefix: String
    private let stateLock = ConditionLock()
    // Guarded by stateLock.
    private var phase: Phase = .idle
    private var boundPort = 0

    enum Phase { case idle, running, draining, stopped }

    public init(configuration: ServerConfiguration, router: RPCRouter, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        startingRoutes = nil
        self.workers = WorkerPool(name: "\(configuration.serviceName)-worker", threads: configuration.workerThreads)
        streamThreads = StreamThreads(name: "\(configuration.serviceName)-stream", limit: configuration.limits.maxStreamingHandlers)
        requestPrefix = Digest.hex(DeploymentSecret.randomBytes(4))
        serve(router)
    }

    /// A server that can listen before its methods are ready: until ``serve(_:)`` hands them
    /// over, it answers `Health/Check` `NOT_SERVING` with `whileStarting()`'s reason and every
    /// other call `UNAVAILABLE` saying so, at once and marked as not started (clients may repeat
    /// it, docs/PROTOCOL.md; `status.retry_after_ms` 1000 suggests when), instead of leaving
    /// connections in the listen backlog.
    ///
    /// ```swift
    /// let server = RPCServer(configuration: config, logger: logger) { .init(pt: "migrando o banco", en: "migrating the database") }
    /// try server.start(listeningOn: socket)
    /// migrate()
    /// server.serve(router)
    /// ```
    public init(configuration: ServerConfiguration, logger: Logger, whileStarting: @escaping @Sendable () -> StartingReason) {
        self.configuration = configuration
        self.logger = logger
        startingRoutes = Routes.starting(whileStarting, metrics: metrics)
        self.workers = WorkerPool(name: "\(configuration.serviceName)-worker", threads: configuration.workerThreads)
        streamThreads = StreamThreads(name: "\(configuration.serviceName)-stream", limit: configuration.limits.maxStreamingHandlers)
        requestPrefix = Digest.hex(DeploymentSecret.randomBytes(4))
    }

    /// Starts serving `router`'s methods: calls that arrive from now on, on connections open
    /// already or new, go to them. Once only; a server given its router at init has it already.
    public func serve(_ router: RPCRouter) {
        router.sealForServing()
        let routes = Routes(router: router, metrics: metrics, unknownMethod: nil)
        precondition(servingRoutes.storeIfNil(routes) === routes, "RPCServer.serve called twice")
    }

    /// What answers a call now: the served methods, or the starting answers until then.
    var routes: Routes { servingRoutes.load() ?? startingRoutes! }

    /// The bound port (useful when the configuration asked for port 0).
    public var port: Int { stateLock.withLock { boundPort } }

    /// Binds the socket (unless `listener` was bound already) and starts the event loops.
    /// - Parameter listener: a socket bound beforehand (``ListeningSocket``), which the server
    ///   takes over; nil binds the configuration's host and port now.
    /// - Throws: ``RPCServerError/bindFailed(_:)`` when the address cannot be bound.
    public func start(listeningOn listener: ListeningSocket? = nil) throws {
        csystem_ignore_sigpipe()
        let socket = try listener ?? ListeningSocket(host: configuration.host, port: configuration.port)
        guard let fd = socket.take() else {
            throw RPCServerError.bindFailed("\(socket.address): the socket was already taken")
        }
        listenFD = fd
        stateLock.withLock {
            boundPort = Int(csystem_local_port(fd))
            phase = .running
        }
        for index in 0..<max(1, configuration.eventLoops) {
            let loop = ServerLoop(server: self, index: index, listenFD: fd)
            loops.append(loop)
            loop.start()
        }
        logger.notice("listening", ["address": "\(configuration.host):\(port)", "event_loops": String(loops.count),
                                    "workers": String(configuration.workerThreads)])
    }

    /// Graceful shutdown: stop accepting, send GOAWAY, let in-flight calls finish within the
    /// grace period, then close every connection and stop the threads. Blocks until done.
    public func shutdown(gracePeriodMilliseconds: Int? = nil) {
        let shouldRun = stateLock.withLock { () -> Bool in
            guard phase == .running else { return false }
            phase = .draining
            return true
        }
        guard shouldRun else {
            waitUntilStopped()
            return
        }
        let grace = gracePeriodMilliseconds ?? configuration.shutdownGracePeriodMilliseconds
        logger.notice("draining", ["grace_ms": String(grace)])
        for loop in loops { loop.stopAccepting() }
        Glibc.close(listenFD)
        let deadline = Deadline.after(milliseconds: grace)
        for loop in loops { loop.drainConnections(until: deadline) }
        while !deadline.hasPassed && loops.contains(where: { $0.hasConnections }) {
            usleep(5_000)
        }
        for loop in loops { loop.closeAll() }
        for loop in loops { loop.stop() }
        workers.shutdown()
        stateLock.withLock { phase = .stopped }
        stateLock.broadcast()
        logger.notice("stopped")
    }

    /// Blocks until ``shutdown(gracePeriodMilliseconds:)`` has finished.
    public func waitUntilStopped() {
        stateLock.withLock {
            while phase != .stopped { stateLock.wait() }
        }
    }

    /// Open connections.
    public var openConnections: Int { connectionCount.load(ordering: .relaxed) }

    /// Streaming handlers running now (``RPCLimits/maxStreamingHandlers``).
    public var runningStreamHandlers: Int { streamThreads.count }

    // MARK: internal

    func readBuffer(for loop: EventLoop) -> UnsafeMutableBufferPointer<UInt8> {
        loops.first { $0.loop === loop }!.readBuffer
    }

    func admitConnection() -> Bool {
        let count = connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
        if count > configuration.limits.maxConnections {
            connectionCount.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func makeConnectionID() -> UInt64 { nextConnectionID.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// A request id for a call that came without one: unique per server process.
    func requestID(connection: UInt64, call: UInt64) -> String {
        "\(configuration.serviceName)-\(requestPrefix)-\(connection)-\(call)"
    }

    func connectionClosed(_ connection: ServerConnection, reason: String) {
        connectionCount.wrappingSubtract(1, ordering: .relaxed)
        // Runs on the connection's own loop thread: only that loop's table may be touched here
        // (touching another loop's table raced with its accepts and crashed the process).
        for serverLoop in loops where serverLoop.loop === connection.loop { serverLoop.forget(connection) }
        logger.debug("connection closed", ["connection.id": String(connection.id), "reason": reason])
    }

    func callFinished(connection: ServerConnection) {}
}

/// Why a server that listens is not serving yet, in both languages (``RPCServer/init(configuration:logger:whileStarting:)``).
public struct StartingReason: Sendable, Hashable {
    public var pt: String
    public var en: String

    public init(pt: String, en: String) {
        self.pt = pt
        self.en = en
    }

    /// `"pt / en"`, as health answers and errors carry it.
    public var text: String { "\(pt) / \(en)" }
}

/// A server's methods, and what it answers for a method it does not have.
final class Routes: Sendable {
    let router: RPCRouter
    /// Metrics series per registered method, resolved once.
    let series: [String: MethodSeries]
    /// The answer to a method with no handler; nil: `UNIMPLEMENTED`.
    let unknownMethod: (@Sendable () -> RPCError)?

    init(router: RPCRouter, metrics: RPCMetrics, unknownMethod: (@Sendable () -> RPCError)?) {
        self.router = router
        var series: [String: MethodSeries] = [:]
        for method in router.methods { series[method.path] = metrics.series(for: method.path) }
        self.series = series
        self.unknownMethod = unknownMethod
    }

    /// While starting: `Health/Check` answers `NOT_SERVING` with the reason, on the event loop;
    /// everything else `UNAVAILABLE` with ``ErrorMetadata/retryAfterMilliseconds`` (``startingRetryAfterMilliseconds``).
    static func starting(_ reason: @escaping @Sendable () -> StartingReason, metrics: RPCMetrics) -> Routes {
        var router = RPCRouter()
        router.register(RpcV1.Health.check, execution: .inline) { _, _ in
            var response = RpcV1.HealthCheckResponse()
            response.status = .notServing
            response.detail = reason().text
            return response
        }
        return Routes(router: router, metrics: metrics, unknownMethod: {
            let now = reason()
            return RPCError(.unavailable, "serviço iniciando, tente de novo em instantes: \(now.pt) / service starting, try again shortly: \(now.en)",
                            metadata: [ErrorMetadata.retryAfterMilliseconds: String(startingRetryAfterMilliseconds)])
        })
    }

    /// The wait a starting server suggests to callers (as the gateway's HTTP `Retry-After: 1`).
    static let startingRetryAfterMilliseconds = 1_000

    /// The answer to a call of `method`, which has no handler here.
    func answerForUnknown(_ method: String) -> RPCError {
        unknownMethod?() ?? RPCError(.unimplemented, "método desconhecido / unknown method \(method)")
    }
}

/// Errors starting a server.
public enum RPCServerError: Error, CustomStringConvertible {
    case bindFailed(String)

    public var description: String {
        switch self {
        case .bindFailed(let detail): "cannot listen on \(detail)"
        }
    }
}

/// One event loop of a server, with the connections it owns and its listener registration.
final class ServerLoop: EventLoopSource, @unchecked Sendable {
    let loop: EventLoop
    let readBuffer: UnsafeMutableBufferPointer<UInt8>
    private unowned let server: RPCServer
    private let listenFD: Int32
    private var listenToken: UInt64 = 0
    // Loop-thread state (read from other threads only through `execute`).
    private var connections: [UInt64: ServerConnection] = [:]
    private let count = Atomic<Int>(0)
    /// This loop's connections that had not authenticated when last looked at, oldest first
    /// (pruned every tick): the first to go when a new connection finds the server full.
    private var unauthenticated: [UInt64] = []

    init(server: RPCServer, index: Int, listenFD: Int32) {
        self.server = server
        self.listenFD = listenFD
        loop = EventLoop(name: "\(server.configuration.serviceName)-loop-\(index)")
        readBuffer = .allocate(capacity: 64 * 1024)
    }

    deinit { readBuffer.deallocate() }

    func start() {
        loop.setTick { [self] in
            let now = MonotonicNanos.now()
            for connection in Array(connections.values) { connection.tick(now: now) }
            unauthenticated.removeAll { connections[$0]?.isAuthenticated != false }
        }
        loop.execute { [self] in
            listenToken = loop.register(self, fd: listenFD, events: csystem_epollin | csystem_epollexclusive)
        }
        loop.start()
    }

    var hasConnections: Bool { count.load(ordering: .relaxed) > 0 }

    /// Accepts every pending connection.
    func handleEvents(_ events: UInt32) {
        while true {
            let fd = csystem_accept_nonblocking(listenFD)
            if fd < 0 { return }
            _ = csystem_tune_tcp(fd)
            guard server.admitConnection() || replaceUnauthenticated() || replaceIdle() else {
                var refuse = RpcV1.Frame()
                refuse.kind = .goaway
                refuse.status = RPCError(.resourceExhausted, "limite de conexões atingido / too many connections").status
                var bytes: [UInt8] = []
                refuse.appendLengthPrefixed(to: &bytes)
                _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                Glibc.close(fd)
                server.logger.warning("refused connection: limit reached", ["limit": String(server.configuration.limits.maxConnections)])
                continue
            }
            let connection = ServerConnection(id: server.makeConnectionID(), fd: fd, peer: Self.peerName(fd),
                                              server: server, loop: loop)
            connections[connection.id] = connection
            unauthenticated.append(connection.id)
            count.wrappingAdd(1, ordering: .relaxed)
            connection.start()
        }
    }

    /// At the connection limit: closes this loop's oldest connection that has not authenticated
    /// yet and admits the new one in its place. Peers that cannot prove themselves then cannot
    /// hold every slot (each would be closed after the authentication timeout anyway, but a
    /// stranger opening connections faster than that kept callers of the deployment out); a
    /// genuine peer authenticates in one round trip, long before its turn comes. False when
    /// there is none here (every connection of this loop authenticated).
    private func replaceUnauthenticated() -> Bool {
        while !unauthenticated.isEmpty {
            let id = unauthenticated.removeFirst()
            guard let oldest = connections[id], !oldest.isAuthenticated else { continue }
            oldest.close(reason: "not authenticated, replaced by a new connection at the connection limit")
            return server.admitConnection()
        }
        return false
    }

    /// At the connection limit with no stranger left to replace: closes this loop's authenticated
    /// connection that has had no call for the longest, if longer than
    /// ``RPCLimits/idleReplaceAfterMilliseconds`` (PINGs keep a connection open, not busy), and
    /// admits the new one in its place. A connection with a call in flight is never replaced.
    private func replaceIdle() -> Bool {
        let now = MonotonicNanos.now()
        let threshold = UInt64(server.configuration.limits.idleReplaceAfterMilliseconds) * 1_000_000
        var idlest: (connection: ServerConnection, idle: UInt64)?
        for connection in connections.values {
            guard let idle = connection.idleWithoutCalls(now: now), idle > threshold else { continue }
            if idle > idlest?.idle ?? 0 { idlest = (connection, idle) }
        }
        guard let idlest else { return false }
        server.logger.warning("closing the longest-idle connection at the connection limit",
                              ["connection.id": String(idlest.connection.id), "idle_ms": String(idlest.idle / 1_000_000)])
        idlest.connection.replaceWhileIdle()
        return server.admitConnection()
    }

    func forget(_ connection: ServerConnection) {
        if connections.removeValue(forKey: connection.id) != nil { count.wrappingSubtract(1, ordering: .relaxed) }
    }

    func stopAccepting() {
        runOnLoopAndWait { [self] in loop.deregister(fd: listenFD, token: listenToken) }
    }

    func drainConnections(until deadline: Deadline) {
        runOnLoopAndWait { [self] in for connection in connections.values { connection.beginDraining(until: deadline) } }
    }

    func closeAll() {
        runOnLoopAndWait { [self] in for connection in Array(connections.values) { connection.close(reason: "shutdown") } }
    }

    func stop() { loop.stopAndWait() }

    private func runOnLoopAndWait(_ body: @escaping () -> Void) {
        let done = ConditionLock()
        var finished = false
        loop.execute {
            body()
            done.withLock { finished = true }
            done.broadcast()
        }
        done.withLock { while !finished { done.wait() } }
    }

    private static func peerName(_ fd: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        } == 0
        guard ok else { return "unknown" }
        var host = [CChar](repeating: 0, count: 64)
        var service = [CChar](repeating: 0, count: 16)
        _ = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, 64, &service, 16, NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        let hostText = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let serviceText = String(decoding: service.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(hostText):\(serviceText)"
    }
}
