import Foundation
import Storage

/// Request counters shared by every gateway instance on one database (`gateway_rate_windows`):
/// fixed windows aligned to the clock, one row per key and window. Instances do not count each
/// request there: a ``RateLimiter`` reserves a batch of requests at a time (its local allowance)
/// and spends it in memory, so the database sees one write per batch.
public final class SharedRateCounter: Sendable {
    let database: any Database
    private let sweeps = SweepSchedule(interval: 60)

    public init(database: any Database) {
        self.database = database
    }

    /// Adds `amount` to `key`'s count in the window starting at `windowStart` (epoch seconds) and
    /// returns the count after it, across every instance.
    /// - Throws: ``StorageError`` when the database does not answer.
    public func reserve(_ key: String, windowStart: Int64, windowSeconds: Int, amount: Int) throws -> Int {
        let total = try database.write { tx in
            try tx.queryOne("""
                INSERT INTO gateway_rate_windows (bucket, window_start, ends_at, used) VALUES (?, ?, ?, ?)
                ON CONFLICT (bucket, window_start) DO UPDATE SET used = gateway_rate_windows.used + excluded.used
                RETURNING used
                """, [.text(key), .integer(windowStart), .integer(windowStart + Int64(windowSeconds)), .integer(Int64(amount))])?.int("used")
                ?? Int64(amount)
        }
        sweep()
        return Int(total)
    }

    /// Deletes windows that ended, at most once a minute per instance.
    func sweep() {
        let now = Int64(Date().timeIntervalSince1970)
        guard sweeps.isDue(now: now) else { return }
        _ = try? database.write { tx in
            try tx.execute("DELETE FROM gateway_rate_windows WHERE ends_at < ?", [.integer(now)])
        }
    }
}
