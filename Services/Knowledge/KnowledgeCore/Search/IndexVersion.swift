import Storage

/// The change counter the in-memory search index follows (`kb_meta.index`).
///
/// Every transaction that changes an article or a forum entry takes the next value and stamps the
/// changed rows' `index_version` with it. The `UPDATE` locks the counter row until commit, so
/// versions become visible in order: a reader that sees version *n* committed has seen every
/// version below it, and "rows with `index_version` > last seen" never skips a change.
enum IndexVersion {
    /// Increments the counter and returns the new value (inside the caller's write transaction).
    static func next(_ tx: any SQLExecutor) throws -> Int64 {
        guard let row = try tx.queryOne("UPDATE kb_meta SET value = value + 1 WHERE key = 'index' RETURNING value", []) else {
            throw StorageError(.other, "kb_meta.index is missing (migration 2 not applied?)")
        }
        return try row.int("value")
    }
}
