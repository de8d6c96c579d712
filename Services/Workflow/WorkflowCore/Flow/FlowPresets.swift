import Messages

/// The two flows shipped. The first is the default.
public enum FlowPresets {
    public static let all: [StageFlow] = [standard, totvsLike]

    /// Categories reviewed by product management.
    static let productCategories: Set<CommonV1.Category> = [.exigenciaFiscal, .necessidade, .sugestaoMelhoria, .estrategica]

    /// "padrao": Problema through Diagnóstico técnico; Dúvida finished from Em atendimento;
    /// requests through Análise produto (accept or deny with a reason shown to the customer); an
    /// Exigência fiscal met by configuring the system is finished from Em atendimento too
    /// (``FiscalConfigurationFinish``), with the text telling the customer what was configured.
    public static let standard = StageFlow(
        name: "padrao",
        stages: [
            StageDefinition("aguardando_atendimento", "Aguardando atendimento"),
            StageDefinition("em_atendimento", "Em atendimento"),
            StageDefinition("aguardando_cliente", "Aguardando cliente", customer: "Aguardando sua resposta"),
            StageDefinition("diagnostico_tecnico", "Diagnóstico técnico", customer: "Em atendimento", shownAs: "em_atendimento"),
            StageDefinition("analise_produto", "Análise produto", customer: "Em análise"),
            StageDefinition("para_desenvolver", "Para desenvolver", customer: "Em desenvolvimento", shownAs: "em_desenvolvimento"),
            StageDefinition("em_desenvolvimento", "Em desenvolvimento"),
            StageDefinition("finalizado", "Finalizado", isFinal: true),
            StageDefinition("cancelado", "Cancelado", isFinal: true),
        ],
        transitions: [
            Transition("aguardando_atendimento", "em_atendimento", label: "atender"),
            Transition("em_atendimento", "aguardando_cliente", requiresPublicNote: true, label: "solicitar informação"),
            Transition("aguardando_cliente", "em_atendimento", .customerReply, label: "cliente respondeu"),
            Transition("aguardando_cliente", "em_atendimento", label: "retomar"),
            Transition("em_atendimento", "diagnostico_tecnico", categories: [.problema], label: "diagnosticar"),
            Transition("diagnostico_tecnico", "em_atendimento", categories: [.problema], label: "voltar ao atendimento"),
            Transition("diagnostico_tecnico", "para_desenvolver", categories: [.problema], label: "enviar para desenvolvimento"),
            Transition("diagnostico_tecnico", "finalizado", categories: [.problema], outcome: "resolvida", label: "concluir"),
            Transition("em_atendimento", "finalizado", categories: [.duvida, .problema], outcome: "resolvida", label: "concluir"),
            FiscalConfigurationFinish.transition,
            Transition("em_atendimento", "analise_produto", categories: productCategories, label: "enviar para análise de produto"),
            Transition("analise_produto", "para_desenvolver", categories: productCategories, permission: "product.decide", label: "aceitar"),
            Transition("analise_produto", "finalizado", categories: productCategories, outcome: "negada", requiresPublicNote: true,
                       permission: "product.decide", label: "negar"),
            Transition("para_desenvolver", "em_desenvolvimento", label: "planejar na versão"),
            Transition("em_desenvolvimento", "finalizado", outcome: "resolvida", label: "versão entregue"),
            Transition("*", "cancelado", .customerCancel, outcome: "cancelada_cliente", label: "cancelada pelo cliente"),
            Transition("*", "cancelado", outcome: "nao_necessita_atuacao", requiresNote: true, label: "não necessita atuação"),
            Transition("aguardando_cliente", "finalizado", .timer, outcome: "inatividade", afterDays: 10, label: "inatividade"),
        ],
        queueStage: "aguardando_atendimento", workingStage: "em_atendimento", waitingStage: "aguardando_cliente")

    /// "totvs": Pendente (waiting on the customer) → 7 days → Validação cliente → 5 days → Fechado;
    /// Resolvido → Fechado after 5 days unless the customer rejects the solution (then it reopens).
    /// The timed moves are `timer` transitions: the timers part schedules them.
    public static let totvsLike = StageFlow(
        name: "totvs",
        stages: [
            StageDefinition("aguardando_atendimento", "Aguardando atendimento"),
            StageDefinition("em_atendimento", "Em atendimento"),
            StageDefinition("pendente", "Pendente", customer: "Aguardando sua resposta"),
            StageDefinition("validacao_cliente", "Validação cliente", customer: "Aguardando sua validação"),
            StageDefinition("resolvido", "Resolvido", customer: "Resolvido"),
            StageDefinition("fechado", "Fechado", isFinal: true),
            StageDefinition("cancelado", "Cancelado", isFinal: true),
        ],
        transitions: [
            Transition("aguardando_atendimento", "em_atendimento", label: "atender"),
            Transition("em_atendimento", "pendente", requiresPublicNote: true, label: "pendente com o cliente"),
            Transition("pendente", "em_atendimento", .customerReply, label: "cliente respondeu"),
            Transition("pendente", "em_atendimento", label: "retomar"),
            Transition("pendente", "validacao_cliente", .timer, afterDays: 7, label: "sem resposta em 7 dias"),
            Transition("validacao_cliente", "em_atendimento", .customerReply, label: "cliente respondeu"),
            Transition("validacao_cliente", "fechado", .timer, outcome: "inatividade", afterDays: 5, label: "sem validação em 5 dias"),
            Transition("em_atendimento", "resolvido", requiresPublicNote: true, label: "resolver"),
            Transition("resolvido", "fechado", .timer, outcome: "resolvida", afterDays: 5, label: "fechar após 5 dias"),
            Transition("resolvido", "fechado", .customer, outcome: "resolvida", label: "cliente aceitou"),
            Transition("resolvido", "em_atendimento", .customer, label: "cliente rejeitou a solução"),
            Transition("resolvido", "em_atendimento", .customerReply, label: "cliente respondeu"),
            Transition("*", "cancelado", .customerCancel, outcome: "cancelada_cliente", label: "cancelada pelo cliente"),
            Transition("*", "cancelado", outcome: "nao_necessita_atuacao", requiresNote: true, label: "não necessita atuação"),
        ],
        queueStage: "aguardando_atendimento", workingStage: "em_atendimento", waitingStage: "pendente")
}
