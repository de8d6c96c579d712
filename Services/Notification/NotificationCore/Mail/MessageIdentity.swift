import Foundation
import RPCTransport
import ServiceKit

/// Deterministic identities of one effect: the delivery id from (event id, recipient, channel),
/// the Message-ID that carries it and the ticket's signed reply token, and the `Reply-To`
/// address intake's e-mail channel recognises.
struct MessageIdentity: Sendable {
    let secret: DeploymentSecret
    let domain: String
    let replyLocalPart: String
    /// The `Reply-To` of mail about no ticket (``NotificationSettings/noTicketReplyTo``).
    let noTicketReplyTo: String

    /// 32 hex characters of SHA-256 over the triple.
    static func deliveryID(eventID: String, recipient: String, channel: String) -> String {
        Digest.hex(Array(Digest.sha256(Array("\(eventID)\u{0}\(recipient)\u{0}\(channel)".utf8)).prefix(16)))
    }

    /// The id of an event's delivery, still 32 lower-case hex characters and still decided by
    /// the event alone: the event's time in ms (11 hex digits, to the year 2527) then 21 of
    /// SHA-256 over the triple. Deliveries are then inserted in time order, so the index of ids
    /// and the key of the stored messages are appended to instead of written at random pages
    /// (fewer pages per transaction to write to the WAL and checkpoint). An event without a
    /// time gets ``deliveryID(eventID:recipient:channel:)``.
    static func deliveryID(eventID: String, recipient: String, channel: String, occurredAtMs: Int64) -> String {
        let hash = deliveryID(eventID: eventID, recipient: recipient, channel: channel)
        guard occurredAtMs > 0, occurredAtMs < 1 << 44 else { return hash }
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 11)
        var value = UInt64(occurredAtMs)
        for index in stride(from: 10, through: 0, by: -1) {
            out[index] = digits[Int(value & 15)]
            value >>= 4
        }
        return String(decoding: out, as: UTF8.self) + hash.prefix(21)
    }

    /// `n.<delivery id>.<token>@domain` for ticket mail, `n.<delivery id>@domain` otherwise.
    func messageID(deliveryID: String, ticketID: String) -> String {
        messageID(deliveryID: deliveryID, token: token(ticketID))
    }

    /// Same, with the ticket's token computed once (``token(_:)``) for every recipient.
    func messageID(deliveryID: String, token: String?) -> String {
        guard let token else { return "n.\(deliveryID)@\(domain)" }
        return "n.\(deliveryID).\(token)@\(domain)"
    }

    /// `suporte+<token>@domain`, or ``noTicketReplyTo`` when the mail is about no ticket: every
    /// e-mail says where replies go.
    func replyTo(ticketID: String) -> String {
        replyTo(token: token(ticketID))
    }

    func replyTo(token: String?) -> String {
        token.map { "\(replyLocalPart)+\($0)@\(domain)" } ?? noTicketReplyTo
    }

    /// The ticket's signed reply token; nil for no ticket or an id with characters an address
    /// cannot carry (checked on bytes: no character set built per call).
    func token(_ ticketID: String) -> String? {
        guard !ticketID.isEmpty, ticketID.utf8.allSatisfy({ byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x2d
        }) else { return nil }
        return ReplyToken(secret: secret).token(ticketID: ticketID)
    }
}
