import Foundation
import Messages
import Observability
import RPC
import Synchronization

/// A client for one service, possibly running as several instances.
///
/// Keeps a small pool of authenticated connections per endpoint, spreads calls round-robin over
/// healthy endpoints, reconnects with exponential backoff and jitter, ejects endpoints that fail,
/// and retries a call only when that is safe: it never reached the server, the server refused it
/// unprocessed (`UNAVAILABLE` while draining), or it carries an idempotency key.
///
/// ```swift
/// let client = RPCClient(configuration: .init(endpoints: [Endpoint(host: "127.0.0.1", port: 7101)], secret: secret))
/// let health = try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest())
/// ```
public final class RPCClient: @unchecked Sendable {
    public let configuration: ClientConfiguration
    private let slots: [EndpointSlot]
    private let lock = ConditionLock()
    // Guarded by lock.
    private var cursor = 0
    private var closed = false

    public init(configuration: ClientConfiguration) {
        precondition(!configuration.endpoints.isEmpty, "a client needs at least one endpoint")
        self.configuration = configuration
        slots = configuration.endpoints.map { EndpointSlot(endpoint: $0, count: max(1, configuration.connectionsPerEndpoint)) }
    }

    deinit { close() }

    // MARK: typed calls

    /// Calls a unary method and waits for its response.
    /// - Throws: ``RPCError`` with the call's status.
    public func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request,
                                        options: CallOptions = CallOptions()) throws -> Response {
        try call(method, encodedRequest: request.serializedBytes(), options: options)
    }

    /// Calls a unary method whose request is encoded already (e.g. put together from stored
    /// encoded messages without decoding them), and decodes its response.
    /// - Throws: ``RPCError`` with the call's status; `INTERNAL` when the response is malformed.
    public func call<Request, Response>(_ method: RPCMethod<Request, Response>, encodedRequest: [UInt8],
                                        options: CallOptions = CallOptions()) throws -> Response {
        try Response.decodedResponse(callRaw(path: method.path, payload: encodedRequest, options: options))
    }

    /// Calls a unary method from Swift concurrency without blocking a cooperative thread.
    public func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request,
                                        options: CallOptions = CallOptions()) async throws -> Response {
        let bytes: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            start(path: method.path, payload: request.serializedBytes(), options: options) { result in
                continuation.resume(with: result)
            }
        }
        return try Response.decodedResponse(bytes)
    }

    /// Calls a method by path with encoded bytes (tools, the gateway's RPC port).
    /// - Parameter context: The call this one serves, if any: when that call is cancelled by its
    ///   caller (or expires), this one is cancelled too (CANCEL reaches the server).
    /// - Throws: ``RPCError``; `CANCELLED` when the serving call was cancelled first.
    public func callRaw(path: String, payload: [UInt8], options: CallOptions = CallOptions(),
                        cancellingWith context: ServerContext? = nil) throws -> [UInt8] {
        // The calling thread sleeps until the connection's reader thread delivers the answer.
        let answer = OneShotResult<Result<[UInt8], RPCError>>()
        let call = start(path: path, payload: payload, options: options) { answer.complete($0) }
        context?.onCancel { call.cancel() }
        return try answer.wait()!.get()
    }

    /// Starts a unary call; `completion` runs exactly once, possibly on a connection's reader thread
    /// (keep it short). Retries where safe, within the deadline.
    /// - Returns: a handle whose ``UnaryCall/cancel()`` gives the call up and tells the server.
    @discardableResult
    public func start(path: String, payload: [UInt8], options: CallOptions = CallOptions(),
                      completion: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) -> UnaryCall {
        let deadline = options.deadline ?? Deadline.after(milliseconds: options.timeoutMilliseconds ?? configuration.defaultTimeoutMilliseconds)
        let call = UnaryCall()
        attempt(1, path: path, request: .message(payload), metadata: options.metadata, deadline: deadline,
                idempotent: options.idempotencyKey != nil, call: call, completion: completion)
        return call
    }

    /// Starts a client-streaming call with one response whose encoded requests are all at hand
    /// (a small file in memory) and returns at once: the REQUEST, the requests and the end of the
    /// stream leave in one write, and `completion` runs exactly once with the encoded response,
    /// possibly on a connection's reader thread (keep it short), as for ``start(path:payload:options:completion:)``,
    /// whose retries it shares. No thread waits for the answer, so one caller can keep many
    /// uploads in flight (the intake benchmark's uploads, like its opens).
    ///
    /// ```swift
    /// client.start(IntakeV1.Intake.uploadAttachment, requests: [fileWithItsData]) { result in … }
    /// ```
    /// - Parameter requests: At most ``RPCProtocol/initialStreamWindow`` of them (the window the
    ///   server grants a new call); more fail with `INVALID_ARGUMENT` before anything is sent:
    ///   use ``call(_:requests:options:)``, which sends the rest under flow control.
    @discardableResult
    public func start<Request, Response>(_ method: RPCMethod<Request, Response>, requests: [Request], options: CallOptions = CallOptions(),
                                         completion: @escaping @Sendable (Result<Response, RPCError>) -> Void) -> UnaryCall {
        precondition(method.clientStreaming && !method.serverStreaming, "\(method.path) is not client streaming with one response")
        let call = UnaryCall()
        guard requests.count <= RPCProtocol.initialStreamWindow else {
            completion(.failure(RPCError(.invalidArgument, "mais mensagens que a janela inicial / more requests than the initial window")))
            return call
        }
        let deadline = options.deadline ?? Deadline.after(milliseconds: options.timeoutMilliseconds ?? configuration.defaultTimeoutMilliseconds)
        attempt(1, path: method.path, request: .stream(requests.map { $0.serializedBytes() }), metadata: options.metadata,
                deadline: deadline, idempotent: options.idempotencyKey != nil, call: call) { result in
            completion(result.flatMap { bytes in Result { try Response.decodedResponse(bytes) }.mapError { $0 as? RPCError ?? RPCError(.internal, "\($0)") } })
        }
        return call
    }

    private func attempt(_ number: Int, path: String, request: OutgoingRequest, metadata: [String: String], deadline: Deadline,
                         idempotent: Bool, call: UnaryCall, completion: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) {
        if call.isCancelled {
            return completion(.failure(UnaryCall.cancelledError))
        }
        if deadline.hasPassed {
            return completion(.failure(RPCError(.deadlineExceeded, "prazo da chamada esgotado / deadline exceeded")))
        }
        let connection: ClientConnection
        do { connection = try pick(deadline: deadline) } catch let error as RPCError {
            return completion(.failure(error))
        } catch {
            return completion(.failure(RPCError(.unavailable, "\(error)")))
        }
        let callID = connection.startUnary(method: path, request: request, metadata: metadata, deadline: deadline) { [self] result in
            if case .failure(let error) = result, number < configuration.maxAttempts, !call.isCancelled,
               Self.isRetrySafe(error, idempotent: idempotent) {
                markFailure(connection)
                attempt(number + 1, path: path, request: request, metadata: metadata, deadline: deadline,
                        idempotent: idempotent, call: call, completion: completion)
                return
            }
            completion(result)
        }
        if let callID { call.attach(connection: connection, callID: callID, attempt: number) }
    }

    /// A failed call may be sent again when it certainly did not run, or when the server
    /// deduplicates it by idempotency key.
    static func isRetrySafe(_ error: RPCError, idempotent: Bool) -> Bool {
        guard error.code == .unavailable else { return false }
        if error.metadata[TransportMetadata.sent] == "false" { return true }
        // A handler that had started (its database went away mid-call) may have done part of it.
        if error.handlerStarted { return idempotent }
        // UNAVAILABLE from a server always means "not started" (docs/PROTOCOL.md).
        if error.metadata[TransportMetadata.sent] == nil { return true }
        return idempotent
    }

    /// Calls a server-streaming method.
    public func serverStream<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request,
                                                options: CallOptions = CallOptions()) throws -> ResponseStream<Response> {
        let stream = try openStream(method.path, clientStreaming: false, first: request.serializedBytes(), options: options)
        return ResponseStream(stream: stream)
    }

    /// Opens a client-streaming or bidirectional call.
    public func streamingCall<Request, Response>(_ method: RPCMethod<Request, Response>,
                                                 options: CallOptions = CallOptions()) throws -> StreamingCall<Request, Response> {
        let stream = try openStream(method.path, clientStreaming: true, first: nil, options: options)
        return StreamingCall(stream: stream)
    }

    /// Opens a client-streaming or bidirectional call whose first request is at hand (an
    /// upload's description): it leaves in the same write as the call's opening.
    public func streamingCall<Request, Response>(_ method: RPCMethod<Request, Response>, sending first: Request,
                                                 options: CallOptions = CallOptions()) throws -> StreamingCall<Request, Response> {
        let stream = try openStream(method.path, clientStreaming: true, first: nil, leading: [first.serializedBytes()], options: options)
        return StreamingCall(stream: stream)
    }

    /// Calls a client-streaming method whose requests are all at hand (a small file in memory)
    /// and waits for its single response. The REQUEST, the requests and the end of the stream
    /// leave in one write when the requests fit the flow-control window (those beyond it follow
    /// under flow control), so the server reads the whole call at once and its handler, started
    /// with them all there, never waits for a frame.
    ///
    /// ```swift
    /// let ref = try client.call(IntakeV1.Intake.uploadAttachment, requests: [fileWithItsData])
    /// ```
    /// - Throws: ``RPCError`` with the call's status.
    public func call<Request, Response>(_ method: RPCMethod<Request, Response>, requests: [Request],
                                        options: CallOptions = CallOptions()) throws -> Response {
        precondition(method.clientStreaming && !method.serverStreaming, "\(method.path) is not client streaming with one response")
        let encoded = requests.map { $0.serializedBytes() }
        let ahead = min(encoded.count, RPCProtocol.initialStreamWindow)
        let stream = try openStream(method.path, clientStreaming: true, first: nil, leading: Array(encoded[..<ahead]),
                                    endingStream: ahead == encoded.count, options: options)
        let call = StreamingCall<Request, Response>(stream: stream)
        do {
            for message in encoded[ahead...] { try stream.send(message) }
            return try call.finish()
        } catch {
            stream.cancel()
            throw error
        }
    }

    /// Opens a streaming call by path with encoded messages. For a method whose client does not
    /// stream, `first` is its single request; otherwise pass `nil` and ``RawStreamingCall/send(_:)``.
    public func rawStream(path: String, clientStreaming: Bool, first: [UInt8]?, options: CallOptions = CallOptions()) throws -> RawStreamingCall {
        RawStreamingCall(stream: try openStream(path, clientStreaming: clientStreaming, first: clientStreaming ? nil : (first ?? []), options: options))
    }

    private func openStream(_ path: String, clientStreaming: Bool, first: [UInt8]?, leading: [[UInt8]] = [], endingStream: Bool = false,
                            options: CallOptions) throws -> ClientStream {
        let deadline = options.deadline ?? Deadline.after(milliseconds: options.timeoutMilliseconds ?? configuration.defaultTimeoutMilliseconds)
        let metadata = options.metadata
        var lastError = RPCError(.unavailable, "nenhuma instância disponível / no instance available")
        for _ in 0..<configuration.maxAttempts {
            let connection = try pick(deadline: deadline)
            do {
                return try connection.startStream(method: path, clientStreaming: clientStreaming, firstMessage: first,
                                                  leading: leading, endingStream: endingStream, metadata: metadata, deadline: deadline)
            } catch let error as RPCError {
                lastError = error
                markFailure(connection)
            }
        }
        throw lastError
    }

    /// Sends PING to every endpoint and returns the round trip per endpoint, `nil` where it failed.
    public func ping(timeoutMilliseconds: Int = 1_000) -> [Endpoint: Double?] {
        var result: [Endpoint: Double?] = [:]
        for slot in slots {
            let start = MonotonicClock.nanoseconds()
            let deadline = Deadline.after(milliseconds: timeoutMilliseconds)
            guard let connection = try? slot.connection(configuration: configuration, deadline: deadline) else {
                result[slot.endpoint] = .some(nil)
                continue
            }
            let pong = OneShotResult<Result<[UInt8], RPCError>>()
            connection.ping(deadline: deadline) { pong.complete($0) }
            if case .success? = pong.wait(untilUptimeNanoseconds: deadline.uptimeNanoseconds) {
                result[slot.endpoint] = Double(MonotonicClock.nanoseconds() - start) / 1e6
            } else {
                result[slot.endpoint] = .some(nil)
            }
        }
        return result
    }

    /// Closes every connection; calls in flight fail with `UNAVAILABLE`.
    public func close() {
        let wasClosed = lock.withLock { () -> Bool in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        for slot in slots { slot.closeAll() }
    }

    // MARK: endpoint selection

    private func pick(deadline: Deadline) throws -> ClientConnection {
        let start = lock.withLock { () -> Int in
            cursor &+= 1
            return cursor
        }
        var lastError: RPCError?
        let now = MonotonicClock.nanoseconds()
        // First pass: endpoints not backing off; second pass: any, so a call never fails only
        // because every endpoint failed once.
        for pass in 0..<2 {
            for offset in 0..<slots.count {
                let slot = slots[(start + offset) % slots.count]
                if pass == 0 && slot.isBackingOff(now: now) { continue }
                do { return try slot.connection(configuration: configuration, deadline: deadline) } catch let error as RPCError {
                    lastError = error
                }
            }
        }
        throw lastError ?? RPCError(.unavailable, "nenhuma instância disponível / no instance available",
                                    metadata: [TransportMetadata.sent: "false"])
    }

    private func markFailure(_ connection: ClientConnection) {
        slots.first { $0.endpoint == connection.endpoint }?.recordFailure(configuration: configuration)
    }
}

