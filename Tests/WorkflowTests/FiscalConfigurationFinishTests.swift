import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// An Exigência fiscal solved by configuration is finished from Em atendimento
/// (``FiscalConfigurationFinish``): no reclassification, its own outcome, the text for the customer.
@Suite("Workflow: an Exigência fiscal solved by configuration is finished without reclassifying it")
struct FiscalConfigurationFinishTests {
    static let ana = WorkflowHarness.agent("ana")

    /// The allowed moves of `ticket` as Ana sees them: `to_stage/outcome/public note required`.
    static func moves(_ harness: WorkflowHarness, _ ticket: String) throws -> [String] {
        var request = WorkflowV1.ListAllowedMovesRequest()
        request.ticketID = ticket
        return try harness.call(WorkflowV1.Workflow.listAllowedMoves, request, as: Self.ana).moves
            .map { "\($0.toStage)/\($0.outcome)/\($0.requiresPublicNote)" }
    }

    @Test("Em atendimento offers an Exigência fiscal the move to Finalizado as resolvida_configuracao (text for the customer required), not a Necessidade; taken, the ticket finishes with that outcome and the customer reads the text; its category stays",
          arguments: TestEngines.all)
    func finishedByConfiguration(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("f1", category: .exigenciaFiscal), key: "f1")
        try harness.deliver(WorkflowHarness.opened("n1", category: .necessidade), key: "n1")
        try harness.take("f1", as: Self.ana)
        try harness.take("n1", as: Self.ana)
        let fiscal = try Self.moves(harness, "f1"), need = try Self.moves(harness, "n1")
        #expect(fiscal.contains("finalizado/resolvida_configuracao/true"), "\(fiscal)")
        #expect(!need.contains { $0.hasPrefix("finalizado/") }, "\(need)")

        var move = WorkflowV1.MoveTicketRequest()
        move.ticketID = "f1"
        move.toStage = "finalizado"
        let missing = harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.ana)
        #expect(missing?.code == .invalidArgument && missing?.violations.first?.field == "public_note")
        let view = try harness.move("f1", to: "finalizado", publicNote: "Configuramos a nova regra do ICMS-ST no cadastro de tributos.", as: Self.ana)
        #expect(view.row?.stage == "finalizado" && view.outcome == "resolvida_configuracao" && view.row?.category == .exigenciaFiscal)
        #expect(try harness.published(WorkflowV1.TicketFinished.self, ticket: "f1").map(\.0.outcome) == ["resolvida_configuracao"])
        let customer = try harness.ticket("f1", as: WorkflowHarness.customer("maria", organization: "org-1"))
        #expect(customer.publicNote == "Configuramos a nova regra do ICMS-ST no cadastro de tributos.")
        #expect(customer.discussion.contains { $0.kind == "solution" && $0.isPublic && $0.text.hasPrefix("Configuramos") },
                "the text is the ticket's solution entry, as for resolvida")
        let history = try harness.history("f1")
        #expect(!history.contains { $0.kind == "category" }, "not reclassified")
    }

    @Test("migration 193 adds the move to a padrao flow stored before it, once, after its last move; a fresh database gets it from the seed",
          arguments: TestEngines.all)
    func addedToAStoredFlow(engine: DatabaseEngine) throws {
        let data = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": data.path]
        if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        func rows(_ database: any Database) throws -> [String] {
            try database.read { tx in
                try tx.query("SELECT position, from_stage, categories FROM flow_transitions WHERE flow = 'padrao' AND outcome = 'resolvida_configuracao'")
                    .map { "\($0.i("position")) \($0.s("from_stage")) \($0.s("categories"))" }
            }
        }
        let last: Int64
        do {
            let harness = try WorkflowHarness(engine, environment: environment)
            let seeded = try rows(harness.database)
            #expect(seeded.count == 1 && seeded[0].hasSuffix(" em_atendimento 3"), "\(seeded)")
            // As a database seeded before the move existed: without it, migration 193 not applied.
            last = try harness.database.write { tx in
                try tx.execute("DELETE FROM flow_transitions WHERE flow = 'padrao' AND outcome = 'resolvida_configuracao'")
                try tx.execute("DELETE FROM schema_migrations WHERE component = 'service' AND version = 193")
                return try tx.queryOne("SELECT MAX(position) AS m FROM flow_transitions WHERE flow = 'padrao'")?.i("m") ?? -1
            }
        }
        let harness = try WorkflowHarness(engine, environment: environment)
        #expect(try rows(harness.database) == ["\(last + 1) em_atendimento 3"])
        // And the started service offers it.
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("f1", category: .exigenciaFiscal), key: "f1")
        try harness.take("f1", as: Self.ana)
        #expect(try Self.moves(harness, "f1").contains("finalizado/resolvida_configuracao/true"))
    }
}
