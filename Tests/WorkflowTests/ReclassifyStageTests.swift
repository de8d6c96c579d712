import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// A new category must leave the ticket a way on from its stage. The `padrao` flow's Diagnóstico
/// técnico is for Problema only and Análise produto for the product categories: a Problema in
/// Diagnóstico técnico reclassified as Dúvida (or a Sugestão in Análise produto reclassified as
/// Problema) had no move left but cancelling — it could neither go back to Em atendimento nor be
/// concluded. Such a change is refused (`FAILED_PRECONDITION` on `category`, naming the stage);
/// from Em atendimento, or into a category the stage serves, it goes through.
@Suite("Workflow: reclassifying never strands a ticket in its stage")
struct ReclassifyStageTests {
    static let ana = WorkflowHarness.agent("ana")
    static let pm = WorkflowHarness.agent("pm")

    static func reclassify(_ id: String, _ category: CommonV1.Category) -> WorkflowV1.ReclassifyRequest {
        var request = WorkflowV1.ReclassifyRequest()
        request.ticketID = id
        request.category = category
        request.reason = "Categoria errada na abertura"
        return request
    }

    @Test("a category the current stage has no move for is refused; one it serves, or from Em atendimento, is accepted",
          arguments: TestEngines.all)
    func notStrandedInACategoryStage(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1", category: .problema), key: "t1")
        try harness.take("t1", as: Self.ana)
        try harness.move("t1", to: "diagnostico_tecnico", as: Self.ana)
        let refused = harness.failure(WorkflowV1.Workflow.reclassify, Self.reclassify("t1", .duvida), as: Self.ana)
        #expect(refused?.code == .failedPrecondition && refused?.violations.first?.field == "category", "\(String(describing: refused))")
        #expect(refused?.message.contains("Diagnóstico técnico") == true, "\(String(describing: refused?.message))")
        #expect(try harness.ticket("t1").row?.category == .problema)
        #expect(try !harness.history("t1").contains { $0.kind == "category" }, "nothing stored")
        // Back in Em atendimento the change goes through, and the Dúvida is concluded from there.
        try harness.move("t1", to: "em_atendimento", as: Self.ana)
        #expect(try harness.call(WorkflowV1.Workflow.reclassify, Self.reclassify("t1", .duvida), as: Self.ana).row?.category == .duvida)
        try harness.move("t1", to: "finalizado", publicNote: "Era dúvida de uso.", as: Self.ana)

        // A Sugestão in Análise produto: as Problema it would be stuck; as Necessidade (a product category) it is not.
        try harness.deliver(WorkflowHarness.opened("t2", category: .sugestaoMelhoria), key: "t2")
        try harness.take("t2", as: Self.ana)
        try harness.move("t2", to: "analise_produto", as: Self.ana)
        #expect(harness.failure(WorkflowV1.Workflow.reclassify, Self.reclassify("t2", .problema), as: Self.ana)?.code == .failedPrecondition)
        #expect(try harness.call(WorkflowV1.Workflow.reclassify, Self.reclassify("t2", .necessidade), as: Self.ana).row?.category == .necessidade)
        #expect(try harness.move("t2", to: "para_desenvolver", as: Self.pm).row?.stage == "para_desenvolver")

        // A finished ticket may still be reclassified (for the reports).
        #expect(try harness.call(WorkflowV1.Workflow.reclassify, Self.reclassify("t1", .problema), as: Self.ana).row?.category == .problema)
    }
}
