import Foundation
import Messages
import Storage

/// A person's switch for one event kind (or `*`): on or off and, optionally, which tickets it
/// applies to (the rules' and webhooks' ``TicketCriteria``, checked and stored alike).
struct SubscriptionSwitch: Sendable, Equatable {
    var enabled: Bool
    /// The tickets it applies to (``TicketCriteria/none``: every ticket).
    var criteria = TicketCriteria.none

    /// Whether it lets an event about a ticket with `traits` be e-mailed: `enabled` for the
    /// tickets its filter matches, the opposite for the others — on with a filter is "only these
    /// tickets", off with a filter is "all but these"; without a filter, `enabled` for every ticket.
    func allows(_ traits: TicketTraits) -> Bool {
        criteria.matches(traits) ? enabled : !enabled
    }

    /// The one decision, for the cached switches and those read per recipient: a kind's own
    /// switch before `*` (the first of `found` that has one: the person's keys in order); no
    /// switch: subscribed.
    /// - Parameter found: the switches (kind → switch) of each of a person's keys that has any.
    static func isEnabled(_ found: [[String: SubscriptionSwitch]], kind: String, ticket traits: TicketTraits) -> Bool {
        let chosen = found.lazy.compactMap { $0[kind] }.first ?? found.lazy.compactMap { $0["*"] }.first
        return chosen?.allows(traits) ?? true
    }
}

/// Per person and event kind switches (`notification_subscriptions`). A person is an id or a
/// normalized e-mail address; kind `*` switches every kind; the more specific row wins; no row
/// means subscribed; a row's filter (migration 14) narrows it to some tickets
/// (``SubscriptionSwitch``).
struct SubscriptionStore: Sendable {
    /// How people are keyed: addresses normalized, ids as given.
    static func key(_ person: String) -> String {
        person.utf8.contains(UInt8(ascii: "@")) ? EmailAddress.normalized(person) : person
    }

    func isEnabled(_ executor: any SQLExecutor, person keys: [String], kind: String, ticket traits: TicketTraits = TicketTraits()) throws -> Bool {
        guard !keys.isEmpty else { return true }
        let normalized = keys.map(Self.key)
        let marks = Array(repeating: "?", count: normalized.count).joined(separator: ", ")
        var byPerson: [String: [String: SubscriptionSwitch]] = [:]
        for row in try executor.query("""
            SELECT person, event_kind, enabled, ticket_filter FROM notification_subscriptions
            WHERE person IN (\(marks)) AND event_kind IN (?, '*')
            """, normalized.map(SQLValue.text) + [.text(kind)]) {
            byPerson[try row.text("person"), default: [:]][try row.text("event_kind")] = try Self.switchOf(row)
        }
        return SubscriptionSwitch.isEnabled(normalized.compactMap { byPerson[$0] }, kind: kind, ticket: traits)
    }

    /// A row's switch.
    static func switchOf(_ row: Row) throws -> SubscriptionSwitch {
        SubscriptionSwitch(enabled: try row.bool("enabled"), criteria: TicketCriteria(stored: try row.text("ticket_filter")))
    }

    func set(_ executor: any SQLExecutor, person: String, kind: String, enabled: Bool, criteria: TicketCriteria = .none) throws {
        try executor.execute("""
            INSERT INTO notification_subscriptions (person, event_kind, enabled, updated_at, ticket_filter) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (person, event_kind) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at,
                ticket_filter = excluded.ticket_filter
            """, [.text(Self.key(person)), .text(kind), .init(enabled), .timestamp(Date()), .text(criteria.stored)])
    }

    /// Deletes the switch of `person` for `kind`; the removed switch, or nil when there was none.
    func remove(_ executor: any SQLExecutor, person: String, kind: String) throws -> NotificationV1Subscription? {
        let rows = try executor.query("""
            DELETE FROM notification_subscriptions WHERE person = ? AND event_kind = ? RETURNING person, event_kind, enabled, ticket_filter
            """, [.text(Self.key(person)), .text(kind)])
        return try rows.first.map(NotificationV1Subscription.init)
    }

    func list(_ executor: any SQLExecutor, persons: [String]) throws -> [NotificationV1Subscription] {
        let keys = persons.filter { !$0.isEmpty }.map(Self.key)
        guard !keys.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        return try executor.query("""
            SELECT person, event_kind, enabled, ticket_filter FROM notification_subscriptions WHERE person IN (\(marks)) ORDER BY person, event_kind
            """, keys.map(SQLValue.text)).map(NotificationV1Subscription.init)
    }
}

/// A subscription row as the API returns it.
struct NotificationV1Subscription: Sendable {
    var person: String
    var kind: String
    var setting: SubscriptionSwitch

    init(person: String, kind: String, setting: SubscriptionSwitch) {
        self.person = person
        self.kind = kind
        self.setting = setting
    }

    init(_ row: Row) throws {
        self.init(person: try row.text("person"), kind: try row.text("event_kind"), setting: try SubscriptionStore.switchOf(row))
    }

    var enabled: Bool { setting.enabled }

    /// As the API shows it (`filter` unset when it applies to every ticket).
    var message: NotificationV1.Subscription {
        var subscription = NotificationV1.Subscription()
        subscription.person = person
        subscription.eventKind = kind
        subscription.enabled = setting.enabled
        subscription.filter = setting.criteria.message
        return subscription
    }
}
