import Foundation
import RPCTransport
import ServiceKit
import Testing
import TestSupport

@Suite("Service configuration")
struct ConfigurationTests {
    @Test("the instance name defaults to host name and port, is stable across restarts and can be set; port 0 gets a random one")
    func instanceID() throws {
        let first = try ServiceConfiguration(serviceName: "intake", arguments: ["intake", "--port", "7201"], environment: [:])
        let again = try ServiceConfiguration(serviceName: "intake", arguments: ["intake", "--port", "7201"], environment: [:])
        #expect(first.instanceID == "\(ProcessInfo.processInfo.hostName):7201")
        #expect(again.instanceID == first.instanceID, "a restarted instance has the same name")
        let fromEnvironment = try ServiceConfiguration(serviceName: "intake", arguments: ["intake"],
                                                       environment: ["OCORRENCIAS_INSTANCE_ID": "intake-a"])
        #expect(fromEnvironment.instanceID == "intake-a")
        let fromFlag = try ServiceConfiguration(serviceName: "intake", arguments: ["intake", "--instance-id", "intake-b"],
                                                environment: ["OCORRENCIAS_INSTANCE_ID": "intake-a"])
        #expect(fromFlag.instanceID == "intake-b")
        let systemPortA = try ServiceConfiguration(serviceName: "intake", arguments: ["intake", "--port", "0"], environment: [:])
        let systemPortB = try ServiceConfiguration(serviceName: "intake", arguments: ["intake", "--port", "0"], environment: [:])
        #expect(systemPortA.instanceID != systemPortB.instanceID)
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration(serviceName: "intake", arguments: ["intake", "--instance-id", ""], environment: [:])
        }
    }

    @Test("an unknown flag is named as unknown wherever it stands (last, with a value, with =); a known one without its value needs a value")
    func unknownFlags() throws {
        func message(_ arguments: [String]) -> String {
            do {
                _ = try ServiceConfiguration(serviceName: "intake", arguments: ["intake"] + arguments, environment: [:])
                return ""
            } catch {
                return "\(error)"
            }
        }
        for arguments in [["--bogus"], ["--bogus", "x"], ["--bogus=x"], ["--port", "7201", "--verbose"]] {
            let text = message(arguments)
            #expect(text.hasPrefix("unknown flag --") && text.contains("intake --help"), "\(arguments): \(text)")
        }
        #expect(message(["--port"]) == "--port needs a value")
    }

    @Test("a malformed number or switch in the environment is refused, naming the variable, its value and what it takes; unset and empty mean the default")
    func environmentSettings() throws {
        let settings = EnvironmentSettings(["PORT": "8081", "EMPTY": "", "TYPO": "80a", "BIG": "70000", "ON": "Yes", "OFF": "0", "BAD": "ture"])
        #expect(try settings.integer("PORT", in: 0...65_535) == 8081)
        #expect(try settings.integer("EMPTY", in: 0...65_535) == nil && settings.integer("UNSET", in: 0...1) == nil)
        for name in ["TYPO", "BIG"] {
            let error = #expect(throws: ConfigurationError.self) { try settings.integer(name, in: 0...65_535) }
            let text = error?.description ?? ""
            #expect(text.contains(name) && text.contains("inválido / invalid") && text.contains("0 a / to 65535"), "\(text)")
        }
        #expect(try settings.flag("ON") == true && settings.flag("OFF") == false && settings.flag("UNSET") == nil)
        let error = #expect(throws: ConfigurationError.self) { try settings.flag("BAD") }
        #expect(error?.description.contains("BAD inválido / invalid: 'ture'") == true)
    }

    @Test("the RPC limits and the database's numeric settings, read below ServiceKit, are checked too: a typo stops the start")
    func lowerLevelNumbers() throws {
        func refusal(_ environment: [String: String]) -> String {
            do {
                _ = try ServiceConfiguration(serviceName: "intake", arguments: ["intake"], environment: environment)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(["OCORRENCIAS_RPC_MAX_FRAME_BYTES": "4194304", "INTAKE_DATABASE_POOL_SIZE": "8"]).isEmpty)
        #expect(refusal(["OCORRENCIAS_RPC_MAX_FRAME_BYTES": "4MB"]).contains("OCORRENCIAS_RPC_MAX_FRAME_BYTES"))
        #expect(refusal(["OCORRENCIAS_RPC_DEFAULT_TIMEOUT_MS": "0"]).contains("OCORRENCIAS_RPC_DEFAULT_TIMEOUT_MS"))
        #expect(refusal(["INTAKE_DATABASE_POOL_SIZE": "many"]).contains("INTAKE_DATABASE_POOL_SIZE"))
        #expect(refusal(["INTAKE_SQLITE_CHECKPOINT_PAGES": "-1"]).contains("INTAKE_SQLITE_CHECKPOINT_PAGES"))
        #expect(refusal(["INTAKE_MIGRATION_LOCK_WAIT_SECONDS": "0", "OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS": "900"]).isEmpty)
        #expect(refusal(["INTAKE_MIGRATION_LOCK_WAIT_SECONDS": "10m"]).contains("INTAKE_MIGRATION_LOCK_WAIT_SECONDS inválido / invalid: '10m'"))
        #expect(refusal(["OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS": "-5"]).contains("OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS"))
        // The relay's round interval used to fall back to 10 ms on a typo, silently.
        #expect(refusal(["OCORRENCIAS_RELAY_ROUND_MS": "0"]).isEmpty)
        #expect(refusal(["OCORRENCIAS_RELAY_ROUND_MS": "10ms"]).contains("OCORRENCIAS_RELAY_ROUND_MS inválido / invalid: '10ms'"))
        // Another service's variables are that service's business.
        #expect(refusal(["WORKFLOW_DATABASE_POOL_SIZE": "many"]).isEmpty)
        // Where the other services are: every item a host:port.
        #expect(refusal(["WORKFLOW_ADDRESSES": "workflow:7102, 10.0.0.2:7102", "GATEWAY_ADDRESSES": ":7100"]).isEmpty)
        #expect(refusal(["WORKFLOW_ADDRESSES": "workflow"]).contains("WORKFLOW_ADDRESSES inválido / invalid: 'workflow'"))
        #expect(refusal(["KNOWLEDGE_ADDRESSES": "knowledge:7104,knowledge2"]).contains("'knowledge2'"))
        #expect(refusal(["INTAKE_ADDRESSES": ","]).contains("INTAKE_ADDRESSES"))
    }

    @Test("a data directory where the generated secret cannot be written says so, not 'cannot read OCORRENCIAS_SECRET_FILE'")
    func unwritableSecret() throws {
        let directory = try TemporaryDirectory()
        // The secret's temporary file cannot be created (a directory holds its name): as in a
        // read-only or full data directory, which root's tests cannot make with permissions.
        try FileManager.default.createDirectory(atPath: directory.path + "/secret.\(getpid())", withIntermediateDirectories: false)
        let configuration = try ServiceConfiguration(serviceName: "intake", arguments: ["intake"], environment: ["OCORRENCIAS_DATA_DIR": directory.path])
        let error = #expect(throws: ConfigurationError.self) { try configuration.deploymentSecret() }
        let text = error?.description ?? ""
        #expect(text.contains("cannot write the generated deployment secret to \(directory.path)/secret") && !text.contains("SECRET_FILE"), "\(text)")
    }

    @Test("the deployment secret given both as text (OCORRENCIAS_SECRET) and as a file (OCORRENCIAS_SECRET_FILE) is refused naming both, before anything starts; either alone, or the other empty, is fine")
    func secretFromTwoPlaces() throws {
        let directory = try TemporaryDirectory()
        let file = directory.file("secret")
        _ = FileManager.default.createFile(atPath: file, contents: Data("secret-from-the-file-0123456789\n".utf8))
        let text = "secret-as-text-0123456789"
        let both = ["OCORRENCIAS_SECRET": text, "OCORRENCIAS_SECRET_FILE": file]
        for service in ["intake", "workflow", "notification", "knowledge", "gateway"] {
            let error = #expect(throws: ConfigurationError.self) {
                try ServiceConfiguration(serviceName: service, arguments: [service], environment: both)
            }
            let message = error?.description ?? ""
            #expect(message.contains("OCORRENCIAS_SECRET e OCORRENCIAS_SECRET_FILE estão ambas definidas")
                    && message.contains("are both set; use only one"), "\(service): \(message)")
        }
        #expect(throws: DeploymentSecret.SecretError.self) { try DeploymentSecret.fromEnvironment(both) }
        let fromText = try ServiceConfiguration(serviceName: "intake", arguments: ["intake"],
                                                environment: ["OCORRENCIAS_SECRET": text, "OCORRENCIAS_SECRET_FILE": ""])
        #expect(try fromText.deploymentSecret() == DeploymentSecret(bytes: Array(text.utf8)))
        let fromFile = try ServiceConfiguration(serviceName: "intake", arguments: ["intake"],
                                                environment: ["OCORRENCIAS_SECRET": "", "OCORRENCIAS_SECRET_FILE": file])
        #expect(try fromFile.deploymentSecret() == DeploymentSecret(bytes: Array("secret-from-the-file-0123456789".utf8)))
    }
}
