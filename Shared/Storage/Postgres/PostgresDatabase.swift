import CPostgres
import Foundation

/// The PostgreSQL engine: a bounded pool of libpq connections.
///
/// Writes run at `READ COMMITTED`, reads at `REPEATABLE READ READ ONLY`. A connection broken by a
/// server restart or a network failure is reopened on its next use; a transaction that failed
/// because of it before `COMMIT` was sent is retried (see ``Database/write(_:)``).
///
/// `@unchecked Sendable`: the pool locks itself and hands each connection to one thread at a
/// time; every other property is immutable.
final class PostgresDatabase: SchemaTransactionRunner, @unchecked Sendable {
    let engine: DatabaseEngine = .postgres
    private let pool: BlockingPool<PostgresConnection>
    private let retry: TransactionRetry
    let writeHealth = WriteHealth()
    /// How long a schema transaction waits for a lock (``DatabaseConfiguration/busyTimeout``).
    private let lockTimeoutMilliseconds: Int
    /// Advisory-lock key serializing schema migrations across processes ("OCORMIGR").
    static let migrationLockKey: Int64 = 0x4F43_4F52_4D49_4752

    init(configuration: DatabaseConfiguration) throws {
        let settings = PostgresConnectionSettings(
            url: configuration.url ?? "", connectTimeout: configuration.connectTimeout,
            applicationName: configuration.applicationName, statementCacheSize: configuration.statementCacheSize)
        pool = BlockingPool(capacity: configuration.poolSize, acquireTimeout: configuration.acquireTimeout,
                            make: { try PostgresConnection(settings: settings) }, destroy: { $0.close() })
        retry = TransactionRetry(maxAttempts: configuration.maxTransactionAttempts)
        lockTimeoutMilliseconds = Int(clamping: configuration.busyTimeout.wholeMilliseconds)
        // Connect once now so a wrong URL or a missing server is reported by openDatabase.
        try pool.withResource { _ in }
    }

    deinit { close() }

    func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try writeHealth.observe { try retry.run { try transaction(begin: "BEGIN", readOnly: false, body) } }
    }

    /// The lock waits of a schema transaction end after the busy timeout (`lock_timeout`, the
    /// advisory lock's wait and the migration's own DDL's), failing it with
    /// ``StorageError/Kind/busy``: the migrator then says it waits and tries again, and a
    /// migration queued behind a long query does not hold up every other query on its table
    /// meanwhile.
    func schemaTransaction<T>(_ body: (any ScriptExecutor) throws -> T) throws -> T {
        try transaction(begin: "BEGIN", readOnly: false) { connection in
            try connection.executeScript("SET LOCAL lock_timeout = \(max(1, lockTimeoutMilliseconds))")
            try connection.execute("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", [])
            return try body(connection)
        }
    }

    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try retry.run { try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", readOnly: true, body) }
    }

    /// The sessions holding the migrations' advisory lock (`pg_locks` joined with
    /// `pg_stat_activity`): "PostgreSQL pid 4242 (application_name 'psql', user 'ops', client
    /// 10.0.0.7, 'idle in transaction' for 812 s)". Nil when none holds it (a migration's DDL
    /// waiting for a table lock instead: the error's cause says so) or it cannot be read.
    func schemaLockHolder() -> String? {
        let (high, low) = (Self.migrationLockKey >> 32, Self.migrationLockKey & 0xFFFF_FFFF)
        let rows = try? read { tx in
            try tx.query("""
                SELECT a.pid AS pid, COALESCE(a.application_name, '') AS application, COALESCE(a.usename, '') AS username,
                       COALESCE(host(a.client_addr), 'local') AS client, COALESCE(a.state, '') AS state,
                       CAST(COALESCE(EXTRACT(EPOCH FROM now() - a.xact_start), 0) AS BIGINT) AS seconds
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.classid = \(high) AND l.objid = \(low) AND l.objsubid = 1
                ORDER BY a.pid
                """, []).map { row in
                "PostgreSQL pid \(try row.int("pid")) (application_name '\(try row.text("application"))', user '\(try row.text("username"))', "
                    + "client \(try row.text("client")), '\(try row.text("state"))' for \(try row.int("seconds")) s)"
            }
        }
        guard let rows, !rows.isEmpty else { return nil }
        return rows.joined(separator: "; ")
    }

    func ping() throws {
        _ = try read { try $0.scalar("SELECT 1") }
    }

    func close() {
        pool.close()
    }

    /// Runs one statement that PostgreSQL refuses inside a transaction block (`VACUUM`) on a
    /// pooled connection, with the simple-query protocol.
    func executeOutsideTransaction(_ sql: String) throws {
        try pool.withResource { connection in
            if connection.isBroken { try connection.reconnect() }
            try connection.executeScript(sql)
        }
    }

    /// Runs `body` between `begin` and `COMMIT` on a pooled connection, reopening the connection
    /// first when it is broken and rolling back when anything throws.
    private func transaction<T>(begin: String, readOnly: Bool, _ body: (PostgresConnection) throws -> T) throws -> T {
        try pool.withResource { connection in
            if connection.isBroken { try connection.reconnect() }
            try connection.begin(begin)
            let result: T
            do {
                result = try body(connection)
            } catch {
                connection.rollbackQuietly()
                throw error
            }
            if connection.isTransactionFailed {
                connection.rollbackQuietly()
                throw StorageError(.other, "a statement failed inside the transaction and the error was caught by the body; PostgreSQL refuses to commit such a transaction, so it was rolled back")
            }
            do {
                try connection.commit()
            } catch let error as StorageError where error.kind == .connection {
                // A read-only transaction has nothing to lose; its result is still a valid snapshot.
                if readOnly { return result }
                throw StorageError(.commitOutcomeUnknown,
                                   "the connection broke during COMMIT, so the transaction may or may not have been committed: \(error.message)",
                                   code: error.code)
            }
            return result
        }
    }
}
