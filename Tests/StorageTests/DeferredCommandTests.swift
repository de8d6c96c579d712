import Foundation
import Storage
import Testing
import TestSupport

/// `executeDeferred` (SAVEPOINT / RELEASE sent with the next statement or COMMIT on PostgreSQL,
/// at once on SQLite): what callers see must be what running them at once gives, on both engines.
@Suite("Deferred commands")
struct DeferredCommandTests {
    static let insert = FirstStatementTests.insert

    @Test("savepoints given with executeDeferred: a failing statement rolls back alone, the rest and the last RELEASE commit",
          arguments: TestEngines.all)
    func savepointsAroundStatements(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: FirstStatementTests.schema)
        defer { db.close() }
        try db.write { try $0.execute(Self.insert, [1, "a"]) }
        var failures: [StorageError.Kind] = []
        try db.write { tx in
            for (id, name) in [(2, "b"), (3, "a"), (4, "d")] {
                try tx.executeDeferred("SAVEPOINT s\(id)")
                do {
                    try tx.execute(Self.insert, [SQLValue(id), .text(name)])
                    try tx.executeDeferred("RELEASE s\(id)")
                } catch let error as StorageError {
                    failures.append(error.kind)
                    try tx.execute("ROLLBACK TO s\(id)")
                    try tx.executeDeferred("RELEASE s\(id)")
                }
            }
            // The first SAVEPOINT of a transaction also travels with BEGIN; a RELEASE left with COMMIT.
        }
        #expect(failures == [.uniqueViolation])
        #expect(try db.read { tx in try tx.query("SELECT id FROM items ORDER BY id").map { try $0.int("id") } } == [1, 2, 4])

