/// Opens a service's database and brings its schema up to date.
///
/// Chooses the engine from `configuration` (PostgreSQL when ``DatabaseConfiguration/url`` is set,
/// else the SQLite file, whose directory is created when missing), creates the built-in tables of
/// ``Outbox``, ``Inbox`` and ``IdempotencyStore`` (`storage_outbox`, `storage_inbox`,
/// `storage_idempotency`), then applies the pending `migrations` in version order. Every applied
/// migration is recorded in `schema_migrations` (columns `component`, `version`, `name`,
/// `applied_at`; the service's migrations use component `service`). Safe when several processes
/// start at once on one database: migrations are serialized by a PostgreSQL advisory lock or the
/// SQLite write lock, and each is applied once. A migration that finds the lock held waits for
/// it (``MigrationProgress/waitingForLock(step:count:migration:cause:)`` every busy timeout)
/// up to ``DatabaseConfiguration/migrationLockWait`` (10 minutes by default), then fails the
/// start naming the lock's holder when it can be known.
///
/// ```swift
/// let db = try openDatabase(.fromEnvironment(service: "workflow", dataDirectory: dataDir),
///                           migrations: WorkflowSchema.migrations)
/// defer { db.close() }
/// ```
///
/// - Parameters:
///   - configuration: Where the database is and its limits.
///   - migrations: The service's schema history (see ``Migration``).
///   - progress: Told where the migrations stand (``MigrationProgress``), on the calling thread.
/// - Returns: The open database.
/// - Throws: ``StorageError/Kind/connection`` when it cannot be opened,
///   ``StorageError/Kind/migration`` when the schema cannot be brought up to date,
///   ``StorageError/Kind/misuse`` for an invalid configuration.
public func openDatabase(_ configuration: DatabaseConfiguration, migrations: [Migration],
                         progress: (MigrationProgress) -> Void = { _ in }) throws -> any Database {
    try configuration.validate()
    let database: any SchemaTransactionRunner = switch configuration.engine {
    case .sqlite: try SQLiteDatabase(configuration: configuration)
    case .postgres: try PostgresDatabase(configuration: configuration)
    }
    do {
        try Migrator(database: database, retry: TransactionRetry(maxAttempts: configuration.maxTransactionAttempts),
                     lockWait: configuration.migrationLockWait).migrate([
            .init(name: "storage", migrations: BuiltinSchema.migrations),
            .init(name: "service", migrations: migrations),
        ], progress: progress)
    } catch {
        database.close()
        throw error
    }
    return database
}
