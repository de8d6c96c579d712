import CPostgres
import Foundation

/// How to reach the server; shared by every connection of a pool.
struct PostgresConnectionSettings: Sendable {
    var url: String
    var connectTimeout: Duration
    var applicationName: String
    var statementCacheSize: Int
}

/// One libpq connection with its prepared-statement cache.
///
/// Used by one thread at a time (the pool hands it out exclusively). When the connection breaks
/// (server restart, network failure) it reports ``isBroken`` and ``reconnect()`` opens a fresh
/// one, dropping the statement cache. Not `Sendable` on purpose.
final class PostgresConnection: ScriptExecutor {
    let engine: DatabaseEngine = .postgres
    private let settings: PostgresConnectionSettings
    private var handle: OpaquePointer?
    /// SQL text as written (with `?`) → server-side prepared statement.
    private var statements: [String: (name: String, parameterCount: Int)] = [:]
    /// Prepared statements to `DEALLOCATE` at the next transaction start.
    private var staleStatements: [String] = []
    private var nextStatementNumber = 0

    init(settings: PostgresConnectionSettings) throws {
        self.settings = settings
        try reconnect()
    }

    deinit { close() }

    /// Whether the connection is unusable and needs ``reconnect()``.
    var isBroken: Bool {
        guard let handle else { return true }
        return PQstatus(handle) != CONNECTION_OK
    }

    /// Opens a new server connection, replacing the current one.
    /// - Throws: ``StorageError/Kind/connection`` when the server cannot be reached.
    func reconnect() throws {
        close()
        let timeout = String(max(2, (settings.connectTimeout.wholeMilliseconds + 999) / 1000))
        // Later entries override earlier ones: settings in the URL win over these defaults.
        let keywords = ["connect_timeout", "application_name", "client_encoding", "dbname"]
        let values = [timeout, settings.applicationName, "UTF8", settings.url]
        let connection = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let error = PostgresErrors.connectionError(
                connection, context: "cannot connect to PostgreSQL at \(DatabaseConfiguration.redacted(settings.url))")
            PQfinish(connection)
            throw error
        }
        cpostgres_silence_notices(connection)
        handle = connection
    }

    /// Closes the server connection. Idempotent.
    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        statements.removeAll()
        staleStatements.removeAll()
    }

    // MARK: Transactions

    /// Starts a transaction with `sql` (`BEGIN ...`), first dropping stale prepared statements.
    func begin(_ sql: String) throws {
        if statements.count > settings.statementCacheSize {
            staleStatements.removeAll()
            statements.removeAll()
            try command("DEALLOCATE ALL")
        }
        for name in staleStatements { try command("DEALLOCATE \(name)") }
        staleStatements.removeAll()
        try command(sql)
    }

    /// `COMMIT`.
    func commit() throws { try command("COMMIT") }

    /// `ROLLBACK`, ignoring failures (a broken connection has rolled back already).
    func rollbackQuietly() {
        guard let handle, !isBroken else { return }
        if PQtransactionStatus(handle) != PQTRANS_IDLE {
            _ = try? command("ROLLBACK")
        }
    }

    /// Whether a statement failed inside the current transaction, which PostgreSQL then refuses
    /// to commit.
    var isTransactionFailed: Bool {
        handle.map { PQtransactionStatus($0) == PQTRANS_INERROR } ?? false
    }

    // MARK: SQLExecutor

    @discardableResult
    func execute(_ sql: String, _ params: [SQLValue]) throws -> Int {
        let result = try run(sql, params)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    func query(_ sql: String, _ params: [SQLValue]) throws -> [Row] {
        let result = try run(sql, params)
        defer { PQclear(result) }
        return PostgresValues.rows(result)
    }

    func executeScript(_ sql: String) throws {
        try command(sql)
    }

    // MARK: Statements

    /// Runs `sql` with the simple-query protocol (no parameters, several statements allowed).
    private func command(_ sql: String) throws {
        let connection = try liveHandle(sql)
        let result = try check(PQexec(connection, sql), sql: sql)
        PQclear(result)
    }

    private func run(_ sql: String, _ params: [SQLValue]) throws -> OpaquePointer {
        let connection = try liveHandle(sql)
        let statement = try prepared(sql, connection)
        guard statement.parameterCount == params.count else {
            throw StorageError(.misuse, "the statement has \(statement.parameterCount) placeholder(s) but \(params.count) value(s) were given", sql: sql)
        }
        let encoded = try PostgresValues.Parameters(params, sql: sql)
        defer { encoded.deallocate() }
        let result = PQexecPrepared(connection, statement.name, Int32(params.count),
                                    encoded.values, encoded.lengths, encoded.formats, 0)
        do {
            return try check(result, sql: sql)
        } catch let error as StorageError where error.code == "0A000" {
            statements[sql] = nil
            staleStatements.append(statement.name)
            throw error
        }
    }

    private func prepared(_ sql: String, _ connection: OpaquePointer) throws -> (name: String, parameterCount: Int) {
        if let cached = statements[sql] { return cached }
        let (text, count) = PlaceholderRewriter.rewrite(sql)
        nextStatementNumber += 1
        let name = "ocs_\(nextStatementNumber)"
        PQclear(try check(PQprepare(connection, name, text, Int32(count), nil), sql: sql))
        statements[sql] = (name, count)
        return (name, count)
    }

    private func liveHandle(_ sql: String) throws -> OpaquePointer {
        guard let handle, !isBroken else {
            throw StorageError(.connection, "the PostgreSQL connection is broken; it is reopened on the next transaction", sql: sql)
        }
        return handle
    }

    /// Returns a successful `result`, or throws its error after freeing it.
    private func check(_ result: OpaquePointer?, sql: String) throws -> OpaquePointer {
        if let result {
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
                return result
            }
        }
        let error = PostgresErrors.error(result: result, connection: handle, sql: sql)
        PQclear(result)
        throw error
    }
}

/// Calls `body` with a C array of C strings that live for the duration of the call.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) } + [nil]
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
