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
    /// The `BEGIN` of the current transaction while it has not been sent: it goes out together
    /// with the transaction's first statement, in one round trip (libpq pipeline mode), or alone
    /// right before anything else. A transaction that runs nothing costs no round trip at all.
    private var pendingBegin: String?
    /// Commands and statements queued by ``executeDeferred(_:)`` and ``executeDeferred(_:_:)``:
    /// sent after `pendingBegin` and before the next statement (or `COMMIT`), in the same round trip.
    private var deferred: [Deferred] = []

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
        deferred.removeAll()
        pendingBegin = sql
    }

    /// `COMMIT` (nothing when the transaction never started on the server and only deferred
    /// commands such as `SAVEPOINT` wait), with what is still deferred in front of it, in one
    /// round trip; a transaction whose only writes were deferred sends its `BEGIN` there too.
    func commit() throws {
        if pendingBegin != nil && !deferred.contains(where: { $0.statement != nil }) {
            pendingBegin = nil
            deferred.removeAll()
            return
        }
        if pendingBegin != nil || !deferred.isEmpty {
            let connection = try liveHandle("COMMIT")
            let prefix = pendingPrefix()
            do {
                let result = try pipelined(connection, prefix: prefix, sql: "COMMIT",
                                           send: { PQsendQueryParams($0, "COMMIT", 0, nil, nil, nil, nil, 0) },
                                           alone: { PQexec($0, "COMMIT") })
                PQclear(try check(result, sql: "COMMIT"))
            } catch {
                // A deferred command failed, so COMMIT was not run: the transaction is still open
                // (aborted) on the server. End it, as a failed COMMIT would have.
                if !isBroken, PQtransactionStatus(connection) != PQTRANS_IDLE { PQclear(PQexec(connection, "ROLLBACK")) }
                throw error
            }
            return
        }
        try command("COMMIT")
    }

    /// `ROLLBACK`, ignoring failures (a broken connection has rolled back already).
    func rollbackQuietly() {
        deferred.removeAll()
        if pendingBegin != nil {
            pendingBegin = nil
            return
        }
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

    func executeDeferred(_ sql: String) throws {
        _ = try liveHandle(sql)
        deferred.append(Deferred(sql: sql, statement: nil))
    }

    func executeDeferred(_ sql: String, _ params: [SQLValue]) throws {
        _ = try liveHandle(sql)
        // A statement not prepared on this connection yet runs now: it is prepared inside the
        // transaction, as `run` does, and from then on it is deferred.
        guard let statement = statements[sql] else {
            try execute(sql, params)
            return
        }
        guard statement.parameterCount == params.count else {
            throw StorageError(.misuse, "the statement has \(statement.parameterCount) placeholder(s) but \(params.count) value(s) were given", sql: sql)
        }
        deferred.append(Deferred(sql: sql, statement: (statement.name, EncodedParameters(try PostgresValues.Parameters(params, sql: sql)))))
    }

    func queryPipelined(_ statements: [(sql: String, params: [SQLValue])]) throws -> [[Row]] {
        guard statements.count > 1 else { return try statements.map { try query($0.sql, $0.params) } }
        let connection = try liveHandle(statements[0].sql)
        // Statements prepared for the first time are prepared first (BEGIN goes out alone before,
        // as in `run`), so the pipeline only binds and executes.
        if statements.contains(where: { self.statements[$0.sql] == nil }) { try sendPendingBegin(connection) }
        var prepared: [(name: String, sql: String, count: Int32, encoded: PostgresValues.Parameters)] = []
        defer { prepared.forEach { $0.encoded.deallocate() } }
        for (sql, params) in statements {
            let statement = try self.prepared(sql, connection)
            guard statement.parameterCount == params.count else {
                throw StorageError(.misuse, "the statement has \(statement.parameterCount) placeholder(s) but \(params.count) value(s) were given", sql: sql)
            }
            prepared.append((statement.name, sql, Int32(params.count), try PostgresValues.Parameters(params, sql: sql)))
        }
        let prefix = pendingPrefix()
        guard PQenterPipelineMode(connection) == 1 else {
            for command in prefix { PQclear(try check(command.runAlone(connection), sql: command.sql)) }
            return try prepared.map { item in
                let result = try check(PQexecPrepared(connection, item.name, item.count, item.encoded.values,
                                                      item.encoded.lengths, item.encoded.formats, 0), sql: item.sql)
                defer { PQclear(result) }
                return PostgresValues.rows(result)
            }
        }
        var results: [OpaquePointer] = []
        defer { results.forEach { PQclear($0) } }
        var sent = true
        for command in prefix where sent { sent = command.send(connection) }
        for item in prepared where sent {
            sent = PQsendQueryPrepared(connection, item.name, item.count, item.encoded.values,
                                       item.encoded.lengths, item.encoded.formats, 0) == 1
        }
        if sent, PQpipelineSync(connection) == 1 {
            results = Self.pipelineResults(connection)
        }
        _ = PQexitPipelineMode(connection)
        guard results.count == prefix.count + prepared.count else {
            throw PostgresErrors.error(result: nil, connection: connection, sql: statements[0].sql)
        }
        for (index, command) in prefix.enumerated() where !Deferred.succeeded(results[index]) {
            throw PostgresErrors.error(result: results[index], connection: connection, sql: command.sql)
        }
        var rows: [[Row]] = []
        for (offset, item) in prepared.enumerated() {
            let result = results[prefix.count + offset]
            let status = PQresultStatus(result)
            guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
                throw PostgresErrors.error(result: result, connection: connection, sql: item.sql)
            }
            rows.append(PostgresValues.rows(result))
        }
        return rows
    }

    // MARK: Statements

    /// Runs `sql` with the simple-query protocol (no parameters, several statements allowed).
    private func command(_ sql: String) throws {
        let connection = try liveHandle(sql)
        try sendPendingBegin(connection)
        let result = try check(PQexec(connection, sql), sql: sql)
        PQclear(result)
    }

    /// Sends the transaction's `BEGIN` and the deferred commands on their own, when pending.
    private func sendPendingBegin(_ connection: OpaquePointer) throws {
        let prefix = pendingPrefix()
        for command in prefix { PQclear(try check(command.runAlone(connection), sql: command.sql)) }
    }

    /// The pending `BEGIN` and deferred commands, in order, now taken off the queue.
    private func pendingPrefix() -> [Deferred] {
        var prefix = pendingBegin.map { [Deferred(sql: $0, statement: nil)] } ?? []
        prefix += deferred
        pendingBegin = nil
        deferred.removeAll()
        return prefix
    }

    private func run(_ sql: String, _ params: [SQLValue]) throws -> OpaquePointer {
        let connection = try liveHandle(sql)
        // A statement prepared for the first time is prepared inside the transaction, as before
        // (so a failure to prepare it fails the transaction): BEGIN goes out first, alone.
        if statements[sql] == nil { try sendPendingBegin(connection) }
        let statement = try prepared(sql, connection)
        guard statement.parameterCount == params.count else {
            throw StorageError(.misuse, "the statement has \(statement.parameterCount) placeholder(s) but \(params.count) value(s) were given", sql: sql)
        }
        let encoded = try PostgresValues.Parameters(params, sql: sql)
        defer { encoded.deallocate() }
        let result: OpaquePointer?
        if pendingBegin != nil || !deferred.isEmpty {
            let name = statement.name, count = Int32(params.count)
            result = try pipelined(connection, prefix: pendingPrefix(), sql: sql,
                                   send: { PQsendQueryPrepared($0, name, count, encoded.values, encoded.lengths, encoded.formats, 0) },
                                   alone: { PQexecPrepared($0, name, count, encoded.values, encoded.lengths, encoded.formats, 0) })
        } else {
            result = PQexecPrepared(connection, statement.name, Int32(params.count),
                                    encoded.values, encoded.lengths, encoded.formats, 0)
        }
        do {
            return try check(result, sql: sql)
        } catch let error as StorageError where error.code == "0A000" {
            statements[sql] = nil
            staleStatements.append(statement.name)
            throw error
        }
    }

    /// Sends the commands of `prefix` (`BEGIN`, deferred commands) and then the statement `send`
    /// sends, in one round trip (pipeline mode, one sync point), and returns the statement's
    /// result, which is nil or an error result when the connection broke, and
    /// `PGRES_PIPELINE_ABORTED` when a command of `prefix` failed (then its error is thrown
    /// instead). Leaves the connection out of pipeline mode.
    private func pipelined(_ connection: OpaquePointer, prefix: [Deferred], sql: String,
                           send: (OpaquePointer) -> Int32, alone: (OpaquePointer) -> OpaquePointer?) throws -> OpaquePointer? {
        guard PQenterPipelineMode(connection) == 1 else {
            // Cannot happen outside pipeline mode with nothing pending; run them one by one.
            for command in prefix { PQclear(try check(command.runAlone(connection), sql: command.sql)) }
            return alone(connection)
        }
        var results: [OpaquePointer] = []
        defer { results.forEach { PQclear($0) } }
        var sent = true
        for command in prefix where sent { sent = command.send(connection) }
        if sent, send(connection) == 1, PQpipelineSync(connection) == 1 {
            results = Self.pipelineResults(connection)
        }
        _ = PQexitPipelineMode(connection)
        guard results.count == prefix.count + 1 else { return nil }  // the caller reports the connection's error
        for (index, command) in prefix.enumerated() where !Deferred.succeeded(results[index]) {
            throw PostgresErrors.error(result: results[index], connection: connection, sql: command.sql)
        }
        return results.removeLast()
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

extension PostgresConnection {
    /// A command waiting for the next round trip (``executeDeferred(_:)``, ``executeDeferred(_:_:)``,
    /// the transaction's `BEGIN`): a parameterless command, sent with the simple-query protocol,
    /// or a prepared statement with its encoded values.
    fileprivate struct Deferred {
        var sql: String
        /// The prepared statement's name and values; nil for a parameterless command.
        var statement: (name: String, parameters: EncodedParameters)?

        /// Queues it on `connection` (in pipeline mode). - Returns: whether libpq took it.
        func send(_ connection: OpaquePointer) -> Bool {
            guard let statement else { return PQsendQueryParams(connection, sql, 0, nil, nil, nil, nil, 0) == 1 }
            let encoded = statement.parameters.encoded
            return PQsendQueryPrepared(connection, statement.name, Int32(encoded.count), encoded.values, encoded.lengths, encoded.formats, 0) == 1
        }

        /// Runs it on its own (outside pipeline mode) and returns its result.
        func runAlone(_ connection: OpaquePointer) -> OpaquePointer? {
            guard let statement else { return PQexec(connection, sql) }
            let encoded = statement.parameters.encoded
            return PQexecPrepared(connection, statement.name, Int32(encoded.count), encoded.values, encoded.lengths, encoded.formats, 0)
        }

        /// Whether a deferred command's result says it succeeded (a statement may return rows).
        static func succeeded(_ result: OpaquePointer) -> Bool {
            let status = PQresultStatus(result)
            return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
        }
    }

    /// A deferred statement's values in libpq's form, freed with the last reference.
    fileprivate final class EncodedParameters {
        let encoded: PostgresValues.Parameters

        init(_ encoded: PostgresValues.Parameters) { self.encoded = encoded }

        deinit { encoded.deallocate() }
    }

    /// The results of a pipeline up to its sync point, in order (the caller clears them): each
    /// query's results end with a NULL and the sync point ends the pipeline; two NULLs in a row
    /// only happen when the connection is gone, and then fewer results come back than were sent.
    static func pipelineResults(_ connection: OpaquePointer) -> [OpaquePointer] {
        var results: [OpaquePointer] = []
        var nulls = 0
        while nulls < 2 {
            guard let result = PQgetResult(connection) else {
                nulls += 1
                continue
            }
            nulls = 0
            if PQresultStatus(result) == PGRES_PIPELINE_SYNC {
                PQclear(result)
                break
            }
            results.append(result)
        }
        return results
    }
}
