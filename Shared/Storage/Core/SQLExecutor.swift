/// A connection inside a transaction, handed to the body of ``Database/write(_:)`` and
/// ``Database/read(_:)``. Do not keep it after the body returns.
///
/// SQL is written once for both engines with `?` placeholders; values are always bound, never
/// spliced into the text. On PostgreSQL the placeholders are rewritten to `$1…$n` (string literals,
/// quoted identifiers and comments are left alone), so PostgreSQL's `?` JSON operators are not
/// available: use `jsonb_exists(...)` instead. Statements are prepared once per connection and
/// cached. One call runs one statement; multi-statement scripts belong in a ``Migration``.
public protocol SQLExecutor {
    /// The engine behind this connection, for the rare statement that must differ.
    var engine: DatabaseEngine { get }

    /// Runs a statement and returns the number of rows it inserted, updated or deleted
    /// (for a `SELECT`, the number of rows it returned).
    /// - Throws: ``StorageError``.
    @discardableResult
    func execute(_ sql: String, _ params: [SQLValue]) throws -> Int

    /// Runs a statement and returns all its rows.
    /// - Throws: ``StorageError``.
    func query(_ sql: String, _ params: [SQLValue]) throws -> [Row]

    /// Runs a parameterless command whose result nobody reads (`SAVEPOINT s`, `RELEASE s`), maybe
    /// later: on PostgreSQL it is queued and goes out with the transaction's next statement (or
    /// its `COMMIT`) in one round trip (libpq pipeline mode); its error, if any, is then thrown by
    /// that statement. On SQLite (and by default) it runs at once.
    /// - Throws: ``StorageError``.
    func executeDeferred(_ sql: String) throws

    /// Runs a statement whose result nobody reads (an `INSERT` without `RETURNING`), maybe later:
    /// on PostgreSQL, once the statement is prepared on the connection (its first run is at once),
    /// it is queued and goes out with the transaction's next statement (or its `COMMIT`) in one
    /// round trip; a failure is then thrown by that statement or by the commit, and fails the
    /// transaction as any failed statement does. On SQLite (and by default) it runs at once.
    /// Not for statements inside a savepoint that the caller may roll back to on their failure
    /// (the failure would surface after the savepoint ended).
    /// - Throws: ``StorageError``.
    func executeDeferred(_ sql: String, _ params: [SQLValue]) throws

    /// Runs several statements, in order, and returns each one's rows: on PostgreSQL all of them
    /// (with the pending `BEGIN` and deferred commands) in one round trip (libpq pipeline mode);
    /// on SQLite (and by default) one after the other. The first error is thrown (on PostgreSQL
    /// the statements after a failing one do not run).
    /// - Throws: ``StorageError``.
    func queryPipelined(_ statements: [(sql: String, params: [SQLValue])]) throws -> [[Row]]
}

extension SQLExecutor {
    /// Runs `sql` at once (engines without a way to send it later).
    public func executeDeferred(_ sql: String) throws {
        try execute(sql, [])
    }

    /// Runs `sql` at once (engines without a way to send it later).
    public func executeDeferred(_ sql: String, _ params: [SQLValue]) throws {
        try execute(sql, params)
    }

    /// Runs the statements one after the other (engines without pipelining).
    public func queryPipelined(_ statements: [(sql: String, params: [SQLValue])]) throws -> [[Row]] {
        try statements.map { try query($0.sql, $0.params) }
    }

    /// Runs a statement without parameters; see ``execute(_:_:)``.
    @discardableResult
    public func execute(_ sql: String) throws -> Int {
        try execute(sql, [])
    }

    /// Runs a query without parameters; see ``query(_:_:)``.
    public func query(_ sql: String) throws -> [Row] {
        try query(sql, [])
    }

    /// The first row of the result, or `nil` when there is none.
    public func queryOne(_ sql: String, _ params: [SQLValue] = []) throws -> Row? {
        try query(sql, params).first
    }

    /// The first column of the first row, or ``SQLValue/null`` when there is no row.
    ///
    /// ```swift
    /// let open = try tx.scalar("SELECT COUNT(*) FROM tickets WHERE status = ?", ["open"])
    /// ```
    public func scalar(_ sql: String, _ params: [SQLValue] = []) throws -> SQLValue {
        try query(sql, params).first?.values.first ?? .null
    }
}
