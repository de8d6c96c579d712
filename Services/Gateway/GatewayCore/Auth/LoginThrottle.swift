import Foundation
import Storage
import Synchronization

/// Slows down password guessing: after `maxFailures` failed sign-ins for an e-mail (or
/// `maxFailures * 4` from one address) within `windowSeconds`, further attempts are refused with
/// 429 until the oldest failure in the window is `windowSeconds` old. A successful sign-in clears
/// the e-mail's count.
///
/// Failures are rows of the gateway's database (`gateway_login_failures`, one per failure and
/// bucket; buckets are stored as SHA-256 of `e:<e-mail>` and `a:<address>`), so every gateway
/// instance on that database (a shared SQLite file or PostgreSQL) counts the same failures: N
/// instances do not allow N times the attempts. Each attempt costs one read, each failure one
/// write — nothing next to the Argon2id verification. Attempts already past the check when the
/// limit is reached (at most one per HTTP thread of each instance) are not refused.
public final class LoginThrottle: Sendable {
    public let maxFailures: Int
    public let windowSeconds: Int
    let database: any Database
    private let lastSweep = Atomic<Int64>(0)

    public init(database: any Database, maxFailures: Int = 5, windowSeconds: Int = 900) {
        self.database = database
        self.maxFailures = maxFailures
        self.windowSeconds = windowSeconds
    }

    static func bucket(email: String) -> String { Tokens.digest("e:" + email) }
    static func bucket(address: String) -> String { Tokens.digest("a:" + address) }

    /// Seconds to wait before trying again, or `nil` when an attempt is allowed now.
    /// - Throws: ``StorageError`` when the database does not answer.
    public func retryAfter(email: String, address: String, now: Date = Date()) throws -> Int? {
        let t = Int64(now.timeIntervalSince1970 * 1000)
        let window = Int64(windowSeconds) * 1000
        let byEmail = Self.bucket(email: email), byAddress = Self.bucket(address: address)
        let rows = try database.read { tx in
            try tx.query("""
                SELECT bucket, COUNT(*) AS failures, MIN(failed_at) AS oldest FROM gateway_login_failures
                WHERE bucket IN (?, ?) AND failed_at > ? GROUP BY bucket
                """, [.text(byEmail), .text(byAddress), .integer(t - window)])
        }
        for row in rows {
            let bucket = try row.text("bucket")
            let failures = Int(try row.int("failures"))
            let limit = bucket == byEmail ? maxFailures : maxFailures * 4
            if failures >= limit {
                let wait = (try row.int("oldest") + window - t + 999) / 1000
                return Int(max(1, wait))
            }
        }
        return nil
    }

    /// Counts a failed sign-in for the e-mail and the address.
    public func recordFailure(email: String, address: String, now: Date = Date()) throws {
        let t = Int64(now.timeIntervalSince1970 * 1000)
        try database.write { tx in
            try tx.execute("INSERT INTO gateway_login_failures (bucket, failed_at) VALUES (?, ?), (?, ?)",
                           [.text(Self.bucket(email: email)), .integer(t), .text(Self.bucket(address: address)), .integer(t)])
        }
        sweep(now: t)
    }

    /// Clears the e-mail's failures (not the address's).
    public func recordSuccess(email: String) throws {
        try database.write { tx in
            try tx.execute("DELETE FROM gateway_login_failures WHERE bucket = ?", [.text(Self.bucket(email: email))])
        }
    }

    /// Deletes failures older than the window, at most once a minute per instance.
    private func sweep(now: Int64) {
        let last = lastSweep.load(ordering: .relaxed)
        guard now - last >= 60_000, lastSweep.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else { return }
        _ = try? database.write { tx in
            try tx.execute("DELETE FROM gateway_login_failures WHERE failed_at <= ?", [.integer(now - Int64(windowSeconds) * 1000)])
        }
    }
}
