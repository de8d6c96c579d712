import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// A service binds its ports before it opens its database: a second instance started by mistake
/// on a port in use (a newer version next to the running one) stops before it migrates the
/// running one's database under it.
@Suite("Ports bound before the database opens", .serialized)
struct BindFirstTests {
    static let secret = "bind-first-secret-0123456789"

    @Test("a second instance on the running one's port stops with PortInUse and applies none of its migrations to the shared database; the first keeps serving",
          arguments: TestEngines.all)
    func secondInstance(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory(prefix: "bind-first")
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": Self.secret,
                           "KNOWLEDGE_PORT": String(try FreePort.next())]
        if engine == .postgres { environment["KNOWLEDGE_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        let configuration = try ServiceConfiguration(serviceName: "knowledge", arguments: ["test"], environment: environment)
        let old = [Migration(version: 1, name: "old", sql: "CREATE TABLE old_things (id TEXT PRIMARY KEY)")]
        let newer = old + [Migration(version: 2, name: "newer", sql: "CREATE TABLE newer_things (id TEXT PRIMARY KEY)")]
        let logger = Logger(service: "knowledge", level: .critical)
        let running = try ServiceMain.start(configuration: configuration, migrations: old, logger: logger) { _, _ in }
        defer { running.stop() }

        let refused = #expect(throws: PortInUse.self) {
            _ = try ServiceMain.start(configuration: configuration, migrations: newer, logger: logger) { _, _ in }
        }
        #expect(refused?.description.contains("the database was not opened") == true, "\(String(describing: refused))")
        #expect(refused?.description.contains("127.0.0.1:\(running.port)") == true, "\(String(describing: refused))")
        let versions = try running.runtime.database.read { tx in
            try tx.query("SELECT version FROM schema_migrations WHERE component = 'service' ORDER BY version").map { try $0.int("version") }
        }
        #expect(versions == [1], "the newer instance migrated nothing")
        #expect(throws: StorageError.self) { try running.runtime.database.read { try $0.query("SELECT id FROM newer_things") } }

        var client = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: running.port)], secret: DeploymentSecret(bytes: Array(Self.secret.utf8)))
        client.callerName = "test"
        let rpc = RPCClient(configuration: client)
        defer { rpc.close() }
        #expect(try rpc.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving)
    }

    @Test("an executable started on a port held by another socket exits 1 naming the port, and creates no database file; the gateway likewise for its HTTP and integration ports",
          arguments: ["intake", "gateway-http", "gateway-rpc-proxy"])
    func executableOnAPortInUse(_ which: String) throws {
        let directory = try TemporaryDirectory(prefix: "bind-first-exe")
        let held = try ListeningSocket(host: "127.0.0.1", port: try FreePort.next())
        defer { held.close() }
        let service = which.hasPrefix("gateway") ? "gateway" : which
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": Self.secret]
        var port = held.port
        if service == "gateway" {
            // Its RPC port free; the held one is its HTTP or integration port.
            port = try FreePort.next()
            environment["GATEWAY_HTTP_PORT"] = which == "gateway-http" ? String(held.port) : String(try FreePort.next())
            environment["GATEWAY_RPC_PROXY_PORT"] = which == "gateway-rpc-proxy" ? String(held.port) : String(try FreePort.next())
        }
        let run = try ChildProcess.run(BuildProducts.executable(service).path, ["--port", String(port)],
                                       environment: ChildProcess.inheritedEnvironment(adding: environment), output: .null)
        #expect(run.status == 1, "\(run.errorText)")
        #expect(run.errorText.contains("127.0.0.1:\(held.port)") && run.errorText.contains("Address already in use"), "\(run.errorText)")
        #expect(run.errorText.contains("o banco de dados não foi aberto / "), "\(run.errorText)")
        #expect(!run.errorText.contains("database ready") && !run.errorText.contains("\"ready\""), "\(run.errorText)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!files.contains { $0.hasPrefix("\(service).sqlite") }, "no database file: \(files)")
    }
}
