import Foundation
import Storage

/// Slows down password guessing: after `maxFailures` failed sign-ins for an e-mail (or
/// `maxFailures * 4` from one address) within `windowSeconds`, further attempts are refused with
/// 429 until the oldest one in the window is `windowSeconds` old. An IPv6 address counts as its
/// /64 (``ClientNetwork``). A successful sign-in clears the
/// e-mail's count.
///
/// Attempts are rows of the gateway's database (`gateway_login_failures`, one per attempt and
/// bucket; buckets are stored as SHA-256 of `e:<e-mail>` and `a:<address>`), so every gateway
/// instance on that database (a shared SQLite file or PostgreSQL) counts the same attempts: N
/// instances do not allow N times the guesses. An attempt is **counted before its password is
/// checked**, and attempts on one bucket take turns: each counts, in its own write transaction,
/// the attempts committed before it and records itself only when it is allowed (SQLite's single
/// writer serializes them; on PostgreSQL a transaction-level advisory lock per bucket). So
/// exactly `maxFailures` attempts per e-mail are checked in a window, whatever the concurrency,
/// no more and no fewer: a burst is answered as the same attempts one after the other would be.
/// A refused attempt leaves no row (it does not extend the wait); a successful one deletes its
/// own rows and the e-mail's. One write transaction per sign-in next to the Argon2id check, and
/// one more on success.
public final class LoginThrottle: Sendable {
    public let maxFailures: Int
    public let windowSeconds: Int
    let database: any Database
    private let sweeps = SweepSchedule(interval: 60_000)

    public init(database: any Database, maxFailures: Int = 5, windowSeconds: Int = 900) {
        self.database = database
        self.maxFailures = maxFailures
        self.windowSeconds = windowSeconds
    }

    /// An attempt allowed to check its password.
    public struct Attempt: Sendable {
        let id: String
        let emailBucket: String
    }

    /// The outcome of ``begin(email:address:now:)``.
    public enum Admission: Sendable {
        case allowed(Attempt)
        /// Seconds to wait before trying again.
        case refused(retryAfter: Int)
    }

    static func bucket(email: String) -> String { Tokens.digest("e:" + email) }
    /// An address's bucket: its ``ClientNetwork`` (an IPv6 address's /64).
    static func bucket(address: String) -> String { Tokens.digest("a:" + ClientNetwork.key(address)) }

    /// The advisory-lock class of the buckets' turns on PostgreSQL ("LT").
    static let lockClass: Int32 = 0x4C54

    /// Counts the attempts for the e-mail and the address committed before this one and, when
    /// both are under their limits, records it and lets it check its password (it counts as a
    /// failure until ``succeeded(_:)``).
    /// - Throws: ``StorageError`` when the database does not answer.
    public func begin(email: String, address: String, now: Date = Date()) throws -> Admission {
        let t = Int64(now.timeIntervalSince1970 * 1000)
        let window = Int64(windowSeconds) * 1000
        let attempt = Attempt(id: Tokens.random(12), emailBucket: Self.bucket(email: email))
        let byAddress = Self.bucket(address: address)
        let admission = try database.write { tx -> Admission in
            if tx.engine == .postgres {
                // In a fixed order, so two attempts sharing both buckets cannot wait on each other.
                let buckets = [attempt.emailBucket, byAddress].sorted()
                try tx.execute("SELECT pg_advisory_xact_lock(\(Self.lockClass), hashtext(?)), pg_advisory_xact_lock(\(Self.lockClass), hashtext(?))",
                               buckets.map { .text($0) })
            }
            let rows = try tx.query("""
                SELECT bucket, COUNT(*) AS attempts, MIN(failed_at) AS oldest FROM gateway_login_failures
                WHERE bucket IN (?, ?) AND failed_at > ? GROUP BY bucket
                """, [.text(attempt.emailBucket), .text(byAddress), .integer(t - window)])
            for row in rows {
                let limit = try row.text("bucket") == attempt.emailBucket ? maxFailures : maxFailures * 4
                if try row.int("attempts") >= Int64(limit) {
                    let wait = (try row.int("oldest") + window - t + 999) / 1000
                    return .refused(retryAfter: Int(max(1, wait)))
                }
            }
            try tx.execute("INSERT INTO gateway_login_failures (bucket, failed_at, attempt) VALUES (?, ?, ?), (?, ?, ?)",
                           [.text(attempt.emailBucket), .integer(t), .text(attempt.id), .text(byAddress), .integer(t), .text(attempt.id)])
            return .allowed(attempt)
        }
        sweep(now: t)
        return admission
    }

    /// The attempt signed in: its rows and the e-mail's earlier failures go.
    public func succeeded(_ attempt: Attempt) throws {
        try database.write { tx in
            try tx.execute("DELETE FROM gateway_login_failures WHERE attempt = ? OR bucket = ?",
                           [.text(attempt.id), .text(attempt.emailBucket)])
        }
    }

    /// Deletes attempts older than the window, at most once a minute per instance.
    private func sweep(now: Int64) {
        guard sweeps.isDue(now: now) else { return }
        _ = try? database.write { tx in
            try tx.execute("DELETE FROM gateway_login_failures WHERE failed_at <= ?", [.integer(now - Int64(windowSeconds) * 1000)])
        }
    }
}
