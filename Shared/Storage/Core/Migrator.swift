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

    /// Validates `components`, then applies whatever is pending, in order.
    /// - Throws: ``StorageError/Kind/migration`` when the history is inconsistent or a
    ///   migration fails (earlier migrations stay applied; the failed one leaves no trace).
    func migrate(_ components: [Component]) throws {
        let ordered = try components.map { component in
            Component(name: component.name, migrations: try Self.validated(component))
        }
        let applied = try database.schemaTransaction { tx -> [String: [Int: String]] in
            try tx.executeScript(Self.historyTableSQL)
            return try Self.history(tx)
        }
        for component in ordered {
            for migration in component.migrations {
                if let name = applied[component.name]?[migration.version] {
                    try Self.checkName(recorded: name, migration, component: component.name)
                    continue
                }
                try apply(migration, component: component.name)
            }
        }
    }

    private func apply(_ migration: Migration, component: String) throws {
        let engine = database.engine
        do {
            try database.schemaTransaction { tx in
                // Another process may have applied it while we were waiting for the lock.
                if let row = try tx.queryOne("SELECT name FROM schema_migrations WHERE component = ? AND version = ?",
                                             [.text(component), .integer(Int64(migration.version))]) {
                    try Self.checkName(recorded: try row.text("name"), migration, component: component)
                    return
                }
                try tx.executeScript(migration.sql(for: engine))
                try tx.execute("INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
                               [.text(component), .integer(Int64(migration.version)), .text(migration.name), .integer(EpochMillis.now())])
            }
        } catch let error as StorageError where error.kind != .migration {
            throw StorageError(.migration, "\(component) migration \(migration.version) '\(migration.name)' failed: \(error.message)",
                               sql: error.sql, code: error.code)
        }
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

    private static func history(_ tx: any SQLExecutor) throws -> [String: [Int: String]] {
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
