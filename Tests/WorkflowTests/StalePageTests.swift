import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// A change asked from a page that showed the ticket otherwise (`TicketExpectation`: its stage and
/// holder) is refused with FAILED_PRECONDITION naming the ticket as it is now, even when the
/// change would still be allowed in the new state; without one the change is judged on the ticket
/// as it is. A caller who passed the ticket on is told they no longer hold it (FAILED_PRECONDITION),
/// not that they lack a permission.
@Suite("Workflow: changes from a stale page")
struct StalePageTests {
    static let ana = WorkflowHarness.agent("ana")
    static let bruno = WorkflowHarness.agent("bruno")
    static let chefe = WorkflowHarness.agent("chefe")

    static func expected(_ stage: String, agent: String, group: String = "n1") -> WorkflowV1.TicketExpectation {
        var expected = WorkflowV1.TicketExpectation()
        expected.stage = stage
        expected.agentID = agent
        expected.groupID = group
        return expected
    }

    /// t1 opened in n1 and taken by ana: Em atendimento, held by ana in n1.
    func takenByAna(_ engine: DatabaseEngine) throws -> WorkflowHarness {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        return harness
    }

    @Test("a chefe's repasse from a page showing ana as holder, sent after ana's own repasse to bruno, is refused and names bruno; without the expectation it is applied",
          arguments: TestEngines.all)
    func chefesRepasseAfterTheHolders(engine: DatabaseEngine) throws {
        let harness = try takenByAna(engine)
        let page = Self.expected("em_atendimento", agent: "ana")
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.ana)
        var stale = HandoffTests.transfer("t1", group: "n1", note: "Para a fila")
        stale.expected = page
        let refused = harness.failure(WorkflowV1.Workflow.transferTicket, stale, as: Self.chefe)
        #expect(refused?.code == .failedPrecondition, "\(String(describing: refused))")
        #expect(refused?.violations.first?.field == "expected" && refused?.violations.first?.reason == "stale",
                "\(String(describing: refused?.violations))")
        #expect(refused?.message.contains("agente Bruno") == true && refused?.message.contains("recarregue") == true
                && refused?.message.contains("reload") == true, "\(refused?.message ?? "")")
        #expect(try harness.ticket("t1").row?.holder?.agentID == "bruno")
        #expect(try harness.published(WorkflowV1.Transferred.self, ticket: "t1").count == 1)
        // From a page drawn again (bruno holding it), the same repasse goes.
        stale.expected = Self.expected("em_atendimento", agent: "bruno")
        #expect(try harness.call(WorkflowV1.Workflow.transferTicket, stale, as: Self.chefe).row?.holder?.agentID == "")
        // Without an expectation (an integration), today's behaviour: judged on the ticket as it is.
        #expect(try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "ana"), as: Self.chefe)
            .row?.holder?.agentID == "ana")
    }

    @Test("a chefe's concluir chosen in Em atendimento is refused once the ticket is in Diagnóstico técnico (where concluir is also allowed), naming the stage",
          arguments: TestEngines.all)
    func concludeFromAnotherStage(engine: DatabaseEngine) throws {
        let harness = try takenByAna(engine)
        try harness.move("t1", to: "diagnostico_tecnico", as: Self.ana)
        var move = WorkflowV1.MoveTicketRequest()
        move.ticketID = "t1"
        move.toStage = "finalizado"
        move.publicNote = "Resolvido."
        move.expected = Self.expected("em_atendimento", agent: "ana")
        let refused = harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.chefe)
        #expect(refused?.code == .failedPrecondition && refused?.violations.first?.reason == "stale", "\(String(describing: refused))")
        #expect(refused?.message.contains("Diagnóstico técnico") == true && refused?.message.contains("diagnostico_tecnico") == true,
                "\(refused?.message ?? "")")
        #expect(try harness.ticket("t1").row?.stage == "diagnostico_tecnico")
        #expect(try harness.published(WorkflowV1.TicketFinished.self, ticket: "t1").isEmpty)
        // The page as it is: applied.
        move.expected = Self.expected("diagnostico_tecnico", agent: "ana")
        #expect(try harness.call(WorkflowV1.Workflow.moveTicket, move, as: Self.chefe).row?.stage == "finalizado")
    }

    @Test("an expectation with no stage is INVALID_ARGUMENT on expected.stage; status, schedule and devolver from a stale page are refused too",
          arguments: TestEngines.all)
    func otherChangesAndBadExpectations(engine: DatabaseEngine) throws {
        let harness = try takenByAna(engine)
        var move = WorkflowV1.MoveTicketRequest()
        move.ticketID = "t1"
        move.toStage = "diagnostico_tecnico"
        move.expected = WorkflowV1.TicketExpectation()
        let invalid = harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.ana)
        #expect(invalid?.code == .invalidArgument && invalid?.violations.first?.field == "expected.stage", "\(String(describing: invalid))")

        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.ana)
        // Bruno's page was drawn while the ticket waited in n1's queue (nobody holding it).
        let queued = Self.expected("em_atendimento", agent: "")
        var status = WorkflowV1.SetStageStatusRequest()
        status.ticketID = "t1"
        status.status = "pendente"
        status.expected = queued
        var schedule = WorkflowV1.ScheduleTicketRequest()
        schedule.ticketID = "t1"
        schedule.scheduledForMs = 1_900_000_000_000
        schedule.expected = queued
        var back = SendBackTests.sendBack("t1")
        back.expected = queued
        for refused in [harness.failure(WorkflowV1.Workflow.setStageStatus, status, as: Self.bruno),
                        harness.failure(WorkflowV1.Workflow.scheduleTicket, schedule, as: Self.bruno),
                        harness.failure(WorkflowV1.Workflow.sendBack, back, as: Self.bruno)] {
            #expect(refused?.code == .failedPrecondition && refused?.violations.first?.reason == "stale", "\(String(describing: refused))")
        }
        let row = try harness.ticket("t1").row
        #expect(row?.holder?.agentID == "bruno" && row?.status == nil, "\(String(describing: row))")
        // As shown now: devolver goes back to ana.
        back.expected = Self.expected("em_atendimento", agent: "bruno")
        #expect(try harness.call(WorkflowV1.Workflow.sendBack, back, as: Self.bruno).row?.holder?.agentID == "ana")
    }

    @Test("an agent who passed the ticket on is told they no longer hold it (FAILED_PRECONDITION), with or without the page's expectation; a colleague who never held it still gets PERMISSION_DENIED",
          arguments: TestEngines.all)
    func noLongerTheHolder(engine: DatabaseEngine) throws {
        let harness = try takenByAna(engine)
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.ana)
        var move = WorkflowV1.MoveTicketRequest()
        move.ticketID = "t1"
        move.toStage = "diagnostico_tecnico"
        move.expected = Self.expected("em_atendimento", agent: "ana")
        let fromPage = harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.ana)
        #expect(fromPage?.code == .failedPrecondition && fromPage?.violations.first?.reason == "no_longer_holder"
                && fromPage?.violations.first?.field == "expected", "\(String(describing: fromPage))")
        #expect(fromPage?.message.contains("não é mais o responsável") == true && fromPage?.message.contains("no longer hold") == true,
                "\(fromPage?.message ?? "")")
        move.expected = nil
        let unasked = harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.ana)
        #expect(unasked?.code == .failedPrecondition && unasked?.violations.first?.reason == "no_longer_holder"
                && unasked?.violations.first?.field == "ticket_id", "\(String(describing: unasked))")
        #expect(harness.failure(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", group: "n1"), as: Self.ana)?
            .violations.first?.reason == "no_longer_holder")
        // t2 was never ana's: held by bruno, she may not act on it (a permission, not a stale page).
        try harness.deliver(WorkflowHarness.opened("t2"), key: "t2")
        try harness.take("t2", as: Self.bruno)
        move.ticketID = "t2"
        #expect(harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.ana)?.code == .permissionDenied)
        #expect(try harness.ticket("t1").row?.stage == "em_atendimento")
    }
}
