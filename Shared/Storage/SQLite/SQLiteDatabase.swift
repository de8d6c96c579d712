import CSQLite
import Foundation
import Synchronization

/// The SQLite engine: one writer connection serialized by a lock, plus a pool of reader
/// connections that read committed WAL snapshots without waiting for the writer.
///
/// Durability: WAL with `synchronous=NORMAL`. A transaction is in the WAL file when `COMMIT`
/// returns, so it survives the process being killed (`kill -9`, crash); only an operating-system
/// crash or power loss can lose the most recent commits (never corrupting the file), because the
/// WAL is synced at checkpoints rather than at every commit.
///
/// `@unchecked Sendable`: `writer` is only touched while `writerLock` is held; the reader pool
/// locks itself; `writerThread` is atomic; the remaining properties are immutable.
final class SQLiteDatabase: SchemaTransactionRunner, @unchecked Sendable {
    let engine: DatabaseEngine = .sqlite
    private let configuration: DatabaseConfiguration
    private let writerLock = NSLock()
    private var writer: SQLiteConnection?
    /// `nil` for `:memory:` databases, whose reads share the writer connection.
    private let readers: BlockingPool<SQLiteConnection>?
    /// The thread currently inside a write transaction (its `Thread` object's address), 0 when
    /// none; used to turn a
    /// nested `write` on the same thread into an error instead of a deadlock.
    private let writerThread = Atomic<UInt>(0)
    private let retry: TransactionRetry
    let writeHealth = WriteHealth()

    init(configuration: DatabaseConfiguration) throws {
        self.configuration = configuration
        let path = configuration.sqlitePath
        if path != ":memory:" {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw StorageError(.connection, "cannot create data directory '\(directory)': \(error.localizedDescription)")
                }
            }
        }
        let writer = try SQLiteConnection(path: path, reader: false, busyTimeout: configuration.busyTimeout,
                                          cacheCapacity: configuration.statementCacheSize)
        if let kib = configuration.sqliteWriterCacheKiB { try writer.execute("PRAGMA cache_size = -\(max(1, kib))", []) }
        if let pages = configuration.sqliteCheckpointPages { try writer.execute("PRAGMA wal_autocheckpoint = \(max(0, pages))", []) }
        if configuration.sqliteWriterTempStoreInMemory { try writer.execute("PRAGMA temp_store = MEMORY", []) }
        self.writer = writer
        retry = TransactionRetry(maxAttempts: configuration.maxTransactionAttempts)
        if path == ":memory:" {
            readers = nil
        } else {
            let busyTimeout = configuration.busyTimeout
            let cacheSize = configuration.statementCacheSize
            readers = BlockingPool(
                capacity: configuration.poolSize, acquireTimeout: configuration.acquireTimeout,
                make: { try SQLiteConnection(path: path, reader: true, busyTimeout: busyTimeout, cacheCapacity: cacheSize) },
                destroy: { $0.close() })
        }
    }

    deinit { close() }

    func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try writeHealth.observe { try retry.run { try writeTransaction(body) } }
    }

    func schemaTransaction<T>(_ body: (any ScriptExecutor) throws -> T) throws -> T {
        try writeTransaction(body)
    }

    /// The processes holding the file's write lock, from `/proc/locks` (``SQLiteLockHolders``).
    func schemaLockHolder() -> String? {
        configuration.sqlitePath == ":memory:" ? nil : SQLiteLockHolders.describe(databasePath: configuration.sqlitePath)
    }

    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try retry.run {
            guard let readers else { return try writeTransaction(body, begin: "BEGIN DEFERRED") }
            return try readers.withResource { connection in
                try Self.transaction(on: connection, begin: "BEGIN DEFERRED", body)
            }
        }
    }

    func ping() throws {
        _ = try read { try $0.scalar("SELECT 1") }
    }

    func close() {
        readers?.close()
        writerLock.lock()
        writer?.close()
        writer = nil
        writerLock.unlock()
    }

    // MARK: Transactions

    private func writeTransaction<T>(_ body: (SQLiteConnection) throws -> T, begin: String = "BEGIN IMMEDIATE") throws -> T {
        let me = UInt(bitPattern: ObjectIdentifier(Thread.current))
        guard writerThread.load(ordering: .relaxed) != me else {
            throw StorageError(.misuse, "write() called inside another write() on the same thread; use the executor you were given")
        }
        writerLock.lock()
        defer { writerLock.unlock() }
        guard let writer else { throw StorageError(.closed, "the database has been closed") }
        writerThread.store(me, ordering: .relaxed)
        defer { writerThread.store(0, ordering: .relaxed) }
        return try Self.transaction(on: writer, begin: begin, body)
    }

    /// `begin`, run `body`, then `COMMIT`, or `ROLLBACK` when anything throws.
    private static func transaction<T>(on connection: SQLiteConnection, begin: String,
                                       _ body: (SQLiteConnection) throws -> T) throws -> T {
        try connection.execute(begin, [])
        let result: T
        do {
            result = try body(connection)
            if connection.isAutocommit {
                // SQLite already rolled back (e.g. after SQLITE_FULL) and the body swallowed the error.
                throw StorageError(.other, "the transaction was rolled back by SQLite after an error inside the body; nothing was committed")
            }
            try connection.execute("COMMIT", [])
        } catch {
            if !connection.isAutocommit { _ = try? connection.execute("ROLLBACK", []) }
            throw error
        }
        return result
    }
}
