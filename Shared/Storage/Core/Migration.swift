/// One step of a service's schema history, applied once by ``openDatabase(_:migrations:)``.
///
/// Versions are positive and unique; pending migrations run in ascending version order, each in
/// its own transaction together with its row in `schema_migrations`, so a failed migration leaves
/// no trace. A migration's SQL may hold several statements. Never edit or renumber a migration
/// that has shipped: add a new one.
///
/// Write portable SQL where you can, and split it when the engines differ:
/// - use `INTEGER` (SQLite) / `BIGINT` (PostgreSQL) for integers and `INTEGER` 0/1 for booleans,
/// - `REAL` / `DOUBLE PRECISION` for floats, `BLOB` / `BYTEA` for bytes,
/// - epoch milliseconds in an integer column for timestamps.
///
/// ```swift
/// static let migrations = [
///     Migration(version: 1, name: "create_tickets",
///               sqlite: "CREATE TABLE tickets (id TEXT PRIMARY KEY, body BLOB NOT NULL, opened_at INTEGER NOT NULL)",
///               postgres: "CREATE TABLE tickets (id TEXT PRIMARY KEY, body BYTEA NOT NULL, opened_at BIGINT NOT NULL)"),
///     Migration(version: 2, name: "index_tickets_opened_at",
///               sql: "CREATE INDEX tickets_opened_at ON tickets (opened_at)"),
/// ]
/// ```
///
/// - Important: Statements that cannot run inside a transaction (SQLite `VACUUM`, PostgreSQL
///   `CREATE INDEX CONCURRENTLY`) cannot be migrations.
public struct Migration: Sendable, Hashable {
    /// The position in the history; positive and unique.
    public var version: Int
    /// A short identifier, recorded with the version and checked on every start.
    public var name: String
    /// The SQL run on SQLite.
    public var sqlite: String
    /// The SQL run on PostgreSQL.
    public var postgres: String

    /// A migration whose SQL is the same on both engines.
    public init(version: Int, name: String, sql: String) {
        self.init(version: version, name: name, sqlite: sql, postgres: sql)
    }

    /// A migration with separate SQL per engine.
    public init(version: Int, name: String, sqlite: String, postgres: String) {
        self.version = version
        self.name = name
        self.sqlite = sqlite
        self.postgres = postgres
    }

    /// The SQL for `engine`.
    public func sql(for engine: DatabaseEngine) -> String {
        engine == .sqlite ? sqlite : postgres
    }
}
