import Foundation
import Messages
import Storage

/// A webhook subscriber as stored.
struct WebhookRecord: Sendable {
    var id: String
    var url: String
    /// The signing secret as stored: sealed by ``SecretBox`` (legacy rows: clear text).
    var sealedSecret: String
    /// After a rotation, the previous secret (sealed), which also signs until ``previousUntilMs``.
    var sealedPreviousSecret = ""
    var previousUntilMs: Int64 = 0
    var eventKinds: [String]
    var accessLevel: Int32
    var internalEntries: Bool
    var active: Bool
    var createdAtMs: Int64
    /// The tickets whose events it receives (``TicketCriteria/none``: every ticket).
    var criteria = TicketCriteria.none

    func matches(kind: String) -> Bool { eventKinds.contains(kind) || eventKinds.contains("*") }

    /// Whether it receives events of `kind` about a ticket with `traits`.
    func matches(kind: String, ticket traits: TicketTraits) -> Bool { matches(kind: kind) && criteria.matches(traits) }

    /// The (sealed) secrets that sign a delivery sent at `nowMs`: the current one, and within a
    /// rotation's overlap the previous one too.
    func sealedSigningSecrets(nowMs: Int64) -> [String] {
        !sealedPreviousSecret.isEmpty && previousUntilMs > nowMs ? [sealedSecret, sealedPreviousSecret] : [sealedSecret]
    }

    var message: NotificationV1.Webhook {
        var webhook = NotificationV1.Webhook()
        webhook.id = id
        webhook.url = url
        webhook.eventKinds = eventKinds
        webhook.accessLevel = accessLevel
        webhook.internalEntries = internalEntries
        webhook.active = active
        webhook.createdAtMs = createdAtMs
        webhook.previousSecretUntilMs = sealedPreviousSecret.isEmpty ? 0 : previousUntilMs
        webhook.filter = criteria.message
        return webhook
    }
}

/// `notification_webhooks`: registered subscribers and their secrets (sealed with ``SecretBox``).
enum WebhookStore {
    static func record(_ row: Row) throws -> WebhookRecord {
        WebhookRecord(id: try row.text("id"), url: try row.text("url"), sealedSecret: try row.text("secret"),
                      sealedPreviousSecret: try row.text("previous_secret"), previousUntilMs: try row.int("previous_until"),
                      eventKinds: try row.text("event_kinds").split(separator: ",").map(String.init),
                      accessLevel: Int32(try row.int("access_level")), internalEntries: try row.bool("internal_entries"),
                      active: try row.bool("active"), createdAtMs: try row.int("created_at"),
                      criteria: TicketCriteria(stored: try row.text("ticket_filter")))
    }

    static func active(_ executor: any SQLExecutor) throws -> [WebhookRecord] {
        try executor.query("SELECT * FROM notification_webhooks WHERE active = 1 ORDER BY created_at, id", []).map(record)
    }

    static func find(_ executor: any SQLExecutor, id: String) throws -> WebhookRecord? {
        try executor.queryOne("SELECT * FROM notification_webhooks WHERE id = ?", [.text(id)]).map(record)
    }

