import Foundation
import Storage

/// Policy edits re-plan the countdowns of the tickets already waiting (docs/WORKFLOW-TIME.md,
/// "Policies edited while tickets wait").
///
/// ```swift
/// try database.write { tx in try inactivity.savePolicy(tx, shorter, at: now) }  // waiting tickets now close earlier
/// ```
extension InactivityEngine {
    /// Saves `policy` (``InactivityPolicyStore/save(_:_:at:)``) and re-plans the countdowns of the
    /// tickets waiting in its stage, and in the stage it had before when it moved.
    /// - Returns: how many waiting tickets got a new countdown.
    @discardableResult
    public func savePolicy(_ tx: any SQLExecutor, _ policy: InactivityPolicy, at now: Int64) throws -> Int {
        let before = try InactivityPolicyStore.get(tx, id: policy.id)
        try InactivityPolicyStore.save(tx, policy, at: now)
        return try replan(tx, stages: Set([policy.stage] + (before.map { [$0.stage] } ?? [])), now: now)
    }

    /// Deletes the policy `id` and re-plans its stage's waiting tickets (none are closed any more
    /// unless the stage still has an active policy). - Returns: whether it existed.
    public func deletePolicy(_ tx: any SQLExecutor, id: String, at now: Int64) throws -> Bool {
        guard let before = try InactivityPolicyStore.get(tx, id: id) else { return false }
        _ = try InactivityPolicyStore.delete(tx, id: id)
        try replan(tx, stages: [before.stage], now: now)
        return true
    }

    /// Replaces every policy with `preset`'s and re-plans the stages either names.
    @discardableResult
    public func installPreset(_ tx: any SQLExecutor, _ preset: [InactivityPolicy], at now: Int64) throws -> Int {
        let stages = Set(try InactivityPolicyStore.all(tx).map(\.stage) + preset.map(\.stage))
        try InactivityPolicyStore.install(tx, preset, at: now)
        return try replan(tx, stages: stages, now: now)
    }

    /// How long after a policy edit a re-planned ticket is closed at the earliest: the policy's
    /// reminder lead (its reminder goes out first), at least one day.
    func minimumNotice(_ policy: InactivityPolicy) -> Int64 {
        Int64(max(policy.reminderDaysBefore, 1)) * dayLength.asMillis
    }

    /// Re-plans, at `now`, the countdown of every ticket waiting in `stages` (its current stage
    /// entry, the customer not having acted since) under the stage's active policy, counted from
    /// the entry:
    /// - no active policy: its timers are cancelled;
    /// - the policy's close is at least ``minimumNotice(_:)`` away: reminder and close at the
    ///   policy's deadlines (a shortened policy brings them forward, a new one starts them);
    /// - else (the close is near or past): the close waits until `now` + the notice, but never
    ///   beyond the close the ticket already had pending, and the reminder, when the policy has
    ///   one, goes out at once with that date, unless the ticket was reminded already of a close
    ///   that does not change.
    /// - Returns: how many tickets got a countdown.
    @discardableResult
    func replan(_ tx: any SQLExecutor, stages: Set<String>, now: Int64) throws -> Int {
        var planned = 0
        for stage in stages.sorted() {
            guard let (policy, revision) = try InactivityPolicyStore.activeRevised(tx, stage: stage) else {
                try tx.execute("""
                    UPDATE wf_timers SET state = 'cancelled' WHERE state = 'pending' AND kind LIKE 'inactivity.%'
                    AND ticket_id IN (SELECT ticket_id FROM wf_inactivity_tickets WHERE stage = ?)
                    """, [.text(stage)])
                continue
            }
            // Locked on PostgreSQL: a stage change or reply of one of them waits for the edit, so
            // no countdown it starts meanwhile is replaced by one for the entry it ended. The rows
            // are locked by a statement of their own (deferred: it goes out with the read, no
            // round trip more) and read with their timers by the next, which sees whole what a
            // lock waited for committed (READ COMMITTED). One `SELECT … JOIN wf_timers … FOR
            // UPDATE OF t` waiting for a reminder's transaction answered the timers as they were
            // before it (the reminder still pending): the re-plan set it again and it went out
            // twice (`InactivityTests.aPolicyEditWaitingForAReminderDoesNotSendItAgain`). The read
            // keeps its lock for a ticket that entered the stage between the two statements.
            // The locking statement records the policy's revision as the one the countdowns are
            // planned under (on SQLite it only does that): a ticket entering the stage while
            // this runs (PostgreSQL) keeps the revision it read, older, and the scheduler
            // re-plans it (InactivityEngine+Revisions.swift).
            let mark = "UPDATE wf_inactivity_tickets SET planned_revision = ? WHERE stage = ? AND customer_acted = 0"
            if tx.engine == .postgres {
                try tx.executeDeferred(mark, [.integer(revision), .text(stage)])
            } else {
                try tx.execute(mark, [.integer(revision), .text(stage)])
            }
            let waiting = try waitingCountdowns(tx, where: "t.stage = ? AND t.customer_acted = 0", [.text(stage)],
                                                lock: tx.engine == .postgres ? " FOR UPDATE OF t" : "")
            planned += try replan(tx, waiting, policy: policy, now: now)
        }
        return planned
    }

