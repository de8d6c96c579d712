import Messages
import RPC

/// Where a handler runs.
public enum HandlerExecution: Sendable {
    /// On a worker thread: the default, and required for anything that blocks (storage, other services).
    case blocking
    /// On the connection's event-loop thread, for handlers that never block (echo, in-memory lookups).
    case inline
}

/// The methods a server answers, each bound to a handler, keyed by method path.
///
/// ```swift
/// var router = RPCRouter()
/// router.register(RpcV1.Echo.echo, execution: .inline) { request, context in
///     var response = RpcV1.EchoResponse()
///     response.payload = request.payload
///     return response
/// }
/// ```
public struct RPCRouter: Sendable {
    enum Handler: Sendable {
        case unary(HandlerExecution, @Sendable (UnsafeRawBufferPointer, ServerContext) throws -> [UInt8])
        case streaming(clientStreaming: Bool, serverStreaming: Bool, @Sendable (ServerStream, ServerContext) throws -> [UInt8]?)
        /// Runs on the event loop and answers later, from any thread, through its last argument.
        case completing(@Sendable (UnsafeRawBufferPointer, ServerContext, @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) -> Void)
        /// A client-streaming method read on a worker thread (or on the event loop when `inline`
        /// says so of a stream already complete), answered later, from any thread, through its
        /// last argument.
        case streamingCompleting(inline: (@Sendable (ServerStream) -> Bool)?,
                                 @Sendable (ServerStream, ServerContext, @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) -> Void)
    }

    private(set) var handlers: [String: Handler] = [:]
    /// Answers unary calls to methods no handler is registered for (the gateway's RPC proxy).
    private(set) var fallback: Handler?
    /// What reflection lists: every registered method.
    public private(set) var methods: [RPCMethodInfo] = []
    var reflectionSources: [ReflectionSource] = []

    public init() {}

    /// Registers a unary method.
    public mutating func register<Request, Response>(
        _ method: RPCMethod<Request, Response>, execution: HandlerExecution = .blocking,
        _ handler: @escaping @Sendable (Request, ServerContext) throws -> Response
    ) {
        precondition(!method.clientStreaming && !method.serverStreaming, "\(method.path) streams; use registerStreaming")
        add(method.info, .unary(execution, { bytes, context in
            try handler(Request.decodedRequest(bytes), context).serializedBytes()
        }))
    }

