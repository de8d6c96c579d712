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
}
