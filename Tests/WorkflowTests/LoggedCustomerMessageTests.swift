import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// A customer message the team logs (`LogCustomerMessage`: a voicemail, a call) is the customer
/// getting back, as a reply through intake is: in Aguardando cliente it takes the ticket back to
/// Em atendimento and stops the inactivity countdown (before, the ticket stayed waiting and was
/// closed "sem retorno do cliente" although the customer had called), and the SLA owes the
/// customer a response. Real service, simulated clock, both engines.
@Suite("Workflow: a logged customer message counts as the customer's reply")
struct LoggedCustomerMessageTests {
    static let ana = WorkflowHarness.agent("ana")

    @Test("a voicemail logged while the ticket waits on the customer brings it back and stops the countdown", arguments: TestEngines.all)
    func voicemailWhileWaiting(engine: DatabaseEngine) throws {
        let late = LateReplyTests()
        let clock = ManualClock(LateReplyTests.start)
        let harness = try late.harness(engine, clock: clock)
        try late.openAndAsk(harness, "t1", clock: clock)
        clock.set(LateReplyTests.start + 2_000)
        var voicemail = WorkflowV1.LogCustomerMessageRequest()
        voicemail.ticketID = "t1"
        voicemail.kind = "voicemail"
        voicemail.text = "Cliente ligou: o XML foi enviado por e-mail ao financeiro."
        let view = try harness.call(WorkflowV1.Workflow.logCustomerMessage, voicemail, as: WorkflowHarness.agent("bruno"))
        #expect(view.row?.stage == "em_atendimento" && view.row?.unreadMessages == 1, "\(String(describing: view.row))")
        let line = try #require(try harness.history("t1").last { $0.kind == "stage" })
        #expect(line.oldValue == "aguardando_cliente" && line.newValue == "em_atendimento" && line.actorID == "contact-org-1")
        let countdown = try harness.database.read { tx in
            try tx.query("SELECT id FROM wf_timers WHERE ticket_id = 't1' AND state = 'pending' AND kind LIKE 'inactivity.%'")
        }
        #expect(countdown.isEmpty, "the customer got back: no close by inactivity")
        // Past the old deadline the ticket is still open.
        clock.set(LateReplyTests.start + 11_000)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try harness.ticket("t1").row?.stage == "em_atendimento")
        let next = try late.target(harness, "t1", .nextResponse)
        #expect(next?.cycle == 1, "a response is owed to the customer: \(String(describing: next))")
    }

    @Test("an empty logged message is refused and changes nothing (before: stored, counted unread, the waiting ticket taken back)", arguments: TestEngines.all)
    func emptyMessageRefused(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        try harness.move("t1", to: "aguardando_cliente", publicNote: "Qual a versão?", as: Self.ana)
        var voicemail = WorkflowV1.LogCustomerMessageRequest()
        voicemail.ticketID = "t1"
        voicemail.text = "  \n "
        let refused = harness.failure(WorkflowV1.Workflow.logCustomerMessage, voicemail, as: Self.ana)
        #expect(refused?.code == .invalidArgument && refused?.violations.first?.field == "text", "\(String(describing: refused))")
        let view = try harness.ticket("t1")
        #expect(view.row?.stage == "aguardando_cliente" && view.row?.unreadMessages == 0)
        #expect(!view.discussion.contains { $0.kind == "voicemail" })
    }
}
