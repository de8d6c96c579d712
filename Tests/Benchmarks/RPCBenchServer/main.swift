// The RPC benchmark server: the built-in Echo method served through the same router, codec,
// deadlines and authentication as every service.
//   rpc-bench-server --host 127.0.0.1 --port 7900 [--event-loops N] [--workers N]
// The deployment secret comes from OCORRENCIAS_SECRET (the bench script sets one).
import Foundation
import Observability
import RPC
import RPCTransport

BenchServerMain.run()

enum BenchServerMain {
    static func run() {
        let signals = SignalWaiter.prepare()
        let arguments = CommandLine.arguments
        func value(_ name: String) -> String? { arguments.firstIndex(of: name).map { arguments[$0 + 1] } }
        guard let secret = try? DeploymentSecret.fromEnvironment(ProcessInfo.processInfo.environment) else {
            FileHandle.standardError.write(Data("set OCORRENCIAS_SECRET (at least 16 characters)\n".utf8))
            exit(2)
        }
        var router = RPCRouter()
        BuiltinServices.register(in: &router, service: "bench") { .serving }
        var configuration = ServerConfiguration(serviceName: "bench", secret: secret)
        configuration.host = value("--host") ?? "127.0.0.1"
        configuration.port = Int(value("--port") ?? "7900") ?? 7900
        if let loops = value("--event-loops").flatMap(Int.init) { configuration.eventLoops = loops }
        if let workers = value("--workers").flatMap(Int.init) { configuration.workerThreads = workers }
        let server = RPCServer(configuration: configuration, router: router,
                               logger: Logger(service: "bench", level: Logger.Level(name: value("--log-level") ?? "warning") ?? .warning))
        do { try server.start() } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(1)
        }
        print("rpc-bench-server listening on \(configuration.host):\(server.port)")
        fflush(nil)
        SignalWaiter.waitForTermination(signals)
        server.shutdown(gracePeriodMilliseconds: 1_000)
    }
}
