import Foundation
import Storage

/// What a filtered report covers: tickets whose **current** group, product and holder match
/// every non-empty field (empty fields do not filter).
public struct MetricsFilter: Sendable, Hashable {
    public var groupID: String
    public var product: String
    public var agentID: String
    /// Agents below administrator see only tickets at or below their level or held by them
    /// (``Visibility``); `nil`: every ticket.
    public var visibleTo: (level: Int32, agentID: String)?

    public init(groupID: String = "", product: String = "", agentID: String = "", visibleTo: (level: Int32, agentID: String)? = nil) {
        self.groupID = groupID
        self.product = product
        self.agentID = agentID
        self.visibleTo = visibleTo
    }

    /// Whether any dimension is filtered (the report then comes from the per-ticket facts).
    public var isEmpty: Bool { groupID.isEmpty && product.isEmpty && agentID.isEmpty }

    public static func == (a: MetricsFilter, b: MetricsFilter) -> Bool {
        (a.groupID, a.product, a.agentID) == (b.groupID, b.product, b.agentID)
            && a.visibleTo?.level == b.visibleTo?.level && a.visibleTo?.agentID == b.visibleTo?.agentID
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(groupID)
        hasher.combine(product)
        hasher.combine(agentID)
    }

    /// The predicate over `wf_metric_tickets` alias `t` (parameterised), without the period.
    func predicate() -> (sql: String, params: [SQLValue]) {
        var parts: [String] = []
        var params: [SQLValue] = []
        for (column, value) in [("group_id", groupID), ("product", product), ("agent_id", agentID)] where !value.isEmpty {
            parts.append("t.\(column) = ?")
            params.append(.text(value))
        }
        // Implies the holder index's condition (it leaves unheld tickets out), so both engines use it.
        if !agentID.isEmpty { parts.append("t.agent_id <> ''") }
        if let visibleTo {
            // A viewer without an id holds no ticket: `t.agent_id = ''` counted every unheld
            // ticket above their level (the backlog and the survey results already left them out).
            if visibleTo.agentID.isEmpty {
                parts.append("t.access_level <= ?")
                params.append(.integer(Int64(visibleTo.level)))
            } else {
                parts.append("(t.access_level <= ? OR t.agent_id = ?)")
                params += [.integer(Int64(visibleTo.level)), .text(visibleTo.agentID)]
            }
        }
        return (parts.isEmpty ? "1 = 1" : parts.joined(separator: " AND "), params)
    }
}

/// A filtered report: the **cohort** of tickets opened in the period that match the filter,
/// instead of the daily rollups (events per day, kept per single dimension).
///
/// Totals and breakdowns are those tickets' figures as they stand now (finished, first response
/// and resolution times, SLA met, reopenings, transfers, survey score); time per stage is their
/// completed stays; the backlog is the matching tickets open now. The period's whole months are
/// read from the cohort counters (``CohortCounters``, migration 190) when the filter is by group
/// and/or product; the rest — ragged days, a holder filter, an agent's own tickets above their
/// level — from the per-ticket facts (`wf_metric_tickets`, `wf_metric_stage_time`) through the
/// indexes of migration 180 (`(group_id | product | agent_id, is_open, opened_day)`), which also
/// serve the backlog (``cohortPlan(from:to:filter:)``).
///
/// ```swift
/// let march = try database.read { tx in
///     try MetricsQuery.report(tx, from: LocalDay(2026, 3, 1), to: LocalDay(2026, 4, 1), now: now,
///                             filter: MetricsFilter(groupID: "suporte-n1"))
/// }
/// ```
extension MetricsQuery {
    /// The indexes the filtered report seeks (both engines; `is_open` before the day, so the
    /// backlog's `is_open = 1` and the cohort's `is_open IN (0, 1) AND opened_day` range both use
    /// them). The holder's index is partial: a ticket opened unassigned (the usual case) adds no
    /// entry to it until someone takes it. On SQLite `wf_metric_stage_time` also becomes a
    /// `WITHOUT ROWID` table (as migration 170 did for the tables openings append to): the
    /// filtered report's stage-time join then reads each ticket's rows in one B-tree seek instead
    /// of a key-index seek plus a table lookup per row. Runs after migration 170, which rebuilt
    /// `wf_metric_tickets` on SQLite.
    public static let filterMigration: Migration = {
        let indexes = """
            CREATE INDEX wf_metric_tickets_group ON wf_metric_tickets (group_id, is_open, opened_day);
            CREATE INDEX wf_metric_tickets_product ON wf_metric_tickets (product, is_open, opened_day);
            CREATE INDEX wf_metric_tickets_agent ON wf_metric_tickets (agent_id, is_open, opened_day) WHERE agent_id <> '';
            """
        return Migration(version: 180, name: "time_metric_filters", sqlite: indexes + """

            CREATE TABLE wf_metric_stage_time_v180 (
                ticket_id TEXT NOT NULL,
                stage TEXT NOT NULL,
                wall_ms BIGINT NOT NULL,
                business_ms BIGINT NOT NULL,
                entries INTEGER NOT NULL,
                PRIMARY KEY (ticket_id, stage)
            ) WITHOUT ROWID;
            INSERT INTO wf_metric_stage_time_v180 (ticket_id, stage, wall_ms, business_ms, entries)
                SELECT ticket_id, stage, wall_ms, business_ms, entries FROM wf_metric_stage_time;
            DROP TABLE wf_metric_stage_time;
            ALTER TABLE wf_metric_stage_time_v180 RENAME TO wf_metric_stage_time;
            """, postgres: indexes)
    }()

