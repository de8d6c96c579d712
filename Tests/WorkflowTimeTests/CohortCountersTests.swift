import Foundation
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// The cohort counters (migration 190) answer a filtered report exactly as the scan of the
/// tickets' facts does: a seeded history of tickets that are transferred between groups,
/// reclassified (product, module, category, access level), finished, cancelled, reopened,
/// answered and surveyed across three months, recorded event by event (some transactions as
/// deliveries that sum their counters), compared with a brute-force report computed here from
/// `wf_metric_tickets` and `wf_metric_stage_time`, for every group, product, their pairs and an
/// agent below administrator, over whole months, ragged periods and periods with no whole month.
@Suite struct CohortCountersTests {
    let metrics = MetricsRecorder()
    let now = sp("2027-04-20 12:00")
    static let groups = ["n1", "n2", "n3"], products = ["RM", "Protheus", "Datasul"], agents = ["ana", "bia", "carla", ""]
    static let migrations = WorkflowTimeMigrations.all + [MetricsQuery.filterMigration]

    /// One ticket event at an instant.
    struct Step {
        var at: Int64
        var ticketID: String
        var event: MetricsEvent
    }

    /// A seeded history: `count` tickets opened from 2027-02-20 to 2027-04-10, each with up to a
    /// dozen later events, in time order.
    static func history(seed: UInt64, count: Int = 70) -> [Step] {
        var random = SplitMix64(state: seed)
        func dims() -> TicketDimensions {
            let product = products[random.below(products.count)]
            return TicketDimensions(organizationID: "org\(random.below(3))", category: Int32(1 + random.below(3)), product: product,
                                    module: "\(product)/\(["Folha", "Fiscal"][random.below(2)])", priority: 2, plan: "basico",
                                    groupID: groups[random.below(groups.count)], agentID: agents[random.below(agents.count)],
                                    accessLevel: Int32(random.below(3)))
        }
        let start = sp("2027-02-20 08:00"), minute: Int64 = 60_000
        var steps: [Step] = []
        for index in 0..<count {
            let id = String(format: "T%03d", index)
            var at = start + Int64(random.below(49 * 24 * 60)) * minute
            var current = dims()
            steps.append(Step(at: at, ticketID: id, event: .opened(current, stage: ["aguardando_atendimento", "em_atendimento"][random.below(2)])))
            for _ in 0..<random.below(13) {
                at += Int64(10 + random.below(3 * 24 * 60)) * minute
                let wall = Int64(1 + random.below(600)) * minute
                let event: MetricsEvent
                switch random.below(9) {
                case 0, 1:
                    event = .stageChanged(["em_atendimento", "aguardando_cliente", "diagnostico_tecnico", "finalizado", "cancelado"][random.below(5)])
                case 2: event = .firstResponse(wallMillis: wall, businessMillis: wall / 2, met: random.flag())
                case 3: event = .resolved(wallMillis: wall * 3, businessMillis: wall, met: random.flag())
                case 4:
                    current.groupID = groups[random.below(groups.count)]
                    current.agentID = agents[random.below(agents.count)]
                    event = .transferred(pingPong: random.flag(), groupID: current.groupID, agentID: current.agentID)
                case 5:
                    // A correction: the product (and so the module), or the category, or the access level.
                    switch random.below(3) {
                    case 0:
                        current.product = products[random.below(products.count)]
                        current.module = "\(current.product)/Folha"
                    case 1: current.category = Int32(1 + random.below(3))
                    default: current.accessLevel = Int32(random.below(3))
                    }
                    event = .reclassified(current)
                case 6: event = .surveyAnswered(score: Int32(1 + random.below(5)))
                case 7: event = .stageChanged("finalizado")
                default: event = .stageChanged("em_atendimento")  // a reopening when finished
                }
                steps.append(Step(at: at, ticketID: id, event: event))
            }
        }
        return steps.sorted { ($0.at, $0.ticketID) < ($1.at, $1.ticketID) }
    }

