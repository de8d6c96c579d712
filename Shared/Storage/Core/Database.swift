/// The database engines a service can run on.
public enum DatabaseEngine: String, Sendable, Hashable, CaseIterable {
    /// An SQLite file in WAL mode (the default).
    case sqlite
    /// A PostgreSQL server reached through libpq.
    case postgres
}

/// A service's database: transactions over pooled connections.
///
/// All operations block the calling thread. Call them from the service's own worker threads,
/// not from Swift concurrency tasks (the cooperative pool has one thread per core).
///
/// ```swift
/// let db = try openDatabase(.fromEnvironment(service: "intake", dataDirectory: "/var/lib/ocorrencias"),
///                           migrations: IntakeSchema.migrations)
/// let id = try db.write { tx in
///     try tx.execute("INSERT INTO tickets (id, title) VALUES (?, ?)", [.text(id), .text(title)])
///     try Outbox.enqueue(tx, OutboxEvent(type: "ocorrencias.intake.v1.TicketOpened", key: id, payload: bytes))
///     return id
/// }
/// ```
public protocol Database: AnyObject, Sendable {
    /// The engine this database runs on.
    var engine: DatabaseEngine { get }

    /// Runs `body` in one read-write transaction: committed when `body` returns, rolled back when
    /// it throws.
    ///
    /// Busy databases, serialization failures, deadlocks and connections that broke before
    /// `COMMIT` are retried a few times with a short jittered backoff, so `body` may run more than
    /// once: keep side effects other than SQL (network calls, in-memory counters) out of it.
    /// On SQLite writes are serialized (one writer connection); on PostgreSQL they run
    /// concurrently at `READ COMMITTED`.
    ///
    /// - Important: On SQLite, calling `write` again from inside `body` throws
    ///   ``StorageError/Kind/misuse`` instead of deadlocking; use the executor you were given.
    /// - Throws: what `body` throws, or ``StorageError`` (``StorageError/Kind/commitOutcomeUnknown``
    ///   when the connection broke during `COMMIT`).
    @discardableResult
    func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T

    /// Runs `body` in a read-only transaction over one consistent snapshot.
    ///
    /// On SQLite reads use a pool of reader connections and never wait for the writer (WAL);
    /// on PostgreSQL they run at `REPEATABLE READ READ ONLY`. Writing inside `body` fails.
    /// - Throws: what `body` throws, or ``StorageError``.
    @discardableResult
    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T

    /// Whether the most recent write failed because the database cannot take work (kept by
    /// ``write(_:)``; see ``WriteHealth``).
    var writeHealth: WriteHealth { get }

    /// A cheap round trip (`SELECT 1`) for health checks.
    /// - Throws: ``StorageError`` when the database cannot answer.
    func ping() throws

    /// Closes every connection. Later calls throw ``StorageError/Kind/closed``. Idempotent.
    func close()
}
