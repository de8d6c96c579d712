import Storage

extension WorkflowTime {
    /// Declares in `statement` the parts of ``addGroupOpening(_:ticketID:dimensions:stage:at:to:)``
    /// (SLA, inactivity, then the metric fact: last, as in ``openingWrites(_:ticketID:dimensions:stage:calendarID:at:into:)``).
    static func declareGroupOpening(_ statement: inout GroupedGuardedWrites) {
        SLAEngine.declareGroupOpening(&statement)
        InactivityEngine.declareGroupOpening(&statement)
        MetricsRecorder.declareGroupOpening(&statement)
    }

    /// ``openingWrites(_:ticketID:dimensions:stage:calendarID:at:into:)`` for one ticket of a group
    /// statement (``declareGroupOpening(_:)``): the same rows, added to its parts.
    /// - Returns: what to run after the statement with the guards that inserted for this ticket:
    ///   its counters, and the ordinary path of each part whose guard did not insert.
    func addGroupOpening(_ tx: any SQLExecutor, ticketID: String, dimensions: TicketDimensions, stage: String, at: Int64,
                         to statement: inout GroupedGuardedWrites) throws -> (Set<String>) throws -> Void {
        let event = SLAEvent.opened(plan: dimensions.plan, priority: dimensions.priority, stage: stage, calendarID: "")
        let slaIncluded = try sla.addGroupOpening(tx, ticketID: ticketID, event, at: at, to: &statement)
        try inactivity.addGroupOpening(tx, ticketID: ticketID, stage: stage, at: at, to: &statement)
        let count = metrics.addGroupOpening(tx, ticketID: ticketID, dimensions, stage: stage, at: at, to: &statement)
        let (sla, inactivity) = (self.sla, self.inactivity)
        return { inserted in
            try count(inserted)
            if !slaIncluded || !inserted.contains("sla") { try sla.onTicketEvent(tx, ticketID: ticketID, event, at: at) }
            if !inserted.contains("entry") { try inactivity.onStageEntered(tx, ticketID: ticketID, stage: stage, at: at) }
        }
    }
}
