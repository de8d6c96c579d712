import CSystem
import Synchronization

/// A value delivered once by one thread and awaited by others: how a thread blocks for an RPC's
/// answer that a connection's reader thread completes.
///
/// Cheaper than a mutex with a condition variable for this one hand-off: waiting and completing
/// are one futex call each, and none when the value is there before anyone waits (glibc's
/// `pthread_cond_wait` re-takes its mutex as contended, so the waiter's unlock was a third futex
/// call on every answer), and nothing is allocated besides the object itself.
///
/// ```swift
/// let answer = OneShotResult<Int>()
/// Thread { answer.complete(42) }.start()
/// let value = answer.wait()   // 42
/// ```
public final class OneShotResult<Value: Sendable>: @unchecked Sendable {
    /// The event word (`csystem_event_set`): 0 not set, 1 a thread sleeps, 2 set. Touched only
    /// through the C atomics of `csystem_event_*` (what makes the `@unchecked Sendable` sound).
    private let word: UnsafeMutablePointer<UInt32>
    /// The value; only the first ``complete(_:)`` stores one.
    private let value = Mutex<Value?>(nil)

    public init() {
        word = .allocate(capacity: 1)
        word.initialize(to: 0)
    }

    deinit { word.deallocate() }

    /// Delivers `value` and wakes the waiters; later calls do nothing.
    /// - Returns: true when this call delivered it.
    @discardableResult
    public func complete(_ value: Value) -> Bool {
        let first = self.value.withLock { stored -> Bool in
            guard stored == nil else { return false }
            stored = value
            return true
        }
        if first { csystem_event_set(word) }
        return first
    }

    /// True once a value was delivered.
    public var isCompleted: Bool { value.withLock { $0 != nil } }

    /// Blocks until the value is delivered, or until `deadline` (monotonic nanoseconds) passes.
    /// - Returns: the value; `nil` when the deadline passed first.
    public func wait(untilUptimeNanoseconds deadline: UInt64? = nil) -> Value? {
        // 0 means "no deadline" to the C side: a deadline of 0 has passed already.
        guard csystem_event_wait(word, deadline.map { max($0, 1) } ?? 0) == 1 else { return nil }
        return value.withLock { $0 }
    }
}
