import Messages
import Storage

/// Which of a ticket's files, in workflow's copy (`ticket_attachments`), are internal: staff-only
/// evidence (`AttachmentRef.internal`) that no customer's view lists. A file is internal when
/// intake says so (its AttachmentAdded event, or the refs intake answered the gateway) or when it
/// belongs to an internal discussion entry; the flag only ever goes from public to internal here.
/// Intake keeps the content and refuses customers the download of an internal file itself.
enum InternalAttachments {
    static let migration = Migration(version: 182, name: "ticket_attachments_internal",
                                     sql: "ALTER TABLE ticket_attachments ADD COLUMN internal BIGINT NOT NULL DEFAULT 0")

    /// The `ON CONFLICT` action keeping a row internal once either writer said so.
    static let keepInternal = "internal = CASE WHEN excluded.internal <> 0 THEN 1 ELSE ticket_attachments.internal END"

    /// Records an agent's discussion entry's files (as intake's AddFiles answered them) on the
    /// entry: under `messageID`, the entry's, at their positions in `refs`, internal when the
    /// entry is internal or intake marked them so. A row already there (intake's AttachmentAdded
    /// came first, as a ticket's own file) moves onto the entry; a file of another message (a
    /// customer's reply, another entry) stays where it is.
    /// - Returns: `refs` with the flag as recorded.
    static func recordEntryFiles(_ tx: any SQLExecutor, ticketID: String, _ refs: [CommonV1.AttachmentRef], messageID: String,
                                 entryIsPublic: Bool, at: Int64) throws -> [CommonV1.AttachmentRef] {
        var recorded = refs
        for (position, ref) in refs.enumerated() {
            let isInternal = ref.`internal` || !entryIsPublic
            recorded[position].`internal` = isInternal
            try tx.execute("""
                INSERT INTO ticket_attachments (ticket_id, attachment_id, file_name, content_type, size_bytes, sha256, message_id, added_at,
                    position, internal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (ticket_id, attachment_id) DO UPDATE SET
                    position = CASE WHEN ticket_attachments.message_id = '' THEN excluded.position ELSE ticket_attachments.position END,
                    message_id = CASE WHEN ticket_attachments.message_id = '' THEN excluded.message_id ELSE ticket_attachments.message_id END,
                    \(keepInternal)
                """, [.text(ticketID), .text(ref.id), .text(ref.fileName), .text(ref.contentType), .integer(ref.sizeBytes), .text(ref.sha256),
                      .text(messageID), .integer(at), .integer(Int64(position)), .integer(isInternal ? 1 : 0)])
        }
        return recorded
    }
}
