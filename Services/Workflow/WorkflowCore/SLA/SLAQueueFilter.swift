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
        let late = "EXISTS (SELECT 1 FROM wf_sla_targets s WHERE s.ticket_id = \(column) AND s.status = 'breached' AND s.stopped_at IS NULL)"
        let risky = "EXISTS (SELECT 1 FROM wf_sla_targets s WHERE s.ticket_id = \(column) AND s.status = 'running' AND s.warn_at <= ?)"
        let paused = "EXISTS (SELECT 1 FROM wf_sla_targets s WHERE s.ticket_id = \(column) AND s.status = 'paused')"
        switch state {
        case .breached: return (late, [])
        case .atRisk: return ("(NOT \(late) AND \(risky))", [.integer(now)])
        case .paused: return ("(NOT \(late) AND NOT \(risky) AND \(paused))", [.integer(now)])
        case .onTrack: return ("(NOT \(late) AND NOT \(risky))", [.integer(now)])
        }
    }

    /// Columns to add after `SELECT t.*` so each listed ticket carries its SLA state (read back
    /// with ``rowState(_:now:)``); `ticketID` as in ``condition(_:ticketID:now:)``.
    public static func rowColumns(ticketID column: String) -> String {
        let target = "FROM wf_sla_targets s WHERE s.ticket_id = \(column)"
        return """
            , (SELECT MIN(s.due_at) \(target) AND s.status = 'breached' AND s.stopped_at IS NULL) AS sla_breached_due\
             , (SELECT MIN(s.due_at) \(target) AND s.status = 'running') AS sla_running_due\
             , (SELECT MIN(s.warn_at) \(target) AND s.status = 'running') AS sla_warn_at\
             , (SELECT COUNT(*) \(target) AND s.status = 'paused') AS sla_paused
            """
    }

    /// The listing's SLA state (`"breached"`, `"at_risk"`, `"paused"`, `"on_time"` or `""` when no
    /// clock runs) and the due time shown with it (0 when none), from ``rowColumns(ticketID:)``.
    /// A running target past its due time counts as breached before its timer fires.
    public static func rowState(_ row: Row, now: Int64) throws -> (state: String, dueAt: Int64) {
        let running = try row.optionalInt("sla_running_due")
        if let breached = try row.optionalInt("sla_breached_due") { return ("breached", breached) }
        if let running, running <= now { return ("breached", running) }
        if let warn = try row.optionalInt("sla_warn_at"), warn <= now, let running { return ("at_risk", running) }
        if let running { return ("on_time", running) }
        if (try row.optionalInt("sla_paused") ?? 0) > 0 { return ("paused", 0) }
        return ("", 0)
    }
}
