import Storage

/// The engines tests should cover: SQLite always, PostgreSQL unless `OCORRENCIAS_TEST_PG=0`.
///
/// ```swift
/// @Test(arguments: TestEngines.all)
/// func roundTrip(engine: DatabaseEngine) throws { ... }
/// ```
public enum TestEngines {
    /// `[.sqlite, .postgres]`, or `[.sqlite]` when PostgreSQL tests are disabled.
    public static var all: [DatabaseEngine] {
        PostgresTestServer.isEnabled ? [.sqlite, .postgres] : [.sqlite]
    }
}

/// A fresh, empty place for a database on one engine: a SQLite file in its own temporary
/// directory, or a new database on the shared ``PostgresTestServer``. Open it as many times as
/// needed (several handles behave like several processes). SQLite directories are deleted when
/// the test process exits (not earlier: open handles may still create reader connections).
///
/// ```swift
/// let scratch = try ScratchDatabase(.postgres)
/// let db = try scratch.open(migrations: schema)
/// defer { db.close() }
/// ```
public final class ScratchDatabase: Sendable {
    /// The engine.
    public let engine: DatabaseEngine
    /// The configuration ``open(migrations:)`` uses.
    public let configuration: DatabaseConfiguration

    /// Prepares an empty database.
    /// - Parameters:
    ///   - engine: Which engine.
    ///   - server: The PostgreSQL cluster to use; the shared one by default.
    ///   - poolSize: ``DatabaseConfiguration/poolSize``.
    public init(_ engine: DatabaseEngine, server: PostgresTestServer? = nil, poolSize: Int = 8) throws {
        self.engine = engine
        switch engine {
        case .sqlite:
            let directory = try TemporaryDirectory.untilExit(prefix: "ocorrencias-db")
            configuration = DatabaseConfiguration(sqlitePath: "\(directory)/data/test.sqlite", poolSize: poolSize)
        case .postgres:
            let url = try (server ?? PostgresTestServer.shared()).createDatabase()
            configuration = DatabaseConfiguration(url: url, sqlitePath: "", poolSize: poolSize)
        }
    }

    /// Opens a new handle on this database, applying `migrations`.
    public func open(migrations: [Migration] = []) throws -> any Database {
        try openDatabase(configuration, migrations: migrations)
    }
}
