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

/// Metrics filtered by group, product and holder (issue #7): read from the cohort counters and
/// the per-ticket facts (``CohortCountersTests`` pins that the two agree), they give exactly the
/// figures of the matching tickets; without a filter the rollups answer as before.
@Suite struct FilteredMetricsTests {
    let metrics = MetricsRecorder()
    let minute: Int64 = 60_000
    let march = (LocalDay(2027, 3, 1), LocalDay(2027, 4, 1))
    let secret = DeploymentSecret(bytes: Array("workflow-filtered-metrics-secret".utf8))

    static let migrations = WorkflowTimeMigrations.all + [MetricsQuery.filterMigration]

    /// Two groups, two products, three holders, all in March 2027 (plus one April ticket):
    /// - A1 n1/RM/ana: queue 10 min, answered after 30 min (met), finished after 2 h (met), survey 5.
    /// - A2 n1/Protheus/bia: answered after 60 min (late), in em_atendimento since 10:00.
    /// - B1 n2/RM/bia: answered after 10 min (met), finished after 200 min (met).
    /// - B2 n2/RM/ana: waiting in the queue.
    /// - Z  n1/RM/carla, level 5: waiting in the queue.
    /// - C1 n1/RM/ana opened on April 1: in the backlog, not in March's totals.
    func record(_ database: any Database) throws {
        func dims(_ group: String, _ product: String, _ agent: String, level: Int32 = 0) -> TicketDimensions {
            TicketDimensions(organizationID: "acme", category: product == "RM" ? 1 : 2, product: product, module: "\(product)/Folha",
                             priority: 2, plan: "basico", groupID: group, agentID: agent, accessLevel: level)
        }
        try database.write { tx in
            try metrics.onTicketEvent(tx, ticketID: "A1", .opened(dims("n1", "RM", "ana"), stage: "aguardando_atendimento"), at: sp("2027-03-01 09:00"))
            try metrics.onTicketEvent(tx, ticketID: "A1", .stageChanged("em_atendimento"), at: sp("2027-03-01 09:10"))
            try metrics.onTicketEvent(tx, ticketID: "A1", .firstResponse(wallMillis: 30 * minute, businessMillis: 30 * minute, met: true), at: sp("2027-03-01 09:30"))
            try metrics.onTicketEvent(tx, ticketID: "A1", .stageChanged("finalizado"), at: sp("2027-03-01 11:00"))
            try metrics.onTicketEvent(tx, ticketID: "A1", .resolved(wallMillis: 120 * minute, businessMillis: 120 * minute, met: true), at: sp("2027-03-01 11:00"))
            try metrics.onTicketEvent(tx, ticketID: "A1", .surveyAnswered(score: 5), at: sp("2027-03-02 08:00"))

            try metrics.onTicketEvent(tx, ticketID: "A2", .opened(dims("n1", "Protheus", "bia"), stage: "aguardando_atendimento"), at: sp("2027-03-02 09:00"))
            try metrics.onTicketEvent(tx, ticketID: "A2", .firstResponse(wallMillis: 60 * minute, businessMillis: 60 * minute, met: false), at: sp("2027-03-02 10:00"))
            try metrics.onTicketEvent(tx, ticketID: "A2", .stageChanged("em_atendimento"), at: sp("2027-03-02 10:00"))

            try metrics.onTicketEvent(tx, ticketID: "B1", .opened(dims("n2", "RM", "bia"), stage: "em_atendimento"), at: sp("2027-03-03 09:00"))
            try metrics.onTicketEvent(tx, ticketID: "B1", .firstResponse(wallMillis: 10 * minute, businessMillis: 10 * minute, met: true), at: sp("2027-03-03 09:10"))
            try metrics.onTicketEvent(tx, ticketID: "B1", .stageChanged("finalizado"), at: sp("2027-03-03 12:20"))
            try metrics.onTicketEvent(tx, ticketID: "B1", .resolved(wallMillis: 200 * minute, businessMillis: 200 * minute, met: true), at: sp("2027-03-03 12:20"))

            try metrics.onTicketEvent(tx, ticketID: "B2", .opened(dims("n2", "RM", "ana"), stage: "aguardando_atendimento"), at: sp("2027-03-03 10:00"))
            try metrics.onTicketEvent(tx, ticketID: "Z", .opened(dims("n1", "RM", "carla", level: 5), stage: "aguardando_atendimento"), at: sp("2027-03-04 09:00"))
            try metrics.onTicketEvent(tx, ticketID: "C1", .opened(dims("n1", "RM", "ana"), stage: "aguardando_atendimento"), at: sp("2027-04-01 09:00"))
        }
    }

