import Storage

extension InactivityEngine {
    /// Declares in `statement` the parts of ``addGroupOpening(_:ticketID:stage:at:to:)``: the guard
    /// `entry` (the ticket's first stage entry, version 1), then the stage policy's timers of the
    /// tickets whose entry it wrote.
    static func declareGroupOpening(_ statement: inout GroupedGuardedWrites) {
        statement.declareGuard("entry", into: "wf_inactivity_tickets",
                               columns: [.text("ticket_id"), .text("stage"), .bigint("entered_at"), .bigint("version"), .bigint("planned_revision")],
                               conflict: "ticket_id")
        TimerStore.declareGroupedInserts("entry_timers", guardName: "entry", in: &statement)
    }

    /// ``openingWrites(_:ticketID:stage:at:into:)`` for one ticket of a group statement declared
    /// by ``declareGroupOpening(_:)``: the same rows, added to its parts.
    func addGroupOpening(_ tx: any SQLExecutor, ticketID: String, stage: String, at: Int64, to statement: inout GroupedGuardedWrites) throws {
        let plan = try config.snapshot(tx).inactivityPlan(stage: stage)
        statement.append("entry", [.text(ticketID), .text(stage), .integer(at), .integer(1), .integer(plan.revision)])
        guard let policy = plan.policy else { return }
        for timer in try timers(tx, ticketID: ticketID, policy: policy, from: at, version: 1) {
            TimerStore.appendGroupedInsert("entry_timers", ticketID: ticketID, kind: timer.kind, dueAt: timer.dueAt, payload: timer.payload,
                                           generation: 1, now: at, to: &statement)
        }
    }
}
