import Foundation
import Messages
import Storage

/// What notification does when workflow raises a ticket's confidentiality level
/// (`TicketAccessLevelChanged`): the ticket's current level is kept (``TicketCache``, which the
/// delivery log filters by), and deliveries of that ticket still `queued` — planned, and rendered,
/// at a lower level — are not sent to recipients who may no longer read it: they become
/// `discarded`, with the reason in `last_answer`, visible in the log.
///
/// Kept (sent as planned): e-mails whose every address is the ticket's customer (its contact or
/// organization address; customers read their own tickets at any level) or the agent who holds it
/// (holders see their tickets whatever the level), and webhook deliveries to subscribers entitled
/// to the new level. Withheld: everyone else (a chefe, a group's mailbox, copies, an on-demand
/// e-mail to other addresses, webhooks below the level), since notification does not know their
/// clearance. A delivery already `sending` when the event arrives goes out; rows `failed` or
/// `dead` are not sent unless an administrator replays them.
enum RaisedAccessLevel {
    /// Applies `event` in the consumer's transaction (idempotent: a second run finds nothing
    /// queued below the level). - Returns: the deliveries withheld.
    @discardableResult
    static func apply(_ tx: any SQLExecutor, _ event: WorkflowV1.TicketAccessLevelChanged) throws -> Int {
        guard let ticket = event.ticket, !ticket.ticketID.isEmpty else { return 0 }
        try TicketCache.store(tx, ticket)
        guard event.newLevel > event.oldLevel else { return 0 }
        let entitled = Set([ticket.contact?.email ?? "", ticket.organizationEmail, ticket.holder?.agentEmail ?? ""]
            .filter { !$0.isEmpty }.map(EmailAddress.normalized))
        let rows = try tx.query("""
            SELECT d.id, d.channel, d.envelope_to, COALESCE(w.access_level, -1) AS webhook_level
            FROM notification_deliveries d LEFT JOIN notification_webhooks w ON w.id = d.webhook_id AND d.webhook_id <> ''
            WHERE d.ticket_id = ? AND d.state = 'queued' AND d.access_level < ?
            """, [.text(ticket.ticketID), .integer(Int64(event.newLevel))])
        var withheld: [String] = []
        for row in rows {
            let keep: Bool
            if try row.text("channel") == DeliveryChannel.webhook.rawValue {
                keep = try row.int("webhook_level") >= Int64(event.newLevel)
            } else {
                let addresses = try row.text("envelope_to").split(separator: "\n").map { EmailAddress.normalized(String($0)) }
                keep = !addresses.isEmpty && addresses.allSatisfy(entitled.contains)
            }
            if !keep { withheld.append(try row.text("id")) }
        }
        guard !withheld.isEmpty else { return 0 }
        let reason = "não enviada: o nível de acesso da ocorrência subiu de \(event.oldLevel) para \(event.newLevel) antes do envio"
            + " / not sent: the ticket's access level was raised from \(event.oldLevel) to \(event.newLevel) before sending"
        return try tx.execute("""
            UPDATE notification_deliveries SET state = 'discarded', last_answer = ?
            WHERE state = 'queued' AND id IN (\(withheld.map { _ in "?" }.joined(separator: ", ")))
            """, [.text(reason)] + withheld.map(SQLValue.text))
    }
}