    /// Everything for days `[from, to)` plus the backlog at `now`: from the rollups without a
    /// filter, from the matching tickets' facts with one (see ``MetricsFilter``).
    ///
    /// A viewer held to a level (``MetricsFilter/visibleTo``) never gets the rollups, which sum
    /// every ticket, confidential ones included: their report, filtered or not, is the cohort of
    /// the tickets they may see (at or below their level, or held by them) — the counters of
    /// ``CohortCounters`` up to their level for whole months, the tickets' facts for the rest —
    /// and the backlog of those tickets (``visibleBacklog(_:now:visibleTo:calendar:)``).
    public static func report(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay, now: Int64, filter: MetricsFilter,
                              calendar: BusinessCalendar = .default) throws -> MetricsReport {
        if filter.isEmpty && filter.visibleTo == nil { return try report(tx, from: from, to: to, now: now) }
        let (totals, breakdowns) = try cohortTotals(tx, from: from, to: to, filter: filter)
        let backlog: [BacklogRow]
        if filter.isEmpty, let visibleTo = filter.visibleTo {
            backlog = try visibleBacklog(tx, now: now, visibleTo: visibleTo, calendar: calendar)
        } else {
            backlog = try filteredBacklog(tx, now: now, filter: filter, calendar: calendar)
        }
        return MetricsReport(fromDay: from, toDay: to, totals: totals,
                             byCategory: breakdowns[.category] ?? [], byProduct: breakdowns[.product] ?? [],
                             byModule: breakdowns[.module] ?? [], byGroup: breakdowns[.group] ?? [],
                             stageTime: try cohortStageTime(tx, from: from, to: to, filter: filter),
                             backlog: backlog, byOutcome: try cohortOutcomes(tx, from: from, to: to, filter: filter))
    }

    /// The cohort predicate: the filter, and opened in `[from, to)`. Without a dimension to seek
    /// by, the opening time bounds the read too (the `(opened_at, ticket_id)` index; a local day
    /// lies within a day of the UTC one), so a viewer's ragged days do not read every ticket.
    private static func cohort(_ from: LocalDay, _ to: LocalDay, _ filter: MetricsFilter) -> (sql: String, params: [SQLValue]) {
        let base = filter.predicate()
        var sql = base.sql + " AND t.is_open IN (0, 1) AND t.opened_day >= ? AND t.opened_day < ?"
        var params = base.params + [.integer(Int64(from.dayNumber)), .integer(Int64(to.dayNumber))]
        if filter.isEmpty {
            sql += " AND t.opened_at >= ? AND t.opened_at < ?"
            params += [.integer(Int64(from.dayNumber - 1) * 86_400_000), .integer(Int64(to.dayNumber + 1) * 86_400_000)]
        }
        return (sql, params)
    }

