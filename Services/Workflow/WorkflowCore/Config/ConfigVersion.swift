import Storage
import Synchronization

/// The version of workflow's configuration tables — routing rules and category levels (ticket
/// core), SLA policies and calendars (time half) — in `wf_config_version`, changed by triggers on
/// those tables in the writing transaction, whoever writes (this instance, another one sharing
/// the database, plain SQL). Caches (``RoutingCache``, ``TimeConfigCache``) keep the tables in
/// memory and use them only while the version read in the current transaction is the one they
/// were loaded at, so a change is seen by the next transaction after it commits, as when the
/// tables were read each time; one statement per event instead of one or two per table.
///
/// The triggers set a **random** version rather than adding one, so a version seen by a
/// transaction that was rolled back (which may have loaded a cache with its own uncommitted
/// changes) is never the version of a later committed change.
enum ConfigVersion {
    /// The version read earlier in the current transaction (set by ``scoped(_:_:)``), so the
    /// caches consulted later in the same event do not read it again.
    @TaskLocal static var current: Int64?

    /// The version in `tx` (the one set with ``scoped(_:_:)`` if any, else the one already read
    /// in this SQLite transaction inside ``perTransaction(_:_:)``); -1 when the row is missing.
    static func read(_ tx: any SQLExecutor) throws -> Int64 {
        if let current { return current }
        if let known = transaction?.version { return known }
        var version: Int64 = -1
        if case .integer(let value) = try tx.scalar("SELECT version FROM wf_config_version WHERE id = 1", []) { version = value }
        transaction?.version = version
        return version
    }

    /// The version read in the current transaction (one thread's), inside ``perTransaction(_:_:)``.
    final class TransactionVersion: @unchecked Sendable {
        var version: Int64?
    }

    @TaskLocal static var transaction: TransactionVersion?

    /// Runs `body` (a transaction's event handlers) reading the version at most once: on SQLite a
    /// transaction sees one snapshot and writes alone, so the version cannot change under it (no
    /// event handler edits configuration). Elsewhere (PostgreSQL reads each statement's own
    /// snapshot) it only runs `body`.
    static func perTransaction(_ tx: any SQLExecutor, _ body: () throws -> Void) throws {
        guard tx.engine == .sqlite, transaction == nil else { return try body() }
        try $transaction.withValue(TransactionVersion()) { try body() }
    }

    /// Runs `body` with `version` (read in `tx`'s transaction) as ``current``; `body` must run
    /// in that same transaction.
    static func scoped<T>(_ version: Int64, _ body: () throws -> T) rethrows -> T {
        try $current.withValue(version, operation: body)
    }

    /// The migration creating the version row (if not there yet) and its triggers on `tables`.
    /// Both halves of workflow run one (the time half also runs alone), hence `IF NOT EXISTS`.
    static func migration(version: Int, name: String, tables: [String]) -> Migration {
        let table = """
            CREATE TABLE IF NOT EXISTS wf_config_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);
            INSERT INTO wf_config_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

            """
        var sqlite = table, postgres = table + """
            CREATE OR REPLACE FUNCTION wf_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE wf_config_version SET version = floor(random() * 9007199254740991)::bigint WHERE id = 1;
                RETURN NULL;
            END $$;

            """
        for table in tables {
            for operation in ["INSERT", "UPDATE", "DELETE"] {
                sqlite += """
                    CREATE TRIGGER \(table)_\(operation.lowercased())_config_version AFTER \(operation) ON \(table) BEGIN
                        UPDATE wf_config_version SET version = random() WHERE id = 1;
                    END;

                    """
            }
            postgres += """
                CREATE TRIGGER \(table)_config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON \(table)
                    FOR EACH STATEMENT EXECUTE FUNCTION wf_config_changed();

                """
        }
        return Migration(version: version, name: name, sqlite: sqlite, postgres: postgres)
    }
}

/// One snapshot of some configuration tables at a ``ConfigVersion``, kept while the version holds.
final class VersionedCache<Snapshot: Sendable>: Sendable {
    private let current = Mutex<(version: Int64, snapshot: Snapshot)?>(nil)
    private let load: @Sendable (any SQLExecutor) throws -> Snapshot
    /// Snapshots loaded (tests read it to see the cache work).
    let loads = Atomic<Int>(0)

    init(load: @escaping @Sendable (any SQLExecutor) throws -> Snapshot) {
        self.load = load
    }

    /// The snapshot held and the version it was loaded at, if any, without checking the version
    /// (a caller that checks it in a statement of its own).
    var cached: (version: Int64, snapshot: Snapshot)? { current.withLock { $0 } }

    /// The snapshot valid in `tx`: the cached one when the version still matches, else one read in `tx`.
    func snapshot(_ tx: any SQLExecutor) throws -> Snapshot {
        let version = try ConfigVersion.read(tx)
        if version != -1, let cached = current.withLock({ $0 }), cached.version == version { return cached.snapshot }
        let snapshot = try load(tx)
        loads.add(1, ordering: .relaxed)
        if version != -1 { current.withLock { $0 = (version, snapshot) } }
        return snapshot
    }
}
