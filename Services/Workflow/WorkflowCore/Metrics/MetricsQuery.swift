import Foundation
import Messages
import Storage

/// Sums over a period, from `wf_metric_daily`.
public struct MetricTotals: Sendable, Hashable {
    public var opened: Int64 = 0
    public var finished: Int64 = 0
    public var reopened: Int64 = 0
    public var firstResponses: Int64 = 0
    public var firstResponseWallMs: Int64 = 0
    public var firstResponseBusinessMs: Int64 = 0
    public var firstResponseMet: Int64 = 0
    public var resolutions: Int64 = 0
    public var resolutionWallMs: Int64 = 0
    public var resolutionBusinessMs: Int64 = 0
    public var resolutionMet: Int64 = 0
    public var transfers: Int64 = 0
    public var pingPongs: Int64 = 0
    public var surveys: Int64 = 0
    public var surveyScoreSum: Int64 = 0

    public init() {}

    public var averageFirstResponseWallMs: Int64 { firstResponses == 0 ? 0 : firstResponseWallMs / firstResponses }
    public var averageFirstResponseBusinessMs: Int64 { firstResponses == 0 ? 0 : firstResponseBusinessMs / firstResponses }
    public var averageResolutionWallMs: Int64 { resolutions == 0 ? 0 : resolutionWallMs / resolutions }
    public var averageResolutionBusinessMs: Int64 { resolutions == 0 ? 0 : resolutionBusinessMs / resolutions }
    /// Share of SLA targets met (first responses and resolutions together), 0–100.
    public var slaMetPercent: Double {
        let total = firstResponses + resolutions
        return total == 0 ? 100 : Double(firstResponseMet + resolutionMet) * 100 / Double(total)
    }
    /// Reopenings per finished ticket, 0–100.
    public var reopenPercent: Double { finished == 0 ? 0 : Double(reopened) * 100 / Double(finished) }
    public var averageSurveyScore: Double { surveys == 0 ? 0 : Double(surveyScoreSum) / Double(surveys) }
}

/// Open tickets in one stage, by age since opening.
public struct BacklogRow: Sendable, Hashable {
    public var stage: String
    public var count: Int64
    /// Counts opened today, 1–2, 3–6, 7–29 and 30 or more days ago.
    public var byAge: [Int64]
}

/// Time spent in a stage by tickets that left it during the period.
public struct StageTime: Sendable, Hashable {
    public var stage: String
    public var exits: Int64
    public var averageWallMs: Int64
    /// Business time of the default calendar.
    public var averageBusinessMs: Int64
}

/// A period's metrics.
public struct MetricsReport: Sendable, Hashable {
    public var fromDay: LocalDay
    public var toDay: LocalDay
    public var totals: MetricTotals
    public var byCategory: [(key: String, totals: MetricTotals)]
    public var byProduct: [(key: String, totals: MetricTotals)]
    public var byModule: [(key: String, totals: MetricTotals)]
    public var byGroup: [(key: String, totals: MetricTotals)]
    public var stageTime: [StageTime]
    public var backlog: [BacklogRow]
    /// `totals.finished` by outcome, most first (``MetricsQuery/outcomes(_:from:to:)``,
    /// ``MetricsQuery/cohortOutcomes(_:from:to:filter:)``).
    public var byOutcome: [(outcome: String, finished: Int64)] = []

    public static func == (lhs: MetricsReport, rhs: MetricsReport) -> Bool {
        lhs.totals == rhs.totals && lhs.stageTime == rhs.stageTime && lhs.backlog == rhs.backlog
            && lhs.byCategory.map(\.key) == rhs.byCategory.map(\.key)
            && lhs.byOutcome.map(\.outcome) == rhs.byOutcome.map(\.outcome) && lhs.byOutcome.map(\.finished) == rhs.byOutcome.map(\.finished)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(totals) }
}

/// Reads metrics from the fact tables that ``MetricsRecorder`` maintains.
///
/// ```swift
/// let march = try database.read { tx in
///     try MetricsQuery.report(tx, from: LocalDay(2027, 3, 1), to: LocalDay(2027, 4, 1), now: now)
/// }
/// march.totals.slaMetPercent
/// ```
public enum MetricsQuery {
    /// Dimensions a report can break totals down by (column names from a closed set).
    public enum Breakdown: String, Sendable, CaseIterable {
        case category, product, module, group
    }

