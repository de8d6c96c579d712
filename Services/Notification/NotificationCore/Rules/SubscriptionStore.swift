import Foundation
import Storage

/// Per person and event kind switches. A person is an id or a normalized e-mail address; kind
/// `*` switches every kind; the more specific row wins; no row means subscribed.
struct SubscriptionStore: Sendable {
    func isEnabled(_ executor: any SQLExecutor, person keys: [String], kind: String) throws -> Bool {
        guard !keys.isEmpty else { return true }
        let normalized = keys.map { $0.contains("@") ? EmailAddress.normalized($0) : $0 }
        let marks = Array(repeating: "?", count: normalized.count).joined(separator: ", ")
        let rows = try executor.query("""
            SELECT event_kind, enabled FROM notification_subscriptions
            WHERE person IN (\(marks)) AND event_kind IN (?, '*')
            """, normalized.map(SQLValue.text) + [.text(kind)])
        if let specific = rows.first(where: { (try? $0.text("event_kind")) == kind }) { return try specific.bool("enabled") }
        if let all = rows.first { return try all.bool("enabled") }
        return true
    }

    func set(_ executor: any SQLExecutor, person: String, kind: String, enabled: Bool) throws {
        let key = person.contains("@") ? EmailAddress.normalized(person) : person
        try executor.execute("""
            INSERT INTO notification_subscriptions (person, event_kind, enabled, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (person, event_kind) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at
            """, [.text(key), .text(kind), .init(enabled), .timestamp(Date())])
    }

    /// Deletes the switch of `person` for `kind`; the removed switch, or nil when there was none.
    func remove(_ executor: any SQLExecutor, person: String, kind: String) throws -> NotificationV1Subscription? {
        let key = person.contains("@") ? EmailAddress.normalized(person) : person
        let rows = try executor.query("""
            DELETE FROM notification_subscriptions WHERE person = ? AND event_kind = ? RETURNING person, event_kind, enabled
            """, [.text(key), .text(kind)])
        return try rows.first.map { NotificationV1Subscription(person: try $0.text("person"), kind: try $0.text("event_kind"), enabled: try $0.bool("enabled")) }
    }

    func list(_ executor: any SQLExecutor, persons: [String]) throws -> [NotificationV1Subscription] {
        let keys = persons.filter { !$0.isEmpty }.map { $0.contains("@") ? EmailAddress.normalized($0) : $0 }
        guard !keys.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        return try executor.query("""
            SELECT person, event_kind, enabled FROM notification_subscriptions WHERE person IN (\(marks)) ORDER BY person, event_kind
            """, keys.map(SQLValue.text)).map {
            NotificationV1Subscription(person: try $0.text("person"), kind: try $0.text("event_kind"), enabled: try $0.bool("enabled"))
        }
    }
}

/// A subscription row as the API returns it.
struct NotificationV1Subscription: Sendable {
    var person: String
    var kind: String
    var enabled: Bool
}
