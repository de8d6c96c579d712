import RPC

/// The kinds of discussion entry, and which of them staff may write (`AddDiscussion`, a bulk note).
///
/// The kinds workflow itself writes name who spoke: a customer's (`customer_reply`,
/// `solution_accepted`, `solution_rejected`, `cancellation`, `voicemail` and what
/// `LogCustomerMessage` records) or the team's at a move or hand-off (`transfer`, `denial`,
/// `request_info`, `solution`). An agent's own entry takes one of ``agentWritten``; before 2026-12
/// any text up to 200 characters was taken, so an agent could label a public entry as a customer's
/// (`customer_reply`). Rows stored before keep their kind and read as they are.
enum EntryKinds {
    /// What an agent's entry may be: a note (the default), a possible solution (shown as Markdown),
    /// a request for information, a solution, an article.
    static let agentWritten: [String] = ["note", "possible_solution", "request_info", "solution", "article"]

    /// The kind of an agent's entry: `kind`, or `note` when empty.
    /// - Throws: `INVALID_ARGUMENT` on `field` naming the kinds allowed.
    static func agentKind(_ kind: String, field: String = "kind") throws -> String {
        if kind.isEmpty { return "note" }
        guard agentWritten.contains(kind) else {
            let allowed = agentWritten.joined(separator: ", ")
            throw RPCError(.invalidArgument, "tipo de registro inválido: \(kind) / invalid entry kind: \(kind)", violations: [
                FieldViolation(field: field, reason: "invalid", pt: "Use: \(allowed).", en: "Use: \(allowed).")])
        }
        return kind
    }
}
