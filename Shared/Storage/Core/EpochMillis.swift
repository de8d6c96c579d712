import Foundation

/// Conversions between `Date`/`Duration` and the integer milliseconds stored in the database.
enum EpochMillis {
    /// Milliseconds since the Unix epoch for `date`.
    static func from(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The current wall-clock time in milliseconds since the Unix epoch.
    static func now() -> Int64 { from(Date()) }

    /// The `Date` for `millis` milliseconds since the Unix epoch.
    static func date(_ millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }
}

extension Duration {
    /// This duration in whole milliseconds (rounded down, never negative).
    var wholeMilliseconds: Int64 {
        let parts = components
        let millis = parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
        return max(0, millis)
    }

    /// This duration in seconds as a `TimeInterval`.
    var timeInterval: TimeInterval {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
