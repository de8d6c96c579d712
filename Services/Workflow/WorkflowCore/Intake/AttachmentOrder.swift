import Storage

/// The order of a ticket's files in workflow's copy (`ticket_attachments`): by when they were
/// added, then by their place in the event that added them (intake's order, which is the order the
/// open or reply gave them), then by id. Before migration 181 files added together were listed by
/// id, i.e. by upload time, which differs from the given order when uploads are named in another order.
enum AttachmentOrder {
    static let migration = Migration(version: 181, name: "ticket_attachments_position",
                                     sql: "ALTER TABLE ticket_attachments ADD COLUMN position BIGINT NOT NULL DEFAULT 0")
}
