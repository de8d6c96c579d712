/// The names of the shipped flows' stages (workflow's `FlowPresets`, "padrao" and "totvs": what
/// the team reads and what customers read) in English. Workflow gives a stage these words as its
/// English name when the flow names it none (`StageDefinition.nameEN`, seeded and migrated rows),
/// and sends each stage's English name beside the Portuguese one (`stage_name_en`), which the
/// portal, the CLI and notification's English e-mails show; notification names a stage with this
/// table only for an event published before workflow carried that name.
///
/// The portal is JavaScript: its copy (`SHIPPED_STAGES` in `PortalAssets/portal.js`, the stage
/// codes the backlog and deadlines pages offer) is pinned to this table by `GatewayTests`
/// (`OutcomeLabelsTests`); `WorkflowTests` checks every shipped stage name is here.
///
/// ```swift
/// ShippedStageNames.name("Aguardando sua resposta", .english)   // "Awaiting your answer"
/// ShippedStageNames.name("Triagem fiscal", .english)            // "Triagem fiscal" (not shipped)
/// ```
public enum ShippedStageNames {
    /// Portuguese name (as workflow names it) → English name.
    public static let english: [String: String] = [
        "Aguardando atendimento": "Awaiting service",
        "Em atendimento": "In service",
        "Aguardando cliente": "Waiting on the customer",
        "Diagnóstico técnico": "Technical diagnosis",
        "Análise produto": "Product analysis",
        "Para desenvolver": "To develop",
        "Em desenvolvimento": "In development",
        "Pendente": "Pending",
        "Validação cliente": "Customer validation",
        "Resolvido": "Resolved",
        "Finalizado": "Finished",
        "Fechado": "Closed",
        "Cancelado": "Cancelled",
        // What customers read of some of them.
        "Aguardando sua resposta": "Awaiting your answer",
        "Em análise": "Under review",
        "Aguardando sua validação": "Awaiting your validation",
    ]

    /// How the stage workflow names `name` reads in `language`: a shipped stage's English name,
    /// any other name (and every name in Portuguese) as it is.
    public static func name(_ name: String, _ language: DisplayLanguage) -> String {
        language == .english ? english[name] ?? name : name
    }
}
