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
    /// An open without a representative that names no origin.
    static let customerOrigin = "customer"
    /// An open with a representative that names no origin.
    static let representativeOrigin = "representative"

    /// The built-in keys of each list ("channel", "origin").
    static let keys: [String: Set<String>] = [
        "channel": [portalChannel, emailChannel, phoneChannel],
        "origin": [customerOrigin, representativeOrigin],
    ]

    /// The origin kind each built-in origin keeps.
    static let originKinds: [String: CommonV1.Origin] = [customerOrigin: .customer, representativeOrigin: .representative]

    /// Whether `key` is a built-in entry of `list`.
    static func contains(_ list: String, _ key: String) -> Bool {
        keys[list]?.contains(key) ?? false
    }
}