extension ProtoMessage {
    /// `bytes` decoded as a response: how every typed client path reads what the server answered.
    /// - Throws: `INTERNAL` ("malformed <type>") when the bytes are not a `Self`.
    static func decodedResponse(_ bytes: [UInt8]) throws -> Self {
        do { return try Self(serializedBytes: bytes) } catch {
            throw RPCError(.internal, "resposta inválida / malformed \(protoName)")
        }
    }
}

/// Connections to one endpoint, with its reconnect backoff.
final class EndpointSlot: @unchecked Sendable {
    let endpoint: Endpoint
    private let lock = ConditionLock()
    // Guarded by lock.
    private var connections: [ClientConnection?]
    /// The connection attempt in progress per index, if any: ``connection(configuration:deadline:)``
    /// opens one connection per index at a time, and the other callers of that index wait for it.
    private var attempts: [ConnectAttempt?]
    private var next = 0
    private var failures = 0
    private var retryAt: UInt64 = 0

    /// One connection being opened; its callers wait for `outcome`.
    private final class ConnectAttempt {
        var outcome: Result<ClientConnection, RPCError>?
    }

    init(endpoint: Endpoint, count: Int) {
        self.endpoint = endpoint
        connections = Array(repeating: nil, count: count)
        attempts = Array(repeating: nil, count: count)
    }

