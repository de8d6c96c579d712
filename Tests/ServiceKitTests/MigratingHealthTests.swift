import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

/// A service answers while it migrates its database: `Health/Check` says `NOT_SERVING` with what
/// it is doing, every other call `UNAVAILABLE` at once (not started, so callers may repeat it),
/// and once migrated the same socket serves. The migration is stalled for real: another
/// connection holds the schema lock (SQLite's write lock, PostgreSQL's migration advisory lock).
@Suite("Health answers while the database migrates", .serialized)
struct MigratingHealthTests {
    static let secret = "migrating-health-secret-0123456789"
    static let migrations = [
        Migration(version: 1, name: "things", sql: "CREATE TABLE things (id TEXT PRIMARY KEY)"),
        Migration(version: 2, name: "more_things", sql: "CREATE TABLE more_things (id TEXT PRIMARY KEY)"),
        Migration(version: 3, name: "thing_names", sql: "ALTER TABLE things ADD COLUMN name TEXT"),
        Migration(version: 4, name: "first_thing", sql: "INSERT INTO things (id, name) VALUES ('1', 'um')"),
        Migration(version: 5, name: "things_by_name", sql: "CREATE INDEX things_by_name ON things (name)"),
    ]

    /// The lines a service logged.
    final class LogLines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        func first(containing text: String) -> String? { lines.withLock { $0.first { $0.contains(text) } } }
    }

    /// What ``ServiceMain/start(configuration:migrations:logger:databaseTuning:ports:setup:)``
    /// ended with, on its own thread.
    final class Outcome: Sendable {
        private let result = Mutex<Result<ServiceHost, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        func set(_ value: Result<ServiceHost, any Error>) {
            result.withLock { $0 = value }
            done.signal()
        }
        var value: Result<ServiceHost, any Error>? { result.withLock { $0 } }
    }

    static func environment(_ engine: DatabaseEngine) throws -> [String: String] {
        let directory = try TemporaryDirectory.untilExit(prefix: "migrating-health")
        var environment = ["OCORRENCIAS_DATA_DIR": directory, "OCORRENCIAS_SECRET": secret, "KNOWLEDGE_PORT": String(try FreePort.next())]
        if engine == .postgres { environment["KNOWLEDGE_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        return environment
    }

    /// knowledge on `engine` with two of the five migrations applied and the schema lock held
    /// before it starts, and a logger keeping its lines.
    static func locked(_ engine: DatabaseEngine) throws
        -> (ServiceConfiguration, DatabaseConfiguration, SchemaLockHolder, LogLines, Logger) {
        let environment = try Self.environment(engine)
        let configuration = try ServiceConfiguration(serviceName: "knowledge", arguments: ["test"], environment: environment)
        let database = DatabaseConfiguration.fromEnvironment(service: "knowledge", dataDirectory: configuration.dataDirectory,
                                                             environment: environment)
        let lock = try SchemaLockHolder(database, migrations: Array(Self.migrations.prefix(2)))
        let log = LogLines()
        return (configuration, database, lock, log, Logger(service: "knowledge", level: .info, sink: LogSink { line in log.append(line) }))
    }

    static func client(port: Int) -> RPCClient {
        var client = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], secret: DeploymentSecret(bytes: Array(secret.utf8)))
        client.callerName = "test"
        client.maxAttempts = 1
        return RPCClient(configuration: client)
    }

    @Test("stalled on the schema lock: NOT_SERVING with the migration it waits for, other calls UNAVAILABLE at once and not started; released: migrated, serving on the same port, the log timing it",
          arguments: TestEngines.all)
    func stalledMigration(engine: DatabaseEngine) throws {
        let (configuration, _, lock, log, logger) = try Self.locked(engine)
        defer { lock.release() }
        let outcome = Outcome()
        Thread {
            outcome.set(Result {
                try ServiceMain.start(configuration: configuration, migrations: Self.migrations, logger: logger,
                                      databaseTuning: { given in
                                          var tuned = given
                                          tuned.busyTimeout = .milliseconds(200)
                                          return tuned
                                      }) { _, _ in }
            })
        }.start()

        let client = Self.client(port: configuration.port)
        defer { client.close() }
        var health = RpcV1.HealthCheckResponse()
        let waiting = waitFor(15) {
            health = (try? client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest())) ?? health
            return health.detail.contains("banco bloqueado")
        }
        #expect(waiting, "\(health)")
        #expect(health.status == .notServing)
        #expect(health.detail == "banco bloqueado, aguardando para aplicar a migração 1 de 3 (service 3 thing_names) / database locked, waiting to apply migration 1 of 3 (service 3 thing_names)",
                "\(health.detail)")

        let asked = ContinuousClock.now
        let refused = #expect(throws: RPCError.self) { try client.call(RpcV1.Stats.outbox, RpcV1.OutboxStatsRequest()) }
        let took = ContinuousClock.now - asked
        #expect(refused?.code == .unavailable && refused?.handlerStarted == false, "\(String(describing: refused))")
        #expect(refused?.message.hasPrefix("serviço iniciando, tente de novo em instantes: banco bloqueado") == true, "\(String(describing: refused))")
        #expect(refused?.message.contains(" / service starting, try again shortly: database locked, waiting to apply migration 1 of 3") == true,
                "\(String(describing: refused))")
        // At once, not after the migration (held until the test releases the lock) nor at the
        // call's 10 s deadline; 5 s leaves a loaded machine room.
        #expect(took < .seconds(5), "answered at once: \(took)")
        #expect(outcome.value == nil, "still migrating")
        #expect(log.first(containing: "database migrations started")?.contains("\"pending\":\"3\"") == true)
        #expect(log.first(containing: "banco bloqueado, aguardando / database locked, waiting") != nil)

        lock.release()
        #expect(outcome.done.wait(timeout: .now() + 30) == .success, "the migrations end once the lock is free")
        let host = try #require(try outcome.value?.get())
        defer { host.stop() }
        #expect(host.port == configuration.port, "the same socket")
        #expect(try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving)
        #expect(try client.call(RpcV1.Stats.outbox, RpcV1.OutboxStatsRequest()).pending == 0)
        let versions = try host.runtime.database.read { tx in
            try tx.query("SELECT version FROM schema_migrations WHERE component = 'service' ORDER BY version").map { try $0.int("version") }
        }
        #expect(versions == [1, 2, 3, 4, 5])
        let finished = try #require(log.first(containing: "database migrations finished"))
        #expect(finished.contains("\"applied\":\"3\"") && finished.contains("\"duration_ms\":"), "\(finished)")
        #expect(log.first(containing: "database migration applied")?.contains("service 3 thing_names") == true)
    }

    @Test("a schema lock held past the migration lock wait fails the start, naming the holder (the pid on SQLite, the session on PostgreSQL), and closes the port; the migrations before it stay",
          arguments: TestEngines.all)
    func lockWaitRunsOut(engine: DatabaseEngine) throws {
        let (configuration, database, lock, log, logger) = try Self.locked(engine)
        defer { lock.release() }
        let started = ContinuousClock.now
        let failure = #expect(throws: StorageError.self) {
            _ = try ServiceMain.start(configuration: configuration, migrations: Self.migrations, logger: logger,
                                      databaseTuning: { given in
                                          var tuned = given
                                          tuned.busyTimeout = .milliseconds(200)
                                          tuned.migrationLockWait = .milliseconds(700)
                                          return tuned
                                      }) { _, _ in }
        }
        let took = ContinuousClock.now - started
        let message = failure?.message ?? ""
        #expect(failure?.kind == .migration, "\(String(describing: failure))")
        #expect(message.hasPrefix("banco bloqueado: a migração 1 de 3 (service 3 thing_names) desistiu após "), "\(message)")
        #expect(message.contains(" s esperando o bloqueio do esquema, mantido por "), "\(message)")
        #expect(message.contains(" / database locked: migration 1 of 3 (service 3 thing_names) gave up after "), "\(message)")
        #expect(message.contains(" s waiting for the schema lock, held by "), "\(message)")
        switch engine {
        case .sqlite:
            #expect(message.contains("held by pid \(getpid()) ("), "this process holds it: \(message)")
        case .postgres:
            #expect(message.contains("held by PostgreSQL pid ") && message.contains("application_name 'ocorrencias-knowledge'")
                    && message.contains("'idle in transaction'"), "\(message)")
        }
        #expect(took >= .milliseconds(700) && took < .seconds(10), "\(took)")
        #expect(log.first(containing: "banco bloqueado, aguardando / database locked, waiting") != nil, "it said it waited first")
        let socket = try ListeningSocket(host: "127.0.0.1", port: configuration.port)
        socket.close()
        lock.release()
        let opened = try openDatabase(database, migrations: [])
        defer { opened.close() }
        let versions = try opened.read { tx in
            try tx.query("SELECT version FROM schema_migrations WHERE component = 'service' ORDER BY version").map { try $0.int("version") }
        }
        #expect(versions == [1, 2])
    }

    @Test("a failed migration ends the start with the migration's error and closes the port; the migrations before it stay",
          arguments: TestEngines.all)
    func failedMigration(engine: DatabaseEngine) throws {
        let environment = try Self.environment(engine)
        let configuration = try ServiceConfiguration(serviceName: "knowledge", arguments: ["test"], environment: environment)
        let broken = Array(Self.migrations.prefix(2)) + [Migration(version: 3, name: "broken", sql: "ALTER TABLE no_such_table ADD COLUMN x TEXT")]
        let failure = #expect(throws: StorageError.self) {
            _ = try ServiceMain.start(configuration: configuration, migrations: broken, logger: Logger(service: "knowledge", level: .critical)) { _, _ in }
        }
        #expect(failure?.kind == .migration && failure?.message.contains("service migration 3 'broken' failed") == true, "\(String(describing: failure))")
        // Nothing listens any more: the port can be bound again.
        let socket = try ListeningSocket(host: "127.0.0.1", port: configuration.port)
        socket.close()
        let database = try openDatabase(DatabaseConfiguration.fromEnvironment(service: "knowledge", dataDirectory: configuration.dataDirectory,
                                                                              environment: environment), migrations: [])
        defer { database.close() }
        let versions = try database.read { tx in
            try tx.query("SELECT version FROM schema_migrations WHERE component = 'service' ORDER BY version").map { try $0.int("version") }
        }
        #expect(versions == [1, 2])
    }
}
