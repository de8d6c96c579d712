import Storage

extension MetricsRecorder {
    /// Declares in `statement` the guard `fact` of ``addGroupOpening(_:ticketID:_:stage:at:to:)``:
    /// the metric fact row of each opened ticket.
    static func declareGroupOpening(_ statement: inout GroupedGuardedWrites) {
        statement.declareGuard("fact", into: "wf_metric_tickets", columns: [
            .text("ticket_id"), .bigint("opened_at"), .bigint("opened_day"), .text("organization_id"), .bigint("category"), .text("product"),
            .text("module"), .bigint("priority"), .text("plan"), .text("group_id"), .text("agent_id"), .bigint("access_level"),
            .text("stage"), .bigint("stage_entered_at"), .bigint("is_open"), .bigint("transfers"), .bigint("ping_pongs"), .bigint("reopens"),
        ], conflict: "ticket_id")
    }

    /// ``openingWrites(_:ticketID:_:stage:at:into:)`` for one ticket of a group statement declared
    /// by ``declareGroupOpening(_:)``: the fact row; the counters are not part of the statement.
    /// - Returns: what to run with the guards that inserted: the counters (added to the
    ///   transaction's sums, ``summingCounters(_:_:)``, or written at once outside them) when the
    ///   fact row was new — a ticket opened twice counts once.
    func addGroupOpening(_ tx: any SQLExecutor, ticketID: String, _ d: TicketDimensions, stage: String, at: Int64,
                         to statement: inout GroupedGuardedWrites) -> (Set<String>) throws -> Void {
        statement.append("fact", factParams(ticketID, d, stage: stage, at: at) + [.integer(1), .integer(0), .integer(0), .integer(0)])
        return { inserted in
            guard inserted.contains("fact") else { return }
            try self.addOpened(tx, at: at, d, stage: stage)
        }
    }
}
