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

    @Test("the migration lock wait: 10 minutes unless <SERVICE>_ or OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS says (the service's wins; 0: for ever)")
    func migrationLockWait() {
        func wait(_ environment: [String: String]) -> Duration? {
            DatabaseConfiguration.fromEnvironment(service: "intake", dataDirectory: "/d", environment: environment).migrationLockWait
        }
        #expect(wait([:]) == .seconds(600))
        #expect(wait(["OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS": "30"]) == .seconds(30))
        #expect(wait(["OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS": "30", "INTAKE_MIGRATION_LOCK_WAIT_SECONDS": "90"]) == .seconds(90))
        #expect(wait(["OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS": "30", "INTAKE_MIGRATION_LOCK_WAIT_SECONDS": ""]) == .seconds(30), "empty: unset")
        #expect(wait(["INTAKE_MIGRATION_LOCK_WAIT_SECONDS": "0", "OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS": "30"]) == nil)
        #expect(wait(["WORKFLOW_MIGRATION_LOCK_WAIT_SECONDS": "5"]) == .seconds(600), "another service's")
    }

    @Test("the holder of a SQLite file's write lock is read from /proc/locks: the -shm file's byte 120 (WAL) or the RESERVED byte")
    func sqliteLockHolders() {
        let shm = SQLiteLockHolders.FileID(major: 0xfd, minor: 1, inode: 777), file = SQLiteLockHolders.FileID(major: 0xfd, minor: 1, inode: 776)
        let text = """
            1: POSIX  ADVISORY  READ 10 fd:01:777 128 128
            2: POSIX  ADVISORY  WRITE 4242 fd:01:777 120 120
            2: -> POSIX  ADVISORY  WRITE 5151 fd:01:777 120 120
            3: POSIX  ADVISORY  WRITE 6161 fd:01:776 1073741825 1073741825
            4: OFDLCK ADVISORY  WRITE -1 fd:01:777 120 120
            5: POSIX  ADVISORY  WRITE 7171 fd:01:999 0 EOF
            6: FLOCK  ADVISORY  WRITE 8181 fd:01:777 0 EOF
            """
        #expect(SQLiteLockHolders.holders(in: text, of: [(shm, 120), (file, SQLiteLockHolders.reservedByte)]) == [4242, 6161])
        #expect(SQLiteLockHolders.holders(in: text, of: [(shm, 121)]).isEmpty)
        #expect(SQLiteLockHolders.describe(databasePath: "/no/such/file.sqlite", locks: text) == nil)
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
        // A password with an unencoded `@`, `/` or `?` is hidden whole, not up to its first one.
        #expect(DatabaseConfiguration.redacted("postgres://u:p@ss/w?rd@h:5432/db") == "postgres://u:***@h:5432/db")
        // libpq also takes the password as a query parameter.
        #expect(DatabaseConfiguration.redacted("postgresql://h/db?user=u&password=s3cret&sslmode=require")
                == "postgresql://h/db?user=u&password=***&sslmode=require")
        #expect(DatabaseConfiguration.redacted("/var/lib/data.sqlite") == "/var/lib/data.sqlite")
        #expect(DatabaseConfiguration(url: "postgres://u:s3cret@h/db", sqlitePath: "x").location == "postgres://u:***@h/db")
        #expect(DatabaseConfiguration(sqlitePath: "/d/intake.sqlite").location == "/d/intake.sqlite")
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
