import Foundation
import Storage
import Testing
import TestSupport

/// On PostgreSQL a transaction's `BEGIN` goes out with its first statement, in one round trip
/// (libpq pipeline mode). What callers see must not change: these pin it down on both engines.
@Suite("The first statement of a transaction")
struct FirstStatementTests {
    static let schema = [
        Migration.table(version: 1, name: "create_items", """
            CREATE TABLE items (id {INT} PRIMARY KEY, name TEXT NOT NULL UNIQUE);
            """)
    ]
    static let insert = "INSERT INTO items (id, name) VALUES (?, ?)"

    @Test("a failing first statement rolls the transaction back and its error reaches the caller", arguments: TestEngines.all)
    func failingFirstStatement(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        try db.write { try $0.execute(Self.insert, [1, "a"]) }  // the statement is now prepared and cached
        expectStorageError(.uniqueViolation) {
            try db.write { tx throws in
                try tx.execute(Self.insert, [2, "a"])
                try tx.execute(Self.insert, [3, "c"])
            }
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 1)
        // The connection is usable at once, with BEGIN sent together with a statement again.
        try db.write { try $0.execute(Self.insert, [2, "b"]) }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 2)
    }

    @Test("PostgreSQL: a first statement's error caught by the body still fails the transaction",
          .enabled(if: PostgresTestServer.isEnabled))
    func caughtFirstStatementError() throws {
        let db = try ScratchDatabase(.postgres).open(migrations: Self.schema)
        defer { db.close() }
        try db.write { try $0.execute(Self.insert, [1, "a"]) }
        expectStorageError(.other) {
            try db.write { tx throws in
                _ = try? tx.execute(Self.insert, [2, "a"])
                _ = try? tx.execute(Self.insert, [3, "c"])
            }
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 1)
    }

    @Test("a transaction that runs nothing commits nothing, and a read is one snapshot from its first statement",
          arguments: TestEngines.all)
    func emptyAndReadTransactions(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        for _ in 0..<3 { try db.write { _ in } }
        try db.write { try $0.execute(Self.insert, [1, "a"]) }
        let (first, second) = try db.read { tx throws in
            let first = try tx.scalar("SELECT COUNT(*) FROM items")
            try db.write { try $0.execute(Self.insert, [2, "b"]) }  // commits while the read is open
            return (first, try tx.scalar("SELECT COUNT(*) FROM items"))
        }
        #expect(first == 1)
        #expect(second == 1, "the read keeps the snapshot its first statement took")
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 2)
    }

    @Test("PostgreSQL: a transaction whose connection the server dropped is retried on a new one",
          .enabled(if: PostgresTestServer.isEnabled))
    func droppedConnectionIsRetried() throws {
        let scratch = try ScratchDatabase(.postgres, poolSize: 1)
        let db = try scratch.open(migrations: Self.schema)
        defer { db.close() }
        try db.write { try $0.execute(Self.insert, [1, "a"]) }
        // Another session ends this one's backend between two transactions.
        let admin = try scratch.open()
        defer { admin.close() }
        try admin.write { tx throws in
            _ = try tx.query("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                """, [])
        }
        try db.write { try $0.execute(Self.insert, [2, "b"]) }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 2)
    }
}
