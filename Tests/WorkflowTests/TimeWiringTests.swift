import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// The time half (SLA, timers, inactivity, survey, metrics) driven by the ticket lifecycle.
@Suite("Workflow: the lifecycle drives SLA, inactivity timers, survey and metrics")
struct TimeWiringTests {
    static let ana = WorkflowHarness.agent("ana")

    @Test("SLA follows responses, an inactivity timer finishes the ticket through the flow, the survey link in TicketFinished answers once, metrics count it", arguments: TestEngines.all)
    func journey(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine, environment: ["WORKFLOW_DAY_SECONDS": "1", "WORKFLOW_TIMER_POLL_MS": "50"])
        try harness.seedDirectory()
        // The flows' timer transitions seeded a policy for Aguardando cliente; shorten that one.
        let seeded = try harness.call(WorkflowV1.WorkflowTime.listInactivityPolicies, WorkflowV1.ListInactivityPoliciesRequest(),
                                      as: WorkflowHarness.admin())
        var policy = WorkflowV1.PutInactivityPolicyRequest()
        policy.policy = WorkflowV1.InactivityPolicySpec()
        policy.policy?.id = seeded.policies.first { $0.stage == "aguardando_cliente" }?.id ?? "teste"
        policy.policy?.stage = "aguardando_cliente"
        policy.policy?.days = 2
        policy.policy?.reminderDaysBefore = 1
        policy.policy?.toStage = "finalizado"
        policy.policy?.outcome = "inatividade"
        policy.policy?.active = true
        _ = try harness.call(WorkflowV1.WorkflowTime.putInactivityPolicy, policy, as: WorkflowHarness.admin())

        try harness.deliver(WorkflowHarness.opened("t1", category: .duvida, priority: .alta), key: "t1")
        var sla = WorkflowV1.GetTicketSLARequest()
        sla.ticketID = "t1"
        let opened = try harness.call(WorkflowV1.WorkflowTime.getTicketSLA, sla, as: WorkflowHarness.admin())
        #expect(opened.targets.first { $0.target == .firstResponse }?.status == "running")
        try harness.take("t1", as: Self.ana)
        try harness.move("t1", to: "aguardando_cliente", publicNote: "Qual a versão?", as: Self.ana)
        let answered = try harness.call(WorkflowV1.WorkflowTime.getTicketSLA, sla, as: WorkflowHarness.admin())
        #expect(answered.targets.first { $0.target == .firstResponse }?.status == "met")

        // Two one-second "days" later the timer moves the ticket along the flow's timer transition.
        #expect(try waitFor(20) { try harness.ticket("t1").row?.stage == "finalizado" })
        let view = try harness.ticket("t1")
        #expect(view.outcome == "inatividade")
        #expect(try harness.history("t1").contains { $0.kind == "stage" && $0.newValue == "finalizado" && $0.actorID == "workflow" })
        #expect(try !harness.published(WorkflowV1.InactivityReminder.self, ticket: "t1").isEmpty)
        let finished = try harness.published(WorkflowV1.TicketFinished.self, ticket: "t1")
        let link = try #require(finished.first?.0.surveyURL)
        #expect(link.hasPrefix("https://suporte.example/pesquisa/"))

        var answer = WorkflowV1.AnswerSurveyRequest()
        answer.token = String(link.dropFirst("https://suporte.example/pesquisa/".count))
        answer.score = 4
        answer.comment = "Resolveram rápido"
        #expect(try harness.call(WorkflowV1.WorkflowTime.answerSurvey, answer, as: PrincipalsForTests.service).ticketID == "t1")
        #expect(harness.failure(WorkflowV1.WorkflowTime.answerSurvey, answer, as: PrincipalsForTests.service)?.code == .alreadyExists)

        let totals = try harness.call(WorkflowV1.WorkflowTime.getMetrics, WorkflowHarness.metricsAroundToday(), as: WorkflowHarness.admin()).totals
        #expect(totals?.opened == 1 && totals?.finished == 1 && totals?.surveys == 1)
    }

    @Test("a priority change reaches the SLA and a transfer the metrics, in the same transaction", arguments: TestEngines.all)
    func reclassificationAndTransfers(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1", priority: .baixa), key: "t1")
        try harness.take("t1", as: Self.ana)
        var sla = WorkflowV1.GetTicketSLARequest()
        sla.ticketID = "t1"
        let before = try harness.call(WorkflowV1.WorkflowTime.getTicketSLA, sla, as: WorkflowHarness.admin())
        var reclassify = WorkflowV1.ReclassifyRequest()
        reclassify.ticketID = "t1"
        reclassify.priority = .urgente
        reclassify.reason = "Parou a produção"
        _ = try harness.call(WorkflowV1.Workflow.reclassify, reclassify, as: Self.ana)
        let after = try harness.call(WorkflowV1.WorkflowTime.getTicketSLA, sla, as: WorkflowHarness.admin())
        #expect(before.priority == .baixa && after.priority == .urgente)
        let resolution = { (response: WorkflowV1.GetTicketSLAResponse) in response.targets.first { $0.target == .resolution }?.targetMs ?? 0 }
        #expect(resolution(after) < resolution(before), "an urgent ticket has a shorter resolution target")
        var transfer = WorkflowV1.TransferTicketRequest()
        transfer.ticketID = "t1"
        transfer.toAgentID = "bruno"
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, transfer, as: Self.ana)
        let facts = try harness.database.read { tx in try tx.queryOne("SELECT transfers, agent_id FROM wf_metric_tickets WHERE ticket_id = 't1'") }
        #expect(facts?.i64("transfers") == 1)
        #expect(facts?.optionalText("agent_id") == "bruno")
    }
}

extension Row {
    func i64(_ column: String) -> Int64? { (try? optionalInt(column)) ?? nil }
}