    /// Migration 192: the open tickets above level 0, for ``visibleBacklog(_:now:visibleTo:calendar:)``
    /// (partial: a ticket at level 0, the usual case, adds no entry to it); and the cohort
    /// counters by month, for a viewer's report without a group or product (their keys start
    /// with the group; a counter's update changes neither column, so events do not touch it).
    public static let confidentialMigration = Migration(version: 192, name: "time_metric_confidential", sql: """
        CREATE INDEX wf_metric_tickets_confidential ON wf_metric_tickets (is_open, access_level) WHERE access_level > 0;
        CREATE INDEX wf_metric_cohort_month ON wf_metric_cohort (month, access_level);
        CREATE INDEX wf_metric_cohort_stage_month ON wf_metric_cohort_stage (month, access_level);
        """)

    /// The backlog of the tickets a viewer held to a level may see: the backlog rollup (every
    /// open ticket) less the open tickets above their level that they do not hold, read through
    /// the partial index of ``confidentialMigration`` (few: confidential tickets are the exception).
    /// The rollup and the tickets' facts change together, so the difference is exactly the
    /// ``filteredBacklog(_:now:filter:calendar:)`` of those tickets.
    public static func visibleBacklog(_ tx: any SQLExecutor, now: Int64, visibleTo: (level: Int32, agentID: String),
                                      calendar: BusinessCalendar = .default) throws -> [BacklogRow] {
        let hidden = try openTickets(tx, now: now, calendar: calendar,
                                     where: "t.is_open = 1 AND t.access_level > 0 AND t.access_level > ? AND (t.agent_id <> ? OR t.agent_id = '')",
                                     [.integer(Int64(visibleTo.level)), .text(visibleTo.agentID)])
        var less: [String: (count: Int64, byAge: [Int64])] = [:]
        for row in hidden { less[row.stage] = (row.count, row.byAge) }
        return try backlog(tx, now: now, calendar: calendar).compactMap { row in
            guard let minus = less[row.stage] else { return row }
            let left = BacklogRow(stage: row.stage, count: row.count - minus.count, byAge: zip(row.byAge, minus.byAge).map { $0 - $1 })
            return left.count > 0 ? left : nil
        }
    }

    /// Where a filtered report's cohort is read from: the counters of ``CohortCounters`` for the
    /// whole months of the period (when the filter names no holder), and the tickets' facts for
    /// the rest — the ragged days before the first and after the last whole month, and, for an
    /// agent below administrator, the tickets above their level that they hold (the counters
    /// count tickets by level; ``MetricsFilter/visibleTo`` also lets a holder see their own).
    /// The two parts never hold the same ticket, so their sums add up to the scan's.
    struct CohortPlan {
        /// `wf_metric_cohort(_stage)` alias `c`: the condition and its parameters; `nil`: none.
        var counters: (sql: String, params: [SQLValue])?
        /// Predicates over `wf_metric_tickets` alias `t`, each read apart (with its index).
        var scans: [(sql: String, params: [SQLValue])] = []
    }

    static func cohortPlan(from: LocalDay, to: LocalDay, filter: MetricsFilter) -> CohortPlan {
        let months = wholeMonths(from: from, to: to)
        // The holder's filter reads its index (a holder's month is a few hundred tickets).
        guard filter.agentID.isEmpty, let months else { return CohortPlan(scans: [cohort(from, to, filter)]) }
        var conditions: [String] = ["c.month >= ? AND c.month < ?"]
        var params: [SQLValue] = [.integer(Int64(months.first.year * 12 + months.first.month - 1)),
                                  .integer(Int64(months.end.year * 12 + months.end.month - 1))]
        for (column, value) in [("group_id", filter.groupID), ("product", filter.product)] where !value.isEmpty {
            conditions.append("c.\(column) = ?")
            params.append(.text(value))
        }
        var plan = CohortPlan(counters: nil)
        if let visible = filter.visibleTo {
            conditions.append("c.access_level <= ?")
            params.append(.integer(Int64(visible.level)))
            // Their own tickets above their level, in the whole months (the holder's index); a
            // viewer without an id holds none (the unheld tickets above their level were read here).
            if !visible.agentID.isEmpty {
                var held = MetricsFilter(groupID: filter.groupID, product: filter.product, agentID: visible.agentID).predicate()
                held.sql += " AND t.access_level > ? AND t.is_open IN (0, 1) AND t.opened_day >= ? AND t.opened_day < ?"
                held.params += [.integer(Int64(visible.level)), .integer(Int64(months.first.dayNumber)), .integer(Int64(months.end.dayNumber))]
                plan.scans.append(held)
            }
        }
        plan.counters = (conditions.joined(separator: " AND "), params)
        if from < months.first { plan.scans.append(cohort(from, months.first, filter)) }
        if months.end < to { plan.scans.append(cohort(months.end, to, filter)) }
        return plan
    }

