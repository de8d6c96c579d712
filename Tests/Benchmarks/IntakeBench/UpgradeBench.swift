import Foundation
import IntakeCore
import Storage
import TestSupport

/// `intake-bench --upgrade-tickets N`: how long SQLite migration 23 (rebuilding `tickets`, see
/// `IntakeSchema.sqliteTicketsRebuild`, timed with 24–27 after it) and migration 28 (numbering
/// the replies, `IntakeSchema.messageSequence`) take on a database of `N` tickets, and what the
/// index migration 23 removes cost per open.
///
/// The database is loaded at migration 22 with SQL generating the rows (`N` tickets of a
/// 650-byte snapshot, one in ten opened by e-mail; a reply per two tickets, one in ten by e-mail;
/// a file per four tickets), then opened with every migration, timed (wall and process CPU).
/// Then, in two scratch databases holding only a `tickets` table as before and after the
/// migration, `rows` tickets (one in ten with a Message-ID) are inserted eight per transaction
/// (a group-commit batch at 8×8): WAL frames and CPU per row.
///
/// `INTAKE_UPGRADE_BENCH_DIR=<empty directory>` keeps the upgraded database there.
enum UpgradeBench {
    static func run(tickets: Int, rows: Int = 80_000) throws {
        // INTAKE_UPGRADE_BENCH_DIR keeps the database (upgraded) for a look afterwards.
        let kept = ProcessInfo.processInfo.environment["INTAKE_UPGRADE_BENCH_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        let directory = try kept ?? TemporaryDirectory.untilExit(prefix: "intake-upgrade")
        let path = "\(directory)/intake.sqlite"
        let configuration = DatabaseConfiguration(sqlitePath: path, poolSize: 1)
        let older = try openDatabase(configuration, migrations: IntakeService.migrations.filter { $0.version < 23 })
        let loadStarted = Date()
        try load(older, tickets: tickets)
        older.close()
        print(String(format: "loaded %d tickets, %d replies, %d files at migration 22 in %.1f s; database %.0f MiB",
                     tickets, tickets / 2, tickets / 4, Date().timeIntervalSince(loadStarted), megabytes(path)))

        var cpu = processCPUSeconds()
        var started = Date()
        let upgraded = try openDatabase(configuration, migrations: IntakeService.migrations.filter { $0.version < 28 })
        var wall = Date().timeIntervalSince(started)
        var used = processCPUSeconds() - cpu
        let wal = megabytes(path + "-wal")
        let count = try upgraded.read { try $0.scalar("SELECT COUNT(*) FROM tickets") }
        upgraded.close()
        print(String(format: "migrations 23-27 on %@ tickets: %.1f s wall, %.1f s CPU; WAL after them %.0f MiB; database %.0f MiB",
                     "\(count)", wall, used, wal, megabytes(path)))

        // Migration 28 numbers every reply and sets the counter of every ticket with replies.
        cpu = processCPUSeconds()
        started = Date()
        let numbered = try openDatabase(configuration, migrations: IntakeService.migrations)
        wall = Date().timeIntervalSince(started)
        used = processCPUSeconds() - cpu
        let replies = try numbered.read { try $0.scalar("SELECT COUNT(*) FROM ticket_messages") }
        numbered.close()
        print(String(format: "migration 28 on %@ replies: %.1f s wall, %.1f s CPU; WAL after it %.0f MiB; database %.0f MiB",
                     "\(replies)", wall, used, megabytes(path + "-wal"), megabytes(path)))

        for unique in [true, false] {
            let (frames, microseconds) = try insertCost(unique: unique, rows: rows)
            print(String(format: "%@: %.2f WAL frames and %.1f µs CPU per ticket row, 8 rows per transaction, %d rows",
                         unique ? "email_message_id TEXT UNIQUE (before)" : "partial unique index (after)", frames, microseconds, rows))
        }
    }

    /// Rows generated in SQL, 100,000 tickets per transaction.
    static func load(_ database: any Database, tickets: Int) throws {
        try database.write { tx in
            try tx.execute("INSERT INTO organizations (id, code, name, name_key, kind, created_at) VALUES ('o1', 'C000001', 'Acme', 'acme', 1, 0)")
            try tx.execute("""
                INSERT INTO contacts (id, organization_id, name, name_key, created_at)
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
                SELECT 'c' || i, 'o1', 'Contato ' || i, 'contato ' || i, 0 FROM n
                """)
            try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data) VALUES ('s', 1, 0, x'07')")
        }
        var start = 1
        while start <= tickets {
            let end = min(start + 99_999, tickets)
            try database.write { tx in
                let range: [SQLValue] = [.integer(Int64(start)), .integer(Int64(end))]
                let numbers = "WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
                // Ids shaped like RandomID's (time-ordered, then random), so rows arrive in key order as they do live.
                try tx.execute("""
                    INSERT INTO tickets (id, code, organization_id, contact_id, status, opened_at, submission_hash, email_message_id,
                                         attachment_bytes, snapshot)
                    \(numbers)
                    SELECT printf('%012x', i) || lower(hex(randomblob(10))), printf('2025-%07d', i), 'o1', 'c' || (i % 1000 + 1), 'open', i,
                           lower(hex(randomblob(32))), CASE WHEN i % 10 = 0 THEN printf('<%d.abre@cliente.example>', i) END,
                           CASE WHEN i % 4 = 0 THEN 1 ELSE 0 END, randomblob(650)
                    FROM n
                    """, range)
                try tx.execute("""
                    INSERT INTO ticket_messages (id, ticket_id, created_at, email_message_id, snapshot)
                    \(numbers)
                    SELECT 'm' || i, t.id, i, CASE WHEN i % 20 = 0 THEN printf('<%d.resposta@cliente.example>', i) END, randomblob(300)
                    FROM n JOIN tickets t ON t.code = printf('2025-%07d', i) WHERE i % 2 = 0
                    """, range)
                try tx.execute("""
                    INSERT INTO attachments (id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, ticket_id, created_at)
                    \(numbers)
                    SELECT 'a' || i, 's', 'tela.png', 'image/png', 1, 'c1', 'o1', t.id, i
                    FROM n JOIN tickets t ON t.code = printf('2025-%07d', i) WHERE i % 4 = 0
                    """, range)
            }
            start = end + 1
        }
    }

