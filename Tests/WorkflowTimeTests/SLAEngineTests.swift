import Foundation
import Messages
import Storage
import Synchronization
import Testing
import TestSupport
@testable import WorkflowCore

@Suite struct SLAEngineTests {
    func setUp(_ engine: DatabaseEngine) throws -> (any Database, SLAEngine, TimerScheduler, SimulatedClock) {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        let clock = SimulatedClock(0)
        let scheduler = TimerScheduler(database: database, name: "test", clock: clock.function)
        let sla = SLAEngine()
        sla.register(on: scheduler)
        try database.write { tx in
            try SLAPolicyStore.save(tx, SLAPolicy(plan: "*", priority: 0, firstResponseSeconds: 2 * hour,
                                                  nextResponseSeconds: 4 * hour, resolutionSeconds: 16 * hour))
            try SLAPolicyStore.save(tx, SLAPolicy(plan: "*", priority: 1, firstResponseSeconds: 8 * hour,
                                                  nextResponseSeconds: 8 * hour, resolutionSeconds: 40 * hour))
            try SLAPolicyStore.save(tx, SLAPolicy(plan: "premium", priority: 4, firstResponseSeconds: hour / 4,
                                                  nextResponseSeconds: hour / 2, resolutionSeconds: 2 * hour, warningPercent: 50))
        }
        return (database, sla, scheduler, clock)
    }

    @Test(arguments: TestEngines.all)
    func policiesResolveMostSpecificFirst(engine: DatabaseEngine) throws {
        let (database, _, _, _) = try setUp(engine)
        defer { database.close() }
        let found = try database.read { tx in
            [try SLAPolicyStore.resolve(tx, plan: "premium", priority: 4).firstResponseSeconds,
             try SLAPolicyStore.resolve(tx, plan: "premium", priority: 2).firstResponseSeconds,
             try SLAPolicyStore.resolve(tx, plan: "basico", priority: 1).firstResponseSeconds,
             Int64(try SLAPolicyStore.all(tx).count)]
        }
        #expect(found == [hour / 4, 2 * hour, 8 * hour, 3])
        try database.write { tx in _ = try SLAPolicyStore.delete(tx, plan: "*", priority: 0) }
        // No stored match: the built-in table.
        #expect(try database.read { tx in try SLAPolicyStore.resolve(tx, plan: "x", priority: 2) } == SLAPolicy.builtIn(priority: 2))
    }

    /// A ticket over a weekend with a simulated clock: the warning and the breach go out once each,
    /// at the right business instants; lowering the priority withdraws the breach; breaching the
    /// new target sends a new breach, once.
    @Test(arguments: TestEngines.all)
    func warningAndBreachExactlyOnceThroughTimers(engine: DatabaseEngine) throws {
        let (database, sla, scheduler, clock) = try setUp(engine)
        defer { database.close() }
        let opened = sp("2027-03-05 17:00")
        try database.write { tx in
            try sla.onTicketEvent(tx, ticketID: "T1", .opened(plan: "basico", priority: 2, stage: "aguardando_atendimento", calendarID: ""), at: opened)
        }
        let timer = try #require(try database.read { tx in try TimerStore.pending(tx, ticketID: "T1", kind: SLAEngine.timerKind) })
        #expect(local(timer.dueAt) == "2027-03-08 08:36")  // 80% of 2 h, over the weekend

        clock.set(sp("2027-03-07 12:00"))
        #expect(try scheduler.runOnce() == 0)
        clock.set(sp("2027-03-08 08:36"))
        #expect(try scheduler.runOnce() == 1)
        clock.set(sp("2027-03-08 09:00"))
        #expect(try scheduler.runOnce() == 1)
        clock.set(sp("2027-03-08 09:20"))
        #expect(try scheduler.runOnce() == 0)
        // Recomputing again (another event) sends nothing new.
        try database.write { tx in try sla.onTicketEvent(tx, ticketID: "T1", .stageChanged("em_atendimento"), at: sp("2027-03-08 09:20")) }
        let warnings = try publishedEvents(database, WorkflowV1.SLAWarning.self)
        let breaches = try publishedEvents(database, WorkflowV1.SLABreached.self)
        #expect(warnings.map(\.target) == [.firstResponse])
        #expect(warnings.first?.percentElapsed == 80)
        #expect(breaches.map(\.target) == [.firstResponse])
        #expect(breaches.first.map { local($0.dueAtMs) } == "2027-03-08 09:00")
        #expect(breaches.first?.ticket?.ticketID == "T1")

        // Lowered to baixa (8 h): the breach is withdrawn, the target runs again.
        try database.write { tx in try sla.onTicketEvent(tx, ticketID: "T1", .priorityChanged(1), at: sp("2027-03-08 09:30")) }
        let first = try database.read { tx in try sla.storedTargets(tx, ticketID: "T1") }.first { $0.kind == .firstResponse }!
        #expect(first.status == .running)
        #expect(first.dueAt.map { local($0) } == "2027-03-08 15:00")
        // The earlier warning is withdrawn too: a new episode warns at 80% of 8 h (2.5 h spent → 13:24)
        // and breaches at 15:00, once each.
        let next = try #require(try database.read { tx in try TimerStore.pending(tx, ticketID: "T1", kind: SLAEngine.timerKind) })
        #expect(local(next.dueAt) == "2027-03-08 13:24")
        clock.set(sp("2027-03-08 13:24"))
        #expect(try scheduler.runOnce() == 1)
        clock.set(sp("2027-03-08 15:00"))
        #expect(try scheduler.runOnce() == 1)
        #expect(try scheduler.runOnce() == 0)
        #expect(try publishedEvents(database, WorkflowV1.SLABreached.self).count == 2)
        #expect(try publishedEvents(database, WorkflowV1.SLAWarning.self).map(\.target) == [.firstResponse, .firstResponse])
    }

