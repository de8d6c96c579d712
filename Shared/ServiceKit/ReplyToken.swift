import RPCTransport

/// A signed token that ties an e-mail to a ticket, so a customer's reply threads back to it.
///
/// Notification puts the token in the `Reply-To` address (`suporte+<token>@domain`) and in the
/// `Message-ID` (`<n.<delivery>.<token>@domain>`) of every e-mail about a ticket; intake's e-mail
/// channel finds it again in the recipient address, `In-Reply-To` or `References` of the reply and
/// accepts it only when the signature verifies. The token is `<ticket id>-<16 hex of HMAC-SHA256>`,
/// with the ticket id restricted to letters, digits and `-`, so it survives in a local part.
///
/// ```swift
/// let token = ReplyToken(secret: secret).token(ticketID: "018f...")
/// let ticketID = ReplyToken(secret: secret).ticketID(in: "Re: ... <n.x.\(token)@suporte.example>")
/// ```
public struct ReplyToken: Sendable {
    let secret: DeploymentSecret
    static let label = Array("ocorrencias-reply-v1".utf8)
    static let macLength = 8

    public init(secret: DeploymentSecret) {
        self.secret = secret
    }

    /// The token for `ticketID`.
    public func token(ticketID: String) -> String {
        let mac = secret.mac(Self.label, Array(ticketID.utf8)).prefix(Self.macLength)
        return ticketID + "-" + Digest.hex(Array(mac))
    }

    /// Whether `token` was issued by this deployment; the ticket id it names when it was.
    public func verify(_ token: String) -> String? {
        guard let dash = token.lastIndex(of: "-") else { return nil }
        let ticketID = String(token[..<dash])
        let macHex = token[token.index(after: dash)...]
        guard !ticketID.isEmpty, macHex.count == Self.macLength * 2 else { return nil }
        return self.token(ticketID: ticketID).lowercased() == token.lowercased() ? ticketID : nil
    }

    /// The first verified token found anywhere in `text` (an address, a Message-ID, a References
    /// header); `nil` when none verifies.
    public func ticketID(in text: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
        var candidates: [String] = []
        var current = ""
        for character in text {
            if allowed.contains(character) { current.append(character) } else {
                if !current.isEmpty { candidates.append(current) }
                current = ""
            }
        }
        if !current.isEmpty { candidates.append(current) }
        for candidate in candidates where candidate.count > Self.macLength * 2 + 1 {
            if let ticketID = verify(candidate) { return ticketID }
        }
        return nil
    }
}
