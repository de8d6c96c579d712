import Messages
import Observability
import RPC
import Synchronization

/// What a handler knows about the call it serves: method, metadata, deadline, cancellation.
///
/// Handlers run on worker threads; long ones call ``checkCancellation()`` between steps so a
/// cancelled or expired call stops early. A service calling another passes ``deadline`` and
/// ``outgoingMetadata`` on.
public struct ServerContext: Sendable {
    /// `/ocorrencias.intake.v1.Intake/OpenTicket`.
    public let method: String
    /// The call id chosen by the client, unique on its connection.
    public let callID: UInt64
    /// Metadata sent with the request.
    public let metadata: [String: String]
    /// When the call is abandoned.
    public let deadline: Deadline
    /// `address:port` of the peer.
    public let peer: String
    let baseLogger: Logger
    let state: CallState
    let generatedRequestID: @Sendable () -> String

    init(method: String, callID: UInt64, metadata: [String: String], deadline: Deadline, peer: String,
         logger: Logger, state: CallState, generatedRequestID: @escaping @Sendable () -> String) {
        self.method = method
        self.callID = callID
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.baseLogger = logger
        self.state = state
        self.generatedRequestID = generatedRequestID
    }

    /// A logger carrying `rpc.method`, `rpc.call_id` and `request.id`.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "rpc.method"] = method
        logger[metadataKey: "rpc.call_id"] = String(callID)
        logger[metadataKey: "request.id"] = requestID
        return logger
    }

    /// The request id of this call: from metadata when acceptable (``RequestIDs/accepted(_:)``),
    /// or derived from the connection and call ids.
    public var requestID: String {
        RequestIDs.accepted(metadata[MetadataKey.requestID]) ?? generatedRequestID()
    }

    /// The idempotency key the caller sent, if any.
    public var idempotencyKey: String? { metadata[MetadataKey.idempotencyKey].flatMap { $0.isEmpty ? nil : $0 } }

    /// True once the caller cancelled or the deadline passed.
    public var isCancelled: Bool { state.isCancelled || deadline.hasPassed }

    /// Runs `body` once when the caller cancels the call or it expires on the server (at once when
    /// that already happened): to stop work blocked elsewhere, e.g. a call forwarded to another
    /// service.
    public func onCancel(_ body: @escaping @Sendable () -> Void) {
        state.onCancel(body)
    }

    /// Throws `CANCELLED` or `DEADLINE_EXCEEDED` when the call should stop.
    public func checkCancellation() throws {
        if deadline.hasPassed { throw RPCError(.deadlineExceeded, "prazo da chamada esgotado / deadline exceeded") }
        if state.isCancelled { throw RPCError(.cancelled, "chamada cancelada / call cancelled") }
    }

    /// Metadata to send on calls made while serving this one: request and trace ids travel on.
    public var outgoingMetadata: [String: String] {
        var out: [String: String] = [:]
        for key in [MetadataKey.principal, MetadataKey.principalSignature] {
            if let value = metadata[key] { out[key] = value }
        }
        if let trace = RequestIDs.accepted(metadata[MetadataKey.traceID]) { out[MetadataKey.traceID] = trace }
        out[MetadataKey.requestID] = requestID
        return out
    }
}

/// Cancellation shared between the connection (which sees CANCEL frames and deadlines) and the handler.
final class CallState: Sendable {
    private let cancelled = Atomic<Bool>(false)
    private let callbacks = Mutex<[@Sendable () -> Void]>([])

    init() {}

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func cancel() {
        cancelled.store(true, ordering: .releasing)
        let pending = callbacks.withLock { list -> [@Sendable () -> Void] in
            defer { list.removeAll() }
            return list
        }
        for body in pending { body() }
    }

    func onCancel(_ body: @escaping @Sendable () -> Void) {
        let now = callbacks.withLock { list -> Bool in
            if isCancelled { return true }
            list.append(body)
            return false
        }
        if now { body() }
    }
}