    static let sums = MetricsRecorder.Counter.allCases.map { "SUM(\($0.rawValue)) AS \($0.rawValue)" }.joined(separator: ", ")

    static let counters = MetricsRecorder.Counter.allCases.map(\.rawValue).joined(separator: ", ")

    /// Rows of dimension `dim` covering days `[from, to)`: whole months from `wf_metric_monthly`,
    /// the days before the first and after the last whole month from `wf_metric_daily`.
    static func source(dim: String, from: LocalDay, to: LocalDay) -> (sql: String, params: [SQLValue]) {
        let params: [SQLValue]
        if case let (firstMonth, lastMonth)? = wholeMonths(from: from, to: to) {
            params = [.text(dim), .integer(Int64(firstMonth.year * 12 + firstMonth.month - 1)), .integer(Int64(lastMonth.year * 12 + lastMonth.month - 1)),
                      .text(dim), .integer(Int64(from.dayNumber)), .integer(Int64(firstMonth.dayNumber)),
                      .text(dim), .integer(Int64(lastMonth.dayNumber)), .integer(Int64(to.dayNumber))]
        } else {
            params = [.text(dim), .integer(0), .integer(0),
                      .text(dim), .integer(Int64(from.dayNumber)), .integer(Int64(to.dayNumber)),
                      .text(dim), .integer(0), .integer(0)]
        }
        let sql = """
            SELECT key, \(counters) FROM wf_metric_monthly WHERE dim = ? AND month >= ? AND month < ?
            UNION ALL SELECT key, \(counters) FROM wf_metric_daily WHERE dim = ? AND day >= ? AND day < ?
            UNION ALL SELECT key, \(counters) FROM wf_metric_daily WHERE dim = ? AND day >= ? AND day < ?
            """
        return (sql, params)
    }

    /// The totals of days `[from, to)`.
    public static func totals(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay) throws -> MetricTotals {
        let source = source(dim: "all", from: from, to: to)
        guard let row = try tx.queryOne("SELECT \(sums) FROM (\(source.sql)) AS r", source.params) else { return MetricTotals() }
        return try totals(row)
    }

    /// The totals of days `[from, to)` per value of `breakdown`, most opened first.
    public static func totals(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay, by breakdown: Breakdown) throws -> [(key: String, totals: MetricTotals)] {
        let source = source(dim: breakdown.rawValue, from: from, to: to)
        return try tx.query("SELECT key, \(sums) FROM (\(source.sql)) AS r GROUP BY key ORDER BY SUM(opened) DESC, key", source.params).map { row in
            (try row.text("key"), try totals(row))
        }
    }

    /// Open tickets per stage and age at `now` (age in whole local days since opening: 0, 1–2,
    /// 3–6, 7–29, 30 and more), from `wf_metric_backlog`.
    public static func backlog(_ tx: any SQLExecutor, now: Int64, calendar: BusinessCalendar = .default) throws -> [BacklogRow] {
        let today = Int64(calendar.localDay(of: now).dayNumber)
        return try tx.query("""
            SELECT stage, SUM(open_count) AS total,
                   SUM(CASE WHEN opened_day >= ? THEN open_count ELSE 0 END) AS a0,
                   SUM(CASE WHEN opened_day < ? AND opened_day >= ? THEN open_count ELSE 0 END) AS a1,
                   SUM(CASE WHEN opened_day < ? AND opened_day >= ? THEN open_count ELSE 0 END) AS a2,
                   SUM(CASE WHEN opened_day < ? AND opened_day >= ? THEN open_count ELSE 0 END) AS a3,
                   SUM(CASE WHEN opened_day < ? THEN open_count ELSE 0 END) AS a4
            FROM wf_metric_backlog GROUP BY stage HAVING SUM(open_count) > 0 ORDER BY stage
            """, [.integer(today), .integer(today), .integer(today - 2), .integer(today - 2), .integer(today - 6),
                  .integer(today - 6), .integer(today - 29), .integer(today - 29)]).map { row in
            BacklogRow(stage: try row.text("stage"), count: try row.int("total"),
                       byAge: try ["a0", "a1", "a2", "a3", "a4"].map { try row.int($0) })
        }
    }

