/// The names of the shipped flows' stages (workflow's `FlowPresets`, "padrao" and "totvs": what
/// the team reads and what customers read) in English. Workflow names stages in Portuguese only
/// (an administrator's own flow is named as configured); what people read in English — the
/// portal switched to English, notification's English e-mails — names a shipped stage with these
/// words, and any other stage as workflow names it.
///
/// The portal is JavaScript: its copy (`SHIPPED_STAGES` and `SHIPPED_CUSTOMER_STAGES` in
/// `PortalAssets/portal.js`) is pinned to this table by `GatewayTests` (`OutcomeLabelsTests`);
/// `WorkflowTests` checks every shipped stage name is here.
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
