import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// A customer reply in a stage whose flow has no reply move (a vendor's edit) stops that stage's
/// inactivity countdown; the agent's next **public** reply there asks the customer again and
/// starts the countdown again, from that reply (before, it stayed stopped for good and the ticket
/// never closed by inactivity). An internal note starts nothing, nor does a public reply while
/// the countdown runs. Real service, simulated clock, the timer thread with one-second "days".
@Suite("Workflow: the agent's next public reply restarts an inactivity countdown the customer stopped")
struct InactivityRestartTests {
    static let ana = WorkflowHarness.agent("ana")
    static let start = LateReplyTests.start

    func pendingCountdown(_ harness: WorkflowHarness, _ id: String) throws -> [Int64] {
        try harness.database.read { tx in
            try tx.query("SELECT due_at FROM wf_timers WHERE ticket_id = ? AND state = 'pending' AND kind = 'inactivity.action'", [.text(id)])
        }.map { try $0.int("due_at") }
    }

    func entry(_ id: String, _ text: String, isPublic: Bool) -> WorkflowV1.AddDiscussionRequest {
        var request = WorkflowV1.AddDiscussionRequest()
        request.ticketID = id
        request.text = text
        request.isPublic = isPublic
        return request
    }

    @Test("reply in a stage without a reply move, then the agent asks again: the countdown restarts and closes the ticket",
          arguments: TestEngines.all)
    func agentReplyRestartsTheCountdown(engine: DatabaseEngine) throws {
        let late = LateReplyTests()
        let clock = ManualClock(Self.start)
        let (harness, data) = try late.vendorFlow(engine, clock: clock,
                                                  "DELETE FROM flow_transitions WHERE flow = 'padrao' AND from_stage = 'aguardando_cliente' AND trigger_kind = 'customer_reply'")
        defer { withExtendedLifetime(data) {} }
        try late.openAndAsk(harness, "t1", clock: clock)
        #expect(try pendingCountdown(harness, "t1") == [Self.start + 10_000])

        // The customer answers at +2 s: the countdown stops, the ticket stays in Aguardando cliente.
        clock.set(Self.start + 2_000)
        try harness.deliver(LateReplyTests.reply("t1", writtenAt: Self.start + 2_000), key: "t1")
        #expect(try harness.ticket("t1").row?.stage == "aguardando_cliente")
        #expect(try pendingCountdown(harness, "t1").isEmpty)
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "t1"
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)

        // An internal note is no question to the customer: nothing restarts.
        clock.set(Self.start + 3_000)
        _ = try harness.call(WorkflowV1.Workflow.addDiscussion, entry("t1", "Cliente mandou o XML errado.", isPublic: false), as: Self.ana)
        #expect(try pendingCountdown(harness, "t1").isEmpty)

        // The agent asks again at +4 s: the countdown runs from there (10 "days" = 10 s).
        clock.set(Self.start + 4_000)
        _ = try harness.call(WorkflowV1.Workflow.addDiscussion, entry("t1", "O XML enviado é de outra nota; envie o da 539.", isPublic: true),
                             as: Self.ana)
        #expect(try pendingCountdown(harness, "t1") == [Self.start + 14_000])
        // A second public reply while it runs does not push the deadline.
        clock.set(Self.start + 5_000)
        _ = try harness.call(WorkflowV1.Workflow.addDiscussion, entry("t1", "Fico no aguardo.", isPublic: true), as: Self.ana)
        #expect(try pendingCountdown(harness, "t1") == [Self.start + 14_000])

        clock.set(Self.start + 13_000)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try harness.ticket("t1").row?.stage == "aguardando_cliente", "not before its deadline")
        try late.close(harness, "t1", at: Self.start + 14_000, clock: clock)
        #expect(try harness.ticket("t1").outcome == "inatividade")
    }

    @Test("the padrao flow (with its reply move) is unchanged: the reply takes the ticket back, no countdown in Em atendimento",
          arguments: TestEngines.all)
    func withAReplyMoveNothingChanges(engine: DatabaseEngine) throws {
        let late = LateReplyTests()
        let clock = ManualClock(Self.start)
        let harness = try late.harness(engine, clock: clock)
        try late.openAndAsk(harness, "t1", clock: clock)
        clock.set(Self.start + 2_000)
        try harness.deliver(LateReplyTests.reply("t1", writtenAt: Self.start + 2_000), key: "t1")
        #expect(try harness.ticket("t1").row?.stage == "em_atendimento")
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "t1"
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
        clock.set(Self.start + 3_000)
        _ = try harness.call(WorkflowV1.Workflow.addDiscussion, entry("t1", "Recebido, obrigado.", isPublic: true), as: Self.ana)
        #expect(try pendingCountdown(harness, "t1").isEmpty)
    }
}
