import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// Who hears of what: the rules listed, and administrators' edits of a kind's audiences and of
/// the groups' mailboxes (stored in notification's database, over `NOTIFICATION_RULES_FILE` or
/// the defaults; see ``RuleStore``). An edit commits with its log entry and bumps the
/// configuration version, so every instance plans the events it handles after the commit with it.
extension NotificationAPI {
    /// The most recent edits ListRules returns.
    static let listedChanges = 50

    /// The rules in force: every event kind's audiences (edited or the file's) and the groups'
    /// mailboxes (administrators only: the mailboxes are internal addresses).
    func listRules(_ request: NotificationV1.ListRulesRequest, _ context: ServerContext) throws -> NotificationV1.ListRulesResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        let (edits, changes) = try database.read { tx in (try RuleStore.edits(tx), try RuleStore.changes(tx, limit: Self.listedChanges)) }
        let file = planner.fileRules
        var response = NotificationV1.ListRulesResponse()
        response.rules = Set(TemplatePlaceholders.eventNames.keys).union(file.kinds).union(edits.kinds.keys).sorted().map {
            Self.rule(kind: $0, file: file, edits: edits)
        }
        response.groupMailboxes = Set(file.groupAddresses.keys).union(edits.mailboxes.keys).sorted().compactMap {
            Self.mailbox(group: $0, file: file, edits: edits)
        }
        response.recentChanges = changes
        return response
    }

    func putAudienceRule(_ request: NotificationV1.PutAudienceRuleRequest,
                         _ context: ServerContext) throws -> NotificationV1.PutAudienceRuleResponse {
        let editor = try administrator(context)
        let kind = try Self.knownKind(request.eventKind)
        // No audiences and no addresses: nobody by e-mail, as before several rules existed.
        let rule = try NotificationRules.Rule(checking: request.audiences, addresses: request.addresses, filter: request.filter,
                                              field: "", allowEmpty: true)
        return try write(context, request) { tx in
            try RuleStore.putAudiences(tx, kind: kind, rule, by: editor)
            var response = NotificationV1.PutAudienceRuleResponse()
            response.rule = Self.rule(kind: kind, file: planner.fileRules, edits: try RuleStore.edits(tx))
            return response
        }
    }

    /// Adds one rule to a kind (a kind not yet edited first takes the file's rules as its own).
    func addRuleEntry(_ request: NotificationV1.AddRuleEntryRequest, _ context: ServerContext) throws -> NotificationV1.AddRuleEntryResponse {
        let editor = try administrator(context)
        let kind = try Self.knownKind(request.eventKind)
        let entry = request.entry ?? NotificationV1.AudienceRuleEntry()
        let rule = try NotificationRules.Rule(checking: entry.audiences, addresses: entry.addresses, filter: entry.filter, field: "entry")
        let inherited = planner.fileRules.rules(of: kind)
        return try write(context, request) { tx in
            let stored = try RuleStore.addRule(tx, kind: kind, rule, inherited: inherited, by: editor)
            var response = NotificationV1.AddRuleEntryResponse()
            response.rule = Self.rule(kind: kind, file: planner.fileRules, edits: try RuleStore.edits(tx))
            response.entry = stored.message
            return response
        }
    }

    /// Replaces one rule of a kind. NOT_FOUND when the kind has no rule with that id.
    func updateRuleEntry(_ request: NotificationV1.UpdateRuleEntryRequest,
                         _ context: ServerContext) throws -> NotificationV1.UpdateRuleEntryResponse {
        let editor = try administrator(context)
        let kind = try Self.knownKind(request.eventKind)
        let entry = request.entry ?? NotificationV1.AudienceRuleEntry()
        let id = try Self.ruleID(entry.id, field: "entry.id")
        var rule = try NotificationRules.Rule(checking: entry.audiences, addresses: entry.addresses, filter: entry.filter, field: "entry")
        rule.id = id
        return try write(context, request) { tx in
            guard try RuleStore.updateRule(tx, kind: kind, rule, by: editor) else { throw Self.unknownRule(kind: kind, id: id) }
            var response = NotificationV1.UpdateRuleEntryResponse()
            response.rule = Self.rule(kind: kind, file: planner.fileRules, edits: try RuleStore.edits(tx))
            return response
        }
    }

    /// Removes one rule of a kind (its last one removed: nobody by e-mail until a reset).
    func removeRuleEntry(_ request: NotificationV1.RemoveRuleEntryRequest,
                         _ context: ServerContext) throws -> NotificationV1.RemoveRuleEntryResponse {
        let editor = try administrator(context)
        let kind = try Self.knownKind(request.eventKind)
        let id = try Self.ruleID(request.id, field: "id")
        let edits = try database.write { tx -> RuleStore.Edits? in
            guard try RuleStore.removeRule(tx, kind: kind, id: id, by: editor) else { return nil }
            return try RuleStore.edits(tx)
        }
        guard let edits else { throw Self.unknownRule(kind: kind, id: id) }
        var response = NotificationV1.RemoveRuleEntryResponse()
        response.rule = Self.rule(kind: kind, file: planner.fileRules, edits: edits)
        return response
    }

    func resetAudienceRule(_ request: NotificationV1.ResetAudienceRuleRequest,
                           _ context: ServerContext) throws -> NotificationV1.ResetAudienceRuleResponse {
        let editor = try administrator(context)
        let kind = try Self.knownKind(request.eventKind)
        let edits = try database.write { tx -> RuleStore.Edits? in
            guard try RuleStore.resetAudiences(tx, kind: kind, by: editor) else { return nil }
            return try RuleStore.edits(tx)
        }
        guard let edits else {
            throw RPCError(.notFound, "este tipo de evento não foi alterado / this event kind was not edited")
        }
        var response = NotificationV1.ResetAudienceRuleResponse()
        response.rule = Self.rule(kind: kind, file: planner.fileRules, edits: edits)
        return response
    }

    func putGroupMailbox(_ request: NotificationV1.PutGroupMailboxRequest,
                         _ context: ServerContext) throws -> NotificationV1.PutGroupMailboxResponse {
        let editor = try administrator(context)
        let group = try Self.groupID(request.groupID)
        let address = request.address.trimmingCharacters(in: .whitespaces)
        guard !address.isEmpty else { throw Access.required("address", "Informe o endereço.", "Address is required.") }
        guard EmailAddress.isValid(address) else {
            throw Access.invalid("address", "Endereço de e-mail inválido: \(address)", "Invalid e-mail address: \(address)")
        }
        return try write(context, request) { tx in
            try RuleStore.putMailbox(tx, group: group, address: address, by: editor)
            var response = NotificationV1.PutGroupMailboxResponse()
            response.mailbox = Self.mailbox(group: group, file: planner.fileRules, edits: try RuleStore.edits(tx))
            return response
        }
    }

    func removeGroupMailbox(_ request: NotificationV1.RemoveGroupMailboxRequest,
                            _ context: ServerContext) throws -> NotificationV1.RemoveGroupMailboxResponse {
        let editor = try administrator(context)
        let group = try Self.groupID(request.groupID)
        let file = planner.fileRules
        let removed = try database.write { tx -> NotificationV1.GroupMailbox? in
            guard let current = Self.mailbox(group: group, file: file, edits: try RuleStore.edits(tx)) else { return nil }
            if file.groupAddresses[group] != nil {
                // The file's mailbox would apply again: an empty one keeps the group without.
                try RuleStore.putMailbox(tx, group: group, address: "", by: editor)
            } else {
                try RuleStore.deleteMailbox(tx, group: group, by: editor)
            }
            return current
        }
        guard let removed else { throw RPCError(.notFound, "grupo sem caixa de e-mail / group without a mailbox") }
        var response = NotificationV1.RemoveGroupMailboxResponse()
        response.mailbox = removed
        return response
    }

    // MARK: helpers

    /// Who an edit is recorded as (their e-mail, else their id), once the caller is known to be
    /// an administrator (or a service).
    func administrator(_ context: ServerContext) throws -> String {
        let caller = try runtime.principals.require(context)
        try Access.requireAdministrator(caller)
        return caller.email.isEmpty ? caller.id : caller.email
    }

    /// `kind` when it is an event kind notification plans (or `*`, every kind, when `wildcard`);
    /// else the error of `field`. Audience rules, webhooks and subscriptions name kinds alike: a
    /// misspelt one ("ticketopened") would be stored and never match an event.
    static func knownKind(_ kind: String, field: String = "event_kind", wildcard: Bool = false) throws -> String {
        guard !kind.isEmpty else { throw Access.required(field, "Informe o tipo de evento.", "Event kind is required.") }
        guard TemplatePlaceholders.eventNames[kind] != nil || (wildcard && kind == "*") else {
            let known = (wildcard ? ["*"] : []) + TemplatePlaceholders.eventNames.keys.sorted()
            throw Access.invalid(field, "Tipo de evento desconhecido: \(kind) (conhecidos: \(known.joined(separator: ", "))).",
                                 "Unknown event kind: \(kind) (known: \(known.joined(separator: ", "))).")
        }
        return kind
    }

    static func groupID(_ text: String) throws -> String {
        let group = text.trimmingCharacters(in: .whitespaces)
        guard !group.isEmpty else { throw Access.required("group_id", "Informe o grupo.", "Group is required.") }
        guard group.utf8.count <= 200 else {
            throw Access.invalid("group_id", "Id de grupo longo demais (máx. 200).", "Group id too long (max 200).")
        }
        return group
    }

    /// A rule id as given (`field`): required.
    static func ruleID(_ text: String, field: String) throws -> String {
        let id = text.trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty else { throw Access.required(field, "Informe a regra.", "Rule id is required.") }
        return id
    }

    static func unknownRule(kind: String, id: String) -> RPCError {
        RPCError(.notFound, "\(kind) não tem a regra \(id) / \(kind) has no rule \(id)")
    }

    /// A kind as listed: its rules in force (the edit's, else the file's or the defaults'), the
    /// file's, and the union of their audiences (`filter` only when the kind has exactly one rule).
    static func rule(kind: String, file: NotificationRules, edits: RuleStore.Edits) -> NotificationV1.AudienceRule {
        var rule = NotificationV1.AudienceRule()
        rule.eventKind = kind
        rule.defaultAudiences = file.audiences(of: kind).map(\.rawValue)
        rule.defaultEntries = file.rules(of: kind).map(\.message)
        let entries: [NotificationRules.Rule]
        if let edit = edits.kinds[kind] {
            entries = edit.value
            rule.customized = true
            rule.updatedBy = edit.updatedBy
            rule.updatedAtMs = edit.updatedAtMs
        } else {
            entries = file.rules(of: kind)
        }
        rule.entries = entries.map(\.message)
        var union = NotificationRules(audiences: [:])
        union.rules[kind] = entries
        rule.audiences = union.audiences(of: kind).map(\.rawValue)
        if entries.count == 1 { rule.filter = entries[0].filter.message }
        return rule
    }

    /// A group's mailbox in force (the edited one, else the file's); nil when it has none.
    static func mailbox(group: String, file: NotificationRules, edits: RuleStore.Edits) -> NotificationV1.GroupMailbox? {
        var mailbox = NotificationV1.GroupMailbox()
        mailbox.groupID = group
        if let edit = edits.mailboxes[group] {
            guard !edit.value.isEmpty else { return nil }
            mailbox.address = edit.value
            mailbox.source = "administrator"
            mailbox.updatedBy = edit.updatedBy
            mailbox.updatedAtMs = edit.updatedAtMs
        } else {
            guard let address = file.groupAddresses[group] else { return nil }
            mailbox.address = address
            mailbox.source = "file"
        }
        return mailbox
    }
}
