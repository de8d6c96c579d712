import Foundation

/// Where a service's database lives and the limits it runs under.
///
/// With ``url`` set to a `postgres://` (or `postgresql://`) URL the service uses PostgreSQL;
/// otherwise it uses the SQLite file at ``sqlitePath``.
///
/// ```swift
/// // INTAKE_DATABASE_URL=postgres://intake@db.internal/intake  → PostgreSQL
/// // unset                                                     → /var/lib/ocorrencias/intake.sqlite
/// let config = DatabaseConfiguration.fromEnvironment(service: "intake", dataDirectory: "/var/lib/ocorrencias")
/// ```
public struct DatabaseConfiguration: Sendable {
    /// A libpq connection URL (`postgres://user:password@host:port/dbname?sslmode=...`);
    /// `nil` selects SQLite.
    public var url: String?
    /// The SQLite database file; its directory is created when missing. `":memory:"` gives a
    /// private in-memory database whose reads go through the writer connection (tests only).
    public var sqlitePath: String
    /// PostgreSQL: the most connections open at once. SQLite: the most reader connections
    /// (there is always exactly one writer). Default 8.
    public var poolSize: Int
    /// SQLite: how long a statement waits for another process's lock before failing with
    /// ``StorageError/Kind/busy``. Both engines: how long one attempt of a migration waits for
    /// the schema lock before it says so (``MigrationProgress/waitingForLock(step:count:migration:cause:)``)
    /// and waits again. Default 5 s.
    public var busyTimeout: Duration
    /// Both engines: how long one migration waits in all for the schema lock (attempts of
    /// ``busyTimeout`` each, so it gives up at the first attempt that ends past it) before the
    /// start fails with ``StorageError/Kind/migration`` naming the lock's holder when it can be
    /// known. `nil`: it waits for ever. Default 10 minutes: longer than any one migration of
    /// another instance starting next to it takes, short enough that a lock nobody releases (a
    /// forgotten `BEGIN` in a `sqlite3` or `psql` shell) fails the start loudly, where a
    /// supervisor shows it, instead of leaving the service `NOT_SERVING` for good.
    /// Environment: `<SERVICE>_MIGRATION_LOCK_WAIT_SECONDS`, else
    /// `OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS` (`0`: for ever).
    public var migrationLockWait: Duration? = DatabaseConfiguration.defaultMigrationLockWait
    /// How long ``Database/write(_:)`` or ``Database/read(_:)`` waits for a free pooled
    /// connection before throwing ``StorageError/Kind/timeout``. Default 10 s.
    public var acquireTimeout: Duration
    /// PostgreSQL: how long establishing a connection may take (libpq `connect_timeout`, applied
    /// unless the URL sets its own). Default 5 s.
    public var connectTimeout: Duration
    /// How many times a transaction is attempted in total when it fails with a retryable error
    /// (see ``StorageError/isRetryable``). Default 5.
    public var maxTransactionAttempts: Int
    /// Prepared statements cached per connection; the cache is cleared when it grows past this.
    /// Default 256.
    public var statementCacheSize: Int
    /// PostgreSQL `application_name`, shown in `pg_stat_activity`. Default `"ocorrencias"`.
    public var applicationName: String
    /// SQLite: the page cache of the writer connection, in KiB (`PRAGMA cache_size = -N`). The
    /// writer keeps the right-most pages of every table and index it appends to; when they do
    /// not fit it reads them back from the WAL on the next transaction. `nil`: SQLite's default
    /// (2 MiB). Environment: `<SERVICE>_SQLITE_CACHE_KIB`.
    public var sqliteWriterCacheKiB: Int?
    /// SQLite: how many WAL pages trigger an automatic checkpoint (`PRAGMA wal_autocheckpoint`)
    /// on the writer. A checkpoint copies each page changed since the last one into the database
    /// file once and syncs both files, so a larger value writes a page changed by many commits
    /// once instead of once per checkpoint, at the price of a larger WAL file. Durability is the
    /// same either way (a commit is in the WAL when `COMMIT` returns). `nil`: SQLite's default
    /// (1000 pages). Environment: `<SERVICE>_SQLITE_CHECKPOINT_PAGES`.
    public var sqliteCheckpointPages: Int?
    /// SQLite: keep the writer's temporary files in memory (`PRAGMA temp_store = MEMORY`). The
    /// statement journal that lets a `SAVEPOINT` roll back is one of them: a transaction with many
    /// savepoints (a group commit) otherwise spills it to a temporary file once it passes 64 KiB,
    /// and writes every page it changes there too. It only serves rollbacks inside a transaction,
    /// so durability is the same. `false`: SQLite's default (a file).
    public var sqliteWriterTempStoreInMemory = false

    /// ``migrationLockWait``'s default: 10 minutes.
    public static let defaultMigrationLockWait = Duration.seconds(600)
    /// The seconds `*_MIGRATION_LOCK_WAIT_SECONDS` may say (up to a week; 0: no limit).
    public static let migrationLockWaitRange = 0...604_800

    /// The variables setting ``migrationLockWait`` for `service`, the first set winning:
    /// `<SERVICE>_MIGRATION_LOCK_WAIT_SECONDS`, then `OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS`.
    public static func migrationLockWaitVariables(service: String) -> [String] {
        ["\(environmentPrefix(for: service))_MIGRATION_LOCK_WAIT_SECONDS", "OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS"]
    }