    @Test(arguments: TestEngines.all)
    func staleTimersAreIgnoredAndPausesCancelTheTimer(engine: DatabaseEngine) throws {
        let (database, sla, scheduler, clock) = try setUp(engine)
        defer { database.close() }
        try database.write { tx in
            try sla.onTicketEvent(tx, ticketID: "T2", .opened(plan: "basico", priority: 2, stage: "em_atendimento", calendarID: ""), at: sp("2027-03-01 09:00"))
            try sla.onTicketEvent(tx, ticketID: "T2", .agentResponse, at: sp("2027-03-01 09:10"))
            try sla.onTicketEvent(tx, ticketID: "T2", .stageChanged("aguardando_cliente"), at: sp("2027-03-01 09:30"))
        }
        // Paused: nothing can change by itself, so no timer.
        #expect(try database.read { tx in try TimerStore.pending(tx, ticketID: "T2") }.isEmpty)
        // A stale timer (old generation) does nothing when it fires.
        try database.write { tx in try TimerStore.schedule(tx, ticketID: "T2", kind: SLAEngine.timerKind, dueAt: sp("2027-03-01 10:00"), generation: 1) }
        clock.set(sp("2027-03-10 10:00"))
        #expect(try scheduler.runOnce() == 1)
        #expect(try publishedEvents(database, WorkflowV1.SLABreached.self).isEmpty)
        let resolution = try database.read { tx in try sla.storedTargets(tx, ticketID: "T2") }.first { $0.kind == .resolution }!
        #expect(resolution.status == .paused)
        #expect(resolution.elapsedMillis == 30 * 60_000)
        // The customer answers ten days later: the clock resumes with 30 min spent.
        try database.write { tx in
            try sla.onTicketEvent(tx, ticketID: "T2", .customerReply, at: sp("2027-03-11 09:00"))
            try sla.onTicketEvent(tx, ticketID: "T2", .stageChanged("em_atendimento"), at: sp("2027-03-11 09:00"))
        }
        let resumed = try database.read { tx in try sla.storedTargets(tx, ticketID: "T2") }
        #expect(resumed.first { $0.kind == .resolution }?.dueAt.map { local($0) } == "2027-03-12 14:30")
        #expect(resumed.first { $0.kind == .nextResponse }?.status == .running)
        #expect(try database.read { tx in try sla.history(tx, ticketID: "T2") }.count == 5)
    }

    @Test(arguments: TestEngines.all)
    func aStricterPolicyBreachesAtOnceAndOnlyOnce(engine: DatabaseEngine) throws {
        let (database, sla, _, _) = try setUp(engine)
        defer { database.close() }
        try database.write { tx in
            try sla.onTicketEvent(tx, ticketID: "T3", .opened(plan: "premium", priority: 2, stage: "em_atendimento", calendarID: ""), at: sp("2027-03-01 09:00"))
            // Urgente in premium: first response 15 min, already 1 h late → breach now.
            try sla.onTicketEvent(tx, ticketID: "T3", .priorityChanged(4), at: sp("2027-03-01 10:15"))
            try sla.recompute(tx, ticketID: "T3", now: sp("2027-03-01 10:16"))
        }
        let breaches = try publishedEvents(database, WorkflowV1.SLABreached.self)
        #expect(breaches.count == 1)
        #expect(breaches.first.map { local($0.dueAtMs) } == "2027-03-01 09:15")
        // First response warned and breached at once: only the breach is sent; resolution (2 h,
        // warning at 50%) is past its warning but not late.
        #expect(try publishedEvents(database, WorkflowV1.SLAWarning.self).map(\.target) == [.resolution])
    }