    /// Average time per stage for tickets that left it in days `[from, to)`.
    public static func stageTime(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay) throws -> [StageTime] {
        try tx.query("""
            SELECT stage, SUM(exits) AS exits, SUM(wall_ms) AS wall, SUM(business_ms) AS business FROM wf_metric_daily_stage
            WHERE day >= ? AND day < ? GROUP BY stage ORDER BY stage
            """, [.integer(Int64(from.dayNumber)), .integer(Int64(to.dayNumber))]).map { row in
            let exits = try row.int("exits")
            return StageTime(stage: try row.text("stage"), exits: exits, averageWallMs: exits == 0 ? 0 : try row.int("wall") / exits,
                             averageBusinessMs: exits == 0 ? 0 : try row.int("business") / exits)
        }
    }

    /// Everything for days `[from, to)` plus the backlog at `now`.
    public static func report(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay, now: Int64) throws -> MetricsReport {
        MetricsReport(fromDay: from, toDay: to, totals: try totals(tx, from: from, to: to),
                      byCategory: try totals(tx, from: from, to: to, by: .category),
                      byProduct: try totals(tx, from: from, to: to, by: .product),
                      byModule: try totals(tx, from: from, to: to, by: .module),
                      byGroup: try totals(tx, from: from, to: to, by: .group),
                      stageTime: try stageTime(tx, from: from, to: to), backlog: try backlog(tx, now: now),
                      byOutcome: try outcomes(tx, from: from, to: to))
    }

    static func totals(_ row: Row) throws -> MetricTotals {
        func value(_ counter: MetricsRecorder.Counter) throws -> Int64 { try row.optionalInt(counter.rawValue) ?? 0 }
        var totals = MetricTotals()
        totals.opened = try value(.opened)
        totals.finished = try value(.finished)
        totals.reopened = try value(.reopened)
        totals.firstResponses = try value(.frCount)
        totals.firstResponseWallMs = try value(.frWall)
        totals.firstResponseBusinessMs = try value(.frBusiness)
        totals.firstResponseMet = try value(.frMet)
        totals.resolutions = try value(.resCount)
        totals.resolutionWallMs = try value(.resWall)
        totals.resolutionBusinessMs = try value(.resBusiness)
        totals.resolutionMet = try value(.resMet)
        totals.transfers = try value(.transfers)
        totals.pingPongs = try value(.pingPongs)
        totals.surveys = try value(.surveyCount)
        totals.surveyScoreSum = try value(.surveySum)
        return totals
    }
}

/// Streams ticket facts as CSV, page by page (keyset on opening time and id), with no row cap.
///
/// ```swift
/// var cursor: MetricsExport.Cursor? = nil
/// repeat {
///     let page = try database.read { tx in try MetricsExport.page(tx, from: a, to: b, after: cursor, limit: 1000) }
///     send(page.csv)
///     cursor = page.next
/// } while cursor != nil
/// ```
public enum MetricsExport {
    public struct Cursor: Sendable, Hashable {
        public var openedAt: Int64
        public var ticketID: String

        public init(openedAt: Int64, ticketID: String) {
            self.openedAt = openedAt
            self.ticketID = ticketID
        }

        /// `"<openedAt>:<ticketID>"`, for page tokens.
        public var token: String { "\(openedAt):\(ticketID)" }

        public init?(token: String) {
            guard let colon = token.firstIndex(of: ":"), let at = Int64(token[..<colon]) else { return nil }
            self.init(openedAt: at, ticketID: String(token[token.index(after: colon)...]))
        }
    }

    public static let columns = [
        "ticket_id", "opened_at", "organization_id", "category", "product", "module", "priority", "plan", "group_id", "agent_id",
        "stage", "finished_at", "first_response_wall_ms", "first_response_business_ms", "first_response_met",
        "resolution_wall_ms", "resolution_business_ms", "resolution_met", "transfers", "ping_pongs", "reopens", "survey_score",
        // How it ended (the key, `resolvida_configuracao`; empty while open): last, so earlier columns keep their places.
        "outcome",
    ]

    /// The columns after ``columns``, appended (since 2026-12-02) so a reader by position keeps its
    /// columns: what people read of the coded ones, in Portuguese and in English.
    public static let labelColumns = ["category_label", "category_label_en", "priority_label", "priority_label_en",
                                      "stage_name", "stage_name_en", "outcome_label", "outcome_label_en"]

