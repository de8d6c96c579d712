import Foundation
import LoadDriverKit
import RPCTransport
import Storage
import TestSupport

/// Intake, workflow, notification and knowledge started as real processes that know each other
/// (`<SERVICE>_ADDRESSES`), one deployment secret, each on its own database (SQLite files or
/// PostgreSQL databases), notification sending to a real SMTP sink.
final class Cluster: @unchecked Sendable {
    static let services = ["intake", "workflow", "notification", "knowledge"]

    let secret = "production-secret-\(UUID().uuidString)"
    let directory: TemporaryDirectory
    let sink: SMTPSink
    /// Service → ports of its instances.
    let ports: [String: [Int]]
    /// Service → database location (URL or SQLite path).
    let databases: [String: String]
    private(set) var processes: [String: [ServiceProcess?]] = [:]
    private let environments: [String: [String: String]]

    init(engine: DatabaseEngine, instances: [String: Int] = [:]) throws {
        directory = try TemporaryDirectory(prefix: "production")
        sink = try SMTPSink(directory: "\(directory.path)/mail")
        var ports: [String: [Int]] = [:]
        var databases: [String: String] = [:]
        for service in Self.services {
            ports[service] = try (0..<(instances[service] ?? 1)).map { _ in try FreePort.next() }
            databases[service] = engine == .postgres ? try PostgresTestServer.shared().createDatabase()
                : "\(directory.path)/\(service)/\(service).sqlite"
        }
        self.ports = ports
        self.databases = databases
        var environments: [String: [String: String]] = [:]
        for service in Self.services {
            var environment = ["OCORRENCIAS_DATA_DIR": "\(directory.path)/\(service)", "OCORRENCIAS_SECRET": secret]
            for other in Self.services {
                environment["\(other.uppercased())_ADDRESSES"] = ports[other]!.map { "127.0.0.1:\($0)" }.joined(separator: ",")
            }
            if engine == .postgres { environment["\(service.uppercased())_DATABASE_URL"] = databases[service] }
            environments[service] = environment
        }
        environments["notification"]?["NOTIFICATION_SMTP_URL"] = "smtp://127.0.0.1:\(sink.port)"
        environments["notification"]?["NOTIFICATION_MAIL_DOMAIN"] = "suporte.example"
        environments["notification"]?["NOTIFICATION_POLL_MS"] = "50"
        self.environments = environments
        for service in Self.services {
            processes[service] = try ports[service]!.map { try ServiceProcess(name: service, environment: environments[service]!, port: $0) }
        }
    }

    var deployment: Deployment {
        func endpoints(_ service: String) -> [Endpoint] { ports[service]!.map { Endpoint(host: "127.0.0.1", port: $0) } }
        return Deployment(intake: endpoints("intake"), workflow: endpoints("workflow"), notification: endpoints("notification"),
                          secretText: secret)
    }

    /// What instance `index` of `service` logged so far.
    func log(_ service: String, _ index: Int = 0) -> String {
        processes[service]?[index]?.log ?? ""
    }

    /// Kills instance `index` of `service` with SIGKILL.
    func kill(_ service: String, _ index: Int = 0) {
        processes[service]?[index]?.stop(signal: SIGKILL, timeout: 5)
        processes[service]?[index] = nil
    }

    /// Starts instance `index` of `service` again on its port.
    func restart(_ service: String, _ index: Int = 0) throws {
        processes[service]?[index] = try ServiceProcess(name: service, environment: environments[service]!, port: ports[service]![index])
    }

    func stop() {
        for service in Self.services.reversed() {
            for process in processes[service] ?? [] { process?.stop() }
        }
        processes = [:]
    }

    deinit { stop() }
}
