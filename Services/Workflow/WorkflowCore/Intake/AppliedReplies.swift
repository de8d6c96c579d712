import Storage

/// The customer replies workflow has applied, by intake's message id: a reply is applied once,
/// whatever the number of events carrying it. The event inbox de-duplicates by event id only,
/// and the same reply can come again under a new one (an outbox re-publish, a reply retried at
/// intake's level); applied twice it would add a second discussion entry, a second unread
/// message, a second SLA effect (a new next-response cycle) and could reopen a ticket twice.
///
/// The claim is an idempotent insert under the table's primary key (`ON CONFLICT DO NOTHING
/// RETURNING`), made inside the transaction that applies the reply, before anything else it
/// writes: a concurrent delivery of a copy waits on the key and then finds it taken, so there is
/// no window between a check and an insert. Replies without a message id (none should come) are
/// not claimed and always applied, as before.
enum AppliedReplies {
    /// Migration 197: the table, filled with the replies already in discussions (so a copy of one
    /// delivered after the upgrade is recognised too).
    static let migration = Migration(version: 197, name: "applied_customer_replies", sql: """
        CREATE TABLE wf_applied_replies (
            ticket_id TEXT NOT NULL, message_id TEXT NOT NULL, applied_at BIGINT NOT NULL,
            PRIMARY KEY (ticket_id, message_id));
        INSERT INTO wf_applied_replies (ticket_id, message_id, applied_at)
            SELECT ticket_id, message_id, MIN(added_at) FROM discussion_entries
            WHERE kind = 'customer_reply' AND message_id <> '' GROUP BY ticket_id, message_id;
        """)

    /// Claims the reply `messageID` of ticket `ticketID` for the caller's transaction.
    /// - Returns: `true` when it was not applied before (the caller applies it), `false` for a copy
    ///   of a reply already applied (the caller changes nothing). Always `true` for an empty id.
    static func claim(_ tx: any SQLExecutor, ticketID: String, messageID: String, at: Int64) throws -> Bool {
        guard !messageID.isEmpty else { return true }
        return try tx.queryOne("""
            INSERT INTO wf_applied_replies (ticket_id, message_id, applied_at) VALUES (?, ?, ?)
            ON CONFLICT (ticket_id, message_id) DO NOTHING RETURNING ticket_id
            """, [.text(ticketID), .text(messageID), .integer(at)]) != nil
    }
}
