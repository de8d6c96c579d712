import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// A customer reply written before an inactivity close but delivered after it (workflow down
/// across the deadline while intake's outbox held it, a retried delivery): the customer answered
/// in time, so the close is undone — the ticket goes back where the reply would have taken it,
/// with the history, the events, the SLA and the metrics of a reopening. A reply written after
/// the close leaves the ticket finished. Through the real service with a simulated clock and the
/// timer thread (one-second inactivity "days"), on both engines.
@Suite("Workflow: a customer reply written before an inactivity close but delivered after it reopens the ticket")
struct LateReplyTests {
    static let ana = WorkflowHarness.agent("ana")
    static let start = saoPaulo("2027-03-01 09:00")  // a Monday

    func harness(_ engine: DatabaseEngine, clock: ManualClock, flow: String = "padrao", environment: [String: String] = [:],
                 seed: Bool = true) throws -> WorkflowHarness {
        var options = WorkflowService.Options()
        options.now = { clock.now }
        let harness = try WorkflowHarness(engine, options: options, environment: [
            "WORKFLOW_TIMER_POLL_MS": "50", "WORKFLOW_FLOW": flow, "WORKFLOW_DAY_SECONDS": "1",
        ].merging(environment) { $1 })
        if seed { try harness.seedDirectory() }
        return harness
    }

    /// Opens `id` at `start`, takes it and asks the customer (the padrao flow's Aguardando
    /// cliente, 10 "days" of inactivity; the TOTVS-like Pendente, 7 then 5 more).
    func openAndAsk(_ harness: WorkflowHarness, _ id: String, clock: ManualClock, waitingStage: String = "aguardando_cliente",
                    openedAt: Int64 = LateReplyTests.start) throws {
        clock.set(openedAt)
        try harness.deliver(WorkflowHarness.opened(id, openedAt: openedAt), key: id)
        try harness.take(id, as: Self.ana)
        clock.set(Self.start)
        try harness.move(id, to: waitingStage, publicNote: "Envie o XML da nota, por favor.", as: Self.ana)
    }

    /// Lets the timer thread close `id` with the clock at `at` (the instant the close takes effect).
    func close(_ harness: WorkflowHarness, _ id: String, at: Int64, clock: ManualClock, stage: String = "finalizado") throws {
        clock.set(at)
        #expect(try waitFor(20) { try harness.ticket(id).row?.stage == stage }, "\(id) closed by the timer thread")
    }

    static func reply(_ id: String, writtenAt: Int64, message: String = "m1") -> IntakeV1.CustomerReplied {
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = id
        reply.messageID = message
        reply.author = TicketFixtures.person("contact-org-1", name: "Maria", email: "maria@org-1.example.com")
        reply.text = "Segue o XML."
        reply.repliedAtMs = writtenAt
        return reply
    }

    func stageLines(_ harness: WorkflowHarness, _ id: String) throws -> [WorkflowV1.HistoryEntry] {
        try harness.history(id).filter { $0.kind == "stage" }
    }

    func reopenings(_ harness: WorkflowHarness, _ id: String) throws -> [WorkflowV1.HistoryEntry] {
        try stageLines(harness, id).filter { $0.note.contains("resposta do cliente anterior ao encerramento") }
    }

    func target(_ harness: WorkflowHarness, _ id: String, _ kind: WorkflowV1.SlaTarget) throws -> WorkflowV1.SLATargetStatus? {
        var request = WorkflowV1.GetTicketSLARequest()
        request.ticketID = id
        return try harness.call(WorkflowV1.WorkflowTime.getTicketSLA, request, as: WorkflowHarness.admin()).targets.first { $0.target == kind }
    }

    func metrics(_ harness: WorkflowHarness, from: String = "2027-03-01", to: String = "2027-03-02", group: String = "",
                 as viewer: AuthV1.Principal = WorkflowHarness.admin()) throws -> WorkflowV1.GetMetricsResponse {
        var request = WorkflowV1.GetMetricsRequest()
        request.fromDay = from
        request.toDay = to
        request.groupID = group
        return try harness.call(WorkflowV1.WorkflowTime.getMetrics, request, as: viewer)
    }

