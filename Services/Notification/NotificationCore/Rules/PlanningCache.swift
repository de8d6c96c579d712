import Foundation
import Storage
import Synchronization

/// What planning reads for every event — administrator templates, active webhooks, subscription
/// switches, suppressed addresses and the rules of who hears of what (the file's or the defaults,
/// with administrators' edits over them) — kept in memory and checked with one statement instead
/// of six: triggers on those tables bump `notification_config_version` in the writing transaction
/// (whoever writes: this instance, another one sharing the database, or plain SQL), and a
/// snapshot is used only while the version read in the event's transaction is the one it was
/// loaded at. The version is read once per event consumer transaction (its first event;
/// the transaction's ``ClaimingExecutor`` keeps the snapshot for the others), once per call
/// elsewhere. So a change is seen by every transaction that begins after it commits: the events
/// of one transaction, which commit together, are planned with one configuration.
final class PlanningCache: Sendable {
    /// Beyond this many subscription rows, switches are read per recipient as before (the
    /// templates and webhooks are still cached).
    static let subscriptionLimit = 10_000

    struct Snapshot: Sendable {
        var version: Int64
        /// The rules in force: ``PlanningCache/fileRules`` with the administrators' edits over them.
        var rules: NotificationRules
        /// `kind|locale` → the administrator's template.
        var templates: [String: TemplateCatalog.Entry]
        var webhooks: [WebhookRecord]
        /// Person → (kind → switch); nil when the table is larger than ``subscriptionLimit``.
        var subscriptions: [String: [String: SubscriptionSwitch]]?
        /// Suppressed address → what a delivery to it records; nil when there are more than
        /// ``subscriptionLimit`` (then read per recipient).
        var suppressed: [String: String]?
    }

    /// The rules of `NOTIFICATION_RULES_FILE` (or the defaults): what applies where no
    /// administrator edited.
    let fileRules: NotificationRules
    private let current = Mutex<Snapshot?>(nil)
    /// Snapshots loaded (tests and the benchmark read it to see the cache work).
    let loads = Atomic<Int>(0)

    init(fileRules: NotificationRules = .defaults) {
        self.fileRules = fileRules
    }

    /// The snapshot valid in `tx`: the cached one when the stored version still matches, else
    /// a fresh one read in `tx`.
    func snapshot(_ tx: any SQLExecutor) throws -> Snapshot {
        guard let transaction = tx as? ClaimingExecutor else { return try load(tx) }
        if let known = transaction.planning { return known }
        let snapshot = try load(tx)
        transaction.planning = snapshot
        return snapshot
    }

    /// The snapshot valid in `tx`, its version read now.
    private func load(_ tx: any SQLExecutor) throws -> Snapshot {
        let version: Int64
        switch try tx.scalar("SELECT version FROM notification_config_version WHERE id = 1", []) {
        case .integer(let value): version = value
        default: version = -1
        }
        if let cached = current.withLock({ $0 }), cached.version == version, version >= 0 { return cached }
        var templates: [String: TemplateCatalog.Entry] = [:]
        for row in try tx.query("SELECT event_kind, locale, subject, text_body, html_body FROM notification_templates", []) {
            templates["\(try row.text("event_kind"))|\(try row.text("locale"))"] =
                TemplateCatalog.Entry(subject: try row.text("subject"), text: try row.text("text_body"), html: try row.text("html_body"))
        }
        var subscriptions: [String: [String: SubscriptionSwitch]]? = [:]
        let rows = try tx.query("SELECT person, event_kind, enabled, ticket_filter FROM notification_subscriptions LIMIT ?",
                                [.integer(Int64(Self.subscriptionLimit + 1))])
        if rows.count > Self.subscriptionLimit {
            subscriptions = nil
        } else {
            for row in rows {
                subscriptions?[try row.text("person"), default: [:]][try row.text("event_kind")] = try SubscriptionStore.switchOf(row)
            }
        }
        let snapshot = Snapshot(version: version, rules: fileRules.applying(try RuleStore.edits(tx)), templates: templates, webhooks: try WebhookStore.active(tx), subscriptions: subscriptions,
                                suppressed: try SuppressionStore.all(tx, limit: Self.subscriptionLimit))
        loads.add(1, ordering: .relaxed)
        current.withLock { cached in
            // Keep the newest: a concurrent transaction may have loaded a later version.
            if version >= 0, cached.map({ $0.version <= version }) ?? true { cached = snapshot }
        }
        return snapshot
    }
}

extension PlanningCache.Snapshot {
    /// The template for `kind` in `locale` (the administrator's, else the built-in one), as
    /// ``TemplateStore/template(_:kind:locale:)`` reads it.
    func template(kind: String, locale: String) -> TemplateCatalog.Entry? {
        let locale = TemplateCatalog.locale(locale)
        return templates["\(kind)|\(locale)"] ?? TemplateCatalog.builtIn(kind: kind, locale: locale)
    }

    /// Whether any of `keys` (a person's id and address) is subscribed to `kind` for a ticket
    /// with `traits`, as ``SubscriptionSwitch/isEnabled(_:kind:ticket:)`` decides it (a kind's own
    /// switch before `*`, its filter applied; no switch: subscribed); read from `tx` when the
    /// table was too large to cache.
    func isEnabled(_ tx: any SQLExecutor, person keys: [String], kind: String, ticket traits: TicketTraits = TicketTraits()) throws -> Bool {
        guard let subscriptions else { return try SubscriptionStore().isEnabled(tx, person: keys, kind: kind, ticket: traits) }
        return SubscriptionSwitch.isEnabled(keys.compactMap { subscriptions[SubscriptionStore.key($0)] }, kind: kind, ticket: traits)
    }

    /// Why `address` gets no e-mail (its suppression, as a delivery records it); nil when it may
    /// be e-mailed. Read from `tx` when there were too many suppressions to cache.
    func suppression(_ tx: any SQLExecutor, address: String) throws -> String? {
        guard !address.isEmpty else { return nil }
        guard let suppressed else { return try SuppressionStore.explanation(tx, address: address) }
        return suppressed[EmailAddress.normalized(address)]
    }
}
