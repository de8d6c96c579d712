import Foundation
import Messages
import Storage

/// The last ticket summary seen in workflow's events, per ticket: lets intake's events (which
/// carry no holder) reach the holder, and on-demand e-mail check the ticket's level, without
/// asking another service.
enum TicketCache {
    /// Keeps `summary` as the ticket's latest. Deferred (``SQLExecutor/executeDeferred(_:_:)``): on
    /// PostgreSQL it goes out with the transaction's next statement (a later `load` sees it) or
    /// its commit, one round trip less per event.
    static func store(_ executor: any SQLExecutor, _ summary: WorkflowV1.TicketSummary?) throws {
        guard let summary, !summary.ticketID.isEmpty else { return }
        try executor.executeDeferred("""
            INSERT INTO notification_tickets (ticket_id, summary, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (ticket_id) DO UPDATE SET summary = excluded.summary, updated_at = excluded.updated_at
            """, [.text(summary.ticketID), .blob(summary.serializedBytes()), .timestamp(Date())])
    }

    static func load(_ executor: any SQLExecutor, ticketID: String) throws -> WorkflowV1.TicketSummary? {
        guard let row = try executor.queryOne("SELECT summary FROM notification_tickets WHERE ticket_id = ?", [.text(ticketID)]) else {
            return nil
        }
        return try WorkflowV1.TicketSummary(serializedBytes: try row.blob("summary"))
    }
}
