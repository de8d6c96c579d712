import Foundation
import Messages
import RPC
import Storage
import Synchronization
import Testing
import TestSupport
import WorkflowCore

/// A clock tests move by hand, shared by the core and the time half.
final class ManualClock: Sendable {
    private let value: Mutex<Int64>
    init(_ start: Int64) { value = Mutex(start) }
    var now: Int64 { value.withLock { $0 } }
    func set(_ millis: Int64) { value.withLock { $0 = millis } }
}

/// São Paulo wall time "yyyy-MM-dd HH:mm" as epoch milliseconds.
func saoPaulo(_ text: String) -> Int64 {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    formatter.timeZone = TimeZone(identifier: "America/Sao_Paulo")
    formatter.locale = Locale(identifier: "en_US_POSIX")
    return Int64(formatter.date(from: text)!.timeIntervalSince1970 * 1000)
}

@Suite("Workflow: the queue's SLA filter, and SLA deadlines after calendar and policy edits")
struct SLAQueueTests {
    static let ana = WorkflowHarness.agent("ana")

    static func harness(_ engine: DatabaseEngine, clock: ManualClock) throws -> WorkflowHarness {
        var options = WorkflowService.Options()
        options.now = { clock.now }
        return try WorkflowHarness(engine, options: options, environment: ["WORKFLOW_TIMER_POLL_MS": "50"])
    }

    func open(_ harness: WorkflowHarness, _ id: String, at time: String, clock: ManualClock) throws {
        clock.set(saoPaulo(time))
        try harness.deliver(WorkflowHarness.opened(id, subject: "Nota fiscal \(id)", openedAt: saoPaulo(time)), key: id)
    }

    func queue(_ harness: WorkflowHarness, sla state: String) throws -> [String] {
        var request = WorkflowV1.ListQueueRequest()
        request.filter = WorkflowV1.TicketFilter()
        request.filter?.slaState = state
        return try harness.call(WorkflowV1.Workflow.listQueue, request, as: WorkflowHarness.admin()).tickets.map(\.ticketID)
    }

    func sla(_ harness: WorkflowHarness, _ id: String) throws -> String {
        var request = WorkflowV1.ListQueueRequest()
        request.filter = WorkflowV1.TicketFilter()
        return try harness.call(WorkflowV1.Workflow.listQueue, request, as: WorkflowHarness.admin()).tickets.first { $0.ticketID == id }?.slaState ?? ""
    }

    func firstResponseDue(_ harness: WorkflowHarness, _ id: String) throws -> Int64 {
        var request = WorkflowV1.GetTicketSLARequest()
        request.ticketID = id
        let sla = try harness.call(WorkflowV1.WorkflowTime.getTicketSLA, request, as: WorkflowHarness.admin())
        return sla.targets.first { $0.target == .firstResponse }?.dueAtMs ?? -1
    }

