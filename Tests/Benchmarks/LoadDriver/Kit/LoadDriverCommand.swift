import Foundation
import RPCTransport

/// The command line of `load-driver`.
///
/// ```
/// load-driver run    --intake H:P[,H:P] --workflow H:P[,..] --notification H:P[,..] --secret S
///                    [--rate 5] [--seconds 30] [--max-in-flight 200] [--tag T] --state FILE
/// load-driver verify --intake .. --workflow .. --notification .. --secret S --state FILE
///                    --smtp-dir DIR [--databases svc=URL|PATH,...] [--drain-timeout 90]
/// ```
/// Both print one JSON object on standard output; `verify` exits 1 when a check fails.
public enum LoadDriverCommand {
    public static func main(_ arguments: [String]) -> Never {
        guard let mode = arguments.first else { usage() }
        var options: [String: String] = [:]
        var index = 1
        while index < arguments.count {
            let name = arguments[index]
            guard name.hasPrefix("--"), index + 1 < arguments.count else { usage() }
            options[String(name.dropFirst(2))] = arguments[index + 1]
            index += 2
        }
        signal(SIGPIPE, SIG_IGN)
        let secret = options["secret"] ?? ProcessInfo.processInfo.environment["OCORRENCIAS_SECRET"] ?? ""
        let deployment = Deployment(intake: Endpoint.list(options["intake"] ?? ""), workflow: Endpoint.list(options["workflow"] ?? ""),
                                    notification: Endpoint.list(options["notification"] ?? ""), secretText: secret)
        guard !deployment.intake.isEmpty, !deployment.workflow.isEmpty, secret.utf8.count >= 16, let statePath = options["state"] else { usage() }
        let callers = Callers(deployment)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        switch mode {
        case "run":
            let tag = options["tag"] ?? String(UUID().uuidString.prefix(8))
            let cast: Cast
            do { cast = try Cast.setUp(callers, tag: tag) } catch { fail("set-up failed: \(error)") }
            let run = LoadRun(journey: Journey(callers: callers, cast: cast), rate: Double(options["rate"] ?? "5") ?? 5,
                              seconds: Double(options["seconds"] ?? "30") ?? 30,
                              maxInFlight: Int(options["max-in-flight"] ?? "200") ?? 200, tag: tag)
            let (state, figures) = run.run()
            do { try encoder.encode(state).write(to: URL(fileURLWithPath: statePath)) } catch { fail("cannot write \(statePath): \(error)") }
            print(String(decoding: try! encoder.encode(figures), as: UTF8.self))
            exit(0)
        case "verify":
            guard let data = FileManager.default.contents(atPath: statePath),
                  let state = try? JSONDecoder().decode(RunState.self, from: data) else { fail("cannot read \(statePath)") }
            var databases: [String: String] = [:]
            for item in (options["databases"] ?? "").split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { databases[parts[0]] = parts[1] }
            }
            var verifier = Verifier(callers: callers, cast: state.cast, databases: databases, mailDirectory: options["smtp-dir"] ?? "")
            verifier.drainTimeout = Double(options["drain-timeout"] ?? "90") ?? 90
            let report = verifier.verify(state.records)
            print(String(decoding: try! encoder.encode(report), as: UTF8.self))
            exit(report.ok ? 0 : 1)
        default:
            usage()
        }
    }

    static func usage() -> Never {
        fail("usage: load-driver run|verify --intake H:P --workflow H:P --notification H:P --secret S --state FILE [...] (see docs/RELIABILITY.md)", status: 2)
    }

    static func fail(_ message: String, status: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("load-driver: \(message)\n".utf8))
        exit(status)
    }
}
