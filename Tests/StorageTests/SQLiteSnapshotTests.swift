import Foundation
import Storage
import Synchronization
import Testing
import TestSupport

/// What the writer thread of ``SQLiteSnapshotTests/copyUnderWrites()`` has committed, and its stop flag.
private final class WriterProgress: Sendable {
    let committed = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}

@Suite("SQLite snapshots: a consistent copy of a database that keeps being written")
struct SQLiteSnapshotTests {
    static let schema = [Migration(version: 1, name: "rows", sql: """
        CREATE TABLE rows (id INTEGER PRIMARY KEY, pair INTEGER NOT NULL, body TEXT NOT NULL);
        CREATE INDEX rows_pair ON rows (pair);
        """)]

    /// Paths of the files beside `path` (SQLite's `-wal`, `-shm`, `-journal`, our `.partial`).
    static func companions(_ path: String) -> [String] {
        ["-wal", "-shm", "-journal", ".partial", ".partial-journal", ".partial-wal", ".partial-shm"]
            .map { path + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    @Test("copied while a writer commits pairs of rows: every row committed before the copy began is there, no transaction is half there, the copy checks clean and is the owner's only, nothing temporary is left")
    func copyUnderWrites() throws {
        let directory = try TemporaryDirectory(prefix: "snapshot")
        let source = directory.path + "/live.sqlite"
        let database = try openDatabase(DatabaseConfiguration(sqlitePath: source), migrations: Self.schema)
        defer { database.close() }
        let body = String(repeating: "x", count: 300)
        let progress = WriterProgress()
        let writer = Thread {
            var pair = 0
            while !progress.stop.load(ordering: .relaxed) {
                pair += 1
                // Two rows per transaction: a copy holds both or neither.
                try? database.write { tx in
                    try tx.execute("INSERT INTO rows (pair, body) VALUES (?, ?), (?, ?)",
                                   [.integer(Int64(pair)), .text(body), .integer(Int64(pair)), .text(body)])
                }
                progress.committed.store(pair, ordering: .releasing)
            }
        }
        writer.start()
        #expect(waitFor(10) { progress.committed.load(ordering: .acquiring) >= 2_000 })
        var copies: [(before: Int, path: String)] = []
        for round in 0..<3 {
            let before = progress.committed.load(ordering: .acquiring)
            let path = directory.path + "/copy-\(round).sqlite"
            let copy = try SQLiteSnapshot.write(databaseAt: source, to: path)
            #expect(copy.pages > 0 && copy.bytes >= Int64(copy.pages) * 1_024)
            copies.append((before, path))
        }
        progress.stop.store(true, ordering: .relaxed)
        while !writer.isFinished { usleep(1_000) }

        for (before, path) in copies {
            #expect(Self.companions(path).isEmpty, "\(Self.companions(path))")
            let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600, "a backup is readable by its owner only")
            let copy = try openDatabase(DatabaseConfiguration(sqlitePath: path, poolSize: 1), migrations: Self.schema)
            defer { copy.close() }
            let rows = try copy.read { tx in
                try tx.queryOne("SELECT COUNT(*) AS n, COUNT(DISTINCT pair) AS pairs, COALESCE(MAX(pair), 0) AS last FROM rows", [])
            }
            let count = try #require(rows).int("n"), pairs = try #require(rows).int("pairs"), last = try #require(rows).int("last")
            #expect(count == 2 * pairs, "no transaction is half copied")
            #expect(pairs == last, "the copy is a prefix of the commits")
            #expect(last >= Int64(before), "every commit acknowledged before the copy began is in it")
            let check = try copy.read { tx in try tx.queryOne("PRAGMA integrity_check", [])?.values.first }
            #expect(check == .text("ok"))
        }
    }

    @Test("a missing source is an error that creates nothing; an existing destination is replaced whole")
    func missingSourceAndReplacement() throws {
        let directory = try TemporaryDirectory(prefix: "snapshot")
        let destination = directory.path + "/copy.sqlite"
        #expect(throws: StorageError.self) { try SQLiteSnapshot.write(databaseAt: directory.path + "/none.sqlite", to: destination) }
        #expect(!FileManager.default.fileExists(atPath: destination) && Self.companions(destination).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/none.sqlite"), "the source is not created")

        let source = directory.path + "/live.sqlite"
        let database = try openDatabase(DatabaseConfiguration(sqlitePath: source), migrations: Self.schema)
        defer { database.close() }
        try database.write { tx in try tx.execute("INSERT INTO rows (pair, body) VALUES (1, 'primeira')", []) }
        try SQLiteSnapshot.write(databaseAt: source, to: destination)
        try database.write { tx in try tx.execute("INSERT INTO rows (pair, body) VALUES (2, 'segunda')", []) }
        try SQLiteSnapshot.write(databaseAt: source, to: destination)
        let copy = try openDatabase(DatabaseConfiguration(sqlitePath: destination, poolSize: 1), migrations: Self.schema)
        defer { copy.close() }
        #expect(try copy.read { tx in try tx.query("SELECT body FROM rows ORDER BY pair", []).map { try $0.text("body") } } == ["primeira", "segunda"])
    }
}
