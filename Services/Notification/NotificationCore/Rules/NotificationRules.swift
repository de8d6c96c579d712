import Foundation

/// Who is told about what: for each event kind, the audiences that receive an e-mail. This is
/// configuration (a JSON file named by `NOTIFICATION_RULES_FILE`); ``defaults`` are the issue's.
///
/// ```json
/// {"audiences": {"TicketOpened": ["customer"], "SLABreached": ["holder", "chefe"]},
///  "groupAddresses": {"grp-fiscal": "fiscal@suporte.example"}}
/// ```
public struct NotificationRules: Sendable, Codable, Equatable {
    /// A kind of recipient, resolved from the event's ticket summary.
    public enum Audience: String, Sendable, Codable, CaseIterable {
        /// The ticket's contact, falling back to the organization's address.
        case customer
        /// The holder agent, or the holder group's mailbox when no agent holds it.
        case holder
        /// The holder's chefe (supervisor).
        case chefe
        /// Extra addresses an event names (a transfer's copies).
        case copies
    }

    /// Event kind (short message name, e.g. "TicketOpened") → audiences.
    public var audiences: [String: [Audience]]
    /// Group id → mailbox, for tickets held by a group without an agent.
    public var groupAddresses: [String: String]
    /// Event kind → the tickets its audiences apply to (an administrator's edit's filter); a kind
    /// not here applies to every ticket. Not read from the file.
    var filters: [String: TicketCriteria] = [:]

    private enum CodingKeys: String, CodingKey { case audiences, groupAddresses }

    public init(audiences: [String: [Audience]], groupAddresses: [String: String] = [:]) {
        self.audiences = audiences
        self.groupAddresses = groupAddresses
    }

    /// The defaults: customers hear about opening, requests for information, inactivity reminders,
    /// solutions and the end of their ticket; agents about transfers (with copies), customer
    /// replies and cancellations; holder and chefe about SLA warnings and breaches.
    public static let defaults = NotificationRules(audiences: [
        "TicketOpened": [.customer],
        "InformationRequested": [.customer],
        "InactivityReminder": [.customer],
        "SolutionGiven": [.customer],
        "TicketFinished": [.customer],
        "Transferred": [.holder, .copies],
        "CustomerReplied": [.holder],
        "TicketCancelledByCustomer": [.holder],
        "SLAWarning": [.holder, .chefe],
        "SLABreached": [.holder, .chefe],
    ])

    /// The audiences of `kind` (none when the rules do not mention it).
    public func audiences(of kind: String) -> [Audience] { audiences[kind] ?? [] }

    /// The audiences of `kind` for an event of a ticket with `traits`: none when the kind's
    /// filter (an administrator's edit's) does not match the ticket.
    func audiences(of kind: String, ticket traits: TicketTraits) -> [Audience] {
        guard let filter = filters[kind], !filter.matches(traits) else { return audiences(of: kind) }
        return []
    }

    /// Reads rules from a JSON file; kinds it does not mention keep their defaults.
    /// - Throws: ``NotificationConfigurationError`` when the file is unreadable or malformed.
    public static func load(path: String) throws -> NotificationRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NotificationConfigurationError("não foi possível ler / cannot read NOTIFICATION_RULES_FILE \(path)")
        }
        struct File: Decodable {
            var audiences: [String: [Audience]]?
            var groupAddresses: [String: String]?
        }
        do {
            let file = try JSONDecoder().decode(File.self, from: data)
            var rules = defaults
            for (kind, list) in file.audiences ?? [:] { rules.audiences[kind] = list }
            rules.groupAddresses = file.groupAddresses ?? [:]
            return rules
        } catch {
            throw NotificationConfigurationError("NOTIFICATION_RULES_FILE inválido / invalid: \(error)")
        }
    }
}
