import Foundation
import Storage

/// Slows down password guessing: after `maxFailures` failed sign-ins for an e-mail (or
/// `maxFailures * 4` from one address) within `windowSeconds`, further attempts are refused with
/// 429 until the oldest one in the window is `windowSeconds` old. A successful sign-in clears the
/// e-mail's count.
///
/// Attempts are rows of the gateway's database (`gateway_login_failures`, one per attempt and
/// bucket; buckets are stored as SHA-256 of `e:<e-mail>` and `a:<address>`), so every gateway
/// instance on that database (a shared SQLite file or PostgreSQL) counts the same attempts: N
/// instances do not allow N times the guesses. An attempt is **counted before its password is
/// checked** — its rows are committed, then the bucket is counted — so concurrent attempts cannot
/// all pass a check made before any of them failed: the i-th attempt to commit counts at least i,
/// and at most `maxFailures` attempts per e-mail are verified in a window, whatever the
/// concurrency. A refused attempt's rows are deleted (it does not extend the wait); a successful
/// one deletes its own rows and the e-mail's. Three small statements per sign-in, nothing next to
/// the Argon2id verification.
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
    static func bucket(address: String) -> String { Tokens.digest("a:" + address) }

    /// Counts an attempt for the e-mail and the address, then says whether it may check its
    /// password (the attempt counts as a failure until ``succeeded(_:)``).
    /// - Throws: ``StorageError`` when the database does not answer.
    public func begin(email: String, address: String, now: Date = Date()) throws -> Admission {
        let t = Int64(now.timeIntervalSince1970 * 1000)
        let window = Int64(windowSeconds) * 1000
        let attempt = Attempt(id: Tokens.random(12), emailBucket: Self.bucket(email: email))
        let byAddress = Self.bucket(address: address)
        try database.write { tx in
            try tx.execute("INSERT INTO gateway_login_failures (bucket, failed_at, attempt) VALUES (?, ?, ?), (?, ?, ?)",
                           [.text(attempt.emailBucket), .integer(t), .text(attempt.id), .text(byAddress), .integer(t), .text(attempt.id)])
        }
        sweep(now: t)
        // Counted after the rows are committed: every attempt committed earlier is seen.
        let rows = try database.read { tx in
            try tx.query("""
                SELECT bucket, COUNT(*) AS attempts, MIN(failed_at) AS oldest FROM gateway_login_failures
                WHERE bucket IN (?, ?) AND failed_at > ? GROUP BY bucket
                """, [.text(attempt.emailBucket), .text(byAddress), .integer(t - window)])
        }
        for row in rows {
            let limit = try row.text("bucket") == attempt.emailBucket ? maxFailures : maxFailures * 4
            if try row.int("attempts") > Int64(limit) {
                try database.write { tx in
                    try tx.execute("DELETE FROM gateway_login_failures WHERE attempt = ?", [.text(attempt.id)])
                }
                let wait = (try row.int("oldest") + window - t + 999) / 1000
                return .refused(retryAfter: Int(max(1, wait)))
            }
        }
        return .allowed(attempt)
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
