import Foundation

/// Applies pending migrations and records them in `schema_migrations`.
///
/// Each migration runs in its own schema transaction (see ``SchemaTransactionRunner``) that first
/// re-reads the history under the cross-process lock, so two processes starting together on one
/// database apply every migration exactly once. Histories are kept per component: `storage` for
/// the built-in tables of this module, `service` for the service's own migrations.
struct Migrator {
    /// One independent migration history.
    struct Component {
        var name: String
        var migrations: [Migration]
    }

    let database: any SchemaTransactionRunner
    /// Attempts of one schema transaction that fails for a passing reason other than the lock
    /// (a broken PostgreSQL connection, a serialization failure).
    var retry = TransactionRetry(maxAttempts: 5)
    /// How long one migration waits in all for the schema lock before giving up
    /// (``DatabaseConfiguration/migrationLockWait``); nil: for ever.
    var lockWait: Duration? = nil
    /// The pause between two attempts at the lock (each of which waited the busy timeout
    /// already): keeps a lock error that comes at once (a `NOWAIT` in a migration) from spinning.
    static let lockRetryPause = 0.1

    /// Validates `components`, then applies whatever is pending, in order, telling `progress`.
    ///
    /// The history is read first without the lock (a read transaction, which a process holding
    /// the lock does not block), so that the pending count is known while waiting for it; each
    /// migration reads it again under the lock before it applies.
    /// - Throws: ``StorageError/Kind/migration`` when the history is inconsistent or a
    ///   migration fails (earlier migrations stay applied; the failed one leaves no trace).
    func migrate(_ components: [Component], progress: (MigrationProgress) -> Void = { _ in }) throws {
        let ordered = try components.map { component in
            Component(name: component.name, migrations: try Self.validated(component))
        }
        progress(.checking)
        let applied = try database.read { tx in try Self.historyIfPresent(tx, engine: database.engine) }
        var pending: [(component: String, migration: Migration)] = []
        for component in ordered {
            for migration in component.migrations {
                if let name = applied?[component.name]?[migration.version] {
                    try Self.checkName(recorded: name, migration, component: component.name)
                    continue
                }
                pending.append((component.name, migration))
            }
        }
        progress(.started(count: pending.count))
        if applied == nil {
            let first = pending.first.map { "\($0.component) \($0.migration.version) \($0.migration.name)" } ?? "schema_migrations"
            try locked(step: 1, count: pending.count, migration: first, progress: progress) { tx in
                try tx.executeScript(Self.historyTableSQL)
            }
        }
        var appliedHere = 0
        for (index, item) in pending.enumerated() {
            let label = "\(item.component) \(item.migration.version) \(item.migration.name)"
            progress(.applying(step: index + 1, count: pending.count, migration: label))
            if try apply(item.migration, component: item.component, label: label, step: index + 1, count: pending.count, progress: progress) {
                appliedHere += 1
            }
        }
        progress(.finished(applied: appliedHere))
    }

    /// Applies `migration` unless another process did meanwhile; whether it applied it.
    private func apply(_ migration: Migration, component: String, label: String, step: Int, count: Int,
                       progress: (MigrationProgress) -> Void) throws -> Bool {
        let engine = database.engine
        do {
            return try locked(step: step, count: count, migration: label, progress: progress) { tx in
                // Another process may have applied it while we were waiting for the lock.
                if let row = try tx.queryOne("SELECT name FROM schema_migrations WHERE component = ? AND version = ?",
                                             [.text(component), .integer(Int64(migration.version))]) {
                    try Self.checkName(recorded: try row.text("name"), migration, component: component)
                    return false
                }
                try tx.executeScript(migration.sql(for: engine))
                try tx.execute("INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
                               [.text(component), .integer(Int64(migration.version)), .text(migration.name), .integer(EpochMillis.now())])
                return true
            }
        } catch let error as StorageError where error.kind != .migration {
            throw StorageError(.migration, "\(component) migration \(migration.version) '\(migration.name)' failed: \(error.message)",
                               sql: error.sql, code: error.code)
        }
    }

