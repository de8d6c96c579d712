import Foundation
import Storage
import Testing
import TestSupport

@Suite("Transactions")
struct TransactionTests {
    static let schema = [
        Migration.table(version: 1, name: "create_accounts", """
            CREATE TABLE accounts (id {INT} PRIMARY KEY, email TEXT NOT NULL UNIQUE, balance {INT} NOT NULL DEFAULT 0);
            CREATE TABLE transfers (id {INT} PRIMARY KEY, account_id {INT} NOT NULL REFERENCES accounts (id), amount {INT} NOT NULL);
            CREATE TABLE counters (name TEXT PRIMARY KEY, value {INT} NOT NULL);
            INSERT INTO counters (name, value) VALUES ('hits', 0);
            """)
    ]

    @Test("a throwing body rolls everything back and its error reaches the caller", arguments: TestEngines.all)
    func rollbackOnThrow(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        #expect(throws: InjectedFailure.self) {
            try db.write { tx throws in
                try tx.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [1, "a@example.com"])
                try tx.execute("UPDATE counters SET value = value + 1", [])
                throw InjectedFailure()
            }
        }
        try db.read { tx throws in
            #expect(try tx.scalar("SELECT COUNT(*) FROM accounts") == 0)
            #expect(try tx.scalar("SELECT value FROM counters") == 0)
        }
        // The connection is healthy afterwards.
        try db.write { try $0.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [1, "a@example.com"]) }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM accounts") } == 1)
    }

    @Test("unique, foreign-key, not-null and syntax errors are classified alike", arguments: TestEngines.all)
    func errorKinds(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        try db.write { try $0.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [1, "a@example.com"]) }
        expectStorageError(.uniqueViolation) {
            try db.write { try $0.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [2, "a@example.com"]) }
        }
        expectStorageError(.uniqueViolation) {
            try db.write { try $0.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [1, "b@example.com"]) }
        }
        expectStorageError(.constraint) {
            try db.write { try $0.execute("INSERT INTO transfers (id, account_id, amount) VALUES (?, ?, ?)", [1, 999, 5]) }
        }
        expectStorageError(.constraint) {
            try db.write { try $0.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [3, nil]) }
        }
        expectStorageError(.syntax) { try db.read { try $0.query("SELEC 1") } }
        expectStorageError(.syntax) { try db.read { try $0.query("SELECT nope FROM accounts") } }
        do {
            try db.write { try $0.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [2, "a@example.com"]) }
        } catch let error as StorageError {
            #expect(error.sql?.contains("INSERT INTO accounts") == true)
            #expect(error.code != nil)
            #expect(error.description.contains("uniqueViolation"))
        }
    }

    @Test("concurrent writers on several threads lose no update", arguments: TestEngines.all)
    func concurrentWriters(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine, poolSize: 4).open(migrations: Self.schema)
        defer { db.close() }
        let threads = 4, perThread = 50
        try onThreads(threads) { thread throws in
            for step in 0..<perThread {
                try db.write { tx throws in
                    try tx.execute("UPDATE counters SET value = value + 1 WHERE name = ?", ["hits"])
                    try tx.execute("INSERT INTO accounts (id, email) VALUES (?, ?)",
                                   [SQLValue(thread * 1000 + step), .text("user\(thread)-\(step)@example.com")])
                }
            }
        }
        try db.read { tx throws in
            #expect(try tx.scalar("SELECT value FROM counters WHERE name = ?", ["hits"]) == .integer(Int64(threads * perThread)))
            #expect(try tx.scalar("SELECT COUNT(*) FROM accounts") == .integer(Int64(threads * perThread)))
        }
    }

    @Test("readers see committed data only and do not wait for an open write", arguments: TestEngines.all)
    func readersSeeCommittedOnly(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        try db.write { tx throws in
            try tx.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [1, "a@example.com"])
            // The write transaction is still open: another thread reads meanwhile.
            let seen = onOtherThread(timeout: 20) { try db.read { try $0.scalar("SELECT COUNT(*) FROM accounts") } }
            #expect(try seen?.get() == 0, "a reader must neither block on the writer nor see uncommitted rows")
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM accounts") } == 1)
    }

    @Test("a read transaction is one snapshot and cannot write", arguments: TestEngines.all)
    func readSnapshot(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        try db.read { tx throws in
            #expect(try tx.scalar("SELECT COUNT(*) FROM accounts") == 0)
            try db.write { try $0.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [1, "a@example.com"]) }
            #expect(try tx.scalar("SELECT COUNT(*) FROM accounts") == 0, "still the snapshot taken by the first query")
        }
        #expect(throws: StorageError.self) {
            try db.read { try $0.execute("DELETE FROM accounts", []) }
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM accounts") } == 1)
    }

    @Test("ping answers and a closed database refuses work", arguments: TestEngines.all)
    func pingAndClose(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        try db.ping()
        db.close()
        db.close()
        expectStorageError(.closed) { try db.ping() }
        expectStorageError(.closed) { try db.write { try $0.execute("DELETE FROM accounts") } }
    }

    @Test("a pool that stays busy makes the next caller time out", arguments: TestEngines.all)
    func poolTimeout(engine: DatabaseEngine) throws {
        var configuration = try ScratchDatabase(engine).configuration
        configuration.poolSize = 1
        configuration.acquireTimeout = .milliseconds(200)
        let db = try openDatabase(configuration, migrations: Self.schema)
        defer { db.close() }
        try db.read { _ throws in
            // The only pooled connection is in use by this read.
            let blocked = onOtherThread { try db.read { try $0.scalar("SELECT 1") } }
            #expect(throws: StorageError.self) { try blocked?.get() }
            if case .failure(let error as StorageError)? = blocked { #expect(error.kind == .timeout, "\(error)") }
        }
        #expect(try db.read { try $0.scalar("SELECT 1") } == 1, "free again afterwards")
    }

    @Test("a small statement cache is trimmed without breaking statements", arguments: TestEngines.all)
    func statementCacheEviction(engine: DatabaseEngine) throws {
        var configuration = try ScratchDatabase(engine).configuration
        configuration.statementCacheSize = 2
        let db = try openDatabase(configuration, migrations: Self.schema)
        defer { db.close() }
        for round in 0..<3 {
            try db.write { tx throws in
                for id in 0..<6 {
                    // A distinct SQL text per id, so the cache overflows within one transaction.
                    try tx.execute("INSERT INTO accounts (id, email) VALUES (?, ?) /* \(id) */", [SQLValue(round * 10 + id), .text("u\(round)-\(id)")])
                }
            }
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM accounts") } == 18)
    }

    @Test("SQLite: a nested write on the same thread is reported instead of deadlocking")
    func nestedWriteOnSQLite() throws {
        let db = try ScratchDatabase(.sqlite).open(migrations: Self.schema)
        defer { db.close() }
        expectStorageError(.misuse) {
            try db.write { _ in try db.write { try $0.execute("DELETE FROM accounts") } }
        }
        try db.write { try $0.execute("DELETE FROM accounts") }
    }

    @Test("PostgreSQL: a failed statement caught inside the body still fails the transaction",
          .enabled(if: PostgresTestServer.isEnabled))
    func caughtErrorOnPostgres() throws {
        let db = try ScratchDatabase(.postgres).open(migrations: Self.schema)
        defer { db.close() }
        try db.write { try $0.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [1, "a@example.com"]) }
        expectStorageError(.other) {
            try db.write { tx throws in
                try tx.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [2, "b@example.com"])
                _ = try? tx.execute("INSERT INTO accounts (id, email) VALUES (?, ?)", [1, "a@example.com"])
            }
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM accounts") } == 1)
    }

    @Test("PostgreSQL: a deadlock is retried and both transactions commit", .enabled(if: PostgresTestServer.isEnabled))
    func deadlockIsRetried() throws {
        let db = try ScratchDatabase(.postgres).open(migrations: Self.schema)
        defer { db.close() }
        try db.write { tx throws in
            try tx.execute("INSERT INTO accounts (id, email, balance) VALUES (1, 'a@example.com', 0), (2, 'b@example.com', 0)")
        }
        let barrier = Barrier(parties: 2)
        let attempts = Locked(0)
        try onThreads(2) { thread throws in
            var firstAttempt = true
            try db.write { tx throws in
                attempts.withLock { $0 += 1 }
                let (first, second): (Int64, Int64) = thread == 0 ? (1, 2) : (2, 1)
                try tx.execute("UPDATE accounts SET balance = balance + 1 WHERE id = ?", [.integer(first)])
                if firstAttempt {
                    firstAttempt = false
                    barrier.arriveAndWait()  // both hold one row lock and now want the other's
                }
                try tx.execute("UPDATE accounts SET balance = balance + 1 WHERE id = ?", [.integer(second)])
            }
        }
        // One of the two is the victim and retried; on a loaded machine the retry can take the
        // freed row before the other transaction wakes up and deadlock again, so more attempts
        // are legitimate. What matters: both commit, each exactly once.
        #expect(attempts.current >= 3, "a deadlock victim was retried")
        #expect(try db.read { try $0.scalar("SELECT SUM(balance) FROM accounts") } == 4)
    }
}
