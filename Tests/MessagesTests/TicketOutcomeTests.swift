import Messages
import Testing

@Suite("How a finished ticket ended: one wording per outcome")
struct TicketOutcomeTests {
    @Test("the six outcome keys workflow records, each with one Portuguese and one English label; unknown keys read as they are")
    func labels() {
        #expect(TicketOutcome.keys == ["resolvida", "resolvida_configuracao", "negada", "cancelada_cliente", "nao_necessita_atuacao", "inatividade"])
        #expect(TicketOutcome.label("resolvida_configuracao") == "resolvida por configuração")
        #expect(TicketOutcome.label("resolvida_configuracao", .english) == "solved by configuration")
        // Neutral wording: the customer's page, the agent's page and the customer's e-mail say the same.
        #expect(TicketOutcome.label("cancelada_cliente") == "cancelada pelo cliente")
        #expect(TicketOutcome.label("cancelada_cliente", .english) == "cancelled by the customer")
        #expect(TicketOutcome.label("nao_necessita_atuacao") == "sem necessidade de atuação")
        #expect(TicketOutcome.label("inatividade") == "sem retorno do cliente")
        #expect(TicketOutcome.label("outra_coisa") == "outra_coisa" && TicketOutcome.label("") == "")
        for outcome in TicketOutcome.allCases {
            #expect(TicketOutcome(protoName: outcome.label()) == outcome && TicketOutcome(protoName: outcome.label(.english)) == outcome)
        }
    }
}
