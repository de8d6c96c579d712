import Foundation
import Testing
import TestSupport

/// No Docker engine runs where the tests do, so docker-compose.yml is checked against the code by
/// `scripts/check-compose`; these tests pin that it passes and that it catches a mistake.
@Suite("docker-compose.yml matches the code")
struct ComposeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func check(_ file: String) throws -> (status: Int32, output: String) {
        let run = try ChildProcess.run("/usr/bin/python3", [Self.root.appendingPathComponent("scripts/check-compose").path, file],
                                       error: .standardOutput)
        return (run.status, run.outputText)
    }

    @Test("every service, health check, variable and database in the compose file exists in the code")
    func composeIsConsistent() throws {
        let result = try check(Self.root.appendingPathComponent("docker-compose.yml").path)
        #expect(result.status == 0, "\(result.output)")
    }

    @Test("a misspelt variable or a missing health check is reported")
    func mistakesAreCaught() throws {
        let original = try String(contentsOf: Self.root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        let broken = original
            .replacingOccurrences(of: "INTAKE_DATABASE_URL:", with: "INTAKE_DATABSE_URL:")
            .replacingOccurrences(of: "[\"CMD\", \"knowledge\", \"healthcheck\"]", with: "[\"CMD\", \"true\"]")
            .replacingOccurrences(of: "pg_isready -h 127.0.0.1 -U", with: "pg_isready -U")
        let directory = try TemporaryDirectory()
        let path = directory.path + "/docker-compose.yml"
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try check(path)
        #expect(result.status == 1)
        #expect(result.output.contains("INTAKE_DATABSE_URL is read by no code"))
        #expect(result.output.contains("service knowledge: health check"))
        // Over the Unix socket PostgreSQL says "ready" while its first start still initialises.
        #expect(result.output.contains("service postgres: health check should ask over TCP"))
    }
}
