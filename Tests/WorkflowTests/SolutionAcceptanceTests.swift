import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// The customer's accept/reject of a proposed solution, in both shipped flows.
@Suite struct SolutionAcceptanceTests {
    static let ana = WorkflowHarness.agent("ana")
    /// The tickets' contact: who decides for them.
    static let maria = WorkflowHarness.ticketContact()

    func answer(_ harness: WorkflowHarness, _ id: String, accept: Bool, reason: String = "",
                as principal: AuthV1.Principal = Self.maria) throws -> WorkflowV1.TicketView {
        var request = WorkflowV1.AnswerSolutionRequest()
        request.ticketID = id
        request.accept = accept
        request.reason = reason
        return try harness.call(WorkflowV1.Workflow.answerSolution, request, as: principal)
    }

    func answerFailure(_ harness: WorkflowHarness, _ id: String, accept: Bool, reason: String = "",
                       as principal: AuthV1.Principal = Self.maria) -> RPCError? {
        var request = WorkflowV1.AnswerSolutionRequest()
        request.ticketID = id
        request.accept = accept
        request.reason = reason
        return harness.failure(WorkflowV1.Workflow.answerSolution, request, as: principal)
    }

    func setStatus(_ harness: WorkflowHarness, _ id: String, _ status: String) throws {
        var request = WorkflowV1.SetStageStatusRequest()
        request.ticketID = id
        request.status = status
        _ = try harness.call(WorkflowV1.Workflow.setStageStatus, request, as: Self.ana)
    }

    @Test("default flow: a ticket whose customer was told the solution awaits acceptance; rejecting needs a reason, shown to agent and customer, and reopens the work; accepting confirms",
          arguments: TestEngines.all)
    func defaultFlow(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        var solution = WorkflowV1.SetTextRequest()
        solution.ticketID = "t1"
        solution.text = "Atualize o pacote 12.1.33."
        _ = try harness.call(WorkflowV1.Workflow.setSolution, solution, as: Self.ana)
        #expect(try harness.ticket("t1", as: Self.maria).awaitingAcceptance == false)
        #expect(answerFailure(harness, "t1", accept: true)?.code == .failedPrecondition, "nothing to accept yet")

        try setStatus(harness, "t1", "cliente_informado")
        #expect(try harness.ticket("t1", as: Self.maria).awaitingAcceptance)
        #expect(try harness.ticket("t1", as: Self.ana).awaitingAcceptance)
        // Staff do not answer for the customer; another company cannot reach the ticket.
        #expect(answerFailure(harness, "t1", accept: true, as: Self.ana)?.code == .permissionDenied)
        #expect(answerFailure(harness, "t1", accept: true, as: WorkflowHarness.customer("x", organization: "org-2"))?.code == .notFound)
        // A rejection without a reason names the field.
        let missing = answerFailure(harness, "t1", accept: false, reason: "  ")
        #expect(missing?.code == .invalidArgument && missing?.violations.first?.field == "reason")

        var view = try answer(harness, "t1", accept: false, reason: "O erro 539 continua na filial 2.")
        #expect(view.awaitingAcceptance == false)
        #expect(view.row?.stage == "em_atendimento")
        let mine = view.discussion.filter { $0.kind == "solution_rejected" }
        #expect(mine.count == 1 && mine[0].isPublic && mine[0].text == "O erro 539 continua na filial 2." && mine[0].authorID == Self.maria.id,
                "the customer sees her own reason")
        let agentView = try harness.ticket("t1", as: Self.ana)
        #expect(agentView.discussion.contains { $0.kind == "solution_rejected" && $0.isPublic && $0.text.contains("filial 2") })
        #expect(agentView.row?.status == nil || agentView.row?.status?.status == "", "the status is cleared")
        #expect(agentView.row?.unreadMessages == 1, "the holder has the rejection to read")
        #expect(try harness.history("t1").contains { $0.kind == "status" && $0.note.contains("filial 2") })
        #expect(answerFailure(harness, "t1", accept: false, reason: "de novo")?.code == .failedPrecondition, "answered once")

        // Told again (once the holder read the rejection: a solution is not proposed over an
        // unread message, CustomerAnswerTests), the customer accepts: confirmed by her.
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "t1"
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
        try setStatus(harness, "t1", "cliente_informado")
        view = try answer(harness, "t1", accept: true)
        #expect(view.awaitingAcceptance == false)
        let confirmed = try harness.ticket("t1", as: Self.ana).row?.status
        #expect(confirmed?.status == "solucao_confirmada" && confirmed?.setByID == Self.maria.id)
    }

    @Test("totvs flow: Resolvido awaits acceptance; rejecting with a reason reopens with a public entry, accepting closes",
          arguments: TestEngines.all)
    func totvsFlow(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine, environment: ["WORKFLOW_FLOW": "totvs"])
        try harness.seedDirectory()
        for id in ["a", "b"] {
            try harness.deliver(WorkflowHarness.opened(id), key: id)
            try harness.take(id, as: Self.ana)
            try harness.move(id, to: "resolvido", publicNote: "Corrigido no pacote 3", as: Self.ana)
            #expect(try harness.ticket(id, as: Self.maria).awaitingAcceptance)
        }
        var view = try answer(harness, "a", accept: false, reason: "Ainda falha ao transmitir.")
        #expect(view.row?.stage == "em_atendimento" && !view.awaitingAcceptance)
        #expect(view.discussion.contains { $0.kind == "solution_rejected" && $0.isPublic && $0.text == "Ainda falha ao transmitir." })
        #expect(try harness.ticket("a", as: Self.ana).discussion.contains { $0.kind == "solution_rejected" })
        view = try answer(harness, "b", accept: true, reason: "Obrigada!")
        #expect(view.row?.stage == "fechado" && view.outcome == "resolvida")
        #expect(view.discussion.contains { $0.kind == "solution_accepted" && $0.text == "Obrigada!" })
    }
}
