/// What a send attempt produced.
package indirect enum SendOutcome: Sendable, Equatable {
    /// The peer accepted it; its answer (e.g. "250 2.0.0 OK").
    case accepted(String)
    /// Worth retrying later (SMTP 4xx, HTTP 5xx/408/429, timeouts, connection failures).
    case transient(String)
    /// Will not succeed as it is (SMTP 5xx, HTTP 4xx).
    case permanent(String)
    /// An e-mail some of whose recipients the relay refused (`RCPT TO` answered 4xx or 5xx):
    /// `outcome` is the message's for the recipients it kept, and each of `refused` becomes a
    /// delivery of its own (``RecipientRefusals``), failed or retried alone.
    case someRefused(SendOutcome, refused: [RecipientRefusal])

    /// The outcome for the recipients the message kept.
    var main: SendOutcome {
        if case .someRefused(let outcome, _) = self { return outcome.main }
        return self
    }

    /// The recipients split off this message (none unless ``someRefused(_:refused:)``).
    var refused: [RecipientRefusal] {
        if case .someRefused(_, let refused) = self { return refused }
        return []
    }
}

/// A recipient the relay refused at `RCPT TO`, with its answer.
package struct RecipientRefusal: Sendable, Equatable {
    var address: String
    /// The relay's reply line (`550 5.1.1 no such user`).
    var answer: String

    /// A 5xx answer: the recipient fails for good; 4xx is retried.
    var permanent: Bool { answer.hasPrefix("5") }

    /// The outcome of that recipient's own delivery.
    var outcome: SendOutcome { permanent ? .permanent(answer) : .transient(answer) }
}
