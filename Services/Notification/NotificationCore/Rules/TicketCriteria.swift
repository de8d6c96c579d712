import Foundation
import Messages

/// The attributes of an event's ticket that audience rules and webhooks filter on, as the event
/// carries them (workflow's `TicketSummary`, intake's `TicketOpened`; intake's replies through
/// the last summary notification kept): no other service is asked.
struct TicketTraits: Sendable, Equatable {
    var category: CommonV1.Category = .unspecified
    var priority: CommonV1.Priority = .unspecified
    var product = ""
    var module = ""
    var organizationID = ""
}

/// Which tickets an administrator's audience rule or a webhook applies to (the API's
/// `TicketFilter`, checked and stored): each list empty = any value; a ticket must match every
/// list that has values (AND), any value within one (OR). Products and modules are compared
/// ignoring case and surrounding spaces. ``none`` (every list empty) matches every ticket, which
/// is what rules and webhooks stored before filters existed hold.
struct TicketCriteria: Sendable, Equatable {
    var categories: [CommonV1.Category] = []
    var priorities: [CommonV1.Priority] = []
    var products: [String] = []
    var modules: [String] = []
    var organizationIDs: [String] = []

    static let none = TicketCriteria()

    /// At most this many values per list, each at most ``maxValueBytes`` bytes.
    static let maxValues = 100
    static let maxValueBytes = 200

    var isEmpty: Bool {
        categories.isEmpty && priorities.isEmpty && products.isEmpty && modules.isEmpty && organizationIDs.isEmpty
    }

    /// Whether a ticket with `traits` is one this applies to.
    func matches(_ traits: TicketTraits) -> Bool {
        guard !isEmpty else { return true }
        if !categories.isEmpty, !categories.contains(traits.category) { return false }
        if !priorities.isEmpty, !priorities.contains(traits.priority) { return false }
        if !products.isEmpty, !Self.contains(products, traits.product) { return false }
        if !modules.isEmpty, !Self.contains(modules, traits.module) { return false }
        if !organizationIDs.isEmpty, !organizationIDs.contains(traits.organizationID) { return false }
        return true
    }

    /// How products and modules are compared.
    static func key(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces).lowercased() }

    /// Whether `list` (as administrators wrote it) names `value` (as the ticket carries it).
    private static func contains(_ list: [String], _ value: String) -> Bool {
        let wanted = key(value)
        return list.contains { key($0) == wanted }
    }

    // MARK: the API's message

    /// The request's filter, checked: an unspecified (or unknown) category or priority, an empty
    /// value or a list too long is `INVALID_ARGUMENT` naming `<field>.<list>[i]`; values named
    /// twice are kept once. - Parameter field: the filter's path in the request (`filter`).
    init(checking message: NotificationV1.TicketFilter?, field: String = "filter") throws {
        guard let message else { return }
        categories = try Self.known(message.categories, "\(field).categories", what: ("Categoria", "category"))
        priorities = try Self.known(message.priorities, "\(field).priorities", what: ("Prioridade", "priority"))
        products = try Self.texts(message.products, "\(field).products", what: ("o produto", "product"), key: Self.key)
        modules = try Self.texts(message.modules, "\(field).modules", what: ("o módulo", "module"), key: Self.key)
        organizationIDs = try Self.texts(message.organizationIDs, "\(field).organization_ids", what: ("a organização", "organization"),
                                         key: { $0 })
    }

    /// The values of a category or priority list, each kept once; the unspecified value (what
    /// an unknown number reads as) is refused, naming the known ones.
    private static func known<Value: LabelledEnum & RawRepresentable>(_ values: [Value], _ field: String,
                                                                     what: (pt: String, en: String)) throws -> [Value]
    where Value.RawValue == Int32 {
        try checkCount(values.count, field)
        let names = Value.allCases.filter { $0.rawValue != 0 }.map(\.protoName).joined(separator: ", ")
        var kept: [Value] = []
        for (index, value) in values.enumerated() {
            guard value.rawValue != 0 else {
                throw Access.invalid("\(field)[\(index)]", "\(what.pt) desconhecida ou não informada (use \(names)).",
                                     "Unknown or unspecified \(what.en) (use \(names)).")
            }
            if !kept.contains(value) { kept.append(value) }
        }
        return kept
    }

    private static func checkCount(_ count: Int, _ field: String) throws {
        guard count <= maxValues else {
            throw Access.invalid(field, "No máximo \(maxValues) valores.", "At most \(maxValues) values.", reason: "too_long")
        }
    }

    /// The values of one text list, trimmed, each kept once (by `key`: products and modules
    /// ignoring case), as written.
    private static func texts(_ values: [String], _ field: String, what: (pt: String, en: String),
                              key: (String) -> String) throws -> [String] {
        try checkCount(values.count, field)
        var kept: [String] = [], keys: Set<String> = []
        for (index, value) in values.enumerated() {
            let normalized = value.trimmingCharacters(in: .whitespaces)
            guard !normalized.isEmpty else {
                throw Access.required("\(field)[\(index)]", "Informe \(what.pt) (ou retire o valor vazio).",
                                      "The \(what.en) is required (or remove the empty value).")
            }
            guard normalized.utf8.count <= maxValueBytes, !normalized.contains(where: { $0 == "," || $0 == ";" }) else {
                throw Access.invalid("\(field)[\(index)]", "No máximo \(maxValueBytes) caracteres, sem vírgula nem ponto e vírgula.",
                                     "At most \(maxValueBytes) characters, no comma or semicolon.")
            }
            if keys.insert(key(normalized)).inserted { kept.append(normalized) }
        }
        return kept
    }

    /// As the API shows it; nil when it matches every ticket.
    var message: NotificationV1.TicketFilter? {
        guard !isEmpty else { return nil }
        var filter = NotificationV1.TicketFilter()
        filter.categories = categories
        filter.priorities = priorities
        filter.products = products
        filter.modules = modules
        filter.organizationIDs = organizationIDs
        return filter
    }

    // MARK: storage

    /// As stored in a `ticket_filter` column and in the log of rule edits: `key=v1,v2` parts
    /// joined by `;` (categories and priorities by their `.proto` names), `""` when empty.
    var stored: String {
        var parts: [String] = []
        if !categories.isEmpty { parts.append("categories=" + categories.map(\.protoName).joined(separator: ",")) }
        if !priorities.isEmpty { parts.append("priorities=" + priorities.map(\.protoName).joined(separator: ",")) }
        if !products.isEmpty { parts.append("products=" + products.joined(separator: ",")) }
        if !modules.isEmpty { parts.append("modules=" + modules.joined(separator: ",")) }
        if !organizationIDs.isEmpty { parts.append("organization_ids=" + organizationIDs.joined(separator: ",")) }
        return parts.joined(separator: ";")
    }

    /// Reads ``stored``. A category or priority this version does not know (a later one wrote
    /// it) matches no ticket rather than widening the filter.
    init(stored text: String) {
        for part in text.split(separator: ";") {
            guard let equals = part.firstIndex(of: "=") else { continue }
            let values = part[part.index(after: equals)...].split(separator: ",").map(String.init)
            switch part[..<equals] {
            case "categories": categories = values.map { CommonV1.Category(protoName: $0) ?? .unspecified }
            case "priorities": priorities = values.map { CommonV1.Priority(protoName: $0) ?? .unspecified }
            case "products": products = values
            case "modules": modules = values
            case "organization_ids": organizationIDs = values
            default: continue
            }
        }
    }

    init() {}
}