    func isBackingOff(now: UInt64) -> Bool { lock.withLock { retryAt > now } }

    /// A usable connection, opening one when needed; fails fast while backing off.
    ///
    /// Callers that find their index without a usable connection while another caller is
    /// opening it wait for that attempt and share its outcome (the connection, or its error),
    /// rather than each opening a connection and replacing the others' — which closed
    /// connections other callers had just started calls on (`UNAVAILABLE`, connection closed).
    func connection(configuration: ClientConfiguration, deadline: Deadline) throws -> ClientConnection {
        let timeout = min(configuration.connectTimeoutMilliseconds, max(1, deadline.remainingMilliseconds))
        lock.lock()
        let index = next % connections.count
        next &+= 1
        if let existing = connections[index], existing.isUsable {
            lock.unlock()
            return existing
        }
        if let usable = connections.compactMap({ $0 }).first(where: { $0.isUsable }), MonotonicClock.nanoseconds() < retryAt {
            lock.unlock()
            return usable
        }
        if let attempt = attempts[index] {
            let waitUntil = MonotonicClock.nanoseconds() &+ UInt64(timeout) &* 1_000_000
            while attempt.outcome == nil {
                guard lock.wait(untilUptimeNanoseconds: waitUntil) || attempt.outcome != nil else { break }
            }
            let outcome = attempt.outcome
            lock.unlock()
            switch outcome {
            case .success(let connection)?: return connection
            case .failure(let error)?: throw error
            case nil:
                throw RPCError(.unavailable, "tempo esgotado ao conectar a \(endpoint) / timed out connecting to \(endpoint)",
                               metadata: [TransportMetadata.sent: "false"])
            }
        }
        let attempt = ConnectAttempt()
        attempts[index] = attempt
        lock.unlock()
        let outcome: Result<ClientConnection, RPCError>
        do {
            outcome = .success(try ClientConnection.connect(to: endpoint, secret: configuration.secret,
                                                            timeoutMilliseconds: timeout, maxFrameSize: configuration.maxFrameSize,
                                                            callerName: configuration.callerName, apiKey: configuration.apiKey))
        } catch {
            outcome = .failure(error as? RPCError ?? RPCError(.unavailable, "não foi possível conectar a \(endpoint) / cannot connect to \(endpoint): \(error)",
                                                                metadata: [TransportMetadata.sent: "false"]))
        }
        let replaced = lock.withLock { () -> ClientConnection? in
            defer { lock.broadcast() }
            attempt.outcome = outcome
            attempts[index] = nil
            guard case .success(let connection) = outcome else { return nil }
            let previous = connections[index]
            connections[index] = connection
            failures = 0
            retryAt = 0
            return previous
        }
        replaced?.close()
        switch outcome {
        case .success(let connection): return connection
        case .failure(let error):
            recordFailure(configuration: configuration)
            throw error
        }
    }

