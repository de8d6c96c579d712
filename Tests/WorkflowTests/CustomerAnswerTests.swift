import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// What the 2026-12 review of the conversation's customer actions found: a customer's answer to
/// a proposed solution taken however it is asked, a solution not proposed over an unread
/// message, an answer in the waiting stage bringing the ticket back, the customer's last
/// interaction never going backwards, and a cancellation arriving after the finish kept.
@Suite struct CustomerAnswerTests {
    static let ana = WorkflowHarness.agent("ana")
    /// The tickets' contact: who decides for them.
    static let maria = WorkflowHarness.ticketContact()

    func reply(_ harness: WorkflowHarness, _ id: String, _ message: String, _ text: String, writtenAt: Int64 = 0) throws {
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = id
        reply.messageID = message
        reply.text = text
        reply.repliedAtMs = writtenAt
        reply.author = CommonV1.PersonRef()
        reply.author?.id = "maria"
        reply.author?.name = "Maria"
        try harness.deliver(reply, key: id)
    }

    func markRead(_ harness: WorkflowHarness, _ id: String) throws {
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = id
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
    }

    func setStatus(_ harness: WorkflowHarness, _ id: String, _ status: String) -> RPCError? {
        var request = WorkflowV1.SetStageStatusRequest()
        request.ticketID = id
        request.status = status
        return harness.failure(WorkflowV1.Workflow.setStageStatus, request, as: Self.ana)
    }

    func answer(_ harness: WorkflowHarness, _ id: String, accept: Bool, reason: String = "") throws -> WorkflowV1.TicketView {
        var request = WorkflowV1.AnswerSolutionRequest()
        request.ticketID = id
        request.accept = accept
        request.reason = reason
        return try harness.call(WorkflowV1.Workflow.answerSolution, request, as: Self.maria)
    }

    func moveFailure(_ harness: WorkflowHarness, _ id: String, to stage: String, note: String = "", publicNote: String = "",
                     as principal: AuthV1.Principal) -> RPCError? {
        var request = WorkflowV1.MoveTicketRequest()
        request.ticketID = id
        request.toStage = stage
        request.note = note
        request.publicNote = publicNote
        return harness.failure(WorkflowV1.Workflow.moveTicket, request, as: principal)
    }

