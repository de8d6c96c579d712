import CSystem
import Foundation
import Messages
import Observability
import RPC

/// One accepted TCP connection: reads and decodes frames on its event loop, authenticates the
/// peer, dispatches calls, and writes responses coming from any thread.
final class ServerConnection: EventLoopSource, @unchecked Sendable {
    let id: UInt64
    let fd: Int32
    let peer: String
    /// Strong: a call's answer may be finished by a thread the server does not own (e.g. intake's
    /// group-commit responder) after the server shut down and its owner let it go; the
    /// connection keeps it alive until then. The cycle through the loop's connection table ends
    /// when the connection closes (``RPCServer/connectionClosed(_:reason:)``).
    private let server: RPCServer
    /// The event loop that owns this connection; every loop-side method runs on its thread.
    let loop: EventLoop
    private var token: UInt64 = 0

    // Loop-thread state.
    private var decoder: FrameDecoder
    private var authenticated = false
    /// An AUTH frame is being checked by the server's authenticator (loop thread only).
    private var authenticating = false
    /// Whether the peer proved itself (loop thread only).
    var isAuthenticated: Bool { authenticated }
    private var serverNonce: [UInt8] = []
    private let openedAt: UInt64
    private var lastActivity: UInt64
    /// When the peer last started or fed a call (or authenticated): PINGs do not count.
    private var lastCallActivity: UInt64
    private var partialFrameSince: UInt64?
    private var closedOnLoop = false
    /// Client-streaming calls whose handler is held back until it has a request to read
    /// (``ServerStream/holdStart(_:)``).
    private var heldStreams: [ServerStream] = []

    // Shared state, guarded by `lock`.
    private let lock = ConditionLock()
    /// Frames queued and not yet taken by a sender, in the order they were queued.
    private var outbound: [UInt8] = []
    /// Whether a thread is writing to the socket now (``flush()``), outside the lock: only that
    /// thread touches `writing`, and the others leave what they queue to it.
    private var sending = false
    /// ``close()`` waits for the sender to finish before it closes the descriptor.
    private var closeWaitsForSender = false
    /// The bytes the sender took out of `outbound` (and, after a write that would block, what is
    /// left of them for the next sender), written from `writingOffset` on. Owned by the thread
    /// that set `sending`; only touched under `lock` otherwise.
    private var writing: [UInt8] = []
    private var writingOffset = 0
    private var corked = false
    private var writeArmed = false
    /// Reading stopped because the connection has as many calls in flight as allowed.
    private var callsPaused = false
    /// Reading stopped because more answers are queued than the peer takes
    /// (``outputHighWater``): a peer that sends and never reads cannot make the server buffer
    /// without bound (PINGs, echoes, any call).
    private var outputPaused = false
    /// Reading stopped while the authenticator checks the peer's AUTH frame on a worker.
    private var authPaused = false
    /// Reading stopped because the connection's streaming calls have more requests buffered than
    /// their handlers took (``RPCLimits/maxBufferedStreamBytesPerConnection``).
    private var bufferPaused = false
    /// Bytes of streaming requests buffered for this connection's handlers (``inboundBuffered(_:)``).
    private var bufferedInbound = 0
    private var readPaused: Bool { callsPaused || outputPaused || authPaused || bufferPaused }
    private var broken = false
    private var calls: [UInt64: ActiveCall] = [:]
    /// Set when the server drains: when its grace period ends (``beginDraining(until:)``).
    private var drainingUntil: Deadline?
    private var draining: Bool { drainingUntil != nil }

    struct ActiveCall {
        let method: String
        let deadline: Deadline
        let startedAt: UInt64
        let state: CallState
        /// The caller's request id, when it sent one.
        let requestID: String?
        let stream: ServerStream?
        let series: MethodSeries?
    }

    /// The name the peer gave in its AUTH frame (`caller` metadata), for logs.
    private(set) var callerName = ""
    /// Metadata a ``ConnectionAuthenticator`` attached to every call of this connection.
    private var connectionMetadata: [String: String]?

