import RPC

/// Collects every offending field of a request, then throws them together as one
/// `INVALID_ARGUMENT` (nothing is stored from a rejected request).
struct Violations {
    private(set) var items: [FieldViolation] = []

    mutating func add(_ field: String, _ reason: String, pt: String, en: String) {
        items.append(FieldViolation(field: field, reason: reason, pt: pt, en: en))
    }

    mutating func add(_ violation: FieldViolation) {
        items.append(violation)
    }

    mutating func required(_ field: String, _ value: String) {
        if value.allSatisfy(\.isWhitespace) {
            add(field, "required", pt: "Campo obrigatório.", en: "Required field.")
        }
    }

    mutating func maxLength(_ field: String, _ value: String, _ limit: Int) {
        if let long = FieldViolation.length(of: value, field, limit: limit) { add(long) }
    }

    mutating func notFound(_ field: String) {
        add(field, "not_found", pt: "Não encontrado.", en: "Not found.")
    }

    var isEmpty: Bool { items.isEmpty }

    /// Throws `INVALID_ARGUMENT` with every violation, when there is any; the fields are named
    /// in both halves of the message ("ocorrência inválida: product / invalid ticket: product"),
    /// not only after the English one, where a reader of the Portuguese half never saw them.
    func check(_ what: String = "pedido inválido / invalid request") throws {
        guard !items.isEmpty else { return }
        let fields = items.map(\.field).joined(separator: ", ")
        let (pt, en) = BilingualText.split(what)
        throw RPCError(.invalidArgument, pt == en ? "\(what): \(fields)" : "\(pt): \(fields) / \(en): \(fields)", violations: items)
    }
}
