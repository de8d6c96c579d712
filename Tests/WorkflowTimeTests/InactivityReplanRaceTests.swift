import Foundation
import Messages
import Storage
import Synchronization
import Testing
import TestSupport
@testable import WorkflowCore

/// A policy edit racing a countdown's timer, with the fixtures of ``InactivityTests``.
extension InactivityTests {
    /// The reminder of a waiting ticket goes out while the policy is saved again unchanged: the
    /// re-plan waits for the reminder's transaction (its lock on the ticket's countdown row) and
    /// then sees the reminder sent, so it is not set again — one reminder, not two. On PostgreSQL
    /// the re-plan read the countdown and its pending timers by one `SELECT … FOR UPDATE OF t`,
    /// which, once the lock it waited for was granted, answered the timers as they were before
    /// the reminder went out (still pending): the reminder was set again and sent twice.
    @Test(arguments: TestEngines.all)
    func aPolicyEditWaitingForAReminderDoesNotSendItAgain(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: InactivityPresets.padrao)
        defer { database.close() }
        let t0 = clock.now
        try database.write { tx in try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: t0) }
        clock.set(t0 + 8 * day + day / 2)  // the reminder (day 8) is due, the close (day 10) is not
        // The reminder's transaction holds the countdown's row while the edit starts.
        let reminding = DispatchSemaphore(value: 0)
        scheduler.on(InactivityEngine.reminderKind) { timer, tx, now in
            try inactivity.fireReminder(timer, tx, now: now)
            reminding.signal()
            Thread.sleep(forTimeInterval: 0.5)
        }
        let policy = try #require(try database.read { tx in try InactivityPolicyStore.active(tx, stage: "aguardando_cliente") })
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            do {
                if index == 0 {
                    try scheduler.runOnce()
                } else {
                    reminding.wait()
                    try database.write { tx in try inactivity.savePolicy(tx, policy, at: clock.now) }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(try database.read { tx in try TimerStore.pending(tx, ticketID: "A", kind: InactivityEngine.reminderKind) } == nil,
                "the reminder was sent: not set again")
        try scheduler.runOnce()
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).map { $0.actionDueAtMs - t0 } == [10 * day])
        clock.set(t0 + 10 * day)
        try scheduler.runOnce()
        #expect(try actions(database) == ["A:finalizado:inatividade"])
    }

    /// Runs `edit` while a transaction moving ticket "A" into Aguardando cliente at `at` is open:
    /// the entry reads the stage's policy and writes its countdown, then waits (up to 10 s on
    /// PostgreSQL, where the edit does not wait for it; briefly on SQLite, whose single writer
    /// makes the edit wait) for the edit to commit before committing itself. - Returns: what
    /// `edit` returned.
    func enterWhileEditing(_ engine: DatabaseEngine, _ database: any Database, _ inactivity: InactivityEngine, at: Int64,
                           edit: @escaping @Sendable (any SQLExecutor) throws -> Int) throws -> Int {
        try database.write { tx in try inactivity.onStageEntered(tx, ticketID: "A", stage: "em_atendimento", at: at - day) }
        let entered = DispatchSemaphore(value: 0), edited = DispatchSemaphore(value: 0)
        let failures = Mutex<[String]>([]), planned = Mutex(-1)
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            do {
                if index == 0 {
                    try database.write { tx in
                        try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: at)
                        entered.signal()
                        _ = edited.wait(timeout: .now() + (engine == .postgres ? 10 : 0.3))
                    }
                } else {
                    entered.wait()
                    let count = try database.write { tx in try edit(tx) }
                    planned.withLock { $0 = count }
                    edited.signal()
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        return planned.withLock { $0 }
    }

    /// A ticket entering the stage while a shortening edit runs: on PostgreSQL the edit does not
    /// see it (its countdown planned under the old policy), and the scheduler's next round
    /// re-plans it, so it is closed at the new deadline, not the old one (before 2026-12 it was,
    /// a known gap). On SQLite the edit waits for the entry and re-plans it itself.
    @Test(arguments: TestEngines.all)
    func aTicketEnteringWhileAShorteningEditRunsClosesAtTheNewDeadline(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: InactivityPresets.padrao)
        defer { database.close() }
        let t0 = clock.now
        var shorter = InactivityPresets.padrao[0]
        shorter.days = 5
        let planned = try enterWhileEditing(engine, database, inactivity, at: t0) { [shorter] tx in
            try inactivity.savePolicy(tx, shorter, at: t0)
        }
        #expect(planned == (engine == .postgres ? 0 : 1), "the race: PostgreSQL's edit does not see the entry")
        clock.set(t0 + 60_000)
        try scheduler.runOnce()
        #expect(try database.read { tx in try TimerStore.pending(tx, ticketID: "A", kind: InactivityEngine.actionKind) }?.dueAt == t0 + 5 * day)
        for offset in [3, 5, 10] {
            clock.set(t0 + Int64(offset) * day)
            try scheduler.runOnce()
            if offset == 5 { #expect(try actions(database) == ["A:finalizado:inatividade"], "closed at the new 5 days") }
        }
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).map { $0.actionDueAtMs - t0 } == [5 * day])
        #expect(try actions(database).count == 1)
    }

    /// A ticket entering a stage while a policy is created for it: on PostgreSQL its entry read
    /// no policy and the edit does not see it; the scheduler's next round starts its countdown,
    /// from its entry (here the policy's creation), so it is reminded and closed (before 2026-12
    /// it never was).
    @Test(arguments: TestEngines.all)
    func aTicketEnteringWhileAPolicyIsCreatedGetsItsCountdown(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: [])
        defer { database.close() }
        let t0 = clock.now
        let planned = try enterWhileEditing(engine, database, inactivity, at: t0) { tx in
            try inactivity.savePolicy(tx, InactivityPresets.padrao[0], at: t0)
        }
        #expect(planned == (engine == .postgres ? 0 : 1), "the race: PostgreSQL's edit does not see the entry")
        clock.set(t0 + 60_000)
        try scheduler.runOnce()
        for offset in [8, 10] {
            clock.set(t0 + Int64(offset) * day)
            try scheduler.runOnce()
        }
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).map { $0.actionDueAtMs - t0 } == [10 * day])
        #expect(try actions(database) == ["A:finalizado:inatividade"])
    }
}
