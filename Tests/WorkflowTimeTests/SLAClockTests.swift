import Foundation
import Testing
@testable import WorkflowCore

let hour: Int64 = 3600

/// Test policies: basico normal FR 2 h / NR 4 h / RES 16 h; alta FR 1 h / RES 8 h; urgente FR 30 min
/// / RES 4 h; premium pauses in analise_produto too.
func testPolicy(_ plan: String, _ priority: Int32) -> SLAPolicy {
    switch (plan, priority) {
    case ("premium", _):
        return SLAPolicy(plan: "premium", priority: 0, firstResponseSeconds: 2 * hour, nextResponseSeconds: 4 * hour,
                         resolutionSeconds: 16 * hour, pauseStages: ["analise_produto"])
    case (_, 4):
        return SLAPolicy(priority: 4, firstResponseSeconds: hour / 2, nextResponseSeconds: hour, resolutionSeconds: 4 * hour)
    case (_, 3):
        return SLAPolicy(priority: 3, firstResponseSeconds: hour, nextResponseSeconds: 2 * hour, resolutionSeconds: 8 * hour)
    default:
        return SLAPolicy(priority: 2, firstResponseSeconds: 2 * hour, nextResponseSeconds: 4 * hour, resolutionSeconds: 16 * hour)
    }
}

let allHours = BusinessCalendar(id: "24x7", name: "24x7", timeZone: TimeZone(identifier: "America/Sao_Paulo")!,
                                weekly: .always, nationalHolidays: false)

func compute(_ events: [TimedSLAEvent], now: String) -> SLAComputation {
    SLAClock().compute(events, now: sp(now), policy: testPolicy, calendar: { $0 == "24x7" ? allHours : .default })
}

func opened(_ at: String, plan: String = "basico", priority: Int32 = 2) -> TimedSLAEvent {
    TimedSLAEvent(sp(at), .opened(plan: plan, priority: priority, stage: "aguardando_atendimento", calendarID: ""))
}

func at(_ text: String, _ event: SLAEvent) -> TimedSLAEvent { TimedSLAEvent(sp(text), event) }

@Suite struct SLAClockTests {
    @Test func nightsAndWeekendsMoveDueTimes() throws {
        // Friday 17:00, first response 2 h: 1 h on Friday, 1 h on Monday → Mon 09:00; warning at 80% (96 min).
        let sla = compute([opened("2027-03-05 17:00")], now: "2027-03-06 12:00")
        let first = try #require(sla.target(.firstResponse))
        #expect(first.status == .running)
        #expect(first.elapsedMillis == hour * 1000)
        #expect(local(first.dueAt!) == "2027-03-08 09:00")
        #expect(local(first.warnAt!) == "2027-03-08 08:36")
        #expect(local(sla.nextDeadline!) == "2027-03-08 08:36")
        // Resolution 16 h: Fri 1 h + Mon 10 h + Tue 5 h → Tue 13:00.
        #expect(local(sla.target(.resolution)!.dueAt!) == "2027-03-09 13:00")
        #expect(sla.target(.nextResponse)!.status == .inactive)
        // At Monday 09:00 it is breached.
        let late = compute([opened("2027-03-05 17:00")], now: "2027-03-08 09:00")
        #expect(late.target(.firstResponse)!.status == .breached)
        #expect(local(late.target(.firstResponse)!.dueAt!) == "2027-03-08 09:00")
    }

    @Test func holidaysMoveDueTimes() {
        // Friday before Carnaval 2027.
        let sla = compute([opened("2027-02-05 17:00")], now: "2027-02-06 10:00")
        #expect(local(sla.target(.firstResponse)!.dueAt!) == "2027-02-10 09:00")
    }

    @Test func pausesKeepElapsedTimeAndNextResponseStartsOnTheReply() throws {
        let history = [
            opened("2027-03-03 09:00"),
            at("2027-03-03 09:30", .agentResponse),
            at("2027-03-03 10:00", .stageChanged("aguardando_cliente")),
            at("2027-03-04 15:00", .customerReply),
            at("2027-03-04 15:00", .stageChanged("em_atendimento")),
        ]
        let whilePaused = compute(Array(history.prefix(3)), now: "2027-03-03 16:00")
        let first = whilePaused.target(.firstResponse)!
        #expect(first.status == .met && first.elapsedMillis == 30 * 60_000 && first.dueAt == nil)
        let resolution = whilePaused.target(.resolution)!
        #expect(resolution.status == .paused)
        #expect(resolution.elapsedMillis == hour * 1000)
        #expect(resolution.dueAt == nil)
        #expect(whilePaused.nextDeadline == nil)

        let resumed = compute(history, now: "2027-03-04 16:00")
        // 1 h before the pause + 1 h after it; 14 h left: Thu 2 h, Fri 10 h, Mon 2 h.
        #expect(resumed.target(.resolution)!.elapsedMillis == 2 * hour * 1000)
        #expect(local(resumed.target(.resolution)!.dueAt!) == "2027-03-08 10:00")
        let next = resumed.target(.nextResponse)!
        #expect(next.cycle == 1 && next.status == .running)
        #expect(local(next.dueAt!) == "2027-03-05 09:00")
        // The agent answers: the cycle is met; a new reply opens cycle 2.
        let answered = compute(history + [at("2027-03-04 17:00", .agentResponse), at("2027-03-05 10:00", .customerReply)],
                               now: "2027-03-05 11:00")
        #expect(answered.target(.nextResponse)!.cycle == 2)
        #expect(local(answered.target(.nextResponse)!.dueAt!) == "2027-03-05 14:00")
    }

