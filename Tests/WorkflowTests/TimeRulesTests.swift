import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// SLA clocks and the metrics made from them, through the real service with a simulated clock:
/// what a customer's answer in a stopped stage owes, and when a ticket counts as answered and
/// resolved.
@Suite("Workflow: time rules through the service (reopening from Resolvido, resolution and first-response metrics, inactivity outcomes)")
struct TimeRulesTests {
    static let ana = WorkflowHarness.agent("ana")
    /// The tickets' contact: who decides for them.
    static let maria = WorkflowHarness.ticketContact()

    func harness(_ engine: DatabaseEngine, clock: ManualClock, flow: String = "padrao", daySeconds: Int = 86_400) throws -> WorkflowHarness {
        var options = WorkflowService.Options()
        options.now = { clock.now }
        let harness = try WorkflowHarness(engine, options: options, environment: ["WORKFLOW_TIMER_POLL_MS": "50", "WORKFLOW_FLOW": flow,
                                                                                  "WORKFLOW_DAY_SECONDS": String(daySeconds)])
        try harness.seedDirectory()
        return harness
    }

    func open(_ harness: WorkflowHarness, _ id: String, at time: String, clock: ManualClock) throws {
        clock.set(saoPaulo(time))
        try harness.deliver(WorkflowHarness.opened(id, openedAt: saoPaulo(time)), key: id)
    }

    func target(_ harness: WorkflowHarness, _ id: String, _ kind: WorkflowV1.SlaTarget) throws -> WorkflowV1.SLATargetStatus? {
        var request = WorkflowV1.GetTicketSLARequest()
        request.ticketID = id
        return try harness.call(WorkflowV1.WorkflowTime.getTicketSLA, request, as: WorkflowHarness.admin()).targets.first { $0.target == kind }
    }

    func fact(_ harness: WorkflowHarness, _ id: String) throws -> Row? {
        try harness.database.read { tx in try tx.queryOne("SELECT * FROM wf_metric_tickets WHERE ticket_id = ?", [.text(id)]) }
    }

