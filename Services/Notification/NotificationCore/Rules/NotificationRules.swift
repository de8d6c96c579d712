import Foundation

/// Who is told about what: for each event kind, the audiences that receive an e-mail — one
/// unfiltered rule (`audiences`), or several rules (`rules`), each with its own audiences, fixed
/// addresses and ticket filter, combined as a union of recipients. This is configuration (a JSON
/// file named by `NOTIFICATION_RULES_FILE`, ``load(path:)``) with administrators' edits over it;
/// ``defaults`` are the issue's.
///
/// ```json
/// {"audiences": {"TicketOpened": ["customer"], "SLABreached": ["holder", "chefe"]},
///  "rules": {"SLAWarning": [{"audiences": ["holder"]},
///                           {"audiences": ["chefe"], "filter": {"priorities": ["URGENTE"]}}],
///            "TicketRouted": [{"addresses": ["fiscal@suporte.example"], "filter": {"categories": ["EXIGENCIA_FISCAL"]}}]},
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

    /// Event kind (short message name, e.g. "TicketOpened") → audiences: one rule for every
    /// ticket. A kind in ``rules`` follows those instead.
    public var audiences: [String: [Audience]]
    /// Group id → mailbox, for tickets held by a group without an agent.
    public var groupAddresses: [String: String]
    /// Event kind → its rules, when they are not one unfiltered list of audiences (the file's
    /// `rules`, an administrator's edits); wins over ``audiences``. An empty list: nobody.
    var rules: [String: [Rule]] = [:]

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

    /// The audiences of `kind`, every rule's (none when the rules do not mention it).
    public func audiences(of kind: String) -> [Audience] {
        var union: [Audience] = []
        for rule in rules(of: kind) { for audience in rule.audiences where !union.contains(audience) { union.append(audience) } }
        return union
    }

    /// The rules of `kind` (none when the rules do not mention it).
    func rules(of kind: String) -> [Rule] {
        if let list = rules[kind] { return list }
        return audiences[kind].map { [Rule(audiences: $0)] } ?? []
    }

    /// The rules of `kind` that apply to an event of a ticket with `traits` (their filter matches).
    func rules(of kind: String, ticket traits: TicketTraits) -> [Rule] {
        rules(of: kind).filter { $0.filter.matches(traits) }
    }

    /// Every kind the rules name.
    var kinds: Set<String> { Set(audiences.keys).union(rules.keys) }

    /// Reads rules from a JSON file (``RulesFile``); kinds it does not mention keep their defaults.
    /// - Throws: ``NotificationConfigurationError`` when the file is unreadable or malformed.
    public static func load(path: String) throws -> NotificationRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NotificationConfigurationError("não foi possível ler / cannot read NOTIFICATION_RULES_FILE \(path)")
        }
        return try RulesFile.rules(data)
    }
}
