import Foundation
import Testing
import TestSupport

/// Runs `scripts/resilience` in its reduced form against the executables of this build.
@Suite("Production: resilience under kill -9", .serialized)
struct ProductionResilienceTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/resilience").standardized.path

    struct Summary: Decodable {
        var tickets: Int
        var finished: Int
        var kills: Int
        var lost: Int
        var duplicated: Int
        var resends: Int
        var wrong_stage: Int
        var missing: Int
        var ok: Bool
    }

    struct Result: Decodable {
        var summary: Summary
    }

    @Test("20 s of load on SQLite with a random service killed every 5 s: every acknowledged ticket at its stage, no e-mail lost or duplicated")
    func reducedRun() throws {
        let run = try ChildProcess.run("/usr/bin/python3", [
            Self.script, "20", "--rate", "3", "--kill-every", "5", "--bin-dir", BuildProducts.directory.path, "--json",
        ])
        let text = run.outputText, errorText = run.errorText
        let line = try #require(text.split(separator: "\n").last.map(String.init), "no output; stderr:\n\(errorText)")
        let result = try JSONDecoder().decode(Result.self, from: Data(line.utf8))
        let summary = result.summary
        #expect(summary.kills >= 3)
        #expect(summary.tickets >= 30, "load was not held: \(line)")
        #expect(summary.finished >= summary.tickets * 9 / 10, "\(line)")
        #expect(summary.lost == 0 && summary.duplicated == 0, "\(line)")
        #expect(summary.wrong_stage == 0 && summary.missing == 0, "\(line)")
        #expect(summary.ok, "\(line)")
        #expect(run.status == 0)
    }
}
