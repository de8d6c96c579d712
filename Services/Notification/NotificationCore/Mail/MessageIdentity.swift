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

    /// 32 hex characters of SHA-256 over the triple.
    static func deliveryID(eventID: String, recipient: String, channel: String) -> String {
        Digest.hex(Array(Digest.sha256(Array("\(eventID)\u{0}\(recipient)\u{0}\(channel)".utf8)).prefix(16)))
    }

    /// `n.<delivery id>.<token>@domain` for ticket mail, `n.<delivery id>@domain` otherwise.
    func messageID(deliveryID: String, ticketID: String) -> String {
        guard let token = token(ticketID) else { return "n.\(deliveryID)@\(domain)" }
        return "n.\(deliveryID).\(token)@\(domain)"
    }

    /// `suporte+<token>@domain`, or nil when the mail is about no ticket.
    func replyTo(ticketID: String) -> String? {
        token(ticketID).map { "\(replyLocalPart)+\($0)@\(domain)" }
    }

    private func token(_ ticketID: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
        guard !ticketID.isEmpty, ticketID.allSatisfy({ allowed.contains($0) }) else { return nil }
        return ReplyToken(secret: secret).token(ticketID: ticketID)
    }
}
