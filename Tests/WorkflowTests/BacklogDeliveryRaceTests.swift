import Foundation
import Messages
import Storage
import Testing
import TestSupport
import WorkflowCore

extension BacklogStepsExportTests {
    /// A version delivered while one of its tickets is cancelled in another transaction: the
    /// delivery lists its tickets, then locks each, and one that moved on while its lock waited
    /// (PostgreSQL) is left cancelled; the others are finished and the delivery succeeds. It
    /// failed before with FAILED_PRECONDITION (no move from `cancelado` to `finalizado`).
    @Test(arguments: TestEngines.all)
    func deliveryRacingACancel(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        var version = WorkflowV1.PutVersionRequest()
        version.version = WorkflowV1.Version()
        version.version?.id = "2027.01"
        version.version?.name = "12.1.2501"
        version.version?.targetDateMs = 1_798_000_000_000
        _ = try harness.call(WorkflowV1.Workflow.putVersion, version, as: Self.pm)
        for id in ["kept", "cancelled"] {
            try harness.deliver(WorkflowHarness.opened(id, category: .problema), key: id)
            try harness.take(id, as: WorkflowHarness.admin())
            try harness.move(id, to: "diagnostico_tecnico", as: WorkflowHarness.admin())
            try harness.move(id, to: "para_desenvolver", as: WorkflowHarness.admin())
            var plan = WorkflowV1.PlanTicketRequest()
            plan.ticketID = id
            plan.versionID = "2027.01"
            _ = try harness.call(WorkflowV1.Workflow.planTicket, plan, as: Self.pm)
        }
        // The cancel's transaction holds the ticket's row while the delivery starts.
        let cancelling = DispatchSemaphore(value: 0)
        let database = harness.database
        var deliver = WorkflowV1.DeliverVersionRequest()
        deliver.versionID = "2027.01"
        var delivered: WorkflowV1.DeliverVersionResponse?
        var failure: (any Error)?
        let thread = Thread {
            do {
                try database.write { tx in
                    try tx.execute("UPDATE tickets SET stage = 'cancelado' WHERE id = ?", [.text("cancelled")])
                    cancelling.signal()
                    Thread.sleep(forTimeInterval: 0.5)
                }
            } catch {
                cancelling.signal()
            }
        }
        thread.start()
        cancelling.wait()
        do { delivered = try harness.call(WorkflowV1.Workflow.deliverVersion, deliver, as: Self.pm) } catch { failure = error }
        #expect(failure == nil, "\(String(describing: failure))")
        #expect(delivered?.finishedTicketIDs == ["kept"])
        #expect(try harness.ticket("kept").row?.stage == "finalizado" && harness.ticket("cancelled").row?.stage == "cancelado")
    }
}
