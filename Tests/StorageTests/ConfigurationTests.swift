import Storage
import Testing
import TestSupport
@testable import Storage

@Suite("Configuration")
struct ConfigurationTests {
    @Test("the environment selects PostgreSQL per service")
    func fromEnvironment() {
        let environment = ["INTAKE_DATABASE_URL": "postgres://intake@db/intake", "INTAKE_DATABASE_POOL_SIZE": "3",
                           "KNOWLEDGE_BASE_DATABASE_URL": "postgresql://kb@db/kb", "WORKFLOW_DATABASE_URL": ""]
        let intake = DatabaseConfiguration.fromEnvironment(service: "intake", dataDirectory: "/var/lib/o/", environment: environment)
        #expect(intake.engine == .postgres && intake.url == "postgres://intake@db/intake" && intake.poolSize == 3)
        let knowledge = DatabaseConfiguration.fromEnvironment(service: "knowledge-base", dataDirectory: "/d", environment: environment)
        #expect(knowledge.engine == .postgres)
        let workflow = DatabaseConfiguration.fromEnvironment(service: "workflow", dataDirectory: "/var/lib/o", environment: environment)
        #expect(workflow.engine == .sqlite && workflow.sqlitePath == "/var/lib/o/workflow.sqlite" && workflow.poolSize == 8)
        #expect(intake.sqlitePath == "/var/lib/o/intake.sqlite")
    }

    @Test("SQLite writer tuning comes from the environment or tunedForWrites, and reaches the writer connection")
    func sqliteWriterTuning() throws {
        let plain = DatabaseConfiguration.fromEnvironment(service: "intake", dataDirectory: "/d", environment: [:])
        #expect(plain.sqliteWriterCacheKiB == nil && plain.sqliteCheckpointPages == nil, "SQLite's own defaults unless asked")
        let tuned = plain.tunedForWrites()
        #expect(tuned.sqliteWriterCacheKiB == 8192 && tuned.sqliteCheckpointPages == 4000 && tuned.sqliteWriterTempStoreInMemory)
        #expect(!plain.sqliteWriterTempStoreInMemory)
        let fromEnvironment = DatabaseConfiguration.fromEnvironment(
            service: "intake", dataDirectory: "/d",
            environment: ["INTAKE_SQLITE_CACHE_KIB": "1024", "INTAKE_SQLITE_CHECKPOINT_PAGES": "250"]).tunedForWrites()
        #expect(fromEnvironment.sqliteWriterCacheKiB == 1024 && fromEnvironment.sqliteCheckpointPages == 250, "the environment wins")

        let directory = try TemporaryDirectory(prefix: "tuning")
        var configuration = DatabaseConfiguration(sqlitePath: directory.path + "/t.sqlite")
        configuration.sqliteWriterCacheKiB = 4096
        configuration.sqliteCheckpointPages = 300
        configuration.sqliteWriterTempStoreInMemory = true
        let db = try openDatabase(configuration, migrations: [])
        defer { db.close() }
        #expect(try db.write { try $0.scalar("PRAGMA temp_store") } == 2, "MEMORY: savepoint journals never reach a file")
        // A transaction of many savepoints (a group commit) still rolls one back alone.
        try db.write { tx in
            try tx.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)")
        }
        try db.write { tx in
            for index in 0..<50 {
                try tx.execute("SAVEPOINT s")
                try tx.execute("INSERT INTO t (id, payload) VALUES (?, zeroblob(4000))", [.integer(Int64(index))])
                if index % 5 == 0 { try tx.execute("ROLLBACK TO s") }
                try tx.execute("RELEASE s")
            }
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM t") } == 40)
        #expect(try db.write { try $0.scalar("PRAGMA cache_size") } == -4096)
        #expect(try db.write { try $0.scalar("PRAGMA wal_autocheckpoint") } == 300)
        #expect(try db.write { try $0.scalar("PRAGMA synchronous") } == 1, "NORMAL, as without tuning")
    }

    @Test("invalid configurations are refused before anything is opened")
    func validation() {
        expectStorageError(.misuse) { try openDatabase(DatabaseConfiguration(url: "mysql://x", sqlitePath: ""), migrations: []) }
        expectStorageError(.misuse) { try openDatabase(DatabaseConfiguration(sqlitePath: ":memory:", poolSize: 0), migrations: []) }
    }

    @Test("passwords are redacted from URLs in messages")
    func redaction() {
        #expect(DatabaseConfiguration.redacted("postgres://u:s3cret@h:5432/db") == "postgres://u:***@h:5432/db")
        #expect(DatabaseConfiguration.redacted("postgres://u@h/db") == "postgres://u@h/db")
    }

    @Test("an in-memory SQLite database works for quick tests")
    func inMemory() throws {
        let db = try openDatabase(DatabaseConfiguration(sqlitePath: ":memory:"), migrations: [
            Migration(version: 1, name: "t", sql: "CREATE TABLE t (x INTEGER)")
        ])
        defer { db.close() }
        try db.write { try $0.execute("INSERT INTO t (x) VALUES (?)", [5]) }
        #expect(try db.read { try $0.scalar("SELECT x FROM t") } == 5)
    }
}

@Suite("Placeholder rewriting for PostgreSQL")
struct PlaceholderRewriterTests {
    @Test("placeholders become $n outside literals, identifiers and comments", arguments: [
        ("SELECT ?", "SELECT $1", 1),
        ("INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES ($1, $2)", 2),
        ("SELECT '?', ? FROM t WHERE x = 'it''s ?' AND y = ?", "SELECT '?', $1 FROM t WHERE x = 'it''s ?' AND y = $2", 2),
        ("SELECT \"we?ird\" FROM t WHERE a = ?", "SELECT \"we?ird\" FROM t WHERE a = $1", 1),
        ("SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2", 2),
        ("SELECT /* a /* nested? */ still? */ ?", "SELECT /* a /* nested? */ still? */ $1", 1),
        ("SELECT E'\\'?' , ?", "SELECT E'\\'?' , $1", 1),
        ("SELECT $$ ? $$, $tag$ ?$ $tag$, ?", "SELECT $$ ? $$, $tag$ ?$ $tag$, $1", 1),
        ("SELECT a$b, ?", "SELECT a$b, $1", 1),
        ("SELECT 'unterminated ?", "SELECT 'unterminated ?", 0),
        ("SELECT 'ünïcødé ?', ?", "SELECT 'ünïcødé ?', $1", 1),
    ])
    func rewrite(input: String, expected: String, count: Int) {
        let result = PlaceholderRewriter.rewrite(input)
        #expect(result.sql == expected)
        #expect(result.count == count)
    }
}
