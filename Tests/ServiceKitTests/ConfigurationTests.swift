import Foundation
import ServiceKit
import Testing

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
}