    /// Records `steps` in transactions of 1–6 events; every other one sums its counters as a delivery does.
    func record(_ database: any Database, _ steps: some Collection<Step>, seed: UInt64) throws {
        var random = SplitMix64(state: seed)
        var rest = steps[...]
        var delivery = false
        while !rest.isEmpty {
            let chunk = rest.prefix(1 + random.below(6))
            rest = rest.dropFirst(chunk.count)
            delivery.toggle()
            try database.write { tx in
                let apply = { for step in chunk { try metrics.onTicketEvent(tx, ticketID: step.ticketID, step.event, at: step.at) } }
                if delivery { try MetricsRecorder.summingCounters(tx, apply) } else { try apply() }
            }
        }
    }

    // MARK: the brute force

    struct Fact {
        var openedDay: Int64, category: Int64, product: String, module: String, group: String, agent: String, level: Int64
        var stage: String, isOpen: Bool
        var totals: MetricTotals
        var stays: [String: (entries: Int64, wall: Int64, business: Int64)] = [:]
    }

    func facts(_ database: any Database) throws -> [String: Fact] {
        try database.read { tx in
            var facts: [String: Fact] = [:]
            for row in try tx.query("SELECT * FROM wf_metric_tickets") {
                var t = MetricTotals()
                t.opened = 1
                t.finished = try row.bool("is_open") ? 0 : 1
                t.reopened = try row.int("reopens")
                if let wall = try row.optionalInt("first_response_wall_ms") {
                    t.firstResponses = 1
                    t.firstResponseWallMs = wall
                    t.firstResponseBusinessMs = try row.optionalInt("first_response_business_ms") ?? 0
                    t.firstResponseMet = try row.optionalInt("first_response_met") ?? 0
                }
                if let wall = try row.optionalInt("resolution_wall_ms") {
                    t.resolutions = 1
                    t.resolutionWallMs = wall
                    t.resolutionBusinessMs = try row.optionalInt("resolution_business_ms") ?? 0
                    t.resolutionMet = try row.optionalInt("resolution_met") ?? 0
                }
                t.transfers = try row.int("transfers")
                t.pingPongs = try row.int("ping_pongs")
                if let score = try row.optionalInt("survey_score") {
                    t.surveys = 1
                    t.surveyScoreSum = score
                }
                facts[try row.text("ticket_id")] = Fact(
                    openedDay: try row.int("opened_day"), category: try row.int("category"), product: try row.text("product"),
                    module: try row.text("module"), group: try row.text("group_id"), agent: try row.text("agent_id"),
                    level: try row.int("access_level"), stage: try row.text("stage"), isOpen: try row.bool("is_open"), totals: t)
            }
            for row in try tx.query("SELECT * FROM wf_metric_stage_time") {
                facts[try row.text("ticket_id")]?.stays[try row.text("stage")] = (try row.int("entries"), try row.int("wall_ms"), try row.int("business_ms"))
            }
            return facts
        }
    }

    func matches(_ f: Fact, _ filter: MetricsFilter) -> Bool {
        (filter.groupID.isEmpty || f.group == filter.groupID) && (filter.product.isEmpty || f.product == filter.product)
            && (filter.agentID.isEmpty || f.agent == filter.agentID)
            // As `Visibility.canSee`: a viewer without an id holds no ticket.
            && (filter.visibleTo.map { f.level <= Int64($0.level) || (!$0.agentID.isEmpty && f.agent == $0.agentID) } ?? true)
    }

