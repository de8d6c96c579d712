import Storage

/// The SLA state a queue can be filtered by, as an SQL condition over `wf_sla_targets`, for the
/// ticket core's listings (which own the `tickets` table and only add this condition).
///
/// ```swift
/// let (condition, params) = SLAQueueFilter.condition(.atRisk, ticketID: "t.id", now: now)
/// sql += " AND " + condition; values += params
/// ```
public enum SLAQueueFilter {
    public enum State: String, Sendable, CaseIterable {
        /// A target is late and still counting.
        case breached
        /// A running target passed its warning share but is not late.
        case atRisk = "at_risk"
        /// Not late, not at risk, and some clock paused (waiting on the customer).
        case paused
        /// Nothing late or at risk.
        case onTrack = "on_track"
    }

    /// An SQL condition true for tickets in `state`; `ticketID` is the column holding the ticket
    /// id in the caller's query (e.g. `"t.id"`, a trusted identifier, never user input).
    public static func condition(_ state: State, ticketID column: String, now: Int64) -> (sql: String, params: [SQLValue]) {
        // Late: marked breached and still counting, or running past its due time (its timer may
        // not have fired yet).
        let late = """
            EXISTS (SELECT 1 FROM wf_sla_targets s WHERE s.ticket_id = \(column) AND s.stopped_at IS NULL
            AND (s.status = 'breached' OR (s.status = 'running' AND s.due_at <= ?)))
            """
        let risky = "EXISTS (SELECT 1 FROM wf_sla_targets s WHERE s.ticket_id = \(column) AND s.status = 'running' AND s.warn_at <= ?)"
        let paused = "EXISTS (SELECT 1 FROM wf_sla_targets s WHERE s.ticket_id = \(column) AND s.status = 'paused')"
        switch state {
        case .breached: return (late, [.integer(now)])
        case .atRisk: return ("(NOT \(late) AND \(risky))", [.integer(now), .integer(now)])
        case .paused: return ("(NOT \(late) AND NOT \(risky) AND \(paused))", [.integer(now), .integer(now)])
        case .onTrack: return ("(NOT \(late) AND NOT \(risky))", [.integer(now), .integer(now)])
        }
    }
}