    /// Creates a configuration; every limit has a default.
    public init(
        url: String? = nil,
        sqlitePath: String,
        poolSize: Int = 8,
        busyTimeout: Duration = .seconds(5),
        acquireTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        maxTransactionAttempts: Int = 5,
        statementCacheSize: Int = 256,
        applicationName: String = "ocorrencias"
    ) {
        self.url = url
        self.sqlitePath = sqlitePath
        self.poolSize = poolSize
        self.busyTimeout = busyTimeout
        self.acquireTimeout = acquireTimeout
        self.connectTimeout = connectTimeout
        self.maxTransactionAttempts = maxTransactionAttempts
        self.statementCacheSize = statementCacheSize
        self.applicationName = applicationName
    }

    /// `configuration` with SQLite's tuning for a write-heavy service: an 8 MiB writer page cache
    /// and a checkpoint every 4,000 WAL pages (16 MiB), unless already set, and the writer's
    /// temporary files (savepoint journals) in memory. Same durability.
    public func tunedForWrites() -> DatabaseConfiguration {
        var tuned = self
        tuned.sqliteWriterTempStoreInMemory = true
        if tuned.sqliteWriterCacheKiB == nil { tuned.sqliteWriterCacheKiB = 8 * 1024 }
        if tuned.sqliteCheckpointPages == nil { tuned.sqliteCheckpointPages = 4_000 }
        return tuned
    }

    /// The engine this configuration selects: PostgreSQL when ``url`` is set.
    public var engine: DatabaseEngine { url == nil ? .sqlite : .postgres }

    /// The configuration for `service` from the process environment.
    ///
    /// Reads `<SERVICE>_DATABASE_URL` (for example `INTAKE_DATABASE_URL`; the service name is
    /// upper-cased and every character other than a letter or digit becomes `_`) and the optional
    /// `<SERVICE>_DATABASE_POOL_SIZE`, the SQLite tuning and the migration lock wait
    /// (``migrationLockWait``). Without a URL the database is `<dataDirectory>/<service>.sqlite`.
    /// An empty URL counts as unset.
    ///
    /// - Parameters:
    ///   - service: The service name, e.g. `"intake"`.
    ///   - dataDirectory: Where SQLite files live.
    ///   - environment: The variables to read; the process environment by default.
    public static func fromEnvironment(
        service: String,
        dataDirectory: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> DatabaseConfiguration {
        let prefix = environmentPrefix(for: service)
        let url = environment["\(prefix)_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let directory = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
        var configuration = DatabaseConfiguration(
            url: url,
            sqlitePath: "\(directory)/\(service).sqlite",
            applicationName: "ocorrencias-\(service)")
        if let size = environment["\(prefix)_DATABASE_POOL_SIZE"].flatMap(Int.init), size > 0 {
            configuration.poolSize = size
        }
        if let size = environment["\(prefix)_SQLITE_CACHE_KIB"].flatMap(Int.init), size > 0 {
            configuration.sqliteWriterCacheKiB = size
        }
        if let pages = environment["\(prefix)_SQLITE_CHECKPOINT_PAGES"].flatMap(Int.init), pages >= 0 {
            configuration.sqliteCheckpointPages = pages
        }
        // Malformed values are refused by ServiceKit before the database opens; here the first
        // variable set wins.
        for name in migrationLockWaitVariables(service: service) {
            guard let text = environment[name], !text.isEmpty else { continue }
            if let seconds = Int(text.trimmingCharacters(in: .whitespaces)), migrationLockWaitRange.contains(seconds) {
                configuration.migrationLockWait = seconds == 0 ? nil : .seconds(seconds)
            }
            break
        }
        return configuration
    }

    /// `"intake"` → `"INTAKE"`, `"knowledge-base"` → `"KNOWLEDGE_BASE"`.
    static func environmentPrefix(for service: String) -> String {
        String(service.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// Checks the limits and the URL scheme.
    func validate() throws {
        if let url, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            throw StorageError(.misuse, "database URL must start with postgres:// or postgresql://, got '\(Self.redacted(url))'")
        }
        if url == nil && sqlitePath.isEmpty {
            throw StorageError(.misuse, "sqlitePath is empty and no PostgreSQL URL is set")
        }
        guard poolSize >= 1 else { throw StorageError(.misuse, "poolSize must be at least 1, got \(poolSize)") }
        guard maxTransactionAttempts >= 1 else {
            throw StorageError(.misuse, "maxTransactionAttempts must be at least 1, got \(maxTransactionAttempts)")
        }
        guard statementCacheSize >= 1 else {
            throw StorageError(.misuse, "statementCacheSize must be at least 1, got \(statementCacheSize)")
        }
    }

    /// `url` with any password replaced by `***`, safe for logs and error messages: the one after
    /// the user name (up to the last `@`, so a password with an unencoded `@`, `/` or `?` is
    /// hidden whole; when in doubt more is hidden, never less) and a `password=` query parameter
    /// (libpq takes both).
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        var head = String(url[..<scheme.upperBound])
        var rest = url[scheme.upperBound...]
        if let at = rest.lastIndex(of: "@") {
            let user = rest[..<at]
            head += user.firstIndex(of: ":").map { String(user[...$0]) + "***" } ?? String(user)
            rest = rest[at...]
        }
        guard let query = rest.firstIndex(of: "?") else { return head + rest }
        let parameters = rest[rest.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false).map { parameter in
            parameter.lowercased().hasPrefix("password=") ? "password=***" : String(parameter)
        }
        return head + rest[...query] + parameters.joined(separator: "&")
    }

    /// Where the data lives, safe for logs: the SQLite file, or the PostgreSQL URL without its
    /// password (``redacted(_:)``).
    public var location: String { url.map(Self.redacted) ?? sqlitePath }
}
