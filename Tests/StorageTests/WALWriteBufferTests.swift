import Foundation
import Testing
import TestSupport
@testable import Storage

/// SQLite connections write their WAL appends through `Shared/CSQLiteWAL` (one write per commit
/// instead of two per page): what is committed must be in the WAL file when the commit returns,
/// and every other use of the file (reads back, checkpoints, rollbacks of spilled pages, large
/// transactions) must see the same bytes as without the buffer.
@Suite("WAL write buffer")
struct WALWriteBufferTests {
    @Test("connections open with the buffering VFS")
    func registered() {
        #expect(SQLiteConnection.walWriteBufferVFS == "ocorrencias-wal")
    }

    @Test("a commit is in the WAL file when it returns: a copy of the files taken then has it, and so do other connections")
    func committedIsInTheFile() throws {
        let directory = try TemporaryDirectory(prefix: "walbuffer")
        let path = directory.path + "/w.sqlite"
        let db = try openDatabase(DatabaseConfiguration(sqlitePath: path), migrations: [])
        defer { db.close() }
        try db.write { try $0.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)") }
        for round in 1...3 {
            try db.write { tx in
                for index in 0..<20 {
                    try tx.execute("INSERT INTO t (id, payload) VALUES (?, ?)",
                                   [.integer(Int64(round * 100 + index)), .text(String(repeating: "x", count: 700))])
                }
            }
            // Another connection (the reader pool's) reads the file, not the writer's buffer.
            #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM t") } == .integer(Int64(round * 20)))
            // As after a crash right after the commit: the database and WAL files as they are
            // now (the shared index is not copied, so opening the copy recovers from the WAL).
            let copy = directory.path + "/copy-\(round).sqlite"
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
            let recovered = try openDatabase(DatabaseConfiguration(sqlitePath: copy), migrations: [])
            #expect(try recovered.read { try $0.scalar("SELECT COUNT(*) FROM t") } == .integer(Int64(round * 20)))
            #expect(try recovered.read { try $0.scalar("PRAGMA integrity_check") } == .text("ok"))
            recovered.close()
        }
    }

    @Test("transactions larger than the buffer, pages spilled and rolled back, automatic checkpoints and a reopen keep every committed row")
    func largeAndSpilled() throws {
        let directory = try TemporaryDirectory(prefix: "walbuffer")
        let path = directory.path + "/w.sqlite"
        var configuration = DatabaseConfiguration(sqlitePath: path)
        configuration.sqliteWriterCacheKiB = 64  // a transaction of ~1 MiB spills pages to the WAL before its commit
        configuration.sqliteCheckpointPages = 100
        let db = try openDatabase(configuration, migrations: [])
        try db.write { try $0.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL, tag TEXT NOT NULL)") }
        try db.write { try $0.execute("CREATE INDEX t_tag ON t (tag)") }
        // 300 rows of 3,000 bytes: ~230 pages, several buffers' worth, in one transaction.
        try db.write { tx in
            for index in 0..<300 {
                try tx.execute("INSERT INTO t (id, payload, tag) VALUES (?, randomblob(3000), ?)", [.integer(Int64(index)), .text("a\(index % 7)")])
            }
        }
        // A spilled transaction that fails is rolled back whole.
        struct Abandon: Error {}
        #expect(throws: Abandon.self) {
            try db.write { tx in
                try tx.execute("UPDATE t SET payload = randomblob(3500), tag = 'rolled back'")
                throw Abandon()
            }
        }
        // Pages rewritten within one transaction after they were spilled (frames rewritten in place).
        try db.write { tx in
            for pass in 0..<3 {
                try tx.execute("UPDATE t SET tag = ? WHERE id % 3 = ?", [.text("p\(pass)"), .integer(Int64(pass))])
                try tx.execute("INSERT INTO t (id, payload, tag) SELECT id + 1000 * (? + 1), randomblob(2000), 'copy' FROM t WHERE id < 50",
                               [.integer(Int64(pass))])
            }
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM t") } == .integer(450))
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM t WHERE tag = 'rolled back'") } == .integer(0))
        db.close()

        let reopened = try openDatabase(DatabaseConfiguration(sqlitePath: path), migrations: [])
        defer { reopened.close() }
        #expect(try reopened.read { try $0.scalar("PRAGMA integrity_check") } == .text("ok"))
        #expect(try reopened.read { try $0.scalar("SELECT COUNT(*) FROM t") } == .integer(450))
        #expect(try reopened.read { try $0.scalar("SELECT COUNT(*) FROM t WHERE id >= 1000") } == .integer(150))
        #expect(try reopened.read { try $0.scalar("SELECT MIN(length(payload)) FROM t") } == .integer(2000))
    }
}
