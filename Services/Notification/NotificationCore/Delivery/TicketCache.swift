import Foundation
import Messages
import Storage

/// The last ticket summary seen in workflow's events, per ticket: lets intake's events (which
/// carry no holder) reach the holder, and on-demand e-mail check the ticket's level, without
/// asking another service. Its `access_level` column is the ticket's current level (workflow's
/// events of one ticket arrive in order), which the delivery log filters by (``currentLevelFilter``).
enum TicketCache {
    /// Keeps `summary` as the ticket's latest. Deferred (``SQLExecutor/executeDeferred(_:_:)``): on
    /// PostgreSQL it goes out with the transaction's next statement (a later `load` sees it) or
    /// its commit, one round trip less per event.
    static func store(_ executor: any SQLExecutor, _ summary: WorkflowV1.TicketSummary?) throws {
        guard let summary, !summary.ticketID.isEmpty else { return }
        try executor.executeDeferred("""
            INSERT INTO notification_tickets (ticket_id, summary, updated_at, access_level) VALUES (?, ?, ?, ?)
            ON CONFLICT (ticket_id) DO UPDATE SET summary = excluded.summary, updated_at = excluded.updated_at,
                access_level = excluded.access_level
            """, [.text(summary.ticketID), .blob(summary.serializedBytes()), .timestamp(Date()), .integer(Int64(summary.accessLevel))])
    }

    /// A condition on `notification_deliveries` rows: their ticket's current level is at most
    /// the parameter (a row of a ticket never seen in workflow's events passes; its own level
    /// is checked beside this).
    static let currentLevelFilter = """
        NOT EXISTS (SELECT 1 FROM notification_tickets current_ticket
                    WHERE current_ticket.ticket_id = notification_deliveries.ticket_id AND current_ticket.access_level > ?)
        """

    static func load(_ executor: any SQLExecutor, ticketID: String) throws -> WorkflowV1.TicketSummary? {
        guard let row = try executor.queryOne("SELECT summary FROM notification_tickets WHERE ticket_id = ?", [.text(ticketID)]) else {
            return nil
        }
        return try WorkflowV1.TicketSummary(serializedBytes: try row.blob("summary"))
    }
}