    /// The countdowns `condition` (on `wf_inactivity_tickets t`) selects, with their pending timers.
    func waitingCountdowns(_ tx: any SQLExecutor, where condition: String, _ params: [SQLValue], lock: String) throws -> [Row] {
        try tx.query("""
            SELECT t.ticket_id, t.entered_at, t.version, a.due_at AS action_due, r.due_at AS reminder_due
            FROM wf_inactivity_tickets t
            LEFT JOIN wf_timers a ON a.ticket_id = t.ticket_id AND a.kind = ? AND a.state = 'pending' AND a.generation = t.version
            LEFT JOIN wf_timers r ON r.ticket_id = t.ticket_id AND r.kind = ? AND r.state = 'pending' AND r.generation = t.version
            WHERE \(condition)
            """ + lock, [.text(Self.actionKind), .text(Self.reminderKind)] + params)
    }

    /// Re-plans each countdown of `rows` (``waitingCountdowns(_:where:_:lock:)``) under `policy`. - Returns: how many.
    func replan(_ tx: any SQLExecutor, _ rows: [Row], policy: InactivityPolicy, now: Int64) throws -> Int {
        for row in rows {
            try replan(tx, ticketID: try row.text("ticket_id"), entry: try row.int("entered_at"), version: try row.int("version"),
                       pendingClose: try row.optionalInt("action_due"), reminderPending: try row.optionalInt("reminder_due") != nil,
                       policy: policy, now: now)
        }
        return rows.count
    }

    private func replan(_ tx: any SQLExecutor, ticketID: String, entry: Int64, version: Int64, pendingClose: Int64?, reminderPending: Bool,
                        policy: InactivityPolicy, now: Int64) throws {
        let (reminder, action) = try deadlines(tx, policy: policy, from: entry)
        let earliest = min(now + minimumNotice(policy), pendingClose ?? .max)
        let close = max(action, earliest)
        let payload = try Payload(policyID: policy.id, stage: policy.stage, actionDueAt: close, notBefore: close > action ? close : nil).json()
        try TimerStore.schedule(tx, ticketID: ticketID, kind: Self.actionKind, dueAt: close, payload: payload, generation: version, now: now)
        guard let reminder, reminder > now || reminderPending || pendingClose != close else {
            return try TimerStore.cancel(tx, ticketID: ticketID, kind: Self.reminderKind)
        }
        try TimerStore.schedule(tx, ticketID: ticketID, kind: Self.reminderKind, dueAt: max(reminder, now), payload: payload,
                                generation: version, now: now)
    }
}