    /// Registers a unary method whose handler answers later by calling `respond` exactly once, from
    /// any thread. The handler runs on the connection's event-loop thread, so it must not block: it
    /// hands the work to a thread of its own (a writer that batches requests, for one) and returns.
    /// No worker thread waits for the answer. An error that is not an ``RPCError`` is answered as
    /// `INTERNAL`.
    public mutating func registerCompleting<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ handler: @escaping @Sendable (Request, ServerContext, _ respond: @escaping @Sendable (Result<Response, any Error>) -> Void) -> Void
    ) {
        precondition(!method.clientStreaming && !method.serverStreaming, "\(method.path) streams; use registerStreaming")
        add(method.info, .completing({ bytes, context, finish in
            let request: Request
            do throws(RPCError) { request = try Request.decodedRequest(bytes) } catch {
                finish(.failure(error))
                return
            }
            handler(request, context) { result in finish(Self.answer(result)) }
        }))
    }

    /// Registers a method whose client and/or server streams. The handler reads requests from
    /// `requests` (a single one when the client does not stream) and writes responses to
    /// `responses`; for methods whose server does not stream it returns the one response.
    public mutating func registerStreaming<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ handler: @escaping @Sendable (RequestStream<Request>, ResponseWriter<Response>, ServerContext) throws -> Response?
    ) {
        precondition(method.clientStreaming || method.serverStreaming, "\(method.path) is unary; use register")
        let serverStreams = method.serverStreaming
        add(method.info, .streaming(clientStreaming: method.clientStreaming, serverStreaming: serverStreams, { stream, context in
            let response = try handler(RequestStream(stream), ResponseWriter(stream), context)
            if serverStreams { return nil }
            guard let response else {
                throw RPCError(.internal, "handler returned no response for \(method.path)")
            }
            return response.serializedBytes()
        }))
    }

    /// Registers a client-streaming method (one response) whose handler reads the requests on a
    /// worker thread, as ``registerStreaming(_:_:)``'s does, and answers later by calling `respond`
    /// exactly once, from any thread: it may hand the last step to a thread of its own (a writer
    /// that batches requests) and return, so no worker thread waits for that step, and the
    /// response goes out with the others that thread finishes (``RPCResponses/flushingOnce(_:)``).
    /// An error that is not an ``RPCError`` is answered as `INTERNAL`.
    ///
    /// - Parameter runsInline: Asked, when the handler is due to start, about a call whose
    ///   requests and end of stream are all here already (a small upload sent in one write,
    ///   ``RPCClient/call(_:requests:)``), with those requests: `true` runs the handler on the
    ///   connection's event loop instead of waking a worker for it. Say so only of requests the
    ///   handler serves without blocking (no storage, files or other services before it hands
    ///   the rest to a thread of its own).
    public mutating func registerStreamingCompleting<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        runsInline: (@Sendable (_ requests: [Request]) -> Bool)? = nil,
        _ handler: @escaping @Sendable (RequestStream<Request>, ServerContext,
                                        _ respond: @escaping @Sendable (Result<Response, any Error>) -> Void) -> Void
    ) {
        precondition(method.clientStreaming && !method.serverStreaming, "\(method.path) is not client streaming with one response")
        var inline: (@Sendable (ServerStream) -> Bool)?
        if let runsInline {
            inline = { stream in
                guard let encoded = stream.completeRequests() else { return false }
                var requests: [Request] = []
                requests.reserveCapacity(encoded.count)
                for bytes in encoded {
                    // A malformed request is left to the handler, which answers it.
                    guard let request = try? bytes.withUnsafeBytes({ bytes throws(RPCError) in try Request.decodedRequest(bytes) }) else { return false }
                    requests.append(request)
                }
                // Decoded once: the handler reads these instead of decoding the bytes again.
                stream.keepDecodedAhead(requests)
                return runsInline(requests)
            }
        }
        let runsOnLoop = inline
        add(method.info, .streamingCompleting(inline: runsOnLoop, { stream, context, finish in
            let ahead = (stream.takeDecodedAhead() as? [Request]).map(DecodedRequests.init)
            handler(RequestStream(stream, decodedAhead: ahead), context) { result in finish(Self.answer(result)) }
        }))
    }

    /// What a completing handler's result answers: the response encoded, or for an error
    /// ``HandlerErrorTranslation/answer(for:)`` (its ``RPCError``, marked when it is a call of the
    /// handler's own lost after it was sent; `INTERNAL` for any other unless translated).
    private static func answer<Response: ProtoMessage>(_ result: Result<Response, any Error>) -> Result<[UInt8], RPCError> {
        switch result {
        case .success(let response): .success(response.serializedBytes())
        case .failure(let error): .failure(HandlerErrorTranslation.answer(for: error))
        }
    }

    /// Registers a streaming method by its description, with encoded messages (the gateway's
    /// public RPC port forwards streams without decoding them). The handler reads requests from
    /// `requests`, writes responses to `responses` when the server streams, and returns the
    /// single encoded response otherwise (`nil` when it streamed).
    public mutating func registerRawStreaming(
        _ info: RPCMethodInfo,
        _ handler: @escaping @Sendable (RawRequestStream, RawResponseWriter, ServerContext) throws -> [UInt8]?
    ) {
        precondition(info.clientStreaming || info.serverStreaming, "\(info.path) is unary; use register")
        add(info, .streaming(clientStreaming: info.clientStreaming, serverStreaming: info.serverStreaming, { stream, context in
            try handler(RawRequestStream(stream: stream), RawResponseWriter(stream: stream), context)
        }))
    }

    /// Registers a handler for every unary call whose method has no handler of its own; it gets
    /// the method path (`context.method`) and the encoded request, and returns the encoded response.
    /// Used by the gateway to forward calls to the owning service. Streaming calls are not supported.
    public mutating func registerFallback(execution: HandlerExecution = .blocking,
                                          _ handler: @escaping @Sendable (UnsafeRawBufferPointer, ServerContext) throws -> [UInt8]) {
        fallback = .unary(execution, handler)
    }

    /// Hands the final method list to reflection; the server calls it once before serving.
    func sealForServing() {
        for source in reflectionSources { source.methods = methods }
    }

    private mutating func add(_ info: RPCMethodInfo, _ handler: Handler) {
        precondition(handlers[info.path] == nil, "\(info.path) registered twice")
        handlers[info.path] = handler
        methods.append(info)
    }
}