        // A savepoint that is never followed by a statement: COMMIT takes it (and its RELEASE) along.
        try db.write { tx in
            try tx.execute(Self.insert, [5, "e"])
            try tx.executeDeferred("SAVEPOINT lonely")
            try tx.executeDeferred("RELEASE lonely")
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 4)
        // A transaction that only deferred commands runs nothing at all, and the connection is fine afterwards.
        try db.write { tx in try tx.executeDeferred("SAVEPOINT idle") }
        try db.write { try $0.execute(Self.insert, [6, "f"]) }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 5)
    }

    @Test("a deferred command that fails fails the statement it travels with, and the transaction rolls back",
          arguments: TestEngines.all)
    func failingDeferredCommand(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: FirstStatementTests.schema)
        defer { db.close() }
        try db.write { try $0.execute(Self.insert, [1, "a"]) }
        #expect(throws: StorageError.self) {
            try db.write { tx in
                try tx.execute(Self.insert, [2, "b"])
                try tx.executeDeferred("RELEASE never_made")  // no such savepoint
                try tx.execute(Self.insert, [3, "c"])
            }
        }
        #expect(throws: StorageError.self) {
            try db.write { tx in
                try tx.execute(Self.insert, [2, "b"])
                try tx.executeDeferred("RELEASE never_made")  // fails with COMMIT: nothing is committed
            }
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 1)
        try db.write { try $0.execute(Self.insert, [2, "b"]) }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 2)
    }

    @Test("queryPipelined returns each statement's rows in order (with BEGIN and deferred commands in front), and its first error",
          arguments: TestEngines.all)
    func pipelinedQueries(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: FirstStatementTests.schema)
        defer { db.close() }
        try db.write { tx in for (id, name) in [(1, "a"), (2, "b"), (3, "c")] { try tx.execute(Self.insert, [SQLValue(id), .text(name)]) } }
        let select = "SELECT name FROM items WHERE id = ?"
        let names = try db.write { tx in
            try tx.executeDeferred("SAVEPOINT first")
            let rows = try tx.queryPipelined([(select, [3]), ("SELECT name FROM items WHERE id > ? ORDER BY id", [1]), (select, [9]),
                                              ("UPDATE items SET name = ? WHERE id = ?", ["z", 1])])
            try tx.executeDeferred("RELEASE first")
            return try rows.map { try $0.map { try $0.text("name") } }
        }
        #expect(names == [["c"], ["b", "c"], [], []])
        #expect(try db.read { try $0.scalar(select, [1]) } == .text("z"))
        expectStorageError(.uniqueViolation) {
            _ = try db.write { tx in
                try tx.queryPipelined([(select, [1]), ("UPDATE items SET name = ? WHERE id = ?", ["b", 3]), (select, [2])])
            }
        }
        #expect(try db.read { try $0.scalar(select, [3]) } == .text("c"), "rolled back")
    }

    @Test("statements given with executeDeferred(_:_:): later statements see them, COMMIT takes the rest, a rollback drops them",
          arguments: TestEngines.all)
    func deferredStatements(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: FirstStatementTests.schema)
        defer { db.close() }
        let count = "SELECT COUNT(*) FROM items"
        // The first run of a statement on a connection is at once (it is prepared then), the next ones wait.
        let seen = try db.write { tx -> [SQLValue] in
            try tx.executeDeferred(Self.insert, [1, "a"])
            try tx.executeDeferred(Self.insert, [2, "b"])
            let afterTwo = try tx.scalar(count)
            try tx.executeDeferred(Self.insert, [3, "c"])
            return [afterTwo, try tx.scalar(count)]
        }
        #expect(seen == [2, 3])
        // A transaction whose only writes were deferred commits them (its BEGIN goes with COMMIT).
        try db.write { tx in try tx.executeDeferred(Self.insert, [4, "d"]) }
        try db.write { tx in
            try tx.executeDeferred(Self.insert, [5, "e"])
            try tx.executeDeferred(Self.insert, [6, "f"])
        }
        #expect(try db.read { try $0.scalar(count) } == 6)
        // A body that throws: its deferred writes are dropped with the transaction.
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try db.write { tx in
                try tx.executeDeferred(Self.insert, [7, "g"])
                throw Stop()
            }
        }
        #expect(try db.read { try $0.scalar(count) } == 6)
        // The connections are fine afterwards.
        try db.write { tx in try tx.execute(Self.insert, [8, "h"]) }
        #expect(try db.read { tx in try tx.query("SELECT id FROM items ORDER BY id").map { try $0.int("id") } } == [1, 2, 3, 4, 5, 6, 8])
    }

    @Test("a deferred statement that fails fails the transaction where it surfaces (a later statement or COMMIT): nothing is committed",
          arguments: TestEngines.all)
    func failingDeferredStatement(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: FirstStatementTests.schema)
        defer { db.close() }
        try db.write { tx in
            try tx.execute(Self.insert, [1, "a"])
            try tx.executeDeferred(Self.insert, [2, "b"])  // prepared now: deferred from here on
        }
        expectStorageError(.uniqueViolation) {
            try db.write { tx in
                try tx.executeDeferred(Self.insert, [3, "a"])  // `name` is unique
                _ = try tx.scalar("SELECT COUNT(*) FROM items")
            }
        }
        expectStorageError(.uniqueViolation) {
            try db.write { tx in
                try tx.execute(Self.insert, [4, "d"])
                try tx.executeDeferred(Self.insert, [5, "a"])  // fails with COMMIT
            }
        }
        expectStorageError(.uniqueViolation) {
            try db.write { tx in try tx.executeDeferred(Self.insert, [6, "b"]) }  // alone: BEGIN, it and COMMIT together
        }
        if engine == .postgres {
            // Prepared on the transaction's connection: the duplicate is sent with the next statement, which throws.
            var deferredThrew = false
            expectStorageError(.uniqueViolation) {
                try db.write { tx in
                    try tx.execute(Self.insert, [7, "g"])
                    do { try tx.executeDeferred(Self.insert, [8, "a"]) } catch { deferredThrew = true; throw error }
                    _ = try tx.scalar("SELECT 1")
                }
            }
            #expect(!deferredThrew)
        }
        #expect(try db.read { tx in try tx.query("SELECT id FROM items ORDER BY id").map { try $0.int("id") } } == [1, 2])
        try db.write { tx in try tx.executeDeferred(Self.insert, [3, "c"]) }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM items") } == 3)
    }

    @Test("Outbox.enqueue(deferred:) writes the same rows as at once, in order, and a duplicate id still fails the transaction",
          arguments: TestEngines.all)
    func deferredOutboxRows(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: [])
        defer { db.close() }
        let events = (1...3).map { OutboxEvent(id: "e\($0)", type: "T", key: "k\($0 % 2)", payload: [UInt8($0)]) }
        try db.write { tx in
            try Outbox.enqueue(tx, [events[0]], deferred: true)
            try Outbox.enqueue(tx, [events[1]], deferred: true)
            try Outbox.enqueue(tx, [events[2]], keysAreNew: true, deferred: true)
        }
        let rows = try db.read { tx in try tx.query("SELECT event_id, event_key, payload FROM storage_outbox ORDER BY seq") }
        #expect(try rows.map { try $0.text("event_id") } == ["e1", "e2", "e3"])
        #expect(try rows.map { try $0.blob("payload") } == [[1], [2], [3]])
        expectStorageError(.uniqueViolation) {
            try db.write { tx in try Outbox.enqueue(tx, [events[1]], deferred: true) }
        }
        #expect(try db.read { try Outbox.pendingCount($0) } == 3)
    }
}
