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
            parts.append("(t.access_level <= ? OR t.agent_id = ?)")
            params += [.integer(Int64(visibleTo.level)), .text(visibleTo.agentID)]
        }
        return (parts.isEmpty ? "1 = 1" : parts.joined(separator: " AND "), params)
    }
}

/// A filtered report, read from the per-ticket facts (`wf_metric_tickets`,
/// `wf_metric_stage_time`) instead of the daily rollups, which are kept per single dimension.
///
/// The report covers the **cohort** of tickets opened in the period that match the filter:
/// totals and breakdowns are those tickets' figures as they stand now (finished, first response
/// and resolution times, SLA met, reopenings, transfers, survey score); time per stage is their
/// completed stays; the backlog is the matching tickets open now. Each query seeks one of the
/// indexes of migration 180 (`(group_id | product | agent_id, is_open, opened_day)`), so the rows
/// read are the matching tickets of the period, not the whole table.
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
    public static func report(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay, now: Int64, filter: MetricsFilter,
                              calendar: BusinessCalendar = .default) throws -> MetricsReport {
        if filter.isEmpty { return try report(tx, from: from, to: to, now: now) }
        let (totals, breakdowns) = try cohortTotals(tx, from: from, to: to, filter: filter)
        return MetricsReport(fromDay: from, toDay: to, totals: totals,
                             byCategory: breakdowns[.category] ?? [], byProduct: breakdowns[.product] ?? [],
                             byModule: breakdowns[.module] ?? [], byGroup: breakdowns[.group] ?? [],
                             stageTime: try cohortStageTime(tx, from: from, to: to, filter: filter),
                             backlog: try filteredBacklog(tx, now: now, filter: filter, calendar: calendar))
    }

    /// The cohort predicate: the filter, and opened in `[from, to)`.
    private static func cohort(_ from: LocalDay, _ to: LocalDay, _ filter: MetricsFilter) -> (sql: String, params: [SQLValue]) {
        let base = filter.predicate()
        return (base.sql + " AND t.is_open IN (0, 1) AND t.opened_day >= ? AND t.opened_day < ?",
                base.params + [.integer(Int64(from.dayNumber)), .integer(Int64(to.dayNumber))])
    }

    /// The totals of the tickets opened in `[from, to)` that match `filter`, and their breakdowns:
    /// sums per (category, product, module, group) in one query, added up here into the totals
    /// and each breakdown (most opened first, then by key, as the rollup path orders them).
    public static func cohortTotals(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay, filter: MetricsFilter) throws
        -> (MetricTotals, [Breakdown: [(key: String, totals: MetricTotals)]]) {
        let predicate = cohort(from, to, filter)
        let rows = try tx.query("""
            SELECT t.category AS category, t.product AS product, t.module AS module, t.group_id AS group_id,
                   COUNT(*) AS opened, SUM(1 - t.is_open) AS finished, SUM(t.reopens) AS reopened,
                   COUNT(t.first_response_wall_ms) AS fr_count, SUM(t.first_response_wall_ms) AS fr_wall_ms,
                   SUM(t.first_response_business_ms) AS fr_business_ms, SUM(t.first_response_met) AS fr_met,
                   COUNT(t.resolution_wall_ms) AS res_count, SUM(t.resolution_wall_ms) AS res_wall_ms,
                   SUM(t.resolution_business_ms) AS res_business_ms, SUM(t.resolution_met) AS res_met,
                   SUM(t.transfers) AS transfers, SUM(t.ping_pongs) AS ping_pongs,
                   COUNT(t.survey_score) AS survey_count, SUM(t.survey_score) AS survey_sum
            FROM wf_metric_tickets t WHERE \(predicate.sql)
            GROUP BY t.category, t.product, t.module, t.group_id
            """, predicate.params)
        var total = MetricTotals()
        var sums: [Breakdown: [String: MetricTotals]] = [:]
        for row in rows {
            let part = try totals(row)
            total.add(part)
            let keys: [(Breakdown, String)] = [(.category, String(try row.int("category"))), (.product, try row.text("product")),
                                               (.module, try row.text("module")), (.group, try row.text("group_id"))]
            for (breakdown, key) in keys { sums[breakdown, default: [:]][key, default: MetricTotals()].add(part) }
        }
        let ordered = sums.mapValues { byKey in
            byKey.map { (key: $0.key, totals: $0.value) }.sorted { ($1.totals.opened, $0.key) < ($0.totals.opened, $1.key) }
        }
        return (total, ordered)
    }

    /// Completed stays per stage of the tickets opened in `[from, to)` that match `filter`
    /// (``StageTime``: exits are stays left).
    public static func cohortStageTime(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay, filter: MetricsFilter) throws -> [StageTime] {
        let predicate = cohort(from, to, filter)
        return try tx.query("""
            SELECT s.stage AS stage, SUM(s.entries) AS exits, SUM(s.wall_ms) AS wall, SUM(s.business_ms) AS business
            FROM wf_metric_tickets t JOIN wf_metric_stage_time s ON s.ticket_id = t.ticket_id
            WHERE \(predicate.sql) GROUP BY s.stage ORDER BY s.stage
            """, predicate.params).map { row in
            let exits = try row.int("exits")
            return StageTime(stage: try row.text("stage"), exits: exits, averageWallMs: exits == 0 ? 0 : try row.int("wall") / exits,
                             averageBusinessMs: exits == 0 ? 0 : try row.int("business") / exits)
        }
    }

    /// The matching tickets open at `now`, per stage and age (the ages of ``backlog(_:now:calendar:)``).
    public static func filteredBacklog(_ tx: any SQLExecutor, now: Int64, filter: MetricsFilter, calendar: BusinessCalendar = .default) throws -> [BacklogRow] {
        let today = Int64(calendar.localDay(of: now).dayNumber)
        let predicate = filter.predicate()
        return try tx.query("""
            SELECT t.stage AS stage, COUNT(*) AS total,
                   SUM(CASE WHEN t.opened_day >= ? THEN 1 ELSE 0 END) AS a0,
                   SUM(CASE WHEN t.opened_day < ? AND t.opened_day >= ? THEN 1 ELSE 0 END) AS a1,
                   SUM(CASE WHEN t.opened_day < ? AND t.opened_day >= ? THEN 1 ELSE 0 END) AS a2,
                   SUM(CASE WHEN t.opened_day < ? AND t.opened_day >= ? THEN 1 ELSE 0 END) AS a3,
                   SUM(CASE WHEN t.opened_day < ? THEN 1 ELSE 0 END) AS a4
            FROM wf_metric_tickets t WHERE \(predicate.sql) AND t.is_open = 1 GROUP BY t.stage ORDER BY t.stage
            """, [.integer(today), .integer(today), .integer(today - 2), .integer(today - 2), .integer(today - 6),
                  .integer(today - 6), .integer(today - 29), .integer(today - 29)] + predicate.params).map { row in
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
