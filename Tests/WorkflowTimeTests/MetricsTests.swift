import Foundation
import Storage
import Synchronization
import Testing
import TestSupport
@testable import WorkflowCore

@Suite struct MetricsTests {
    let metrics = MetricsRecorder()
    let minute: Int64 = 60_000

    func record(_ database: any Database) throws {
        try database.write { tx in
            let rm = TicketDimensions(organizationID: "acme", category: 1, product: "RM", module: "Folha", priority: 2, plan: "basico", groupID: "n1")
            let protheus = TicketDimensions(organizationID: "acme", category: 2, product: "Protheus", module: "Fiscal", priority: 3, plan: "basico", groupID: "n2")
            // T1: answered in 30 min, finished after 5 h, survey 4.
            try metrics.onTicketEvent(tx, ticketID: "T1", .opened(rm, stage: "aguardando_atendimento"), at: sp("2027-03-01 09:00"))
            try metrics.onTicketEvent(tx, ticketID: "T1", .stageChanged("em_atendimento"), at: sp("2027-03-01 09:10"))
            try metrics.onTicketEvent(tx, ticketID: "T1", .firstResponse(wallMillis: 30 * minute, businessMillis: 30 * minute, met: true), at: sp("2027-03-01 09:30"))
            try metrics.onTicketEvent(tx, ticketID: "T1", .transferred(pingPong: false, groupID: "n2", agentID: "bia"), at: sp("2027-03-01 10:00"))
            try metrics.onTicketEvent(tx, ticketID: "T1", .stageChanged("finalizado"), at: sp("2027-03-01 14:00"))
            try metrics.onTicketEvent(tx, ticketID: "T1", .resolved(wallMillis: 300 * minute, businessMillis: 300 * minute, met: true), at: sp("2027-03-01 14:00"))
            try metrics.onTicketEvent(tx, ticketID: "T1", .surveyAnswered(score: 4), at: sp("2027-03-02 08:00"))
            try metrics.onTicketEvent(tx, ticketID: "T1", .surveyAnswered(score: 1), at: sp("2027-03-02 08:01"))  // ignored
            // T2: late first response, ping-pong, reopened, reclassified to Protheus, still open.
            try metrics.onTicketEvent(tx, ticketID: "T2", .opened(rm, stage: "aguardando_atendimento"), at: sp("2027-03-01 17:00"))
            try metrics.onTicketEvent(tx, ticketID: "T2", .firstResponse(wallMillis: 16 * 60 * minute, businessMillis: 120 * minute, met: false), at: sp("2027-03-02 09:00"))
            try metrics.onTicketEvent(tx, ticketID: "T2", .transferred(pingPong: true, groupID: "n1", agentID: "ana"), at: sp("2027-03-02 10:00"))
            try metrics.onTicketEvent(tx, ticketID: "T2", .stageChanged("finalizado"), at: sp("2027-03-02 11:00"))
            try metrics.onTicketEvent(tx, ticketID: "T2", .resolved(wallMillis: 18 * 60 * minute, businessMillis: 180 * minute, met: false), at: sp("2027-03-02 11:00"))
            try metrics.onTicketEvent(tx, ticketID: "T2", .stageChanged("em_atendimento"), at: sp("2027-03-03 09:00"))
            try metrics.onTicketEvent(tx, ticketID: "T2", .reclassified(protheus), at: sp("2027-03-03 09:30"))
            // T3: opened in April (outside March), open.
            try metrics.onTicketEvent(tx, ticketID: "T3", .opened(protheus, stage: "aguardando_atendimento"), at: sp("2027-04-01 09:00"))
            // Opening twice (a redelivered event) counts once.
            try metrics.onTicketEvent(tx, ticketID: "T3", .opened(protheus, stage: "aguardando_atendimento"), at: sp("2027-04-01 09:00"))
        }
    }

