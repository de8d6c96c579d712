import RPC

/// One streaming call on the server: requests arriving from the loop thread, responses leaving
/// under flow control. Handlers block on it from a worker thread.
final class ServerStream: @unchecked Sendable {
    let callID: UInt64
    let deadline: Deadline
    let state: CallState
    private weak var connection: ServerConnection?
    private let condition = ConditionLock()
    // Guarded by `condition`.
    private var inbound: [[UInt8]] = []
    private var inboundEnded = false
    private var window = ReceiveWindow()
    private var credit = RPCProtocol.initialStreamWindow
    private var failure: RPCError?
    private var heldStart: (@Sendable () -> Void)?
    private var decodedAhead: (any Sendable)?
    /// Bytes of `inbound` (counted against the connection's buffer budget).
    private var inboundBytes = 0
    /// The call ended: what is buffered was given back, and later messages are dropped.
    private var released = false

    init(callID: UInt64, deadline: Deadline, state: CallState, connection: ServerConnection) {
        self.callID = callID
        self.deadline = deadline
        self.state = state
        self.connection = connection
    }

    // MARK: loop side

    /// A request message arrived. Returns false when the client exceeded its window.
    func deliver(_ message: [UInt8]?, end: Bool) -> Bool {
        condition.lock()
        var added = 0
        defer {
            condition.unlock()
            condition.broadcast()
            if added > 0 { connection?.inboundBuffered(added) }
        }
        if let message, !released {
            if inbound.count >= RPCProtocol.initialStreamWindow * 2 {
                failure = RPCError(.resourceExhausted, "cliente excedeu a janela de fluxo / client exceeded the flow-control window")
                return false
            }
            inbound.append(message)
            inboundBytes += message.count
            added = message.count
        }
        if end { inboundEnded = true }
        return true
    }

    /// The call ended (answered, cancelled, expired, connection closed): requests its handler did
    /// not take are dropped and given back to the connection's buffer budget. Any thread.
    func release() {
        let dropped: Int = condition.withLock {
            released = true
            defer { inboundBytes = 0; inbound.removeAll() }
            return inboundBytes
        }
        if dropped > 0 { connection?.inboundBuffered(-dropped) }
    }

    /// The client granted `count` more response messages.
    func grant(_ count: Int) {
        condition.withLock { credit += count }
        condition.broadcast()
    }

    /// Wakes any waiting handler after a cancel, an expired deadline or a closed connection; a
    /// handler still held back (``holdStart(_:)``) will not start.
    func interrupt(_ error: RPCError) {
        condition.withLock {
            if failure == nil { failure = error }
            heldStart = nil
        }
        condition.broadcast()
    }

    /// Holds back the start of the call's handler (a client-streaming call, whose handler has
    /// nothing to do before a request is here) until ``takeHeldStart()`` finds a request or the
    /// end of the stream.
    func holdStart(_ start: @escaping @Sendable () -> Void) {
        condition.withLock { heldStart = start }
    }

    /// What became of a start held back by ``holdStart(_:)``.
    enum HeldStart {
        /// A request or the end of the stream is here: run it (once; it is no longer held).
        case ready(@Sendable () -> Void)
        /// Nothing to read yet.
        case waiting
        /// The call ended (cancelled, expired, connection closed) or its handler already started.
        case gone
    }

    /// Keeps the requests ``completeRequests()`` gave, decoded by the router to decide where the
    /// handler runs, for the handler's ``takeDecodedAhead()``: a small upload is then decoded once.
    func keepDecodedAhead(_ requests: any Sendable) {
        condition.withLock { decodedAhead = requests }
    }

    /// The requests kept by ``keepDecodedAhead(_:)`` (once), `nil` when none were.
    func takeDecodedAhead() -> (any Sendable)? {
        condition.withLock {
            defer { decodedAhead = nil }
            return decodedAhead
        }
    }

    /// Every request of a call whose stream already ended (none taken yet), without taking
    /// them; `nil` while more may come or after a failure.
    func completeRequests() -> [[UInt8]]? {
        condition.withLock { inboundEnded && failure == nil ? inbound : nil }
    }

    /// The held start, once the handler has something to read (loop thread).
    func takeHeldStart() -> HeldStart {
        condition.withLock {
            guard let start = heldStart, failure == nil else {
                heldStart = nil
                return .gone
            }
            guard !inbound.isEmpty || inboundEnded else { return .waiting }
            heldStart = nil
            return .ready(start)
        }
    }

    // MARK: handler side

    func receive() throws -> [UInt8]? {
        condition.lock()
        while inbound.isEmpty && !inboundEnded {
            if let failure { condition.unlock(); throw failure }
            try checkLocked()
            condition.wait(untilUptimeNanoseconds: deadline.uptimeNanoseconds)
        }
        if let failure { condition.unlock(); throw failure }
        guard !inbound.isEmpty else { condition.unlock(); return nil }
        let message = inbound.removeFirst()
        inboundBytes -= message.count
        let grant = window.consume()
        condition.unlock()
        if message.count > 0 { connection?.inboundBuffered(-message.count) }
        if grant > 0 { connection?.sendWindow(callID: callID, count: grant) }
        return message
    }

    func send(_ message: [UInt8]) throws {
        condition.lock()
        while credit == 0 {
            if let failure { condition.unlock(); throw failure }
            try checkLocked()
            condition.wait(untilUptimeNanoseconds: deadline.uptimeNanoseconds)
        }
        if let failure { condition.unlock(); throw failure }
        credit -= 1
        condition.unlock()
        guard let connection, connection.sendMessage(callID: callID, payload: message) else {
            throw RPCError(.cancelled, "conexão encerrada / connection closed")
        }
    }

    private func checkLocked() throws {
        if deadline.hasPassed {
            condition.unlock()
            throw RPCError(.deadlineExceeded, "prazo da chamada esgotado / deadline exceeded")
        }
        if state.isCancelled {
            condition.unlock()
            throw RPCError(.cancelled, "chamada cancelada / call cancelled")
        }
    }
}
