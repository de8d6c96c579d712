/// How a finished ticket ended: workflow's outcome keys (what a flow's finishing move or an
/// inactivity policy records, `TicketView.outcome`, `TicketFinished.outcome`) and the one wording
/// every reader gets — the portal's ticket pages and dashboard, `ocorre tickets show`, the CSV
/// exports, notification's e-mails. The wording is neutral (it names who cancelled, never "a seu
/// pedido"), so the customer's page, the agent's page and the customer's e-mail say the same.
/// Workflow's answers carry both languages side by side (`outcome_label`, `outcome_label_en`; the
/// CSV exports' `outcome` and `outcome_en`), as errors carry `message` and `message_en`.
///
/// The portal is JavaScript: its copy (`OUTCOMES` in `PortalAssets/portal.js`) is pinned to this
/// table by `GatewayTests` (`OutcomeLabelsTests`).
///
/// ```swift
/// TicketOutcome.label("resolvida_configuracao")            // "resolvida por configuração"
/// TicketOutcome.label("cancelada_cliente", .english)       // "cancelled by the customer"
/// TicketOutcome.label("outra_coisa")                       // "outra_coisa" (unknown keys as they are)
/// ```
public enum TicketOutcome: String, Sendable, CaseIterable, LabelledEnum {
    case resolvida
    case resolvidaConfiguracao = "resolvida_configuracao"
    case negada
    case canceladaCliente = "cancelada_cliente"
    case naoNecessitaAtuacao = "nao_necessita_atuacao"
    case inatividade

    /// The key as stored and carried (`resolvida_configuracao`).
    public var protoName: String { rawValue }

    public var labels: (portuguese: String, english: String) {
        switch self {
        case .resolvida: ("resolvida", "resolved")
        case .resolvidaConfiguracao: ("resolvida por configuração", "solved by configuration")
        case .negada: ("negada", "denied")
        case .canceladaCliente: ("cancelada pelo cliente", "cancelled by the customer")
        case .naoNecessitaAtuacao: ("sem necessidade de atuação", "no action needed")
        case .inatividade: ("sem retorno do cliente", "no answer from the customer")
        }
    }

    /// Every known key, in declaration order (what an inactivity policy may record).
    public static var keys: [String] { allCases.map(\.rawValue) }

    /// How `key` reads in `language`: its label when known, the key itself otherwise ("" for "",
    /// an open ticket).
    public static func label(_ key: String, _ language: DisplayLanguage = .portuguese) -> String {
        TicketOutcome(rawValue: key)?.label(language) ?? key
    }
}