    /// The whole calendar months inside `[from, to)`: the first one's first day and the day after
    /// the last one (`nil` when there is none).
    static func wholeMonths(from: LocalDay, to: LocalDay) -> (first: LocalDay, end: LocalDay)? {
        var first = LocalDay(from.year, from.month, 1)
        if first < from { first = first.adding(days: 32); first = LocalDay(first.year, first.month, 1) }
        let end = LocalDay(to.year, to.month, 1)
        return first < end ? (first, end) : nil
    }

    /// The totals of the tickets opened in `[from, to)` that match `filter`, and their breakdowns:
    /// sums per (category, product, module, group) in one query — from the cohort counters and
    /// the tickets of ``cohortPlan(from:to:filter:)`` — added up here into the totals and
    /// each breakdown (most opened first, then by key, as the rollup path orders them).
    public static func cohortTotals(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay, filter: MetricsFilter) throws
        -> (MetricTotals, [Breakdown: [(key: String, totals: MetricTotals)]]) {
        let plan = cohortPlan(from: from, to: to, filter: filter)
        var parts: [String] = [], params: [SQLValue] = []
        if let counters = plan.counters {
            parts.append("""
                SELECT c.category AS category, c.product AS product, c.module AS module, c.group_id AS group_id, \(Self.counterColumns("c"))
                FROM wf_metric_cohort c WHERE \(counters.sql)
                """)
            params += counters.params
        }
        for scan in plan.scans {
            parts.append("""
                SELECT t.category AS category, t.product AS product, t.module AS module, t.group_id AS group_id,
                       COUNT(*) AS opened, SUM(1 - t.is_open) AS finished, SUM(t.reopens) AS reopened,
                       COUNT(t.first_response_wall_ms) AS fr_count, SUM(t.first_response_wall_ms) AS fr_wall_ms,
                       SUM(t.first_response_business_ms) AS fr_business_ms, SUM(t.first_response_met) AS fr_met,
                       COUNT(t.resolution_wall_ms) AS res_count, SUM(t.resolution_wall_ms) AS res_wall_ms,
                       SUM(t.resolution_business_ms) AS res_business_ms, SUM(t.resolution_met) AS res_met,
                       SUM(t.transfers) AS transfers, SUM(t.ping_pongs) AS ping_pongs,
                       COUNT(t.survey_score) AS survey_count, SUM(t.survey_score) AS survey_sum
                FROM wf_metric_tickets t WHERE \(scan.sql)
                GROUP BY t.category, t.product, t.module, t.group_id
                """)
            params += scan.params
        }
        // A key whose tickets all moved away keeps a counter row at zero: left out, as the scan finds no ticket.
        let rows = try tx.query("""
            SELECT category, product, module, group_id, \(sums) FROM (\(parts.joined(separator: "\nUNION ALL\n"))) AS r
            GROUP BY category, product, module, group_id HAVING SUM(opened) > 0
            """, params)
        var total = MetricTotals()
        var grouped: [Breakdown: [String: MetricTotals]] = [:]
        for row in rows {
            let part = try totals(row)
            total.add(part)
            let keys: [(Breakdown, String)] = [(.category, String(try row.int("category"))), (.product, try row.text("product")),
                                               (.module, try row.text("module")), (.group, try row.text("group_id"))]
            for (breakdown, key) in keys { grouped[breakdown, default: [:]][key, default: MetricTotals()].add(part) }
        }
        let ordered = grouped.mapValues { byKey in
            byKey.map { (key: $0.key, totals: $0.value) }.sorted { ($1.totals.opened, $0.key) < ($0.totals.opened, $1.key) }
        }
        return (total, ordered)
    }

    /// The counter columns of alias `alias`, named as themselves.
    private static func counterColumns(_ alias: String) -> String {
        MetricsRecorder.Counter.allCases.map { "\(alias).\($0.rawValue) AS \($0.rawValue)" }.joined(separator: ", ")
    }

