import Foundation
import ServiceKit
import Testing
import TestSupport

/// What a service's log says when it starts (docs/DEPLOYMENT.md, "Logs at start-up"): the `ready`
/// line names the release, every port, the database engine and where it is, its schema and the
/// migrations this start applied, and never a database password. Before, the line said only the
/// RPC address, and a PostgreSQL database was logged as `postgres`, whichever server it was.
@Suite("Start-up log", .serialized)
struct StartupLogTests {
    /// The `ready` line of `log`, as its JSON fields.
    static func readyLine(_ log: String) throws -> [String: String] {
        let line = try #require(log.split(separator: "\n").first { $0.contains("\"msg\":\"ready\"") }, "no ready line in:\n\(log)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return object.compactMapValues { $0 as? String }
    }

    @Test("the gateway's ready line on SQLite: version, every port as bound, the SQLite file, the schema; a restart applies no migration")
    func sqliteGateway() throws {
        let directory = try TemporaryDirectory()
        let environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": "startup-log-secret-\(UUID().uuidString)",
                           "GATEWAY_HTTP_PORT": String(try FreePort.next()), "GATEWAY_RPC_PROXY_PORT": String(try FreePort.next())]
        let first = try ServiceProcess(name: "gateway", environment: environment)
        let ready = try Self.readyLine(first.log)
        #expect(ready["version"] == BuildInfo.version)
        #expect(ready["ports"] == "rpc=127.0.0.1:\(first.port) http=127.0.0.1:\(environment["GATEWAY_HTTP_PORT"]!) "
                + "rpc-proxy=127.0.0.1:\(environment["GATEWAY_RPC_PROXY_PORT"]!)", "\(ready)")
        #expect(ready["db.engine"] == "sqlite")
        #expect(ready["db.location"] == "\(directory.path)/gateway.sqlite")
        #expect(ready["db.schema"]?.contains("service ") == true && ready["db.schema"]?.contains("storage ") == true, "\(ready)")
        #expect(Int(ready["db.migrations_applied"] ?? "") ?? 0 > 0, "\(ready)")
        #expect(first.stop() == 0)

        let again = try ServiceProcess(name: "gateway", environment: environment)
        let restarted = try Self.readyLine(again.log)
        #expect(restarted["db.migrations_applied"] == "0")
        #expect(restarted["db.schema"] == ready["db.schema"])
        #expect(again.stop() == 0)
    }

    @Test("on PostgreSQL the ready line names the server and database, and the password in the URL appears nowhere in the log, also when the server cannot be reached",
          .enabled(if: PostgresTestServer.isEnabled))
    func postgresPasswordNeverLogged() throws {
        let directory = try TemporaryDirectory()
        // The test cluster trusts local connections: the password is carried, not checked.
        let password = "Pw-\(UUID().uuidString)"
        let plain = try PostgresTestServer.shared().createDatabase()
        let url = plain.replacingOccurrences(of: "postgres://postgres@", with: "postgres://postgres:\(password)@")
        #expect(url.contains(password))
        let environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": "startup-log-secret-\(UUID().uuidString)",
                           "OCORRENCIAS_LOG_LEVEL": "debug", "KNOWLEDGE_DATABASE_URL": url]
        let service = try ServiceProcess(name: "knowledge", environment: environment)
        let ready = try Self.readyLine(service.log)
        #expect(ready["db.engine"] == "postgres")
        #expect(ready["db.location"] == url.replacingOccurrences(of: password, with: "***"), "\(ready)")
        #expect(service.stop() == 0)
        #expect(!service.log.contains(password), "\(service.log)")

        // Unreachable: the start fails naming the server, still without the password.
        let unreachable = "postgres://postgres:\(password)@127.0.0.1:\(try FreePort.next())/nowhere?password=\(password)"
        let run = try ChildProcess.run(BuildProducts.executable("knowledge").path, [],
                                       environment: ChildProcess.inheritedEnvironment(adding: environment.merging([
                                           "KNOWLEDGE_DATABASE_URL": unreachable, "KNOWLEDGE_PORT": String(try FreePort.next())]) { $1 }),
                                       output: .null)
        #expect(run.status != 0)
        #expect(run.errorText.contains("cannot connect to PostgreSQL at postgres://postgres:***@127.0.0.1:"), "\(run.errorText)")
        #expect(!run.errorText.contains(password), "\(run.errorText)")
    }
}