    /// The report's `by_outcome` as key → finished, after checking it adds up to `finished`.
    func outcomes(_ report: WorkflowV1.GetMetricsResponse, _ label: String) -> [String: Int64] {
        let rows = Dictionary(report.byOutcome.map { ($0.outcome, $0.finished) }, uniquingKeysWith: +)
        #expect(rows.values.reduce(0, +) == (report.totals?.finished ?? 0), "\(label): by_outcome adds up to finished")
        return rows
    }

    /// The close takes effect late (workflow was down across the deadline): the reply written
    /// after the deadline but before the close reaches workflow after it, and wins. The ticket
    /// goes to Em atendimento (where the flow's reply move from Aguardando cliente leads), its
    /// outcome cleared; the history keeps the close and says why it was undone; `StageChanged`
    /// out of Finalizado and `CustomerActionApplied` go out (no `InformationRequested`); the
    /// agents owe an answer within the next-response target from the reopening; metrics count a
    /// finishing and a reopening, and `by_outcome` always adds up to `finished`.
    @Test("a timely reply delivered after the inactivity close reopens the ticket", arguments: TestEngines.all)
    func lateDeliveredTimelyReplyReopens(engine: DatabaseEngine) throws {
        let clock = ManualClock(Self.start)
        let harness = try self.harness(engine, clock: clock)
        try openAndAsk(harness, "t1", clock: clock)
        // Deadline at 10 s; the timer thread only gets to it at 30 s.
        let closedAt = Self.start + 30_000
        try close(harness, "t1", at: closedAt, clock: clock)
        #expect(try harness.ticket("t1").outcome == "inatividade")
        #expect(try outcomes(metrics(harness), "closed") == ["inatividade": 1])

        let deliveredAt = saoPaulo("2027-03-01 09:05")
        clock.set(deliveredAt)
        try harness.deliver(Self.reply("t1", writtenAt: Self.start + 20_000), key: "t1")

        let view = try harness.ticket("t1")
        #expect(view.row?.stage == "em_atendimento" && view.outcome == "" && view.finishedAtMs == 0)
        #expect(view.row?.unreadMessages == 1)
        #expect(view.discussion.filter { $0.kind == "customer_reply" }.map(\.addedAtMs) == [Self.start + 20_000], "the reply as written")
        let lines = try stageLines(harness, "t1")
        let closing = try #require(lines.first { $0.newValue == "finalizado" })
        #expect(closing.oldValue == "aguardando_cliente" && closing.actorID == "workflow" && closing.atMs == closedAt, "the close stays in the history")
        let reopening = try #require(lines.last)
        #expect(reopening.oldValue == "finalizado" && reopening.newValue == "em_atendimento" && reopening.atMs == deliveredAt)
        #expect(reopening.actorID == "contact-org-1")
        #expect(reopening.note == "cliente respondeu: resposta do cliente anterior ao encerramento (sem retorno do cliente) "
                    + "/ customer reply written before the close (no answer from the customer)")

