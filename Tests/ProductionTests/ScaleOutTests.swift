import Foundation
import LoadDriverKit
import Storage
import Synchronization
import Testing
import TestSupport

@Suite("Production: two instances of workflow and of notification on one PostgreSQL database each", .serialized)
struct ScaleOutTests {
    @Test("calls and event deliveries spread over both instances; nothing delivered twice or skipped; losing one instance of each keeps the system working")
    func twoInstances() throws {
        guard PostgresTestServer.isEnabled else { return }
        let cluster = try Cluster(engine: .postgres, instances: ["workflow": 2, "notification": 2])
        defer { cluster.stop() }
        let callers = Callers(cluster.deployment)
        defer { callers.close() }
        let cast = try Cast.setUp(callers, tag: "S")
        var journey = Journey(callers: callers, cast: cast)
        journey.stepTimeout = 45
        let run = LoadRun(journey: journey, rate: 4, seconds: 10, maxInFlight: 100, tag: "S")
        let outcome = Mutex<(RunState, RunFigures)?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            let result = run.run()
            outcome.withLock { $0 = result }
            finished.signal()
        }
        thread.start()
        // Half-way, one instance of each scaled service dies for good.
        Thread.sleep(forTimeInterval: 5)
        let workflowCallsBefore = (0..<2).map { cluster.log("workflow", $0).components(separatedBy: "ocorrencias.workflow.v1.Workflow/").count - 1 }
        let deliveriesBefore = (0..<2).map { cluster.log("notification", $0).components(separatedBy: "EventSink/Deliver").count - 1 }
        cluster.kill("workflow", 1)
        cluster.kill("notification", 1)
        #expect(finished.wait(timeout: .now() + 180) == .success)
        let (state, figures) = try #require(outcome.withLock { $0 })

        #expect(workflowCallsBefore.allSatisfy { $0 > 0 }, "workflow calls per instance: \(workflowCallsBefore)")
        #expect(deliveriesBefore.allSatisfy { $0 > 0 }, "event deliveries per notification instance: \(deliveriesBefore)")
        #expect(figures.opened >= 30, "\(figures)")
        #expect(state.records.allSatisfy { $0.step == .finished }, "\(state.records.filter { $0.step != .finished })")

        let report = Verifier(callers: callers, cast: cast, databases: cluster.databases, mailDirectory: cluster.sink.directory)
            .verify(state.records)
        #expect(report.ok, "\(report)")
        #expect(report.lost == 0 && report.duplicated == 0, "\(report)")
        #expect(report.expectedMails == state.records.count * 4)
    }
}
