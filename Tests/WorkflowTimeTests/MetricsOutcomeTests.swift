import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// "Finished" counts denied and cancelled tickets too: the report's `by_outcome` says how they
/// ended, and adds up to `totals.finished` on every path — the administrator's rollups (each
/// finishing on its day), a viewer held to a level and a filtered report (the cohort as it stands,
/// whole months from `wf_metric_cohort_outcome`, ragged days from the tickets' facts) — over real
/// TCP on both engines.
@Suite struct MetricsOutcomeTests {
    let secret = DeploymentSecret(bytes: Array("workflow-metrics-outcome-test-secret".utf8))

    static func dims(group: String, level: Int32, agent: String = "") -> TicketDimensions {
        TicketDimensions(organizationID: "acme", category: 1, product: "RM", module: "Folha", priority: 2, plan: "basico",
                         groupID: group, agentID: agent, accessLevel: level)
    }

    static func outcomes(_ response: WorkflowV1.GetMetricsResponse) -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: response.byOutcome.map { ($0.outcome, $0.finished) })
    }

    @Test("by_outcome: the administrator's unfiltered report counts each finishing under its outcome (a reopened ticket's two), a level-0 agent's and a filtered report the tickets finished now by their outcome, whole months and ragged days alike; each adds up to totals.finished; labels in Portuguese and in English; a confidential reclassification moves the ticket out of the agent's rows; the report CSV has the section",
          arguments: TestEngines.all)
    func breakdown(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-02-05 10:00")
        defer { withExtendedLifetime(fixture) {} }
        let (clock, time, client, at) = (fixture.clock, fixture.time, fixture.client, fixture.at)
        func finish(_ id: String, _ when: String, _ stage: String, _ outcome: String) throws {
            try at(when) { tx in _ = try time.stageChanged(tx, ticketID: id, to: stage, outcome: outcome, at: clock.now) }
        }
        // Level 0, group n1: V1 resolvida, V2 negada, V3 cancelled by the customer, R finished
        // (resolvida), reopened and cancelled (não necessita atuação), O open.
        for (index, id) in ["V1", "V2", "V3", "R", "O"].enumerated() {
            try at("2027-02-0\(index + 2) 10:00") { tx in
                try time.ticketOpened(tx, ticketID: id, dimensions: Self.dims(group: "n1", level: 0), stage: "aguardando_atendimento", at: clock.now)
            }
        }
        try finish("V1", "2027-02-10 10:00", "finalizado", "resolvida")
        try finish("V2", "2027-02-11 10:00", "finalizado", "negada")
        try finish("V3", "2027-02-12 10:00", "cancelado", "cancelada_cliente")
        try finish("R", "2027-02-13 10:00", "finalizado", "resolvida")
        try at("2027-02-14 10:00") { tx in _ = try time.stageChanged(tx, ticketID: "R", to: "em_atendimento", at: clock.now) }
        try finish("R", "2027-02-15 10:00", "cancelado", "nao_necessita_atuacao")
        // Level 2, group diretoria: S1 solved by configuration.
        try at("2027-02-06 10:00") { tx in
            try time.ticketOpened(tx, ticketID: "S1", dimensions: Self.dims(group: "diretoria", level: 2, agent: "carla"),
                                  stage: "aguardando_atendimento", at: clock.now)
        }
        try finish("S1", "2027-02-16 10:00", "finalizado", "resolvida_configuracao")
        clock.set(sp("2027-02-20 10:00"))

        let ana = agentOptions(secret, id: "ana", level: 0, admin: false)
        let admin = agentOptions(secret, id: "root", level: 9, admin: true)
        for (from, to) in [("2027-02-01", "2027-03-01"), ("2027-02-01", "2027-02-21"), ("2027-01-15", "2027-03-10")] {
            var request = WorkflowV1.GetMetricsRequest()
            request.fromDay = from
            request.toDay = to
            let all = try client.call(WorkflowV1.WorkflowTime.getMetrics, request, options: admin)
            #expect(Self.outcomes(all) == ["resolvida": 2, "negada": 1, "cancelada_cliente": 1, "nao_necessita_atuacao": 1,
                                           "resolvida_configuracao": 1], "\(engine) \(from)–\(to): \(all.byOutcome)")
            #expect(all.byOutcome.map(\.finished).reduce(0, +) == all.totals?.finished, "\(all.totals?.finished ?? -1)")
            #expect(all.byOutcome.first?.outcome == "resolvida" && all.byOutcome.first?.outcomeLabel == "resolvida")
            #expect(all.byOutcome.first { $0.outcome == "resolvida_configuracao" }?.outcomeLabel == "resolvida por configuração")
            #expect(all.byOutcome.first { $0.outcome == "resolvida_configuracao" }?.outcomeLabelEn == "solved by configuration")

            let seen = try client.call(WorkflowV1.WorkflowTime.getMetrics, request, options: ana)
            #expect(Self.outcomes(seen) == ["resolvida": 1, "negada": 1, "cancelada_cliente": 1, "nao_necessita_atuacao": 1],
                    "\(engine) \(from)–\(to): \(seen.byOutcome)")
            #expect(seen.byOutcome.map(\.finished).reduce(0, +) == seen.totals?.finished)

            var filtered = request
            filtered.groupID = "diretoria"
            let board = try client.call(WorkflowV1.WorkflowTime.getMetrics, filtered, options: admin)
            #expect(Self.outcomes(board) == ["resolvida_configuracao": 1] && board.totals?.finished == 1, "\(board.byOutcome)")
        }

        // V2 made confidential: it leaves the agent's rows (the cohort counters move it).
        try at("2027-02-21 10:00") { tx in try time.reclassified(tx, ticketID: "V2", dimensions: Self.dims(group: "n1", level: 2), at: clock.now) }
        var month = WorkflowV1.GetMetricsRequest()
        month.fromDay = "2027-02-01"
        month.toDay = "2027-03-01"
        let after = try client.call(WorkflowV1.WorkflowTime.getMetrics, month, options: ana)
        #expect(Self.outcomes(after) == ["resolvida": 1, "cancelada_cliente": 1, "nao_necessita_atuacao": 1], "\(after.byOutcome)")

        let stream = try client.serverStream(WorkflowV1.WorkflowTime.exportMetricsReport, month, options: admin)
        var csv = ""
        while let chunk = try stream.receive() { csv += chunk.text }
        #expect(csv.contains("section,outcome,outcome_label,finished,outcome_label_en\r\noutcome,resolvida,resolvida,2,resolved\r\n"), "\(csv)")
        #expect(csv.contains("outcome,resolvida_configuracao,resolvida por configuração,1,solved by configuration\r\n"), "\(csv)")
        // The per-ticket export's last column is the outcome key.
        var export = WorkflowV1.ExportMetricsRequest()
        export.fromMs = sp("2027-02-01 00:00")
        export.toMs = sp("2027-03-01 00:00")
        let facts = try client.serverStream(WorkflowV1.WorkflowTime.exportMetrics, export, options: admin)
        var lines = ""
        while let chunk = try facts.receive() { lines += chunk.text }
        // Then, appended since 2026-12-02, the labels of the coded columns, the outcome's last.
        #expect(lines.hasPrefix(MetricsExport.header)
                && MetricsExport.header.hasSuffix(",survey_score,outcome," + MetricsExport.labelColumns.joined(separator: ",") + "\r\n"))
        let outcome = MetricsExport.columns.firstIndex(of: "outcome")!
        let v3 = lines.components(separatedBy: "\r\n").first { $0.hasPrefix("V3,") }?.components(separatedBy: ",") ?? []
        #expect(v3.count > outcome && v3[outcome] == "cancelada_cliente" && v3.suffix(2) == ["cancelada pelo cliente", "cancelled by the customer"], "\(lines)")
        let open = lines.components(separatedBy: "\r\n").first { $0.hasPrefix("O,") }?.components(separatedBy: ",") ?? []
        #expect(open.count > outcome && open[outcome] == "" && open.suffix(2) == ["", ""], "\(lines)")
    }

    @Test("migrations 194–195 give tickets finished before them their outcome: the rollups' rows by their finishing day, the cohort counters, the facts",
          arguments: TestEngines.all)
    func backfill(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let before = try scratch.open(migrations: WorkflowService.migrations.filter { $0.version < 194 })
        let opened = sp("2027-03-03 10:00"), finished = sp("2027-03-31 22:30")  // 01:30 UTC on April 1st: still March in São Paulo
        try before.write { tx in
            for (id, outcome, isOpen) in [("A", "negada", false), ("B", "resolvida", false), ("C", "", true)] {
                try tx.execute("""
                    INSERT INTO tickets (id, flow, stage, stage_since, is_open, outcome, opened_at, updated_at, last_interaction_at)
                    VALUES (?, 'padrao', ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(id), .text(isOpen ? "em_atendimento" : "finalizado"), .integer(opened), .integer(isOpen ? 1 : 0), .text(outcome),
                          .integer(opened), .integer(opened), .integer(opened)])
                try tx.execute("""
                    INSERT INTO wf_metric_tickets (ticket_id, opened_at, opened_day, organization_id, category, product, module, priority, plan,
                        group_id, agent_id, access_level, stage, stage_entered_at, is_open, finished_at, transfers, ping_pongs, reopens)
                    VALUES (?, ?, ?, 'acme', 1, 'RM', 'Folha', 2, '', 'n1', '', 0, ?, ?, ?, ?, 0, 0, 0)
                    """, [.text(id), .integer(opened), .integer(Int64(BusinessCalendar.default.localDay(of: opened).dayNumber)),
                          .text(isOpen ? "em_atendimento" : "finalizado"), .integer(opened), .integer(isOpen ? 1 : 0),
                          isOpen ? .null : .integer(finished)])
            }
        }
        before.close()
        let database = try scratch.open(migrations: WorkflowService.migrations)
        defer { database.close() }
        try database.read { tx in
            let march = (LocalDay(2027, 3, 1), LocalDay(2027, 4, 1))
            let rollup = try MetricsQuery.outcomes(tx, from: march.0, to: march.1)
            #expect(rollup.map(\.outcome) == ["negada", "resolvida"] && rollup.map(\.finished) == [1, 1], "\(engine): \(rollup)")
            // The last day alone (the daily table) holds both: 22:30 in São Paulo is still March 31st.
            #expect(try MetricsQuery.outcomes(tx, from: LocalDay(2027, 3, 31), to: LocalDay(2027, 4, 1)).count == 2)
            let cohort = try MetricsQuery.cohortOutcomes(tx, from: march.0, to: march.1, filter: MetricsFilter(groupID: "n1"))
            #expect(cohort.map(\.outcome) == ["negada", "resolvida"] && cohort.map(\.finished) == [1, 1], "\(engine): \(cohort)")
            let facts = try tx.query("SELECT ticket_id, outcome FROM wf_metric_tickets ORDER BY ticket_id").map { try $0.text("outcome") }
            #expect(facts == ["negada", "resolvida", ""])
        }
    }
}
