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

/// Several guarded writes in **one** PostgreSQL statement: each guard is an insert that may do
/// nothing (`ON CONFLICT … DO NOTHING RETURNING …`), and the writes added after it refer to it
/// by name (`… FROM guard` or `WHERE EXISTS (SELECT 1 FROM guard)`) so they happen only when its
/// row was inserted. ``run(_:)`` answers which guards inserted, so the caller can take its
/// ordinary path for the others. PostgreSQL only (data-modifying CTEs); parameters of a write
/// whose values go through a `SELECT` need typed placeholders (`CAST(? AS BIGINT)`).
///
/// ```swift
/// var statement = GuardedWrites()
/// statement.guardInsert("fresh", into: "a", columns: "id", values: [.text(id)], conflict: "id", returning: "id")
/// statement.add("INSERT INTO b (a_id, n) SELECT id, CAST(? AS BIGINT) FROM fresh", [.integer(1)])
/// let inserted = try statement.run(tx)   // ["fresh"] when the row was new
/// ```
struct GuardedWrites {
    private(set) var ctes: [String] = []
    private(set) var params: [SQLValue] = []
    private(set) var guards: [String] = []
    /// An SQL condition every guard's insert also requires (e.g. on a CTE of a larger statement
    /// these writes join: ``TicketIntake``'s ticket insert); `nil`: none.
    let condition: String?

    init(condition: String? = nil) {
        self.condition = condition
    }

    var isEmpty: Bool { ctes.isEmpty }

    /// Adds the guard `name`: the insert of one row of `values` into `table`'s `columns` that
    /// does nothing on a conflict on `conflict` (or when ``condition`` does not hold), returning
    /// `returning` exactly when it wrote the row. Values are sent with typed placeholders.
    mutating func guardInsert(_ name: String, into table: String, columns: String, values: [SQLValue], conflict: String,
                              returning: String) {
        let sql = "INSERT INTO \(table) (\(columns)) SELECT \(typedPlaceholders(values))\(condition.map { " WHERE \($0)" } ?? "") "
            + "ON CONFLICT (\(conflict)) DO NOTHING RETURNING \(returning)"
        ctes.append("\(name) AS (\(sql))")
        params += values
        guards.append(name)
    }

    /// The `SELECT` list answering, per guard, whether it inserted (`COUNT(*)` of its CTE).
    var guardCounts: String {
        guards.map { "(SELECT COUNT(*) FROM \($0)) AS \($0)" }.joined(separator: ", ")
    }

    /// The guards whose count in `row` (from ``guardCounts``) says they inserted.
    func inserted(_ row: Row) -> Set<String> {
        Set(guards.filter { ((try? row.int($0)) ?? 0) > 0 })
    }

    /// Adds a write (it may name guards added before it).
    mutating func add(_ sql: String, _ params: [SQLValue]) {
        ctes.append("w\(ctes.count) AS (\(sql))")
        self.params += params
    }

    /// Adds every write of `batch`, in order.
    mutating func add(_ batch: WriteBatch) {
        for statement in batch.statements { add(statement.sql, statement.params) }
    }

    /// Runs everything as one statement. - Returns: the guards whose insert wrote its row.
    func run(_ tx: any SQLExecutor) throws -> Set<String> {
        guard !guards.isEmpty else { preconditionFailure("GuardedWrites needs a guard") }
        guard let row = try tx.queryOne("WITH \(ctes.joined(separator: ", ")) SELECT \(guardCounts)", params) else { return [] }
        return inserted(row)
    }
}