    @Test func priorityChangeMidTicketKeepsPausedTime() {
        // Normal ticket, answered, paused a whole day, then raised to urgente (resolution 4 h).
        let history = [
            opened("2027-03-01 09:00"),
            at("2027-03-01 09:10", .agentResponse),
            at("2027-03-01 09:30", .stageChanged("aguardando_cliente")),
            at("2027-03-02 09:30", .customerReply),
            at("2027-03-02 09:30", .stageChanged("em_atendimento")),
            at("2027-03-02 10:00", .priorityChanged(4)),
        ]
        let sla = compute(history, now: "2027-03-02 10:00")
        #expect(sla.priority == 4)
        let resolution = sla.target(.resolution)!
        // 30 min Monday + 30 min Tuesday = 1 h elapsed; 3 h left → 13:00 Tuesday (not Monday 13:00).
        #expect(resolution.elapsedMillis == hour * 1000)
        #expect(resolution.status == .running)
        #expect(local(resolution.dueAt!) == "2027-03-02 13:00")
    }

    @Test func breachIsRemovedWhenTheNewTargetIsNotExceeded() {
        let base = [opened("2027-03-01 09:00", priority: 4)]
        // Urgente: first response 30 min → breached at 09:30.
        let urgent = compute(base, now: "2027-03-01 10:00")
        #expect(urgent.target(.firstResponse)!.status == .breached)
        #expect(local(urgent.target(.firstResponse)!.dueAt!) == "2027-03-01 09:30")
        // Lowered to normal (2 h): no longer breached, due at 11:00.
        let lowered = compute(base + [at("2027-03-01 10:00", .priorityChanged(2))], now: "2027-03-01 10:00")
        #expect(lowered.target(.firstResponse)!.status == .running)
        #expect(local(lowered.target(.firstResponse)!.dueAt!) == "2027-03-01 11:00")
        // Raised back: breached again, at the original instant.
        let raised = compute(base + [at("2027-03-01 10:00", .priorityChanged(2)), at("2027-03-01 10:05", .priorityChanged(3))],
                             now: "2027-03-01 10:05")
        #expect(raised.target(.firstResponse)!.status == .breached)
        #expect(local(raised.target(.firstResponse)!.dueAt!) == "2027-03-01 10:00")
        // An answer given late under the stricter policy is met once the priority drops.
        let answered = compute(base + [at("2027-03-01 10:00", .agentResponse), at("2027-03-01 11:00", .priorityChanged(2))],
                               now: "2027-03-01 11:00")
        #expect(answered.target(.firstResponse)!.status == .met)
    }

    @Test func planChangeAppliesTheNewPolicysPauseStages() {
        let history = [
            opened("2027-03-01 09:00"),
            at("2027-03-01 09:05", .agentResponse),
            at("2027-03-01 10:00", .stageChanged("analise_produto")),
        ]
        let basico = compute(history, now: "2027-03-01 12:00")
        #expect(basico.target(.resolution)!.status == .running)
        #expect(basico.target(.resolution)!.elapsedMillis == 3 * hour * 1000)
        let premium = compute(history + [at("2027-03-01 12:00", .planChanged("premium"))], now: "2027-03-01 12:00")
        #expect(premium.plan == "premium")
        #expect(premium.target(.resolution)!.status == .paused)
        #expect(premium.target(.resolution)!.elapsedMillis == hour * 1000)
        #expect(premium.target(.resolution)!.dueAt == nil)
    }

    @Test func calendarChangeCountsEachStretchWithItsCalendar() {
        let history = [opened("2027-03-01 09:00"), at("2027-03-01 12:00", .calendarChanged("24x7"))]
        let sla = compute(history, now: "2027-03-01 20:00")
        // 3 business hours before the change, then 8 wall hours.
        #expect(sla.target(.resolution)!.elapsedMillis == 11 * hour * 1000)
        #expect(sla.target(.firstResponse)!.status == .breached)
        #expect(local(sla.target(.firstResponse)!.dueAt!) == "2027-03-01 11:00")
    }

