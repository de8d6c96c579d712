import CSystem
import Foundation
import Messages
import RPC

/// Metadata keys the client sets on errors it synthesises, so the pool knows whether a retry is safe.
enum TransportMetadata {
    /// "false" when the request never left this process: retrying cannot apply it twice.
    static let sent = RPCError.sentKey
}

/// One authenticated TCP connection to a server, multiplexing many calls.
///
/// Calls are written by the calling thread; a reader thread decodes responses and completes calls
/// in any order, and expires calls whose deadline passes (sending CANCEL to the server).
final class ClientConnection: @unchecked Sendable {
    typealias Completion = @Sendable (Result<[UInt8], RPCError>) -> Void

    enum Pending {
        case unary(method: String, deadline: Deadline, completion: Completion)
        case stream(ClientStream)
        case ping(Completion)
    }

    let endpoint: Endpoint
    private let fd: Int32
    private let maxFrameSize: Int
    /// With the deployment-secret handshake: the secret and the service the server's HELLO named,
    /// to bind each call's principal to its service and method (``PrincipalBinding``).
    private var binding: (secret: DeploymentSecret, service: String)?
    private let stateLock = ConditionLock()
    // Guarded by stateLock.
    private var pending: [UInt64: Pending] = [:]
    private var nextCallID: UInt64 = 1
    private var closed = false
    private var draining = false
    private var closeError = RPCError(.unavailable, "conexão encerrada / connection closed")
    // Guarded by writeLock.
    private let writeLock = ConditionLock()
    private var writeBuffer: [UInt8] = []
    // Reader-thread state.
    private var readerThread: pthread_t?
    private var inReaderBatch = false
    private var corkBuffer: [UInt8] = []

    /// Below the limit by more than this, a request's payload cannot make its frame pass the
    /// limit (the method name, metadata and signed principal take far less).
    static let frameSizeMargin = 64 << 10

    private init(endpoint: Endpoint, fd: Int32, maxFrameSize: Int) {
        self.endpoint = endpoint
        self.fd = fd
        self.maxFrameSize = maxFrameSize
    }

    deinit { Glibc.close(fd) }

    /// Connects, authenticates both ways with `secret` and starts the reader thread.
    /// - Throws: ``RPCError`` `UNAVAILABLE` when unreachable, `UNAUTHENTICATED` when the handshake fails.
    static func connect(to endpoint: Endpoint, secret: DeploymentSecret, timeoutMilliseconds: Int,
                        maxFrameSize: Int, callerName: String, apiKey: String? = nil) throws -> ClientConnection {
        csystem_ignore_sigpipe()
        let fd = csystem_connect_tcp(endpoint.host, Int32(endpoint.port), Int32(timeoutMilliseconds))
        guard fd >= 0 else {
            throw RPCError(.unavailable, "não foi possível conectar a \(endpoint) / cannot connect to \(endpoint): \(String(cString: strerror(errno)))",
                           metadata: [TransportMetadata.sent: "false"])
        }
        let connection = ClientConnection(endpoint: endpoint, fd: fd, maxFrameSize: maxFrameSize)
        do {
            try connection.handshake(secret: secret, timeoutMilliseconds: timeoutMilliseconds, callerName: callerName, apiKey: apiKey)
        } catch let error as RPCError {
            var error = error
            error.metadata[TransportMetadata.sent] = "false"
            throw error
        }
        connection.startReader()
        return connection
    }

    // MARK: handshake

    private func handshake(secret: DeploymentSecret, timeoutMilliseconds: Int, callerName: String, apiKey: String?) throws {
        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        let deadline = Deadline.after(milliseconds: timeoutMilliseconds)
        let hello = try readFrame(&decoder, deadline: deadline)
        if hello.kind == .goaway {
            throw RPCError(RPCError(status: hello.status)?.code ?? .unavailable, RPCError(status: hello.status)?.message ?? "refused")
        }
        guard hello.kind == .hello, hello.payload.count == Handshake.nonceLength else {
            throw RPCError(.unauthenticated, "servidor não enviou HELLO / server did not send HELLO")
        }
        let clientNonce = DeploymentSecret.randomBytes(Handshake.nonceLength)
        if let apiKey {
            // The gateway's public RPC port: the key itself is the credential (see docs/GATEWAY.md).
            var auth = RpcV1.Frame()
            auth.kind = .auth
            auth.metadata = [MetadataKey.caller: callerName, MetadataKey.apiKey: apiKey]
            auth.payload = clientNonce
            try writeFrame(auth)
            let ok = try readFrame(&decoder, deadline: deadline)
            guard ok.kind == .authOk else {
                // A refusal that says why (too many connections with this key) is passed on.
                let refusal = RPCError(status: ok.status)
                if let refusal, refusal.code != .unauthenticated { throw refusal }
                // A key refused for a reason the gateway states (its maker is disabled) says it.
                let reason = refusal.map(\.message).flatMap { $0.isEmpty || $0 == "credencial recusada / credential refused" ? nil : $0 }
                throw RPCError(.unauthenticated, "chave de API recusada / API key refused" + (reason.map { ": \($0)" } ?? ""))
            }
            return
        }
        binding = (secret, hello.metadata[MetadataKey.service] ?? "")
        var auth = RpcV1.Frame()
        auth.kind = .auth
        auth.metadata = [MetadataKey.caller: callerName]
        auth.payload = clientNonce + secret.mac(Handshake.clientLabel, hello.payload, clientNonce)
        try writeFrame(auth)
        let ok = try readFrame(&decoder, deadline: deadline)
        guard ok.kind == .authOk, secret.verify(ok.payload, Handshake.serverLabel, clientNonce, hello.payload) else {
            throw RPCError(.unauthenticated, "servidor não provou o segredo da implantação / server did not prove the deployment secret")
        }
    }

