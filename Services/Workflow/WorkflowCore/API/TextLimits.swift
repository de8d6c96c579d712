import RPC

/// How long the free texts of workflow's writes may be, checked before anything is read or
/// stored; each text over its limit is a `too_long` violation naming its field. Before, only
/// roles and survey comments had a limit: a 150,000-character transfer note, time entry note,
/// solution or routing rule product was stored and sent on with every view and event.
enum TextLimits {
    /// Notes, reasons and justifications: a line of the ticket's history each.
    static let note = 4_000
    /// Texts a customer reads or that carry the work (discussion entries, public notes, the
    /// solution, the request, a logged customer message): intake's longest reply.
    static let text = 100_000
    /// Names and keys of the configuration (a routing rule's product, module, plan).
    static let name = 200

    /// - Throws: `INVALID_ARGUMENT` with one violation per text (value, field, limit) over its limit.
    static func check(_ texts: [(String, String, Int)]) throws {
        let violations = texts.compactMap { FieldViolation.length(of: $0.0, $0.1, limit: $0.2) }
        guard !violations.isEmpty else { return }
        let fields = violations.map(\.field).joined(separator: ", ")
        throw RPCError(.invalidArgument, "texto longo demais: \(fields) / text too long: \(fields)", violations: violations)
    }
}
