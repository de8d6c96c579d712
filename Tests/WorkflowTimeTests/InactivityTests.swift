import Foundation
import Messages
import Storage
import Synchronization
import Testing
import TestSupport
@testable import WorkflowCore

/// A core that really moves the ticket: records the action and tells the inactivity engine about
/// the new stage, as the ticket core does.
final class MovingCore: TicketCoreSeam {
    let engine: Mutex<InactivityEngine?> = Mutex(nil)

    func summary(_ tx: any SQLExecutor, ticketID: String) throws -> WorkflowV1.TicketSummary? {
        var summary = WorkflowV1.TicketSummary()
        summary.ticketID = ticketID
        summary.accessLevel = 1
        return summary
    }

    func performInactivityAction(_ tx: any SQLExecutor, ticketID: String, action: InactivityAction, at: Int64) throws {
        try MinimalTicketCore().performInactivityAction(tx, ticketID: ticketID, action: action, at: at)
        try engine.withLock { $0 }?.onStageEntered(tx, ticketID: ticketID, stage: action.toStage, at: at)
    }
}

let day: Int64 = 86_400_000

@Suite struct InactivityTests {
    func setUp(_ engine: DatabaseEngine, preset: [InactivityPolicy], dayLength: Duration = .seconds(86_400))
        throws -> (any Database, InactivityEngine, TimerScheduler, SimulatedClock) {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        let clock = SimulatedClock(sp("2027-03-01 10:00"))
        let scheduler = TimerScheduler(database: database, name: "test", clock: clock.function)
        let core = MovingCore()
        let inactivity = InactivityEngine(dayLength: dayLength, core: core)
        core.engine.withLock { $0 = inactivity }
        inactivity.register(on: scheduler)
        try database.write { tx in try InactivityPolicyStore.install(tx, preset) }
        return (database, inactivity, scheduler, clock)
    }

    func actions(_ database: any Database) throws -> [String] {
        try database.read { tx in
            try tx.query("SELECT ticket_id, to_stage, outcome FROM wf_inactivity_actions ORDER BY at, ticket_id").map {
                "\(try $0.text("ticket_id")):\(try $0.text("to_stage")):\(try $0.text("outcome"))"
            }
        }
    }