    @Test("many transactions at once add to the same day's counters without losing a count; on PostgreSQL they spread over shards",
          arguments: TestEngines.all)
    func concurrentEventsSumExactly(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let dims = TicketDimensions(organizationID: "acme", category: 1, product: "RM", module: "Folha", priority: 2, plan: "basico", groupID: "n1")
        let metrics = self.metrics
        let failures = FailureList()
        // 120 tickets from 8 threads of their own (on PostgreSQL each thread writes its counter
        // shard): each opened, then 2 of 3 move on and half of those finish.
        Self.onThreads(8) { worker in
            for n in stride(from: worker, to: 120, by: 8) {
                do {
                    try database.write { tx in
                        try metrics.onTicketEvent(tx, ticketID: "C\(n)", .opened(dims, stage: "aguardando_atendimento"), at: sp("2027-03-01 09:00"))
                    }
                    guard n % 3 != 0 else { continue }
                    try database.write { tx in
                        try metrics.onTicketEvent(tx, ticketID: "C\(n)", .stageChanged("em_atendimento"), at: sp("2027-03-01 10:00"))
                    }
                    guard n % 2 == 0 else { continue }
                    try database.write { tx in
                        try metrics.onTicketEvent(tx, ticketID: "C\(n)", .stageChanged("finalizado"), at: sp("2027-03-01 11:00"))
                    }
                } catch {
                    failures.list.withLock { $0.append("\(n): \(error)") }
                }
            }
        }
        #expect(failures.list.withLock { $0 }.isEmpty, "\(failures.list.withLock { $0 })")
        let moved = (0..<120).filter { $0 % 3 != 0 }.count, finished = (0..<120).filter { $0 % 3 != 0 && $0 % 2 == 0 }.count
        let report = try database.read { tx in
            try MetricsQuery.report(tx, from: LocalDay(2027, 3, 1), to: LocalDay(2027, 4, 1), now: sp("2027-03-01 12:00"))
        }
        #expect(report.totals.opened == 120 && report.totals.finished == Int64(finished))
        #expect(report.byProduct.map { "\($0.key)=\($0.totals.opened)" } == ["RM=120"])
        #expect(report.backlog.map { "\($0.stage)=\($0.count)" } == ["aguardando_atendimento=\(120 - moved)", "em_atendimento=\(moved - finished)"])
        #expect(report.stageTime.first { $0.stage == "em_atendimento" }?.exits == Int64(finished))
        let rows = try database.read { tx in try tx.scalar("SELECT COUNT(*) FROM wf_metric_daily WHERE dim = 'all'") }
        if engine == .postgres {
            #expect((rows.integerValue ?? 0) > 1, "the day's row is spread over shards")
        } else {
            #expect(rows.integerValue == 1, "SQLite keeps one row")
        }
    }