    /// Completed stays per stage of the tickets opened in `[from, to)` that match `filter`
    /// (``StageTime``: exits are stays left), from the cohort stage counters and the tickets of
    /// ``cohortPlan(from:to:filter:)``.
    public static func cohortStageTime(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay, filter: MetricsFilter) throws -> [StageTime] {
        let plan = cohortPlan(from: from, to: to, filter: filter)
        var parts: [String] = [], params: [SQLValue] = []
        if let counters = plan.counters {
            parts.append("""
                SELECT c.stage AS stage, c.exits AS exits, c.wall_ms AS wall, c.business_ms AS business
                FROM wf_metric_cohort_stage c WHERE \(counters.sql)
                """)
            params += counters.params
        }
        for scan in plan.scans {
            parts.append("""
                SELECT s.stage AS stage, SUM(s.entries) AS exits, SUM(s.wall_ms) AS wall, SUM(s.business_ms) AS business
                FROM wf_metric_tickets t JOIN wf_metric_stage_time s ON s.ticket_id = t.ticket_id
                WHERE \(scan.sql) GROUP BY s.stage
                """)
            params += scan.params
        }
        return try tx.query("""
            SELECT stage, SUM(exits) AS exits, SUM(wall) AS wall, SUM(business) AS business FROM (\(parts.joined(separator: "\nUNION ALL\n"))) AS r
            GROUP BY stage HAVING SUM(exits) > 0 ORDER BY stage
            """, params).map { row in
            let exits = try row.int("exits")
            return StageTime(stage: try row.text("stage"), exits: exits, averageWallMs: exits == 0 ? 0 : try row.int("wall") / exits,
                             averageBusinessMs: exits == 0 ? 0 : try row.int("business") / exits)
        }
    }

    /// The matching tickets open at `now`, per stage and age (the ages of ``backlog(_:now:calendar:)``).
    public static func filteredBacklog(_ tx: any SQLExecutor, now: Int64, filter: MetricsFilter, calendar: BusinessCalendar = .default) throws -> [BacklogRow] {
        let predicate = filter.predicate()
        return try openTickets(tx, now: now, calendar: calendar, where: "\(predicate.sql) AND t.is_open = 1", predicate.params)
    }

    /// The tickets of `wf_metric_tickets` alias `t` matching `condition` (with `params`), per
    /// stage and age at `now` (the ages of ``backlog(_:now:calendar:)``), by stage.
    private static func openTickets(_ tx: any SQLExecutor, now: Int64, calendar: BusinessCalendar, where condition: String,
                                    _ params: [SQLValue]) throws -> [BacklogRow] {
        let today = Int64(calendar.localDay(of: now).dayNumber)
        return try tx.query("""
            SELECT t.stage AS stage, COUNT(*) AS total,
                   SUM(CASE WHEN t.opened_day >= ? THEN 1 ELSE 0 END) AS a0,
                   SUM(CASE WHEN t.opened_day < ? AND t.opened_day >= ? THEN 1 ELSE 0 END) AS a1,
                   SUM(CASE WHEN t.opened_day < ? AND t.opened_day >= ? THEN 1 ELSE 0 END) AS a2,
                   SUM(CASE WHEN t.opened_day < ? AND t.opened_day >= ? THEN 1 ELSE 0 END) AS a3,
                   SUM(CASE WHEN t.opened_day < ? THEN 1 ELSE 0 END) AS a4
            FROM wf_metric_tickets t WHERE \(condition) GROUP BY t.stage ORDER BY t.stage
            """, [.integer(today), .integer(today), .integer(today - 2), .integer(today - 2), .integer(today - 6),
                  .integer(today - 6), .integer(today - 29), .integer(today - 29)] + params).map { row in
            BacklogRow(stage: try row.text("stage"), count: try row.int("total"),
                       byAge: try ["a0", "a1", "a2", "a3", "a4"].map { try row.int($0) })
        }
    }
}

extension MetricTotals {
    /// Adds `other`'s sums and counts to these.
    mutating func add(_ other: MetricTotals) {
        opened += other.opened
        finished += other.finished
        reopened += other.reopened
        firstResponses += other.firstResponses
        firstResponseWallMs += other.firstResponseWallMs
        firstResponseBusinessMs += other.firstResponseBusinessMs
        firstResponseMet += other.firstResponseMet
        resolutions += other.resolutions
        resolutionWallMs += other.resolutionWallMs
        resolutionBusinessMs += other.resolutionBusinessMs
        resolutionMet += other.resolutionMet
        transfers += other.transfers
        pingPongs += other.pingPongs
        surveys += other.surveys
        surveyScoreSum += other.surveyScoreSum
    }
}
