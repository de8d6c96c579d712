import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// Devolver (`SendBack`) returns a ticket to whoever passed it on: the repasse it undoes is the
/// latest one still standing (a devolver undoes one; a second undoes the one before), and a
/// repasse to a group's queue counts for the agent who took it from there. It never changes a
/// finished ticket, nor hands one to an agent who may no longer hold it.
@Suite("Workflow: devolver walks back the repasses")
struct SendBackTests {
    static let ana = WorkflowHarness.agent("ana")
    static let bruno = WorkflowHarness.agent("bruno")
    static let chefe = WorkflowHarness.agent("chefe")

    static func sendBack(_ id: String, _ justification: String = "Não é da minha área") -> WorkflowV1.SendBackRequest {
        var request = WorkflowV1.SendBackRequest()
        request.ticketID = id
        request.justification = justification
        return request
    }

    /// A ticket opened in n1 and taken by ana.
    func takenByAna(_ engine: DatabaseEngine, _ id: String = "t1") throws -> WorkflowHarness {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened(id), key: id)
        try harness.take(id, as: Self.ana)
        return harness
    }

    @Test("a repasse to a group's queue, taken there by another agent, is sent back to the agent who passed it on",
          arguments: TestEngines.all)
    func sentBackAfterATakeFromTheGroupQueue(engine: DatabaseEngine) throws {
        let harness = try takenByAna(engine)
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", group: "n1", note: "Para o grupo"), as: Self.ana)
        try harness.take("t1", as: Self.bruno)
        // Before: "não há responsável anterior" (the repasse reached the group, not bruno).
        let view = try harness.call(WorkflowV1.Workflow.sendBack, Self.sendBack("t1"), as: Self.bruno)
        #expect(view.row?.holder?.agentID == "ana" && view.row?.holder?.groupID == "n1", "\(String(describing: view.row?.holder))")
        let holders = try harness.history("t1").filter { $0.kind == "holder" }.map(\.note)
        #expect(holders == ["take", "transfer: Para o grupo", "take", "devolvida: Não é da minha área"], "\(holders)")
    }

    @Test("a second devolver returns the ticket to the one before, not back to whoever just devolved it", arguments: TestEngines.all)
    func secondSendBackWalksBackTheChain(engine: DatabaseEngine) throws {
        let harness = try takenByAna(engine)
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.ana)
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "chefe"), as: Self.bruno)
        var view = try harness.call(WorkflowV1.Workflow.sendBack, Self.sendBack("t1"), as: Self.chefe)
        #expect(view.row?.holder?.agentID == "bruno")
        // Before: back to chefe, who had just refused it (the send-back was "the last transfer to bruno").
        view = try harness.call(WorkflowV1.Workflow.sendBack, Self.sendBack("t1", "Também não é meu"), as: Self.bruno)
        #expect(view.row?.holder?.agentID == "ana", "\(String(describing: view.row?.holder))")
        // Nothing left to undo: ana received it from nobody.
        let none = harness.failure(WorkflowV1.Workflow.sendBack, Self.sendBack("t1"), as: Self.ana)
        #expect(none?.code == .failedPrecondition, "\(String(describing: none))")
        let transferred = try harness.published(WorkflowV1.Transferred.self, ticket: "t1").map(\.0)
        #expect(transferred.map(\.sentBack) == [false, false, true, true])
        #expect(transferred.map { $0.to?.agentID ?? "" } == ["bruno", "chefe", "bruno", "ana"])
    }

    @Test("a finished ticket is not sent back: FAILED_PRECONDITION and its holder kept", arguments: TestEngines.all)
    func finishedTicketIsNotSentBack(engine: DatabaseEngine) throws {
        let harness = try takenByAna(engine)
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.ana)
        try harness.move("t1", to: "finalizado", publicNote: "Resolvido.", as: Self.bruno)
        let refused = harness.failure(WorkflowV1.Workflow.sendBack, Self.sendBack("t1"), as: Self.bruno)
        #expect(refused?.code == .failedPrecondition, "\(String(describing: refused))")
        #expect(try harness.ticket("t1").row?.holder?.agentID == "bruno")
        #expect(try harness.published(WorkflowV1.Transferred.self, ticket: "t1").count == 1)
    }

    @Test("devolver to an agent since deactivated, or whose level is now below the ticket's, is refused with FAILED_PRECONDITION",
          arguments: TestEngines.all)
    func notToAnAgentWhoMayNoLongerHoldIt(engine: DatabaseEngine) throws {
        let harness = try takenByAna(engine)
        try harness.deliver(WorkflowHarness.opened("t2"), key: "t2")
        try harness.take("t2", as: Self.ana)
        for id in ["t1", "t2"] {
            _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer(id, agent: "bruno"), as: Self.ana)
        }
        // t2 made level 1 while bruno (level 0) holds it, then passed to chefe (level 2).
        var level = WorkflowV1.SetAccessLevelRequest()
        level.ticketID = "t2"
        level.accessLevel = 1
        level.reason = "Dados fiscais sigilosos"
        _ = try harness.call(WorkflowV1.Workflow.setAccessLevel, level, as: Self.chefe)
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t2", agent: "chefe"), as: Self.bruno)
        let belowLevel = harness.failure(WorkflowV1.Workflow.sendBack, Self.sendBack("t2"), as: Self.chefe)
        #expect(belowLevel?.code == .failedPrecondition, "\(String(describing: belowLevel))")
        #expect(try harness.ticket("t2").row?.holder?.agentID == "chefe")

        try harness.putAgent("ana", level: 1, chefe: "chefe", active: false)
        let inactive = harness.failure(WorkflowV1.Workflow.sendBack, Self.sendBack("t1"), as: Self.bruno)
        #expect(inactive?.code == .failedPrecondition, "\(String(describing: inactive))")
        #expect(try harness.ticket("t1").row?.holder?.agentID == "bruno")
    }
}