    /// The names of the stages the metrics name by code, by code: the flows' (Portuguese and
    /// English, ``StageDefinition/nameEN``), else a shipped flow's, else the code itself.
    public struct StageNames: Sendable {
        public var portuguese: [String: String]
        public var english: [String: String]

        public init(portuguese: [String: String] = [:], english: [String: String] = [:]) {
            self.portuguese = portuguese
            self.english = english
        }

        /// The shipped flows' (``FlowPresets``), the first flow's name winning.
        public static let shipped: StageNames = {
            var names = StageNames()
            for stage in FlowPresets.all.flatMap(\.stages) where names.portuguese[stage.key] == nil {
                names.portuguese[stage.key] = stage.name
                names.english[stage.key] = stage.nameEN
            }
            return names
        }()

        /// `code`'s names in Portuguese and in English.
        public func names(_ code: String) -> (portuguese: String, english: String) {
            if let name = portuguese[code] { return (name, english[code] ?? name) }
            if let name = Self.shipped.portuguese[code] { return (name, Self.shipped.english[code] ?? name) }
            return (code, code)
        }
    }

    /// The header line.
    public static var header: String { (columns + labelColumns).joined(separator: ",") + "\r\n" }

    /// Up to `limit` tickets opened in `[from, to)` (epoch ms) after `cursor`, matching `filter`'s
    /// group, product and holder, at or below `maxAccessLevel` or held by `holder` (the caller's
    /// own tickets, which their report counts too; `""`: none), as CSV lines (no header), and the
    /// cursor of the next page (`nil` at the end).
    public static func page(_ tx: any SQLExecutor, from: Int64, to: Int64, after cursor: Cursor?, limit: Int,
                            maxAccessLevel: Int32 = Int32.max, holder: String = "",
                            filter: MetricsFilter = MetricsFilter(), stages: StageNames = .shipped) throws -> (csv: String, rows: Int, next: Cursor?) {
        var sql = "SELECT \(columns.joined(separator: ", ")), access_level FROM wf_metric_tickets WHERE opened_at >= ? AND opened_at < ?"
        var params: [SQLValue] = [.integer(from), .integer(to)]
        // The dimensions in SQL (pages still walk the (opened_at, ticket_id) index, skipping the others).
        for (column, value) in [("group_id", filter.groupID), ("product", filter.product), ("agent_id", filter.agentID)] where !value.isEmpty {
            sql += " AND \(column) = ?"
            params.append(.text(value))
        }
        if let cursor {
            // A row-value comparison, so both engines seek the (opened_at, ticket_id) index.
            sql += " AND (opened_at, ticket_id) > (?, ?)"
            params += [.integer(cursor.openedAt), .text(cursor.ticketID)]
        }
        sql += " ORDER BY opened_at, ticket_id LIMIT ?"
        params.append(.integer(Int64(limit)))
        let rows = try tx.query(sql, params)
        var csv = ""
        // Filtered here rather than in SQL so pages stay on the (opened_at, ticket_id) index.
        for row in rows where try row.int("access_level") <= Int64(maxAccessLevel) || (!holder.isEmpty && row.s("agent_id") == holder) {
            let category = CommonV1.Category(rawValue: Int32(clamping: try row.int("category"))) ?? .unspecified
            let priority = CommonV1.Priority(rawValue: Int32(clamping: try row.int("priority"))) ?? .unspecified
            let stage = stages.names(row.s("stage")), outcome = row.s("outcome")
            let labels = [category.label(), category.label(.english), priority.label(), priority.label(.english), stage.portuguese, stage.english,
                          TicketOutcome.label(outcome), TicketOutcome.label(outcome, .english)].map { field(.text($0)) }
            csv += (row.values.dropLast().enumerated().map { field(named($1, column: $0)) } + labels).joined(separator: ",") + "\r\n"
        }
        let next = rows.count < limit ? nil : try rows.last.map { Cursor(openedAt: try $0.int("opened_at"), ticketID: try $0.text("ticket_id")) }
        return (csv, rows.count, next)
    }

    static let categoryColumn = columns.firstIndex(of: "category") ?? -1
    static let priorityColumn = columns.firstIndex(of: "priority") ?? -1

