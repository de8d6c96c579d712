import Storage

/// Writes that need no result, sent together: on PostgreSQL as one statement (every write but
/// the last as a data-modifying CTE of the last; each runs exactly once, all on the statement's
/// snapshot), on SQLite one after the other. Only for writes that do not depend on each other's
/// effects (no write may touch a row another one writes or deletes).
///
/// ```swift
/// var batch = WriteBatch()
/// batch.add("INSERT INTO a (x) VALUES (?)", [.integer(1)])
/// batch.add("UPDATE b SET y = ? WHERE id = ?", [.integer(2), .text("k")])
/// try batch.run(tx)   // one round trip on PostgreSQL
/// ```
struct WriteBatch {
    private(set) var statements: [(sql: String, params: [SQLValue])] = []

    var isEmpty: Bool { statements.isEmpty }

    mutating func add(_ sql: String, _ params: [SQLValue]) {
        statements.append((sql, params))
    }

    /// Runs the writes in order (SQLite) or as one statement (PostgreSQL), then empties the batch.
    mutating func run(_ tx: any SQLExecutor) throws {
        defer { statements = [] }
        guard statements.count > 1, tx.engine == .postgres else {
            for statement in statements { try tx.execute(statement.sql, statement.params) }
            return
        }
        var rest = self
        let last = rest.statements.removeLast()
        let ctes = rest.ctes
        try tx.execute("WITH \(ctes.sql) \(last.sql)", ctes.params + last.params)
    }

    /// The writes as PostgreSQL data-modifying CTEs (`w0 AS (...), w1 AS (...)`) and their
    /// parameters in order, for a statement that adds its own CTEs and main query.
    var ctes: (sql: String, params: [SQLValue]) {
        (statements.indices.map { "w\($0) AS (\(statements[$0].sql))" }.joined(separator: ", "), statements.flatMap(\.params))
    }
}
