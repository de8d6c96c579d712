import Foundation
import Storage
import Synchronization

/// Holds a database's schema lock from another connection, as another process would, so that a
/// service starting on it waits in its migrations: SQLite's write lock (an open `BEGIN
/// IMMEDIATE` transaction) or, on PostgreSQL, the migrations' advisory lock taken in an open
/// transaction. No hook in the code under test: the lock is the real one.
///
/// ```swift
/// let lock = try SchemaLockHolder(configuration, migrations: Array(schema.prefix(2)))
/// // start the service: it waits for migration 3
/// lock.release()
/// ```
public final class SchemaLockHolder: Sendable {
    /// The advisory-lock key PostgreSQL migrations take ("OCORMIGR", `PostgresDatabase.migrationLockKey`).
    public static let postgresMigrationLockKey: Int64 = 0x4F43_4F52_4D49_4752

    private let database: any Database
    private let releasing = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    private let isReleased = Mutex(false)

    /// Opens the database with `migrations` applied (the built-in tables too), then takes the
    /// lock and keeps it until ``release()``.
    public init(_ configuration: DatabaseConfiguration, migrations: [Migration]) throws {
        let database = try openDatabase(configuration, migrations: migrations)
        self.database = database
        let holding = DispatchSemaphore(value: 0)
        let (releasing, released) = (releasing, released)
        Thread {
            _ = try? database.write { tx in
                if database.engine == .postgres {
                    _ = try tx.query("SELECT pg_advisory_xact_lock(\(Self.postgresMigrationLockKey))", [])
                }
                holding.signal()
                releasing.wait()
            }
            released.signal()
        }.start()
        holding.wait()
    }

    /// Ends the transaction (nothing written), which frees the lock, and closes the connection;
    /// once (later calls do nothing, so a `defer` may call it again).
    public func release() {
        guard isReleased.withLock({ released in defer { released = true }; return !released }) else { return }
        releasing.signal()
        released.wait()
        database.close()
    }
}