    func report(_ database: any Database, _ filter: MetricsFilter) throws -> MetricsReport {
        try database.read { tx in try MetricsQuery.report(tx, from: march.0, to: march.1, now: sp("2027-04-05 09:00"), filter: filter) }
    }

    func keys(_ rows: [(key: String, totals: MetricTotals)]) -> [String] { rows.map { "\($0.key)=\($0.totals.opened)" } }

    @Test("a group's report holds only its tickets: counts, times, SLA, survey, stage time and backlog", arguments: TestEngines.all)
    func filterByGroup(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: Self.migrations)
        defer { database.close() }
        try record(database)
        let n1 = try report(database, MetricsFilter(groupID: "n1"))
        let t = n1.totals
        #expect(t.opened == 3 && t.finished == 1 && t.reopened == 0)  // A1, A2, Z
        #expect(t.firstResponses == 2 && t.firstResponseMet == 1 && t.averageFirstResponseWallMs == 45 * minute)
        #expect(t.resolutions == 1 && t.averageResolutionWallMs == 120 * minute && t.resolutionMet == 1)
        #expect(abs(t.slaMetPercent - 200.0 / 3) < 1e-9)
        #expect(t.surveys == 1 && t.averageSurveyScore == 5)
        #expect(keys(n1.byGroup) == ["n1=3"])
        #expect(keys(n1.byProduct) == ["RM=2", "Protheus=1"])
        #expect(keys(n1.byCategory) == ["1=2", "2=1"])
        #expect(keys(n1.byModule) == ["RM/Folha=2", "Protheus/Folha=1"])
        // A1 10 min and A2 60 min in the queue; A1 110 min in em_atendimento (A2 is still there).
        #expect(n1.stageTime == [StageTime(stage: "aguardando_atendimento", exits: 2, averageWallMs: 35 * minute, averageBusinessMs: 35 * minute),
                                 StageTime(stage: "em_atendimento", exits: 1, averageWallMs: 110 * minute, averageBusinessMs: 110 * minute)])
        // Open now: Z and C1 (April) in the queue, A2 in em_atendimento.
        #expect(n1.backlog == [BacklogRow(stage: "aguardando_atendimento", count: 2, byAge: [0, 0, 1, 0, 1]),
                               BacklogRow(stage: "em_atendimento", count: 1, byAge: [0, 0, 0, 0, 1])])

        let n2 = try report(database, MetricsFilter(groupID: "n2"))
        #expect(n2.totals.opened == 2 && n2.totals.finished == 1 && n2.totals.firstResponses == 1)
        #expect(n2.totals.averageFirstResponseWallMs == 10 * minute && n2.totals.averageResolutionWallMs == 200 * minute)
        #expect(n2.totals.surveys == 0 && n2.stageTime.map(\.stage) == ["em_atendimento"])
        #expect(n2.backlog.map { "\($0.stage)=\($0.count)" } == ["aguardando_atendimento=1"])
    }

    @Test("product and holder filters, combined filters, and an unknown group (an empty report, not an error)", arguments: TestEngines.all)
    func otherFilters(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: Self.migrations)
        defer { database.close() }
        try record(database)
        let bia = try report(database, MetricsFilter(agentID: "bia"))
        #expect(bia.totals.opened == 2 && keys(bia.byGroup) == ["n1=1", "n2=1"])  // A2, B1
        #expect(bia.totals.firstResponses == 2 && bia.totals.averageFirstResponseWallMs == 35 * minute)
        let rm = try report(database, MetricsFilter(product: "RM"))
        #expect(rm.totals.opened == 4 && keys(rm.byProduct) == ["RM=4"] && keys(rm.byGroup) == ["n1=2", "n2=2"])
        let n2rm = try report(database, MetricsFilter(groupID: "n2", product: "RM", agentID: "ana"))
        #expect(n2rm.totals.opened == 1 && n2rm.totals.firstResponses == 0 && n2rm.backlog.map(\.count) == [1])  // B2
        let none = try report(database, MetricsFilter(groupID: "nao-existe"))
        #expect(none.totals == MetricTotals() && none.byGroup.isEmpty && none.byCategory.isEmpty && none.stageTime.isEmpty && none.backlog.isEmpty)
        // An agent below administrator (level 1) does not count Z (level 5, held by carla).
        let limited = try report(database, MetricsFilter(groupID: "n1", visibleTo: (level: 1, agentID: "ana")))
        #expect(limited.totals.opened == 2 && limited.backlog.map { "\($0.stage)=\($0.count)" } == ["aguardando_atendimento=1", "em_atendimento=1"])
        let holder = try report(database, MetricsFilter(groupID: "n1", visibleTo: (level: 1, agentID: "carla")))
        #expect(holder.totals.opened == 3, "the holder counts their own ticket")
    }

    @Test("no filter: the rollup path, unchanged; groups' filtered reports add up to it when every event falls in the period",
          arguments: TestEngines.all)
    func unfilteredPathUnchanged(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: Self.migrations)
        defer { database.close() }
        try record(database)
        let rollups = try database.read { tx in try MetricsQuery.report(tx, from: march.0, to: march.1, now: sp("2027-04-05 09:00")) }
        let unfiltered = try report(database, MetricsFilter())
        #expect(unfiltered == rollups)
        #expect(keys(unfiltered.byGroup) == keys(rollups.byGroup) && keys(unfiltered.byProduct) == keys(rollups.byProduct))
        var sum = MetricTotals()
        for group in ["n1", "n2"] { sum.add(try report(database, MetricsFilter(groupID: group)).totals) }
        #expect(sum == rollups.totals)
        let stageExits = try ["n1", "n2"].flatMap { try report(database, MetricsFilter(groupID: $0)).stageTime }
            .reduce(into: [String: Int64]()) { $0[$1.stage, default: 0] += $1.exits }
        #expect(stageExits == Dictionary(uniqueKeysWithValues: rollups.stageTime.map { ($0.stage, $0.exits) }))
    }

    @Test("the filter is indexed: the cohort's and the backlog's queries seek wf_metric_tickets by group, product or holder", arguments: TestEngines.all)
    func filterQueriesUseTheIndexes(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: Self.migrations)
        defer { database.close() }
        try record(database)
        for (filter, index) in [(MetricsFilter(groupID: "n1"), "wf_metric_tickets_group"), (MetricsFilter(product: "RM"), "wf_metric_tickets_product"),
                                (MetricsFilter(agentID: "bia"), "wf_metric_tickets_agent")] {
            // The cohort's predicate as the report builds it, and the backlog's.
            let predicate = filter.predicate()
            for (condition, extra) in [(" AND t.is_open IN (0, 1) AND t.opened_day >= ? AND t.opened_day < ?",
                                        [SQLValue.integer(Int64(march.0.dayNumber)), .integer(Int64(march.1.dayNumber))]),
                                       (" AND t.is_open = 1", [])] {
                let sql = "SELECT COUNT(*) FROM wf_metric_tickets t WHERE " + predicate.sql + condition
                let plan: String = try database.read { tx in
                    if engine == .postgres {
                        _ = try tx.execute("SET LOCAL enable_seqscan = off")
                        return try tx.query("EXPLAIN " + sql, predicate.params + extra).map { try $0.text("QUERY PLAN") }.joined(separator: "\n")
                    }
                    return try tx.query("EXPLAIN QUERY PLAN " + sql, predicate.params + extra).map { try $0.text("detail") }.joined(separator: "\n")
                }
                #expect(plan.contains(index), "\(sql)\n\(plan)")
            }
        }
    }

    @Test("migration 180 keeps the stage times recorded before it (SQLite rebuilds the table WITHOUT ROWID) and the filtered report reads them",
          arguments: TestEngines.all)
    func migrationKeepsStageTimes(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        // (Migrations 190, 194, 199 and 202, the cohort counters, the outcome column and the resolution's day and dimensions
        // this version's code keeps as it records, are among them: they need no migration 180.)
        let before = try scratch.open(migrations: WorkflowService.migrations.filter { $0.version < 180 || [190, 194, 199, 202].contains($0.version) })
        try record(before)
        let rows = try before.read { tx in try tx.query("SELECT ticket_id, stage, wall_ms, business_ms, entries FROM wf_metric_stage_time ORDER BY ticket_id, stage") }
        before.close()
        let after = try scratch.open(migrations: WorkflowService.migrations)
        defer { after.close() }
        let kept = try after.read { tx in try tx.query("SELECT ticket_id, stage, wall_ms, business_ms, entries FROM wf_metric_stage_time ORDER BY ticket_id, stage") }
        #expect(kept.count == rows.count && kept.count == 4)
        #expect(try kept.map { "\(try $0.text("ticket_id"))/\(try $0.text("stage"))=\(try $0.int("wall_ms"))" }
                == rows.map { "\(try $0.text("ticket_id"))/\(try $0.text("stage"))=\(try $0.int("wall_ms"))" })
        if engine == .sqlite {
            let table = try after.read { tx in try tx.queryOne("SELECT sql FROM sqlite_master WHERE name = 'wf_metric_stage_time'")?.text("sql") }
            #expect(table?.contains("WITHOUT ROWID") == true, "\(table ?? "")")
        }
        // New stage times still add up (ON CONFLICT on the rebuilt key), and the filtered report reads them.
        try after.write { tx in try metrics.onTicketEvent(tx, ticketID: "A2", .stageChanged("aguardando_cliente"), at: sp("2027-03-02 11:00")) }
        let n1 = try report(after, MetricsFilter(groupID: "n1"))
        #expect(n1.stageTime.first { $0.stage == "em_atendimento" }?.exits == 2)  // A1 and now A2
    }

    // MARK: over RPC

    func principal(admin: Bool, level: Int32, id: String = "ana") -> CallOptions {
        agentOptions(secret, id: id, level: level, admin: admin)
    }

    @Test("GetMetrics, ExportMetricsReport and ExportMetrics honour group_id, product and agent_id; a bad filter is INVALID_ARGUMENT on its field",
          arguments: TestEngines.all)
    func overRPC(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-04-05 09:00", migrations: Self.migrations)
        defer { withExtendedLifetime(fixture) {} }
        try record(fixture.database)
        let client = fixture.client
        let method = WorkflowV1.WorkflowTime.self
        let admin = principal(admin: true, level: 9), agent = principal(admin: false, level: 1)

        var request = WorkflowV1.GetMetricsRequest()
        request.fromDay = "2027-03-01"
        request.toDay = "2027-04-01"
        #expect(try client.call(method.getMetrics, request, options: admin).totals?.opened == 5)
        request.groupID = "n1"
        let n1 = try client.call(method.getMetrics, request, options: admin)
        #expect(n1.totals?.opened == 3 && n1.byGroup.map(\.key) == ["n1"] && n1.backlog.map(\.count) == [2, 1])
        #expect(try client.call(method.getMetrics, request, options: agent).totals?.opened == 2)  // not Z (level 5)
        request.groupID = ""
        request.agentID = "bia"
        #expect(try client.call(method.getMetrics, request, options: admin).totals?.opened == 2)
        request.agentID = ""
        request.product = "Protheus"
        #expect(try client.call(method.getMetrics, request, options: admin).byProduct.map(\.key) == ["Protheus"])
        request.product = ""
        request.groupID = "ninguem"
        #expect(try client.call(method.getMetrics, request, options: admin).totals?.opened == 0)
        request.groupID = "n1\u{7}"
        do {
            _ = try client.call(method.getMetrics, request, options: admin)
            Issue.record("a control character in the filter was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.violations.map(\.field) == ["group_id"])
        }

        request.groupID = "n2"
        let stream = try client.serverStream(method.exportMetricsReport, request, options: admin)
        var csv = ""
        while let chunk = try stream.receive() { csv += chunk.text }
        #expect(csv.contains("\r\ntotal,,2,1,0,1,"))  // B1 and B2: 2 opened, 1 finished, 0 reopened, 1 first response
        #expect(csv.contains("\r\ngroup,n2,2,") && !csv.contains("\r\ngroup,n1,"))

        // The ticket facts' export takes the same filters.
        func export(_ change: (inout WorkflowV1.ExportMetricsRequest) -> Void) throws -> [String] {
            var ask = WorkflowV1.ExportMetricsRequest()
            ask.pageSize = 1
            change(&ask)
            let stream = try client.serverStream(method.exportMetrics, ask, options: admin)
            var text = ""
            while let chunk = try stream.receive() { text += chunk.text }
            return text.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }.map { String($0.prefix { $0 != "," }) }
        }
        #expect(try export { _ in }.sorted() == ["A1", "A2", "B1", "B2", "C1", "Z"])
        #expect(try export { $0.groupID = "n2" } == ["B1", "B2"])
        #expect(try export { $0.product = "RM"; $0.agentID = "ana" } == ["A1", "B2", "C1"])
        #expect(try export { $0.groupID = "ninguem" } == [])
    }
}
