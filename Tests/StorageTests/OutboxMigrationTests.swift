import Foundation
import Storage
import Testing
import TestSupport

/// Outbox migrations 4 (SQLite: `seq` without AUTOINCREMENT), 5 (the per-key index led by the
/// entity the key names), 6 (PostgreSQL: room for the leases' heap-only updates), 7 (no per-key
/// index), 11 (the destination index, for claims while a destination rests) and 12 (the failed
/// rows' partial index, for the metrics): events written before them are kept with their order, leases and retry state, and are
/// still delivered, in order, after them.
@Suite("Outbox migration")
struct OutboxMigrationTests {
    /// Puts the database back to what outbox migration 3 left: the AUTOINCREMENT table on SQLite
    /// (PostgreSQL's table never changed), the `(event_key, seq)` index and no record of
    /// migrations 4 and 5.
    static func downgrade(_ db: any Database) throws {
        try db.write { tx in
            if tx.engine == .sqlite {
                try tx.execute("DROP TABLE storage_outbox", [])
                try tx.execute("""
                    CREATE TABLE storage_outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        event_id TEXT NOT NULL UNIQUE,
                        event_type TEXT NOT NULL,
                        event_key TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        locked_until INTEGER,
                        last_error TEXT
                    )
                    """, [])
            } else {
                try tx.execute("DROP INDEX IF EXISTS storage_outbox_entity_key_seq", [])
                try tx.execute("DROP INDEX IF EXISTS storage_outbox_destination_seq", [])
                try tx.execute("DROP INDEX IF EXISTS storage_outbox_retrying", [])
            }
            try tx.execute("CREATE INDEX storage_outbox_key_seq ON storage_outbox (event_key, seq)", [])
            try tx.execute("DELETE FROM schema_migrations WHERE component = 'storage' AND version IN (4, 5, 6, 7, 11, 12)", [])
        }
    }

    @Test("events pending before the migration keep their order and retry state and are delivered after it",
          arguments: TestEngines.all)
    func pendingEventsSurvive(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        var db = try scratch.open()
        try Self.downgrade(db)
        let past = Date(timeIntervalSinceNow: -5)
        try db.write { tx in
            for (id, key) in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b"), ("a3", "a")] {
                try Outbox.enqueue(tx, OutboxEvent(id: id, type: "ocorrencias.test.v1.Event", key: key, payload: Array(id.utf8), createdAt: past))
            }
            // b1 failed twice already and waits for its retry; a1 is leased by a relay that died.
            try tx.execute("UPDATE storage_outbox SET attempts = 2, last_error = 'down', next_attempt_at = ? WHERE event_id = 'b1'",
                           [.integer(Int64(Date().timeIntervalSince1970 * 1000) + 600)])
            try tx.execute("UPDATE storage_outbox SET lease_owner = 'events/old', locked_until = ? WHERE event_id = 'a1'",
                           [.integer(Int64(Date().timeIntervalSince1970 * 1000) + 600)])
        }
        let before = try db.read { tx in
            try tx.query("SELECT seq, event_id FROM storage_outbox ORDER BY seq", []).map { "\(try $0.int("seq")):\(try $0.text("event_id"))" }
        }
        db.close()

        db = try scratch.open()
        defer { db.close() }
        let after = try db.read { tx in
            try tx.query("SELECT seq, event_id FROM storage_outbox ORDER BY seq", []).map { "\(try $0.int("seq")):\(try $0.text("event_id"))" }
        }
        #expect(after == before, "rows keep their seq")
        let b1 = try db.read { try $0.queryOne("SELECT attempts, last_error FROM storage_outbox WHERE event_id = 'b1'", []) }
        #expect(try b1?.int("attempts") == 2)
        #expect(try b1?.text("last_error") == "down")
        if engine == .sqlite {
            let sql = try db.read { try $0.scalar("SELECT sql FROM sqlite_master WHERE name = 'storage_outbox'", []) }
            guard case .text(let text) = sql else { Issue.record("no storage_outbox table"); return }
            #expect(!text.uppercased().contains("AUTOINCREMENT"))
            let indexes = try db.read { try $0.query("SELECT name FROM sqlite_master WHERE tbl_name = 'storage_outbox' AND type = 'index'", []) }
            #expect(try indexes.map { try $0.text("name") }.filter { !$0.hasPrefix("sqlite_autoindex") }.sorted()
                    == ["storage_outbox_destination_seq", "storage_outbox_retrying"],
                    "no per-key index: the relay claims by primary key (migration 7); the destination index (migration 11); failed rows (migration 12)")
        } else {
            let indexes = try db.read { try $0.query("SELECT indexname FROM pg_indexes WHERE tablename = 'storage_outbox' ORDER BY 1", []) }
            #expect(try indexes.map { try $0.text("indexname") } == ["storage_outbox_destination_seq", "storage_outbox_event_id_key", "storage_outbox_pkey",
                                                                          "storage_outbox_retrying"])
        }

        // New events after the migration go after the old ones of their key.
        try db.write { tx in
            try Outbox.enqueue(tx, OutboxEvent(id: "a4", type: "ocorrencias.test.v1.Event", key: "a", payload: [1], createdAt: past))
            try Outbox.enqueue(tx, OutboxEvent(id: "b3", type: "ocorrencias.test.v1.Event", key: "b", payload: [2], createdAt: past))
        }
        let delivered = Locked<[String]>([])
        let relay = OutboxRelay(database: db, name: "migrated") { event in
            delivered.withLock { $0.append(event.id) }
        }
        let deadline = Date(timeIntervalSinceNow: 15)
        while try relay.pending() > 0 && Date() < deadline {
            // a1's dead lease expires and b1's retry comes due within a second.
            try db.write { tx in
                try tx.execute("UPDATE storage_outbox SET locked_until = 0 WHERE lease_owner = 'events/old'", [])
            }
            try relay.runOnce()
            if try relay.pending() > 0 { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(try relay.pending() == 0)
        let order = delivered.current
        #expect(order.filter { $0.hasPrefix("a") } == ["a1", "a2", "a3", "a4"])
        #expect(order.filter { $0.hasPrefix("b") } == ["b1", "b2", "b3"])
    }

    @Test("a new event's seq is above every pending one even after the newest was delivered", arguments: TestEngines.all)
    func seqStaysAbovePending(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try db.write { tx in
            try Outbox.enqueue(tx, OutboxEvent(id: "k1", type: "t", key: "k", payload: [1]))
            try Outbox.enqueue(tx, OutboxEvent(id: "x1", type: "t", key: "x", payload: [2]))
        }
        // x1, the newest row, is delivered (deleted); k1 still waits.
        try db.write { tx in _ = try tx.execute("DELETE FROM storage_outbox WHERE event_id = 'x1'", []) }
        try db.write { tx in try Outbox.enqueue(tx, OutboxEvent(id: "k2", type: "t", key: "k", payload: [3])) }
        let seqs = try db.read { tx in
            try tx.query("SELECT event_id FROM storage_outbox ORDER BY seq", []).map { try $0.text("event_id") }
        }
        #expect(seqs == ["k1", "k2"])
        let delivered = Locked<[String]>([])
        let relay = OutboxRelay(database: db, name: "seq") { event in delivered.withLock { $0.append(event.id) } }
        while try relay.runOnce() > 0 {}
        #expect(delivered.current == ["k1", "k2"])
    }
}