    /// `body` in a schema transaction, attempted again while the schema lock is busy (each
    /// attempt waits the engine's busy timeout, then `progress` hears of the wait) until
    /// ``lockWait`` has passed (for ever without one), and up to ``retry``'s attempts after
    /// other passing failures.
    /// - Throws: ``StorageError/Kind/migration`` naming the lock's holder when the wait ran out.
    private func locked<T>(step: Int, count: Int, migration: String, progress: (MigrationProgress) -> Void,
                           _ body: (any ScriptExecutor) throws -> T) throws -> T {
        let started = ContinuousClock.now
        while true {
            do {
                return try retry.run(retrying: { $0.kind != .busy }) { try database.schemaTransaction(body) }
            } catch let error as StorageError where error.kind == .busy {
                if let lockWait, ContinuousClock.now - started >= lockWait {
                    throw Self.gaveUp(step: step, count: count, migration: migration, waited: ContinuousClock.now - started,
                                      holder: database.schemaLockHolder(), cause: error)
                }
                progress(.waitingForLock(step: step, count: count, migration: migration, cause: error.message))
                Thread.sleep(forTimeInterval: Self.lockRetryPause)
            }
        }
    }

    /// The error of a migration that waited ``lockWait`` for the schema lock in vain.
    static func gaveUp(step: Int, count: Int, migration: String, waited: Duration, holder: String?, cause: StorageError) -> StorageError {
        let seconds = waited.components.seconds
        let holderPT = holder ?? "um processo que não foi possível identificar", holderEN = holder ?? "a process that could not be identified"
        return StorageError(.migration,
                            "banco bloqueado: a migração \(step) de \(count) (\(migration)) desistiu após \(seconds) s esperando o bloqueio do esquema, mantido por \(holderPT); libere-o ou aumente o prazo (<SERVIÇO>_MIGRATION_LOCK_WAIT_SECONDS, OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS) / "
                            + "database locked: migration \(step) of \(count) (\(migration)) gave up after \(seconds) s waiting for the schema lock, held by \(holderEN); free it or raise the limit (<SERVICE>_MIGRATION_LOCK_WAIT_SECONDS, OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS) [\(cause.message)]",
                            code: cause.code)
    }

    private static let historyTableSQL = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            component TEXT NOT NULL,
            version BIGINT NOT NULL,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL,
            PRIMARY KEY (component, version)
        )
        """

    /// What was applied, by component and version; nil when there is no history table yet.
    private static func historyIfPresent(_ tx: any SQLExecutor, engine: DatabaseEngine) throws -> [String: [Int: String]]? {
        let exists = switch engine {
        case .sqlite: try tx.queryOne("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", [])
        case .postgres: try tx.queryOne("SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL", [])
        }
        guard exists != nil else { return nil }
        var result: [String: [Int: String]] = [:]
        for row in try tx.query("SELECT component, version, name FROM schema_migrations", []) {
            result[try row.text("component"), default: [:]][Int(try row.int("version"))] = try row.text("name")
        }
        return result
    }

    private static func validated(_ component: Component) throws -> [Migration] {
        var seen: Set<Int> = []
        for migration in component.migrations {
            guard migration.version > 0 else {
                throw StorageError(.migration, "\(component.name) migration '\(migration.name)' has version \(migration.version); versions must be positive")
            }
            guard seen.insert(migration.version).inserted else {
                throw StorageError(.migration, "\(component.name) migration version \(migration.version) is declared twice")
            }
        }
        return component.migrations.sorted { $0.version < $1.version }
    }

    private static func checkName(recorded: String, _ migration: Migration, component: String) throws {
        guard recorded == migration.name else {
            throw StorageError(.migration, "\(component) migration \(migration.version) was applied as '\(recorded)' but the code now calls it '\(migration.name)'; shipped migrations must not change")
        }
    }
}