    /// A customer reply is recorded at the instant the customer wrote (intake's `replied_at_ms`),
    /// which can be earlier than what the ticket's SLA already knows when the event comes late
    /// (workflow restarted, a queue backlog). The reply takes its place in the history, but the
    /// SLA is not recomputed as of that earlier instant: later events stay counted, and a warning
    /// the timer already sent is neither withdrawn nor sent a second time.
    @Test(arguments: TestEngines.all)
    func aLateEventNeverTurnsTheClockBack(engine: DatabaseEngine) throws {
        let (database, sla, scheduler, clock) = try setUp(engine)
        defer { database.close() }
        try database.write { tx in
            try sla.onTicketEvent(tx, ticketID: "L", .opened(plan: "basico", priority: 2, stage: "em_atendimento", calendarID: ""),
                                  at: sp("2027-03-01 09:00"))
            try sla.onTicketEvent(tx, ticketID: "L", .agentResponse, at: sp("2027-03-01 09:10"))
        }
        // Resolution 16 h, warning at 80% (12 h 48 min): Monday 9 h + Tuesday 3 h 48 min → Tue 11:48.
        clock.set(sp("2027-03-02 11:48"))
        #expect(try scheduler.runOnce() == 1)
        #expect(try publishedEvents(database, WorkflowV1.SLAWarning.self).map(\.target) == [.resolution])
        // The agent writes at 11:50; the customer's reply of 11:30 is delivered only at 11:55.
        try database.write { tx in
            try sla.onTicketEvent(tx, ticketID: "L", .agentResponse, at: sp("2027-03-02 11:50"))
            try sla.onTicketEvent(tx, ticketID: "L", .customerReply, at: sp("2027-03-02 11:30"))
        }
        let targets = try database.read { tx in try sla.storedTargets(tx, ticketID: "L") }
        // The reply of 11:30 was answered at 11:50: its cycle is met, not running.
        let next = try #require(targets.first { $0.kind == .nextResponse })
        #expect(next.status == .met && next.elapsedMillis == 20 * 60_000 && next.stoppedAt == sp("2027-03-02 11:50"), "\(next)")
        // Resolution counted to 11:50 (the latest instant the SLA knew), not back to 11:30.
        let resolution = try #require(targets.first { $0.kind == .resolution })
        #expect(resolution.status == .running && resolution.elapsedMillis == (12 * 60 + 50) * 60_000)
        clock.set(sp("2027-03-02 12:00"))
        try scheduler.runOnce()
        #expect(try publishedEvents(database, WorkflowV1.SLAWarning.self).map(\.target) == [.resolution], "warned once")
        let notices = try database.read { tx in
            try tx.query("SELECT withdrawn_at FROM wf_sla_notices WHERE ticket_id = 'L'").map { $0["withdrawn_at"].isNull }
        }
        #expect(notices == [true], "the warning stays sent, never withdrawn")
        // An edit recomputing on an instance whose clock lags five minutes does not either.
        try database.write { tx in try sla.recompute(tx, ticketID: "L", now: sp("2027-03-02 11:40")) }
        clock.set(sp("2027-03-02 12:05"))
        try scheduler.runOnce()
        #expect(try publishedEvents(database, WorkflowV1.SLAWarning.self).count == 1)
        #expect(try database.read { tx in try sla.storedTargets(tx, ticketID: "L") }.first { $0.kind == .resolution }?.warnAt != nil)
    }

