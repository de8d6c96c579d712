/// A connection that can also run a multi-statement script (used for migrations and the
/// built-in tables, never for parameterised statements).
protocol ScriptExecutor: SQLExecutor {
    /// Runs every statement in `sql`, without parameters, inside the current transaction.
    func executeScript(_ sql: String) throws
}

/// What the migration runner needs from a database: a write transaction that also holds the
/// cross-process schema lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-level
/// advisory lock), so two processes starting at once apply each migration exactly once.
///
/// One attempt, no retries (``Migrator`` decides): a lock another process holds for longer than
/// the busy timeout (``DatabaseConfiguration/busyTimeout``) fails it with ``StorageError/Kind/busy``.
protocol SchemaTransactionRunner: Database {
    func schemaTransaction<T>(_ body: (any ScriptExecutor) throws -> T) throws -> T

    /// Who holds the schema lock now, for the message of a start that gave up waiting for it
    /// ("PostgreSQL pid 4242 (application_name 'psql', …)"); nil when it cannot be told.
    func schemaLockHolder() -> String?
}
