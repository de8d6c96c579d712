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
        /// Event kind → its audiences (empty: nobody by e-mail).
        var audiences: [String: Edit<[NotificationRules.Audience]>] = [:]
        /// Event kind → the tickets its edited audiences apply to (absent: every ticket).
        var filters: [String: TicketCriteria] = [:]
        /// Group id → its mailbox; an empty address means the file's mailbox no longer applies.
        var mailboxes: [String: Edit<String>] = [:]
    }

    /// What an edit of the log did.
    enum Action: String {
        case audiences, reset, mailbox
        case mailboxRemoved = "mailbox_removed"
    }

    static func edits(_ tx: any SQLExecutor) throws -> Edits {
        var edits = Edits()
        for row in try tx.query("SELECT event_kind, audiences, updated_by, updated_at, ticket_filter FROM notification_audience_rules", []) {
            let kind = try row.text("event_kind")
            edits.audiences[kind] = Edit(value: audiences(try row.text("audiences")),
                                         updatedBy: try row.text("updated_by"), updatedAtMs: try row.int("updated_at"))
            let filter = TicketCriteria(stored: try row.text("ticket_filter"))
            if !filter.isEmpty { edits.filters[kind] = filter }
        }
        for row in try tx.query("SELECT group_id, address, updated_by, updated_at FROM notification_group_mailboxes", []) {
            edits.mailboxes[try row.text("group_id")] = Edit(value: try row.text("address"), updatedBy: try row.text("updated_by"),
                                                              updatedAtMs: try row.int("updated_at"))
        }
        return edits
    }

    /// Stores `kind`'s audiences and the tickets they apply to (replacing an earlier edit) and
    /// records the edit (the log's value: `holder,chefe`, then ` [priorities=URGENTE]` when filtered).
    static func putAudiences(_ tx: any SQLExecutor, kind: String, _ list: [NotificationRules.Audience], filter: TicketCriteria = .none,
                             by person: String, now: Date = Date()) throws {
        let text = list.map(\.rawValue).joined(separator: ",")
        let stored = filter.stored
        try tx.execute("""
            INSERT INTO notification_audience_rules (event_kind, audiences, updated_by, updated_at, ticket_filter) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (event_kind) DO UPDATE SET audiences = excluded.audiences, updated_by = excluded.updated_by,
                updated_at = excluded.updated_at, ticket_filter = excluded.ticket_filter
            """, [.text(kind), .text(text), .text(person), .timestamp(now), .text(stored)])
        try record(tx, .audiences, subject: kind, value: stored.isEmpty ? text : "\(text) [\(stored)]", by: person, now: now)
    }

    /// Drops the edit of `kind`. - Returns: whether there was one (only then is it recorded).
    static func resetAudiences(_ tx: any SQLExecutor, kind: String, by person: String, now: Date = Date()) throws -> Bool {
        guard try tx.execute("DELETE FROM notification_audience_rules WHERE event_kind = ?", [.text(kind)]) == 1 else { return false }
        try record(tx, .reset, subject: kind, value: "", by: person, now: now)
        return true
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
    /// edited kind's audiences (and the tickets they apply to) replace the kind's; an edited mailbox replaces the group's (an
    /// empty one removes it).
    func applying(_ edits: RuleStore.Edits) -> NotificationRules {
        var rules = self
        for (kind, edit) in edits.audiences {
            rules.audiences[kind] = edit.value
            rules.filters[kind] = edits.filters[kind]
        }
        for (group, edit) in edits.mailboxes {
            rules.groupAddresses[group] = edit.value.isEmpty ? nil : edit.value
        }
        return rules
    }
}