    @Test(arguments: TestEngines.all)
    func reportsAreSumsOfFactsUpdatedAsEventsHappen(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        try record(database)
        let report = try database.read { tx in
            try MetricsQuery.report(tx, from: LocalDay(2027, 3, 1), to: LocalDay(2027, 4, 1), now: sp("2027-04-05 09:00"))
        }
        let t = report.totals
        #expect(t.opened == 2 && t.finished == 2 && t.reopened == 1)
        #expect(t.firstResponses == 2 && t.firstResponseMet == 1)
        #expect(t.averageFirstResponseBusinessMs == 75 * minute)
        #expect(t.averageFirstResponseWallMs == (30 + 960) * minute / 2)
        // One resolution per ticket, its last: T2's reopening withdrew its (a breached 3 h) from
        // Tuesday (before 2026-12-02: 2 resolutions, 240 min on average, SLA 50 %).
        #expect(t.resolutions == 1 && t.averageResolutionBusinessMs == 300 * minute)
        #expect(t.slaMetPercent == 200.0 / 3)
        #expect(t.reopenPercent == 50)
        #expect(t.transfers == 2 && t.pingPongs == 1)
        #expect(t.surveys == 1 && t.averageSurveyScore == 4)
        // T2's opening moved to Protheus/category 2 when reclassified.
        #expect(report.byProduct.map { "\($0.key)=\($0.totals.opened)" }.sorted() == ["Protheus=1", "RM=1"])
        #expect(report.byCategory.map { "\($0.key)=\($0.totals.opened)" }.sorted() == ["1=1", "2=1"])
        // What the dashboard's captions say (docs/GATEWAY.md): T2's first response (and T1's
        // resolution) stay with category 1, the one it had then, while its opening followed it to category 2;
        // T1's transfer to n2 left its opening with n1 (T2's reclassification moved its to n2).
        let byCategory = Dictionary(uniqueKeysWithValues: report.byCategory.map { ($0.key, $0.totals) })
        #expect(byCategory["1"]?.firstResponses == 2 && byCategory["1"]?.resolutions == 1 && byCategory["1"]?.opened == 1)
        #expect((byCategory["2"]?.firstResponses ?? 0) == 0 && (byCategory["2"]?.resolutions ?? 0) == 0 && byCategory["2"]?.opened == 1)
        #expect(report.byGroup.map { "\($0.key)=\($0.totals.opened)" }.sorted() == ["n1=1", "n2=1"])
        #expect(report.byModule.count == 2)
        // Time per stage: T1 10 min in the queue then 4 h 50 min in em_atendimento; T2 17 h 45 min... in the queue.
        let stages = Dictionary(uniqueKeysWithValues: report.stageTime.map { ($0.stage, $0) })
        #expect(stages["em_atendimento"]?.averageWallMs == 290 * minute)
        #expect(stages["em_atendimento"]?.averageBusinessMs == 290 * minute)  // 09:10–14:00 on a Monday
        // T2 waited in the queue from Monday 17:00 to Tuesday 11:00: 18 h wall, 4 h business.
        let queue = try database.read { tx in
            try tx.queryOne("SELECT wall_ms, business_ms FROM wf_metric_stage_time WHERE ticket_id = 'T2' AND stage = 'aguardando_atendimento'")
        }
        #expect(try queue?.int("wall_ms") == 18 * 60 * minute)
        #expect(try queue?.int("business_ms") == 4 * 60 * minute)
        #expect(stages["finalizado"]?.exits == 1)
        // Backlog: T2 (em_atendimento, opened 35 days before) and T3 (queue, 4 days).
        #expect(report.backlog == [
            BacklogRow(stage: "aguardando_atendimento", count: 1, byAge: [0, 0, 1, 0, 0]),
            BacklogRow(stage: "em_atendimento", count: 1, byAge: [0, 0, 0, 0, 1]),
        ])
        let april = try database.read { tx in try MetricsQuery.totals(tx, from: LocalDay(2027, 4, 1), to: LocalDay(2027, 5, 1)) }
        #expect(april.opened == 1)
    }

    /// Periods mix whole months (monthly rollup) and ragged ends (daily rollup).
    @Test(arguments: TestEngines.all)
    func periodsAcrossPartialMonths(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let days = ["2027-01-31", "2027-02-10", "2027-02-20", "2027-03-01", "2027-03-15", "2027-03-31", "2027-04-05", "2027-04-20", "2028-01-01"]
        try database.write { tx in
            for (index, day) in days.enumerated() {
                try metrics.onTicketEvent(tx, ticketID: "T\(index)", .opened(TicketDimensions(product: "P\(index % 2)"), stage: "a"), at: sp("\(day) 12:00"))
            }
        }
        func opened(_ from: LocalDay, _ to: LocalDay) throws -> Int64 {
            try database.read { tx in try MetricsQuery.totals(tx, from: from, to: to).opened }
        }
        #expect(try opened(LocalDay(2027, 2, 15), LocalDay(2027, 4, 10)) == 5)  // Feb 20, Mar 1/15/31, Apr 5
        #expect(try opened(LocalDay(2027, 3, 1), LocalDay(2027, 4, 1)) == 3)
        #expect(try opened(LocalDay(2027, 3, 2), LocalDay(2027, 3, 31)) == 1)
        #expect(try opened(LocalDay(2027, 1, 1), LocalDay(2028, 1, 1)) == 8)
        #expect(try opened(LocalDay(2027, 1, 31), LocalDay(2028, 1, 2)) == 9)
        #expect(try opened(LocalDay(2027, 2, 1), LocalDay(2027, 2, 1)) == 0)
        let byProduct = try database.read { tx in try MetricsQuery.totals(tx, from: LocalDay(2027, 2, 15), to: LocalDay(2027, 4, 10), by: .product) }
        #expect(byProduct.map { "\($0.key)=\($0.totals.opened)" } == ["P0=3", "P1=2"])
    }

    @Test(arguments: TestEngines.all)
    func exportStreamsEveryRowInPages(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let start = sp("2027-03-01 09:00")
        try database.write { tx in
            for index in 0..<53 {
                let d = TicketDimensions(organizationID: index == 0 ? "=cmd|' /C calc'!A0" : "org, \"quoted\"", category: 1, product: "RM",
                                         accessLevel: index == 52 ? 9 : 1)
                // Several tickets share an opening instant: the cursor must not skip or repeat them.
                try metrics.onTicketEvent(tx, ticketID: String(format: "T%03d", index), .opened(d, stage: "aguardando_atendimento"),
                                          at: start + Int64(index / 4) * 1000)
            }
        }
        var cursor: MetricsExport.Cursor?
        var lines: [String] = []
        var pages = 0
        repeat {
            let page = try database.read { tx in
                try MetricsExport.page(tx, from: start, to: start + 86_400_000, after: cursor, limit: 10, maxAccessLevel: 5)
            }
            lines += page.csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            cursor = page.next.flatMap { MetricsExport.Cursor(token: $0.token) }
            pages += 1
        } while cursor != nil
        #expect(pages == 6)
        #expect(lines.count == 52)  // T052 is above the caller's level
        #expect(Set(lines.map { $0.prefix(4) }).count == 52)
        #expect(lines[0].contains("'=cmd|' /C calc'!A0"))
        #expect(lines[1].contains("\"org, \"\"quoted\"\"\""))
        // Category and priority by name, as the API writes them (a spreadsheet read "1" and "0").
        let cells = lines[0].components(separatedBy: ",")
        #expect(cells[MetricsExport.columns.firstIndex(of: "category")!] == "PROBLEMA", "\(lines[0])")
        #expect(cells[MetricsExport.columns.firstIndex(of: "priority")!] == "PRIORITY_UNSPECIFIED", "\(lines[0])")
        #expect(MetricsExport.header.hasPrefix("ticket_id,opened_at,"))
        // What people read of the coded columns, appended in both languages (a stage by the shipped flows' names).
        #expect(cells.count == MetricsExport.columns.count + MetricsExport.labelColumns.count, "\(lines[0])")
        let label = { (column: String) in cells[MetricsExport.columns.count + MetricsExport.labelColumns.firstIndex(of: column)!] }
        #expect(label("category_label") == "Problema" && label("category_label_en") == "Problem" && label("priority_label_en") == "—", "\(lines[0])")
        #expect(label("stage_name") == cells[MetricsExport.columns.firstIndex(of: "stage")!].replacingOccurrences(of: "aguardando_atendimento", with: "Aguardando atendimento"),
                "\(lines[0])")
    }
}

/// Errors collected from several threads.
final class FailureList: Sendable {
    let list = Mutex<[String]>([])
}

extension MetricsTests {
    /// Runs `body` on `count` threads of their own at once and waits for them.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchSemaphore(value: 0)
        for index in 0..<count {
            Thread {
                body(index)
                done.signal()
            }.start()
        }
        for _ in 0..<count { done.wait() }
    }
}
