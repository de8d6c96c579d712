import Messages
import RPC

/// The client side of one streaming call: sends requests under flow control and reads
/// responses as they arrive. Blocking; use it from one thread at a time.
final class ClientStream: @unchecked Sendable {
    let callID: UInt64
    let deadline: Deadline
    let clientStreaming: Bool
    private weak var connection: ClientConnection?
    private let condition = ConditionLock()
    // Guarded by `condition`.
    private var inbound: [[UInt8]] = []
    private var outcome: Result<[UInt8], RPCError>?
    private var credit = RPCProtocol.initialStreamWindow
    private var window = ReceiveWindow()
    private var sendClosed = false

    /// - Parameters:
    ///   - sentAhead: requests sent with the REQUEST frame (they took that much of the window).
    ///   - sendClosed: whether the end of the request stream was sent with it too.
    init(callID: UInt64, deadline: Deadline, connection: ClientConnection, clientStreaming: Bool,
         sentAhead: Int = 0, sendClosed: Bool = false) {
        self.callID = callID
        self.deadline = deadline
        self.connection = connection
        self.clientStreaming = clientStreaming
        self.credit = RPCProtocol.initialStreamWindow - sentAhead
        self.sendClosed = sendClosed
    }

    /// A MESSAGE frame carrying one request of call `callID`.
    static func messageFrame(callID: UInt64, _ message: [UInt8]) -> RpcV1.Frame {
        var frame = RpcV1.Frame()
        frame.kind = .message
        frame.callID = callID
        frame.payload = message
        return frame
    }

    /// The MESSAGE frame that ends call `callID`'s request stream (it carries no message).
    static func endFrame(callID: UInt64) -> RpcV1.Frame {
        var frame = RpcV1.Frame()
        frame.kind = .message
        frame.callID = callID
        frame.endStream = true
        return frame
    }

    // MARK: reader side

    func deliver(_ message: [UInt8]) {
        condition.withLock { inbound.append(message) }
        condition.broadcast()
    }

    func grant(_ count: Int) {
        condition.withLock { credit += count }
        condition.broadcast()
    }

    func finish(_ result: Result<[UInt8], RPCError>) {
        condition.withLock { if outcome == nil { outcome = result } }
        condition.broadcast()
    }

    // MARK: caller side

    /// Sends one request message; waits while the server has granted no room. With
    /// `endingStream`, the end of the request stream leaves in the same write.
    func send(_ message: [UInt8], endingStream: Bool = false) throws {
        condition.lock()
        while credit == 0 && outcome == nil {
            if !condition.wait(untilUptimeNanoseconds: deadline.uptimeNanoseconds) && deadline.hasPassed {
                condition.unlock()
                throw RPCError(.deadlineExceeded, "prazo da chamada esgotado / deadline exceeded")
            }
        }
        if case .failure(let error)? = outcome { condition.unlock(); throw error }
        if outcome != nil || sendClosed { condition.unlock(); throw RPCError(.failedPrecondition, "stream already closed") }
        credit -= 1
        if endingStream { sendClosed = true }
        condition.unlock()
        let frame = Self.messageFrame(callID: callID, message)
        let written = endingStream ? connection?.write([frame, Self.endFrame(callID: callID)]) : connection?.write(frame)
        guard written == true else { throw RPCError(.unavailable, "conexão encerrada / connection closed") }
    }

    /// Ends the request stream.
    func closeSend() throws {
        let alreadyClosed = condition.withLock { () -> Bool in
            defer { sendClosed = true }
            return sendClosed
        }
        guard !alreadyClosed else { return }
        guard connection?.write(Self.endFrame(callID: callID)) == true else { throw RPCError(.unavailable, "conexão encerrada / connection closed") }
    }

    /// The next response message, or `nil` after the call ended with OK.
    /// - Throws: the call's error status.
    func receive() throws -> [UInt8]? {
        condition.lock()
        while inbound.isEmpty && outcome == nil {
            condition.wait(untilUptimeNanoseconds: deadline.uptimeNanoseconds &+ 50_000_000)
        }
        if !inbound.isEmpty {
            let message = inbound.removeFirst()
            let grant = window.consume()
            condition.unlock()
            if grant > 0 {
                var frame = RpcV1.Frame()
                frame.kind = .window
                frame.callID = callID
                frame.window = UInt32(grant)
                connection?.write(frame)
            }
            return message
        }
        let result = outcome!
        // A unary response (client-streaming methods) is the RESPONSE payload, returned once.
        if case .success(let payload) = result, !payload.isEmpty {
            outcome = .success([])
            condition.unlock()
            return payload
        }
        condition.unlock()
        switch result {
        case .success: return nil
        case .failure(let error): throw error
        }
    }

    /// Abandons the call.
    func cancel() {
        connection?.cancel(callID: callID, error: RPCError(.cancelled, "chamada cancelada / call cancelled"))
    }
}

/// Responses of a server-streaming call, typed.
public struct ResponseStream<Response: ProtoMessage>: Sendable {
    let stream: ClientStream

    /// The next response, or `nil` when the server ended the stream with OK.
    /// - Throws: ``RPCError`` with the call's status.
    public func receive() throws -> Response? {
        guard let bytes = try stream.receive() else { return nil }
        return try Response.decodedResponse(bytes)
    }

    /// Stops the call.
    public func cancel() { stream.cancel() }
}

/// A call whose client streams requests (upload); the server answers with one response, or a
/// stream of them for bidirectional methods.
public struct StreamingCall<Request: ProtoMessage, Response: ProtoMessage>: Sendable {
    let stream: ClientStream

    /// Sends one request; blocks while the server has granted no room (flow control).
    public func send(_ request: Request) throws { try stream.send(request.serializedBytes()) }

    /// Tells the server no more requests follow.
    public func closeSend() throws { try stream.closeSend() }

    /// The next response, or `nil` at the end.
    public func receive() throws -> Response? {
        guard let bytes = try stream.receive() else { return nil }
        return try Response.decodedResponse(bytes)
    }

    /// Ends the request stream and waits for the single response.
    public func finish() throws -> Response {
        try closeSend()
        guard let response = try receive() else { return Response() }
        return response
    }

    /// Sends `last` and the end of the request stream in one write (one frame less for the
    /// server to wait for), then waits for the single response.
    /// - Throws: ``RPCError`` with the call's status.
    public func finish(last: Request) throws -> Response {
        try stream.send(last.serializedBytes(), endingStream: true)
        guard let response = try receive() else { return Response() }
        return response
    }

    public func cancel() { stream.cancel() }
}

/// A streaming call by method path with encoded messages, in any shape (the gateway's public
/// RPC port forwards streams it does not decode).
public struct RawStreamingCall: Sendable {
    let stream: ClientStream

    /// Sends one encoded request; blocks while the server has granted no room.
    public func send(_ message: [UInt8]) throws { try stream.send(message) }

    /// Tells the server no more requests follow.
    public func closeSend() throws { try stream.closeSend() }

    /// The next encoded response (for client-streaming methods, the single response), or `nil`
    /// at the end.
    /// - Throws: ``RPCError`` with the call's status.
    public func receive() throws -> [UInt8]? { try stream.receive() }

    /// Abandons the call (the server sees CANCEL).
    public func cancel() { stream.cancel() }
}
