// Loads N tickets (default 1,000,000) of realistic metrics facts into the workflow time tables on
// SQLite and PostgreSQL, then measures a month's metrics report (p50/p95), a month's CSV export and
// the cost of one SLA recomputation; and the month's report filtered by group, product or holder
// (cohort counters for whole months, per-ticket facts otherwise). Prints figures; asserts nothing. See docs/BENCHMARKS-workflow-time.md.
//   swift build -c release --product workflow-time-bench
//   .build/release/workflow-time-bench [--tickets 1000000] [--engine sqlite|postgres|both] [--runs 50] [--write-events 2000]
import Foundation
import Storage
import TestSupport
import WorkflowCore

func option(_ name: String) -> String? {
    CommandLine.arguments.firstIndex(of: name).flatMap { $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil }
}
let ticketCount = option("--tickets").flatMap(Int.init) ?? 1_000_000
let engines: [DatabaseEngine] = {
    switch option("--engine") ?? "both" {
    case "sqlite": [.sqlite]
    case "postgres": [.postgres]
    default: [.sqlite, .postgres]
    }
}()
let runs = option("--runs").flatMap(Int.init) ?? 50
let writeEvents = option("--write-events").flatMap(Int.init) ?? 2000

extension SplitMix64 {
    /// True `percent` times in a hundred.
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

let calendar = BusinessCalendar.default
let minute: Int64 = 60_000
let hour: Int64 = 3_600_000
let day: Int64 = 86_400_000
let end = calendar.instant(of: LocalDay(2027, 7, 1), minute: 0)
let start = end - 730 * day  // two years of tickets
let products = ["RM", "Protheus", "Datasul", "Logix", "Winthor", "Fluig", "Consinco", "Cloud"]
let modules = ["Folha", "Fiscal", "Financeiro", "Estoque", "Compras", "Contábil"]
let stagesOpen = ["aguardando_atendimento", "em_atendimento", "aguardando_cliente", "diagnostico_tecnico", "analise_produto", "para_desenvolver"]

/// User + system CPU time of this process so far (SQLite runs in it; PostgreSQL's work is in its server).
func processCPUMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

func load(_ database: any Database) throws {
    var random = SplitMix64(state: 7)
    var daily: [String: [Int64]] = [:]  // "dim|day|key" → 15 counters, in MetricsRecorder.Counter order
    var stageDaily: [String: (Int64, Int64)] = [:]
    var backlog: [String: Int64] = [:]  // "stage|opened day" → open tickets
    func bump(_ at: Int64, _ d: TicketDimensions, _ index: Int, _ value: Int64) {
        let local = calendar.localDay(of: at)
        for (dim, key) in [("all", ""), ("category", String(d.category)), ("product", d.product), ("module", d.module), ("group", d.groupID)] {
            daily["d|\(dim)|\(local.dayNumber)|\(key)", default: Array(repeating: 0, count: 15)][index] += value
            daily["m|\(dim)|\(local.year * 12 + local.month - 1)|\(key)", default: Array(repeating: 0, count: 15)][index] += value
        }
    }
    let columns = "ticket_id, opened_at, opened_day, organization_id, category, product, module, priority, plan, group_id, agent_id, access_level, stage, stage_entered_at, is_open, finished_at, first_response_wall_ms, first_response_business_ms, first_response_met, resolution_wall_ms, resolution_business_ms, resolution_met, transfers, ping_pongs, reopens, survey_score"
    let width = 26
    let perStatement = 200
    let perTransaction = 20_000
    let began = Date()
    var index = 0
    while index < ticketCount {
        let batchEnd = min(ticketCount, index + perTransaction)
        try database.write { tx in
            var rows: [SQLValue] = []
            // Per ticket and stage left: (ticket_id, stage, wall_ms, business_ms, entries).
            var stageRows: [SQLValue] = []
            func flush() throws {
                guard !rows.isEmpty else { return }
                let count = rows.count / width
                let tuple = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
                try tx.execute("INSERT INTO wf_metric_tickets (\(columns)) VALUES " + Array(repeating: tuple, count: count).joined(separator: ", "), rows)
                rows.removeAll(keepingCapacity: true)
                guard !stageRows.isEmpty else { return }
                try tx.execute("INSERT INTO wf_metric_stage_time (ticket_id, stage, wall_ms, business_ms, entries) VALUES "
                               + Array(repeating: "(?, ?, ?, ?, 1)", count: stageRows.count / 4).joined(separator: ", "), stageRows)
                stageRows.removeAll(keepingCapacity: true)
            }
            for i in index..<batchEnd {
                // More tickets recently (growing customer base).
                let position = Double(random.below(1_000_000)) / 1_000_000
                let openedAt = start + Int64(sqrt(position) * Double(end - start))
                let category = Int32([1, 1, 1, 1, 2, 2, 2, 3, 4, 5][random.below(10)])
                let product = products[random.below(products.count)]
                let d = TicketDimensions(organizationID: "org-\(random.below(5000))", category: category, product: product,
                                         module: "\(product)/\(modules[random.below(modules.count)])", priority: Int32(1 + random.below(4)),
                                         plan: ["basico", "premium"][random.below(2)], groupID: "g\(random.below(12))",
                                         agentID: "a\(random.below(120))", accessLevel: Int32(random.below(3)))
                let age = end - openedAt
                let isOpen = age < 30 * day ? random.chance(40) : random.chance(1)
                bump(openedAt, d, 0, 1)
                let frWall = Int64(5 + random.below(600)) * minute
                let frBusiness = min(frWall, Int64(5 + random.below(240)) * minute)
                let frMet = frBusiness <= 4 * hour
                var values: [SQLValue] = [.text(String(format: "T%07d", i)), .integer(openedAt), .integer(Int64(calendar.localDay(of: openedAt).dayNumber)),
                                          .text(d.organizationID), .integer(Int64(d.category)), .text(d.product), .text(d.module),
                                          .integer(Int64(d.priority)), .text(d.plan), .text(d.groupID), .text(d.agentID), .integer(Int64(d.accessLevel))]
                let transfers = Int64(random.below(4))
                let pingPong: Int64 = transfers >= 2 && random.chance(20) ? 1 : 0
                let reopens: Int64 = random.chance(4) ? 1 : 0
                if openedAt + frWall < end {
                    bump(openedAt + frWall, d, 3, 1); bump(openedAt + frWall, d, 4, frWall); bump(openedAt + frWall, d, 5, frBusiness)
                    bump(openedAt + frWall, d, 6, frMet ? 1 : 0)
                }
                bump(openedAt, d, 11, transfers); bump(openedAt, d, 12, pingPong)
                // The queue until the first response (every ticket).
                stageRows += [values[0], .text("aguardando_atendimento"), .integer(frWall), .integer(frBusiness)]
                if isOpen {
                    let stage = stagesOpen[random.below(stagesOpen.count)]
                    backlog["\(stage)|\(calendar.localDay(of: openedAt).dayNumber)", default: 0] += 1
                    values += [.text(stage), .integer(openedAt + frWall / 2), .integer(1), .null,
                               .integer(frWall), .integer(frBusiness), .integer(frMet ? 1 : 0), .null, .null, .null,
                               .integer(transfers), .integer(pingPong), .integer(reopens), .null]
                } else {
                    let resolutionWall = min(age - 1, Int64(1 + random.below(20 * 24)) * hour)
                    let resolutionBusiness = resolutionWall / 3
                    let met = resolutionBusiness <= 16 * hour
                    let finishedAt = openedAt + resolutionWall
                    let survey: SQLValue = random.chance(30) ? .integer(Int64(1 + random.below(5))) : .null
                    values += [.text("finalizado"), .integer(finishedAt), .integer(0), .integer(finishedAt),
                               .integer(frWall), .integer(frBusiness), .integer(frMet ? 1 : 0),
                               .integer(resolutionWall), .integer(resolutionBusiness), .integer(met ? 1 : 0),
                               .integer(transfers), .integer(pingPong), .integer(reopens), survey]
                    stageRows += [values[0], .text("em_atendimento"), .integer(resolutionWall / 2), .integer(resolutionWall / 6)]
                    bump(finishedAt, d, 1, 1); bump(finishedAt, d, 2, reopens)
                    bump(finishedAt, d, 7, 1); bump(finishedAt, d, 8, resolutionWall); bump(finishedAt, d, 9, resolutionBusiness)
                    bump(finishedAt, d, 10, met ? 1 : 0)
                    if case .integer(let score) = survey { bump(finishedAt, d, 13, 1); bump(finishedAt, d, 14, score) }
                    let stageKey = "\(calendar.localDay(of: finishedAt).dayNumber)|em_atendimento"
                    stageDaily[stageKey, default: (0, 0)].0 += 1
                    stageDaily[stageKey, default: (0, 0)].1 += resolutionWall / 2
                }
                rows += values
                if rows.count / width == perStatement { try flush() }
            }
            try flush()
        }
        index = batchEnd
        if index % 200_000 == 0 { print("  loaded \(index) tickets (\(Int(Date().timeIntervalSince(began))) s)") }
    }
    // Rollups, as MetricsRecorder would have built them event by event.
    let counterColumns = "opened, finished, reopened, fr_count, fr_wall_ms, fr_business_ms, fr_met, res_count, res_wall_ms, res_business_ms, res_met, transfers, ping_pongs, survey_count, survey_sum"
    let entries = Array(daily)
    var offset = 0
    while offset < entries.count {
        let slice = entries[offset..<min(entries.count, offset + 5_000)]
        try database.write { tx in
            for (key, counters) in slice {
                let parts = key.split(separator: "|", omittingEmptySubsequences: false)
                let table = parts[0] == "d" ? "wf_metric_daily (dim, day" : "wf_metric_monthly (dim, month"
                try tx.execute("INSERT INTO \(table), key, \(counterColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               [.text(String(parts[1])), .integer(Int64(parts[2])!), .text(String(parts[3]))] + counters.map { .integer($0) })
            }
        }
        offset += 5_000
    }
    try database.write { tx in
        for (key, count) in backlog {
            let parts = key.split(separator: "|")
            try tx.execute("INSERT INTO wf_metric_backlog (stage, opened_day, open_count) VALUES (?, ?, ?)",
                           [.text(String(parts[0])), .integer(Int64(parts[1])!), .integer(count)])
        }
        for (key, value) in stageDaily {
            let parts = key.split(separator: "|")
            try tx.execute("INSERT INTO wf_metric_daily_stage (day, stage, exits, wall_ms, business_ms) VALUES (?, ?, ?, ?, ?)",
                           [.integer(Int64(parts[0])!), .text(String(parts[1])), .integer(value.0), .integer(value.1), .integer(value.1 / 3)])
        }
    }
    if database.engine == .postgres { try database.write { tx in _ = try tx.execute("ANALYZE") } }
    print("  loaded \(ticketCount) tickets and \(daily.count) rollup rows in \(String(format: "%.1f", Date().timeIntervalSince(began))) s")
}

for engine in engines {
    print("== \(engine.rawValue): \(ticketCount) tickets")
    let scratch = try ScratchDatabase(engine)
    // Loaded before migration 180, which then runs as an upgrade would (the filtered report's
    // indexes; on SQLite the stage-time table rebuilt WITHOUT ROWID), timed.
    // (and before 190, which backfills the cohort counters from the loaded facts, when the build has it).
    let loaded = try scratch.open(migrations: WorkflowTimeMigrations.all.filter { $0.version < 190 })
    try load(loaded)
    loaded.close()
    let upgradeStart = Date()
    try scratch.open(migrations: WorkflowTimeMigrations.all.filter { $0.version < 190 } + [MetricsQuery.filterMigration]).close()
    // Then 190 (when the build has it: the same source measures the code before it).
    let later = WorkflowTimeMigrations.all.filter { $0.version >= 190 }
    print(String(format: "  migration 180 on the loaded tables (upgrade): %.1f s", Date().timeIntervalSince(upgradeStart)))
    // Migration 190 then backfills the cohort counters the filtered report reads (timed).
    let backfillStart = Date()
    let database = try scratch.open(migrations: WorkflowTimeMigrations.all + [MetricsQuery.filterMigration])
    print(String(format: "  migrations %@ (cohort counters' backfill, upgrade): %.1f s", later.map { String($0.version) }.joined(separator: ", "),
                 Date().timeIntervalSince(backfillStart)))
    if engine == .postgres { try database.write { tx in _ = try tx.execute("ANALYZE") } }
    let open = try database.read { tx in try tx.scalar("SELECT COUNT(*) FROM wf_metric_tickets WHERE is_open = 1") }
    print("  open tickets: \(open)")

    // A month's report: totals, four breakdowns, stage time, backlog.
    var latencies: [Double] = []
    var report: MetricsReport?
    for run in 0..<(runs + 5) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        report = try database.read { tx in try MetricsQuery.report(tx, from: LocalDay(2027, 5, 1), to: LocalDay(2027, 6, 1), now: end) }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        if run >= 5 { latencies.append(ms) }
    }
    print(String(format: "  month metrics report (May 2027, %lld opened): p50 %.2f ms, p95 %.2f ms", report?.totals.opened ?? 0,
                 percentile(latencies, 0.5), percentile(latencies, 0.95)))
    latencies = []
    for run in 0..<(runs + 5) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        _ = try database.read { tx in try MetricsQuery.totals(tx, from: LocalDay(2027, 5, 1), to: LocalDay(2027, 6, 1)) }
        if run >= 5 { latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
    }
    print(String(format: "  month totals only: p50 %.2f ms, p95 %.2f ms", percentile(latencies, 0.5), percentile(latencies, 0.95)))
    let parts: [(String, (any SQLExecutor) throws -> Void)] = [
        ("by module", { _ = try MetricsQuery.totals($0, from: LocalDay(2027, 5, 1), to: LocalDay(2027, 6, 1), by: .module) }),
        ("stage time", { _ = try MetricsQuery.stageTime($0, from: LocalDay(2027, 5, 1), to: LocalDay(2027, 6, 1)) }),
        ("backlog", { _ = try MetricsQuery.backlog($0, now: end) }),
    ]
    for (name, part) in parts {
        var times: [Double] = []
        for _ in 0..<(runs + 5) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try database.read { tx in try part(tx) }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        print(String(format: "    %@: p50 %.2f ms", name, percentile(Array(times.dropFirst(5)), 0.5)))
    }

    // A month's report filtered by group, product, holder (issue 7): group and product from the
    // cohort counters (migration 190), the holder from the per-ticket facts.
    let filters: [(String, MetricsFilter)] = [
        ("group g3", MetricsFilter(groupID: "g3")),
        ("product RM", MetricsFilter(product: "RM")),
        ("agent a7", MetricsFilter(agentID: "a7")),
        ("group g3 + product RM", MetricsFilter(groupID: "g3", product: "RM")),
        ("group g3, seen by a level-1 agent", MetricsFilter(groupID: "g3", visibleTo: (level: 1, agentID: "a7"))),
        // No dimension, held to a level: the unfiltered report an agent gets (security review, s33).
        ("nothing, seen by a level-0 agent", MetricsFilter(visibleTo: (level: 0, agentID: "a7"))),
    ]
    for (name, filter) in filters {
        var times: [Double] = []
        var filtered: MetricsReport?
        var cpuMs = 0.0
        for run in 0..<(runs + 5) {
            let cpu0 = processCPUMilliseconds()
            let t0 = DispatchTime.now().uptimeNanoseconds
            filtered = try database.read { tx in try MetricsQuery.report(tx, from: LocalDay(2027, 5, 1), to: LocalDay(2027, 6, 1), now: end, filter: filter) }
            if run >= 5 {
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                cpuMs += processCPUMilliseconds() - cpu0
            }
        }
        // The same tickets counted directly (a check of the figures above, not timed).
        var check = "SELECT COUNT(*) AS n FROM wf_metric_tickets WHERE opened_day >= ? AND opened_day < ?"
        var checkParams: [SQLValue] = [.integer(Int64(LocalDay(2027, 5, 1).dayNumber)), .integer(Int64(LocalDay(2027, 6, 1).dayNumber))]
        for (column, value) in [("group_id", filter.groupID), ("product", filter.product), ("agent_id", filter.agentID)] where !value.isEmpty {
            check += " AND \(column) = ?"
            checkParams.append(.text(value))
        }
        if let visible = filter.visibleTo {
            check += " AND (access_level <= ? OR agent_id = ?)"
            checkParams += [.integer(Int64(visible.level)), .text(visible.agentID)]
        }
        let counted = try database.read { tx in try tx.queryOne(check, checkParams)?.int("n") ?? -1 }
        if counted != filtered?.totals.opened { print("  MISMATCH: \(name): \(counted) tickets, report says \(filtered?.totals.opened ?? 0)") }
        // Its three queries, timed apart (p50).
        let parts: [(String, (any SQLExecutor) throws -> Void)] = [
            ("totals and breakdowns", { _ = try MetricsQuery.cohortTotals($0, from: LocalDay(2027, 5, 1), to: LocalDay(2027, 6, 1), filter: filter) }),
            ("stage time", { _ = try MetricsQuery.cohortStageTime($0, from: LocalDay(2027, 5, 1), to: LocalDay(2027, 6, 1), filter: filter) }),
            ("backlog", { tx in
                if filter.isEmpty, let visible = filter.visibleTo {
                    _ = try MetricsQuery.visibleBacklog(tx, now: end, visibleTo: visible)
                } else {
                    _ = try MetricsQuery.filteredBacklog(tx, now: end, filter: filter)
                }
            }),
        ]
        var partTimes: [String] = []
        for (part, run) in parts {
            var times: [Double] = []
            for _ in 0..<(min(runs, 10) + 2) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try database.read { tx in try run(tx) }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            partTimes.append(String(format: "%@ %.1f ms", part, percentile(Array(times.dropFirst(2)), 0.5)))
        }
        print(String(format: "  month report filtered by %@ (%lld opened, %lld open): p50 %.2f ms, p95 %.2f ms, this process's CPU %.2f ms per report",
                     name, filtered?.totals.opened ?? 0, filtered?.backlog.reduce(0) { $0 + $1.count } ?? 0,
                     percentile(times, 0.5), percentile(times, 0.95), cpuMs / Double(runs)))
        print("    parts (p50): " + partTimes.joined(separator: ", "))
    }

    // The same viewer over 30 days that are not a calendar month (no cohort counters: the
    // tickets' facts of those days, through the opening-time index).
    do {
        var times: [Double] = []
        var ragged: MetricsReport?
        let viewer = MetricsFilter(visibleTo: (level: 0, agentID: "a7"))
        for run in 0..<(runs + 5) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            ragged = try database.read { tx in try MetricsQuery.report(tx, from: LocalDay(2027, 5, 10), to: LocalDay(2027, 6, 9), now: end, filter: viewer) }
            if run >= 5 { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
        }
        print(String(format: "  30 ragged days (May 10 – June 8) seen by a level-0 agent (%lld opened): p50 %.2f ms, p95 %.2f ms",
                     ragged?.totals.opened ?? 0, percentile(times, 0.5), percentile(times, 0.95)))
    }

    // A month's CSV export, page by page.
    let exportStart = calendar.instant(of: LocalDay(2027, 5, 1), minute: 0), exportEnd = calendar.instant(of: LocalDay(2027, 6, 1), minute: 0)
    var cursor: MetricsExport.Cursor?
    var rows = 0, bytes = 0
    let t0 = Date()
    repeat {
        let page = try database.read { tx in try MetricsExport.page(tx, from: exportStart, to: exportEnd, after: cursor, limit: 1000) }
        rows += page.rows
        bytes += page.csv.utf8.count
        cursor = page.next
    } while cursor != nil
    let seconds = Date().timeIntervalSince(t0)
    print(String(format: "  CSV export of May 2027: %d rows, %.1f MB in %.2f s (%.0f rows/s)", rows, Double(bytes) / 1e6, seconds, Double(rows) / seconds))

    // One SLA recomputation of a ticket with 20 events (the cost each ticket event pays).
    let sla = SLAEngine()
    try database.write { tx in
        try sla.onTicketEvent(tx, ticketID: "bench", .opened(plan: "basico", priority: 2, stage: "em_atendimento", calendarID: ""), at: start)
        for i in 1..<20 {
            let event: SLAEvent = i % 2 == 0 ? .stageChanged("em_atendimento") : .stageChanged("aguardando_cliente")
            try sla.onTicketEvent(tx, ticketID: "bench", event, at: start + Int64(i) * 5 * hour)
        }
    }
    latencies = []
    for run in 0..<(runs + 5) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try database.write { tx in _ = try sla.recompute(tx, ticketID: "bench", now: start + 200 * hour) }
        if run >= 5 { latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
    }
    print(String(format: "  SLA recompute (20 events, in its own transaction): p50 %.2f ms, p95 %.2f ms",
                 percentile(latencies, 0.5), percentile(latencies, 0.95)))

    // The write side: ticket events on open tickets of May, one per transaction, as an agent's
    // moves are (a stage change, a transfer to another group, finishing), with everything
    // `MetricsRecorder` maintains (rollups, backlog, stage time, and the cohort counters when
    // the build has them). Last, as it changes the data.
    let writeTickets = try database.read { tx in
        try tx.query("SELECT ticket_id, group_id FROM wf_metric_tickets WHERE is_open = 1 AND opened_day >= ? AND opened_day < ? ORDER BY ticket_id LIMIT ?",
                     [.integer(Int64(LocalDay(2027, 5, 1).dayNumber)), .integer(Int64(LocalDay(2027, 6, 1).dayNumber)), .integer(Int64(writeEvents))])
            .map { (try $0.text("ticket_id"), try $0.text("group_id")) }
    }
    let recorder = MetricsRecorder()
    var eventTimes: [String: [Double]] = [:]
    for (index, (ticketID, group)) in writeTickets.enumerated() {
        let at = end + Int64(index) * minute
        let events: [(String, MetricsEvent)] = [
            ("stage change", .stageChanged("aguardando_cliente")),
            ("transfer to another group", .transferred(pingPong: false, groupID: group == "g0" ? "g1" : "g0", agentID: "a1")),
            ("finish", .stageChanged("finalizado")),
        ]
        for (offset, (name, event)) in events.enumerated() {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try database.write { tx in try recorder.onTicketEvent(tx, ticketID: ticketID, event, at: at + Int64(offset) * 1000) }
            eventTimes[name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
        }
    }
    for name in ["stage change", "transfer to another group", "finish"] {
        let times = eventTimes[name] ?? [0]
        print(String(format: "  ticket event, %@ (%d tickets, one per transaction): p50 %.0f µs, p95 %.0f µs, mean %.0f µs", name, times.count,
                     percentile(times, 0.5), percentile(times, 0.95), times.reduce(0, +) / Double(times.count)))
    }
    database.close()
}