    /// Backs off exponentially with full jitter after a failure.
    func recordFailure(configuration: ClientConfiguration) {
        lock.withLock {
            failures += 1
            let ceiling = min(configuration.maxBackoffMilliseconds,
                              configuration.initialBackoffMilliseconds << min(failures - 1, 16))
            let delay = UInt64.random(in: UInt64(ceiling / 2)...UInt64(max(1, ceiling)))
            retryAt = MonotonicClock.nanoseconds() + delay * 1_000_000
        }
    }

    func closeAll() {
        let all = lock.withLock { () -> [ClientConnection] in
            defer { connections = Array(repeating: nil, count: connections.count) }
            return connections.compactMap { $0 }
        }
        for connection in all { connection.close() }
    }
}

/// A unary call in flight, which its starter may give up: ``cancel()`` completes it with
/// `CANCELLED` and sends CANCEL to the server, whose handler sees the cancellation. Cancelling a
/// call that already completed does nothing.
public final class UnaryCall: Sendable {
    static let cancelledError = RPCError(.cancelled, "chamada cancelada / call cancelled")

    private struct State {
        var cancelled = false
        var connection: ClientConnection?
        var callID: UInt64 = 0
        var attempt = 0
    }
    private let state = Mutex(State())

    init() {}

    /// True once ``cancel()`` was called.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Gives the call up: its completion runs with `CANCELLED` (unless it already ran) and the
    /// server is told, so no retry follows.
    public func cancel() {
        let target = state.withLock { state -> (ClientConnection, UInt64)? in
            state.cancelled = true
            guard let connection = state.connection else { return nil }
            state.connection = nil
            return (connection, state.callID)
        }
        if let (connection, callID) = target { connection.cancel(callID: callID, error: Self.cancelledError) }
    }

    /// Records the attempt in flight (a later attempt, already retried from the reader thread,
    /// wins); cancels it at once when ``cancel()`` came first.
    func attach(connection: ClientConnection, callID: UInt64, attempt: Int) {
        let cancelled = state.withLock { state -> Bool in
            if state.cancelled { return true }
            guard attempt > state.attempt else { return false }
            state.attempt = attempt
            state.connection = connection
            state.callID = callID
            return false
        }
        if cancelled { connection.cancel(callID: callID, error: Self.cancelledError) }
    }
}
