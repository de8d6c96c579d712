import Foundation
import Storage
import Testing
import TestSupport

@Suite("Migrations")
struct MigrationTests {
    static let createNotes = Migration.table(version: 1, name: "create_notes", "CREATE TABLE notes (id {INT} PRIMARY KEY, body TEXT NOT NULL)")
    // Not idempotent on purpose: applying it twice would fail (duplicate key).
    static let seedNotes = Migration(version: 2, name: "seed_notes", sql: "INSERT INTO notes (id, body) VALUES (1, 'first'); INSERT INTO notes (id, body) VALUES (2, 'second')")
    static let addColumn = Migration(version: 3, name: "add_notes_author", sql: "ALTER TABLE notes ADD COLUMN author TEXT")

    private static func serviceHistory(_ db: any Database) throws -> [String] {
        try db.read { tx throws in
            try tx.query("SELECT version, name FROM schema_migrations WHERE component = ? ORDER BY version", ["service"])
                .map { "\(try $0.int("version")):\(try $0.text("name"))" }
        }
    }

    @Test("migrations apply once, in version order, and reopening applies only new ones", arguments: TestEngines.all)
    func appliedOnceInOrder(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        // Given out of order: the runner sorts by version (seed needs the table).
        var db = try scratch.open(migrations: [Self.seedNotes, Self.createNotes])
        #expect(try Self.serviceHistory(db) == ["1:create_notes", "2:seed_notes"])
        db.close()

        db = try scratch.open(migrations: [Self.createNotes, Self.seedNotes])
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM notes") } == 2, "seed ran once")
        db.close()

        db = try scratch.open(migrations: [Self.createNotes, Self.seedNotes, Self.addColumn])
        defer { db.close() }
        #expect(try Self.serviceHistory(db) == ["1:create_notes", "2:seed_notes", "3:add_notes_author"])
        try db.write { try $0.execute("UPDATE notes SET author = ? WHERE id = ?", ["ana", 1]) }
        let builtin = try db.read { try $0.scalar("SELECT COUNT(*) FROM schema_migrations WHERE component = ?", ["storage"]) }
        #expect(builtin == 12, "the outbox (eight steps), its leases, inbox, idempotency and write-probe tables are recorded too")
    }

    @Test("progress names each pending migration, step of count, then how many were applied; a database up to date reports none pending",
          arguments: TestEngines.all)
    func progress(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        try scratch.open(migrations: [Self.createNotes]).close()
        var reported: [MigrationProgress] = []
        let db = try openDatabase(scratch.configuration, migrations: [Self.createNotes, Self.seedNotes, Self.addColumn]) { reported.append($0) }
        db.close()
        #expect(reported == [.checking, .started(count: 2),
                             .applying(step: 1, count: 2, migration: "service 2 seed_notes"),
                             .applying(step: 2, count: 2, migration: "service 3 add_notes_author"),
                             .finished(applied: 2)])
        reported = []
        try openDatabase(scratch.configuration, migrations: [Self.createNotes, Self.seedNotes, Self.addColumn]) { reported.append($0) }.close()
        #expect(reported == [.checking, .started(count: 0), .finished(applied: 0)])
    }

    @Test("a migration waits for a schema lock held far longer than its busy timeout and attempts allow, saying so at every attempt, then applies",
          arguments: TestEngines.all)
    func waitsForTheLock(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let lock = try SchemaLockHolder(scratch.configuration, migrations: [Self.createNotes])
        defer { lock.release() }
        var configuration = scratch.configuration
        configuration.busyTimeout = .milliseconds(50)
        configuration.maxTransactionAttempts = 2
        // The lock goes after 1.5 s and once five waits were reported (at most 60 s): a loaded
        // machine's slower attempts then cannot leave fewer reports than the test counts on.
        let waits = Locked(0)
        Thread {
            let earliest = Date().addingTimeInterval(1.5), limit = Date().addingTimeInterval(60)
            while (Date() < earliest || waits.current < 5) && Date() < limit { Thread.sleep(forTimeInterval: 0.01) }
            lock.release()
        }.start()
        let started = ContinuousClock.now
        let db = try openDatabase(configuration, migrations: [Self.createNotes, Self.seedNotes]) { progress in
            if case .waitingForLock(step: 1, count: 1, migration: "service 2 seed_notes", cause: _) = progress { waits.withLock { $0 += 1 } }
        }
        defer { db.close() }
        #expect(ContinuousClock.now - started >= .seconds(1.4), "it waited for the lock")
        #expect(waits.current >= 5, "\(waits.current) waits reported")
        #expect(try Self.serviceHistory(db) == ["1:create_notes", "2:seed_notes"])
    }

    @Test("a failing migration leaves no trace and is reported with its version", arguments: TestEngines.all)
    func failingMigration(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let broken = Migration(version: 3, name: "broken", sql: "CREATE TABLE half_done (id INTEGER); INSERT INTO no_such_table VALUES (1)")
        do {
            _ = try scratch.open(migrations: [Self.createNotes, Self.seedNotes, broken])
            Issue.record("opening should fail")
        } catch let error as StorageError {
            #expect(error.kind == .migration)
            #expect(error.message.contains("3 'broken'"), "\(error)")
        }
        let db = try scratch.open(migrations: [Self.createNotes, Self.seedNotes])
        defer { db.close() }
        #expect(try Self.serviceHistory(db) == ["1:create_notes", "2:seed_notes"])
        #expect(throws: StorageError.self) { try db.read { try $0.query("SELECT * FROM half_done") } }
    }

    @Test("an inconsistent history is refused", arguments: TestEngines.all)
    func inconsistentHistory(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        try scratch.open(migrations: [Self.createNotes]).close()
        let renamed = Migration(version: 1, name: "create_notes_v2", sql: Self.createNotes.sqlite)
        expectStorageError(.migration) { try scratch.open(migrations: [renamed]) }
        expectStorageError(.migration) { try scratch.open(migrations: [Self.createNotes, Self.createNotes]) }
        expectStorageError(.migration) { try scratch.open(migrations: [Migration(version: 0, name: "zero", sql: "SELECT 1")]) }
    }

    @Test("several processes opening one database at once apply each migration once", arguments: TestEngines.all)
    func concurrentOpen(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine, poolSize: 2)
        let migrations = [Self.createNotes, Self.seedNotes, Self.addColumn]
        let opened = Locked<[any Database]>([])
        try onThreads(4) { _ throws in
            let db = try scratch.open(migrations: migrations)
            opened.withLock { $0.append(db) }
        }
        let databases = opened.current
        defer { databases.forEach { $0.close() } }
        #expect(databases.count == 4)
        #expect(try databases[0].read { try $0.scalar("SELECT COUNT(*) FROM notes") } == 2)
        #expect(try Self.serviceHistory(databases[0]).count == 3)
    }
}
