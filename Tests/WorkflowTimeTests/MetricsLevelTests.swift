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

/// Confidential tickets in the metrics (security review, "Left open": unfiltered rollups): a
/// viewer held to a level gets, from every metrics method — the report, its CSV and the survey
/// results — figures over the tickets they may see only (at or below their level, or held by
/// them), unfiltered reports included, over real TCP on both engines.
@Suite struct MetricsLevelTests {
    let secret = DeploymentSecret(bytes: Array("workflow-metrics-level-test-secret".utf8))

    func options(_ id: String, level: Int32, admin: Bool = false) -> CallOptions {
        agentOptions(secret, id: id, level: level, admin: admin)
    }

    static func dims(_ organization: String, product: String, module: String = "Folha", group: String, agent: String = "",
                     level: Int32) -> TicketDimensions {
        TicketDimensions(organizationID: organization, category: 1, product: product, module: module, priority: 2, plan: "basico",
                         groupID: group, agentID: agent, accessLevel: level)
    }

    @Test("a level-0 agent's unfiltered report, its CSV and the survey results count no ticket above their level (one made confidential later included) but the one they hold; the administrator's count them all",
          arguments: TestEngines.all)
    func confidentialTicketsLeftOut(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-02-05 10:00")
        defer { withExtendedLifetime(fixture) {} }
        let (database, clock, time, client, at) = (fixture.database, fixture.clock, fixture.time, fixture.client, fixture.at)
        func answer(_ link: String, _ score: Int32) throws {
            try database.write { tx in
                _ = try time.answerSurvey(tx, token: TimeAPIFixture.surveyToken(link), score: score, comment: "", at: clock.now)
            }
        }
        // Seen by everyone: V1 (finished, surveyed 3), V2 (open).
        try at("2027-02-05 10:00") { tx in
            try time.ticketOpened(tx, ticketID: "V1", dimensions: Self.dims("acme", product: "RM", group: "n1", agent: "bia", level: 0),
                                  stage: "aguardando_atendimento", at: clock.now)
        }
        try at("2027-02-05 11:00") { tx in try time.agentResponded(tx, ticketID: "V1", at: clock.now) }
        var v1Link = ""
        try at("2027-02-08 11:00") { tx in v1Link = try time.stageChanged(tx, ticketID: "V1", to: "finalizado", at: clock.now) }
        try answer(v1Link, 3)
        try at("2027-02-10 09:00") { tx in
            try time.ticketOpened(tx, ticketID: "V2", dimensions: Self.dims("acme", product: "RM", group: "n1", level: 0),
                                  stage: "aguardando_atendimento", at: clock.now)
        }
        // Confidential (level 2): S1 (finished, surveyed 5), S2 (open), S3 (opened at level 0, made confidential later).
        try at("2027-02-06 10:00") { tx in
            try time.ticketOpened(tx, ticketID: "S1", dimensions: Self.dims("sigilo", product: "Cofre", module: "Diretoria", group: "diretoria",
                                                                           agent: "carla", level: 2),
                                  stage: "aguardando_atendimento", at: clock.now)
        }
        try at("2027-02-06 10:30") { tx in try time.agentResponded(tx, ticketID: "S1", at: clock.now) }
        var s1Link = ""
        try at("2027-02-09 10:00") { tx in s1Link = try time.stageChanged(tx, ticketID: "S1", to: "finalizado", at: clock.now) }
        try answer(s1Link, 5)
        try at("2027-02-11 10:00") { tx in
            try time.ticketOpened(tx, ticketID: "S2", dimensions: Self.dims("sigilo", product: "Cofre", module: "Diretoria", group: "diretoria", level: 2),
                                  stage: "aguardando_atendimento", at: clock.now)
        }
        try at("2027-02-11 11:00") { tx in _ = try time.stageChanged(tx, ticketID: "S2", to: "em_atendimento", at: clock.now) }
        try at("2027-02-12 10:00") { tx in
            try time.ticketOpened(tx, ticketID: "S3", dimensions: Self.dims("sigilo2", product: "Segredo", group: "n1", level: 0),
                                  stage: "aguardando_atendimento", at: clock.now)
        }
        try at("2027-02-12 12:00") { tx in
            try time.reclassified(tx, ticketID: "S3", dimensions: Self.dims("sigilo2", product: "Segredo", group: "n1", level: 2), at: clock.now)
        }
        // Above ana's level but held by her: H (open).
        try at("2027-02-13 10:00") { tx in
            try time.ticketOpened(tx, ticketID: "H", dimensions: Self.dims("acme", product: "Proprio", group: "n1", agent: "ana", level: 2),
                                  stage: "em_atendimento", at: clock.now)
        }
        clock.set(sp("2027-02-20 10:00"))

        let ana = options("ana", level: 0)
        let admin = options("root", level: 9, admin: true)
        let hidden = ["Cofre", "Diretoria", "diretoria", "sigilo", "Segredo", "carla"]
        for (from, to) in [("2027-02-01", "2027-03-01"), ("2027-02-03", "2027-02-21"), ("2027-01-15", "2027-03-10")] {
            var request = WorkflowV1.GetMetricsRequest()
            request.fromDay = from
            request.toDay = to
            let seen = try client.call(WorkflowV1.WorkflowTime.getMetrics, request, options: ana)
            #expect(seen.totals?.opened == 3, "\(engine) \(from)–\(to): V1, V2, H")
            #expect(seen.totals?.finished == 1 && seen.totals?.firstResponses == 1 && seen.totals?.avgSurveyScore == 3)
            let keys = (seen.byCategory + seen.byProduct + seen.byModule + seen.byGroup).map(\.key)
            #expect(Set(seen.byProduct.map(\.key)) == ["RM", "Proprio"] && !keys.contains { hidden.contains($0) }, "\(keys)")
            #expect(seen.backlog.map(\.count).reduce(0, +) == 2, "V2 and H open: \(seen.backlog)")
            #expect(seen.backlog.map(\.stage) == ["aguardando_atendimento", "em_atendimento"])
            #expect(seen.backlog.allSatisfy { $0.count == $0.byAge.reduce(0, +) })

            let all = try client.call(WorkflowV1.WorkflowTime.getMetrics, request, options: admin)
            #expect(all.totals?.opened == 6 && all.totals?.avgSurveyScore == 4)
            #expect(all.byProduct.map(\.key).contains("Cofre") && all.backlog.map(\.count).reduce(0, +) == 4)

            let stream = try client.serverStream(WorkflowV1.WorkflowTime.exportMetricsReport, request, options: ana)
            var csv = ""
            while let chunk = try stream.receive() { csv += chunk.text }
            #expect(csv.contains("\r\ntotal,,3,1,0,1,") && !hidden.contains { csv.contains($0) }, "\(csv)")
        }

        // The per-ticket CSV lists the tickets her report counts: V1, V2 and H, the one she holds
        // above her level (it was left out, while her report counted it); none of S1–S3.
        var export = WorkflowV1.ExportMetricsRequest()
        export.fromMs = sp("2027-02-01 00:00")
        export.toMs = sp("2027-03-01 00:00")
        let exported = try client.serverStream(WorkflowV1.WorkflowTime.exportMetrics, export, options: ana)
        var lines = ""
        while let chunk = try exported.receive() { lines += chunk.text }
        let ids = lines.components(separatedBy: "\r\n").dropFirst().compactMap { $0.split(separator: ",").first.map(String.init) }
        #expect(Set(ids) == ["V1", "V2", "H"], "\(engine): \(lines)")

        // Survey results: the answer of S1 (level 2, another holder) is not counted for ana.
        var results = WorkflowV1.SurveyResultsRequest()
        for grouping in ["organization", "agent", "product"] {
            results.groupBy = grouping
            let rows = try client.call(WorkflowV1.WorkflowTime.getSurveyResults, results, options: ana).rows
            #expect(rows.map(\.answers).reduce(0, +) == 1 && !rows.contains { hidden.contains($0.key) }, "\(grouping): \(rows)")
            #expect(try client.call(WorkflowV1.WorkflowTime.getSurveyResults, results, options: admin).rows.map(\.answers).reduce(0, +) == 2)
        }
        // At level 2 ana sees them all, as the administrator.
        var request = WorkflowV1.GetMetricsRequest()
        request.fromDay = "2027-02-01"
        request.toDay = "2027-03-01"
        #expect(try client.call(WorkflowV1.WorkflowTime.getMetrics, request, options: options("ana", level: 2)).totals?.opened == 6)
    }