    /// Ticket events and timer recomputations of one ticket from several threads at once (as
    /// the timer thread and RPC workers do) serialize on the ticket: no lost or conflicting writes.
    @Test(arguments: TestEngines.all)
    func concurrentWorkOnOneTicketSerializes(engine: DatabaseEngine) throws {
        let (database, sla, _, _) = try setUp(engine)
        defer { database.close() }
        let opened = sp("2027-03-01 09:00")
        try database.write { tx in
            try sla.onTicketEvent(tx, ticketID: "C", .opened(plan: "basico", priority: 2, stage: "em_atendimento", calendarID: ""), at: opened)
        }
        let failures = Mutex<[String]>([])
        let threads = (0..<3).map { worker in
            Thread {
                for i in 0..<30 {
                    do {
                        try database.write { tx in
                            if worker == 2 {
                                try sla.recompute(tx, ticketID: "C", now: opened + Int64(i) * 60_000)
                            } else {
                                try sla.onTicketEvent(tx, ticketID: "C", i % 2 == 0 ? .customerReply : .agentResponse, at: opened + Int64(i) * 60_000)
                            }
                        }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { Thread.sleep(forTimeInterval: 0.02) }
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(try database.read { tx in try sla.history(tx, ticketID: "C") }.count == 61)
        #expect(try database.read { tx in try sla.storedTargets(tx, ticketID: "C") }.count == 3)
    }

    /// The queue filter by SLA state, over the stored targets.
    @Test(arguments: TestEngines.all)
    func queueFilterBySLAState(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all + [
            Migration(version: 901, name: "test_tickets", sql: "CREATE TABLE test_tickets (id TEXT PRIMARY KEY)")])
        defer { database.close() }
        let sla = SLAEngine()
        let start = sp("2027-03-01 09:00")
        try database.write { tx in
            for id in ["late", "risky", "waiting", "fine", "answered-late"] {
                try tx.execute("INSERT INTO test_tickets (id) VALUES (?)", [.text(id)])
                try sla.onTicketEvent(tx, ticketID: id, .opened(plan: "x", priority: 2, stage: "em_atendimento", calendarID: ""), at: start)
            }
            // Built-in normal policy: first response 4 h (warning at 80% = 3 h 12 min).
            try sla.recompute(tx, ticketID: "late", now: sp("2027-03-01 13:30"))
            try sla.recompute(tx, ticketID: "risky", now: sp("2027-03-01 12:30"))
            try sla.onTicketEvent(tx, ticketID: "waiting", .agentResponse, at: sp("2027-03-01 09:10"))
            try sla.onTicketEvent(tx, ticketID: "waiting", .stageChanged("aguardando_cliente"), at: sp("2027-03-01 09:20"))
            try sla.onTicketEvent(tx, ticketID: "fine", .agentResponse, at: sp("2027-03-01 09:10"))
            try sla.onTicketEvent(tx, ticketID: "answered-late", .agentResponse, at: sp("2027-03-01 14:00"))
        }
        func ids(_ state: SLAQueueFilter.State) throws -> [String] {
            let (condition, params) = SLAQueueFilter.condition(state, ticketID: "t.id", now: sp("2027-03-01 12:40"))
            return try database.read { tx in
                try tx.query("SELECT t.id FROM test_tickets t WHERE \(condition) ORDER BY t.id", params).map { try $0.text("id") }
            }
        }
        #expect(try ids(.breached) == ["late"])
        #expect(try ids(.atRisk) == ["risky"])
        #expect(try ids(.paused) == ["waiting"])
        #expect(try ids(.onTrack) == ["answered-late", "fine"], "neither at risk nor paused")

        // The same states as the queue's rows show them (ListQueue's sla_state / sla_due_at_ms).
        let states = try database.read { tx in
            try SLAQueueFilter.states(tx, ticketIDs: ["late", "risky", "waiting", "fine", "answered-late", "unknown"], now: sp("2027-03-01 12:40"))
        }
        #expect(states["late"]?.state == "breached" && states["late"]?.dueAt == sp("2027-03-01 13:00"))
        #expect(states["risky"]?.state == "at_risk" && states["risky"]?.dueAt == sp("2027-03-01 13:00"))
        #expect(states["waiting"]?.state == "paused" && states["waiting"]?.dueAt == 0, "\(String(describing: states["waiting"]))")
        #expect(states["fine"]?.state == "on_time" && (states["fine"]?.dueAt ?? 0) > sp("2027-03-01 12:40"))
        // An on-time clock says when it will be at risk (the page repaints its badge then); the others say nothing.
        let fine = states["fine"]
        #expect((fine?.warnAt ?? 0) > sp("2027-03-01 12:40") && (fine?.warnAt ?? 0) < (fine?.dueAt ?? 0), "\(String(describing: fine))")
        #expect(states["risky"]?.warnAt == 0 && states["late"]?.warnAt == 0 && states["waiting"]?.warnAt == 0)
        #expect(states["unknown"] == nil)
        // A running target past its due time shows as breached before its timer marks it.
        let later = try database.read { tx in try SLAQueueFilter.states(tx, ticketIDs: ["risky"], now: sp("2027-03-01 13:05")) }
        #expect(later["risky"]?.state == "breached")
    }
}
