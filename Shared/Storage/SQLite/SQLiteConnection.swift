import CSQLite
import CSQLiteWAL
import Foundation

/// One SQLite connection with its prepared-statement cache.
///
/// Opened in multi-thread mode (`SQLITE_OPEN_NOMUTEX`): the owner guarantees that only one
/// thread uses it at a time (the writer lock or the reader pool). Not `Sendable` on purpose.
final class SQLiteConnection: ScriptExecutor {
    let engine: DatabaseEngine = .sqlite
    private let handle: OpaquePointer
    private var statements: [String: CachedStatement] = [:]
    private let cacheCapacity: Int
    private var isOpen = true

    /// Opens (creating when needed) the database at `path` and applies the connection pragmas:
    /// WAL, `synchronous=NORMAL`, `foreign_keys=ON` and the busy timeout. Reader connections are
    /// also made `query_only`. The connection's WAL appends go through ``walWriteBufferVFS``
    /// (one write per commit instead of two per page; the same bytes at the same offsets).
    init(path: String, reader: Bool, busyTimeout: Duration, cacheCapacity: Int) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, Self.walWriteBufferVFS)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw StorageError(.connection, "cannot open SQLite database at '\(path)': \(message)", code: String(rc))
        }
        handle = db
        self.cacheCapacity = cacheCapacity
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeout.wholeMilliseconds))
        do {
            if path != ":memory:" {
                let mode = try switchToWAL(path: path, busyTimeout: busyTimeout)
                guard case .text(let name) = mode, name.lowercased() == "wal" else {
                    throw StorageError(.connection, "could not switch '\(path)' to WAL journal mode (got \(mode ?? .null))")
                }
            }
            try execute("PRAGMA synchronous = NORMAL", [])
            try execute("PRAGMA foreign_keys = ON", [])
            if reader { try execute("PRAGMA query_only = ON", []) }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// The name of the VFS that gathers a connection's WAL appends and writes them once per
    /// commit (`Shared/CSQLiteWAL`), registered on first use; `nil` (SQLite's default VFS) if it
    /// could not be registered.
    static let walWriteBufferVFS: String? = csqlitewal_register() == SQLITE_OK ? CSQLITEWAL_VFS_NAME : nil

    /// `PRAGMA journal_mode = WAL`, retried while another process holds the lock it needs: when
    /// several processes open a new database at once, SQLite answers BUSY at once (without the
    /// busy handler) to the ones that would otherwise deadlock upgrading their shared locks.
    private func switchToWAL(path: String, busyTimeout: Duration) throws -> SQLValue? {
        let giveUp = ContinuousClock.now + busyTimeout
        var pause = 5_000 as useconds_t
        while true {
            do {
                return try query("PRAGMA journal_mode = WAL", []).first?.values.first
            } catch let error as StorageError where error.kind == .busy && ContinuousClock.now < giveUp {
                usleep(pause)
                pause = min(pause * 2, 100_000)
            }
        }
    }

    /// Finalizes cached statements and closes the handle. Idempotent.
    func close() {
        guard isOpen else { return }
        isOpen = false
        clearStatementCache()
        sqlite3_close_v2(handle)
    }

    /// Whether the connection is outside any transaction (`BEGIN` not in effect).
    var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    // MARK: SQLExecutor

    @discardableResult
    func execute(_ sql: String, _ params: [SQLValue]) throws -> Int {
        let before = sqlite3_total_changes64(handle)
        var rows = 0
        let readOnly = try run(sql, params) { _ in rows += 1 }
        if readOnly { return rows }
        // sqlite3_changes only describes the last INSERT/UPDATE/DELETE; DDL leaves it stale.
        return sqlite3_total_changes64(handle) == before ? 0 : Int(sqlite3_changes64(handle))
    }

    func query(_ sql: String, _ params: [SQLValue]) throws -> [Row] {
        var result: [Row] = []
        var columns: [String]?
        _ = try run(sql, params) { cached in
            let names = columns ?? cached.columnNames()
            columns = names
            result.append(Row(columns: names, values: (0..<Int32(names.count)).map { Self.value(cached.handle, $0) }))
        }
        return result
    }

    func executeScript(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw SQLiteErrors.error(code: sqlite3_extended_errcode(handle), message: message, sql: sql, duringPrepare: false)
        }
    }

    // MARK: Statements

    /// Binds `params`, steps the statement to completion calling `onRow` per row, and returns
    /// whether the statement was read-only.
    private func run(_ sql: String, _ params: [SQLValue], onRow: (CachedStatement) throws -> Void) throws -> Bool {
        guard isOpen else { throw StorageError(.closed, "the database has been closed", sql: sql) }
        let cached = try prepared(sql)
        let statement = cached.handle
        // The bound texts and blobs live in `values` until the statement no longer refers to
        // them (after the reset and the clearing of its bindings).
        let values = BoundBytes(params)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            values.deallocate()
        }
        try bind(params, to: statement, sql: sql, bytes: values)
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW {
                try onRow(cached)
            } else if rc == SQLITE_DONE {
                return sqlite3_stmt_readonly(statement) != 0
            } else {
                throw SQLiteErrors.error(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)),
                                         sql: sql, duringPrepare: false)
            }
        }
    }

    /// The virtual-machine steps one run of `sql` takes (`SQLITE_STMTSTATUS_VM_STEP`): a measure
    /// of the rows it visits, for tests that pin a statement's work as bounded whatever the
    /// table's size (its query plan does not show a `LIMIT`).
    func virtualMachineSteps(_ sql: String, _ params: [SQLValue]) throws -> Int {
        let cached = try prepared(sql)
        sqlite3_stmt_status(cached.handle, SQLITE_STMTSTATUS_VM_STEP, 1)
        _ = try query(sql, params)
        return Int(sqlite3_stmt_status(cached.handle, SQLITE_STMTSTATUS_VM_STEP, 0))
    }

    private func prepared(_ sql: String) throws -> CachedStatement {
        if let cached = statements[sql] { return cached }
        if statements.count >= cacheCapacity { clearStatementCache() }
        var statement: OpaquePointer?
        var trailing = false
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            if rc == SQLITE_OK, let tail {
                trailing = String(cString: tail).contains { !$0.isWhitespace && $0 != ";" }
            }
            return rc
        }
        guard rc == SQLITE_OK, let statement else {
            if rc == SQLITE_OK {
                throw StorageError(.misuse, "the SQL holds no statement", sql: sql)
            }
            throw SQLiteErrors.error(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)),
                                     sql: sql, duringPrepare: true)
        }
        if trailing {
            sqlite3_finalize(statement)
            throw StorageError(.misuse, "only one statement per call; put scripts in a Migration", sql: sql)
        }
        let cached = CachedStatement(statement)
        statements[sql] = cached
        return cached
    }

    private func clearStatementCache() {
        for cached in statements.values { sqlite3_finalize(cached.handle) }
        statements.removeAll()
    }

    private func bind(_ params: [SQLValue], to statement: OpaquePointer, sql: String, bytes: BoundBytes) throws {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == params.count else {
            throw StorageError(.misuse, "the statement has \(expected) placeholder(s) but \(params.count) value(s) were given", sql: sql)
        }
        for (offset, value) in params.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(statement, index)
            case .integer(let number):
                rc = sqlite3_bind_int64(statement, index, number)
            case .real(let number):
                rc = sqlite3_bind_double(statement, index, number)
            case .text(let string):
                // Not copied again by SQLite (SQLITE_STATIC: `nil`); never a NULL pointer, which would bind NULL.
                let text = bytes.append(string)
                rc = sqlite3_bind_text(statement, index, text.base.assumingMemoryBound(to: CChar.self), Int32(clamping: text.count), nil)
            case .blob(let blob):
                guard !blob.isEmpty else {
                    rc = sqlite3_bind_zeroblob(statement, index, 0)  // a NULL pointer would bind NULL
                    break
                }
                let copy = bytes.append(blob)
                rc = sqlite3_bind_blob(statement, index, copy.base, Int32(clamping: copy.count), nil)
            }
            if rc != SQLITE_OK {
                throw SQLiteErrors.error(code: rc, message: "cannot bind parameter \(index): \(String(cString: sqlite3_errmsg(handle)))",
                                         sql: sql, duringPrepare: false)
            }
        }
    }

    private static func columnNames(_ statement: OpaquePointer) -> [String] {
        (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
    }

    /// The bytes of one run's text and blob parameters in one allocation, bound without SQLite
    /// copying each value (a `malloc`, a copy and a `free` per parameter; an opening binds about
    /// a hundred). Freed by ``run(_:_:onRow:)`` once the statement has been reset and its
    /// bindings cleared.
    private final class BoundBytes {
        private let base: UnsafeMutableRawPointer?
        private var used = 0

        init(_ params: [SQLValue]) {
            var total = 0, any = false
            for value in params {
                switch value {
                case .text(let string): total += string.utf8.count; any = true
                case .blob(let bytes): total += bytes.count; any = true
                default: break
                }
            }
            // One byte more, so that an empty text still has an address (a NULL pointer binds NULL).
            base = any ? UnsafeMutableRawPointer.allocate(byteCount: total + 1, alignment: 8) : nil
        }

        func append(_ string: String) -> (base: UnsafeMutableRawPointer, count: Int) {
            guard let base else { preconditionFailure("BoundBytes sized without this text") }
            let start = base + used
            var string = string
            let count = string.withUTF8 { utf8 in
                if let source = utf8.baseAddress { start.copyMemory(from: source, byteCount: utf8.count) }
                return utf8.count
            }
            used += count
            return (start, count)
        }

        func append(_ bytes: [UInt8]) -> (base: UnsafeMutableRawPointer, count: Int) {
            guard let base else { preconditionFailure("BoundBytes sized without this blob") }
            let start = base + used
            bytes.withUnsafeBytes { buffer in
                if let source = buffer.baseAddress { start.copyMemory(from: source, byteCount: buffer.count) }
            }
            used += bytes.count
            return (start, bytes.count)
        }

        func deallocate() {
            base?.deallocate()
        }
    }

    /// A prepared statement of the cache, with its result's column names once read: they are
    /// the same on every run (reading and copying them again cost more than a short row's
    /// values), until SQLite prepares the statement again after a schema change (`SELECT *`
    /// may then have other columns), which its reprepare count tells.
    private final class CachedStatement {
        let handle: OpaquePointer
        private var columns: (names: [String], reprepares: Int32)?

        init(_ handle: OpaquePointer) {
            self.handle = handle
        }

        func columnNames() -> [String] {
            let reprepares = sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_REPREPARE, 0)
            if let columns, columns.reprepares == reprepares { return columns.names }
            let names = SQLiteConnection.columnNames(handle)
            columns = (names, reprepares)
            return names
        }
    }

    private static func value(_ statement: OpaquePointer, _ column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(statement, column) else { return .text("") }
            let count = Int(sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            guard let bytes = sqlite3_column_blob(statement, column) else { return .blob([]) }
            let count = Int(sqlite3_column_bytes(statement, column))
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }
}