    /// The category and priority (stored as the enums' numbers) by their `.proto` names, as the
    /// API and the queue's CSV write them (`PROBLEMA`, `URGENTE`): a spreadsheet read "1" and "3".
    static func named(_ value: SQLValue, column: Int) -> SQLValue {
        guard case .integer(let number) = value, let raw = Int32(exactly: number) else { return value }
        if column == categoryColumn, let category = CommonV1.Category(rawValue: raw) { return .text(category.protoName) }
        if column == priorityColumn, let priority = CommonV1.Priority(rawValue: raw) { return .text(priority.protoName) }
        return value
    }

    /// One CSV field (``CSVCell``: RFC 4180 quoting, formulas kept from running in a spreadsheet).
    static func field(_ value: SQLValue) -> String {
        switch value {
        case .null: return ""
        case .integer(let number): return String(number)
        case .real(let number): return String(number)
        case .blob: return ""
        case .text(let text): return CSVCell.text(text)
        }
    }
}

extension MetricsExport {
    /// A report as CSV: one line per section and key (totals, each breakdown, time per stage,
    /// backlog), with every figure of ``MetricTotals``. Keys are codes (a category's number, a
    /// stage's key); since 2026-12-02 each line ends with what people read of its key in
    /// Portuguese and in English (`label,label_en`; `stage_name,stage_name_en`), after the
    /// figures, so a reader by position keeps its columns.
    public static func csv(_ report: MetricsReport, stages: StageNames = .shipped) -> String {
        var lines = ["section,key,opened,finished,reopened,first_responses,avg_first_response_wall_ms,avg_first_response_business_ms,"
                     + "resolutions,avg_resolution_wall_ms,avg_resolution_business_ms,sla_met_percent,reopen_percent,transfers,ping_pongs,"
                     + "surveys,avg_survey_score,label,label_en"]
        func line(_ section: String, _ key: String, _ t: MetricTotals) -> String {
            let figures: [String] = [String(t.opened), String(t.finished), String(t.reopened), String(t.firstResponses),
                                     String(t.averageFirstResponseWallMs), String(t.averageFirstResponseBusinessMs), String(t.resolutions),
                                     String(t.averageResolutionWallMs), String(t.averageResolutionBusinessMs),
                                     String(format: "%.2f", t.slaMetPercent), String(format: "%.2f", t.reopenPercent),
                                     String(t.transfers), String(t.pingPongs), String(t.surveys), String(format: "%.2f", t.averageSurveyScore)]
            // Products, modules and groups are named by their data (the key itself).
            let labels: (String, String) = switch section {
            case "total": ("Total", "Total")
            case "category": Int32(key).flatMap(CommonV1.Category.init(rawValue:)).map { ($0.label(), $0.label(.english)) } ?? (key, key)
            default: (key, key)
            }
            return ([section, field(.text(key))] + figures + [field(.text(labels.0)), field(.text(labels.1))]).joined(separator: ",")
        }
        lines.append(line("total", "", report.totals))
        for (section, rows) in [("category", report.byCategory), ("product", report.byProduct), ("module", report.byModule), ("group", report.byGroup)] {
            for row in rows { lines.append(line(section, row.key, row.totals)) }
        }
        lines.append("")
        // The English label last (added after the others: a reader by position keeps its columns).
        lines.append("section,outcome,outcome_label,finished,outcome_label_en")
        for row in report.byOutcome {
            lines.append("outcome,\(field(.text(row.outcome))),\(field(.text(TicketOutcome.label(row.outcome)))),\(row.finished),"
                         + field(.text(TicketOutcome.label(row.outcome, .english))))
        }
        lines.append("")
        func stageNames(_ code: String) -> String {
            let names = stages.names(code)
            return field(.text(names.portuguese)) + "," + field(.text(names.english))
        }
        lines.append("section,stage,exits,avg_wall_ms,avg_business_ms,stage_name,stage_name_en")
        for row in report.stageTime {
            lines.append("stage_time,\(field(.text(row.stage))),\(row.exits),\(row.averageWallMs),\(row.averageBusinessMs),\(stageNames(row.stage))")
        }
        lines.append("")
        lines.append("section,stage,open,age_0d,age_1_2d,age_3_6d,age_7_29d,age_30d_plus,stage_name,stage_name_en")
        for row in report.backlog {
            lines.append((["backlog", field(.text(row.stage)), String(row.count)] + row.byAge.map(String.init) + [stageNames(row.stage)])
                .joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
