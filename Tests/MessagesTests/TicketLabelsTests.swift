import Messages
import Testing

@Suite("Category and priority names people read")
struct TicketLabelsTests {
    @Test("every category and priority round-trips through its .proto name, its Portuguese and its English label")
    func roundTrips() {
        for category in CommonV1.Category.allCases where category != .unspecified {
            #expect(CommonV1.Category(protoName: category.protoName) == category)
            #expect(CommonV1.Category(protoName: category.label()) == category)
            #expect(CommonV1.Category(protoName: category.label(.english)) == category)
        }
        for priority in CommonV1.Priority.allCases where priority != .unspecified {
            #expect(CommonV1.Priority(protoName: priority.protoName) == priority)
            #expect(CommonV1.Priority(protoName: priority.label()) == priority)
            #expect(CommonV1.Priority(protoName: priority.label(.english)) == priority)
        }
    }

    @Test("typed names ignore case, accents, spaces and underscores; unknown ones are nil")
    func typedNames() {
        #expect(CommonV1.Category(protoName: "exigência fiscal") == .exigenciaFiscal)
        #expect(CommonV1.Category(protoName: "EXIGENCIA_FISCAL") == .exigenciaFiscal)
        #expect(CommonV1.Category(protoName: "duvida") == .duvida)
        #expect(CommonV1.Category(protoName: "Sugestão de melhoria").map { $0.label(.english) } == "Improvement suggestion")
        #expect(CommonV1.Priority(protoName: "urgent") == .urgente)
        #expect(CommonV1.Priority(protoName: "Alta")?.label(.english) == "High")
        #expect(CommonV1.Priority(protoName: "altíssima") == nil)
        #expect(CommonV1.Category(protoName: "") == nil)
        #expect(CommonV1.Priority.unspecified.label() == "—")
        #expect(DisplayLanguage(code: "en_US.UTF-8") == .english && DisplayLanguage(code: "pt-BR") == .portuguese)
    }
}
