import Foundation
import Observability
import ServiceKit
import Storage
import Testing
import TestSupport

/// `StorageRetention`: every service forgets old idempotency keys and inbox entries on its own
/// (both tables used to grow by a row per keyed call and per event taken in, for ever).
@Suite("Storage retention: idempotency keys and inbox entries are forgotten")
struct StorageRetentionTests {
    static let day: TimeInterval = 86_400

    /// Writes idempotency keys and inbox entries created `ages` days ago.
    static func seed(_ database: any Database, ages: [Double], now: Date = Date()) throws {
        try database.write { tx in
            for (index, age) in ages.enumerated() {
                let at = now.addingTimeInterval(-age * day)
                try tx.execute("INSERT INTO storage_idempotency (scope, idem_key, fingerprint, response, created_at) VALUES (?, ?, ?, ?, ?)",
                               [.text("intake.OpenTicket|C-1"), .text("key-\(index)"), .blob([1]), .blob([2]), .timestamp(at)])
                try tx.execute("INSERT INTO storage_inbox (consumer, event_id, processed_at) VALUES (?, ?, ?)",
                               [.text("workflow"), .text("event-\(index)"), .timestamp(at)])
            }
        }
    }

    /// The rows left in both tables, as `[keys, inbox]`.
    static func counts(_ database: any Database) throws -> [SQLValue] {
        try database.read { tx in
            [try tx.scalar("SELECT COUNT(*) FROM storage_idempotency"), try tx.scalar("SELECT COUNT(*) FROM storage_inbox")]
        }
    }

    @Test("one pass removes what is older than each table's retention, in batches, and keeps the rest", arguments: TestEngines.all)
    func pass(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open()
        defer { database.close() }
        // 25 rows 40 days old, 3 rows 10 days old, 2 of today.
        try Self.seed(database, ages: Array(repeating: 40, count: 25) + [10, 10, 10, 0.1, 0.1])
        var settings = StorageRetention.Settings()
        settings.batch = 7   // 25 old rows: four batches, the last one short
        let removed = try StorageRetention.prune(database, settings: settings)
        // Keys are kept 7 days, the inbox 30.
        #expect(removed == StorageRetention.Removed(idempotencyKeys: 28, inboxEntries: 25))
        #expect(try Self.counts(database) == [2, 5])
        #expect(try StorageRetention.prune(database, settings: settings) == StorageRetention.Removed(), "nothing left to remove")
        var keepAll = settings
        keepAll.idempotencySeconds = 0
        keepAll.inboxSeconds = 0
        #expect(try StorageRetention.prune(database, settings: keepAll, now: Date(timeIntervalSinceNow: 365 * Self.day)) == StorageRetention.Removed(),
                "0 keeps rows for ever")
    }

    @Test("a key used again after its retention runs the call again", arguments: TestEngines.all)
    func expiredKeyRunsAgain(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open()
        defer { database.close() }
        let first = try database.write { tx in try IdempotencyStore.run(tx, scope: "s", key: "k", requestFingerprint: [1]) { [1] } }
        #expect(!first.replayed)
        try StorageRetention.prune(database, settings: StorageRetention.Settings(), now: Date(timeIntervalSinceNow: 8 * Self.day))
        let again = try database.write { tx in try IdempotencyStore.run(tx, scope: "s", key: "k", requestFingerprint: [2]) { [2] } }
        #expect(again == IdempotentResult(response: [2], replayed: false))
    }

    @Test("the retentions come from the environment; a malformed one stops the start", arguments: [
        ([:], 7 * 86_400, 30 * 86_400),
        (["OCORRENCIAS_IDEMPOTENCY_RETENTION_HOURS": "24", "OCORRENCIAS_INBOX_RETENTION_DAYS": "0"], 86_400, 0),
    ])
    func environment(variables: [String: String], keys: Int, inbox: Int) throws {
        let configuration = try ServiceConfiguration(serviceName: "intake", arguments: ["intake"], environment: variables)
        #expect(configuration.retention.idempotencySeconds == keys && configuration.retention.inboxSeconds == inbox)
        for bad in [["OCORRENCIAS_IDEMPOTENCY_RETENTION_HOURS": "7d"], ["OCORRENCIAS_INBOX_RETENTION_DAYS": "-1"]] {
            let error = #expect(throws: ConfigurationError.self) {
                try ServiceConfiguration(serviceName: "intake", arguments: ["intake"], environment: bad)
            }
            #expect(error?.description.contains(bad.keys.first!) == true)
        }
    }

    @Test("a running service prunes on its own at start (ServiceMain)", arguments: TestEngines.all)
    func serviceMainPrunes(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": "storage-retention-secret-0123456789",
                           "WORKFLOW_PORT": String(try FreePort.next())]
        let databaseConfiguration: DatabaseConfiguration
        if engine == .postgres {
            let url = try PostgresTestServer.shared().createDatabase()
            environment["WORKFLOW_DATABASE_URL"] = url
            databaseConfiguration = DatabaseConfiguration(url: url, sqlitePath: "")
        } else {
            databaseConfiguration = DatabaseConfiguration(sqlitePath: "\(directory.path)/workflow.sqlite")
        }
        let before = try openDatabase(databaseConfiguration, migrations: [])
        try Self.seed(before, ages: [40, 40, 0.1])
        before.close()
        let configuration = try ServiceConfiguration(serviceName: "workflow", arguments: ["test"], environment: environment)
        let host = try ServiceMain.start(configuration: configuration, migrations: [],
                                         logger: Logger(service: "workflow", level: .critical)) { _, _ in }
        defer { host.stop() }
        let deadline = Date(timeIntervalSinceNow: 10)
        while try Self.counts(host.runtime.database) != [1, 1], Date() < deadline { usleep(20_000) }
        #expect(try Self.counts(host.runtime.database) == [1, 1])
    }
}
