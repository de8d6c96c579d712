import Foundation
import Observability
import RPC
import RPCTransport
import ServiceKit

/// Runs a clean-up on its own thread every `interval` seconds: round after round (at most 1,000)
/// while `round` says a backlog remains, and again at the next interval after a failure.
/// Garbage collection of uploads and the mail retention are both this.
final class PeriodicSweep: BackgroundService, @unchecked Sendable {
    let name: String
    let failureMessage: String
    let interval: Double
    let logger: Logger
    /// One round; returns whether there is more to do right away.
    let round: @Sendable () throws -> Bool
    private let lock = ConditionLock()
    // Guarded by lock.
    private var stopping = false
    private var thread: Thread?
    private var finished = false

    /// - Parameters:
    ///   - name: The thread's name.
    ///   - failureMessage: The warning logged when a round throws.
    init(name: String, failureMessage: String, interval: Double, logger: Logger, round: @escaping @Sendable () throws -> Bool) {
        self.name = name
        self.failureMessage = failureMessage
        self.interval = interval
        self.logger = logger
        self.round = round
    }

    func start() {
        let thread = Thread { [self] in
            while !sleep(interval) {
                do {
                    for _ in 0..<1_000 where !lock.withLock({ stopping }) {
                        if try !round() { break }
                    }
                } catch {
                    logger.warning(failureMessage, ["error": "\(error)"])
                }
            }
            lock.withLock {
                finished = true
                lock.broadcast()
            }
        }
        thread.name = name
        lock.withLock { self.thread = thread }
        thread.start()
    }

    /// Waits `seconds` or until stopped; returns whether it was stopped.
    private func sleep(_ seconds: Double) -> Bool {
        let deadline = MonotonicClock.nanoseconds() + UInt64(seconds * 1e9)
        return lock.withLock { () -> Bool in
            while !stopping && MonotonicClock.nanoseconds() < deadline {
                _ = lock.wait(untilUptimeNanoseconds: deadline)
            }
            return stopping
        }
    }

    func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
            while thread != nil && !finished { _ = lock.wait() }
        }
    }
}
