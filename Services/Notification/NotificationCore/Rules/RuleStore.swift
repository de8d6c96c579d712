import Foundation
import Messages
import Storage

/// Reads and writes the rules administrators edited (`notification_audience_rules`,
/// `notification_group_mailboxes`) and the log of their edits (`notification_rule_changes`).
/// An edited kind's audiences, and a group's edited mailbox, win over `NOTIFICATION_RULES_FILE`
/// (or the defaults); what was never edited, or was reset, follows the file. Writes to the two
/// rule tables bump `notification_config_version`, so every instance's ``PlanningCache`` plans
/// the next event with them. Every function runs inside the caller's transaction.
enum RuleStore {
    /// An administrator's edit: what it says, who made it, when.
    struct Edit<Value: Sendable & Equatable>: Sendable, Equatable {
        var value: Value
        var updatedBy: String
        var updatedAtMs: Int64
    }

    /// Every edit in force.
    struct Edits: Sendable, Equatable {
        /// Edited event kind → its rules in order (none: nobody by e-mail); who edited it last, when.
        var kinds: [String: Edit<[NotificationRules.Rule]>] = [:]
        /// Group id → its mailbox; an empty address means the file's mailbox no longer applies.
        var mailboxes: [String: Edit<String>] = [:]
    }

    /// What an edit of the log did.
    enum Action: String {
        case audiences, reset, mailbox
        case ruleAdded = "rule_added", ruleUpdated = "rule_updated", ruleRemoved = "rule_removed"
        case mailboxRemoved = "mailbox_removed"
    }

    static func edits(_ tx: any SQLExecutor) throws -> Edits {
        var edits = Edits()
        for row in try tx.query("SELECT event_kind, updated_by, updated_at FROM notification_audience_rules", []) {
            edits.kinds[try row.text("event_kind")] = Edit(value: [], updatedBy: try row.text("updated_by"), updatedAtMs: try row.int("updated_at"))
        }
        for row in try tx.query("""
            SELECT id, event_kind, audiences, addresses, ticket_filter, updated_by, updated_at FROM notification_audience_rule_entries
            ORDER BY event_kind, position, id
            """, []) {
            let kind = try row.text("event_kind")
            // A rule whose kind lost its row (plain SQL) is not in force.
            guard edits.kinds[kind] != nil else { continue }
            let addresses = try row.text("addresses")
            edits.kinds[kind]?.value.append(NotificationRules.Rule(
                id: try row.text("id"), audiences: audiences(try row.text("audiences")),
                addresses: addresses.split(separator: ",").map(String.init), filter: TicketCriteria(stored: try row.text("ticket_filter")),
                updatedBy: try row.text("updated_by"), updatedAtMs: try row.int("updated_at")))
        }
        for row in try tx.query("SELECT group_id, address, updated_by, updated_at FROM notification_group_mailboxes", []) {
            edits.mailboxes[try row.text("group_id")] = Edit(value: try row.text("address"), updatedBy: try row.text("updated_by"),
                                                              updatedAtMs: try row.int("updated_at"))
        }
        return edits
    }

    /// Replaces `kind`'s rules with `rule` (none when it names nobody: nobody by e-mail) and
    /// records the edit (the log's value: `holder,chefe`, then ` [priorities=URGENTE]` when filtered).
    static func putAudiences(_ tx: any SQLExecutor, kind: String, _ rule: NotificationRules.Rule,
                             by person: String, now: Date = Date()) throws {
        try touch(tx, kind: kind, by: person, now: now)
        try tx.execute("DELETE FROM notification_audience_rule_entries WHERE event_kind = ?", [.text(kind)])
        if !rule.isEmpty { _ = try insert(tx, kind: kind, rule, position: 0, by: person, now: now) }
        try record(tx, .audiences, subject: kind, value: rule.logText, by: person, now: now)
    }