    private func readFrame(_ decoder: inout FrameDecoder, deadline: Deadline) throws -> RpcV1.Frame {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            do {
                if let frame = try decoder.next() { return frame }
            } catch {
                throw RPCError(.unavailable, error.description)
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(max(1, deadline.remainingMilliseconds)))
            if ready <= 0 { throw RPCError(.unavailable, "tempo esgotado no handshake / handshake timed out") }
            // Read one byte at a time past the handshake frames? No: the server sends nothing
            // else before AUTH_OK, so whatever arrives belongs to them.
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
            if n <= 0 { throw RPCError(.unavailable, "conexão encerrada no handshake / connection closed during handshake") }
            buffer.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    // MARK: sending

    /// True while the connection can take new calls.
    var isUsable: Bool { stateLock.withLock { !closed && !draining } }

    /// Calls in flight.
    var pendingCount: Int { stateLock.withLock { pending.count } }

    /// Starts a call that one response completes (a unary call, or a client-streaming one whose
    /// requests are all at hand); `completion` runs once, on the reader thread or the calling thread.
    /// - Returns: the call's id on this connection (for ``cancel(callID:error:)``), `nil` when it
    ///   was not sent (the completion already ran).
    @discardableResult
    func startUnary(method: String, request: OutgoingRequest, metadata: [String: String], deadline: Deadline,
                    completion: @escaping Completion) -> UInt64? {
        if case .stream(let messages) = request { precondition(messages.count <= RPCProtocol.initialStreamWindow) }
        let callID: UInt64? = stateLock.withLock {
            guard !closed && !draining else { return nil }
            let id = nextCallID
            nextCallID += 1
            pending[id] = .unary(method: method, deadline: deadline, completion: completion)
            return id
        }
        guard let callID else {
            completion(.failure(RPCError(.unavailable, "conexão indisponível / connection unavailable",
                                         metadata: [TransportMetadata.sent: "false"])))
            return nil
        }
        var frame = RpcV1.Frame()
        frame.kind = .request
        frame.callID = callID
        frame.method = method
        frame.timeoutMs = UInt32(clamping: max(1, deadline.remainingMilliseconds))
        frame.metadata = bound(metadata, method: method)
        let written: Bool
        switch request {
        case .message(let payload):
            frame.payload = payload
            frame.endStream = true
            // A frame over the server's limit would make it close the connection, failing every
            // other call on it: refuse this call alone, before sending (the exact size is only
            // worked out for a payload near the limit).
            if payload.count > maxFrameSize - Self.frameSizeMargin, case let size = frame.serializedBytes().count, size > maxFrameSize {
                return failUnsent(callID, RPCError.requestTooLarge(bytes: size, limit: maxFrameSize))
            }
            written = write(frame)
        case .stream(let messages):
            var frames = [frame]
            for message in messages { frames.append(ClientStream.messageFrame(callID: callID, message)) }
            frames.append(ClientStream.endFrame(callID: callID))
            written = write(frames)
        }
        if !written {
            return failUnsent(callID, RPCError(.unavailable, "falha ao enviar / send failed", metadata: [TransportMetadata.sent: "false"]))
        }
        return callID
    }

    /// Completes the unary call `callID`, which was not sent, with `error`; returns nil (the
    /// "not sent" answer of ``startUnary(method:request:metadata:deadline:completion:)``).
    private func failUnsent(_ callID: UInt64, _ error: RPCError) -> UInt64? {
        if let entry = stateLock.withLock({ pending.removeValue(forKey: callID) }), case .unary(_, _, let completion) = entry {
            completion(.failure(error))
        }
        return nil
    }

    /// Opens a streaming call. For a client-streaming call, `leading` requests (at most the
    /// flow-control window) and, with `endingStream`, the end of its stream leave in the same
    /// write as the REQUEST.
    func startStream(method: String, clientStreaming: Bool, firstMessage: [UInt8]?, leading: [[UInt8]] = [], endingStream: Bool = false,
                     metadata: [String: String], deadline: Deadline) throws -> ClientStream {
        precondition(leading.count <= RPCProtocol.initialStreamWindow && (clientStreaming || (leading.isEmpty && !endingStream)))
        let stream: ClientStream? = stateLock.withLock {
            guard !closed && !draining else { return nil }
            let id = nextCallID
            nextCallID += 1
            let stream = ClientStream(callID: id, deadline: deadline, connection: self, clientStreaming: clientStreaming,
                                      sentAhead: leading.count, sendClosed: endingStream)
            pending[id] = .stream(stream)
            return stream
        }
        guard let stream else {
            throw RPCError(.unavailable, "conexão indisponível / connection unavailable", metadata: [TransportMetadata.sent: "false"])
        }
        var frame = RpcV1.Frame()
        frame.kind = .request
        frame.callID = stream.callID
        frame.method = method
        frame.timeoutMs = UInt32(clamping: max(1, deadline.remainingMilliseconds))
        frame.metadata = bound(metadata, method: method)
        if let firstMessage {
            frame.payload = firstMessage
            frame.endStream = true
        }
        var frames = [frame]
        for message in leading { frames.append(ClientStream.messageFrame(callID: stream.callID, message)) }
        if endingStream { frames.append(ClientStream.endFrame(callID: stream.callID)) }
        guard write(frames) else {
            _ = stateLock.withLock { pending.removeValue(forKey: stream.callID) }
            throw RPCError(.unavailable, "falha ao enviar / send failed", metadata: [TransportMetadata.sent: "false"])
        }
        return stream
    }

    /// `metadata` with its principal bound to `method` of this connection's service.
    private func bound(_ metadata: [String: String], method: String) -> [String: String] {
        guard let binding else { return metadata }
        return PrincipalBinding.bound(metadata, secret: binding.secret, service: binding.service, method: method)
    }

    /// Sends PING and completes when PONG arrives.
    func ping(deadline: Deadline, completion: @escaping Completion) {
        let id: UInt64? = stateLock.withLock {
            guard !closed else { return nil }
            let id = nextCallID
            nextCallID += 1
            pending[id] = .ping(completion)
            return id
        }
        guard let id else { return completion(.failure(closeError)) }
        var frame = RpcV1.Frame()
        frame.kind = .ping
        frame.callID = id
        if !write(frame) { _ = stateLock.withLock { pending.removeValue(forKey: id) } }
    }

    func sendCancel(callID: UInt64) {
        var frame = RpcV1.Frame()
        frame.kind = .cancel
        frame.callID = callID
        _ = write(frame)
    }

    /// Writes one frame; while the reader thread is completing a batch, frames it writes are
    /// coalesced into one `send`. Returns false when the connection is broken.
    @discardableResult
    func write(_ frame: RpcV1.Frame) -> Bool { write(CollectionOfOne(frame)) }

    /// Writes `frames` together, in one `send` when they fit the socket's buffer (so the server
    /// reads them together too). Returns false when the connection is broken.
    @discardableResult
    func write(_ frames: some Collection<RpcV1.Frame>) -> Bool {
        if inReaderBatch, let reader = readerThread, pthread_equal(reader, pthread_self()) != 0 {
            for frame in frames { frame.appendLengthPrefixed(to: &corkBuffer) }
            return true
        }
        return writeLock.withLock {
            writeBuffer.removeAll(keepingCapacity: true)
            for frame in frames { frame.appendLengthPrefixed(to: &writeBuffer) }
            return sendAllLocked(writeBuffer)
        }
    }

    private func writeFrame(_ frame: RpcV1.Frame) throws {
        guard write(frame) else { throw RPCError(.unavailable, "falha ao enviar / send failed") }
    }

    private func sendAllLocked(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return false }
        }
        return true
    }

    // MARK: reading

    private func startReader() {
        let thread = Thread { [self] in
            readerThread = pthread_self()
            readLoop()
        }
        thread.name = "rpc-client-\(endpoint)"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    private func readLoop() {
        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        var lastSweep = MonotonicClock.nanoseconds()
        loop: while true {
            let busy = stateLock.withLock { !pending.isEmpty }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, busy ? 10 : 1000)
            if ready > 0 {
                let n = recv(fd, buffer.baseAddress, buffer.count, 0)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    break loop
                }
                decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                inReaderBatch = true
                while true {
                    let frame: RpcV1.Frame?
                    do { frame = try decoder.next() } catch {
                        closeError = RPCError(.unavailable, "resposta inválida do servidor / invalid frame from server: \(error)")
                        inReaderBatch = false
                        break loop
                    }
                    guard let frame else { break }
                    dispatch(frame)
                }
                inReaderBatch = false
                if !corkBuffer.isEmpty {
                    let ok = writeLock.withLock { sendAllLocked(corkBuffer) }
                    corkBuffer.removeAll(keepingCapacity: true)
                    if !ok { break loop }
                }
            } else if ready < 0 && errno != EINTR {
                break loop
            }
            let now = MonotonicClock.nanoseconds()
            if now &- lastSweep >= 5_000_000 {
                lastSweep = now
                expireCalls(now: now)
                if stateLock.withLock({ closed }) { break loop }
            }
        }
        failAll()
    }

    private func dispatch(_ frame: RpcV1.Frame) {
        switch frame.kind {
        case .response:
            guard let entry = stateLock.withLock({ pending.removeValue(forKey: frame.callID) }) else {
                if frame.callID == 0, let error = RPCError(status: frame.status) { closeError = error }
                return
            }
            let result: Result<[UInt8], RPCError> = RPCError(status: frame.status).map { .failure($0) } ?? .success(frame.payload)
            switch entry {
            case .unary(_, _, let completion): completion(result)
            case .stream(let stream): stream.finish(result)
            case .ping(let completion): completion(result)
            }
            closeIfDrained()
        case .message:
            if case .stream(let stream)? = stateLock.withLock({ pending[frame.callID] }) { stream.deliver(frame.payload) }
        case .window:
            if case .stream(let stream)? = stateLock.withLock({ pending[frame.callID] }) { stream.grant(Int(frame.window)) }
        case .pong:
            if case .ping(let completion)? = stateLock.withLock({ pending.removeValue(forKey: frame.callID) }) {
                completion(.success([]))
            }
        case .ping:
            var pong = RpcV1.Frame()
            pong.kind = .pong
            pong.callID = frame.callID
            write(pong)
        case .goaway:
            stateLock.withLock {
                draining = true
                if let error = RPCError(status: frame.status) { closeError = error }
            }
            closeIfDrained()
        default:
            break
        }
    }

    private func closeIfDrained() {
        let shouldClose = stateLock.withLock { draining && pending.isEmpty && !closed }
        if shouldClose { close() }
    }

    private func expireCalls(now: UInt64) {
        var expired: [(UInt64, Pending)] = []
        stateLock.withLock {
            for (id, entry) in pending {
                switch entry {
                case .unary(_, let deadline, _) where deadline.uptimeNanoseconds <= now:
                    expired.append((id, entry))
                case .stream(let stream) where stream.deadline.uptimeNanoseconds <= now:
                    expired.append((id, entry))
                default: break
                }
            }
            for (id, _) in expired { pending[id] = nil }
        }
        let error = RPCError(.deadlineExceeded, "prazo da chamada esgotado / deadline exceeded")
        for (id, entry) in expired {
            sendCancel(callID: id)
            switch entry {
            case .unary(_, _, let completion): completion(.failure(error))
            case .stream(let stream): stream.finish(.failure(error))
            case .ping(let completion): completion(.failure(error))
            }
        }
    }

    /// Gives up a call locally and tells the server (CANCEL).
    func cancel(callID: UInt64, error: RPCError) {
        guard let entry = stateLock.withLock({ pending.removeValue(forKey: callID) }) else { return }
        sendCancel(callID: callID)
        switch entry {
        case .unary(_, _, let completion): completion(.failure(error))
        case .stream(let stream): stream.finish(.failure(error))
        case .ping(let completion): completion(.failure(error))
        }
    }

    /// The reader's end (the server closed, a broken frame, or ``close()``): the connection is
    /// no longer used, its socket shut down at once — a server that went away leaves no half-open
    /// socket (CLOSE_WAIT) behind until the connection is replaced — and pending calls fail.
    private func failAll() {
        let all: [Pending] = stateLock.withLock {
            closed = true
            let all = Array(pending.values)
            pending.removeAll()
            return all
        }
        shutdown(fd, Int32(SHUT_RDWR))
        var error = closeError
        error.metadata[TransportMetadata.sent] = "true"
        for entry in all {
            switch entry {
            case .unary(_, _, let completion): completion(.failure(error))
            case .stream(let stream): stream.finish(.failure(error))
            case .ping(let completion): completion(.failure(error))
            }
        }
    }

    /// Closes the socket; pending calls fail with `UNAVAILABLE`.
    func close() {
        stateLock.withLock { closed = true }
        shutdown(fd, Int32(SHUT_RDWR))
    }
}
