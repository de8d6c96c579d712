import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// Policy edits re-plan the countdowns of the tickets already waiting (docs/WORKFLOW-TIME.md,
/// "Policies edited while tickets wait"), with the fixtures of ``InactivityTests``.
extension InactivityTests {
    /// `padrao` (10 days, reminder 2 before) cut to 3 days with a reminder 1 day before while
    /// tickets wait: each closes at its new, earlier deadline; one whose new deadline is past or
    /// near gets the reminder at once and is closed no earlier than the notice (the reminder lead)
    /// after the edit, and never later than its old deadline; a ticket reminded already of an
    /// unchanged close is not reminded again; a countdown the customer stopped stays stopped.
    @Test(arguments: TestEngines.all)
    func aShortenedPolicyClosesWaitingTicketsAtTheNewDeadline(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: InactivityPresets.padrao)
        defer { database.close() }
        let t0 = clock.now, tenth = day / 10
        func at(_ tenths: Int64) { clock.set(t0 + tenths * tenth) }
        try database.write { tx in try inactivity.onStageEntered(tx, ticketID: "B", stage: "aguardando_cliente", at: t0) }
        at(50)
        try database.write { tx in
            try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: clock.now)
            try inactivity.onStageEntered(tx, ticketID: "E", stage: "aguardando_cliente", at: clock.now)
        }
        at(60)
        try database.write { tx in try inactivity.onCustomerActivity(tx, ticketID: "E", at: clock.now) }  // E's customer answered
        at(80)
        #expect(try scheduler.runOnce() == 1)  // B reminded of its close at day 10
        at(90)
        try database.write { tx in try inactivity.onStageEntered(tx, ticketID: "F", stage: "aguardando_cliente", at: clock.now) }
        at(92)
        let planned = try database.write { tx in
            try inactivity.savePolicy(tx, InactivityPolicy(id: "aguardando-cliente-10d", stage: "aguardando_cliente", days: 3, reminderDaysBefore: 1,
                                                           toStage: "finalizado", outcome: "inatividade"), at: clock.now)
        }
        #expect(planned == 3, "A, B and F; not E")
        #expect(try database.read { tx in try TimerStore.pending(tx, ticketID: "E") }.isEmpty)
        // Nothing is closed at the edit: A (deadline day 8, past) is reminded at once.
        try scheduler.runOnce()
        #expect(try actions(database).isEmpty)
        var reminders = try publishedEvents(database, WorkflowV1.InactivityReminder.self)
        #expect(reminders.map { "\($0.ticket?.ticketID ?? ""):\($0.actionDueAtMs - t0)" } == ["B:\(100 * tenth)", "A:\(102 * tenth)"])
        // Saving the policy again unchanged (a tenth of a day later) moves nothing and reminds no one again.
        func pendingDue() throws -> [String] {
            try database.read { tx in try ["A", "B", "E", "F"].flatMap { try TimerStore.pending(tx, ticketID: $0) }.map { "\($0.ticketID):\($0.kind):\($0.dueAt)" } }
        }
        let before = try pendingDue()
        at(93)
        try database.write { tx in
            let same = try #require(try InactivityPolicyStore.active(tx, stage: "aguardando_cliente"))
            try inactivity.savePolicy(tx, same, at: clock.now)
        }
        try scheduler.runOnce()
        #expect(try pendingDue() == before)
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).count == 2)
        at(100)
        try scheduler.runOnce()
        #expect(try actions(database) == ["B:finalizado:inatividade"], "B at its old deadline, earlier than the notice's end")
        at(102)
        try scheduler.runOnce()
        #expect(try actions(database) == ["B:finalizado:inatividade", "A:finalizado:inatividade"])
        // F entered at day 9: reminded at day 11 and closed at day 12 instead of days 17 and 19.
        at(110)
        try scheduler.runOnce()
        reminders = try publishedEvents(database, WorkflowV1.InactivityReminder.self)
        #expect(reminders.map { "\($0.ticket?.ticketID ?? ""):\($0.actionDueAtMs - t0)" }.last == "F:\(120 * tenth)")
        at(120)
        try scheduler.runOnce()
        #expect(try actions(database).last == "F:finalizado:inatividade")
        #expect(try database.read { tx in try tx.scalar("SELECT at FROM wf_inactivity_actions WHERE ticket_id = 'F'", []) } == .integer(t0 + 12 * day))
        at(400)
        try scheduler.runOnce()
        #expect(try actions(database).count == 3, "E never")
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).count == 3, "one reminder each for A, B and F")
    }

    /// A stage given a policy only now starts countdowns for the tickets already in it, from
    /// their entry: one waiting long past the new deadline is reminded at once and closed after
    /// the notice. Deactivating the policy cancels the countdowns; activating it again restarts
    /// them.
    @Test(arguments: TestEngines.all)
    func aNewPolicyStartsCountdownsForTicketsAlreadyWaiting(engine: DatabaseEngine) throws {
        let (database, inactivity, scheduler, clock) = try setUp(engine, preset: [])
        defer { database.close() }
        let t0 = clock.now
        try database.write { tx in
            try inactivity.onStageEntered(tx, ticketID: "G", stage: "aguardando_cliente", at: t0 - 20 * day)
            try inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: t0)
            try inactivity.onStageEntered(tx, ticketID: "C", stage: "aguardando_cliente", at: t0)
            try inactivity.onStageEntered(tx, ticketID: "X", stage: "em_atendimento", at: t0)
        }
        clock.set(t0 + day)
        try database.write { tx in try inactivity.onCustomerActivity(tx, ticketID: "C", at: clock.now) }
        try database.write { tx in try inactivity.onStageEntered(tx, ticketID: "B", stage: "aguardando_cliente", at: clock.now) }
        clock.set(t0 + 5 * day)
        var policy = InactivityPresets.padrao[0]
        #expect(try database.write { tx in try inactivity.savePolicy(tx, policy, at: clock.now) } == 3)
        #expect(try database.read { tx in try TimerStore.pending(tx, ticketID: "C") + TimerStore.pending(tx, ticketID: "X") }.isEmpty)
        try scheduler.runOnce()
        #expect(try actions(database).isEmpty, "G, 20 days waiting, is not closed at the edit")
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).map { "\($0.ticket?.ticketID ?? ""):\($0.actionDueAtMs - t0)" }
                == ["G:\(7 * day)"])
        for offset in 6...9 {
            clock.set(t0 + Int64(offset) * day)
            try scheduler.runOnce()
        }
        #expect(try actions(database) == ["G:finalizado:inatividade"])
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).map { $0.ticket?.ticketID ?? "" } == ["G", "A", "B"])
        // Switched off on day 9.5: A and B are not closed; on again on day 12: A (day 10, past)
        // is closed two days after, B (day 11, past) too, both reminded again of the new date.
        clock.set(t0 + 9 * day + day / 2)
        policy.active = false
        #expect(try database.write { tx in try inactivity.savePolicy(tx, policy, at: clock.now) } == 0)
        #expect(try database.read { tx in try TimerStore.pending(tx, ticketID: "A") + TimerStore.pending(tx, ticketID: "B") }.isEmpty)
        clock.set(t0 + 12 * day)
        try scheduler.runOnce()
        #expect(try actions(database) == ["G:finalizado:inatividade"])
        policy.active = true
        #expect(try database.write { tx in try inactivity.savePolicy(tx, policy, at: clock.now) } == 2)
        try scheduler.runOnce()
        #expect(try publishedEvents(database, WorkflowV1.InactivityReminder.self).suffix(2).map { "\($0.ticket?.ticketID ?? ""):\($0.actionDueAtMs - t0)" }
                .sorted() == ["A:\(14 * day)", "B:\(14 * day)"])
        clock.set(t0 + 14 * day)
        try scheduler.runOnce()
        #expect(try actions(database) == ["G:finalizado:inatividade", "A:finalizado:inatividade", "B:finalizado:inatividade"])
    }
}