    init(id: UInt64, fd: Int32, peer: String, server: RPCServer, loop: EventLoop) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.server = server
        self.loop = loop
        // Until the peer authenticated, only the handshake's small frames are read: a stranger
        // cannot make the server hold a frame-limit's worth of bytes per connection.
        self.decoder = FrameDecoder(maxFrameSize: min(server.configuration.limits.maxFrameSize, Handshake.maxFrameBytes),
                                    shapeLimits: .fromClients)
        openedAt = MonotonicNanos.now()
        lastActivity = openedAt
        lastCallActivity = openedAt
    }

    // MARK: lifecycle (loop thread)

    func start() {
        token = loop.register(self, fd: fd, events: csystem_epollin | csystem_epollrdhup)
        serverNonce = DeploymentSecret.randomBytes(Handshake.nonceLength)
        var hello = RpcV1.Frame()
        hello.kind = .hello
        hello.payload = serverNonce
        hello.metadata = ["service": server.configuration.serviceName]
        send(hello)
    }

    func handleEvents(_ events: UInt32) {
        if events & (csystem_epollerr | csystem_epollhup) != 0 && events & csystem_epollin == 0 {
            close(reason: "peer closed")
            return
        }
        if events & csystem_epollout != 0 { flush() }
        if events & csystem_epollin != 0 { readAvailable() }
        if lock.withLock({ broken }) { close(reason: "write failed") }
    }

    private func readAvailable() {
        let buffer = server.readBuffer(for: loop)
        lock.withLock { corked = true }
        defer {
            lock.withLock { corked = false }
            flush()
        }
        while !closedOnLoop {
            if lock.withLock({ readPaused }) { break }
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                lastActivity = MonotonicNanos.now()
                decoder.append(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[0..<n])))
                processFrames()
                if n < buffer.count { break }
            } else if n == 0 {
                close(reason: "peer closed")
                return
            } else {
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                if errno == EINTR { continue }
                close(reason: "read error \(errno)")
                return
            }
        }
    }

    /// Decodes and handles buffered frames until none is complete or reading is paused.
    private func processFrames() {
        var decodedAny = false
        while !closedOnLoop {
            if lock.withLock({ readPaused }) { break }
            let frame: RpcV1.Frame?
            do {
                frame = try decoder.next()
            } catch .shapeRefused(let callID, let violation) where authenticated {
                // Skipped undecoded; the stream is still in step: the call alone fails.
                let error = FrameDecodingError.shapeRefused(callID: callID, violation)
                server.logger.warning("refused frame: \(error)", ["connection.id": String(id), "peer": peer, "rpc.call_id": String(callID)])
                refuseCall(callID, RPCError(error.statusCode, error.description))
                decodedAny = true
                continue
            } catch {
                server.logger.warning("closing connection: \(error)", ["connection.id": String(id), "peer": peer])
                sendConnectionError(RPCError(error.statusCode, error.description))
                close(reason: error.description)
                return
            }
            guard let frame else { break }
            decodedAny = true
            handle(frame)
        }
        startReadyHandlers()
        // The frame timeout runs from the first byte of the frame now at the front: a frame that
        // completed restarts it (a busy peer whose reads keep ending mid-frame is not slow), and
        // whole frames left unread while reading is paused are not the peer's delay.
        if !decoder.hasIncompleteFrame {
            partialFrameSince = nil
        } else if decodedAny || partialFrameSince == nil {
            partialFrameSince = MonotonicNanos.now()
        }
    }

    private func handle(_ frame: RpcV1.Frame) {
        guard authenticated else {
            authenticate(frame)
            return
        }
        switch frame.kind {
        case .request: startCall(frame)
        case .message: streamMessage(frame)
        case .cancel: cancelCall(frame.callID)
        case .window: lock.withLock { calls[frame.callID]?.stream }?.grant(Int(frame.window))
        case .ping:
            var pong = RpcV1.Frame()
            pong.kind = .pong
            // The same call id (docs/PROTOCOL.md): a client matches its PING's answer by it.
            pong.callID = frame.callID
            pong.payload = frame.payload
            send(pong)
        case .pong, .unspecified: break
        case .goaway:
            close(reason: "client sent GOAWAY")
        case .response, .hello, .auth, .authOk:
            sendConnectionError(RPCError(.invalidArgument, "frame \(frame.kind) not allowed from a client"))
            close(reason: "protocol violation")
        }
    }

    private func authenticate(_ frame: RpcV1.Frame) {
        let secret = server.configuration.secret
        if let authenticator = server.configuration.authenticator {
            guard frame.kind == .auth, !authenticating else {
                return rejectPeer(frame, log: "rejected peer: authenticator refused it", "credencial recusada / credential refused")
            }
            // The check may read a database (the gateway's API keys): on a worker, not on this
            // loop, whose other connections would wait for it. Nothing more is read from the
            // peer until it is done (a client waits for AUTH_OK anyway).
            authenticating = true
            lock.withLock { authPaused = true }
            loop.modify(fd: fd, token: token, events: lock.withLock { interestLocked() })
            let peer = self.peer
            server.workers.submit { [self] in
                let outcome: Result<[String: String]?, RPCError>
                do {
                    outcome = .success(try authenticator.authenticate(metadata: frame.metadata, payload: frame.payload, peer: peer))
                } catch let error as RPCError {
                    outcome = .failure(error)
                } catch {
                    outcome = .success(nil)
                }
                loop.execute { [self] in authenticated(frame, by: authenticator, outcome) }
            }
            return
        }
        if frame.kind == .auth, frame.payload.count == 2 * Handshake.nonceLength {
            let clientNonce = Array(frame.payload[0..<Handshake.nonceLength])
            let mac = Array(frame.payload[Handshake.nonceLength...])
            if secret.verify(mac, Handshake.clientLabel, serverNonce, clientNonce) {
                return acceptPeer(frame, proof: secret.mac(Handshake.serverLabel, clientNonce, serverNonce))
            }
        }
        rejectPeer(frame, log: "rejected unauthenticated peer", "peer did not prove it belongs to the deployment")
    }

    /// The authenticator's answer about `frame`, back on the loop: the peer accepted (reading
    /// resumes) or refused. A connection that closed meanwhile (authentication timeout) gives
    /// back what the authenticator counted for it.
    private func authenticated(_ frame: RpcV1.Frame, by authenticator: any ConnectionAuthenticator,
                               _ outcome: Result<[String: String]?, RPCError>) {
        guard !closedOnLoop else {
            if case .success(let attached?) = outcome { authenticator.connectionClosed(attached: attached) }
            return
        }
        switch outcome {
        case .success(let attached?):
            connectionMetadata = attached
            acceptPeer(frame)
            lock.withLock {
                authPaused = false
                resumeReadingLocked()
            }
            flush()
        case .success(nil):
            rejectPeer(frame, log: "rejected peer: authenticator refused it", "credencial recusada / credential refused")
        case .failure(let error):
            rejectPeer(frame, log: "rejected peer: \(error.message)", error)
        }
    }

    /// The peer proved itself: the connection serves calls from the caller its AUTH frame
    /// names, and AUTH_OK answers (carrying `proof`, the server's MAC, in the shared-secret
    /// handshake).
    private func acceptPeer(_ frame: RpcV1.Frame, proof: [UInt8] = []) {
        authenticated = true
        lastCallActivity = MonotonicNanos.now()
        decoder.maxFrameSize = server.configuration.limits.maxFrameSize
        callerName = frame.metadata[MetadataKey.caller] ?? ""
        var ok = RpcV1.Frame()
        ok.kind = .authOk
        ok.payload = proof
        send(ok)
    }

    /// The peer did not prove itself: logged, answered `UNAUTHENTICATED` with `message`, and
    /// the connection closed.
    private func rejectPeer(_ frame: RpcV1.Frame, log: String, _ message: String) {
        rejectPeer(frame, log: log, RPCError(.unauthenticated, message))
    }

    /// The peer was refused with `error`: logged, answered, the connection closed.
    private func rejectPeer(_ frame: RpcV1.Frame, log: String, _ error: RPCError) {
        server.logger.warning(log, ["connection.id": String(id), "peer": peer])
        var reject = RpcV1.Frame()
        reject.kind = .response
        reject.callID = frame.callID
        reject.status = error.status
        send(reject)
        close(reason: "unauthenticated")
    }

    // MARK: calls

    private func startCall(_ incoming: RpcV1.Frame) {
        lastCallActivity = MonotonicNanos.now()
        let frame = withConnectionMetadata(incoming)
        let limits = server.configuration.limits
        let now = MonotonicNanos.now()
        if let until = lock.withLock({ drainingUntil }) {
            respond(callID: frame.callID, error: Self.drainingError("servidor encerrando / server is draining", until: until))
            return
        }
        // A principal read off the wire works only where it was sent: this service, this method.
        // (With an authenticator the client's principal was dropped: the server attaches its own.)
        if server.configuration.authenticator == nil,
           let refusal = PrincipalBinding.refusal(frame.metadata, secret: server.configuration.secret,
                                                  service: server.configuration.serviceName, method: frame.method,
                                                  acceptingUnbound: server.configuration.acceptsUnboundPrincipals) {
            server.logger.warning("refused call: \(refusal.message)", ["connection.id": String(id), "peer": peer, "rpc.method": frame.method])
            respond(callID: frame.callID, error: refusal)
            return
        }
        let routes = server.routes
        guard let handler = routes.router.handlers[frame.method] ?? routes.router.fallback else {
            respond(callID: frame.callID, error: routes.answerForUnknown(frame.method))
            return
        }
        var timeout = frame.timeoutMs == 0 ? limits.defaultTimeoutMilliseconds : Int(frame.timeoutMs)
        timeout = min(timeout, limits.maxTimeoutMilliseconds)
        let deadline = Deadline(uptimeNanoseconds: now &+ UInt64(timeout) &* 1_000_000)
        let state = CallState()
        var stream: ServerStream?
        switch handler {
        case .streaming(let clientStreaming, _, _):
            let s = ServerStream(callID: frame.callID, deadline: deadline, state: state, connection: self)
            if !clientStreaming { _ = s.deliver(frame.payload, end: true) } else if frame.endStream { _ = s.deliver(nil, end: true) }
            stream = s
        case .streamingCompleting:
            let s = ServerStream(callID: frame.callID, deadline: deadline, state: state, connection: self)
            if frame.endStream { _ = s.deliver(nil, end: true) }
            stream = s
        case .unary, .completing: break
        }
        let call = ActiveCall(method: frame.method, deadline: deadline, startedAt: now, state: state,
                              requestID: RequestIDs.accepted(frame.metadata[MetadataKey.requestID]), stream: stream,
                              series: routes.series[frame.method])
        let duplicate: Bool = lock.withLock {
            if calls[frame.callID] != nil { return true }
            calls[frame.callID] = call
            if calls.count >= limits.maxInFlightPerConnection && !callsPaused {
                callsPaused = true
                loop.modify(fd: fd, token: token, events: interestLocked())
            }
            return false
        }
        if duplicate {
            respond(callID: frame.callID, error: RPCError(.invalidArgument, "call id \(frame.callID) already in flight"))
            return
        }
        // At debug level, each call as it is taken (its end is logged as "call finished"): a call
        // that hangs shows as started and never finished, and from here on a CANCEL finds it.
        if server.logger.isEnabled(.debug) {
            server.logger.debug("call started", ["rpc.method": frame.method, "rpc.call_id": String(frame.callID),
                                                 "connection.id": String(id), "caller": callerName])
        }
        let connectionID = id
        let callID = frame.callID
        let server = self.server
        let context = ServerContext(method: frame.method, callID: frame.callID, metadata: frame.metadata, deadline: deadline,
                                    peer: peer, logger: server.logger, state: state,
                                    generatedRequestID: { server.requestID(connection: connectionID, call: callID) })
        switch handler {
        case .unary(.inline, let body):
            let outcome = Self.run { try frame.payload.withUnsafeBytes { try body($0, context) } }
            finish(callID: frame.callID, outcome: outcome)
        case .unary(.blocking, let body):
            let payload = frame.payload
            server.workers.submit { [self] in
                let outcome: Result<[UInt8], RPCError>
                if context.isCancelled {
                    outcome = .failure(RPCError(.deadlineExceeded, "prazo esgotado antes do início / deadline passed before start"))
                } else {
                    outcome = Self.run { try payload.withUnsafeBytes { try body($0, context) } }
                }
                finish(callID: frame.callID, outcome: outcome)
            }
        case .completing(let body):
            frame.payload.withUnsafeBytes { bytes in
                body(bytes, context) { [self] outcome in finish(callID: callID, outcome: outcome) }
            }
        case .streaming(let clientStreaming, let serverStreaming, let body):
            let stream = stream!
            let start: @Sendable () -> Void = { [self] in
                startStreamHandler(callID: callID) { [self] in
                    let outcome = Self.run { try body(stream, context) ?? [] }
                    finish(callID: callID, outcome: outcome)
                }
            }
            // A bidirectional handler may speak first: it starts at once.
            if clientStreaming && !serverStreaming { hold(start, of: stream) } else { start() }
        case .streamingCompleting(let inline, let body):
            let stream = stream!
            let run: @Sendable () -> Void = { [self] in
                body(stream, context) { [self] outcome in finish(callID: callID, outcome: outcome) }
            }
            hold({ [self] in
                // All of a small call here already, and the handler serves it without blocking.
                if let inline, inline(stream) { run() } else { startStreamHandler(callID: callID, run) }
            }, of: stream)
        }
    }

    /// Runs a streaming handler on a thread of its own (``StreamThreads``): it waits on the peer
    /// for as long as the call lasts, which must not hold a worker. Over the server's limit the
    /// call ends with `RESOURCE_EXHAUSTED` instead.
    private func startStreamHandler(callID: UInt64, _ work: @escaping @Sendable () -> Void) {
        guard server.streamThreads.start(work) else {
            finish(callID: callID, outcome: .failure(RPCError(
                .resourceExhausted,
                "fluxos demais em andamento neste servidor (\(server.streamThreads.limit)) / too many streams in progress on this server (\(server.streamThreads.limit))",
                metadata: [ErrorMetadata.retryAfterMilliseconds: "1000"])))
            return
        }
    }

    /// Holds back the start of a client-streaming call's handler until it has a request to read
    /// (or the stream ended): ``startReadyHandlers()`` starts it once the frames read so far are
    /// handled. A small upload whose frames arrive together then wakes a worker once, which
    /// reads it all without waiting, instead of a worker woken by the REQUEST and again by each
    /// later frame. A call that ends before (cancelled, expired, connection closed) never starts
    /// its handler.
    private func hold(_ start: @escaping @Sendable () -> Void, of stream: ServerStream) {
        stream.holdStart(start)
        heldStreams.append(stream)
    }

    /// Starts the held handlers that have something to read; forgets those of calls that ended.
    private func startReadyHandlers() {
        guard !heldStreams.isEmpty else { return }
        heldStreams.removeAll { stream in
            switch stream.takeHeldStart() {
            case .ready(let start):
                start()
                return true
            case .gone: return true
            case .waiting: return false
            }
        }
    }

    /// With a ``ConnectionAuthenticator``: the client's principal is dropped and the
    /// authenticator's metadata wins over the client's.
    private func withConnectionMetadata(_ frame: RpcV1.Frame) -> RpcV1.Frame {
        guard let attached = connectionMetadata else { return frame }
        var frame = frame
        frame.metadata[MetadataKey.principal] = nil
        frame.metadata[MetadataKey.principalSignature] = nil
        for (key, value) in attached { frame.metadata[key] = value }
        return frame
    }

    private static func run(_ body: () throws -> [UInt8]) -> Result<[UInt8], RPCError> {
        do { return .success(try body()) } catch {
            return .failure(HandlerErrorTranslation.answer(for: error))
        }
    }

    private func streamMessage(_ frame: RpcV1.Frame) {
        lastCallActivity = MonotonicNanos.now()
        guard let stream = lock.withLock({ calls[frame.callID]?.stream }) else { return }
        let accepted = frame.endStream ? stream.deliver(nil, end: true) : stream.deliver(frame.payload, end: false)
        if !accepted {
            expire(callID: frame.callID, error: RPCError(.resourceExhausted, "janela de fluxo excedida / flow-control window exceeded"))
        }
    }

    /// Ends call `callID` with `error`: the call in flight under that id, or the one its refused
    /// REQUEST would have opened.
    private func refuseCall(_ callID: UInt64, _ error: RPCError) {
        if lock.withLock({ calls[callID] != nil }) {
            expire(callID: callID, error: error)
        } else {
            respond(callID: callID, error: error)
        }
    }

    private func cancelCall(_ callID: UInt64) {
        let call = lock.withLock { () -> ActiveCall? in
            let call = calls.removeValue(forKey: callID)
            resumeReadingIfPossibleLocked()
            return call
        }
        guard let call else { return }
        call.state.cancel()
        call.stream?.interrupt(RPCError(.cancelled, "chamada cancelada / call cancelled"))
        call.stream?.release()
        logCall(call, callID: callID, code: .cancelled)
    }

    /// Ends a call with `error` now (deadline, flow-control violation); the handler's later result is dropped.
    private func expire(callID: UInt64, error: RPCError) {
        let (call, write) = lock.withLock { () -> (ActiveCall?, Bool) in
            guard let call = calls.removeValue(forKey: callID) else { return (nil, false) }
            var frame = RpcV1.Frame()
            frame.kind = .response
            frame.callID = callID
            frame.status = error.status
            frame.appendLengthPrefixed(to: &outbound)
            pauseReadingIfBackloggedLocked()
            resumeReadingIfPossibleLocked()
            return (call, !corked)
        }
        if write { flush() }
        guard let call else { return }
        call.state.cancel()
        call.stream?.interrupt(error)
        call.stream?.release()
        logCall(call, callID: callID, code: error.code, cause: error.metadata[RPCError.causeKey])
    }

    /// Sends the final RESPONSE of a call, unless it was cancelled or expired meanwhile. Any thread.
    func finish(callID: UInt64, outcome: Result<[UInt8], RPCError>) {
        var frame = RpcV1.Frame()
        frame.kind = .response
        frame.callID = callID
        // An answer over the frame limit would make the client close the connection, failing
        // every other call on it: this call fails alone instead (the exact size is only worked
        // out for a payload near the limit).
        var outcome = outcome
        let limit = server.configuration.limits.maxFrameSize
        if case .success(let payload) = outcome, payload.count > limit - 1_024 {
            var probe = frame
            probe.payload = payload
            let size = probe.serializedBytes().count
            if size > limit { outcome = .failure(RPCError.responseTooLarge(bytes: size, limit: limit)) }
        }
        let (call, write) = lock.withLock { () -> (ActiveCall?, Bool) in
            guard let call = calls.removeValue(forKey: callID) else { return (nil, false) }
            switch outcome {
            case .success where call.deadline.hasPassed:
                // A handler that stopped because its deadline passed and returned as if done (a
                // server stream ended early): the call timed out, it did not succeed. The tick
                // would have said so moments later; a client must not take a cut stream as whole.
                frame.status = RPCError(.deadlineExceeded, "prazo da chamada esgotado / deadline exceeded").status
            case .success(let payload): frame.payload = payload
            case .failure(let error) where call.deadline.hasPassed && error.code == .cancelled:
                // A handler that stopped because its deadline passed reports that, not "cancelled".
                frame.status = RPCError(.deadlineExceeded, "prazo da chamada esgotado / deadline exceeded").status
            case .failure(let error): frame.status = error.status
            }
            var write = false
            if !broken {
                frame.appendLengthPrefixed(to: &outbound)
                pauseReadingIfBackloggedLocked()
                write = !corked && !RPCResponses.deferFlush(self)
            }
            resumeReadingIfPossibleLocked()
            return (call, write)
        }
        // Written outside the lock: the event loop reading this connection's next request (which
        // the answer's caller may send before `send` here returns) does not wait for it.
        if write { flush() }
        guard let call else { return }
        call.stream?.release()
        if case .failure(let error) = outcome { call.stream?.interrupt(error) }
        var cause: String?
        if case .failure(let error) = outcome { cause = error.metadata[RPCError.causeKey] }
        logCall(call, callID: callID, code: outcome.errorCode, cause: cause)
        server.callFinished(connection: self)
    }

    /// - Parameter cause: what a handler threw that is not an ``RPCError`` (``RPCError/causeKey``),
    ///   logged as `error` so that an `INTERNAL` answer says why in the log.
    private func logCall(_ call: ActiveCall, callID: UInt64, code: RPCStatusCode, cause: String? = nil) {
        let elapsed = MonotonicNanos.now() &- call.startedAt
        call.series?.record(code: code.rawValue, nanoseconds: elapsed)
        let level: Logger.Level = code == .ok ? .info : (code == .internal || code == .unknown ? .error : .notice)
        guard server.logger.isEnabled(level) else { return }
        var fields = [
            "rpc.method": call.method, "rpc.call_id": String(callID),
            "request.id": call.requestID ?? server.requestID(connection: id, call: callID),
            "rpc.status": code.name, "duration_us": String(elapsed / 1_000), "connection.id": String(id),
            "caller": callerName,
        ]
        if let cause { fields["error"] = cause }
        server.logger.log(level, "call finished", fields)
    }

    private func respond(callID: UInt64, error: RPCError) {
        var frame = RpcV1.Frame()
        frame.kind = .response
        frame.callID = callID
        frame.status = error.status
        send(frame)
    }

    private func sendConnectionError(_ error: RPCError) {
        var frame = RpcV1.Frame()
        frame.kind = .goaway
        frame.status = error.status
        send(frame)
    }

    // MARK: writing (any thread)

    /// Queues a frame and writes it now unless the loop is batching reads.
    func send(_ frame: RpcV1.Frame) {
        let write = lock.withLock { () -> Bool in
            guard !broken else { return false }
            frame.appendLengthPrefixed(to: &outbound)
            pauseReadingIfBackloggedLocked()
            return !corked
        }
        if write { flush() }
    }

    /// A MESSAGE frame of a server stream; false when the call or connection is gone.
    func sendMessage(callID: UInt64, payload: [UInt8]) -> Bool {
        var frame = RpcV1.Frame()
        frame.kind = .message
        frame.callID = callID
        frame.payload = payload
        let (queued, write) = lock.withLock { () -> (Bool, Bool) in
            guard !broken, calls[callID] != nil else { return (false, false) }
            frame.appendLengthPrefixed(to: &outbound)
            pauseReadingIfBackloggedLocked()
            return (true, !corked)
        }
        if write { flush() }
        return queued
    }

    /// Streaming requests were buffered for a handler (`delta` > 0) or taken or dropped (< 0).
    /// Past the connection's budget reading stops; it resumes once half of it was taken. Any thread.
    func inboundBuffered(_ delta: Int) {
        lock.withLock {
            bufferedInbound += delta
            let budget = server.configuration.limits.maxBufferedStreamBytesPerConnection
            if delta > 0 && !bufferPaused && !broken && bufferedInbound > budget {
                bufferPaused = true
                loop.modify(fd: fd, token: token, events: interestLocked())
            } else if delta < 0 && bufferPaused && bufferedInbound <= budget / 2 {
                bufferPaused = false
                resumeReadingLocked()
            }
        }
    }

    /// Bytes of streaming requests buffered and not taken by their handlers (tests).
    var bufferedInboundBytes: Int { lock.withLock { bufferedInbound } }

    func sendWindow(callID: UInt64, count: Int) {
        var frame = RpcV1.Frame()
        frame.kind = .window
        frame.callID = callID
        frame.window = UInt32(count)
        send(frame)
    }

    /// Writes what ``RPCResponses/flushingOnce(_:)`` left queued (unless the loop is batching
    /// reads, which writes it when it is done). Any thread.
    func flushDeferred() {
        flush()
    }

    /// Writes the queued frames, without holding `lock` during the `send`s. Any thread.
    ///
    /// One sender at a time: a thread that finds another one sending leaves its frames to it (the
    /// sender takes what was queued meanwhile before it stops, so frames go out in the order
    /// they were queued), as does one that finds the loop batching reads (the loop writes when
    /// it is done). A write that would block arms `EPOLLOUT`, and the loop continues from there.
    private func flush() {
        lock.lock()
        defer { lock.unlock() }
        guard !sending && !corked && !broken else { return }
        sending = true
        writeQueuedLocked()
        sending = false
        if closeWaitsForSender { lock.broadcast() }
    }

    /// The sender's loop (lock held, `sending` set by the caller): takes the queued bytes, writes
    /// them with the lock released, and goes on until nothing is queued, the socket would block,
    /// or the connection broke. Returns with the lock held.
    private func writeQueuedLocked() {
        while !broken {
            if writingOffset == writing.count {
                writing.removeAll(keepingCapacity: writing.capacity <= 1 << 20)
                writingOffset = 0
                if outbound.isEmpty { break }
                swap(&writing, &outbound)
            }
            lock.unlock()
            let n = writing.withUnsafeBytes { bytes in
                Glibc.send(fd, bytes.baseAddress! + writingOffset, bytes.count - writingOffset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            let error = errno
            lock.lock()
            if n > 0 {
                writingOffset += n
                if outputPaused && pendingOutputLocked <= outputHighWater / 2 {
                    outputPaused = false
                    resumeReadingLocked()
                }
            } else if n < 0 && (error == EAGAIN || error == EWOULDBLOCK) {
                if !writeArmed {
                    writeArmed = true
                    loop.modify(fd: fd, token: token, events: interestLocked())
                }
                return
            } else if n < 0 && error == EINTR {
                continue
            } else {
                broken = true
                return
            }
        }
        if writeArmed && writingOffset == writing.count && outbound.isEmpty {
            writeArmed = false
            loop.modify(fd: fd, token: token, events: interestLocked())
        }
    }

    private func interestLocked() -> UInt32 {
        // Not reading: not even the peer's half-close (level-triggered, it would wake the loop
        // again and again while the connection waits); EPOLLHUP and EPOLLERR still come.
        (readPaused ? 0 : csystem_epollin | csystem_epollrdhup) | (writeArmed ? csystem_epollout : 0)
    }

    private func resumeReadingIfPossibleLocked() {
        guard callsPaused, calls.count < server.configuration.limits.maxInFlightPerConnection else { return }
        callsPaused = false
        resumeReadingLocked()
    }

    /// Bytes queued for the peer and not written yet.
    private var pendingOutputLocked: Int { outbound.count + writing.count - writingOffset }

    /// Queued output past which the connection is not read until half of it went out: one
    /// frame's worth (the frame limit), at least 1 MiB.
    private var outputHighWater: Int { max(server.configuration.limits.maxFrameSize, 1 << 20) }

    /// Stops reading while more is queued for the peer than ``outputHighWater`` (TCP then pushes
    /// back on a peer that sends without reading); ``writeQueuedLocked()`` reads again once half
    /// of it went out. Deadlines still fire meanwhile.
    private func pauseReadingIfBackloggedLocked() {
        guard !outputPaused, !broken, pendingOutputLocked > outputHighWater else { return }
        outputPaused = true
        loop.modify(fd: fd, token: token, events: interestLocked())
    }

    /// Reads again unless another reason still holds reading back.
    private func resumeReadingLocked() {
        guard !readPaused, !broken else { return }
        loop.modify(fd: fd, token: token, events: interestLocked())
        // Frames already buffered would not wake epoll again: handle them on the loop.
        loop.execute { [self] in
            // The peer could not send while it was not read: its frame's time starts again.
            partialFrameSince = nil
            lock.withLock { corked = true }
            processFrames()
            lock.withLock { corked = false }
            flush()
        }
    }

    // MARK: timers and shutdown (loop thread)

    /// Expires calls past their deadline and closes idle, slow or unauthenticated connections.
    func tick(now: UInt64) {
        guard !closedOnLoop else { return }
        let limits = server.configuration.limits
        if !authenticated && now &- openedAt > UInt64(limits.authenticationTimeoutMilliseconds) * 1_000_000 {
            close(reason: "authentication timeout")
            return
        }
        if let since = partialFrameSince, !lock.withLock({ readPaused }),
           now &- since > UInt64(limits.frameCompletionTimeoutMilliseconds) * 1_000_000 {
            server.logger.warning("closing connection: frame not completed in time", ["connection.id": String(id), "peer": peer])
            close(reason: "frame timeout")
            return
        }
        let expired: [UInt64] = lock.withLock {
            calls.isEmpty ? [] : calls.compactMap { $0.value.deadline.uptimeNanoseconds <= now ? $0.key : nil }
        }
        for callID in expired {
            expire(callID: callID, error: RPCError(.deadlineExceeded, "prazo da chamada esgotado / deadline exceeded"))
        }
        startReadyHandlers()
        let (idle, isDraining, broken) = lock.withLock { (calls.isEmpty, draining, self.broken) }
        if broken {
            close(reason: "write failed")
        } else if idle && isDraining {
            close(reason: "drained")
        } else if idle && now &- lastActivity > UInt64(limits.idleTimeoutMilliseconds) * 1_000_000 {
            sendConnectionError(RPCError(.unavailable, "conexão ociosa / idle connection closed"))
            close(reason: "idle")
        }
    }

    /// Sends GOAWAY and refuses new calls; the connection closes once its calls finish, at the
    /// latest when the server's grace period ends (`until`).
    func beginDraining(until: Deadline) {
        let alreadyDraining = lock.withLock { () -> Bool in
            defer { if drainingUntil == nil { drainingUntil = until } }
            return draining
        }
        if !alreadyDraining && authenticated {
            var goaway = RpcV1.Frame()
            goaway.kind = .goaway
            goaway.status = Self.drainingError("servidor encerrando / server is shutting down", until: until).status
            send(goaway)
        }
    }

    /// The `UNAVAILABLE` of a draining server: the call was not started, and this server is gone
    /// when its grace period ends (`until`), which it says as ``ErrorMetadata/retryAfterMilliseconds``
    /// (the earliest a restarted instance can answer here; another instance may answer at once).
    static func drainingError(_ message: String, until: Deadline) -> RPCError {
        RPCError(.unavailable, message, metadata: [ErrorMetadata.retryAfterMilliseconds: String(max(1, until.remainingMilliseconds))])
    }

    var inFlightCount: Int { lock.withLock { calls.count } }

    /// How long this authenticated connection has had no call in flight and started none (its
    /// PINGs aside); `nil` while it has calls, or before it authenticated. Loop thread.
    func idleWithoutCalls(now: UInt64) -> UInt64? {
        guard authenticated, !closedOnLoop, lock.withLock({ calls.isEmpty }) else { return nil }
        return now &- lastCallActivity
    }

    /// Closed to make room at the connection limit (``idleWithoutCalls(now:)``): told why with
    /// GOAWAY `UNAVAILABLE` (a client reconnects when it has a call to make). Loop thread.
    func replaceWhileIdle() {
        sendConnectionError(RPCError(.unavailable,
            "conexão ociosa encerrada: servidor no limite de conexões / idle connection closed: server at its connection limit"))
        close(reason: "idle, replaced by a new connection at the connection limit")
    }

    func close(reason: String) {
        guard !closedOnLoop else { return }
        closedOnLoop = true
        let remaining = lock.withLock { () -> [ActiveCall] in
            // What is queued goes out first (a last GOAWAY or error), then nothing more: once
            // no thread is sending, no `send` can reach the descriptor after it is closed (and
            // its number perhaps given to another connection).
            closeWaitsForSender = true
            while sending { lock.wait() }
            if !broken {
                sending = true
                writeQueuedLocked()
                sending = false
            }
            broken = true
            let all = Array(calls.values)
            calls.removeAll()
            return all
        }
        for call in remaining {
            call.state.cancel()
            call.stream?.interrupt(RPCError(.unavailable, "conexão encerrada / connection closed"))
            call.stream?.release()
        }
        heldStreams.removeAll()
        if authenticated, let attached = connectionMetadata { server.configuration.authenticator?.connectionClosed(attached: attached) }
        loop.deregister(fd: fd, token: token)
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        server.connectionClosed(self, reason: reason)
    }
}

extension Result where Failure == RPCError {
    var errorCode: RPCStatusCode {
        switch self {
        case .success: .ok
        case .failure(let error): error.code
        }
    }
}
