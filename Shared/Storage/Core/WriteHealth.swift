import Synchronization

/// Whether a database's most recent write failed because it cannot take work
/// (``StorageError/isUnavailable``: unreachable, locked, full, closed), kept by the engine from
/// the outcome of every ``Database/write(_:)`` and cleared by the next one that commits.
///
/// A service's health check reads it (a database that answers `SELECT 1` but takes no writes is
/// not serving) without adding a write per check; while it holds a failure, ServiceKit commits a
/// small probe write every few seconds (``Database/probeWrite()``) so that it clears once the
/// database takes writes again even when no caller writes.
public final class WriteHealth: Sendable {
    private let failing = Atomic<Bool>(false)
    private let reason = Mutex<String?>(nil)

    public init() {}

    /// Why the most recent write failed, when it failed for a reason that makes the database
    /// unable to take work; nil once a write committed after it.
    public var failure: String? {
        guard failing.load(ordering: .acquiring) else { return nil }
        return reason.withLock { $0 }
    }

    /// Runs the write `attempt` (with its retries) and records its outcome: a commit clears the
    /// failure, an unavailable ``StorageError`` records it; any other error says nothing about
    /// the database and changes nothing.
    func observe<T>(_ attempt: () throws -> T) throws -> T {
        do {
            let result = try attempt()
            // The common case costs one atomic load.
            if failing.load(ordering: .relaxed) {
                reason.withLock { $0 = nil }
                failing.store(false, ordering: .releasing)
            }
            return result
        } catch let error as StorageError where error.isUnavailable {
            // Without the statement: the reason reaches health answers and `/readyz`.
            reason.withLock { $0 = StorageError(error.kind, error.message, code: error.code).description }
            failing.store(true, ordering: .releasing)
            throw error
        }
    }
}

extension Database {
    /// Commits a one-row write (`storage_write_probe`): whether the database takes writes now,
    /// found the only honest way (a full disk shows only on a write that reaches it). Recorded in
    /// ``Database/writeHealth`` like any write.
    /// - Throws: ``StorageError`` when the write fails.
    public func probeWrite() throws {
        try write { tx in
            _ = try tx.execute("""
                INSERT INTO storage_write_probe (id, probed_at) VALUES (1, ?)
                ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at
                """, [.integer(EpochMillis.now())])
        }
    }
}