    @Test(arguments: TestEngines.all)
    func waitingCustomerFinishesAfterTenDaysWithAReminderTwoDaysBefore(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: InactivityPresets.padrao)
        defer { database.close() }
        let start = clock.now
        try database.write { tx in
            try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: start)
            try inactivity.onStageEntered(tx, ticketID: "B", stage: "aguardando_cliente", at: start)
            try inactivity.onStageEntered(tx, ticketID: "C", stage: "em_atendimento", at: start)  // no policy
        }
        #expect(try database.read { tx in try TimerStore.pending(tx, ticketID: "C") }.isEmpty)
        // B's customer answers on day 5: its countdown is cancelled.
        clock.set(start + 5 * day)
        try database.write { tx in try inactivity.onCustomerActivity(tx, ticketID: "B", at: clock.now) }
        clock.set(start + 8 * day - 1)
        #expect(try scheduler.runOnce() == 0)
        clock.set(start + 8 * day)
        #expect(try scheduler.runOnce() == 1)
        let reminders = try publishedEvents(database, WorkflowV1.InactivityReminder.self)
        #expect(reminders.map { $0.ticket?.ticketID } == ["A"])
        #expect(reminders.first?.actionDueAtMs == start + 10 * day)
        #expect(reminders.first?.policy == "aguardando-cliente-10d")
        clock.set(start + 10 * day)
        #expect(try scheduler.runOnce() == 1)
        #expect(try actions(database) == ["A:finalizado:inatividade"])
        clock.set(start + 30 * day)
        #expect(try scheduler.runOnce() == 0)
    }

    @Test(arguments: TestEngines.all)
    func aTicketThatMovedOnIsNeverActedOn(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: InactivityPresets.padrao)
        defer { database.close() }
        let start = clock.now
        try database.write { tx in try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: start) }
        // A stale timer from the first entry survives cancellation by a bug elsewhere: it must do nothing.
        let firstAction = try #require(try database.read { tx in try TimerStore.pending(tx, ticketID: "A", kind: InactivityEngine.actionKind) })
        try database.write { tx in
            try inactivity.onStageEntered(tx, ticketID: "A", stage: "em_atendimento", at: start + day)
            try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: start + 2 * day)
            try tx.execute("UPDATE wf_timers SET state = 'pending', kind = 'inactivity.action.old' WHERE id = ?", [.text(firstAction.id)])
        }
        scheduler.on("inactivity.action.old") { timer, tx, now in try inactivity.fireAction(timer, tx, now: now) }
        clock.set(start + 10 * day)
        #expect(try scheduler.runOnce() == 2)  // the stale action and the new reminder fire...
        #expect(try actions(database).isEmpty)  // ...and the stale one does nothing
        clock.set(start + 12 * day)
        #expect(try scheduler.runOnce() == 1)
        #expect(try actions(database) == ["A:finalizado:inatividade"])
    }

    @Test(arguments: TestEngines.all)
    func totvsPresetChainsPendenteValidacaoFechado(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: InactivityPresets.totvs)
        defer { database.close() }
        let start = clock.now
        try database.write { tx in
            try inactivity.onStageEntered(tx, ticketID: "P", stage: "pendente", at: start)
            try inactivity.onStageEntered(tx, ticketID: "R", stage: "resolvido", at: start)
            try inactivity.onStageEntered(tx, ticketID: "X", stage: "resolvido", at: start)
        }
        // X's customer rejects the solution on day 2: reopened, nothing closes it.
        clock.set(start + 2 * day)
        try database.write { tx in
            try inactivity.onCustomerActivity(tx, ticketID: "X", at: clock.now)
            try inactivity.onStageEntered(tx, ticketID: "X", stage: "em_atendimento", at: clock.now)
        }
        for offset in 3...13 {
            clock.set(start + Int64(offset) * day)
            try scheduler.runOnce()
        }
        #expect(try actions(database) == ["R:fechado:resolvida", "P:validacao_cliente:", "P:fechado:inatividade"])
        let reminders = try publishedEvents(database, WorkflowV1.InactivityReminder.self).map(\.policy)
        #expect(reminders == ["pendente-7d", "validacao-cliente-5d"])
    }

    @Test(arguments: TestEngines.all)
    func businessDaysFollowTheCalendar(engine: DatabaseEngine) throws {
        let (database, inactivity, _, _) = try setUp(engine, preset: [])
        defer { database.close() }
        let policy = InactivityPolicy(id: "bd", stage: "aguardando_cliente", days: 2, businessDays: true, reminderDaysBefore: 1, toStage: "finalizado")
        let (reminder, action) = try database.read { tx in try inactivity.deadlines(tx, policy: policy, from: sp("2027-02-05 10:00")) }
        #expect(local(reminder!) == "2027-02-10 10:00")  // Carnaval Monday and Tuesday skipped
        #expect(local(action) == "2027-02-11 10:00")
        #expect(policy.problems().isEmpty)
        #expect(!InactivityPolicy(id: "x", stage: "a", days: 2, reminderDaysBefore: 2, toStage: "b").problems().isEmpty)
        // One active policy per stage: saving another deactivates the first.
        try database.write { tx in try InactivityPolicyStore.save(tx, policy) }
        try database.write { tx in try InactivityPolicyStore.save(tx, InactivityPolicy(id: "other", stage: "aguardando_cliente", days: 3, toStage: "finalizado")) }
        let stored = try database.read { tx in try InactivityPolicyStore.all(tx) }
        #expect(stored.map { "\($0.id):\($0.active)" } == ["bd:false", "other:true"])
        #expect(try database.read { tx in try InactivityPolicyStore.active(tx, stage: "aguardando_cliente") }?.id == "other")
    }

    /// An administrator lengthens the policy while a ticket already waits: the countdown follows
    /// the policy as it is when its timers fire, counted from the stage entry, so the ticket is
    /// neither reminded nor closed "sem retorno do cliente" at the old, shorter deadline.
    @Test(arguments: TestEngines.all)
    func aLengthenedPolicyDoesNotCloseWaitingTicketsEarly(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: InactivityPresets.padrao)
        defer { database.close() }
        let start = clock.now
        try database.write { tx in try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: start) }
        clock.set(start + day)
        try database.write { tx in
            var longer = InactivityPresets.padrao[0]
            longer.days = 20
            try InactivityPolicyStore.save(tx, longer, at: clock.now)
        }
        for offset in [8, 10] {
            clock.set(start + Int64(offset) * day)
            try scheduler.runOnce()
        }
        #expect(try actions(database).isEmpty, "not closed at the old 10 days")
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).isEmpty, "not reminded at the old 8 days")
        clock.set(start + 18 * day)
        try scheduler.runOnce()
        let reminders = try publishedEvents(database, WorkflowV1.InactivityReminder.self)
        #expect(reminders.map(\.actionDueAtMs) == [start + 20 * day])
        clock.set(start + 20 * day - 1)
        try scheduler.runOnce()
        #expect(try actions(database).isEmpty)
        clock.set(start + 20 * day)
        try scheduler.runOnce()
        #expect(try actions(database) == ["A:finalizado:inatividade"])
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).count == 1)
    }

    /// Ticket "A" waiting in Aguardando cliente under `padrao` (10 days, reminder 2 before) since
    /// the clock's start, then the policy cut to 5 days by a save that re-plans nothing.
    func missedByAShorteningEdit(_ engine: DatabaseEngine) throws -> (any Database, InactivityEngine, TimerScheduler, SimulatedClock) {
        let fixture = try setUp(engine, preset: InactivityPresets.padrao)
        let (database, inactivity, _, clock) = fixture
        try database.write { tx in try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: clock.now) }
        try database.write { tx in
            var shorter = InactivityPresets.padrao[0]
            shorter.days = 5
            try InactivityPolicyStore.save(tx, shorter, at: clock.now)
        }
        return fixture
    }

    /// The state a ticket that entered the stage while a shortening edit ran is left in on
    /// PostgreSQL (docs/WORKFLOW-TIME.md, "A ticket entering the stage while the edit runs"): its
    /// timers planned under the old policy, the edit not having re-planned it (here: the policy
    /// saved without a re-plan). The scheduler's next round finds its countdown planned under an
    /// older revision than the stage's policy and re-plans it as the edit would have: reminded
    /// and closed at the new deadline, not at the old, later one. Before 2026-12 it was closed at
    /// the old deadline (a known issue).
    @Test(arguments: TestEngines.all)
    func aTicketMissedByAShorteningEditClosesAtTheNewDeadline(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try missedByAShorteningEdit(engine)
        defer { database.close() }
        let start = clock.now
        func due(_ kind: String) throws -> Int64? { try database.read { tx in try TimerStore.pending(tx, ticketID: "A", kind: kind) }?.dueAt }
        #expect(try due(InactivityEngine.actionKind) == start + 10 * day, "planned under the old policy")
        clock.set(start + 60_000)
        #expect(try scheduler.runOnce() == 0)
        #expect(try due(InactivityEngine.actionKind) == start + 5 * day, "re-planned by the round")
        #expect(try due(InactivityEngine.reminderKind) == start + 3 * day)
        #expect(try inactivity.replanStale(database, now: clock.now) == 0, "once")
        clock.set(start + 3 * day)
        try scheduler.runOnce()
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).map { $0.actionDueAtMs - start } == [5 * day])
        clock.set(start + 5 * day - 1)
        try scheduler.runOnce()
        #expect(try actions(database).isEmpty)
        clock.set(start + 5 * day)
        try scheduler.runOnce()
        #expect(try actions(database) == ["A:finalizado:inatividade"], "closed at the new 5 days")
        clock.set(start + 10 * day)
        try scheduler.runOnce()
        #expect(try actions(database) == ["A:finalizado:inatividade"])
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).count == 1)
    }

    /// The round re-plans under the rules of an edit: a missed ticket whose new deadline is past
    /// when the round comes (workflow down meanwhile) is not closed at once but reminded, and
    /// closed after the minimum notice (the reminder lead) — never later than its old close.
    @Test(arguments: TestEngines.all)
    func aMissedTicketPastItsNewDeadlineGetsTheMinimumNotice(engine: DatabaseEngine) throws {
        let (database, _, scheduler, clock) = try missedByAShorteningEdit(engine)
        defer { database.close() }
        let start = clock.now
        clock.set(start + 6 * day)
        try scheduler.runOnce()
        #expect(try actions(database).isEmpty, "not closed at once")
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).map { $0.actionDueAtMs - start } == [8 * day])
        clock.set(start + 8 * day - 1)
        try scheduler.runOnce()
        #expect(try actions(database).isEmpty)
        clock.set(start + 8 * day)
        try scheduler.runOnce()
        #expect(try actions(database) == ["A:finalizado:inatividade"])
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).count == 1)
    }

    /// A policy **created** for a stage whose tickets it did not re-plan (entered while it was
    /// created, on PostgreSQL; here: saved without a re-plan) starts their countdowns at the
    /// scheduler's next round, as the edit does for the tickets it sees: counted from the
    /// ticket's entry, closed no earlier than the round + the minimum notice (a ticket waiting
    /// long before is reminded at once). A ticket whose customer stopped the countdown gets none.
    @Test(arguments: TestEngines.all)
    func aCreatedPolicyStartsCountdownsItsEditMissed(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: [])
        defer { database.close() }
        let start = clock.now, hour: Int64 = 3_600_000
        try database.write { tx in
            try inactivity.onStageEntered(tx, ticketID: "W", stage: "aguardando_cliente", at: start)
            try inactivity.onStageEntered(tx, ticketID: "L", stage: "aguardando_cliente", at: start - 20 * day)
            try inactivity.onStageEntered(tx, ticketID: "C", stage: "aguardando_cliente", at: start)
            try inactivity.onCustomerActivity(tx, ticketID: "C", at: start)
        }
        try database.write { tx in try InactivityPolicyStore.save(tx, InactivityPresets.padrao[0], at: start) }
        #expect(try database.read { tx in try ["W", "L", "C"].flatMap { try TimerStore.pending(tx, ticketID: $0) } }.isEmpty)
        clock.set(start + hour)
        try scheduler.runOnce()
        let pending = try database.read { tx in
            try ["W", "L", "C"].flatMap { try TimerStore.pending(tx, ticketID: $0) }.map { "\($0.ticketID):\($0.kind):\($0.dueAt - start)" }.sorted()
        }
        #expect(pending == ["L:\(InactivityEngine.actionKind):\(hour + 2 * day)",
                            "W:\(InactivityEngine.actionKind):\(10 * day)", "W:\(InactivityEngine.reminderKind):\(8 * day)"])
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).map { "\($0.ticket?.ticketID ?? ""):\($0.actionDueAtMs - start)" }
                == ["L:\(hour + 2 * day)"], "L, 20 days waiting, reminded at once")
        for offset in [2, 8, 10, 30] {
            clock.set(start + Int64(offset) * day + hour)
            try scheduler.runOnce()
        }
        #expect(try actions(database) == ["L:finalizado:inatividade", "W:finalizado:inatividade"], "C never")
    }

    /// A new policy for the stage (another id) replaces the active one while tickets wait: they
    /// are closed under the new policy, from their stage entry, instead of never; a stage left
    /// without an active policy closes nothing.
    @Test(arguments: TestEngines.all)
    func aReplacedPolicyStillClosesWaitingTickets(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: InactivityPresets.padrao + InactivityPresets.totvs)
        defer { database.close() }
        let start = clock.now
        try database.write { tx in
            try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: start)
            try inactivity.onStageEntered(tx, ticketID: "P", stage: "pendente", at: start)
        }
        clock.set(start + day)
        try database.write { tx in
            try InactivityPolicyStore.save(tx, InactivityPolicy(id: "aguardando-15d", stage: "aguardando_cliente", days: 15, reminderDaysBefore: 3,
                                                                toStage: "finalizado", outcome: "inatividade"), at: clock.now)
            var off = InactivityPresets.totvs[0]
            off.active = false
            try InactivityPolicyStore.save(tx, off, at: clock.now)
        }
        for offset in 2...11 {
            clock.set(start + Int64(offset) * day)
            try scheduler.runOnce()
        }
        #expect(try actions(database).isEmpty)
        clock.set(start + 12 * day)
        try scheduler.runOnce()
        let reminders = try publishedEvents(database, WorkflowV1.InactivityReminder.self)
        #expect(reminders.map { "\($0.ticket?.ticketID ?? ""):\($0.policy)" } == ["A:aguardando-15d"])
        #expect(reminders.first?.actionDueAtMs == start + 15 * day)
        for offset in 13...40 {
            clock.set(start + Int64(offset) * day)
            try scheduler.runOnce()
        }
        #expect(try actions(database) == ["A:finalizado:inatividade"], "A closed at 15 days; P, whose policy was switched off, never")
        #expect(try database.read { tx in try tx.scalar("SELECT at FROM wf_inactivity_actions WHERE ticket_id = 'A'", []) } == .integer(start + 15 * day))
    }

    /// Durations are configuration: with a 100 ms "day", the real scheduler thread finishes the ticket.
    @Test(arguments: TestEngines.all)
    func shortDaysWithTheRealSchedulerThread(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        var configuration = TimerScheduler.Configuration()
        configuration.pollInterval = .milliseconds(20)
        let scheduler = TimerScheduler(database: database, name: "live", configuration: configuration)
        let inactivity = InactivityEngine(dayLength: .milliseconds(100))
        inactivity.register(on: scheduler)
        try database.write { tx in
            try InactivityPolicyStore.install(tx, InactivityPresets.padrao)
            try inactivity.onStageEntered(tx, ticketID: "live", stage: "aguardando_cliente", at: currentMillis())
        }
        scheduler.start()
        defer { scheduler.stop() }
        _ = try waitFor(10) { try !actions(database).isEmpty }
        #expect(try actions(database) == ["live:finalizado:inatividade"])
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).count == 1)
    }
}