extension ProtoMessage {
    /// `bytes` decoded as a request: how every typed handler reads what the client sent.
    /// - Throws: `INVALID_ARGUMENT` ("malformed <type>") when the bytes are not a `Self`.
    static func decodedRequest(_ bytes: UnsafeRawBufferPointer) throws(RPCError) -> Self {
        do { return try Self(serializedBytes: bytes) } catch {
            throw RPCError(.invalidArgument, "mensagem inválida para \(protoName) / malformed \(protoName)")
        }
    }
}

/// The requests of a streaming call, read one at a time; blocks until one arrives.
public struct RequestStream<Request: ProtoMessage>: Sendable, Sequence, IteratorProtocol {
    let stream: ServerStream
    /// The call's requests, decoded already by the router (a whole call it had to look into).
    let decodedAhead: DecodedRequests<Request>?

    init(_ stream: ServerStream, decodedAhead: DecodedRequests<Request>? = nil) {
        self.stream = stream
        self.decodedAhead = decodedAhead
    }

    /// The next request, or `nil` when the client ended its stream.
    /// - Throws: ``RPCError`` when the call is cancelled, expires or a message is malformed.
    public func receive() throws -> Request? {
        guard let bytes = try stream.receive() else { return nil }
        // (The bytes are still taken from the stream, which keeps its window and end as they were.)
        if let decoded = decodedAhead?.next() { return decoded }
        return try bytes.withUnsafeBytes { try Request.decodedRequest($0) }
    }

    /// `Sequence` conformance: stops at the end of the stream or at the first error.
    public mutating func next() -> Request? { try? receive() }
}

/// Requests a router decoded ahead of the handler, handed out in order, each once (read by the
/// handler's one thread at a time, like ``RequestStream``).
final class DecodedRequests<Request: ProtoMessage>: @unchecked Sendable {
    private var requests: [Request]
    private var index = 0

    init(_ requests: [Request]) { self.requests = requests }

    /// The next one, `nil` once all were handed out.
    func next() -> Request? {
        guard index < requests.count else { return nil }
        defer {
            // Released as it is handed out (an upload's bytes are not kept twice).
            requests[index] = Request()
            index += 1
        }
        return requests[index]
    }
}

/// The encoded requests of a streaming call (see ``RPCRouter/registerRawStreaming(_:_:)``).
public struct RawRequestStream: Sendable {
    let stream: ServerStream

    /// The next encoded request, or `nil` when the client ended its stream.
    /// - Throws: ``RPCError`` when the call is cancelled or expires.
    public func receive() throws -> [UInt8]? { try stream.receive() }
}

/// Sends encoded responses of a server-streaming call, under the client's flow control.
public struct RawResponseWriter: Sendable {
    let stream: ServerStream

    /// Sends one encoded response message.
    public func send(_ message: [UInt8]) throws { try stream.send(message) }
}

/// Sends the responses of a server-streaming call; blocks while the client has granted no room.
public struct ResponseWriter<Response: ProtoMessage>: Sendable {
    let stream: ServerStream

    init(_ stream: ServerStream) { self.stream = stream }

    /// Sends one response message.
    /// - Throws: ``RPCError`` when the call is cancelled or its deadline passes while waiting.
    public func send(_ response: Response) throws {
        try stream.send(response.serializedBytes())
    }
}