    /// A viewer held to a level sees the tickets at or below it and those they hold; one without
    /// an id holds none. Their report read `agent_id = ''` as "held by them", counting every
    /// unheld ticket above their level (whole months from the holder scan, ragged days and a
    /// filter from the facts), while their backlog and survey results left those out.
    @Test("a viewer without an id holds no ticket: no unheld confidential ticket in their report, whole months, ragged days or filtered",
          arguments: TestEngines.all)
    func viewerWithoutIDHoldsNothing(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let metrics = MetricsRecorder()
        try database.write { tx in
            // In February (a whole month) and on March 3 (a ragged day): one open ticket each at level 0, one
            // unheld at level 2, one at level 2 held by ana.
            for (day, suffix) in [("2027-02-10", "feb"), ("2027-03-03", "mar")] {
                for (id, dims) in [("public", Self.dims("acme", product: "RM", group: "n1", level: 0)),
                                   ("secret", Self.dims("sigilo", product: "RM", group: "n1", level: 2)),
                                   ("held", Self.dims("acme", product: "RM", group: "n1", agent: "ana", level: 2))] {
                    try metrics.onTicketEvent(tx, ticketID: "\(id)-\(suffix)", .opened(dims, stage: "aguardando_atendimento"), at: sp("\(day) 10:00"))
                }
            }
        }
        let now = sp("2027-03-05 10:00")
        func report(_ filter: MetricsFilter) throws -> MetricsReport {
            try database.read { tx in try MetricsQuery.report(tx, from: LocalDay(2027, 2, 1), to: LocalDay(2027, 3, 4), now: now, filter: filter) }
        }
        for (name, filter, seen) in [("no id", MetricsFilter(visibleTo: (0, "")), 2), ("no id, group n1", MetricsFilter(groupID: "n1", visibleTo: (0, "")), 2),
                                     ("ana", MetricsFilter(visibleTo: (0, "ana")), 4), ("ana, group n1", MetricsFilter(groupID: "n1", visibleTo: (0, "ana")), 4)] {
            let got = try report(filter)
            #expect(got.totals.opened == Int64(seen), "\(name): \(got.totals.opened)")
            #expect(got.groupsAddUp(to: seen), "\(name)")
            #expect(got.backlog.reduce(0) { $0 + $1.count } == Int64(seen), "\(name): \(got.backlog)")
        }
    }
}

private extension MetricsReport {
    /// Whether the groups' breakdown adds up to `opened` (the breakdowns come from the same rows).
    func groupsAddUp(to opened: Int) -> Bool { byGroup.reduce(0) { $0 + $1.totals.opened } == Int64(opened) }
}
