import Messages

/// A declarative inactivity rule: after `days` in `stage` without the customer acting, move the
/// ticket to `toStage` with `outcome`, optionally reminding the customer `reminderDaysBefore`
/// days before.
///
/// ```swift
/// InactivityPolicy(id: "aguardando-10d", stage: "aguardando_cliente", days: 10, reminderDaysBefore: 2,
///                  toStage: "finalizado", outcome: "inatividade")
/// ```
public struct InactivityPolicy: Sendable, Hashable, Codable {
    public var id: String
    public var stage: String
    public var days: Int
    /// Count business days of `calendarID` instead of calendar days.
    public var businessDays: Bool
    /// 0 = no reminder.
    public var reminderDaysBefore: Int
    public var toStage: String
    /// Outcome recorded when finishing (e.g. `"inatividade"`), empty for a plain move.
    public var outcome: String
    public var calendarID: String
    public var active: Bool

    public init(id: String, stage: String, days: Int, businessDays: Bool = false, reminderDaysBefore: Int = 0,
                toStage: String, outcome: String = "", calendarID: String = "", active: Bool = true) {
        self.id = id
        self.stage = stage
        self.days = days
        self.businessDays = businessDays
        self.reminderDaysBefore = reminderDaysBefore
        self.toStage = toStage
        self.outcome = outcome
        self.calendarID = calendarID
        self.active = active
    }

    /// Problems with this policy (pt-BR / English); empty when valid.
    public func problems() -> [String] {
        var problems: [String] = []
        if id.isEmpty { problems.append("identificador vazio / empty id") }
        if stage.isEmpty || toStage.isEmpty { problems.append("etapas vazias / empty stages") }
        if stage == toStage { problems.append("etapa de destino igual à de origem / target stage equals source") }
        if days < 1 { problems.append("dias deve ser ≥ 1 / days must be ≥ 1") }
        if reminderDaysBefore < 0 || (reminderDaysBefore > 0 && reminderDaysBefore >= days) {
            problems.append("lembrete deve ser antes do prazo / reminder must come before the deadline")
        }
        return problems
    }

    /// The outcomes a policy may record: ``TicketOutcome``'s keys but `resolvida_configuracao`,
    /// which always carries the text saying what was configured (a timer has none to give).
    public static let acceptedOutcomes = TicketOutcome.allCases.filter { $0 != .resolvidaConfiguracao }.map(\.rawValue)

    /// Why `outcome` is refused (pt-BR / English), naming the accepted values; `nil` when it is
    /// empty (a move to an open stage records none) or one of ``acceptedOutcomes``. Checked on
    /// writes only: a policy stored before the check keeps loading and running with its outcome
    /// (docs/WORKFLOW.md).
    public func outcomeProblem() -> String? {
        guard !outcome.isEmpty, !Self.acceptedOutcomes.contains(outcome) else { return nil }
        let accepted = Self.acceptedOutcomes.joined(separator: ", ")
        return "desfecho desconhecido: \(outcome) (aceitos: \(accepted), ou vazio) / unknown outcome: \(outcome) (accepted: \(accepted), or empty)"
    }
}

/// What an inactivity timer asks the ticket core to do.
public struct InactivityAction: Sendable, Hashable, Codable {
    public var policyID: String
    public var fromStage: String
    public var toStage: String
    public var outcome: String
}

/// Shipped sets of policies.
public enum InactivityPresets {
    /// The default flow: 10 days in Aguardando cliente → Finalizado por inatividade, reminder 2 days before.
    public static let padrao: [InactivityPolicy] = [
        InactivityPolicy(id: "aguardando-cliente-10d", stage: "aguardando_cliente", days: 10, reminderDaysBefore: 2,
                         toStage: "finalizado", outcome: "inatividade"),
    ]

    /// A TOTVS-like flow: Pendente (waiting on the customer) → 7 days → Validação cliente → 5 days →
    /// Fechado; Resolvido → Fechado after 5 days unless the customer rejects the solution.
    public static let totvs: [InactivityPolicy] = [
        InactivityPolicy(id: "pendente-7d", stage: "pendente", days: 7, reminderDaysBefore: 2, toStage: "validacao_cliente"),
        InactivityPolicy(id: "validacao-cliente-5d", stage: "validacao_cliente", days: 5, reminderDaysBefore: 1,
                         toStage: "fechado", outcome: "inatividade"),
        InactivityPolicy(id: "resolvido-5d", stage: "resolvido", days: 5, toStage: "fechado", outcome: "resolvida"),
    ]

    /// The preset named `name` (`"padrao"`, `"totvs"`).
    public static func named(_ name: String) -> [InactivityPolicy]? {
        switch name {
        case "padrao": padrao
        case "totvs": totvs
        default: nil
        }
    }
}
