import Foundation
import Messages
import RPC
import RPCTransport

/// `<service> healthcheck [--live] [flags]`: asks a running instance (this machine, the port its
/// flags and environment give) whether it is serving, for container health checks and scripts.
/// Exit status 0 when it answers SERVING within two seconds, 1 otherwise (the reason printed:
/// `NOT_SERVING migrando o banco de dados (migração 12 de 30: …) / …` while it migrates).
///
/// With `--live` (a liveness probe): 0 whenever the process answers, NOT_SERVING included (still
/// migrating, its database failing), 1 only when it does not answer: an orchestrator that
/// restarts on this does not kill an instance in the middle of a long migration.
enum HealthProbe {
    static func run(name: String, arguments: [String]) -> Int32 {
        let live = arguments.dropFirst().contains("--live")
        let arguments = arguments.enumerated().filter { $0.offset == 0 || $0.element != "--live" }.map(\.element)
        let configuration: ServiceConfiguration
        do { configuration = try ServiceConfiguration(serviceName: name, arguments: arguments) } catch {
            FileHandle.standardError.write(Data("\(name) healthcheck: \(error)\n".utf8))
            return 2
        }
        do {
            let secret = try configuration.deploymentSecret()
            let host = ["0.0.0.0", "::", ""].contains(configuration.host) ? "127.0.0.1" : configuration.host
            var clientConfiguration = ClientConfiguration(endpoints: [Endpoint(host: host, port: configuration.port)], secret: secret)
            clientConfiguration.callerName = "\(name)-healthcheck"
            let client = RPCClient(configuration: clientConfiguration)
            defer { client.close() }
            var request = RpcV1.HealthCheckRequest()
            request.service = name
            let response = try client.call(RpcV1.Health.check, request, options: CallOptions(timeoutMilliseconds: 2_000))
            guard response.status == .serving else {
                print("\(name): NOT_SERVING \(response.detail)")
                return live ? 0 : 1
            }
            print("\(name): SERVING")
            return 0
        } catch {
            print("\(name): unreachable: \(error)")
            return 1
        }
    }
}
