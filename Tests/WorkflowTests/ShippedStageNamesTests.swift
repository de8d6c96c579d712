import Messages
import Testing
import WorkflowCore

/// The shipped flows' stages read in English wherever people read them in English (the portal,
/// notification's English e-mails): every name they give a stage, the team's and the customers',
/// has its English name in ``ShippedStageNames``.
@Suite("Workflow: every stage name of the shipped flows has an English name")
struct ShippedStageNamesTests {
    @Test("each stage of FlowPresets (name and customer name) is in ShippedStageNames, and the table names nothing else")
    func everyShippedStageNamed() {
        let names = Set(FlowPresets.all.flatMap { flow in flow.stages.flatMap { [$0.name, $0.customerName] } })
        for name in names {
            #expect(ShippedStageNames.english[name] != nil, "\(name) has no English name")
        }
        #expect(Set(ShippedStageNames.english.keys) == names, "\(Set(ShippedStageNames.english.keys).subtracting(names))")
        #expect(ShippedStageNames.name("Aguardando sua resposta", .english) == "Awaiting your answer")
        #expect(ShippedStageNames.name("Aguardando sua resposta", .portuguese) == "Aguardando sua resposta")
        #expect(ShippedStageNames.name("Triagem fiscal", .english) == "Triagem fiscal")
    }
}