    @Test("totvs: the customer's own move out of Resolvido is an answer to the solution — a rejection needs its reason, is a public entry and a message to read; no customer text is internal",
          arguments: TestEngines.all)
    func customerMoveIsAnAnswer(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine, environment: ["WORKFLOW_FLOW": "totvs"])
        try harness.seedDirectory()
        for id in ["a", "b"] {
            try harness.deliver(WorkflowHarness.opened(id), key: id)
            try harness.take(id, as: Self.ana)
            try harness.move(id, to: "resolvido", publicNote: "Corrigido no pacote 3", as: Self.ana)
        }
        // What she is offered says so: the rejection needs a text.
        var allowed = WorkflowV1.ListAllowedMovesRequest()
        allowed.ticketID = "a"
        let offered = try harness.call(WorkflowV1.Workflow.listAllowedMoves, allowed, as: Self.maria).moves
        #expect(offered.map(\.toStage).sorted() == ["em_atendimento", "fechado"])
        #expect(offered.first { $0.toStage == "em_atendimento" }?.requiresPublicNote == true)
        #expect(offered.first { $0.toStage == "fechado" }?.requiresPublicNote == false)
        // Before: moved back to Em atendimento with no reason, nothing for the holder to read.
        let missing = moveFailure(harness, "a", to: "em_atendimento", as: Self.maria)
        #expect(missing?.code == .invalidArgument && missing?.violations.first?.field == "public_note", "\(String(describing: missing))")
        #expect(try harness.ticket("a").row?.stage == "resolvido", "nothing stored")
        var view = try harness.move("a", to: "em_atendimento", note: "Ainda falha na filial 2.", as: Self.maria)
        #expect(view.row?.stage == "em_atendimento")
        #expect(view.discussion.contains { $0.kind == "solution_rejected" && $0.isPublic && $0.text == "Ainda falha na filial 2." },
                "the customer reads her own reason back")
        let agentView = try harness.ticket("a", as: Self.ana)
        #expect(agentView.row?.unreadMessages == 1, "the holder has the rejection to read")
        #expect(!agentView.discussion.contains { !$0.isPublic && $0.authorID == Self.maria.id }, "nothing the customer wrote is internal")

        view = try harness.move("b", to: "fechado", note: "Funcionou, obrigada.", as: Self.maria)
        #expect(view.row?.stage == "fechado" && view.outcome == "resolvida")
        #expect(view.discussion.contains { $0.kind == "solution_accepted" && $0.isPublic && $0.text == "Funcionou, obrigada." })
        #expect(!(try harness.ticket("b", as: Self.ana)).discussion.contains { !$0.isPublic && $0.authorID == Self.maria.id })
    }

    @Test("only the ticket's contact, a company administrator or its representative's people answer a proposed solution (intake's cancellation rule, one TicketDecisionRule): a colleague and another representative get PERMISSION_DENIED, are not offered the answer, and the ticket stays in Resolvido",
          arguments: TestEngines.all)
    func whoMayAnswer(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine, environment: ["WORKFLOW_FLOW": "totvs"])
        try harness.seedDirectory()
        for id in ["a", "b", "c"] {
            var opened = WorkflowHarness.opened(id)
            opened.representative = TicketFixtures.person("rep-1", name: "Consultoria", email: "rep@consultoria.example")
            try harness.deliver(opened, key: id)
            try harness.take(id, as: Self.ana)
            try harness.move(id, to: "resolvido", publicNote: "Corrigido no pacote 3", as: Self.ana)
        }
        func person(_ id: String, admin: Bool = false, representative: String = "") -> AuthV1.Principal {
            var principal = WorkflowHarness.customer(id, organization: "org-1")
            principal.organizationAdmin = admin
            if !representative.isEmpty {
                principal.organizationID = "consultoria"
                principal.representativeID = representative
                principal.representedOrganizationIDs = ["org-1"]
            }
            return principal
        }
        func offered(_ id: String, as principal: AuthV1.Principal) throws -> [String] {
            var request = WorkflowV1.ListAllowedMovesRequest()
            request.ticketID = id
            return try harness.call(WorkflowV1.Workflow.listAllowedMoves, request, as: principal).moves.map(\.toStage).sorted()
        }
        var accept = WorkflowV1.AnswerSolutionRequest()
        accept.ticketID = "a"
        accept.accept = true
        // João, a colleague at the company, and a representative who is not the ticket's: before,
        // either finished the ticket as resolved.
        for outsider in [person("joao"), person("eva", representative: "rep-2")] {
            let refused = harness.failure(WorkflowV1.Workflow.answerSolution, accept, as: outsider)
            #expect(refused?.code == .permissionDenied && refused?.violations.first?.reason == "not_the_tickets_own",
                    "\(String(describing: refused))")
            #expect(refused?.message.contains("apenas o contato da ocorrência") == true && refused?.message.contains("only the ticket's contact") == true)
            #expect(moveFailure(harness, "a", to: "fechado", as: outsider)?.code == .permissionDenied, "however it is asked")
            #expect(try offered("a", as: outsider).isEmpty, "not offered the answer")
        }
        #expect(try harness.ticket("a").row?.stage == "resolvido")
        // The contact, a company administrator and the ticket's representative's people may.
        #expect(try offered("a", as: Self.maria) == ["em_atendimento", "fechado"])
        #expect(try harness.call(WorkflowV1.Workflow.answerSolution, accept, as: Self.maria).row?.stage == "fechado")
        accept.ticketID = "b"
        #expect(try offered("b", as: person("ines", admin: true)) == ["em_atendimento", "fechado"])
        #expect(try harness.call(WorkflowV1.Workflow.answerSolution, accept, as: person("ines", admin: true)).row?.stage == "fechado")
        accept.ticketID = "c"
        #expect(try harness.call(WorkflowV1.Workflow.answerSolution, accept, as: person("rui", representative: "rep-1")).row?.stage == "fechado")
    }

    @Test("default flow: told the solution while the ticket waits on her, the customer's acceptance or rejection brings it back to Em atendimento (no inactivity close 'sem retorno do cliente')",
          arguments: TestEngines.all)
    func answerWhileWaiting(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for id in ["a", "r"] {
            try harness.deliver(WorkflowHarness.opened(id), key: id)
            try harness.take(id, as: Self.ana)
            try harness.move(id, to: "aguardando_cliente", publicNote: "Atualize para o pacote 3 e confirme, por favor.", as: Self.ana)
            #expect(setStatus(harness, id, "cliente_informado") == nil)
            #expect(try harness.ticket(id, as: Self.maria).awaitingAcceptance)
        }
        func pendingClose(_ id: String) throws -> Int64 {
            try harness.database.read { tx in
                try tx.queryOne("SELECT COUNT(*) AS n FROM wf_timers WHERE ticket_id = ? AND kind = 'inactivity.action' AND state = 'pending'",
                                [.text(id)])?.int("n") ?? 0
            }
        }
        #expect(try pendingClose("a") == 1, "the wait counts down to an inactivity close")
        var view = try answer(harness, "a", accept: true)
        #expect(view.row?.stage == "em_atendimento", "no longer waiting on a customer who answered")
        let confirmed = try harness.ticket("a", as: Self.ana).row?.status
        #expect(confirmed?.status == "solucao_confirmada" && confirmed?.setByID == Self.maria.id)
        let line = try harness.history("a").last { $0.kind == "status" }
        #expect(line?.oldValue == "cliente_informado" && line?.newValue == "solucao_confirmada")
        #expect(try harness.history("a").contains { $0.kind == "stage" && $0.oldValue == "aguardando_cliente" && $0.newValue == "em_atendimento" })
        #expect(try pendingClose("a") == 0, "no countdown left to close it as unanswered")

        view = try answer(harness, "r", accept: false, reason: "Continua o erro.")
        #expect(view.row?.stage == "em_atendimento")
        let rejected = try harness.ticket("r", as: Self.ana)
        #expect(rejected.row?.unreadMessages == 1 && (rejected.row?.status?.status ?? "") == "")
    }

    @Test("no solution proposed over an unread customer message: the totvs move into Resolvido and the status cliente_informado are refused until it is read",
          arguments: TestEngines.all)
    func noSolutionOverUnread(engine: DatabaseEngine) throws {
        let totvs = try WorkflowHarness(engine, environment: ["WORKFLOW_FLOW": "totvs"])
        try totvs.seedDirectory()
        try totvs.deliver(WorkflowHarness.opened("t"), key: "t")
        try totvs.take("t", as: Self.ana)
        try reply(totvs, "t", "m1", "Agora falha também na filial 2.")
        let refused = moveFailure(totvs, "t", to: "resolvido", publicNote: "Corrigido no pacote 3", as: Self.ana)
        #expect(refused?.code == .failedPrecondition && refused?.violations.first?.reason == "unread_messages", "\(String(describing: refused))")
        #expect(try totvs.ticket("t").row?.stage == "em_atendimento", "nothing stored")
        try markRead(totvs, "t")
        #expect(try totvs.move("t", to: "resolvido", publicNote: "Corrigido no pacote 3", as: Self.ana).row?.stage == "resolvido")

        let standard = try WorkflowHarness(engine)
        try standard.seedDirectory()
        try standard.deliver(WorkflowHarness.opened("p"), key: "p")
        try standard.take("p", as: Self.ana)
        try reply(standard, "p", "m1", "Não resolveu.")
        let status = setStatus(standard, "p", "cliente_informado")
        #expect(status?.code == .failedPrecondition && status?.violations.first?.reason == "unread_messages", "\(String(describing: status))")
        #expect(try standard.ticket("p", as: Self.maria).awaitingAcceptance == false)
        try markRead(standard, "p")
        #expect(setStatus(standard, "p", "cliente_informado") == nil)
    }

    @Test("the customer's last interaction never goes backwards: a reply delivered late, written before the agent's answer, keeps the answer's date",
          arguments: TestEngines.all)
    func lastInteractionNeverBackwards(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t"), key: "t")
        try harness.take("t", as: Self.ana)
        var add = WorkflowV1.AddDiscussionRequest()
        add.ticketID = "t"
        add.isPublic = true
        add.text = "Estamos verificando."
        let answered = try harness.call(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana).entry?.addedAtMs ?? 0
        #expect(try harness.ticket("t").row?.lastInteractionAtMs == answered)
        try reply(harness, "t", "m1", "Escrito antes da resposta", writtenAt: answered - 60_000)
        #expect(try harness.ticket("t").row?.lastInteractionAtMs == answered)
        var list = WorkflowV1.ListCustomerTicketsRequest()
        list.pageSize = 10
        #expect(try harness.call(WorkflowV1.Workflow.listCustomerTickets, list, as: Self.maria).tickets.first?.lastInteractionAtMs == answered)
    }

    @Test("a representative's person gets the survey of a finished ticket of an organization it acts for (before: NOT_FOUND); one acting for others does not",
          arguments: TestEngines.all)
    func representativeSurvey(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t"), key: "t")
        try harness.take("t", as: Self.ana)
        try harness.move("t", to: "finalizado", publicNote: "Corrigido no pacote 3.", as: Self.ana)
        func representative(_ id: String, for organizations: [String]) -> AuthV1.Principal {
            var principal = AuthV1.Principal()
            principal.kind = .customer
            principal.id = id
            principal.displayName = id
            principal.organizationID = "consultoria"
            principal.representativeID = "rep-\(id)"
            principal.representedOrganizationIDs = organizations
            return principal
        }
        var request = WorkflowV1.GetTicketSurveyRequest()
        request.ticketID = "t"
        let survey = try harness.call(WorkflowV1.WorkflowTime.getTicketSurvey, request, as: representative("rui", for: ["org-2", "org-1"]))
        #expect(survey.available && !survey.token.isEmpty)
        #expect(harness.failure(WorkflowV1.WorkflowTime.getTicketSurvey, request, as: representative("eva", for: ["org-2"]))?.code == .notFound)
        #expect(!(try harness.call(WorkflowV1.WorkflowTime.getTicketSurvey, request, as: Self.maria)).token.isEmpty)
    }

    @Test("a customer's cancellation that arrives after an agent finished the ticket leaves it finished but keeps the reason for the team (before: dropped)",
          arguments: TestEngines.all)
    func cancellationAfterTheFinish(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t"), key: "t")
        try harness.take("t", as: Self.ana)
        try harness.move("t", to: "finalizado", publicNote: "Corrigido no pacote 3.", as: Self.ana)
        let appliedBefore = try harness.published(WorkflowV1.CustomerActionApplied.self, ticket: "t").count
        var cancel = IntakeV1.TicketCancelledByCustomer()
        cancel.ticketID = "t"
        cancel.by = CommonV1.PersonRef()
        cancel.by?.id = "contact-org-1"
        cancel.by?.name = "Maria"
        cancel.reason = "Ninguém respondeu, contratamos outra empresa."
        try harness.deliver(cancel, key: "t")
        let view = try harness.ticket("t", as: Self.ana)
        #expect(view.row?.stage == "finalizado" && view.outcome == "resolvida", "the finish stands")
        #expect(view.discussion.contains { $0.kind == "cancellation" && $0.isPublic && $0.text == cancel.reason && $0.authorID == "contact-org-1" })
        #expect(view.row?.unreadMessages == 1, "the holder has it to read")
        #expect(try harness.history("t").contains { $0.kind == "cancel" && $0.newValue == "não aplicado" && $0.actorID == "contact-org-1" })
        #expect(try harness.published(WorkflowV1.CustomerActionApplied.self, ticket: "t").count == appliedBefore, "no 'cancelled' e-mail")
        #expect(try harness.published(WorkflowV1.TicketFinished.self, ticket: "t").count == 1)
        #expect(try harness.ticket("t", as: Self.maria).discussion.contains { $0.kind == "cancellation" }, "the customer reads what she wrote")
    }

    @Test("accept and reject at once (two tabs): one answer wins, the other is FAILED_PRECONDITION, and the ticket holds only the winner's entry",
          arguments: TestEngines.all)
    func acceptAndRejectAtOnce(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine, environment: ["WORKFLOW_FLOW": "totvs"])
        try harness.seedDirectory()
        for index in 0..<4 {
            let id = "r\(index)"
            try harness.deliver(WorkflowHarness.opened(id), key: id)
            try harness.take(id, as: Self.ana)
            try harness.move(id, to: "resolvido", publicNote: "Corrigido no pacote 3", as: Self.ana)
            let (accepted, rejected) = ConcurrentActionsTests().race({
                _ = try self.answer(harness, id, accept: true, reason: "Funcionou.")
            }, {
                _ = try self.answer(harness, id, accept: false, reason: "Não funcionou.")
            })
            #expect((accepted == nil) != (rejected == nil), "exactly one answer: \(String(describing: accepted)) \(String(describing: rejected))")
            #expect((accepted ?? rejected)?.code == .failedPrecondition)
            let view = try harness.ticket(id, as: Self.ana)
            let kinds = view.discussion.map(\.kind).filter { $0.hasPrefix("solution_") }
            if accepted == nil {
                #expect(view.row?.stage == "fechado" && kinds == ["solution_accepted"] && view.row?.unreadMessages == 0)
            } else {
                #expect(view.row?.stage == "em_atendimento" && kinds == ["solution_rejected"] && view.row?.unreadMessages == 1)
            }
        }
    }

    @Test("a vendor's customer move that requires a note: the customer's note is public and meets it (before: stored as an internal entry she could not read)",
          arguments: TestEngines.all)
    func customerNoteOnAVendorMove(engine: DatabaseEngine) throws {
        let late = LateReplyTests()
        let clock = ManualClock(LateReplyTests.start)
        let (harness, data) = try late.vendorFlow(engine, clock: clock, """
            INSERT INTO flow_transitions (flow, position, from_stage, to_stage, trigger_kind, categories, outcome, requires_note,
                requires_public_note, permission, after_days, label)
            VALUES ('padrao', 999, 'em_atendimento', 'aguardando_atendimento', 'customer', '', '', 1, 0, '', 0, 'pedir outro atendente')
            """)
        defer { withExtendedLifetime(data) {} }
        try harness.deliver(WorkflowHarness.opened("t"), key: "t")
        try harness.take("t", as: Self.ana)
        let missing = moveFailure(harness, "t", to: "aguardando_atendimento", as: Self.maria)
        #expect(missing?.code == .invalidArgument && missing?.violations.first?.field == "note", "\(String(describing: missing))")
        let view = try harness.move("t", to: "aguardando_atendimento", note: "Prefiro falar com o nível 2.", as: Self.maria)
        #expect(view.row?.stage == "aguardando_atendimento")
        #expect(view.discussion.contains { $0.isPublic && $0.authorID == Self.maria.id && $0.text == "Prefiro falar com o nível 2." })
        #expect(!(try harness.ticket("t", as: Self.ana)).discussion.contains { !$0.isPublic && $0.authorID == Self.maria.id })
    }
}
