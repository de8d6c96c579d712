import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// What consuming one TicketOpened writes (the statements were folded to cut the cost per
/// opening: docs/BENCHMARKS-workflow.md, round 4): the same rows as before, on both engines.
@Suite("Workflow: what an opening writes")
struct OpeningWritesTests {
    func integers(_ harness: WorkflowHarness, _ sql: String, _ params: [SQLValue] = []) throws -> [Int64] {
        try harness.database.read { tx in try tx.query(sql, params).map { try $0.int("n") } }
    }

    func integer(_ harness: WorkflowHarness, _ sql: String, _ params: [SQLValue] = []) throws -> Int64 {
        try integers(harness, sql, params).first ?? -1
    }

    @Test("the routed group and the category's access level: no rule and a level, then the first matching rule", arguments: TestEngines.all)
    func routingAndLevel(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        var level = WorkflowV1.SetCategoryAccessLevelRequest()
        level.category = .duvida
        level.accessLevel = 2
        _ = try harness.call(WorkflowV1.Workflow.setCategoryAccessLevel, level, as: WorkflowHarness.admin())
        try harness.deliver(WorkflowHarness.opened("T-none", category: .duvida), key: "T-none")
        let none = try harness.database.read { tx in try tx.queryOne("SELECT group_id, access_level FROM tickets WHERE id = 'T-none'") }
        #expect(try none?.text("group_id") == "")
        #expect(try none?.int("access_level") == 2)

        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("T-premium", plan: "PREMIUM", category: .duvida), key: "T-premium")
        try harness.deliver(WorkflowHarness.opened("T-standard"), key: "T-standard")
        let rows = try harness.database.read { tx in
            try tx.query("SELECT id, group_id, access_level FROM tickets WHERE id IN ('T-premium', 'T-standard') ORDER BY id")
        }
        // The premium rule matches the plan whatever its case; problema has no level (0).
        #expect(try rows.map { try $0.text("group_id") } == ["n2", "n1"])
        #expect(try rows.map { try $0.int("access_level") } == [2, 0])
    }

    @Test("a second TicketOpened for the same ticket (another event) changes nothing", arguments: TestEngines.all)
    func openedTwice(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("T1", subject: "Primeiro assunto", request: "Primeiro pedido"), key: "T1")
        let second = try harness.deliver(WorkflowHarness.opened("T1", subject: "Outro assunto", request: "Outro pedido"), key: "T1")
        #expect(second.accepted == 1)
        let ticket = try harness.ticket("T1")
        #expect(ticket.row?.subject == "Primeiro assunto")
        #expect(ticket.request == "Primeiro pedido")
        #expect(try integer(harness, "SELECT COUNT(*) AS n FROM ticket_history WHERE ticket_id = 'T1'") == 1)
        #expect(try integer(harness, "SELECT COUNT(*) AS n FROM text_versions WHERE ticket_id = 'T1'") == 1)
        let search = try harness.database.read { tx in try tx.queryOne("SELECT request FROM ticket_search WHERE ticket_id = 'T1'") }
        #expect(try search?.text("request") == SearchText.indexText("Primeiro pedido"))
        #expect(try integer(harness, "SELECT COUNT(*) AS n FROM wf_sla_events WHERE ticket_id = 'T1'") == 1)
        #expect(try integer(harness, "SELECT COUNT(*) AS n FROM wf_metric_tickets WHERE ticket_id = 'T1'") == 1)
        #expect(try integer(harness, "SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_daily WHERE dim = 'all'") == 1)
    }

    @Test("an opening writes history, SLA, timer, inactivity and counters; the next stage change replaces them", arguments: TestEngines.all)
    func openingThenMove(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("T1"), key: "T1")
        try harness.deliver(WorkflowHarness.opened("T2"), key: "T2")
        let id: [SQLValue] = [.text("T1")]

        #expect(try integers(harness, "SELECT seq AS n FROM ticket_history WHERE ticket_id = ? ORDER BY seq", id) == [1])
        #expect(try integer(harness, "SELECT version AS n FROM wf_sla_tickets WHERE ticket_id = ?", id) == 1)
        #expect(try integers(harness, "SELECT seq AS n FROM wf_sla_events WHERE ticket_id = ? ORDER BY seq", id) == [1])
        let targets = try integer(harness, "SELECT COUNT(*) AS n FROM wf_sla_targets WHERE ticket_id = ?", id)
        #expect(targets > 0)
        // The default policy gives the new ticket running targets, so one pending SLA timer for
        // the SLA row's version.
        #expect(try integers(harness, "SELECT generation AS n FROM wf_timers WHERE ticket_id = ? AND kind = 'sla' AND state = 'pending'", id) == [1])
        #expect(try integer(harness, "SELECT version AS n FROM wf_inactivity_tickets WHERE ticket_id = ?", id) == 1)
        #expect(try integer(harness, "SELECT COALESCE(SUM(open_count), 0) AS n FROM wf_metric_backlog WHERE stage = 'aguardando_atendimento'") == 2)
        #expect(try integer(harness, "SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_daily WHERE dim = 'all'") == 2)
        #expect(try integer(harness, "SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_monthly WHERE dim = 'group' AND key = 'n1'") == 2)

        try harness.move("T1", to: "em_atendimento", as: WorkflowHarness.admin())
        let history = try integers(harness, "SELECT seq AS n FROM ticket_history WHERE ticket_id = ? ORDER BY seq", id)
        #expect(history == Array(1...Int64(history.count)) && history.count >= 2)
        #expect(try integer(harness, "SELECT version AS n FROM wf_sla_tickets WHERE ticket_id = ?", id) == 2)
        #expect(try integers(harness, "SELECT seq AS n FROM wf_sla_events WHERE ticket_id = ? ORDER BY seq", id) == [1, 2])
        #expect(try integer(harness, "SELECT COUNT(*) AS n FROM wf_sla_targets WHERE ticket_id = ?", id) == targets)
        let pending = try integers(harness, "SELECT generation AS n FROM wf_timers WHERE ticket_id = ? AND kind = 'sla' AND state = 'pending'", id)
        #expect(pending.count <= 1 && pending.allSatisfy { $0 == 2 })
        #expect(try integer(harness, "SELECT COUNT(*) AS n FROM wf_timers WHERE ticket_id = ? AND kind = 'sla' AND state = 'cancelled'", id) == 1)
        #expect(try integer(harness, "SELECT version AS n FROM wf_inactivity_tickets WHERE ticket_id = ?", id) == 2)
        #expect(try integer(harness, "SELECT COALESCE(SUM(open_count), 0) AS n FROM wf_metric_backlog WHERE stage = 'aguardando_atendimento'") == 1)
        #expect(try integer(harness, "SELECT COALESCE(SUM(open_count), 0) AS n FROM wf_metric_backlog WHERE stage = 'em_atendimento'") == 1)
        // The untouched ticket keeps what its opening wrote (on PostgreSQL the second opening,
        // with the configuration cached, wrote the time half's rows in the ticket's statement).
        let t2: [SQLValue] = [.text("T2")]
        #expect(try integer(harness, "SELECT version AS n FROM wf_sla_tickets WHERE ticket_id = ?", t2) == 1)
        #expect(try integers(harness, "SELECT seq AS n FROM wf_sla_events WHERE ticket_id = ? ORDER BY seq", t2) == [1])
        #expect(try integer(harness, "SELECT COUNT(*) AS n FROM wf_sla_targets WHERE ticket_id = ?", t2) == targets)
        #expect(try integers(harness, "SELECT generation AS n FROM wf_timers WHERE ticket_id = ? AND kind = 'sla' AND state = 'pending'", t2) == [1])
        #expect(try integer(harness, "SELECT version AS n FROM wf_inactivity_tickets WHERE ticket_id = ?", t2) == 1)
        #expect(try integer(harness, "SELECT COUNT(*) AS n FROM wf_metric_tickets WHERE ticket_id = ?", t2) == 1)
        #expect(try integers(harness, "SELECT seq AS n FROM ticket_history WHERE ticket_id = ? ORDER BY seq", t2) == [1])
        // Its resolution target runs, due after the opening (40 business hours under the built-in policy).
        let resolution = try harness.database.read { tx in
            try tx.queryOne("""
                SELECT s.status, s.due_at, t.opened_at FROM wf_sla_targets s JOIN tickets t ON t.id = s.ticket_id
                WHERE s.ticket_id = 'T2' AND s.target = 3
                """)
        }
        #expect(try resolution?.text("status") == "running")
        #expect(try (resolution?.int("due_at") ?? 0) > (resolution?.int("opened_at") ?? .max))
    }

    @Test("metrics: a ticket reported opened twice is counted once (fact, daily, monthly, backlog)", arguments: TestEngines.all)
    func metricsOpenedTwice(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let database = try scratch.open(migrations: WorkflowService.migrations)
        let recorder = MetricsRecorder()
        let at: Int64 = 1_764_410_400_000
        let d = TicketDimensions(organizationID: "org-1", category: 1, product: "ERP", module: "Fiscal", priority: 2, plan: "standard", groupID: "n1")
        for _ in 0..<2 {
            try database.write { tx in try recorder.onTicketEvent(tx, ticketID: "T1", .opened(d, stage: "aguardando_atendimento"), at: at) }
        }
        try database.write { tx in try recorder.onTicketEvent(tx, ticketID: "T2", .opened(d, stage: "aguardando_atendimento"), at: at) }
        func sum(_ sql: String) throws -> Int64 { try database.read { tx in try tx.queryOne(sql)?.int("n") ?? -1 } }
        #expect(try sum("SELECT COUNT(*) AS n FROM wf_metric_tickets") == 2)
        #expect(try sum("SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_daily WHERE dim = 'all'") == 2)
        #expect(try sum("SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_daily WHERE dim = 'module' AND key = 'Fiscal'") == 2)
        #expect(try sum("SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_monthly WHERE dim = 'product' AND key = 'ERP'") == 2)
        #expect(try sum("SELECT COALESCE(SUM(open_count), 0) AS n FROM wf_metric_backlog WHERE stage = 'aguardando_atendimento'") == 2)
    }

    @Test("the opening's history line names the routed group: its name, its id when the directory lacks it, or — without a group",
          arguments: TestEngines.all)
    func openingHistoryLine(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        func opened(_ id: String) throws -> (String, String, String) {
            let row = try harness.database.read { tx in
                try tx.queryOne("SELECT new_value, note, actor_name FROM ticket_history WHERE ticket_id = ? AND kind = 'opened'", [.text(id)])
            }
            return (try row?.text("new_value") ?? "?", try row?.text("note") ?? "?", try row?.text("actor_name") ?? "?")
        }
        try harness.deliver(WorkflowHarness.opened("T-none"), key: "T-none")
        #expect(try opened("T-none") == ("—", "portal", "Maria"))
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("T-n1"), key: "T-n1")
        #expect(try opened("T-n1") == ("grupo Nível 1", "portal", "Maria"))
        // The ticket the opening handed to the observers is the one a read gives.
        #expect(try harness.ticket("T-n1").row?.holder?.groupName == "Nível 1")
        try harness.database.write { tx in _ = try tx.execute("UPDATE routing_rules SET group_id = 'fantasma' WHERE id = 'default'", []) }
        try harness.deliver(WorkflowHarness.opened("T-ghost"), key: "T-ghost")
        #expect(try opened("T-ghost") == ("grupo fantasma", "portal", "Maria"))
    }

    @Test("an inactivity policy on the queue stage: each opening schedules its countdown, and an edit is seen by the next opening",
          arguments: TestEngines.all)
    func openingStartsInactivityCountdown(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let day: Int64 = 86_400_000
        try harness.database.write { tx in
            try InactivityPolicyStore.save(tx, InactivityPolicy(id: "fila-3d", stage: "aguardando_atendimento", days: 3, reminderDaysBefore: 1,
                                                                toStage: "cancelado", outcome: "inatividade"))
        }
        let at: Int64 = 1_764_410_400_000
        try harness.deliver(WorkflowHarness.opened("T1", openedAt: at), key: "T1")
        func timers(_ id: String) throws -> [String: (Int64, Int64)] {
            var found: [String: (Int64, Int64)] = [:]
            for row in try harness.database.read({ tx in
                try tx.query("SELECT kind, due_at, generation FROM wf_timers WHERE ticket_id = ? AND state = 'pending' AND kind LIKE 'inactivity.%'",
                             [.text(id)])
            }) { found[try row.text("kind")] = (try row.int("due_at"), try row.int("generation")) }
            return found
        }
        let first = try timers("T1")
        #expect(first["inactivity.action"]?.0 == at + 3 * day && first["inactivity.action"]?.1 == 1)
        #expect(first["inactivity.reminder"]?.0 == at + 2 * day && first["inactivity.reminder"]?.1 == 1)
        // Changed behind the service's back (another instance): the next opening follows it.
        try harness.database.write { tx in _ = try tx.execute("UPDATE wf_inactivity_policies SET days = 5, reminder_days = 0", []) }
        try harness.deliver(WorkflowHarness.opened("T2", openedAt: at), key: "T2")
        let second = try timers("T2")
        #expect(second["inactivity.action"]?.0 == at + 5 * day && second.count == 1)
        // The configuration now cached: on PostgreSQL this opening's countdown goes out with the
        // ticket's own statement.
        try harness.deliver(WorkflowHarness.opened("T3", openedAt: at), key: "T3")
        let third = try timers("T3")
        #expect(third["inactivity.action"]?.0 == at + 5 * day && third["inactivity.action"]?.1 == 1 && third.count == 1)
        // And the first ticket's countdown still stops when it leaves the stage.
        try harness.take("T1", as: WorkflowHarness.agent("ana"))
        #expect(try timers("T1").isEmpty)
    }

    @Test("the time half told twice of one opening: the second report takes the ordinary path (SLA event, stage entry), counted once",
          arguments: TestEngines.all)
    func timeHalfOpenedTwice(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowService.migrations)
        defer { database.close() }
        let time = WorkflowTime(database: database, secret: DeploymentSecret(bytes: Array("opening-twice-secret-0123456789abcdef".utf8)))
        let d = TicketDimensions(organizationID: "org-1", category: 1, product: "ERP", module: "Fiscal", priority: 2, plan: "standard", groupID: "n1")
        let at: Int64 = 1_764_410_400_000
        for _ in 0..<2 {
            try database.write { tx in try time.ticketOpened(tx, ticketID: "T1", dimensions: d, stage: "aguardando_atendimento", at: at) }
        }
        func ints(_ sql: String) throws -> [Int64] { try database.read { tx in try tx.query(sql, []).map { try $0.int("n") } } }
        #expect(try ints("SELECT seq AS n FROM wf_sla_events WHERE ticket_id = 'T1' ORDER BY seq") == [1, 2])
        #expect(try ints("SELECT version AS n FROM wf_sla_tickets WHERE ticket_id = 'T1'") == [2])
        #expect(try ints("SELECT generation AS n FROM wf_timers WHERE ticket_id = 'T1' AND kind = 'sla' AND state = 'pending'") == [2])
        #expect(try ints("SELECT COUNT(*) AS n FROM wf_timers WHERE ticket_id = 'T1' AND kind = 'sla' AND state = 'cancelled'") == [1])
        #expect(try ints("SELECT version AS n FROM wf_inactivity_tickets WHERE ticket_id = 'T1'") == [2])
        #expect(try ints("SELECT COUNT(*) AS n FROM wf_metric_tickets") == [1])
        #expect(try ints("SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_daily WHERE dim = 'all'") == [1])
        #expect(try ints("SELECT COALESCE(SUM(open_count), 0) AS n FROM wf_metric_backlog") == [1])
        let targets = try database.read { tx in try time.sla.storedTargets(tx, ticketID: "T1") }
        #expect(!targets.isEmpty && targets.allSatisfy { $0.status == .running || $0.status == .inactive })
    }

    @Test("migration 170 keeps every row of the tables it rebuilds (SQLite: WITHOUT ROWID) and drops two unused indexes",
          arguments: TestEngines.all)
    func openingStorageMigration(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let before = try scratch.open(migrations: WorkflowService.migrations.filter { $0.version < 170 })
        // A ticket opened by the code before migration 170, and the rows its time half writes.
        let tables = ["text_versions", "ticket_history", "wf_sla_events", "wf_sla_tickets", "wf_sla_targets", "wf_timers",
                      "wf_inactivity_tickets", "wf_metric_tickets"]
        try before.write { tx in
            try tx.execute("INSERT INTO text_versions (ticket_id, field, version, text, at) VALUES ('T1', 'request', 1, 'pedido', 1)")
            try tx.execute("INSERT INTO ticket_history (id, ticket_id, at, seq, kind) VALUES ('H1', 'T1', 1, 1, 'opened')")
            try tx.execute("INSERT INTO wf_sla_events (ticket_id, seq, at, kind, detail) VALUES ('T1', 1, 1, 'opened', '{}')")
            try tx.execute("INSERT INTO wf_sla_tickets (ticket_id, plan, priority, stage, version, updated_at) VALUES ('T1', 'p', 2, 's', 1, 1)")
            try tx.execute("""
                INSERT INTO wf_sla_targets (ticket_id, target, cycle, status, target_ms, elapsed_ms, due_at) VALUES ('T1', 1, 0, 'running', 10, 0, 5)
                """)
            try tx.execute("""
                INSERT INTO wf_timers (id, ticket_id, kind, due_at, payload, generation, state, created_at)
                VALUES ('X1', 'T1', 'sla', 5, '', 1, 'pending', 1)
                """)
            try tx.execute("INSERT INTO wf_inactivity_tickets (ticket_id, stage, entered_at, version) VALUES ('T1', 's', 1, 1)")
            try tx.execute("""
                INSERT INTO wf_metric_tickets (ticket_id, opened_at, opened_day, organization_id, category, product, module, priority, plan,
                    group_id, agent_id, access_level, stage, stage_entered_at, is_open, transfers, ping_pongs, reopens, survey_score)
                VALUES ('T1', 1, 0, 'o', 1, 'p', 'm', 2, 'pl', 'g', '', 0, 's', 1, 1, 0, 0, 0, 7)
                """)
        }
        let after = try scratch.open(migrations: WorkflowService.migrations)
        for table in tables {
            let count = try after.read { tx in try tx.queryOne("SELECT COUNT(*) AS n FROM \(table) WHERE ticket_id = 'T1'")?.int("n") }
            #expect(count == 1, "\(table)")
        }
        let kept = try after.read { tx in try tx.queryOne("SELECT survey_score, is_open FROM wf_metric_tickets WHERE ticket_id = 'T1'") }
        #expect(try kept?.int("survey_score") == 7)
        let pending = try after.read { tx in try TimerStore.pending(tx, ticketID: "T1", kind: "sla") }
        #expect(pending?.id == "X1")
        // The partial unique index is back: a second pending timer of the same kind is refused.
        #expect(throws: (any Error).self) {
            try after.write { tx in
                try tx.execute("""
                    INSERT INTO wf_timers (id, ticket_id, kind, due_at, payload, generation, state, created_at)
                    VALUES ('X2', 'T1', 'sla', 6, '', 1, 'pending', 1)
                    """)
            }
        }
        if engine == .sqlite {
            let rowless = try after.read { tx in
                try tx.query("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%' AND name NOT LIKE 'ticket_fts%' ORDER BY name").map { try $0.text("name") }
            }
            #expect(rowless == (tables + ["wf_metric_stage_time"]).sorted())  // the last one by migration 180
        }
        let indexes = engine == .sqlite
            ? "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' AND name IN ('tickets_code', 'wf_sla_targets_status')"
            : "SELECT COUNT(*) AS n FROM pg_indexes WHERE indexname IN ('tickets_code', 'wf_sla_targets_status')"
        #expect(try after.read { tx in try tx.queryOne(indexes)?.int("n") } == 0)
    }

    @Test("row ids are version-7 UUIDs (lower case): unique, and later ids sort after earlier ones")
    func rowIDs() {
        let ids = (0..<1_000).map { _ in RandomID.timeOrdered() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(50) {
            let parsed = UUID(uuidString: id)
            #expect(parsed != nil && id.count == 36)
            #expect(parsed?.uuidString.lowercased() == id)
            let characters = Array(id)
            #expect(characters[14] == "7" && "89ab".contains(characters[19]))
        }
        let earlier = RandomID.timeOrdered()
        usleep(2_000)
        #expect(RandomID.timeOrdered() > earlier)
    }

    @Test("an SLA event's stored detail is the JSON the decoder reads back as the same event, for every kind and awkward text")
    func slaEventDetail() throws {
        let texts = ["", "padrão", "a\"b\\c", "linha\nnova\tcom\r", "\u{1}\u{1F}", "emoji 🎫", "a/b"]
        var events: [SLAEvent] = [.agentResponse, .customerReply, .priorityChanged(3), .priorityChanged(-1)]
        for text in texts {
            events += [.opened(plan: text, priority: 2, stage: text, calendarID: text), .stageChanged(text), .planChanged(text), .calendarChanged(text)]
        }
        for event in events {
            #expect(try JSONDecoder().decode(SLAEvent.self, from: Data(event.detail.utf8)) == event, "\(event.detail)")
        }
    }

    @Test("notification's EmailSent: a history line for a known ticket (after its opening), nothing for an unknown one",
          arguments: TestEngines.all)
    func emailSentHistory(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("T1"), key: "T1")
        for ticket in ["T1", "T-unknown"] {
            var email = NotificationV1.EmailSent()
            email.ticketID = ticket
            email.eventKind = "ticket_opened"
            email.subject = "Recebemos sua ocorrência"
            email.recipients = ["maria@org-1.example.com"]
            email.copies = ["gestor@org-1.example.com"]
            email.outcome = "sent"
            email.sentAtMs = 1_764_410_400_000
            #expect(try harness.deliver(email, key: ticket, source: "notification").accepted == 1)
        }
        let rows = try harness.database.read { tx in
            try tx.query("SELECT ticket_id, seq, at, old_value, new_value, note, actor_name FROM ticket_history WHERE kind = 'email' ORDER BY ticket_id")
        }
        #expect(rows.count == 1)
        #expect(try rows.first?.text("ticket_id") == "T1")
        #expect(try rows.first?.int("seq") == 2)
        #expect(try rows.first?.int("at") == 1_764_410_400_000)
        #expect(try rows.first?.text("old_value") == "ticket_opened")
        #expect(try rows.first?.text("new_value") == "sent: Recebemos sua ocorrência")
        #expect(try rows.first?.text("note") == "para: maria@org-1.example.com; cc: gestor@org-1.example.com")
        #expect(try rows.first?.text("actor_name") == "notification")
    }
}