    @Test("ListQueue and CountByStage filter by SLA state: breached, at risk, paused, on track", arguments: TestEngines.all)
    func filter(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))
        let harness = try Self.harness(engine, clock: clock)
        try harness.seedDirectory()
        // Normal priority, built-in policy: first response in 4 business hours, warning at 80% (3 h 12 min).
        try open(harness, "late", at: "2027-03-01 09:00", clock: clock)     // due 13:00
        try open(harness, "waiting", at: "2027-03-01 09:00", clock: clock)
        try open(harness, "risky", at: "2027-03-01 10:10", clock: clock)    // warning 13:22, due 14:10
        try open(harness, "fine", at: "2027-03-01 12:00", clock: clock)     // warning 15:12
        clock.set(saoPaulo("2027-03-01 12:05"))
        try harness.take("waiting", as: Self.ana)
        try harness.move("waiting", to: "aguardando_cliente", publicNote: "Envie o XML, por favor.", as: Self.ana)
        clock.set(saoPaulo("2027-03-01 13:30"))
        #expect(try queue(harness, sla: "breached") == ["late"])
        #expect(try queue(harness, sla: "at_risk") == ["risky"])
        #expect(try queue(harness, sla: "paused") == ["waiting"])
        #expect(try queue(harness, sla: "on_track") == ["fine"], "paused tickets are not on track: the rows say paused too")
        #expect(try queue(harness, sla: "on_time") == ["fine"], "the rows' name for on_track")
        #expect(try queue(harness, sla: "breached").first.map { try sla(harness, $0) } == "breached", "the row says it too")
        #expect(try queue(harness, sla: "") == ["late", "waiting", "risky", "fine"])
        var counts = WorkflowV1.CountByStageRequest()
        counts.filter = WorkflowV1.TicketFilter()
        counts.filter?.slaState = "breached"
        #expect(try harness.call(WorkflowV1.Workflow.countByStage, counts, as: WorkflowHarness.admin()).counts.map(\.count) == [1])
        var bad = WorkflowV1.ListQueueRequest()
        bad.filter = WorkflowV1.TicketFilter()
        bad.filter?.slaState = "late"
        #expect(harness.failure(WorkflowV1.Workflow.listQueue, bad, as: WorkflowHarness.admin())?.violations.first?.field == "filter.sla_state")
        // Answering the late ticket stops its clock: no longer breached and counting.
        try harness.take("late", as: Self.ana)
        try harness.move("late", to: "aguardando_cliente", publicNote: "Qual a versão do sistema?", as: Self.ana)
        #expect(try queue(harness, sla: "breached").isEmpty)
    }

    @Test("editing the business hours or the plan's policy moves open tickets' deadlines", arguments: TestEngines.all)
    func recomputeOnEdits(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))  // a Monday
        let harness = try Self.harness(engine, clock: clock)
        try harness.seedDirectory()
        try open(harness, "c1", at: "2027-03-01 09:00", clock: clock)
        #expect(try firstResponseDue(harness, "c1") == saoPaulo("2027-03-01 13:00"), "4 business hours in 08:00–18:00")

        // Business hours become 08:00–10:00 on weekdays: 1 h on Monday, 2 h on Tuesday, 1 h on Wednesday.
        clock.set(saoPaulo("2027-03-01 09:30"))
        var calendar = WorkflowV1.CalendarSpec()
        calendar.id = "padrao"
        calendar.timeZone = "America/Sao_Paulo"
        calendar.nationalHolidays = true
        calendar.weekly = (1...5).map { weekday in
            var hours = WorkflowV1.WeekdayHours()
            hours.weekday = Int32(weekday)
            var interval = WorkflowV1.MinuteInterval()
            interval.startMinute = 8 * 60
            interval.endMinute = 10 * 60
            hours.intervals = [interval]
            return hours
        }
        var put = WorkflowV1.PutCalendarRequest()
        put.calendar = calendar
        let saved = try harness.call(WorkflowV1.WorkflowTime.putCalendar, put, as: WorkflowHarness.admin())
        #expect(saved.ticketsRecomputed == 1)
        #expect(try firstResponseDue(harness, "c1") == saoPaulo("2027-03-03 09:00"))

        // The standard plan's policy now answers in 60 business minutes: due on Monday 10:00.
        var policy = WorkflowV1.SLAPolicySpec()
        policy.plan = "standard"
        policy.firstResponseMinutes = 60
        policy.resolutionMinutes = 600
        var putPolicy = WorkflowV1.PutSLAPolicyRequest()
        putPolicy.policy = policy
        #expect(try harness.call(WorkflowV1.WorkflowTime.putSLAPolicy, putPolicy, as: WorkflowHarness.admin()).ticketsRecomputed == 1)
        #expect(try firstResponseDue(harness, "c1") == saoPaulo("2027-03-01 10:00"))
        // A policy of another plan leaves the ticket alone.
        policy.plan = "premium"
        policy.firstResponseMinutes = 15
        putPolicy.policy = policy
        #expect(try harness.call(WorkflowV1.WorkflowTime.putSLAPolicy, putPolicy, as: WorkflowHarness.admin()).ticketsRecomputed == 0)
        #expect(try firstResponseDue(harness, "c1") == saoPaulo("2027-03-01 10:00"))
        // Deleting the plan's policy goes back to the built-in one (4 h) on the narrow hours.
        var delete = WorkflowV1.DeleteSLAPolicyRequest()
        delete.plan = "standard"
        _ = try harness.call(WorkflowV1.WorkflowTime.deleteSLAPolicy, delete, as: WorkflowHarness.admin())
        #expect(try firstResponseDue(harness, "c1") == saoPaulo("2027-03-03 09:00"))
        // The queue's SLA filter follows: at Monday 10:30 the ticket is late only under the 60-minute policy.
        clock.set(saoPaulo("2027-03-01 10:30"))
        #expect(try queue(harness, sla: "breached").isEmpty)
    }

    @Test("an edit reaching more open tickets than the inline limit commits at once and recomputes them by timers, one transaction each",
          arguments: TestEngines.all)
    func recomputeInBackground(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))  // a Monday
        var options = WorkflowService.Options()
        options.now = { clock.now }
        let harness = try WorkflowHarness(engine, options: options,
                                          environment: ["WORKFLOW_TIMER_POLL_MS": "50", "WORKFLOW_SLA_INLINE_RECOMPUTE_LIMIT": "2"])
        try harness.seedDirectory()
        let ids = ["b1", "b2", "b3", "b4"]
        for id in ids { try open(harness, id, at: "2027-03-01 09:00", clock: clock) }
        try harness.take("b4", as: Self.ana)
        try harness.move("b4", to: "finalizado", publicNote: "Resolvido.", as: Self.ana)
        #expect(try firstResponseDue(harness, "b1") == saoPaulo("2027-03-01 13:00"))

        var policy = WorkflowV1.SLAPolicySpec()
        policy.plan = "standard"
        policy.firstResponseMinutes = 60
        policy.resolutionMinutes = 600
        var putPolicy = WorkflowV1.PutSLAPolicyRequest()
        putPolicy.policy = policy
        let saved = try harness.call(WorkflowV1.WorkflowTime.putSLAPolicy, putPolicy, as: WorkflowHarness.admin())
        #expect(saved.ticketsRecomputed == 0 && saved.ticketsQueued == 3, "three open tickets, over the limit of 2; b4 is finished")
        for id in ["b1", "b2", "b3"] {
            #expect(waitFor(15) { (try? firstResponseDue(harness, id)) == saoPaulo("2027-03-01 10:00") }, "\(id)")
        }
        // The same edit twice in a row: tickets whose recompute is still pending are queued once.
        let again = try harness.call(WorkflowV1.WorkflowTime.putSLAPolicy, putPolicy, as: WorkflowHarness.admin())
        #expect(again.ticketsQueued <= 3)
        var delete = WorkflowV1.DeleteSLAPolicyRequest()
        delete.plan = "standard"
        let deleted = try harness.call(WorkflowV1.WorkflowTime.deleteSLAPolicy, delete, as: WorkflowHarness.admin())
        // Tickets still waiting for the previous edit's recompute keep one timer, which recomputes
        // them with the configuration of the moment it fires.
        #expect(deleted.deleted && deleted.ticketsRecomputed == 0 && deleted.ticketsQueued == 3)
        for id in ["b1", "b2", "b3"] {
            #expect(waitFor(15) { (try? firstResponseDue(harness, id)) == saoPaulo("2027-03-01 13:00") }, "back to 4 business hours: \(id)")
        }
    }

    @Test("a recompute timer due while an edit that found it pending is still uncommitted fires after the commit, with that edit's configuration",
          arguments: TestEngines.all)
    func recomputeTimerWaitsForTheEdit(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))  // a Monday
        let harness = try Self.harness(engine, clock: clock)
        try harness.seedDirectory()
        try open(harness, "r1", at: "2027-03-01 09:00", clock: clock)
        #expect(try firstResponseDue(harness, "r1") == saoPaulo("2027-03-01 13:00"))
        let sla = SLAEngine()
        // A first edit (60 minutes) leaves its recompute timer pending, due at 09:01.
        try harness.database.write { tx in
            try SLAPolicyStore.save(tx, SLAPolicy(plan: "standard", firstResponseSeconds: 3600, nextResponseSeconds: 3600,
                                                  resolutionSeconds: 36000), at: clock.now)
            let outcome = try sla.recomputeOpenTickets(tx, plan: "standard", now: saoPaulo("2027-03-01 09:01"), inlineLimit: 0)
            #expect(outcome.queued == 1)
        }
        // A second edit deletes the policy and finds that timer pending; before it commits, the
        // timer falls due and the scheduler (polling every 50 ms) tries to fire it.
        try harness.database.write { tx in
            let deleted = try SLAPolicyStore.delete(tx, plan: "standard", priority: 0)
            let outcome = try sla.recomputeOpenTickets(tx, plan: "standard", now: clock.now, inlineLimit: 0)
            #expect(deleted && outcome.queued == 1)
            clock.set(saoPaulo("2027-03-01 09:01"))
            Thread.sleep(forTimeInterval: 0.6)
        }
        // It fired once the deletion committed: back to the built-in 4 business hours, not the
        // deleted policy's 60 minutes.
        #expect(waitFor(10) { (try? harness.database.read { tx in
            try tx.scalar("SELECT COUNT(*) FROM wf_timers WHERE ticket_id = 'r1' AND kind = 'sla-recompute' AND state = 'pending'")
        }) == .integer(0) })
        #expect(try firstResponseDue(harness, "r1") == saoPaulo("2027-03-01 13:00"))
    }

    @Test("an organization's new contract plan moves its open tickets to that plan's SLA; other organizations' tickets stay",
          arguments: TestEngines.all)
    func planChangeFromIntake(engine: DatabaseEngine) throws {
        let clock = ManualClock(saoPaulo("2027-03-01 09:00"))  // a Monday
        let harness = try Self.harness(engine, clock: clock)
        try harness.seedDirectory()
        try open(harness, "p1", at: "2027-03-01 09:00", clock: clock)
        try harness.deliver(WorkflowHarness.opened("p2", organization: "org-2", subject: "Outra empresa", openedAt: saoPaulo("2027-03-01 09:00")), key: "p2")
        var policy = WorkflowV1.SLAPolicySpec()
        policy.plan = "premium"
        policy.firstResponseMinutes = 120
        policy.resolutionMinutes = 600
        var putPolicy = WorkflowV1.PutSLAPolicyRequest()
        putPolicy.policy = policy
        #expect(try harness.call(WorkflowV1.WorkflowTime.putSLAPolicy, putPolicy, as: WorkflowHarness.admin()).ticketsRecomputed == 0)
        #expect(try firstResponseDue(harness, "p1") == saoPaulo("2027-03-01 13:00"), "the built-in 4 business hours")

        // Intake: org-1 moved from standard to premium at 09:30.
        clock.set(saoPaulo("2027-03-01 09:30"))
        var changed = IntakeV1.OrganizationPlanChanged()
        changed.organizationID = "org-1"
        changed.previousPlan = "standard"
        changed.plan = "premium"
        changed.changedBy = "admin"
        changed.changedAtMs = saoPaulo("2027-03-01 09:30")
        try harness.deliver(changed, key: "org-1", id: "plan-change-1")
        #expect(try firstResponseDue(harness, "p1") == saoPaulo("2027-03-01 11:00"), "premium's 120 minutes from the opening")
        #expect(try firstResponseDue(harness, "p2") == saoPaulo("2027-03-01 13:00"), "another organization's ticket keeps its plan")
        #expect(try harness.history("p1").contains { $0.kind == "plan" && $0.newValue == "premium" })
        // The same event delivered again changes nothing more.
        try harness.deliver(changed, key: "org-1", id: "plan-change-1")
        #expect(try harness.history("p1").filter { $0.kind == "plan" }.count == 1)
    }
}

