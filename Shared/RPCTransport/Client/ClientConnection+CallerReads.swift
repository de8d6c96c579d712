import Foundation
import Messages
import RPC

/// Unary calls on a connection held by one thread at a time, which reads its answer itself.
///
/// A shared connection hands every answer from its reader thread to the waiting caller: two
/// thread wake-ups per call (the reader, then the caller), a condition variable and contended
/// locks when many threads call at once. A thread holding a connection of its own (checked out of
/// ``EndpointSlot``'s idle list for one call) sends the request and waits in `poll` on the socket,
/// so the kernel wakes the caller directly when the answer arrives.
///
/// The protocol is the same: deadlines travel in the request, an expired call sends CANCEL, PING
/// is answered, GOAWAY lets the call in flight finish and retires the connection; answers to calls
/// given up earlier (after their deadline) are recognised by their call id and dropped.
extension ClientConnection {
    /// Sends a unary request and waits, on this thread, for its answer.
    /// - Important: only the thread that checked the connection out may call this.
    /// - Throws: ``RPCError``: the server's status; `DEADLINE_EXCEEDED` (CANCEL sent); `UNAVAILABLE`
    ///   when the connection breaks (`transport.sent` says whether the request left).
    func call(method: String, payload: [UInt8], metadata: [String: String], deadline: Deadline) throws -> [UInt8] {
        precondition(callerReads, "call(method:...) is for connections without a reader thread")
        let callID: UInt64? = stateLock.withLock {
            guard !closed && !draining else { return nil }
            let id = nextCallID
            nextCallID += 1
            return id
        }
        guard let callID else {
            throw RPCError(.unavailable, "conexão indisponível / connection unavailable", metadata: [TransportMetadata.sent: "false"])
        }
        var frame = RpcV1.Frame()
        frame.kind = .request
        frame.callID = callID
        frame.method = method
        frame.timeoutMs = UInt32(clamping: max(1, deadline.remainingMilliseconds))
        frame.metadata = metadata
        frame.payload = payload
        frame.endStream = true
        guard write(frame) else {
            markBroken()
            throw RPCError(.unavailable, "falha ao enviar / send failed", metadata: [TransportMetadata.sent: "false"])
        }
        return try awaitAnswer(callID: callID, deadline: deadline)
    }

    /// Reads frames until the answer to `callID` arrives or the deadline passes.
    private func awaitAnswer(callID: UInt64, deadline: Deadline) throws -> [UInt8] {
        while true {
            if let answer = try nextFrames(untilAnswerTo: callID) { return try answer.get() }
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 || deadline.hasPassed {
                sendCancel(callID: callID)
                throw RPCError(.deadlineExceeded, "prazo da chamada esgotado / deadline exceeded")
            }
            _ = try receive(waitingMilliseconds: remaining)
        }
    }

    /// Handles the frames decoded so far; the answer to `callID` when it is among them.
    private func nextFrames(untilAnswerTo callID: UInt64?) throws -> Result<[UInt8], RPCError>? {
        while true {
            let frame: RpcV1.Frame?
            do { frame = try callerDecoder.next() } catch {
                let failure = RPCError(.unavailable, "resposta inválida do servidor / invalid frame from server: \(error)",
                                       metadata: [TransportMetadata.sent: "true"])
                markBroken(failure)
                throw failure
            }
            guard let frame else { return nil }
            switch frame.kind {
            case .response:
                if let callID, frame.callID == callID {
                    return RPCError(status: frame.status).map { .failure($0) } ?? .success(frame.payload)
                }
                // A connection-wide error (the server closes next), or the late answer of a call given up.
                if frame.callID == 0, let error = RPCError(status: frame.status) { stateLock.withLock { closeError = error } }
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
            default:
                break
            }
        }
    }

    /// Waits up to `milliseconds` for bytes and decodes them; false when none came in time.
    /// - Throws: `UNAVAILABLE` (sent) when the connection closed.
    private func receive(waitingMilliseconds milliseconds: Int) throws -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, Int32(clamping: milliseconds))
        if ready == 0 || (ready < 0 && errno == EINTR) { return false }
        return try receiveAvailable()
    }

    /// Reads what the socket holds now into the decoder.
    /// - Throws: `UNAVAILABLE` (sent) when the connection closed.
    private func receiveAvailable() throws -> Bool {
        let read = withUnsafeTemporaryAllocation(byteCount: 16 << 10, alignment: 8) { buffer -> Int in
            let n = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 { callerDecoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
            return n
        }
        if read > 0 { return true }
        if read < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return false }
        var failure = stateLock.withLock { closeError }
        failure.metadata[TransportMetadata.sent] = "true"
        markBroken(failure)
        throw failure
    }

    /// Before a checked-in connection is used again: reads what arrived while it was idle (late
    /// answers, PING, GOAWAY, the server closing it). False when it can no longer take calls.
    func readyForCall() -> Bool {
        guard isUsable else { return false }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&pfd, 1, 0) > 0 {
            do {
                guard try receiveAvailable() else { break }
                _ = try nextFrames(untilAnswerTo: nil)
            } catch {
                return false
            }
            pfd.revents = 0
        }
        return isUsable
    }

    /// Takes the connection out of use (its socket closes when it is released).
    private func markBroken(_ error: RPCError? = nil) {
        stateLock.withLock {
            closed = true
            if let error { closeError = error }
        }
    }
}
