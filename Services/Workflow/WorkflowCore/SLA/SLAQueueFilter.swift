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
        /// Nothing late, at risk or paused (tickets without SLA clocks included).
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
        case .onTrack: return ("(NOT \(late) AND NOT \(risky) AND NOT \(paused))", [.integer(now), .integer(now)])
        }
    }

    /// The SLA state of each listed ticket (`"breached"`, `"at_risk"`, `"paused"`, `"on_time"`,
    /// decided in that order, the same as ``condition(_:ticketID:now:)``; tickets with no clock are
    /// absent) and the due time shown with it (0 when none): the breached target's, else the
    /// nearest running target's. A running target past its due time
    /// counts as breached before its timer fires. One query for the whole page.
    public static func states(_ tx: any SQLExecutor, ticketIDs: [String], now: Int64) throws -> [String: (state: String, dueAt: Int64, warnAt: Int64)] {
        guard !ticketIDs.isEmpty else { return [:] }
        let list = placeholders(ticketIDs.count)
        let rows = try tx.query("""
            SELECT ticket_id, status, due_at, warn_at, stopped_at FROM wf_sla_targets
            WHERE ticket_id IN (\(list)) AND status IN ('running', 'paused', 'breached')
            """, ticketIDs.map { .text($0) })
        struct Clocks { var breached: Int64?; var running: Int64?; var warn: Int64?; var paused = false }
        var clocks: [String: Clocks] = [:]
        for row in rows {
            let id = try row.text("ticket_id")
            var c = clocks[id] ?? Clocks()
            let due = try row.optionalInt("due_at")
            switch try row.text("status") {
            case "breached" where try row.optionalInt("stopped_at") == nil:
                if let due { c.breached = min(c.breached ?? due, due) }
            case "running":
                if let due { c.running = min(c.running ?? due, due) }
                if let warn = try row.optionalInt("warn_at") { c.warn = min(c.warn ?? warn, warn) }
            case "paused": c.paused = true
            default: break
            }
            clocks[id] = c
        }
        var out: [String: (state: String, dueAt: Int64, warnAt: Int64)] = [:]
        for (id, c) in clocks {
            if let breached = c.breached { out[id] = ("breached", breached, 0) }
            else if let running = c.running, running <= now { out[id] = ("breached", running, 0) }
            else if let running = c.running, let warn = c.warn, warn <= now { out[id] = ("at_risk", running, 0) }
            else if c.paused { out[id] = ("paused", c.running ?? 0, 0) }
            else if let running = c.running { out[id] = ("on_time", running, c.warn ?? 0) }
        }
        return out
    }
}
