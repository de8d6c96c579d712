import Foundation
import Messages
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// `WORKFLOW_GATHER_MS`: concurrent event deliveries may wait for each other and share one
/// transaction (off by default; docs/WORKFLOW.md, "Configuration").
@Suite("Workflow: the event deliveries' gather window")
struct GatherWindowTests {
    @Test("off unless set to 1–1000 ms; anything else stops the start, naming the variable")
    func setting() throws {
        #expect(try WorkflowService.gatherWindow([:]) == 0)
        #expect(try WorkflowService.gatherWindow(["WORKFLOW_GATHER_MS": "0"]) == 0)
        #expect(try WorkflowService.gatherWindow(["WORKFLOW_GATHER_MS": "5"]) == 0.005)
        #expect(try WorkflowService.gatherWindow(["WORKFLOW_GATHER_MS": "1000"]) == 1)
        for bad in ["1001", "-3", "5ms"] {
            let error = #expect(throws: ConfigurationError.self) { try WorkflowService.gatherWindow(["WORKFLOW_GATHER_MS": bad]) }
            #expect(error?.description.contains("WORKFLOW_GATHER_MS") == true && error?.description.contains(bad) == true)
        }
    }

    @Test("with a window, concurrent deliveries of openings are all applied once", arguments: TestEngines.all)
    func concurrentDeliveries(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine, environment: ["WORKFLOW_GATHER_MS": "20"])
        try harness.seedDirectory()
        let calls = 4, perCall = 3
        final class Failures: @unchecked Sendable {
            let lock = NSLock()
            var lines: [String] = []
            func add(_ line: String) { lock.withLock { lines.append(line) } }
        }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: calls) { call in
            let envelopes = (0..<perCall).map { index -> EventsV1.EventEnvelope in
                let id = "GW\(call)-\(index)"
                return WorkflowHarness.envelope(WorkflowHarness.opened(id, openedAt: 1_922_352_800_000), key: id)
            }
            do {
                let response = try harness.deliver(envelopes)
                if response.accepted != perCall { failures.add("call \(call): \(response)") }
            } catch {
                failures.add("call \(call): \(error)")
            }
        }
        #expect(failures.lines.isEmpty)
        let count = try harness.database.read { tx in try tx.queryOne("SELECT COUNT(*) AS n FROM tickets WHERE id LIKE 'GW%'")?.int("n") }
        #expect(count == Int64(calls * perCall))
        // Each ticket published its TicketRouted once.
        let routed = try harness.published(WorkflowV1.TicketRouted.self).filter { $0.1.key.hasPrefix("GW") }
        #expect(routed.count == calls * perCall && Set(routed.map(\.1.key)).count == calls * perCall)
    }
}
