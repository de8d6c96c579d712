import Foundation
import Storage
import Testing
import TestSupport

@Suite("Durability and reconnection")
struct ResilienceTests {
    static let schema = [Migration.table(version: 1, name: "create_events", "CREATE TABLE events (id {INT} PRIMARY KEY, body TEXT NOT NULL)")]

    @Test("PostgreSQL: the database keeps working after the server restarts", .enabled(if: PostgresTestServer.isEnabled))
    func reconnectAfterRestart() throws {
        let server = try PostgresTestServer.start()  // private: restarting the shared one would disturb other tests
        defer { server.stop() }
        let db = try ScratchDatabase(.postgres, server: server, poolSize: 4).open(migrations: Self.schema)
        defer { db.close() }
        // Warm up several pooled connections so that all of them go stale.
        try onThreads(4) { thread throws in
            _ = try db.write { try $0.execute("INSERT INTO events (id, body) VALUES (?, ?)", [SQLValue(thread), "before"]) }
        }
        try server.restart()
        try db.ping()
        for id in 10..<30 {
            try db.write { try $0.execute("INSERT INTO events (id, body) VALUES (?, ?)", [SQLValue(id), "after"]) }
        }
        try onThreads(4) { _ throws in
            #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM events") } == 24)
        }
    }

    @Test("PostgreSQL: a cached statement whose table changed shape is prepared again",
          .enabled(if: PostgresTestServer.isEnabled))
    func cachedStatementAfterSchemaChange() throws {
        let scratch = try ScratchDatabase(.postgres, poolSize: 1)
        let db = try scratch.open(migrations: Self.schema)
        defer { db.close() }
        try db.write { try $0.execute("INSERT INTO events (id, body) VALUES (?, ?)", [1, "x"]) }
        let select = "SELECT * FROM events WHERE id = ?"
        #expect(try db.read { try $0.queryOne(select, [1])?.columns } == ["id", "body"])
        // Another process migrates the schema while this connection holds the prepared statement:
        // the first use fails with "cached plan must not change result type" and is retried.
        let addAuthor = Migration(version: 2, name: "add_author", sql: "ALTER TABLE events ADD COLUMN author TEXT")
        try scratch.open(migrations: Self.schema + [addAuthor]).close()
        #expect(try db.read { try $0.queryOne(select, [1])?.columns } == ["id", "body", "author"])
    }

    @Test("SQLite: committed data survives closing and reopening")
    func durableAcrossReopen() throws {
        let scratch = try ScratchDatabase(.sqlite)
        var db = try scratch.open(migrations: Self.schema)
        try db.write { try $0.execute("INSERT INTO events (id, body) VALUES (?, ?)", [1, "kept"]) }
        db.close()
        db = try scratch.open(migrations: Self.schema)
        defer { db.close() }
        #expect(try db.read { try $0.scalar("SELECT body FROM events WHERE id = ?", [1]) } == "kept")
    }

    @Test("SQLite: a commit is visible to a new process even if the writer never closed (kill -9)")
    func durableWithoutClose() throws {
        let scratch = try ScratchDatabase(.sqlite)
        let writer = try scratch.open(migrations: Self.schema)
        defer { writer.close() }
        try writer.write { try $0.execute("INSERT INTO events (id, body) VALUES (?, ?)", [1, "in the WAL"]) }
        #expect(FileManager.default.fileExists(atPath: scratch.configuration.sqlitePath + "-wal"))
        // A second, independent handle stands in for the restarted process: it recovers from the
        // file and its WAL alone, with no checkpoint or close by the first one.
        let restarted = try scratch.open(migrations: Self.schema)
        defer { restarted.close() }
        #expect(try restarted.read { try $0.scalar("SELECT body FROM events WHERE id = ?", [1]) } == "in the WAL")
    }

    @Test("SQLite: the data directory is created and the file uses WAL")
    func createsDirectoryAndUsesWAL() throws {
        let directory = try TemporaryDirectory()
        let configuration = DatabaseConfiguration.fromEnvironment(service: "intake", dataDirectory: directory.file("nested/data"),
                                                                  environment: [:])
        let db = try openDatabase(configuration, migrations: Self.schema)
        defer { db.close() }
        #expect(configuration.sqlitePath == directory.file("nested/data/intake.sqlite"))
        #expect(FileManager.default.fileExists(atPath: configuration.sqlitePath))
        try db.read { tx throws in
            #expect(try tx.scalar("PRAGMA journal_mode") == "wal")
            #expect(try tx.scalar("PRAGMA foreign_keys") == 1)
            #expect(try tx.scalar("PRAGMA synchronous") == 1, "1 = NORMAL")
        }
    }

    @Test("an unreachable PostgreSQL server is a connection error at open")
    func unreachableServer() throws {
        let port = 1  // nothing listens on port 1
        let configuration = DatabaseConfiguration(url: "postgres://nobody:secret@127.0.0.1:\(port)/none", sqlitePath: "",
                                                  connectTimeout: .seconds(2))
        do {
            _ = try openDatabase(configuration, migrations: [])
            Issue.record("expected a connection error")
        } catch let error as StorageError {
            #expect(error.kind == .connection)
            #expect(!error.description.contains("secret"), "passwords are redacted: \(error)")
        }
    }
}
