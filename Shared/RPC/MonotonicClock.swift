#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds on the monotonic clock: deadlines and durations never jump with the wall clock.
public enum MonotonicClock {
    @inlinable
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// A point in monotonic time after which a call is abandoned.
public struct Deadline: Sendable, Hashable, Comparable {
    /// Monotonic nanoseconds.
    public var uptimeNanoseconds: UInt64

    public init(uptimeNanoseconds: UInt64) {
        self.uptimeNanoseconds = uptimeNanoseconds
    }

    /// `milliseconds` from now.
    public static func after(milliseconds: Int) -> Deadline {
        Deadline(uptimeNanoseconds: MonotonicClock.nanoseconds() &+ UInt64(max(0, milliseconds)) &* 1_000_000)
    }

    /// A deadline so far away it never fires.
    public static let distantFuture = Deadline(uptimeNanoseconds: UInt64.max / 2)

    /// Milliseconds left, at least 0; what a service passes downstream.
    public var remainingMilliseconds: Int {
        let now = MonotonicClock.nanoseconds()
        return uptimeNanoseconds > now ? Int((uptimeNanoseconds - now) / 1_000_000) : 0
    }

    public var hasPassed: Bool { MonotonicClock.nanoseconds() >= uptimeNanoseconds }

    public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.uptimeNanoseconds < rhs.uptimeNanoseconds }
}