    /// The report of `filter` for `[from, to)`, computed ticket by ticket.
    func bruteForce(_ facts: [String: Fact], _ filter: MetricsFilter, from: LocalDay, to: LocalDay) -> MetricsReport {
        let cohort = facts.values.filter { matches($0, filter) && $0.openedDay >= Int64(from.dayNumber) && $0.openedDay < Int64(to.dayNumber) }
        var total = MetricTotals()
        var by: [MetricsQuery.Breakdown: [String: MetricTotals]] = [:]
        var stays: [String: (Int64, Int64, Int64)] = [:]
        for f in cohort {
            total.add(f.totals)
            for (breakdown, key) in [(MetricsQuery.Breakdown.category, String(f.category)), (.product, f.product), (.module, f.module), (.group, f.group)] {
                by[breakdown, default: [:]][key, default: MetricTotals()].add(f.totals)
            }
            for (stage, s) in f.stays {
                let sum = stays[stage] ?? (0, 0, 0)
                stays[stage] = (sum.0 + s.entries, sum.1 + s.wall, sum.2 + s.business)
            }
        }
        func ordered(_ b: MetricsQuery.Breakdown) -> [(key: String, totals: MetricTotals)] {
            (by[b] ?? [:]).map { (key: $0.key, totals: $0.value) }.sorted { ($1.totals.opened, $0.key) < ($0.totals.opened, $1.key) }
        }
        let today = Int64(BusinessCalendar.default.localDay(of: now).dayNumber)
        var backlog: [String: [Int64]] = [:]
        for f in facts.values where f.isOpen && matches(f, filter) {
            let age = today - f.openedDay
            let bucket = age <= 0 ? 0 : age <= 2 ? 1 : age <= 6 ? 2 : age <= 29 ? 3 : 4
            backlog[f.stage, default: [0, 0, 0, 0, 0]][bucket] += 1
        }
        return MetricsReport(
            fromDay: from, toDay: to, totals: total, byCategory: ordered(.category), byProduct: ordered(.product), byModule: ordered(.module),
            byGroup: ordered(.group),
            stageTime: stays.keys.sorted().map { StageTime(stage: $0, exits: stays[$0]!.0, averageWallMs: stays[$0]!.1 / stays[$0]!.0,
                                                           averageBusinessMs: stays[$0]!.2 / stays[$0]!.0) },
            backlog: backlog.keys.sorted().map { BacklogRow(stage: $0, count: backlog[$0]!.reduce(0, +), byAge: backlog[$0]!) })
    }

    /// Every filter and period of the comparison.
    static let filters: [MetricsFilter] = groups.map { MetricsFilter(groupID: $0) } + products.map { MetricsFilter(product: $0) }
        + groups.flatMap { g in products.map { MetricsFilter(groupID: g, product: $0) } }
        + [MetricsFilter(groupID: "n1", visibleTo: (level: 1, agentID: "ana")), MetricsFilter(product: "RM", visibleTo: (level: 0, agentID: "bia")),
           MetricsFilter(groupID: "n2", product: "Protheus", visibleTo: (level: 0, agentID: "carla")),
           MetricsFilter(groupID: "n3", visibleTo: (level: 0, agentID: "")), MetricsFilter(agentID: "bia"), MetricsFilter(groupID: "ninguem")]
    static let periods: [(LocalDay, LocalDay)] = [
        (LocalDay(2027, 3, 1), LocalDay(2027, 4, 1)),   // a whole month
        (LocalDay(2027, 2, 1), LocalDay(2027, 5, 1)),   // three
        (LocalDay(2027, 2, 25), LocalDay(2027, 4, 5)),  // ragged ends around a whole month
        (LocalDay(2027, 3, 5), LocalDay(2027, 3, 20)),  // inside a month
        (LocalDay(2027, 3, 1), LocalDay(2027, 3, 31)),  // a month but its last day
    ]

