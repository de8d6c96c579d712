import Foundation
import Storage

/// Recipients of an e-mail the relay refused (``SendOutcome/someRefused(_:refused:)``), recorded
/// in the delivery log as deliveries of their own: the same message (its stored bytes copied,
/// the same Message-ID) to that one address, `failed` with the relay's answer for a 5xx, `queued`
/// for a retry (or `dead` after the last attempt) for a 4xx — so a refused copy neither sinks the
/// message to the others nor makes them receive it again when it is retried. The e-mail's own row
/// keeps the other recipients.
enum RecipientRefusals {
    /// Writes the rows of `refused` (in the transaction that records `claimed`'s outcome, whose
    /// claim still held) and narrows `claimed`'s row to the recipients it kept.
    /// - Returns: `claimed` as kept, and each refused recipient's delivery with its state and answer.
    static func split(_ tx: any SQLExecutor, _ claimed: ClaimedDelivery, _ refused: [RecipientRefusal], retry: RetryPolicy,
                      now: Date) throws -> (kept: ClaimedDelivery, children: [(ClaimedDelivery, DeliveryState, String)]) {
        guard let row = try tx.queryOne("SELECT event_id, recipient FROM notification_deliveries WHERE id = ?", [.text(claimed.id)])
        else { return (claimed, []) }
        let eventID = try row.text("event_id")
        let refusedAddresses = Set(refused.map(\.address))
        var kept = claimed
        kept.envelopeTo = claimed.envelopeTo.filter { !refusedAddresses.contains($0) }
        kept.copies = claimed.copies.filter { !refusedAddresses.contains($0) }
        // The row is named by a recipient it still has (the first refused may have been its own).
        var recipient = try row.text("recipient")
        if refused.contains(where: { EmailAddress.normalized($0.address) == recipient }), let first = kept.envelopeTo.first {
            recipient = EmailAddress.normalized(first)
        }
        try tx.execute("UPDATE notification_deliveries SET envelope_to = ?, copies = ?, recipient = ? WHERE id = ?",
                       [.text(kept.envelopeTo.joined(separator: "\n")), .text(kept.copies.joined(separator: "\n")), .text(recipient),
                        .text(claimed.id)])
        var children: [(ClaimedDelivery, DeliveryState, String)] = []
        for refusal in refused {
            let key = EmailAddress.normalized(refusal.address)
            var child = claimed
            child.id = MessageIdentity.deliveryID(eventID: eventID, recipient: key, channel: DeliveryChannel.email.rawValue)
            child.envelopeTo = [refusal.address]
            child.copies = claimed.copies.contains(refusal.address) ? [refusal.address] : []
            let (state, answer, next) = DeliveryClaims.decide(claimed, outcome: refusal.outcome, retry: retry, now: now)
            // Its attempts so far are the message's (it was in each of them).
            let inserted = try tx.execute("""
                INSERT INTO notification_deliveries (id, event_id, recipient, channel, event_kind, ticket_id, lane, target, envelope_to,
                    copies, message_id, subject, payload, access_level, state, attempts, next_attempt_at, last_answer, created_at,
                    resends, webhook_id, claimed_by, claimed_until, payload_bytes)
                SELECT CAST(? AS TEXT), event_id, CAST(? AS TEXT), channel, event_kind, ticket_id, lane, target, CAST(? AS TEXT),
                    CAST(? AS TEXT), message_id, subject, payload, access_level, CAST(? AS TEXT), CAST(? AS INTEGER),
                    CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), 0, webhook_id, '', 0, payload_bytes
                FROM notification_deliveries WHERE id = ?
                ON CONFLICT DO NOTHING
                """, [.text(child.id), .text(key), .text(refusal.address), .text(child.copies.joined(separator: "\n")),
                      .text(state.rawValue), .integer(Int64(claimed.attempts)), .timestamp(next), .text(answer), .timestamp(now),
                      .text(claimed.id)])
            guard inserted > 0 else { continue }
            try tx.execute("""
                INSERT INTO notification_payload_chunks (delivery_id, seq, data)
                SELECT CAST(? AS TEXT), seq, data FROM notification_payload_chunks WHERE delivery_id = ?
                """, [.text(child.id), .text(claimed.id)])
            children.append((child, state, answer))
        }
        return (kept, children)
    }
}