    static func insert(_ executor: any SQLExecutor, _ record: WebhookRecord) throws {
        try executor.execute("""
            INSERT INTO notification_webhooks (id, url, secret, event_kinds, access_level, internal_entries, active, created_at, ticket_filter)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(record.id), .text(record.url), .text(record.sealedSecret), .text(record.eventKinds.joined(separator: ",")),
                  .integer(Int64(record.accessLevel)), .init(record.internalEntries), .init(record.active), .integer(record.createdAtMs),
                  .text(record.criteria.stored)])
    }

    /// Replaces what the active webhook `id` receives and, when `url` is given, where: its
    /// deliveries not yet delivered (`queued`, including those waiting for a retry, and `dead`)
    /// go there too (their target and send lane); delivered, failed and discarded ones keep the
    /// address they went to. A `sending` one, claimed before this commits, is put back by its
    /// sender when it sees the new URL (``DeliveryClaims/release(_:_:instance:movedTo:)``).
    /// - Returns: whether there was one.
    static func update(_ executor: any SQLExecutor, id: String, eventKinds: [String], accessLevel: Int32, internalEntries: Bool,
                       criteria: TicketCriteria, url: String? = nil) throws -> Bool {
        guard try executor.execute("""
            UPDATE notification_webhooks SET event_kinds = ?, access_level = ?, internal_entries = ?, ticket_filter = ?, url = COALESCE(?, url)
            WHERE id = ? AND active = 1
            """, [.text(eventKinds.joined(separator: ",")), .integer(Int64(accessLevel)), .init(internalEntries), .text(criteria.stored),
                  url.map(SQLValue.text) ?? .null, .text(id)]) == 1 else { return false }
        if let url {
            try executor.execute("""
                UPDATE notification_deliveries SET target = ?, lane = ?
                WHERE recipient = ? AND channel = 'webhook' AND state IN ('queued', 'dead') AND target <> ?
                """, [.text(url), .text(WebhookURL.lane(url)), .text("webhook:\(id)"), .text(url)])
        }
        return true
    }

    /// Replaces the stored (sealed) secret of an active webhook; the one it replaces keeps
    /// signing until `previousUntil` (0: it stops now).
    static func setSecret(_ executor: any SQLExecutor, id: String, sealed: String, previousUntil: Int64) throws -> Bool {
        try executor.execute("""
            UPDATE notification_webhooks SET previous_secret = CASE WHEN CAST(? AS BIGINT) > 0 THEN secret ELSE '' END, previous_until = ?, secret = ?
            WHERE id = ? AND active = 1
            """, [.integer(previousUntil), .integer(previousUntil), .text(sealed), .text(id)]) > 0
    }

    /// Seals secrets still stored in clear text (rows written before encryption at rest).
    /// - Returns: how many were sealed.
    static func sealLegacySecrets(_ executor: any SQLExecutor, box: SecretBox) throws -> Int {
        let rows = try executor.query("SELECT id, secret FROM notification_webhooks WHERE secret NOT LIKE 'sb1:%' AND secret NOT LIKE 'sb2:%'", [])
        for row in rows {
            try executor.execute("UPDATE notification_webhooks SET secret = ? WHERE id = ? AND secret = ?",
                                 [.text(box.seal(try row.text("secret"))), .text(try row.text("id")), .text(try row.text("secret"))])
        }
        return rows.count
    }

    /// What ``resealAll(_:box:)`` did.
    struct ResealResult: Equatable {
        /// Secrets moved to the current key (or sealed, when they were clear text).
        var resealed = 0
        /// Secrets already sealed under the current key.
        var current = 0
        /// Webhooks whose secret opens with no key of the ring (left as they are).
        var unreadable: [String] = []
    }

    /// Seals every webhook secret (removed webhooks too) under the box's current key: values
    /// sealed under a previous key, `sb1:` values and clear text. A row changed meanwhile (a
    /// rotation) is left to its writer.
    static func resealAll(_ executor: any SQLExecutor, box: SecretBox) throws -> ResealResult {
        var result = ResealResult()
        for row in try executor.query("SELECT id, secret, previous_secret FROM notification_webhooks ORDER BY id", []) {
            let id = try row.text("id"), stored = try row.text("secret")
            do {
                if let sealed = try box.reseal(stored) {
                    if try executor.execute("UPDATE notification_webhooks SET secret = ? WHERE id = ? AND secret = ?",
                                            [.text(sealed), .text(id), .text(stored)]) > 0 {
                        result.resealed += 1
                    }
                } else {
                    result.current += 1
                }
                // A rotated-out secret still signing moves along with it (not counted on its own).
                let previous = try row.text("previous_secret")
                if !previous.isEmpty, let sealed = try box.reseal(previous) {
                    try executor.execute("UPDATE notification_webhooks SET previous_secret = ? WHERE id = ? AND previous_secret = ?",
                                         [.text(sealed), .text(id), .text(previous)])
                }
            } catch is SecretBoxError {
                result.unreadable.append(id)
            }
        }
        return result
    }

    static func deactivate(_ executor: any SQLExecutor, id: String) throws -> Bool {
        try executor.execute("UPDATE notification_webhooks SET active = 0 WHERE id = ? AND active = 1", [.text(id)]) > 0
    }
}
