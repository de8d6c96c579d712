import Foundation
import Messages
import RPC
import RPCTransport
import Testing
import TestSupport

@Suite("Service executables", .serialized)
struct ExecutablesTests {
    static let services = ["intake", "workflow", "notification", "knowledge", "gateway"]

    @Test("every executable starts on SQLite, serves health and reflection, and stops cleanly on SIGTERM", arguments: services)
    func startServeStop(service: String) throws {
        let directory = try TemporaryDirectory()
        let secret = "executables-test-secret-\(UUID().uuidString)"
        let process = try ServiceProcess(name: service, environment: [
            "OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secret, "OCORRENCIAS_LOG_LEVEL": "info",
        ])
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: process.port)],
                                                secret: DeploymentSecret(bytes: Array(secret.utf8)))
        configuration.callerName = "test"
        let client = RPCClient(configuration: configuration)
        defer { client.close() }
        let health = try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest())
        #expect(health.status == .serving)
        let reflection = try client.call(RpcV1.Reflection.listMethods, RpcV1.ListMethodsRequest())
        #expect(reflection.service == service)
        #expect(reflection.methods.contains { $0.name == RpcV1.Health.check.path })
        #expect(FileManager.default.fileExists(atPath: "\(directory.path)/\(service).sqlite"))
        #expect(process.stop() == 0, "exit status after SIGTERM:\n\(process.log)")
        #expect(process.log.contains("stopped cleanly"))
        // Logs are one JSON object per line.
        for line in process.log.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not JSON: \(line)")
        }
    }

    @Test("a service refuses a caller without the deployment secret")
    func refusesStrangers() throws {
        let directory = try TemporaryDirectory()
        let process = try ServiceProcess(name: "intake", environment: [
            "OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": "the-real-secret-0123456789",
        ])
        let client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: process.port)],
                                                                  secret: DeploymentSecret(bytes: Array("another-secret-0123456789".utf8))))
        defer { client.close() }
        #expect(throws: RPCError.self) { _ = try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()) }
        process.stop()
    }

    @Test("a bad flag is a clear start-up error, not a crash")
    func badFlag() throws {
        let run = try ChildProcess.run(BuildProducts.executable("workflow").path, ["--port", "notaport"], output: .null)
        #expect(run.status == 2)
        let text = run.errorText
        #expect(text.contains("invalid port notaport"))
    }

    @Test("a bad setting stops the service at once with a non-zero status and a message naming it, before it serves anything: malformed numbers and switches, an unknown flow, a misnamed or unreachable database, a data directory that is a file, the example's placeholder secret, a secret given both as text and as a file")
    func badSettings() throws {
        let directory = try TemporaryDirectory()
        let file = directory.file("not-a-directory")
        FileManager.default.createFile(atPath: file, contents: Data())
        let secretFile = directory.file("secret-file")
        _ = FileManager.default.createFile(atPath: secretFile, contents: Data("bad-settings-secret-from-a-file".utf8))
        let cases: [(service: String, environment: [String: String], status: Int32, expected: String)] = [
            ("gateway", ["GATEWAY_HTTP_PORT": "80a"], 1, "GATEWAY_HTTP_PORT inválido / invalid: '80a'"),
            ("gateway", ["GATEWAY_RPC_PROXY_PORT": "7l90"], 1, "GATEWAY_RPC_PROXY_PORT inválido"),
            ("workflow", ["WORKFLOW_TIMER_POLL_MS": "5s"], 1, "WORKFLOW_TIMER_POLL_MS inválido"),
            ("workflow", ["WORKFLOW_FLOW": "tovts"], 1, "WORKFLOW_FLOW inválido / invalid: 'tovts' (fluxos / flows: padrao, totvs)"),
            ("notification", ["NOTIFICATION_SMTP_STARTTLS": "ture"], 1, "NOTIFICATION_SMTP_STARTTLS inválido"),
            ("intake", ["OCORRENCIAS_RPC_MAX_FRAME_BYTES": "4MB"], 2, "OCORRENCIAS_RPC_MAX_FRAME_BYTES inválido"),
            ("gateway", ["INTAKE_ADDRESSES": "intake"], 2, "INTAKE_ADDRESSES inválido / invalid: 'intake'"),
            ("intake", ["INTAKE_DATABASE_URL": "mysql://intake@db/intake"], 1, "must start with postgres://"),
            ("intake", ["INTAKE_DATABASE_URL": "postgres://intake:x@127.0.0.1:1/intake"], 1, "cannot connect to PostgreSQL"),
            ("knowledge", ["OCORRENCIAS_DATA_DIR": file], 1, "é um arquivo, não um diretório / is a file, not a directory"),
            ("knowledge", ["OCORRENCIAS_SECRET": "change-me-0000000000000000000000000000000000000000000000000000000000"], 1,
             "OCORRENCIAS_SECRET ainda é o exemplo"),
            ("workflow", ["OCORRENCIAS_SECRET_FILE": secretFile], 2, "OCORRENCIAS_SECRET e OCORRENCIAS_SECRET_FILE estão ambas definidas"),
            ("gateway", ["OCORRENCIAS_SECRET_FILE": secretFile], 2, "are both set; use only one"),
        ]
        for (service, environment, status, expected) in cases {
            var variables = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": "bad-settings-secret-0123456789"]
            variables.merge(environment) { $1 }
            let started = Date()
            let run = try ChildProcess.run(BuildProducts.executable(service).path, ["--port", "0"],
                                           environment: ChildProcess.inheritedEnvironment(adding: variables), output: .null)
            #expect(run.status == status && run.errorText.contains(expected), "\(service) \(environment): \(run.status) \(run.errorText)")
            #expect(!run.errorText.contains("\"ready\""), "\(service) \(environment) started: \(run.errorText)")
            #expect(Date().timeIntervalSince(started) < 20)
        }
    }

    @Test("`<service> --help` (or -h, help) prints how to run it, its commands, flags and variables, and exits 0 without starting; the service's own commands are listed")
    func help() throws {
        for (service, own) in [("intake", "ingest-mail"), ("gateway", "create-admin"), ("workflow", "backup")] {
            for flag in ["--help", "-h", "help"] {
                let run = try ChildProcess.run(BuildProducts.executable(service).path, [flag], output: .capture, error: .capture)
                #expect(run.status == 0, "\(service) \(flag): \(run.errorText)")
                let text = run.outputText
                for expected in ["uso / usage:", "\(service) healthcheck", "\(service) backup --to DIR", "\(service) \(own)",
                                 "--port", "\(service.uppercased())_PORT", "OCORRENCIAS_DATA_DIR", "\(service.uppercased())_DATABASE_URL",
                                 "\(service.uppercased())_MIGRATION_LOCK_WAIT_SECONDS 600"] {
                    #expect(text.contains(expected), "\(service) \(flag): missing \(expected) in\n\(text)")
                }
                #expect(!run.errorText.contains("needs a value"), "\(run.errorText)")
                if service == "gateway" {
                    // Its HTTP and integration ports, and every flag of create-admin.
                    for expected in ["GATEWAY_HTTP_PORT", "GATEWAY_RPC_PROXY_PORT", "7190", "--agent-id ID"] {
                        #expect(text.contains(expected), "gateway \(flag): missing \(expected) in\n\(text)")
                    }
                }
            }
        }
    }

    @Test("`<service> healthcheck` exits 0 while the instance serves and 1 once it is gone")
    func healthcheckCommand() throws {
        let directory = try TemporaryDirectory()
        let environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": "healthcheck-secret-0123456789"]
        let service = try ServiceProcess(name: "knowledge", environment: environment)
        func probe() throws -> (Int32, String) {
            let run = try ChildProcess.run(BuildProducts.executable("knowledge").path, ["healthcheck", "--port", String(service.port)],
                                           environment: environment, error: .null)
            return (run.status, run.outputText)
        }
        let (serving, text) = try probe()
        #expect(serving == 0, "\(text)")
        #expect(text.contains("SERVING"))
        #expect(service.stop() == 0)
        let (gone, _) = try probe()
        #expect(gone == 1)
    }
}