    /// Adds `rule` at the end of `kind`'s rules; a kind not yet edited first takes `inherited`
    /// (the file's or the defaults' rules) as its own. - Returns: the rule stored, with its id.
    static func addRule(_ tx: any SQLExecutor, kind: String, _ rule: NotificationRules.Rule, inherited: [NotificationRules.Rule],
                        by person: String, now: Date = Date()) throws -> NotificationRules.Rule {
        let edited = try !tx.query("SELECT event_kind FROM notification_audience_rules WHERE event_kind = ?", [.text(kind)]).isEmpty
        try touch(tx, kind: kind, by: person, now: now)
        var position: Int64 = 0
        if edited {
            if case .integer(let last) = try tx.scalar("SELECT MAX(position) FROM notification_audience_rule_entries WHERE event_kind = ?",
                                                       [.text(kind)]) { position = last + 1 }
        } else {
            for old in inherited {
                _ = try insert(tx, kind: kind, old, position: position, by: person, now: now)
                position += 1
            }
        }
        let stored = try insert(tx, kind: kind, rule, position: position, by: person, now: now)
        try record(tx, .ruleAdded, subject: kind, value: "\(stored.id): \(stored.logText)", by: person, now: now)
        return stored
    }

    /// Replaces the rule `rule.id` of `kind` (its place kept). - Returns: whether there was one.
    static func updateRule(_ tx: any SQLExecutor, kind: String, _ rule: NotificationRules.Rule, by person: String, now: Date = Date()) throws -> Bool {
        guard try tx.execute("""
            UPDATE notification_audience_rule_entries SET audiences = ?, addresses = ?, ticket_filter = ?, updated_by = ?, updated_at = ?
            WHERE id = ? AND event_kind = ?
            """, [.text(rule.audiences.map(\.rawValue).joined(separator: ",")), .text(rule.addresses.joined(separator: ",")),
                  .text(rule.filter.stored), .text(person), .timestamp(now), .text(rule.id), .text(kind)]) == 1 else { return false }
        try touch(tx, kind: kind, by: person, now: now)
        try record(tx, .ruleUpdated, subject: kind, value: "\(rule.id): \(rule.logText)", by: person, now: now)
        return true
    }

    /// Removes the rule `id` of `kind` (the kind stays edited). - Returns: whether there was one.
    static func removeRule(_ tx: any SQLExecutor, kind: String, id: String, by person: String, now: Date = Date()) throws -> Bool {
        guard try tx.execute("DELETE FROM notification_audience_rule_entries WHERE id = ? AND event_kind = ?", [.text(id), .text(kind)]) == 1
        else { return false }
        try touch(tx, kind: kind, by: person, now: now)
        try record(tx, .ruleRemoved, subject: kind, value: id, by: person, now: now)
        return true
    }

    /// Drops the edit of `kind`. - Returns: whether there was one (only then is it recorded).
    static func resetAudiences(_ tx: any SQLExecutor, kind: String, by person: String, now: Date = Date()) throws -> Bool {
        guard try tx.execute("DELETE FROM notification_audience_rules WHERE event_kind = ?", [.text(kind)]) == 1 else { return false }
        try tx.execute("DELETE FROM notification_audience_rule_entries WHERE event_kind = ?", [.text(kind)])
        try record(tx, .reset, subject: kind, value: "", by: person, now: now)
        return true
    }

    /// Marks `kind` as edited by `person` now (its rules are in notification_audience_rule_entries).
    private static func touch(_ tx: any SQLExecutor, kind: String, by person: String, now: Date) throws {
        try tx.execute("""
            INSERT INTO notification_audience_rules (event_kind, updated_by, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (event_kind) DO UPDATE SET updated_by = excluded.updated_by, updated_at = excluded.updated_at
            """, [.text(kind), .text(person), .timestamp(now)])
    }