    /// WAL frames and process CPU per ticket row inserted 8 per transaction into a table shaped
    /// like `tickets` before (`unique`) or after migration 23.
    static func insertCost(unique: Bool, rows: Int) throws -> (frames: Double, microseconds: Double) {
        let directory = try TemporaryDirectory.untilExit(prefix: "intake-null-index")
        let path = "\(directory)/t.sqlite"
        let table = """
            CREATE TABLE tickets (
                id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, organization_id TEXT NOT NULL, contact_id TEXT NOT NULL,
                representative_id TEXT NOT NULL DEFAULT '', registered_by TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
                opened_at INTEGER NOT NULL, submission_hash TEXT NOT NULL, email_message_id TEXT\(unique ? " UNIQUE" : ""),
                attachment_bytes INTEGER NOT NULL DEFAULT 0, snapshot BLOB NOT NULL
            )
            """ + (unique ? "" : ";\nCREATE UNIQUE INDEX tickets_email_message_id ON tickets (email_message_id) WHERE email_message_id IS NOT NULL")
        let database = try openDatabase(DatabaseConfiguration(sqlitePath: path, poolSize: 1),
                                        migrations: [Migration(version: 1, name: "tickets", sql: table)])
        defer { database.close() }
        try database.write { tx in _ = try tx.query("PRAGMA wal_autocheckpoint = 0") }
        let walBefore = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        let snapshot = [UInt8](repeating: 0x5a, count: 650)
        let cpu = processCPUSeconds()
        var row = 0
        while row < rows {
            try database.write { tx in
                for i in row..<(row + 8) {
                    let id = String(format: "%012x", i) + UUID().uuidString.prefix(20)
                    try tx.execute("""
                        INSERT INTO tickets (id, code, organization_id, contact_id, status, opened_at, submission_hash, email_message_id, snapshot)
                        VALUES (?, ?, 'o1', 'c1', 'open', ?, 'h', ?, ?)
                        """, [.text(id), .text(String(format: "2026-%07d", i)), .integer(Int64(i)),
                              i % 10 == 0 ? .text("<\(i)@cliente.example>") : .null, .blob(snapshot)])
                }
            }
            row += 8
        }
        let used = processCPUSeconds() - cpu
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        return (Double(max(0, walBytes - walBefore)) / Double(4096 + 24) / Double(rows), used / Double(rows) * 1e6)
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func megabytes(_ path: String) -> Double {
        Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1_048_576
    }
}
