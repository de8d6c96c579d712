import Foundation

/// The changing side of a ``ChildProcess``: how it ended and what it wrote, guarded by one
/// condition that the threads reading its pipes share.
///
/// Every `waitpid` that reaps the child runs with the lock held, and so does every signal sent
/// to it: a signal therefore never reaches a process that reused the id of a reaped child.
/// Blocking waits use `waitid(..., WNOWAIT)`, which does not reap, outside the lock.
final class ChildProcessState: @unchecked Sendable {
    typealias Stream = ChildProcess.Stream
    typealias Termination = ChildProcess.Termination

    private let pid: pid_t
    private let condition = NSCondition()
    private var ended: Termination?  // guarded by condition
    private var buffers: [Stream: [UInt8]] = [:]  // guarded by condition
    private var open: Set<Stream>  // captured streams not at end of file yet; guarded by condition

    init(pid: pid_t, capturing streams: [Stream]) {
        self.pid = pid
        open = Set(streams)
    }

    // MARK: Exit

    /// How the child ended (reaping it if it just has), or nil while it runs. Never blocks.
    func termination() -> Termination? {
        condition.lock()
        defer { condition.unlock() }
        return reapIfEnded()
    }

    /// Blocks until the child has ended, and reaps it.
    func waitUntilExit() -> Termination {
        while true {
            if let ended = termination() { return ended }
            var info = siginfo_t()
            // Returns once the child has ended, leaving it to termination() to reap.
            _ = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
        }
    }

    /// Sends `number` unless the child has ended; returns whether it was sent.
    func signal(_ number: Int32) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return reapIfEnded() == nil && kill(pid, number) == 0
    }

    /// With the lock held: the termination, reaping the child if it has ended.
    private func reapIfEnded() -> Termination? {
        if let ended { return ended }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, WNOHANG) } while result == -1 && errno == EINTR
        if result == pid {
            ended = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        } else if result == -1 {
            ended = .exited(-1)  // ECHILD: reaped by someone else
        } else {
            return nil
        }
        ChildRegistry.remove(pid)
        condition.broadcast()
        return ended
    }

    // MARK: Captured output

    /// Reads `fd` until end of file on a thread of its own, into the buffer of `stream`; closes it.
    func startReading(_ fd: Int32, _ stream: Stream, name: String) {
        let thread = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                condition.lock()
                if count > 0 {
                    buffers[stream, default: []].append(contentsOf: chunk[..<count])
                } else {
                    open.remove(stream)
                }
                condition.broadcast()
                condition.unlock()
                if count <= 0 {
                    close(fd)
                    return
                }
            }
        }
        thread.name = "\(name) \(stream == .standardOutput ? "stdout" : "stderr")"
        thread.start()
    }

    /// Writes `bytes` into `fd` on a thread of its own, then closes it. A child that exits
    /// without reading everything ends the writing (EPIPE; SIGPIPE is blocked on that thread).
    static func startWriting(_ bytes: [UInt8], to fd: Int32, name: String) {
        let thread = Thread {
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        break
                    }
                    offset += written
                }
            }
            close(fd)
        }
        thread.name = "\(name) stdin"
        thread.start()
    }

    func captured(_ stream: Stream) -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        return buffers[stream] ?? []
    }

    /// Waits until `stream` contains `needle`; false at `limit` or once the stream has ended without it.
    func waitForCaptured(_ stream: Stream, containing needle: [UInt8], until limit: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        var searched = 0  // bytes already searched: only the new ones (and an overlap) are searched again
        while true {
            let start = max(0, searched - needle.count + 1)
            let (found, length) = buffers[stream, default: []].withUnsafeBufferPointer { (Self.find(needle, in: $0, from: start), $0.count) }
            if found { return true }
            searched = length
            guard open.contains(stream) else { return false }
            if !condition.wait(until: limit) {  // timed out: one last look at what came meanwhile
                return buffers[stream, default: []].withUnsafeBufferPointer { Self.find(needle, in: $0, from: max(0, length - needle.count + 1)) }
            }
        }
    }

    /// Waits until every captured stream has ended (at most until `limit`); returns whether they have.
    func waitForEndOfCapture(until limit: Date?) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !open.isEmpty {
            if let limit {
                if !condition.wait(until: limit) { return open.isEmpty }
            } else {
                condition.wait()
            }
        }
        return true
    }

    private static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
