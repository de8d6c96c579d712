/// What an SLA measures (numbers match `ocorrencias.workflow.v1.SlaTarget`).
public enum SLATargetKind: Int, Sendable, Hashable, CaseIterable, Codable {
    /// From opening to the first public answer by an agent.
    case firstResponse = 1
    /// From a customer's reply to the agent's next public answer.
    case nextResponse = 2
    /// From opening to finishing (time in pause stages excluded; reopening continues the count).
    case resolution = 3

    var key: String {
        switch self {
        case .firstResponse: "first_response"
        case .nextResponse: "next_response"
        case .resolution: "resolution"
        }
    }
}

/// Targets for one contract plan × priority, in business time of a calendar.
///
/// Durations are business **seconds** (the API speaks minutes; tests use seconds); 0 means no
/// target. `plan == "*"` or `priority == 0` match any plan or priority; the most specific policy
/// wins (see ``SLAPolicyStore/resolve(_:plan:priority:)``).
public struct SLAPolicy: Sendable, Hashable, Codable {
    public var plan: String
    /// `ocorrencias.common.v1.Priority` number (1 baixa ... 4 urgente), 0 = any.
    public var priority: Int32
    public var firstResponseSeconds: Int64
    public var nextResponseSeconds: Int64
    public var resolutionSeconds: Int64
    /// Stages where every clock stops; ``alwaysPaused`` are always among them.
    public var pauseStages: Set<String>
    /// Share of a target after which a warning is sent (1–99).
    public var warningPercent: Int32
    /// Business calendar id (`""` = the default calendar).
    public var calendarID: String

    public init(plan: String = "*", priority: Int32 = 0, firstResponseSeconds: Int64, nextResponseSeconds: Int64,
                resolutionSeconds: Int64, pauseStages: Set<String> = [], warningPercent: Int32 = 80, calendarID: String = "") {
        self.plan = plan
        self.priority = priority
        self.firstResponseSeconds = firstResponseSeconds
        self.nextResponseSeconds = nextResponseSeconds
        self.resolutionSeconds = resolutionSeconds
        self.pauseStages = pauseStages.union(SLAPolicy.alwaysPaused)
        self.warningPercent = warningPercent
        self.calendarID = calendarID
    }

    /// Stages that pause the clock under every policy: waiting on the customer, in the default
    /// flow (Aguardando cliente) and in the TOTVS-like one (Pendente, Validação cliente).
    public static let alwaysPaused: Set<String> = ["aguardando_cliente", "pendente", "validacao_cliente"]

    /// Target of `kind` in business milliseconds (0 = none).
    public func targetMillis(_ kind: SLATargetKind) -> Int64 {
        switch kind {
        case .firstResponse: firstResponseSeconds * 1000
        case .nextResponse: nextResponseSeconds * 1000
        case .resolution: resolutionSeconds * 1000
        }
    }

    /// Built-in targets used when no stored policy matches (business hours): urgente 30 min /
    /// 1 h / 8 h; alta 1 h / 2 h / 16 h; normal 4 h / 4 h / 40 h; baixa 8 h / 8 h / 80 h.
    public static func builtIn(priority: Int32) -> SLAPolicy {
        let hour: Int64 = 3600
        switch priority {
        case 4: return SLAPolicy(priority: 4, firstResponseSeconds: hour / 2, nextResponseSeconds: hour, resolutionSeconds: 8 * hour)
        case 3: return SLAPolicy(priority: 3, firstResponseSeconds: hour, nextResponseSeconds: 2 * hour, resolutionSeconds: 16 * hour)
        case 1: return SLAPolicy(priority: 1, firstResponseSeconds: 8 * hour, nextResponseSeconds: 8 * hour, resolutionSeconds: 80 * hour)
        default: return SLAPolicy(priority: 2, firstResponseSeconds: 4 * hour, nextResponseSeconds: 4 * hour, resolutionSeconds: 40 * hour)
        }
    }

    /// Problems with this policy (pt-BR / English); empty when valid.
    public func problems() -> [String] {
        var problems: [String] = []
        if plan.isEmpty { problems.append("plano vazio (use * para todos) / empty plan (use * for any)") }
        if !(0...4).contains(priority) { problems.append("prioridade inválida / invalid priority") }
        if firstResponseSeconds < 0 || nextResponseSeconds < 0 || resolutionSeconds < 0 {
            problems.append("prazos negativos / negative targets")
        }
        if !(1...99).contains(warningPercent) { problems.append("aviso deve ser 1–99% / warning must be 1–99%") }
        return problems
    }
}
