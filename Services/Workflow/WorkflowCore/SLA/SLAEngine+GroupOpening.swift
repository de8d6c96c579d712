import Storage

extension SLAEngine {
    /// Declares in `statement` the parts of ``addGroupOpening(_:ticketID:_:at:to:)``: the guard
    /// `sla` (the SLA row at version 1), then the first event, the targets and the timer of the
    /// tickets whose row it wrote.
    static func declareGroupOpening(_ statement: inout GroupedGuardedWrites) {
        statement.declareGuard("sla", into: "wf_sla_tickets",
                               columns: [.text("ticket_id"), .text("plan"), .integer("priority"), .text("stage"), .bigint("version"),
                                         .bigint("updated_at")], conflict: "ticket_id")
        statement.declare("sla_events", columns: [.text("ticket_id"), .bigint("at"), .text("kind"), .text("detail")], sql: """
            INSERT INTO wf_sla_events (ticket_id, seq, at, kind, detail) SELECT x.ticket_id, 1, x.at, x.kind, x.detail
            FROM {rows} JOIN sla ON sla.ticket_id = x.ticket_id
            """)
        statement.declare("sla_targets", columns: [.text("ticket_id"), .integer("target"), .integer("cycle"), .text("status"),
                                                   .bigint("target_ms"), .bigint("elapsed_ms"), .bigint("due_at"), .bigint("warn_at"),
                                                   .bigint("stopped_at")], sql: """
            INSERT INTO wf_sla_targets (ticket_id, target, cycle, status, target_ms, elapsed_ms, due_at, warn_at, stopped_at)
            SELECT x.ticket_id, x.target, x.cycle, x.status, x.target_ms, x.elapsed_ms, x.due_at, x.warn_at, x.stopped_at
            FROM {rows} JOIN sla ON sla.ticket_id = x.ticket_id
            """)
        TimerStore.declareGroupedInserts("sla_timers", guardName: "sla", in: &statement)
    }

    /// ``openingWrites(_:ticketID:_:at:into:)`` for one ticket of a group statement declared by
    /// ``declareGroupOpening(_:)``: the same rows, added to its parts.
    /// - Returns: `false` (nothing added) when the ordinary path must handle the opening (a
    ///   warning or breach is already due).
    func addGroupOpening(_ tx: any SQLExecutor, ticketID: String, _ event: SLAEvent, at: Int64,
                         to statement: inout GroupedGuardedWrites) throws -> Bool {
        let configuration = try config.snapshot(tx)
        let sla = clock.compute([TimedSLAEvent(at, event)], now: at, policy: configuration.policy(plan:priority:),
                                calendar: configuration.calendar)
        guard !sla.targets.contains(where: \.noticeDue) else { return false }
        statement.append("sla", [.text(ticketID), .text(sla.plan), .integer(Int64(sla.priority)), .text(sla.stage), .integer(1), .integer(at)])
        statement.append("sla_events", [.text(ticketID), .integer(at), .text(event.kind), .text(event.detail)])
        for target in sla.targets {
            statement.append("sla_targets", [.text(ticketID), .integer(Int64(target.kind.rawValue)), .integer(Int64(target.cycle)),
                                             .text(target.status.rawValue), .integer(target.targetMillis), .integer(target.elapsedMillis),
                                             optional(target.dueAt), optional(target.warnAt), optional(target.stoppedAt)])
        }
        if let deadline = sla.nextDeadline {
            TimerStore.appendGroupedInsert("sla_timers", ticketID: ticketID, kind: Self.timerKind, dueAt: deadline, generation: 1, now: at,
                                           to: &statement)
        }
        return true
    }
}