extension TimeAPITests {
    /// Through the API (`PutInactivityPolicy`, `DeleteInactivityPolicy`, `InstallInactivityPreset`):
    /// the waiting ticket's timers move in the edit's transaction.
    @Test(arguments: TestEngines.all)
    func policyEditsThroughTheAPIReplanWaitingTickets(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-03-01 10:00")
        defer { withExtendedLifetime(fixture) {} }
        let client = fixture.client, clock = fixture.clock, database = fixture.database, time = fixture.time
        let admin = principal(.agent, admin: true, level: 9)
        let method = WorkflowV1.WorkflowTime.self
        let t0 = clock.now
        func due(_ kind: String) throws -> Int64? {
            try database.read { tx in try TimerStore.pending(tx, ticketID: "A", kind: kind) }.map { $0.dueAt - t0 }
        }
        var preset = WorkflowV1.InstallInactivityPresetRequest()
        preset.preset = "padrao"
        _ = try client.call(method.installInactivityPreset, preset, options: admin)
        try database.write { tx in try time.inactivity.onStageEntered(tx, ticketID: "A", stage: "aguardando_cliente", at: t0) }
        #expect(try due(InactivityEngine.actionKind) == 10 * day && due(InactivityEngine.reminderKind) == 8 * day)
        clock.set(t0 + day)
        var request = WorkflowV1.PutInactivityPolicyRequest()
        request.policy = InactivityMapping.spec(InactivityPolicy(id: "aguardando-cliente-10d", stage: "aguardando_cliente", days: 4,
                                                                 reminderDaysBefore: 1, toStage: "finalizado", outcome: "inatividade"))
        _ = try client.call(method.putInactivityPolicy, request, options: admin)
        #expect(try due(InactivityEngine.actionKind) == 4 * day && due(InactivityEngine.reminderKind) == 3 * day)
        var delete = WorkflowV1.DeleteInactivityPolicyRequest()
        delete.id = "aguardando-cliente-10d"
        #expect(try client.call(method.deleteInactivityPolicy, delete, options: admin).deleted)
        #expect(try due(InactivityEngine.actionKind) == nil && due(InactivityEngine.reminderKind) == nil)
        _ = try client.call(method.installInactivityPreset, preset, options: admin)
        #expect(try due(InactivityEngine.actionKind) == 10 * day && due(InactivityEngine.reminderKind) == 8 * day)
    }
}