        let changes = try harness.published(WorkflowV1.StageChanged.self, ticket: "t1").map(\.0)
        #expect(changes.map { "\($0.fromStage)→\($0.toStage):\($0.outcome)" }.suffix(2)
                    == ["aguardando_cliente→finalizado:inatividade", "finalizado→em_atendimento:"])
        #expect(try harness.published(WorkflowV1.InformationRequested.self, ticket: "t1").count == 1, "only the agent's question")
        #expect(try harness.published(WorkflowV1.TicketFinished.self, ticket: "t1").count == 1)
        let applied = try #require(try harness.published(WorkflowV1.CustomerActionApplied.self, ticket: "t1").last?.0)
        #expect(applied.reply?.messageID == "m1" && applied.ticket?.stage == "em_atendimento")

        // SLA: a next-response cycle from the reopening (built-in normal: 4 business hours);
        // resolution runs again.
        let next = try #require(try target(harness, "t1", .nextResponse))
        #expect(next.status == "running" && next.cycle == 1, "\(next)")
        #expect(next.dueAtMs == saoPaulo("2027-03-01 13:05"))
        #expect(try target(harness, "t1", .resolution)?.status == "running")
        let countdowns = try harness.database.read { tx in
            try tx.query("SELECT kind FROM wf_timers WHERE ticket_id = 't1' AND state = 'pending' AND kind LIKE 'inactivity.%'")
        }
        #expect(countdowns.isEmpty)

        // Metrics: the close's finishing stays on its day (with its outcome), the reopening is
        // counted; the cohort (a group's report, ragged days and a whole month) has it open.
        var report = try metrics(harness)
        #expect(report.totals?.finished == 1 && report.totals?.reopened == 1)
        #expect(outcomes(report, "reopened, all") == ["inatividade": 1])
        for (from, to) in [("2027-03-01", "2027-03-02"), ("2027-03-01", "2027-04-01")] {
            let cohort = try metrics(harness, from: from, to: to, group: "n1")
            #expect(cohort.totals?.finished == 0 && outcomes(cohort, "reopened, n1 \(from)").isEmpty)
        }
        let held = try metrics(harness, as: Self.ana)  // an agent's report: the cohort they may see
        #expect(held.totals?.finished == 0 && outcomes(held, "reopened, agent").isEmpty)
        let fact = try #require(try harness.database.read { tx in try tx.queryOne("SELECT * FROM wf_metric_tickets WHERE ticket_id = 't1'") })
        #expect(try fact.int("is_open") == 1 && fact.int("reopens") == 1 && fact.text("outcome") == "")

        // The agent answers and finishes it: both finishings by day, the cohort by how it ended now.
        clock.set(saoPaulo("2027-03-01 10:00"))
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "t1"
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
        try harness.move("t1", to: "finalizado", publicNote: "Nota transmitida com o XML corrigido.", as: Self.ana)
        report = try metrics(harness)
        #expect(report.totals?.finished == 2)
        #expect(outcomes(report, "finished again, all") == ["inatividade": 1, "resolvida": 1])
        for (from, to) in [("2027-03-01", "2027-03-02"), ("2027-03-01", "2027-04-01")] {
            let cohort = try metrics(harness, from: from, to: to, group: "n1")
            #expect(cohort.totals?.finished == 1 && outcomes(cohort, "finished again, n1 \(from)") == ["resolvida": 1])
        }
        #expect(outcomes(try metrics(harness, as: Self.ana), "finished again, agent") == ["resolvida": 1])
    }

    /// A reply written after the close (the customer answered a finished ticket) keeps today's
    /// behaviour: it is added to the discussion, unread for the holder and announced to
    /// notification (`CustomerActionApplied`), and the ticket stays finished with its outcome. So
    /// does a reply written before the ticket began to wait (it answered nothing the countdown
    /// was waiting for).
    @Test("a reply written after the close, or before the wait, leaves the ticket closed", arguments: TestEngines.all)
    func replyWrittenAfterTheCloseKeepsIt(engine: DatabaseEngine) throws {
        let clock = ManualClock(Self.start)
        let harness = try self.harness(engine, clock: clock)
        try openAndAsk(harness, "before", clock: clock, openedAt: Self.start - 600_000)
        try openAndAsk(harness, "after", clock: clock)
        let closedAt = Self.start + 30_000
        try close(harness, "after", at: closedAt, clock: clock)
        #expect(try waitFor(20) { try harness.ticket("before").row?.stage == "finalizado" })
        clock.set(saoPaulo("2027-03-01 09:05"))
        try harness.deliver(Self.reply("after", writtenAt: closedAt + 1), key: "after")
        // Written while the agent worked on it, before the question (delivered very late).
        try harness.deliver(Self.reply("before", writtenAt: Self.start - 300_000), key: "before")
        for id in ["after", "before"] {
            let view = try harness.ticket(id)
            #expect(view.row?.stage == "finalizado" && view.outcome == "inatividade", "\(id)")
            #expect(view.discussion.filter { $0.kind == "customer_reply" }.count == 1, "\(id): the reply is in the discussion")
            #expect(view.row?.unreadMessages == 1, "\(id)")
            #expect(try reopenings(harness, id).isEmpty, "\(id)")
            #expect(try stageLines(harness, id).last?.newValue == "finalizado", "\(id)")
            #expect(try harness.published(WorkflowV1.StageChanged.self, ticket: id).allSatisfy { $0.0.fromStage != "finalizado" }, "\(id)")
            #expect(try harness.published(WorkflowV1.CustomerActionApplied.self, ticket: id).last?.0.ticket?.stage == "finalizado", "\(id)")
        }
        let report = try metrics(harness)
        #expect(report.totals?.finished == 2 && report.totals?.reopened == 0)
        #expect(outcomes(report, "closed") == ["inatividade": 2])
    }

    /// The same reply delivered again (the relay's retry of one outbox row: the same event id;
    /// a copy under another id) reopens the ticket once: the second finds it open.
    @Test("a reply delivered twice reopens the ticket once", arguments: TestEngines.all)
    func duplicateDeliveryReopensOnce(engine: DatabaseEngine) throws {
        let clock = ManualClock(Self.start)
        let harness = try self.harness(engine, clock: clock)
        try openAndAsk(harness, "t1", clock: clock)
        try close(harness, "t1", at: Self.start + 30_000, clock: clock)
        clock.set(saoPaulo("2027-03-01 09:05"))
        let reply = Self.reply("t1", writtenAt: Self.start + 5_000)
        let envelope = WorkflowHarness.envelope(reply, key: "t1")
        _ = try harness.deliver([envelope])
        clock.set(saoPaulo("2027-03-01 09:06"))
        _ = try harness.deliver([envelope])
        #expect(try harness.ticket("t1").discussion.filter { $0.kind == "customer_reply" }.count == 1, "the inbox skips the retry")
        let next = try #require(try target(harness, "t1", .nextResponse))
        #expect(next.status == "running" && next.cycle == 1 && next.dueAtMs == saoPaulo("2027-03-01 13:05"), "from the first delivery: \(next)")
        // A copy under another event id is recognised by its message id: no second entry, no
        // second reopening (ReplyOnceTests).
        _ = try harness.deliver([WorkflowHarness.envelope(reply, key: "t1")])
        let view = try harness.ticket("t1")
        #expect(view.discussion.filter { $0.kind == "customer_reply" }.count == 1, "the copy under another id adds nothing")
        #expect(view.row?.stage == "em_atendimento" && view.outcome == "")
        #expect(try reopenings(harness, "t1").count == 1)
        #expect(try harness.published(WorkflowV1.StageChanged.self, ticket: "t1").filter { $0.0.fromStage == "finalizado" }.count == 1)
        let report = try metrics(harness)
        #expect(report.totals?.finished == 1 && report.totals?.reopened == 1)
        #expect(outcomes(report, "after duplicates") == ["inatividade": 1])
        #expect(try target(harness, "t1", .nextResponse)?.dueAtMs == saoPaulo("2027-03-01 13:05"))
    }

    /// The TOTVS-like flow: a close after a chain of automatic moves (Pendente → 7 days →
    /// Validação cliente → 5 days → Fechado) is undone by a reply written while Pendente, and the
    /// automatic close of Resolvido (outcome `resolvida`) by a reply written while Resolvido: both
    /// go back to Em atendimento, as those stages' reply moves would have taken them.
    @Test("TOTVS-like flow: the automatic closes of Validação cliente and Resolvido are undone too", arguments: TestEngines.all)
    func totvsAutomaticClosesAreUndone(engine: DatabaseEngine) throws {
        let clock = ManualClock(Self.start)
        let harness = try self.harness(engine, clock: clock, flow: "totvs")
        try openAndAsk(harness, "pendente", clock: clock, waitingStage: "pendente")
        clock.set(Self.start)
        try harness.deliver(WorkflowHarness.opened("resolvido", openedAt: Self.start), key: "resolvido")
        try harness.take("resolvido", as: Self.ana)
        try harness.move("resolvido", to: "resolvido", publicNote: "Corrigido no pacote 3.", as: Self.ana)
        clock.set(Self.start + 8_000)
        #expect(try waitFor(20) { try harness.ticket("pendente").row?.stage == "validacao_cliente" })
        try close(harness, "resolvido", at: Self.start + 8_000, clock: clock, stage: "fechado")
        #expect(try harness.ticket("resolvido").outcome == "resolvida")
        try close(harness, "pendente", at: Self.start + 20_000, clock: clock, stage: "fechado")
        #expect(try harness.ticket("pendente").outcome == "inatividade")

        clock.set(saoPaulo("2027-03-01 09:05"))
        try harness.deliver(Self.reply("pendente", writtenAt: Self.start + 3_000), key: "pendente")
        try harness.deliver(Self.reply("resolvido", writtenAt: Self.start + 4_000), key: "resolvido")
        for (id, outcome) in [("pendente", "sem retorno do cliente"), ("resolvido", "resolvida")] {
            let view = try harness.ticket(id)
            #expect(view.row?.stage == "em_atendimento" && view.outcome == "", "\(id)")
            let line = try #require(try reopenings(harness, id).first, "\(id)")
            #expect(line.oldValue == "fechado" && line.note.hasPrefix("cliente respondeu: resposta do cliente anterior ao encerramento (\(outcome))"))
        }
        let report = try metrics(harness)
        #expect(report.totals?.finished == 2 && report.totals?.reopened == 2)
        #expect(outcomes(report, "totvs") == ["inatividade": 1, "resolvida": 1])
        #expect(try metrics(harness, group: "n1").totals?.finished == 0)
    }

    /// A vendor's flow without a reply move from its waiting stage (a reply in time there only
    /// stops the countdown, for good): the ticket goes back into that stage, its outcome cleared,
    /// with no new countdown and no `InformationRequested` (nobody asked anything).
    @Test("a flow without a reply move: the ticket goes back to the waiting stage, with no countdown", arguments: TestEngines.all)
    func withoutAReplyMoveBackToTheWaitingStage(engine: DatabaseEngine) throws {
        let clock = ManualClock(Self.start)
        let (harness, data) = try vendorFlow(engine, clock: clock,
                                             "DELETE FROM flow_transitions WHERE flow = 'padrao' AND from_stage = 'aguardando_cliente' AND trigger_kind = 'customer_reply'")
        defer { withExtendedLifetime(data) {} }
        try openAndAsk(harness, "t1", clock: clock)
        try close(harness, "t1", at: Self.start + 30_000, clock: clock)
        clock.set(saoPaulo("2027-03-01 09:05"))
        try harness.deliver(Self.reply("t1", writtenAt: Self.start + 20_000), key: "t1")
        let view = try harness.ticket("t1")
        #expect(view.row?.stage == "aguardando_cliente" && view.outcome == "" && view.row?.unreadMessages == 1)
        let line = try #require(try reopenings(harness, "t1").first)
        #expect(line.oldValue == "finalizado" && line.newValue == "aguardando_cliente" && line.note.hasPrefix("resposta do cliente"))
        #expect(try harness.published(WorkflowV1.InformationRequested.self, ticket: "t1").count == 1, "only the agent's question")
        let countdowns = try harness.database.read { tx in
            try tx.query("SELECT kind FROM wf_timers WHERE ticket_id = 't1' AND state = 'pending' AND kind LIKE 'inactivity.%'")
        }
        #expect(countdowns.isEmpty, "the reply stopped the countdown the reopening started")
        clock.set(saoPaulo("2027-03-01 10:00"))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try harness.ticket("t1").row?.stage == "aguardando_cliente", "not closed again")
        let next = try #require(try target(harness, "t1", .nextResponse))
        #expect(next.cycle == 1 && next.status == "paused", "owed, paused in the waiting stage: \(next)")
        #expect(outcomes(try metrics(harness), "fallback") == ["inatividade": 1])
    }

    /// Only the close the ticket is still in is undone: once an agent reopened it (a vendor's
    /// "reabrir" move) and finished it again, a reply written before the automatic close finds
    /// the agent's finish and leaves it.
    @Test("a close followed by an agent's reopening and finish is not undone", arguments: TestEngines.all)
    func aLaterFinishIsNotUndone(engine: DatabaseEngine) throws {
        let clock = ManualClock(Self.start)
        let (harness, data) = try vendorFlow(engine, clock: clock, """
            INSERT INTO flow_transitions (flow, position, from_stage, to_stage, trigger_kind, categories, outcome, requires_note,
                requires_public_note, permission, after_days, label)
            VALUES ('padrao', 999, 'finalizado', 'em_atendimento', 'agent', '', '', 0, 0, '', 0, 'reabrir')
            """)
        defer { withExtendedLifetime(data) {} }
        try openAndAsk(harness, "t1", clock: clock)
        try close(harness, "t1", at: Self.start + 30_000, clock: clock)
        clock.set(saoPaulo("2027-03-01 09:02"))
        try harness.move("t1", to: "em_atendimento", as: Self.ana)
        try harness.move("t1", to: "finalizado", publicNote: "Resolvido por telefone.", as: Self.ana)
        clock.set(saoPaulo("2027-03-01 09:05"))
        try harness.deliver(Self.reply("t1", writtenAt: Self.start + 20_000), key: "t1")
        let view = try harness.ticket("t1")
        #expect(view.row?.stage == "finalizado" && view.outcome == "resolvida")
        #expect(try reopenings(harness, "t1").isEmpty)
        let report = try metrics(harness)
        #expect(report.totals?.finished == 2 && report.totals?.reopened == 1)
        #expect(outcomes(report, "agent's finish") == ["inatividade": 1, "resolvida": 1])
    }

    /// The survey opened by the inactivity close is closed while the reply has the ticket open
    /// again (before 2026-12 it could be answered then, for the close's holder, and the next
    /// finish opened none), and opens again, by the same link, when the ticket finishes again.
    @Test("the close's survey is closed while the late reply has the ticket open, and answered after the next finish", arguments: TestEngines.all)
    func surveyWaitsForTheNextFinish(engine: DatabaseEngine) throws {
        let clock = ManualClock(Self.start)
        let harness = try self.harness(engine, clock: clock)
        let maria = WorkflowHarness.customer("contact-org-1", organization: "org-1")
        func survey() throws -> WorkflowV1.TicketSurvey {
            var request = WorkflowV1.GetTicketSurveyRequest()
            request.ticketID = "t1"
            return try harness.call(WorkflowV1.WorkflowTime.getTicketSurvey, request, as: maria)
        }
        func answer(_ token: String) -> RPCError? {
            var request = WorkflowV1.AnswerSurveyRequest()
            request.token = token
            request.score = 5
            request.comment = "Resolveram depois da minha resposta."
            return harness.failure(WorkflowV1.WorkflowTime.answerSurvey, request, as: maria)
        }
        try openAndAsk(harness, "t1", clock: clock)
        try close(harness, "t1", at: Self.start + 30_000, clock: clock)
        let token = try survey().token
        #expect(!token.isEmpty, "the close opened the survey")

        clock.set(saoPaulo("2027-03-01 09:05"))
        try harness.deliver(Self.reply("t1", writtenAt: Self.start + 20_000), key: "t1")
        #expect(try harness.ticket("t1").row?.stage == "em_atendimento")
        let closed = answer(token)
        #expect(closed?.code == .failedPrecondition && closed?.violations.first?.reason == "ticket_reopened", "\(String(describing: closed))")
        #expect(try survey().token.isEmpty, "the ticket page offers no survey while the ticket is open")

        clock.set(saoPaulo("2027-03-01 09:10"))
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "t1"
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
        try harness.move("t1", to: "finalizado", publicNote: "Corrigido com o XML enviado.", as: Self.ana)
        #expect(!(try survey().token.isEmpty))
        #expect(answer(token) == nil, "the first link answers the survey of the new finish")
        let answered = try survey()
        #expect(answered.answered && answered.score == 5)
        #expect(answer(token)?.code == .alreadyExists)
    }

    /// A survey is offered only when there is something to rate and it can be answered: a ticket
    /// finished again after its survey was answered carries no link in TicketFinished (before
    /// 2026-12 it carried the answered survey's), and one reopened then cancelled does not get
    /// back the survey its reopening closed (its link and page answer as without a survey).
    @Test("after an answered survey the next finish carries no link; a reopened ticket that is cancelled has no survey any more", arguments: TestEngines.all)
    func noSurveyLinkWhenAnsweredOrCancelled(engine: DatabaseEngine) throws {
        let clock = ManualClock(Self.start)
        let harness = try self.harness(engine, clock: clock)
        let maria = WorkflowHarness.customer("contact-org-1", organization: "org-1")
        func survey(_ id: String) throws -> WorkflowV1.TicketSurvey {
            var request = WorkflowV1.GetTicketSurveyRequest()
            request.ticketID = id
            return try harness.call(WorkflowV1.WorkflowTime.getTicketSurvey, request, as: maria)
        }
        func answer(_ link: String) -> RPCError? {
            var request = WorkflowV1.AnswerSurveyRequest()
            request.token = String(link.dropFirst("https://suporte.example/pesquisa/".count))
            request.score = 4
            return harness.failure(WorkflowV1.WorkflowTime.answerSurvey, request, as: maria)
        }
        func links(_ id: String) throws -> [String] { try harness.published(WorkflowV1.TicketFinished.self, ticket: id).map(\.0.surveyURL) }
        for id in ["answered", "cancelled"] { try openAndAsk(harness, id, clock: clock) }
        try close(harness, "answered", at: Self.start + 30_000, clock: clock)
        try close(harness, "cancelled", at: Self.start + 30_000, clock: clock)
        let first = try #require(try links("answered").first)
        #expect(answer(first) == nil)
        let cancelledLink = try #require(try links("cancelled").first)
        #expect(!cancelledLink.isEmpty)

        // Replies written before the close reopen both; one is finished again, the other cancelled.
        clock.set(saoPaulo("2027-03-01 09:05"))
        for id in ["answered", "cancelled"] {
            try harness.deliver(Self.reply(id, writtenAt: Self.start + 20_000, message: "m-\(id)"), key: id)
            #expect(try harness.ticket(id).row?.stage == "em_atendimento", "\(id)")
            var read = WorkflowV1.MarkMessagesReadRequest()
            read.ticketID = id
            _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
        }
        clock.set(saoPaulo("2027-03-01 09:10"))
        try harness.move("answered", to: "finalizado", publicNote: "Corrigido com o XML enviado.", as: Self.ana)
        try harness.move("cancelled", to: "cancelado", note: "Duplicada de outra ocorrência.", as: Self.ana)
        #expect(try links("answered") == [first, ""])
        #expect(try links("cancelled") == [cancelledLink, ""])
        let kept = try survey("answered")
        #expect(kept.answered && kept.score == 4 && kept.token.isEmpty)
        #expect(try survey("cancelled").available == false)
        #expect(answer(cancelledLink)?.code == .notFound)
        // The satisfaction figures: the one answer, as before.
        let totals = try #require(try metrics(harness).totals)
        #expect(totals.surveys == 1 && totals.avgSurveyScore == 4, "\(totals)")
    }

    /// A service whose padrao flow a vendor edited (`change`, SQL on the flow's rows; flows are
    /// read at the start): the rows are changed through a first start, then the service is
    /// started again on the same database (in the data directory returned, kept by the caller).
    func vendorFlow(_ engine: DatabaseEngine, clock: ManualClock, _ change: String) throws -> (WorkflowHarness, TemporaryDirectory) {
        let data = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": data.path]
        if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        do {
            let first = try harness(engine, clock: clock, environment: environment, seed: false)
            try first.database.write { tx in try tx.execute(change) }
        }
        return (try self.harness(engine, clock: clock, environment: environment), data)
    }
}