    func compare(_ database: any Database, _ context: String) throws {
        let facts = try facts(database)
        for filter in Self.filters {
            for (from, to) in Self.periods {
                let report = try database.read { tx in try MetricsQuery.report(tx, from: from, to: to, now: now, filter: filter) }
                let expected = bruteForce(facts, filter, from: from, to: to)
                let label = "\(context) \(filter.groupID)/\(filter.product)/\(filter.agentID)/\(String(describing: filter.visibleTo)) \(from)–\(to)"
                #expect(report.totals == expected.totals, "\(label)")
                for (actual, wanted) in [(report.byCategory, expected.byCategory), (report.byProduct, expected.byProduct),
                                         (report.byModule, expected.byModule), (report.byGroup, expected.byGroup)] {
                    #expect(actual.map(\.key) == wanted.map(\.key) && actual.map(\.totals) == wanted.map(\.totals), "\(label)")
                }
                #expect(report.stageTime.sorted { $0.stage < $1.stage } == expected.stageTime, "\(label)")
                #expect(report.backlog.sorted { $0.stage < $1.stage } == expected.backlog, "\(label)")
            }
        }
    }

    /// The counter rows (summed over shards, zero rows left out) against the facts grouped the same way.
    func compareCounterRows(_ database: any Database) throws {
        let facts = try facts(database)
        var expected: [String: [Int64]] = [:], expectedStages: [String: [Int64]] = [:]
        for f in facts.values {
            let month = CohortCounters.month(ofDay: f.openedDay)
            let t = f.totals
            let values = [t.opened, t.finished, t.reopened, t.firstResponses, t.firstResponseWallMs, t.firstResponseBusinessMs, t.firstResponseMet,
                          t.resolutions, t.resolutionWallMs, t.resolutionBusinessMs, t.resolutionMet, t.transfers, t.pingPongs, t.surveys, t.surveyScoreSum]
            let key = "\(f.group)|\(month)|\(f.product)|\(f.module)|\(f.category)|\(f.level)"
            expected[key] = zip(expected[key] ?? Array(repeating: 0, count: 15), values).map { $0 + $1 }
            for (stage, s) in f.stays {
                let stageKey = "\(f.group)|\(month)|\(f.product)|\(f.level)|\(stage)"
                expectedStages[stageKey] = zip(expectedStages[stageKey] ?? [0, 0, 0], [s.entries, s.wall, s.business]).map { $0 + $1 }
            }
        }
        let (rows, stages) = try database.read { tx in
            (try tx.query("""
                SELECT group_id, month, product, module, category, access_level, \(MetricsQuery.sums) FROM wf_metric_cohort
                GROUP BY group_id, month, product, module, category, access_level
                """),
             try tx.query("""
                SELECT group_id, month, product, access_level, stage, SUM(exits) AS exits, SUM(wall_ms) AS wall, SUM(business_ms) AS business
                FROM wf_metric_cohort_stage GROUP BY group_id, month, product, access_level, stage
                """))
        }
        var actual: [String: [Int64]] = [:], actualStages: [String: [Int64]] = [:]
        for row in rows {
            let values = try MetricsRecorder.Counter.allCases.map { try row.int($0.rawValue) }
            guard values.contains(where: { $0 != 0 }) else { continue }
            actual["\(try row.text("group_id"))|\(try row.int("month"))|\(try row.text("product"))|\(try row.text("module"))|\(try row.int("category"))|\(try row.int("access_level"))"] = values
        }
        for row in stages {
            let values = [try row.int("exits"), try row.int("wall"), try row.int("business")]
            guard values.contains(where: { $0 != 0 }) else { continue }
            actualStages["\(try row.text("group_id"))|\(try row.int("month"))|\(try row.text("product"))|\(try row.int("access_level"))|\(try row.text("stage"))"] = values
        }
        #expect(actual == expected)
        #expect(actualStages == expectedStages)
    }

