import Messages
import Storage

/// An Exigência fiscal (a legal or tax requirement) is often met without development: a
/// parameter, a tax rule or a report layout configured. The `padrao` flow sends the category to
/// Análise produto and finishes it only when a version delivers it or product denies it, so such a
/// ticket had to be reclassified (as Dúvida or Problema) before it could be concluded, which
/// also took it out of the category's reports. This move finishes it from Em atendimento with
/// its own outcome, `resolvida_configuracao`, and the text for the customer saying what was
/// configured (`public_note`, required). The finish form (the move form of the ticket page)
/// offers it because `ListAllowedMoves` lists it for the category.
enum FiscalConfigurationFinish {
    /// The outcome recorded: solved by configuration.
    static let outcome = "resolvida_configuracao"
    static let label = "resolvida por configuração"

    /// Whether a finish with `outcome` solved the ticket (`resolvida`, or solved by configuration):
    /// its text for the customer is the solution entry, and a recorded solution is announced.
    static func solves(_ outcome: String) -> Bool {
        outcome == "resolvida" || outcome == self.outcome
    }

    /// The move of the shipped `padrao` flow.
    static let transition = Transition("em_atendimento", "finalizado", categories: [.exigenciaFiscal], outcome: outcome,
                                       requiresPublicNote: true, label: label)

    /// Appends the move to a `padrao` flow seeded before it existed (``FlowStore/seed(_:)`` never
    /// touches a flow already in the tables), after its last move, unless a move to Finalizado
    /// with this outcome is there already. A database without the flow gets it from the seed.
    static let migration = Migration(version: 193, name: "padrao_fiscal_requirement_solved_by_configuration", sql: """
        INSERT INTO flow_transitions (flow, position, from_stage, to_stage, trigger_kind, categories, outcome,
            requires_note, requires_public_note, permission, after_days, label)
        SELECT 'padrao', (SELECT COALESCE(MAX(position), -1) + 1 FROM flow_transitions WHERE flow = 'padrao'),
            'em_atendimento', 'finalizado', 'agent', '\(CommonV1.Category.exigenciaFiscal.rawValue)', '\(outcome)', 0, 1, '', 0, '\(label)'
        WHERE EXISTS (SELECT 1 FROM flow_settings WHERE flow = 'padrao')
          AND NOT EXISTS (SELECT 1 FROM flow_transitions WHERE flow = 'padrao' AND to_stage = 'finalizado' AND outcome = '\(outcome)')
        """)
}
