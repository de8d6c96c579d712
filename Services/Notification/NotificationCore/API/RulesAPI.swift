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
        response.rules = Set(TemplatePlaceholders.eventNames.keys).union(file.audiences.keys).union(edits.audiences.keys).sorted().map {
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
        var audiences: [NotificationRules.Audience] = []
        for name in request.audiences {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let audience = NotificationRules.Audience(rawValue: trimmed) else {
                throw Access.invalid("audiences", "Público desconhecido: \(name) (use \(Self.audienceNames)).",
                                     "Unknown audience: \(name) (use \(Self.audienceNames)).")
            }
            if !audiences.contains(audience) { audiences.append(audience) }
        }
        let stored = audiences
        let filter = try TicketCriteria(checking: request.filter)
        return try write(context, request) { tx in
            try RuleStore.putAudiences(tx, kind: kind, stored, filter: filter, by: editor)
            var response = NotificationV1.PutAudienceRuleResponse()
            response.rule = Self.rule(kind: kind, file: planner.fileRules, edits: try RuleStore.edits(tx))
            return response
        }
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

    static let audienceNames = NotificationRules.Audience.allCases.map(\.rawValue).joined(separator: ", ")

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

    /// A kind's rule as listed: the edit in force, else the file's (or default) audiences.
    static func rule(kind: String, file: NotificationRules, edits: RuleStore.Edits) -> NotificationV1.AudienceRule {
        var rule = NotificationV1.AudienceRule()
        rule.eventKind = kind
        rule.defaultAudiences = file.audiences(of: kind).map(\.rawValue)
        if let edit = edits.audiences[kind] {
            rule.audiences = edit.value.map(\.rawValue)
            rule.customized = true
            rule.updatedBy = edit.updatedBy
            rule.updatedAtMs = edit.updatedAtMs
            rule.filter = edits.filters[kind]?.message
        } else {
            rule.audiences = rule.defaultAudiences
        }
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
