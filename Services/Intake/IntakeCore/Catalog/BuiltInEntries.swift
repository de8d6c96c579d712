import Messages

/// The entries of the configurable lists intake itself uses: the channel and origin a ticket gets
/// when its request names none, and the e-mail channel's own. They are seeded by the catalog
/// migration and may be renamed or moved, but not deactivated (every portal open, every e-mail
/// taken in, every agent's open without a channel would be refused), nor an origin's kind changed.
enum BuiltInEntries {
    /// A customer's open or reply that names no channel (the portal's).
    static let portalChannel = "portal"
    /// Tickets and replies taken in by e-mail.
    static let emailChannel = "email"
    /// A staff member's open that names no channel.
    static let phoneChannel = "phone"
    /// An integration key's open or reply that names no channel ("Integração (API)"; migration 33).
    static let integrationChannel = "api"
    /// An open without a representative that names no origin.
    static let customerOrigin = "customer"
    /// An open with a representative that names no origin.
    static let representativeOrigin = "representative"

    /// The built-in keys of each list ("channel", "origin").
    static let keys: [String: Set<String>] = [
        "channel": [portalChannel, emailChannel, phoneChannel, integrationChannel],
        "origin": [customerOrigin, representativeOrigin],
    ]

    /// The channel of an open (`opening`) or a reply whose request names none, by who sends it:
    /// a customer's (and a representative's) is the portal's; an integration key's is `api`
    /// (never a channel it did not come through: it was `phone` for opens and `portal` for
    /// replies before 2026-12-01); staff's open is a call taken (`phone`), their reply the portal's.
    static func defaultChannel(for caller: Caller, opening: Bool) -> String {
        if caller.isCustomer { return portalChannel }
        if caller.isIntegration { return integrationChannel }
        return opening ? phoneChannel : portalChannel
    }

    /// The origin kind each built-in origin keeps.
    static let originKinds: [String: CommonV1.Origin] = [customerOrigin: .customer, representativeOrigin: .representative]

    /// Whether `key` is a built-in entry of `list`.
    static func contains(_ list: String, _ key: String) -> Bool {
        keys[list]?.contains(key) ?? false
    }
}
