import Foundation
import RPC
import Storage
import Synchronization

/// Ended sessions, told to every gateway instance on one database (`gateway_session_revocations`),
/// so that a logout, a password change or a disabled user on one instance ends the session's
/// cached lookups on the others within ``intervalMilliseconds``.
///
/// Each revocation takes the next number of a one-row clock (`gateway_revocation_clock`) in the
/// transaction that ends the session; the clock's row lock serialises those transactions, so
/// numbers become visible in order and an instance can read "everything after the last number I
/// applied". An instance uses its session cache only while its last look at the log started less
/// than ``intervalMilliseconds`` ago; otherwise the request that finds it stale reads the log first
/// (one indexed query per interval per instance, whatever the traffic) and drops the sessions named
/// there. Rows older than 10 minutes are deleted (a cached session lives 5 s).
final class SessionRevocations: Sendable {
    let database: any Database
    /// Bound on how long another instance may still answer from a revoked session's cached lookup.
    let intervalMilliseconds: Int
    private struct State {
        /// The last revocation number applied; `nil` before the first look.
        var cursor: Int64?
        var checking = false
    }
    private let state = Mutex(State())
    /// Monotonic time the last successful look started, plus one (0: no look yet). Read without
    /// the lock by every authenticated request: with the lock, 16 HTTP threads on two cores queued
    /// on it whenever its holder was preempted (a fifth of the gateway's samples on cached views).
    private let lookedAt = Atomic<UInt64>(0)
    private let sweeps = SweepSchedule(interval: 60_000)
    static let keepMilliseconds: Int64 = 600_000

    init(database: any Database, intervalMilliseconds: Int) {
        self.database = database
        self.intervalMilliseconds = max(0, intervalMilliseconds)
    }

    /// Records in the caller's transaction that the session `tokenHash`, or every session of
    /// `userID`, ended.
    static func record(_ tx: any SQLExecutor, tokenHash: String? = nil, userID: String? = nil) throws {
        guard let seq = try tx.queryOne("UPDATE gateway_revocation_clock SET seq = seq + 1 WHERE id = 1 RETURNING seq", [])?.int("seq") else {
            return
        }
        try tx.execute("INSERT INTO gateway_session_revocations (seq, token_hash, user_id, revoked_at) VALUES (?, ?, ?, ?)",
                       [.integer(seq), SQLValue(tokenHash), SQLValue(userID), .integer(CredentialStore.now())])
    }

    /// Brings `cache` up to date with the revocations of every instance when the last look is
    /// older than the interval. Returns whether cached sessions may be used now: false with an
    /// interval of 0 (no session cache), while another thread is looking or when the database did
    /// not answer (the caller then reads the session itself).
    func refresh(_ cache: SessionCache, now: UInt64 = MonotonicClock.nanoseconds()) -> Bool {
        guard intervalMilliseconds > 0 else { return false }
        let interval = UInt64(intervalMilliseconds) * 1_000_000
        let looked = lookedAt.load(ordering: .acquiring)
        if looked != 0 && now &- (looked - 1) < interval { return true }
        let (fresh, cursor) = state.withLock { state -> (Bool, Int64??) in
            let looked = lookedAt.load(ordering: .acquiring)
            if state.cursor != nil && looked != 0 && now &- (looked - 1) < interval { return (true, nil) }
            if state.checking { return (false, nil) }
            state.checking = true
            return (false, .some(state.cursor))
        }
        if fresh { return true }
        guard let cursor else { return false }
        let started = MonotonicClock.nanoseconds()
        do {
            let (rows, clock) = try database.read { tx -> ([Row], Int64) in
                guard let cursor else {
                    let clock = try tx.queryOne("SELECT seq FROM gateway_revocation_clock WHERE id = 1", [])?.int("seq") ?? 0
                    return ([], clock)
                }
                let rows = try tx.query("""
                    SELECT seq, token_hash, user_id FROM gateway_session_revocations WHERE seq > ? ORDER BY seq
                    """, [.integer(cursor)])
                return (rows, try rows.last?.int("seq") ?? cursor)
            }
            if !rows.isEmpty {
                cache.apply(tokenHashes: rows.compactMap { $0.optionalText("token_hash") },
                            userIDs: rows.compactMap { $0.optionalText("user_id") })
            }
            state.withLock { state in
                state.cursor = clock
                state.checking = false
                lookedAt.store(started &+ 1, ordering: .releasing)
            }
            sweep()
            return true
        } catch {
            state.withLock { $0.checking = false }
            return false
        }
    }

    /// Deletes revocations older than ``keepMilliseconds``, at most once a minute per instance.
    private func sweep() {
        let now = CredentialStore.now()
        guard sweeps.isDue(now: now) else { return }
        _ = try? database.write { tx in
            try tx.execute("DELETE FROM gateway_session_revocations WHERE revoked_at < ?", [.integer(now - Self.keepMilliseconds)])
        }
    }
}