    /// The customer rejects the solution in Resolvido (a stopped stage) or writes there: the
    /// ticket reopens to Em atendimento and the agents owe an answer within the next-response
    /// target (built-in normal: 4 business hours), counted from the reopening.
    @Test("a reply or a rejection in Resolvido reopens with a next-response clock", arguments: TestEngines.all)
    func reopeningFromResolvidoOwesAnAnswer(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))  // a Monday
        let harness = try self.harness(engine, clock: clock, flow: "totvs")
        for id in ["rejected", "replied"] {
            try open(harness, id, at: "2027-03-01 09:00", clock: clock)
            clock.set(saoPaulo("2027-03-01 09:10"))
            try harness.take(id, as: Self.ana)
            clock.set(saoPaulo("2027-03-01 10:00"))
            try harness.move(id, to: "resolvido", publicNote: "Corrigido no pacote 3.", as: Self.ana)
        }
        clock.set(saoPaulo("2027-03-01 11:00"))
        var answer = WorkflowV1.AnswerSolutionRequest()
        answer.ticketID = "rejected"
        answer.reason = "Ainda falha ao transmitir."
        _ = try harness.call(WorkflowV1.Workflow.answerSolution, answer, as: Self.maria)
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "replied"
        reply.messageID = "m1"
        reply.text = "Continua com erro."
        reply.repliedAtMs = clock.now
        try harness.deliver(reply, key: "replied")
        clock.set(saoPaulo("2027-03-01 12:00"))
        for id in ["rejected", "replied"] {
            #expect(try harness.ticket(id).row?.stage == "em_atendimento")
            let next = try #require(try target(harness, id, .nextResponse))
            #expect(next.status == "running" && next.cycle == 1, "\(id): \(next)")
            #expect(next.dueAtMs == saoPaulo("2027-03-01 15:00"), "\(id)")
            // A reopening in the metrics, as leaving Finalizado is in padrão (none before 2026-12-02).
            #expect(try fact(harness, id)?.int("reopens") == 1, "\(id)")
        }
        var metrics = WorkflowV1.GetMetricsRequest()
        metrics.fromDay = "2027-03-01"
        metrics.toDay = "2027-03-02"
        for group in ["", "n1"] {
            metrics.groupID = group
            let totals = try harness.call(WorkflowV1.WorkflowTime.getMetrics, metrics, as: WorkflowHarness.admin()).totals
            #expect(totals?.reopened == 2 && totals?.finished == 0, "group '\(group)': \(String(describing: totals))")
        }
        // The rejection read first: a solution is not proposed over an unread message (CustomerAnswerTests).
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "rejected"
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
        try harness.move("rejected", to: "resolvido", publicNote: "Agora no pacote 4.", as: Self.ana)
        #expect(try target(harness, "rejected", .nextResponse)?.status == "met")
    }

    /// In the TOTVS-like flow resolution stops at Resolvido and the ticket closes days later
    /// (acceptance or the automatic close): the wall time to resolution ends where the business
    /// time and the SLA end, at Resolvido, not at the close.
    @Test("wall and business time to resolution end at the same instant", arguments: TestEngines.all)
    func resolutionWallTimeEndsWhereTheClockStopped(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))
        let harness = try self.harness(engine, clock: clock, flow: "totvs")
        try open(harness, "t1", at: "2027-03-01 09:00", clock: clock)
        clock.set(saoPaulo("2027-03-01 09:10"))
        try harness.take("t1", as: Self.ana)
        clock.set(saoPaulo("2027-03-01 11:00"))
        try harness.move("t1", to: "resolvido", publicNote: "Corrigido no pacote 3.", as: Self.ana)
        clock.set(saoPaulo("2027-03-04 16:00"))
        var answer = WorkflowV1.AnswerSolutionRequest()
        answer.ticketID = "t1"
        answer.accept = true
        _ = try harness.call(WorkflowV1.Workflow.answerSolution, answer, as: Self.maria)
        #expect(try harness.ticket("t1").row?.stage == "fechado")
        let row = try #require(try fact(harness, "t1"))
        #expect(try row.optionalInt("resolution_business_ms") == 2 * 3_600_000)
        #expect(try row.optionalInt("resolution_wall_ms") == 2 * 3_600_000, "09:00 → 11:00, not → Thursday 16:00")
        #expect(try target(harness, "t1", .resolution)?.stoppedAtMs == saoPaulo("2027-03-01 11:00"))
    }

    /// A ticket that finishes without any public answer (cancelled by an agent with an internal
    /// note, or by the customer) stops its first-response clock, but nobody answered it: the
    /// metrics count no first response, and one given after a reopening is the one counted.
    @Test("a ticket finished unanswered counts no first response", arguments: TestEngines.all)
    func finishingUnansweredIsNoFirstResponse(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))
        let harness = try self.harness(engine, clock: clock)
        try open(harness, "dup", at: "2027-03-01 09:00", clock: clock)
        clock.set(saoPaulo("2027-03-01 09:30"))
        try harness.take("dup", as: Self.ana)
        clock.set(saoPaulo("2027-03-01 10:00"))
        try harness.move("dup", to: "cancelado", note: "Duplicada de 2026-t0.", as: Self.ana)
        #expect(try target(harness, "dup", .firstResponse)?.status == "met", "the SLA clock stops")
        let row = try #require(try fact(harness, "dup"))
        #expect(row["first_response_wall_ms"].isNull && row["first_response_business_ms"].isNull && row["first_response_met"].isNull)
        var request = WorkflowV1.GetMetricsRequest()
        request.fromDay = "2027-03-01"
        request.toDay = "2027-03-02"
        let report = try harness.call(WorkflowV1.WorkflowTime.getMetrics, request, as: WorkflowHarness.admin())
        #expect(report.totals?.finished == 1 && report.totals?.firstResponses == 0)
    }

    /// What counts as the first response and how long it and the resolution took, computed by
    /// hand (padrão calendar: São Paulo, Monday–Friday 08–18): an internal note and the
    /// customer's own reply do not stop the clock, an agent's public answer does — the one who
    /// registered a phone ticket included (a public answer to the customer like any other) —
    /// and a request for information is one; waiting on the customer is paused business time but
    /// wall time; a ticket opened at 23:30 on March 31 in São Paulo (02:30 UTC on April 1) is
    /// March's.
    @Test("first response and resolution by hand: which entries count, business vs wall time over a weekend and a wait on the customer, the period's day in São Paulo",
          arguments: TestEngines.all)
    func responseAndResolutionByHand(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))  // a Monday
        let harness = try self.harness(engine, clock: clock)
        func entry(_ id: String, public isPublic: Bool) throws {
            var request = WorkflowV1.AddDiscussionRequest()
            request.ticketID = id
            request.isPublic = isPublic
            request.text = isPublic ? "Verificamos o certificado." : "Nota interna: ver o certificado."
            _ = try harness.call(WorkflowV1.Workflow.addDiscussion, request, as: Self.ana)
        }
        func reply(_ id: String, _ message: String) throws {
            var reply = IntakeV1.CustomerReplied()
            reply.ticketID = id
            reply.messageID = message
            reply.text = "Segue o XML."
            reply.repliedAtMs = clock.now
            try harness.deliver(reply, key: id)
        }
        // In time order. "notes": an internal note at 09:05 and the customer's reply at 09:10 stop
        // nothing; the public answer at 09:30 does. "waits": asked for information at 10:00 (its
        // first response), waited on the customer until 14:00, finished at 15:00: 6 h of wall
        // time, 2 business hours (09–10, 14–15). "phone": registered by ana on the phone at 11:00,
        // her public answer at 11:01. "weekend": Friday 17:00 → Monday 09:00, 64 h of wall time,
        // 2 business hours (Fri 17–18, Mon 08–09). "late": 23:30 on March 31 in São Paulo.
        try open(harness, "notes", at: "2027-03-01 09:00", clock: clock)
        try open(harness, "waits", at: "2027-03-01 09:00", clock: clock)
        clock.set(saoPaulo("2027-03-01 09:05"))
        try entry("notes", public: false)
        clock.set(saoPaulo("2027-03-01 09:10"))
        try reply("notes", "m-notes")
        #expect(try fact(harness, "notes")?["first_response_wall_ms"].isNull == true)
        clock.set(saoPaulo("2027-03-01 09:30"))
        try harness.take("notes", as: Self.ana)
        try entry("notes", public: true)
        clock.set(saoPaulo("2027-03-01 10:00"))
        try harness.take("waits", as: Self.ana)
        try harness.move("waits", to: "aguardando_cliente", publicNote: "Envie o XML da nota, por favor.", as: Self.ana)
        clock.set(saoPaulo("2027-03-01 11:00"))
        var phone = WorkflowHarness.opened("phone", openedAt: clock.now)
        phone.channel = "phone"
        phone.registeredByAgent = TicketFixtures.person("ana", name: "Ana", email: "ana@suporte.example")
        try harness.deliver(phone, key: "phone")
        clock.set(saoPaulo("2027-03-01 11:01"))
        try harness.take("phone", as: Self.ana)
        try entry("phone", public: true)
        clock.set(saoPaulo("2027-03-01 14:00"))
        try reply("waits", "m-waits")
        clock.set(saoPaulo("2027-03-01 15:00"))
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "waits"
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
        try harness.move("waits", to: "finalizado", publicNote: "Certificado renovado.", as: Self.ana)
        try open(harness, "weekend", at: "2027-03-05 17:00", clock: clock)
        clock.set(saoPaulo("2027-03-08 09:00"))
        try harness.take("weekend", as: Self.ana)
        try entry("weekend", public: true)
        try open(harness, "late", at: "2027-03-31 23:30", clock: clock)

        let minute: Int64 = 60_000
        for (id, wall, business) in [("notes", 30 * minute, 30 * minute), ("weekend", 64 * 60 * minute, 120 * minute),
                                     ("phone", minute, minute), ("waits", 60 * minute, 60 * minute)] {
            let row = try #require(try fact(harness, id))
            #expect(try row.optionalInt("first_response_wall_ms") == wall && row.optionalInt("first_response_business_ms") == business,
                    "\(id): \(row["first_response_wall_ms"]) \(row["first_response_business_ms"])")
        }
        let waits = try #require(try fact(harness, "waits"))
        #expect(try waits.optionalInt("resolution_wall_ms") == 6 * 60 * minute && waits.optionalInt("resolution_business_ms") == 2 * 60 * minute)
        var request = WorkflowV1.GetMetricsRequest()
        request.fromDay = "2027-03-01"
        request.toDay = "2027-04-01"
        let march = try #require(try harness.call(WorkflowV1.WorkflowTime.getMetrics, request, as: WorkflowHarness.admin()).totals)
        #expect(march.opened == 5 && march.firstResponses == 4 && march.resolutions == 1, "\(march)")
        #expect(march.avgFirstResponseWallMs == (30 + 3_840 + 1 + 60) * minute / 4, "\(march)")
        #expect(march.avgFirstResponseBusinessMs == (30 + 120 + 1 + 60) * minute / 4, "\(march)")
        #expect(march.avgResolutionWallMs == 6 * 60 * minute && march.avgResolutionBusinessMs == 2 * 60 * minute, "\(march)")
        request.fromDay = "2027-04-01"
        request.toDay = "2027-05-01"
        #expect(try harness.call(WorkflowV1.WorkflowTime.getMetrics, request, as: WorkflowHarness.admin()).totals?.opened ?? 0 == 0)
    }

    /// A first response is a person's: an integration's public entry (an API key posting "we got
    /// your ticket", another system writing to the customer) is written and reaches the customer
    /// but answers nothing — the SLA's first- and next-response clocks keep running, the ticket
    /// has no first response and the metrics count none — until an agent answers. By hand
    /// (Monday, padrão calendar): opened 09:00, the integration's entry 09:01, ana's answer 10:30:
    /// a first response of 90 min (before 2026-12-02: 1 min, the integration's); the customer
    /// writes at 11:00, the integration at 11:05, ana at 11:40: the next response is ana's.
    @Test("an integration's public entry is no first (or next) response; the agent's answer is, by hand", arguments: TestEngines.all)
    func integrationEntriesAreNoResponse(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))  // a Monday
        let harness = try self.harness(engine, clock: clock)
        var erp = AuthV1.Principal()
        erp.kind = .integration
        erp.id = "key-erp"
        erp.displayName = "ERP"
        erp.accessLevel = 1
        erp.permissions = ["tickets.work"]
        // An administrator's key, so it may write on a ticket ana holds (at 11:05).
        erp.administrator = true
        func entry(_ text: String, as principal: AuthV1.Principal) throws {
            var request = WorkflowV1.AddDiscussionRequest()
            request.ticketID = "auto"
            request.isPublic = true
            request.text = text
            _ = try harness.call(WorkflowV1.Workflow.addDiscussion, request, as: principal)
        }
        try open(harness, "auto", at: "2027-03-01 09:00", clock: clock)
        clock.set(saoPaulo("2027-03-01 09:01"))
        try entry("Recebemos sua ocorrência; em breve um analista responde.", as: erp)
        #expect(try target(harness, "auto", .firstResponse)?.status == "running", "the integration's entry stops nothing")
        #expect(try fact(harness, "auto")?["first_response_wall_ms"].isNull == true)
        #expect(try harness.ticket("auto").firstResponseAtMs == 0)
        clock.set(saoPaulo("2027-03-01 10:30"))
        try harness.take("auto", as: Self.ana)
        try entry("Verificamos o certificado.", as: Self.ana)
        let first = try #require(try target(harness, "auto", .firstResponse))
        #expect(first.status == "met" && first.stoppedAtMs == saoPaulo("2027-03-01 10:30"), "\(first)")
        let row = try #require(try fact(harness, "auto"))
        #expect(try row.optionalInt("first_response_wall_ms") == 90 * 60_000 && row.optionalInt("first_response_business_ms") == 90 * 60_000)
        #expect(try harness.ticket("auto").firstResponseAtMs == saoPaulo("2027-03-01 10:30"))

        clock.set(saoPaulo("2027-03-01 11:00"))
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "auto"
        reply.messageID = "m1"
        reply.text = "Obrigada, aguardo."
        reply.repliedAtMs = clock.now
        try harness.deliver(reply, key: "auto")
        clock.set(saoPaulo("2027-03-01 11:05"))
        try entry("Mensagem recebida.", as: erp)
        #expect(try target(harness, "auto", .nextResponse)?.status == "running", "nor the next response")
        clock.set(saoPaulo("2027-03-01 11:40"))
        try entry("Pode testar agora?", as: Self.ana)
        let next = try #require(try target(harness, "auto", .nextResponse))
        #expect(next.status == "met" && next.stoppedAtMs == saoPaulo("2027-03-01 11:40"), "\(next)")

        var request = WorkflowV1.GetMetricsRequest()
        request.fromDay = "2027-03-01"
        request.toDay = "2027-03-02"
        let totals = try #require(try harness.call(WorkflowV1.WorkflowTime.getMetrics, request, as: WorkflowHarness.admin()).totals)
        #expect(totals.firstResponses == 1 && totals.avgFirstResponseWallMs == 90 * 60_000 && totals.avgFirstResponseBusinessMs == 90 * 60_000,
                "\(totals)")
        // The entries are there, for the customer too.
        #expect(try harness.ticket("auto").discussion.filter { $0.authorID == "key-erp" && $0.isPublic }.count == 2)
    }

    /// A cancellation (by the customer, or by an agent as needing no action) finishes a ticket
    /// but solves nothing: it counts as finished and under its outcome, and not as a resolution
    /// (count, times, SLA met) in the report, filtered or not, nor in the ticket's facts. Before,
    /// a duplicate cancelled in an hour halved the average time to resolution of a ticket solved
    /// in two. A ticket cancelled after a solution (TOTVS Resolvido) keeps that resolution.
    @Test("a cancelled ticket is finished, not resolved: no resolution time or SLA share; one cancelled after its solution keeps it",
          arguments: TestEngines.all)
    func cancellationIsNoResolution(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))  // a Monday
        let harness = try self.harness(engine, clock: clock)
        for id in ["dup", "gone", "fixed"] { try open(harness, id, at: "2027-03-01 09:00", clock: clock) }
        clock.set(saoPaulo("2027-03-01 09:30"))
        try harness.take("dup", as: Self.ana)
        try harness.take("fixed", as: Self.ana)
        clock.set(saoPaulo("2027-03-01 10:00"))
        try harness.move("dup", to: "cancelado", note: "Duplicada de 2026-t0.", as: Self.ana)
        var cancel = IntakeV1.TicketCancelledByCustomer()
        cancel.ticketID = "gone"
        cancel.reason = "Resolvi sozinha."
        cancel.cancelledAtMs = clock.now
        try harness.deliver(cancel, key: "gone")
        clock.set(saoPaulo("2027-03-01 11:00"))
        try harness.move("fixed", to: "finalizado", publicNote: "Corrigido no pacote 3.", as: Self.ana)
        for id in ["dup", "gone"] {
            #expect(try harness.ticket(id).row?.stage == "cancelado", "\(id)")
            let row = try #require(try fact(harness, id))
            #expect(row["resolution_wall_ms"].isNull && row["resolution_business_ms"].isNull && row["resolution_met"].isNull, "\(id)")
        }
        #expect(try fact(harness, "fixed")?.optionalInt("resolution_wall_ms") == 2 * 3_600_000)
        var request = WorkflowV1.GetMetricsRequest()
        request.fromDay = "2027-03-01"
        request.toDay = "2027-03-02"
        let unfiltered = try harness.call(WorkflowV1.WorkflowTime.getMetrics, request, as: WorkflowHarness.admin())
        request.groupID = "n1"
        let filtered = try harness.call(WorkflowV1.WorkflowTime.getMetrics, request, as: WorkflowHarness.admin())
        for (name, report) in [("unfiltered", unfiltered), ("group n1", filtered)] {
            let totals = try #require(report.totals, "\(name)")
            #expect(totals.finished == 3 && totals.resolutions == 1, "\(name): \(totals)")
            #expect(totals.avgResolutionWallMs == 2 * 3_600_000 && totals.avgResolutionBusinessMs == 2 * 3_600_000, "\(name): \(totals)")
            #expect(Dictionary(uniqueKeysWithValues: report.byOutcome.map { ($0.outcome, $0.finished) })
                    == ["resolvida": 1, "cancelada_cliente": 1, "nao_necessita_atuacao": 1], "\(name)")
        }
        // Nothing to rate: a cancelled ticket finishes without a survey (no link in TicketFinished,
        // none on its page); the solved one has its (before 2026-12 every finish opened one).
        for (id, rated) in [("dup", false), ("gone", false), ("fixed", true)] {
            let links = try harness.published(WorkflowV1.TicketFinished.self, ticket: id).map(\.0.surveyURL)
            #expect(links.count == 1 && links.allSatisfy { $0.isEmpty != rated }, "\(id): \(links)")
            var survey = WorkflowV1.GetTicketSurveyRequest()
            survey.ticketID = id
            #expect(try harness.call(WorkflowV1.WorkflowTime.getTicketSurvey, survey, as: WorkflowHarness.admin()).available == rated, "\(id)")
        }

        // TOTVS: solved at Resolvido (10:00), then cancelled by the customer (11:00): resolved in an hour.
        let totvs = try self.harness(engine, clock: clock, flow: "totvs")
        try open(totvs, "late", at: "2027-03-01 09:00", clock: clock)
        clock.set(saoPaulo("2027-03-01 09:10"))
        try totvs.take("late", as: Self.ana)
        clock.set(saoPaulo("2027-03-01 10:00"))
        try totvs.move("late", to: "resolvido", publicNote: "Corrigido no pacote 3.", as: Self.ana)
        clock.set(saoPaulo("2027-03-01 11:00"))
        cancel.ticketID = "late"
        cancel.cancelledAtMs = clock.now
        try totvs.deliver(cancel, key: "late")
        #expect(try totvs.ticket("late").row?.stage == "cancelado")
        #expect(try fact(totvs, "late")?.optionalInt("resolution_wall_ms") == 3_600_000)
        request.groupID = ""
        #expect(try totvs.call(WorkflowV1.WorkflowTime.getMetrics, request, as: WorkflowHarness.admin()).totals?.resolutions == 1)
    }

    /// The inactivity policies are data once seeded from the flows: a policy's outcome is the one
    /// the close records (the ticket, TicketFinished, the metrics' by_outcome), not the flow's
    /// timer transition's; a policy without one keeps the transition's ("inatividade", "sem
    /// retorno do cliente").
    @Test("an inactivity close records the policy's outcome", arguments: TestEngines.all)
    func inactivityCloseRecordsThePolicysOutcome(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))
        let harness = try self.harness(engine, clock: clock, daySeconds: 1)
        func policy(_ outcome: String) throws {
            var request = WorkflowV1.PutInactivityPolicyRequest()
            request.policy = WorkflowV1.InactivityPolicySpec()
            request.policy?.id = "espera-\(outcome.isEmpty ? "sem" : outcome)"
            request.policy?.stage = "aguardando_cliente"
            request.policy?.days = 2
            request.policy?.toStage = "finalizado"
            request.policy?.outcome = outcome
            request.policy?.active = true
            _ = try harness.call(WorkflowV1.WorkflowTime.putInactivityPolicy, request, as: WorkflowHarness.admin())
        }
        for (id, outcome, time) in [("t1", "nao_necessita_atuacao", "09:00"), ("t2", "", "09:10")] {
            try policy(outcome)
            try open(harness, id, at: "2027-03-01 \(time)", clock: clock)
            try harness.take(id, as: Self.ana)
            try harness.move(id, to: "aguardando_cliente", publicNote: "Envie o XML, por favor.", as: Self.ana)
            clock.set(saoPaulo("2027-03-01 \(time)") + 3_000)  // two one-second "days" later
            #expect(try waitFor(20) { try harness.ticket(id).row?.stage == "finalizado" })
        }
        #expect(try harness.ticket("t1").outcome == "nao_necessita_atuacao")
        #expect(try harness.published(WorkflowV1.TicketFinished.self, ticket: "t1").first?.0.outcome == "nao_necessita_atuacao")
        #expect(try harness.ticket("t2").outcome == "inatividade", "no outcome in the policy: the flow's")
    }

    /// A reply that reaches workflow a millisecond before the close is due wins: the countdown
    /// is cancelled with the move back to work, and the timer thread, past the deadline, closes
    /// nothing (no "sem retorno do cliente", no TicketFinished).
    @Test("a reply just before the inactivity deadline keeps the ticket open", arguments: TestEngines.all)
    func aReplyJustBeforeTheCloseWins(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))
        let harness = try self.harness(engine, clock: clock, daySeconds: 1)
        try open(harness, "t1", at: "2027-03-01 09:00", clock: clock)
        try harness.take("t1", as: Self.ana)
        try harness.move("t1", to: "aguardando_cliente", publicNote: "Envie o XML, por favor.", as: Self.ana)
        // The seeded policy: 10 one-second "days"; the reply comes at 9.999 s.
        clock.set(saoPaulo("2027-03-01 09:00") + 9_999)
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t1"
        reply.messageID = "m1"
        reply.text = "Segue o XML."
        reply.repliedAtMs = clock.now
        try harness.deliver(reply, key: "t1")
        clock.set(saoPaulo("2027-03-01 09:00") + 60_000)
        Thread.sleep(forTimeInterval: 0.5)  // ten polls of the timer thread
        #expect(try harness.ticket("t1").row?.stage == "em_atendimento")
        #expect(try harness.published(WorkflowV1.TicketFinished.self, ticket: "t1").isEmpty)
        let pending = try harness.database.read { tx in
            try tx.query("SELECT kind FROM wf_timers WHERE ticket_id = 't1' AND state = 'pending' AND kind LIKE 'inactivity.%'")
        }
        #expect(pending.isEmpty, "no countdown left")
    }
}
