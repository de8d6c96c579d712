/// What a send attempt produced.
package enum SendOutcome: Sendable, Equatable {
    /// The peer accepted it; its answer (e.g. "250 2.0.0 OK").
    case accepted(String)
    /// Worth retrying later (SMTP 4xx, HTTP 5xx/408/429, timeouts, connection failures).
    case transient(String)
    /// Will not succeed as it is (SMTP 5xx, HTTP 4xx).
    case permanent(String)
}