    @Test func finishingStopsAndReopeningContinues() {
        let history = [
            opened("2027-03-01 09:00"),
            at("2027-03-01 09:30", .agentResponse),
            at("2027-03-01 11:00", .stageChanged("finalizado")),
        ]
        let finished = compute(history, now: "2027-03-03 11:00")
        #expect(finished.target(.resolution)!.status == .met)
        #expect(finished.target(.resolution)!.elapsedMillis == 2 * hour * 1000)
        let reopened = compute(history + [at("2027-03-03 10:00", .stageChanged("em_atendimento"))], now: "2027-03-03 11:00")
        #expect(reopened.target(.resolution)!.status == .running)
        #expect(reopened.target(.resolution)!.elapsedMillis == 3 * hour * 1000)
        #expect(local(reopened.target(.resolution)!.dueAt!) == "2027-03-04 14:00")
    }

    /// TOTVS-like Resolvido stops resolution; the customer's reply there (or a rejected solution,
    /// reported as a reply) reopens the work before the move back, so the reply arrives while the
    /// ticket is still stopped. It must still open a next-response cycle, counted from the reopening.
    @Test func replyThatReopensAStoppedTicketStartsNextResponse() throws {
        let solved = [
            opened("2027-03-01 09:00"),
            at("2027-03-01 09:30", .agentResponse),
            at("2027-03-01 10:00", .stageChanged("resolvido")),
        ]
        let reopened = solved + [at("2027-03-01 11:00", .customerReply), at("2027-03-01 11:00", .stageChanged("em_atendimento"))]
        let next = try #require(compute(reopened, now: "2027-03-01 12:00").target(.nextResponse))
        #expect(next.cycle == 1 && next.status == .running)
        #expect(next.elapsedMillis == hour * 1000)
        #expect(next.dueAt.map { local($0) } == "2027-03-01 15:00")
        // The agent answers: the cycle is met.
        let answered = compute(reopened + [at("2027-03-01 13:00", .agentResponse)], now: "2027-03-01 14:00")
        #expect(answered.target(.nextResponse)!.status == .met)
        // A reply to a ticket that stays finished owes nothing...
        let closed = [opened("2027-03-01 09:00"), at("2027-03-01 09:30", .agentResponse), at("2027-03-01 10:00", .stageChanged("finalizado")),
                      at("2027-03-01 11:00", .customerReply)]
        #expect(compute(closed, now: "2027-03-02 11:00").target(.nextResponse)!.status == .inactive)
        // ...and one the agent answered before reopening owes nothing after it either.
        let answeredFirst = closed + [at("2027-03-01 11:30", .agentResponse), at("2027-03-01 12:00", .stageChanged("em_atendimento"))]
        #expect(compute(answeredFirst, now: "2027-03-01 13:00").target(.nextResponse)!.status == .inactive)
    }

    /// A policy without a target (0) for first response or resolution still measures the time:
    /// the metrics take their business time from here, so it must not read 0 while the wall time
    /// says hours. Such a target is never late and sends nothing.
    @Test func aTargetOfZeroStillMeasuresTime() throws {
        let none = SLAPolicy(firstResponseSeconds: 0, nextResponseSeconds: 0, resolutionSeconds: 0)
        let history = [
            opened("2027-03-01 09:00"),
            at("2027-03-01 11:00", .agentResponse),
            at("2027-03-01 12:00", .stageChanged("aguardando_cliente")),
            at("2027-03-02 09:00", .stageChanged("em_atendimento")),
            at("2027-03-02 10:00", .stageChanged("finalizado")),
        ]
        let sla = SLAClock().compute(history, now: sp("2027-03-03 09:00"), policy: { _, _ in none }, calendar: { _ in .default })
        let first = try #require(sla.target(.firstResponse)), resolution = try #require(sla.target(.resolution))
        #expect(first.status == .inactive && first.stopped && first.elapsedMillis == 2 * hour * 1000)
        #expect(resolution.status == .inactive && resolution.stopped && resolution.elapsedMillis == 4 * hour * 1000, "3 h Monday + 1 h Tuesday")
        #expect(first.dueAt == nil && resolution.dueAt == nil && !first.noticeDue && !resolution.noticeDue && sla.nextDeadline == nil)
    }

    /// Finishing a ticket nobody answered stops its first-response clock there; a public answer
    /// written afterwards, while it is finished, does not become its first response (it would
    /// move the stop to that later instant). After a reopening, the next answer is.
    @Test func anAnswerAfterFinishingUnansweredIsNoFirstResponse() throws {
        let cancelled = [opened("2027-03-01 09:00"), at("2027-03-01 10:00", .stageChanged("cancelado"))]
        let late = compute(cancelled + [at("2027-03-02 09:00", .agentResponse)], now: "2027-03-02 10:00")
        let first = try #require(late.target(.firstResponse))
        #expect(first.stopped && first.stoppedAt == sp("2027-03-01 10:00") && first.elapsedMillis == hour * 1000)
        let reopened = compute(cancelled + [at("2027-03-02 09:00", .stageChanged("em_atendimento")), at("2027-03-02 09:30", .agentResponse)],
                               now: "2027-03-02 10:00")
        let answered = try #require(reopened.target(.firstResponse))
        #expect(answered.stoppedAt == sp("2027-03-02 09:30") && answered.elapsedMillis == 90 * 60_000)
    }
}