    @Test("recorded event by event, the counters hold exactly the facts' sums and every filtered report equals the brute-force one",
          arguments: TestEngines.all)
    func liveCountersMatchBruteForce(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: Self.migrations)
        defer { database.close() }
        let steps = Self.history(seed: 11)
        // The history moves tickets between rows: transfers, corrections, reopenings, cancellations and surveys.
        #expect(steps.contains { if case .transferred = $0.event { true } else { false } })
        #expect(steps.contains { if case .reclassified = $0.event { true } else { false } })
        #expect(steps.contains { if case .stageChanged("cancelado", _) = $0.event { true } else { false } })
        #expect(steps.contains { if case .surveyAnswered = $0.event { true } else { false } })
        try record(database, steps, seed: 12)
        let reopened = try database.read { tx in try tx.queryOne("SELECT COUNT(*) AS n FROM wf_metric_tickets WHERE reopens > 0")?.int("n") ?? 0 }
        #expect(reopened > 0)
        try compareCounterRows(database)
        try compare(database, "\(engine)")
    }

    @Test("migration 190 backfills the counters from the facts recorded before it, and later events keep them exact",
          arguments: TestEngines.all)
    func backfillThenLive(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let steps = Self.history(seed: 21)
        // A database of the version before: the facts of half the history, no cohort tables (this
        // version's code keeps them as it records, so they are dropped and 190 marked pending).
        let before = try scratch.open(migrations: WorkflowService.migrations)
        try record(before, steps.prefix(steps.count / 2), seed: 22)
        try before.write { tx in
            try tx.execute("DROP TABLE wf_metric_cohort")
            try tx.execute("DROP TABLE wf_metric_cohort_stage")
            try tx.execute("DELETE FROM schema_migrations WHERE version = 190")
        }
        before.close()
        let database = try scratch.open(migrations: WorkflowService.migrations)
        defer { database.close() }
        try compareCounterRows(database)
        try compare(database, "\(engine) backfilled")
        try record(database, steps.dropFirst(steps.count / 2), seed: 23)
        try compareCounterRows(database)
        try compare(database, "\(engine) backfilled, then live")
    }

    @Test("a group's whole month is read from the counters, not from the tickets", arguments: TestEngines.all)
    func wholeMonthReadsCounters(engine: DatabaseEngine) throws {
        let march = MetricsQuery.cohortPlan(from: LocalDay(2027, 3, 1), to: LocalDay(2027, 4, 1), filter: MetricsFilter(groupID: "n1"))
        #expect(march.counters != nil && march.scans.isEmpty)
        // Below administrator: the counters up to the level, and the agent's own tickets above it from the holder's index.
        let limited = MetricsQuery.cohortPlan(from: LocalDay(2027, 3, 1), to: LocalDay(2027, 4, 1),
                                              filter: MetricsFilter(groupID: "n1", visibleTo: (level: 1, agentID: "ana")))
        #expect(limited.counters != nil && limited.scans.count == 1)
        let database = try ScratchDatabase(engine).open(migrations: Self.migrations)
        defer { database.close() }
        let plan: String = try database.read { tx in
            let scan = limited.scans[0]
            let sql = "SELECT COUNT(*) FROM wf_metric_tickets t WHERE " + scan.sql
            if engine == .postgres {
                _ = try tx.execute("SET LOCAL enable_seqscan = off")
                return try tx.query("EXPLAIN " + sql, scan.params).map { try $0.text("QUERY PLAN") }.joined(separator: "\n")
            }
            return try tx.query("EXPLAIN QUERY PLAN " + sql, scan.params).map { try $0.text("detail") }.joined(separator: "\n")
        }
        #expect(plan.contains("wf_metric_tickets_agent"), "\(plan)")
        // A holder's filter and a period without a whole month read the tickets, as before.
        #expect(MetricsQuery.cohortPlan(from: LocalDay(2027, 3, 1), to: LocalDay(2027, 4, 1), filter: MetricsFilter(agentID: "ana")).counters == nil)
        #expect(MetricsQuery.cohortPlan(from: LocalDay(2027, 3, 5), to: LocalDay(2027, 3, 20), filter: MetricsFilter(groupID: "n1")).counters == nil)
    }
}
