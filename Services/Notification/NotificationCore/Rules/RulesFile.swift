import Foundation
import Messages
import RPC

/// `NOTIFICATION_RULES_FILE`: `audiences` (kind → audience names: one rule for every ticket, the
/// original form, still read as it was), `rules` (kind → a list of rules, each
/// `{"audiences": [...], "addresses": [...], "filter": {...}}`, with the API's checks: known
/// audiences, valid addresses, at least one of them, a filter as `TicketFilter` with enum names)
/// and `groupAddresses`. A kind named in both `audiences` and `rules` is refused.
enum RulesFile {
    private struct File: Decodable {
        var audiences: [String: [NotificationRules.Audience]]?
        var rules: [String: [FileRule]]?
        var groupAddresses: [String: String]?
    }

    private struct FileRule: Decodable {
        var audiences: [String]?
        var addresses: [String]?
        var filter: FileFilter?
    }

    private struct FileFilter: Decodable {
        var categories: [String]?
        var priorities: [String]?
        var products: [String]?
        var modules: [String]?
        var organization_ids: [String]?
    }

    /// The defaults with the file's kinds over them.
    /// - Throws: ``NotificationConfigurationError`` naming what is wrong (the field's path, e.g.
    ///   `rules.SLAWarning[1].filter.priorities[0]`).
    static func rules(_ data: Data) throws -> NotificationRules {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw NotificationConfigurationError("NOTIFICATION_RULES_FILE inválido / invalid: \(error)")
        }
        var rules = NotificationRules.defaults
        for (kind, list) in file.audiences ?? [:] { rules.audiences[kind] = list }
        for (kind, list) in (file.rules ?? [:]).sorted(by: { $0.key < $1.key }) {
            if file.audiences?[kind] != nil {
                throw NotificationConfigurationError(
                    "NOTIFICATION_RULES_FILE inválido / invalid: \(kind) em audiences e em rules / in both audiences and rules")
            }
            rules.rules[kind] = try list.enumerated().map { index, rule in try checked(rule, field: "rules.\(kind)[\(index)]") }
        }
        rules.groupAddresses = file.groupAddresses ?? [:]
        return rules
    }

    private static func checked(_ rule: FileRule, field: String) throws -> NotificationRules.Rule {
        do {
            var filter: NotificationV1.TicketFilter?
            if let given = rule.filter {
                var message = NotificationV1.TicketFilter()
                message.categories = try names(given.categories, "\(field).filter.categories", CommonV1.Category.self)
                message.priorities = try names(given.priorities, "\(field).filter.priorities", CommonV1.Priority.self)
                message.products = given.products ?? []
                message.modules = given.modules ?? []
                message.organizationIDs = given.organization_ids ?? []
                filter = message
            }
            return try NotificationRules.Rule(checking: rule.audiences ?? [], addresses: rule.addresses ?? [], filter: filter, field: field)
        } catch let error as RPCError {
            let where_ = error.violations.first.map { "\($0.field): " } ?? ""
            throw NotificationConfigurationError("NOTIFICATION_RULES_FILE inválido / invalid: \(where_)\(error.message)")
        }
    }

    /// Category or priority names (`EXIGENCIA_FISCAL`, `URGENTE`); an unknown one is refused.
    private static func names<Value: LabelledEnum>(_ list: [String]?, _ field: String, _ type: Value.Type) throws -> [Value] {
        try (list ?? []).enumerated().map { index, name in
            guard let value = Value(protoName: name) else {
                throw NotificationConfigurationError("NOTIFICATION_RULES_FILE inválido / invalid: \(field)[\(index)]: "
                                                     + "valor desconhecido / unknown value \(name)")
            }
            return value
        }
    }
}
