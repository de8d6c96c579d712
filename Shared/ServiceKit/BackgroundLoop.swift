import Foundation
import RPC
import RPCTransport

/// A named thread that runs a service's background loop (a poller, a sweep, a sender) with an
/// interruptible sleep: ``sleep(_:)`` returns early on ``wake()`` and ends the loop on ``stop()``,
/// which waits until the loop has returned.
///
/// ```swift
/// let loop = BackgroundLoop(name: "intake-gc")
/// loop.start { loop in
///     while loop.sleep(60) { sweep() }
/// }
/// ```
///
/// Waits run on the monotonic clock, so a change of the wall clock neither wakes nor stalls them.
public final class BackgroundLoop: @unchecked Sendable {
    /// The thread's name (shown by `top -H`, `perf` and debuggers).
    public let name: String
    private let lock = ConditionLock()
    // Guarded by lock.
    private var stopping = false
    private var woken = false
    private var running = false

    public init(name: String) {
        self.name = name
    }

    /// Starts the thread running `body`; the loop is expected to return once ``sleep(_:)``
    /// returns false or ``isStopping`` is true.
    public func start(_ body: @escaping @Sendable (BackgroundLoop) -> Void) {
        lock.withLock {
            stopping = false
            running = true
        }
        let thread = Thread { [self] in
            body(self)
            lock.withLock {
                running = false
                lock.broadcast()
            }
        }
        thread.name = name
        thread.start()
    }

    /// Starts the thread running `pass` at once and then every `interval` seconds (sooner after
    /// ``wake()``) until stopped.
    public func start(every interval: Double, _ pass: @escaping @Sendable () -> Void) {
        start { loop in
            repeat { pass() } while loop.sleep(interval)
        }
    }

    /// Whether ``stop()`` was called: a long pass checks it between steps.
    public var isStopping: Bool { lock.withLock { stopping } }

    /// Waits `seconds`, or less when woken.
    /// - Returns: false when the loop must end (stopped before or during the wait).
    public func sleep(_ seconds: Double) -> Bool {
        let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, seconds) * 1e9)
        return lock.withLock { () -> Bool in
            while !stopping && !woken && MonotonicClock.nanoseconds() < deadline {
                _ = lock.wait(untilUptimeNanoseconds: deadline)
            }
            woken = false
            return !stopping
        }
    }

    /// Ends the current or next ``sleep(_:)`` at once (the pass after it runs now).
    public func wake() {
        lock.withLock {
            woken = true
            lock.broadcast()
        }
    }

    /// Ends the loop and waits until its body has returned (at once when it never started).
    public func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
            while running { _ = lock.wait() }
        }
    }
}
