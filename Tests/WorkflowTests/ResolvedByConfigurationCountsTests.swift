import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// A ticket finished as `resolvida_configuracao` (``FiscalConfigurationFinish``) counts as resolved
/// wherever a `resolvida` one does: the SLA's resolution target stops (met), the survey opens and
/// its link goes in `TicketFinished`, the metrics count it finished and resolved (totals, category,
/// module, the filtered report) and the per-ticket export carries its resolution. Those parts key
/// on the final stage, not on the outcome; this pins that a new outcome needs no list of its own.
@Suite("Workflow: a ticket solved by configuration counts as resolved in SLA, survey and metrics, as resolvida")
struct ResolvedByConfigurationCountsTests {
    static let ana = WorkflowHarness.agent("ana")

    /// The resolution target of `ticket`: `status@stopped` (stopped 0 while running).
    static func resolution(_ harness: WorkflowHarness, _ ticket: String) throws -> String {
        var request = WorkflowV1.GetTicketSLARequest()
        request.ticketID = ticket
        let target = try harness.call(WorkflowV1.WorkflowTime.getTicketSLA, request, as: WorkflowHarness.admin())
            .targets.first { $0.target == .resolution }
        return "\(target?.status ?? "none")@\((target?.stoppedAtMs ?? 0) > 0 ? "stopped" : "running")"
    }

    @Test("an Exigência fiscal finished as resolvida_configuracao and a Dúvida finished as resolvida: both stop the resolution SLA as met, open the survey (link in TicketFinished, answerable), count finished and resolved in every metrics view and export their resolution",
          arguments: TestEngines.all)
    func countedAsResolved(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("f1", category: .exigenciaFiscal, module: "Fiscal"), key: "f1")
        try harness.deliver(WorkflowHarness.opened("d1", category: .duvida, module: "Cadastro"), key: "d1")
        for id in ["f1", "d1"] {
            try harness.take(id, as: Self.ana)
            #expect(try Self.resolution(harness, id) == "running@running")
        }
        let configured = try harness.move("f1", to: "finalizado", publicNote: "Configuramos a regra do ICMS-ST no cadastro de tributos.", as: Self.ana)
        let solved = try harness.move("d1", to: "finalizado", publicNote: "O campo fica em Cadastros > Clientes.", as: Self.ana)
        #expect(configured.outcome == "resolvida_configuracao" && solved.outcome == "resolvida")

        for id in ["f1", "d1"] {
            // SLA: the resolution target stopped, met.
            #expect(try Self.resolution(harness, id) == "met@stopped", "\(id)")
            // Survey: opened at the finish, its link in TicketFinished, answerable once.
            let finished = try harness.published(WorkflowV1.TicketFinished.self, ticket: id)
            let link = finished.first?.0.surveyURL ?? ""
            #expect(finished.count == 1 && link.hasPrefix("https://suporte.example/pesquisa/"), "\(id): \(link)")
            var answer = WorkflowV1.AnswerSurveyRequest()
            answer.token = String(link.dropFirst("https://suporte.example/pesquisa/".count))
            answer.score = 5
            #expect(try harness.call(WorkflowV1.WorkflowTime.answerSurvey, answer, as: PrincipalsForTests.service).ticketID == id)
            // The per-ticket facts behind every report: finished, with a resolution, met.
            let facts = try harness.database.read { tx in
                try tx.queryOne("SELECT finished_at, resolution_wall_ms, resolution_met, survey_score FROM wf_metric_tickets WHERE ticket_id = ?", [.text(id)])
            }
            #expect(facts?.i64("finished_at") != nil && facts?.i64("resolution_wall_ms") != nil, "\(id)")
            #expect(facts?.i64("resolution_met") == 1 && facts?.i64("survey_score") == 5, "\(id)")
        }

        // The daily rollups (no filter) and the per-ticket facts (a filter) say the same.
        var filtered = WorkflowHarness.metricsAroundToday()
        filtered.agentID = "ana"
        for request in [WorkflowHarness.metricsAroundToday(), filtered] {
            let report = try harness.call(WorkflowV1.WorkflowTime.getMetrics, request, as: WorkflowHarness.admin())
            let totals = report.totals
            #expect(totals?.opened == 2 && totals?.finished == 2 && totals?.resolutions == 2 && totals?.slaMetPercent == 100
                    && totals?.surveys == 2, "\(String(describing: totals))")
            var byCategory: [String: WorkflowV1.MetricTotals] = [:]
            for row in report.byCategory { byCategory[row.key] = row.totals ?? WorkflowV1.MetricTotals() }
            let fiscal = byCategory[String(CommonV1.Category.exigenciaFiscal.rawValue)]
            #expect(fiscal?.finished == 1 && fiscal?.resolutions == 1, "the category's report counts it resolved: \(byCategory)")
            var byModule: [String: WorkflowV1.MetricTotals] = [:]
            for row in report.byModule { byModule[row.key] = row.totals ?? WorkflowV1.MetricTotals() }
            #expect(byModule["Fiscal"]?.finished == 1 && byModule["Fiscal"]?.resolutions == 1, "\(byModule.keys.sorted())")
        }

        // The per-ticket CSV export: the row has its finish and its resolution.
        let csv = try harness.database.read { tx in
            try MetricsExport.page(tx, from: 0, to: Int64.max, after: nil, limit: 10).csv
        }
        let columns = MetricsExport.columns
        let lines: [[String]] = csv.components(separatedBy: "\r\n").map { $0.components(separatedBy: ",") }
        let row = try #require(lines.first { $0.first == "f1" })
        let cell = { (name: String) -> String in row[columns.firstIndex(of: name) ?? 0] }
        #expect(cell("stage") == "finalizado" && !cell("finished_at").isEmpty && !cell("resolution_wall_ms").isEmpty, "\(row)")
        #expect(cell("resolution_met") == "1" && cell("survey_score") == "5", "\(row)")
    }
}
