import Foundation
import Messages
import Observability
import RPC
import RPCTransport
@testable import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

/// A service whose database takes no writes (locked by another process, unreachable, full) says
/// NOT_SERVING in its health answer, with the reason, and SERVING again once a write commits:
/// its own or the probe's, which runs only while writes fail.
@Suite("Readiness follows the database's writes", .serialized)
struct StorageWriteProbeTests {
    static let secret = "storage-write-probe-0123456789"
    static let migrations = [Migration(version: 1, name: "things", sql: "CREATE TABLE things (id TEXT PRIMARY KEY)")]

    /// The lines a service logged.
    final class LogLines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        func contain(_ text: String) -> Bool { lines.withLock { $0.contains { $0.contains(text) } } }
    }

    final class Service {
        let host: ServiceHost
        let client: RPCClient
        let log: LogLines
        let environment: [String: String]

        init(_ engine: DatabaseEngine, databaseURL: String? = nil) throws {
            let directory = try TemporaryDirectory.untilExit(prefix: "storage-write-probe")
            var environment = ["OCORRENCIAS_DATA_DIR": directory, "OCORRENCIAS_SECRET": StorageWriteProbeTests.secret,
                               "KNOWLEDGE_PORT": String(try FreePort.next()), "OCORRENCIAS_STORAGE_PROBE_MS": "100"]
            if let databaseURL { environment["KNOWLEDGE_DATABASE_URL"] = databaseURL }
            self.environment = environment
            let configuration = try ServiceConfiguration(serviceName: "knowledge", arguments: ["test"], environment: environment)
            let log = LogLines()
            self.log = log
            let logger = Logger(service: "knowledge", level: .info, sink: LogSink { line in log.append(line) })
            host = try ServiceMain.start(configuration: configuration, migrations: StorageWriteProbeTests.migrations, logger: logger,
                                         databaseTuning: { given in
                                             var tuned = given
                                             tuned.busyTimeout = .milliseconds(50)
                                             tuned.connectTimeout = .seconds(1)
                                             tuned.maxTransactionAttempts = 2
                                             return tuned
                                         }) { _, _ in }
            var client = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: host.port)],
                                             secret: DeploymentSecret(bytes: Array(StorageWriteProbeTests.secret.utf8)))
            client.callerName = "test"
            self.client = RPCClient(configuration: client)
        }

        var health: RpcV1.HealthCheckResponse {
            get throws { try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()) }
        }

        func insert(_ id: String) throws {
            try host.runtime.database.write { _ = try $0.execute("INSERT INTO things (id) VALUES (?)", [.text(id)]) }
        }

        func logged(_ text: String) -> Bool { log.contain(text) }

        func stop() {
            client.close()
            host.stop()
        }
    }

    @Test("SQLite locked by another process: a failed write makes the service NOT_SERVING (the probe, still locked out, keeps it so); released, the probe brings it back; a read-only check alone never did")
    func sqliteLocked() throws {
        let service = try Service(.sqlite)
        defer { service.stop() }
        #expect(try service.health.status == .serving)
        try service.insert("before")

        // Another process's connection holds the write lock.
        let path = "\(service.environment["OCORRENCIAS_DATA_DIR"]!)/knowledge.sqlite"
        let other = try openDatabase(DatabaseConfiguration(sqlitePath: path), migrations: [])
        defer { other.close() }
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), released = DispatchSemaphore(value: 0)
        Thread {
            _ = try? other.write { tx in
                _ = try tx.execute("INSERT INTO things (id) VALUES ('other')", [])
                holding.signal()
                release.wait()
            }
            released.signal()
        }.start()
        holding.wait()

        let refused = #expect(throws: StorageError.self) { try service.insert("locked") }
        #expect(refused?.isUnavailable == true, "\(String(describing: refused))")
        let health = try service.health
        #expect(health.status == .notServing && health.detail.contains("the database takes no writes") && health.detail.contains("busy"),
                "\(health)")
        #expect(try waitFor { service.logged("database takes no writes") })
        Thread.sleep(forTimeInterval: 0.4)
        #expect(try service.health.status == .notServing, "the probes fail while the lock is held")

        release.signal()
        released.wait()
        #expect(try waitFor { try service.health.status == .serving }, "the probe's write commits")
        #expect(try waitFor { service.logged("database takes writes again") })
        #expect(try service.host.runtime.database.read { try $0.queryOne("SELECT COUNT(*) AS n FROM storage_write_probe")?.int("n") } == 1)
    }

    @Test("PostgreSQL refusing connections: NOT_SERVING after a failed write, SERVING again once it takes them; a write that commits clears it at once",
          .enabled(if: PostgresTestServer.isEnabled))
    func postgresUnreachable() throws {
        let server = try PostgresTestServer.shared()
        let url = try server.createDatabase()
        let name = String(url.split(separator: "/").last!.split(separator: "?").first!)
        let service = try Service(.postgres, databaseURL: url)
        defer { service.stop() }
        #expect(try service.health.status == .serving)
        try service.insert("before")

        func refuseConnections(_ refuse: Bool) throws {
            try PostgresAdmin.execute(url: server.adminURL, "ALTER DATABASE \(name) ALLOW_CONNECTIONS \(refuse ? "false" : "true")")
            if refuse {
                try PostgresAdmin.execute(url: server.adminURL,
                                          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
            }
        }
        try refuseConnections(true)
        let refused = #expect(throws: StorageError.self) { try service.insert("refused") }
        #expect(refused?.isUnavailable == true, "\(String(describing: refused))")
        let health = try service.health
        #expect(health.status == .notServing && health.detail.contains("the database takes no writes"), "\(health)")
        Thread.sleep(forTimeInterval: 0.4)
        #expect(try service.health.status == .notServing, "the probes fail while it refuses connections")

        try refuseConnections(false)
        #expect(try waitFor(10) { try service.health.status == .serving }, "the probe's write commits")
        #expect(try waitFor { service.logged("database takes writes again") })
        try service.insert("after")
    }

    @Test("the probe interval is validated")
    func badInterval() throws {
        #expect(throws: ConfigurationError.self) {
            _ = try StorageWriteProbe(database: try ScratchDatabase(.sqlite).open(), environment: ["OCORRENCIAS_STORAGE_PROBE_MS": "5s"],
                                      logger: Logger(service: "test", level: .critical))
        }
        // Refused with the other settings, before the service opens its database.
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration.checkNumbers(["OCORRENCIAS_STORAGE_PROBE_MS": "5"], prefix: "INTAKE")
        }
    }
}
