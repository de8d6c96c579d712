import Foundation

/// Deletes the rows of a table older than a cutoff, all at once or the oldest `limit` of them:
/// what ``IdempotencyStore/prune(_:olderThan:limit:)`` and ``Inbox/prune(_:olderThan:limit:)``
/// share (same SQL on both engines; row values in `IN`, SQLite 3.15+).
enum OldRows {
    /// - Parameters:
    ///   - table: The table; `key` its primary key's columns (`scope, idem_key`); `time` its
    ///     timestamp column, indexed.
    /// - Returns: The number of rows deleted.
    static func delete(_ executor: any SQLExecutor, table: String, key: String, time: String, before cutoff: Date, limit: Int?) throws -> Int {
        guard let limit else {
            return try executor.execute("DELETE FROM \(table) WHERE \(time) < ?", [.timestamp(cutoff)])
        }
        return try executor.execute("""
            DELETE FROM \(table) WHERE (\(key)) IN (SELECT \(key) FROM \(table) WHERE \(time) < ? ORDER BY \(time) LIMIT ?)
            """, [.timestamp(cutoff), .integer(Int64(limit))])
    }
}