    private static func insert(_ tx: any SQLExecutor, kind: String, _ rule: NotificationRules.Rule, position: Int64,
                               by person: String, now: Date) throws -> NotificationRules.Rule {
        var stored = rule
        stored.id = "rule-" + RandomID.timeOrdered(milliseconds: Int64(now.timeIntervalSince1970 * 1000)).lowercased()
        stored.updatedBy = person
        stored.updatedAtMs = Int64(now.timeIntervalSince1970 * 1000)
        try tx.execute("""
            INSERT INTO notification_audience_rule_entries (id, event_kind, position, audiences, addresses, ticket_filter, updated_by, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(stored.id), .text(kind), .integer(position), .text(rule.audiences.map(\.rawValue).joined(separator: ",")),
                  .text(rule.addresses.joined(separator: ",")), .text(rule.filter.stored), .text(person), .timestamp(now)])
        return stored
    }

    /// Stores `group`'s mailbox (`address` empty: the group has none, whatever the file says) and
    /// records the edit.
    static func putMailbox(_ tx: any SQLExecutor, group: String, address: String, by person: String, now: Date = Date()) throws {
        try tx.execute("""
            INSERT INTO notification_group_mailboxes (group_id, address, updated_by, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (group_id) DO UPDATE SET address = excluded.address, updated_by = excluded.updated_by,
                updated_at = excluded.updated_at
            """, [.text(group), .text(address), .text(person), .timestamp(now)])
        try record(tx, address.isEmpty ? .mailboxRemoved : .mailbox, subject: group, value: address, by: person, now: now)
    }

    /// Deletes `group`'s edited mailbox (the file's, if any, applies again) and records it.
    static func deleteMailbox(_ tx: any SQLExecutor, group: String, by person: String, now: Date = Date()) throws {
        try tx.execute("DELETE FROM notification_group_mailboxes WHERE group_id = ?", [.text(group)])
        try record(tx, .mailboxRemoved, subject: group, value: "", by: person, now: now)
    }

    /// The last `limit` edits, newest first.
    static func changes(_ tx: any SQLExecutor, limit: Int) throws -> [NotificationV1.RuleChange] {
        try tx.query("""
            SELECT changed_at, changed_by, action, subject, value FROM notification_rule_changes
            ORDER BY changed_at DESC, id DESC LIMIT ?
            """, [.integer(Int64(limit))]).map { row in
            var change = NotificationV1.RuleChange()
            change.changedAtMs = try row.int("changed_at")
            change.changedBy = try row.text("changed_by")
            change.action = try row.text("action")
            change.subject = try row.text("subject")
            change.value = try row.text("value")
            return change
        }
    }

    private static func record(_ tx: any SQLExecutor, _ action: Action, subject: String, value: String, by person: String, now: Date) throws {
        // Ids sort by time within a millisecond too (the log is read newest first).
        let id = RandomID.timeOrdered(milliseconds: Int64(now.timeIntervalSince1970 * 1000))
        try tx.execute("""
            INSERT INTO notification_rule_changes (id, changed_at, changed_by, action, subject, value) VALUES (?, ?, ?, ?, ?, ?)
            """, [.text(id), .timestamp(now), .text(person), .text(action.rawValue), .text(subject), .text(value)])
    }

    /// Audiences stored as `holder,chefe`; a name this version does not know is skipped.
    static func audiences(_ text: String) -> [NotificationRules.Audience] {
        text.split(separator: ",").compactMap { NotificationRules.Audience(rawValue: String($0)) }
    }
}

extension NotificationRules {
    /// These rules (the file's or the defaults) with administrators' `edits` over them: an
    /// edited kind's rules replace the kind's; an edited mailbox replaces the group's (an empty
    /// one removes it).
    func applying(_ edits: RuleStore.Edits) -> NotificationRules {
        var rules = self
        for (kind, edit) in edits.kinds { rules.rules[kind] = edit.value }
        for (group, edit) in edits.mailboxes {
            rules.groupAddresses[group] = edit.value.isEmpty ? nil : edit.value
        }
        return rules
    }
}
