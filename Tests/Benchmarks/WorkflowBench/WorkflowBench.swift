import Foundation
import Messages
import Storage
import TestSupport
import WorkflowCore

/// Loads many tickets with history into a workflow database and prints queue listing latencies.
///
/// ```
/// swift build -c release --product workflow-bench
/// .build/release/workflow-bench --engine sqlite --tickets 1000000
/// .build/release/workflow-bench --engine postgres --tickets 1000000   # throwaway cluster (fsync=off)
/// ```
/// Options: `--engine sqlite|postgres`, `--tickets N` (default 1,000,000), `--iterations N`
/// (default 300), `--path FILE` (SQLite file to reuse), `--url URL` (PostgreSQL database to use),
/// `--explain 0|1` (print each queue case's plan; default 1), `--load-below-migration N` (load the
/// tickets into the schema as it was before migration N, then time the upgrade to the current
/// schema: what an existing database pays at the first start of a new version). Tickets are loaded
/// in transactions of 50,000 tickets (multi-row inserts of 250 rows). `--entries N` measures
/// instead the cost of a discussion entry as one ticket's discussion grows (``EntryCostBench``).
/// `--handoffs 1` writes hand-offs into held tickets' histories (takes, repasses with their
/// `transfers` rows, chefes' takes, step assignments: ``HandoffHistory``), as a live database has
/// them; `--upgrade-only 1` stops after the upgrade; `--load-only 1` stops after loading below
/// the migration (a copy of that file is then upgraded again and again). The upgrade opens the database with the
/// service's tuning (``WorkflowService/databaseTuning(_:)``) and prints each migration's time and,
/// on SQLite, the process's peak resident memory during the upgrade.
struct WorkflowBench {
    var engine: DatabaseEngine = .sqlite
    var tickets = 1_000_000
    var iterations = 300
    var path: String?
    var url: String?
    /// Print each queue case's query plan (`--explain 1`).
    var explain = true
    /// Load into the schema before this migration, then time upgrading (`--load-below-migration`).
    var loadBelowMigration: Int?
    /// Measure discussion entries on one ticket instead (`--entries N`; ``EntryCostBench``).
    var entries: Int?
    /// Hand-offs in held tickets' histories (`--handoffs 1`, ``HandoffHistory``).
    var handoffs = false
    /// Stop after the upgrade (`--upgrade-only 1`).
    var upgradeOnly = false
    /// Stop after loading below ``loadBelowMigration`` (`--load-only 1`).
    var loadOnly = false

    static let end = Int64(1_793_491_200_000) // 2026-11-01
    static let span = Int64(730) * 86_400_000
    static let groups = 20, agents = 200, organizations = 5_000
    static let products = ["ERP", "RH", "Fiscal", "Financeiro", "Estoque", "Compras", "Vendas", "CRM", "BI", "Portal"]
    static let topics = ["Nota fiscal rejeitada", "Erro ao gerar SPED", "Cálculo de férias errado", "Relatório não abre", "Lentidão no fechamento",
                         "Boleto com valor divergente", "Integração bancária falha", "Dúvida sobre parametrização", "Estoque negativo",
                         "Pedido não fatura", "Certificado digital vencido", "Folha com desconto duplicado", "Erro 539 na transmissão",
                         "Sugestão de novo filtro", "Exigência do eSocial", "Tela congela ao salvar", "Importação de XML falha"]

    init(arguments: [String]) {
        var index = 1
        while index + 1 < arguments.count {
            let value = arguments[index + 1]
            switch arguments[index] {
            case "--engine": engine = value == "postgres" ? .postgres : .sqlite
            case "--tickets": tickets = Int(value.replacingOccurrences(of: "_", with: "")) ?? tickets
            case "--iterations": iterations = Int(value) ?? iterations
            case "--path": path = value
            case "--url": url = value
            case "--explain": explain = value != "0"
            case "--load-below-migration": loadBelowMigration = Int(value)
            case "--entries": entries = Int(value)
            case "--handoffs": handoffs = value != "0"
            case "--upgrade-only": upgradeOnly = value != "0"
            case "--load-only": loadOnly = value != "0"
            default: break
            }
            index += 2
        }
    }

    /// Adds tickets until `database` holds ``tickets`` of them.
    func load(into database: any Database) throws {
        let existing = try database.read { try $0.queryOne("SELECT COUNT(*) AS n FROM tickets")?.int("n") ?? 0 }
        guard existing < Int64(tickets) else { return }
        let started = Date()
        try Generator(database: database, tickets: tickets, handoffs: handoffs).load(from: Int(existing))
        print("loaded \(tickets) tickets (with history, discussion and search rows) on \(engine.rawValue) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    func run() throws {
        let configuration: DatabaseConfiguration
        var postgresURL: String?
        switch engine {
        case .sqlite:
            let file: String
            if let path { file = path } else { file = try TemporaryDirectory.untilExit(prefix: "workflow-bench") + "/workflow.sqlite" }
            configuration = DatabaseConfiguration(sqlitePath: file, poolSize: 4)
        case .postgres:
            let target: String
            if let url { target = url } else { target = try PostgresTestServer.shared().createDatabase() }
            configuration = DatabaseConfiguration(url: target, sqlitePath: "", poolSize: 4)
            postgresURL = target
        }
        if let limit = loadBelowMigration {
            let older = try openDatabase(configuration, migrations: WorkflowService.migrations.filter { $0.version < limit })
            try load(into: older)
            older.close()
            if loadOnly { return }
            try UpgradeTiming.run(configuration: WorkflowService.databaseTuning(configuration), engine: engine, tickets: tickets, from: limit)
            if upgradeOnly { return }
        }
        let database = try openDatabase(configuration, migrations: WorkflowService.migrations)
        defer { database.close() }
        if let entries {
            return try EntryCostBench(database: database, engine: engine, entries: entries).run()
        }
        try load(into: database)
        // Statistics for the planner; on PostgreSQL also the visibility map (index-only scans), as
        // autovacuum would do on a live database.
        if let postgresURL {
            try PostgresAdmin.execute(url: postgresURL, "VACUUM ANALYZE")
        } else {
            try database.write { tx in try tx.execute("ANALYZE") }
        }
        let flows = try database.write { tx -> [String: StageFlow] in
            try FlowStore.seed(tx)
            return try FlowStore.load(tx)
        }
        let queries = TicketQueries(lifecycle: TicketLifecycle(flows: flows, defaultFlow: "padrao"))
        let agent = Actor(kind: .agent, id: "A0007", name: "Agente 7", level: 1)
        let counts = try database.read { tx in
            (open: try tx.queryOne("SELECT COUNT(*) AS n FROM tickets WHERE is_open = 1")?.int("n") ?? 0,
             group: try tx.queryOne("SELECT COUNT(*) AS n FROM tickets WHERE group_id = 'G03' AND stage = 'aguardando_atendimento'")?.int("n") ?? 0)
        }
        var load = [Double](repeating: 0, count: 3)
        _ = getloadavg(&load, 3)
        print(String(format: "load average %.1f %.1f %.1f on %d cores", load[0], load[1], load[2], ProcessInfo.processInfo.activeProcessorCount))
        print("engine \(engine.rawValue), \(tickets) tickets, \(counts.open) open, \(counts.group) in group G03's queue; agent level 1; page 50; \(iterations) iterations")
        func cursor(_ sql: String, offset: Int64) throws -> String {
            guard let row = try database.read({ try $0.queryOne(sql + " LIMIT 1 OFFSET ?", [.integer(offset)]) }) else { return "" }
            return Data("v1|\(try row.int("k"))|\(try row.text("id"))".utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        var open = WorkflowV1.TicketFilter()
        open.openOnly = true
        var groupQueue = WorkflowV1.TicketFilter()
        groupQueue.groupID = "G03"
        groupQueue.stages = ["aguardando_atendimento"]
        var organization = WorkflowV1.TicketFilter()
        organization.organizationID = "O00042"
        var urgentOpen = WorkflowV1.TicketFilter()
        urgentOpen.openOnly = true
        urgentOpen.priorities = [.urgente]
        var text = WorkflowV1.TicketFilter()
        text.openOnly = true
        text.text = "certificado"
        let openDeep = try cursor("SELECT opened_at AS k, id FROM tickets WHERE is_open = 1 ORDER BY opened_at, id", offset: counts.open / 2)
        let allDeep = try cursor("SELECT opened_at AS k, id FROM tickets ORDER BY opened_at DESC, id DESC", offset: Int64(tickets / 2))
        let cases: [(String, WorkflowV1.TicketFilter, String, Bool)] = [
            ("open queue, first page", open, "", false),
            ("open queue, deep page (middle)", open, openDeep, false),
            ("group G03 waiting queue, first page", groupQueue, "", false),
            ("all tickets newest first, first page", WorkflowV1.TicketFilter(), "", true),
            ("all tickets newest first, deep page (500k-th)", WorkflowV1.TicketFilter(), allDeep, true),
            ("one organization, first page", organization, "", false),
            ("open + urgent, first page", urgentOpen, "", false),
            ("open + text 'certificado', first page", text, "", false),
        ]
        // The floor on this machine at this moment: a read transaction with a trivial query.
        let floor = try measure { _ = try database.read { try $0.queryOne("SELECT 1 AS one") } }
        print(Self.line("floor: read transaction with SELECT 1", floor, rows: nil))
        for (name, filter, cursor, newest) in cases {
            var request = WorkflowV1.ListQueueRequest()
            request.filter = filter
            request.pageSize = 50
            request.cursor = cursor
            request.newestFirst = newest
            var rows = 0
            // Text filters go through the full-text index and cost more: fewer calls.
            let times = try measure(iterations: filter.text.isEmpty ? iterations : min(iterations, 20)) {
                rows = try database.read { try queries.listQueue($0, request, actor: agent) }.tickets.count
            }
            print(Self.line(name, times, rows: rows))
            if explain {
                let plan = try database.read { try queries.explainQueue($0, request, actor: agent) }
                print("      plan: " + plan.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " | "))
            }
        }
        var countsRequest = WorkflowV1.TicketFilter()
        countsRequest.openOnly = true
        let countTimes = try measure { _ = try database.read { try queries.countByStage($0, countsRequest, actor: agent) } }
        print(Self.line("counts per stage (open)", countTimes, rows: nil))
        // Full-text search (FTS5 / tsvector GIN), same access rules; 50 rows.
        let reference = String(format: "T%07d", tickets / 2)
        // Searches select from 1 M tickets: a common phrase matches ~59,000 of them, a specific one ~600.
        let searches: [(String, String, String, String, WorkflowV1.TicketFilter?)] = [
            ("search phrase 'erro 539 na transmissao 42' (~600 hits)", "erro 539 na transmissao 42", "", "", nil),
            ("search phrase 'relatorio nao abre 7', group G03", "relatorio nao abre 7", "", "", groupQueue),
            ("search any 'sped esocial' in subject, open only", "sped esocial", "subject", "any", open),
            ("search 'cadastro 7' (discussion), group G03", "cadastro 7", "discussion", "", groupQueue),
            ("search phrase 'certificado digital' (~59,000 hits)", "certificado digital", "", "", nil),
            ("search same subject as \(reference)", "", "", "", nil),
        ]
        for (name, query, field, mode, filter) in searches {
            var request = WorkflowV1.SearchTicketsRequest()
            request.query = query
            request.field = field
            request.mode = mode
            request.filter = filter
            if query.isEmpty { request.sameSubjectAs = reference }
            request.limit = 50
            var rows = 0
            let times = try measure(iterations: min(iterations, 20)) {
                rows = try database.read { try queries.search($0, request, actor: agent) }.tickets.count
            }
            print(Self.line(name, times, rows: rows))
        }
        var customerRequest = WorkflowV1.ListCustomerTicketsRequest()
        customerRequest.text = "nota fiscal"
        customerRequest.pageSize = 50
        let customer = Actor(kind: .customer, id: "C1", name: "Cliente", organizationID: "O00042")
        var customerRows = 0
        let customerTimes = try measure(iterations: min(iterations, 20)) {
            customerRows = try database.read { try queries.listCustomerTickets($0, customerRequest, actor: customer) }.tickets.count
        }
        print(Self.line("customer listing, text 'nota fiscal'", customerTimes, rows: customerRows))
    }

    func measure(iterations count: Int? = nil, _ body: () throws -> Void) throws -> [Double] {
        let count = count ?? iterations
        for _ in 0..<min(20, count / 4 + 1) { try body() }
        var times: [Double] = []
        for _ in 0..<count {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
        }
        return times.sorted()
    }

    static func line(_ name: String, _ sorted: [Double], rows: Int?) -> String {
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        let rowText = rows.map { ", \($0) rows" } ?? ""
        let padded = name.count >= 48 ? name : name + String(repeating: " ", count: 48 - name.count)
        return "  " + padded + String(format: " p50 %7.2f ms  p95 %7.2f ms  max %7.2f ms", percentile(0.5), percentile(0.95), sorted.last ?? 0) + rowText
    }
}

/// Writes tickets, their search text, three history rows and one discussion entry each, in
/// multi-row inserts, deterministic for a given count.
struct Generator {
    let database: any Database
    let tickets: Int
    var handoffs = false
    static let batch = 50_000, rowsPerStatement = 250

    func load(from start: Int) throws {
        if start == 0 { try directory() }
        var next = start
        while next < tickets {
            let upper = min(tickets, next + Self.batch)
            try database.write { tx in try insert(tx, next..<upper) }
            next = upper
            if next % 100_000 == 0 { FileHandle.standardOutput.write(Data("  \(next) tickets\n".utf8)) }
        }
    }

    func directory() throws {
        try database.write { tx in
            for g in 0..<WorkflowBench.groups {
                try tx.execute("INSERT INTO staff_groups (id, name, active, created_at, updated_at) VALUES (?, ?, 1, 0, 0)",
                               [.text(String(format: "G%02d", g)), .text("Grupo \(g)")])
            }
            for a in 0..<WorkflowBench.agents {
                let id = String(format: "A%04d", a)
                try tx.execute("INSERT INTO agents (id, name, email, max_access_level, active, chefe_agent_id, is_chefe, role, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, '', 0, 0)",
                               [.text(id), .text("Agente \(a)"), .text("a\(a)@suporte.example"), .integer(Int64(a % 3)),
                                a % 10 == 0 ? .null : .text(String(format: "A%04d", a - a % 10)), SQLValue(a % 10 == 0)])
                try tx.execute("INSERT INTO group_members (group_id, agent_id, added_at) VALUES (?, ?, 0)",
                               [.text(String(format: "G%02d", a % WorkflowBench.groups)), .text(id)])
            }
            if handoffs { try HandoffHistory.directory(tx) }
        }
    }

    static let openStages = ["aguardando_atendimento", "aguardando_atendimento", "aguardando_atendimento", "em_atendimento", "em_atendimento",
                             "em_atendimento", "aguardando_cliente", "diagnostico_tecnico", "analise_produto", "para_desenvolver"]

    func insert(_ tx: any SQLExecutor, _ range: Range<Int>) throws {
        var ticketRows: [[SQLValue]] = [], searchRows: [[SQLValue]] = [], historyRows: [[SQLValue]] = [], discussionRows: [[SQLValue]] = []
        // Since migration 184 each entry has its own search row (Queue/EntryTextIndex.swift); before, the ticket's row held them.
        let catalog = tx.engine == .sqlite ? "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'ticket_search_entries'"
            : "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'ticket_search_entries'"
        let perEntry = try tx.queryOne(catalog)?.int("n") ?? 0 > 0
        var entryRows: [[SQLValue]] = []
        var handoffRows: [[SQLValue]] = [], transferRows: [[SQLValue]] = []
        for i in range {
            var random = SplitMix64(state: UInt64(i) &* 7_919)
            let id = String(format: "T%07d", i)
            let openedAt = WorkflowBench.end - WorkflowBench.span + Int64(i) * WorkflowBench.span / Int64(tickets) + Int64(random.below(600_000))
            let recent = WorkflowBench.end - openedAt < 45 * 86_400_000
            let isOpen = random.chance(recent ? 0.6 : 0.02)
            let stage = isOpen ? Self.openStages[random.below(Self.openStages.count)] : (random.chance(0.92) ? "finalizado" : "cancelado")
            var groupNumber = random.below(WorkflowBench.groups)
            var agentNumber: Int? = stage == "aguardando_atendimento" ? nil : random.below(WorkflowBench.agents)
            var handoff: HandoffHistory.Rows?
            if handoffs, let held = agentNumber {
                handoff = HandoffHistory.rows(id, i, agent: held, group: groupNumber, at: openedAt + 3_600_000, seq: 2)
                groupNumber = handoff?.group ?? groupNumber
                agentNumber = handoff?.agent
            }
            let group = String(format: "G%02d", groupNumber)
            let agent = agentNumber.map { String(format: "A%04d", $0) } ?? ""
            let organization = String(format: "O%05d", random.below(WorkflowBench.organizations))
            let category = Int64(1 + random.below(6)), priority = Int64(1 + random.below(4))
            let level = Int64(random.chance(0.9) ? 0 : random.chance(0.8) ? 1 : 3)
            let topic = WorkflowBench.topics[random.below(WorkflowBench.topics.count)]
            let subject = "\(topic) \(i % 97)"
            let request = "O cliente relata: \(topic.lowercased()) desde a atualização \(i % 13)."
            let product = WorkflowBench.products[random.below(WorkflowBench.products.count)]
            let module = "\(product)-M\(random.below(5))"
            let lastInteraction = openedAt + Int64(random.below(5 * 86_400_000))
            let finished = isOpen ? Int64(0) : lastInteraction
            ticketRows.append([.text(id), .text("\(2024 + i * 3 / tickets)-\(String(format: "%07d", i))"), .text(organization),
                               .text("Empresa \(organization)"), .text(random.chance(0.1) ? "premium" : "standard"),
                               .text("C\(organization)"), .text("Contato \(organization)"), .integer(category), .integer(priority),
                               .integer(category), .integer(priority), .text(product), .text(module), .text(subject), .text(request),
                               .text("padrao"), .text(stage), .integer(lastInteraction), SQLValue(isOpen), .text(group), .text(agent),
                               .integer(level), .integer(openedAt), .integer(lastInteraction), .integer(lastInteraction),
                               .integer(openedAt + 3_600_000), .integer(finished), .text(isOpen ? "" : stage == "finalizado" ? "resolvida" : "cancelada_cliente"),
                               .integer(Int64(random.below(3))), .text(handoff?.ticketType ?? "")])
            let note = SearchText.indexText("Verifique o cadastro \(i % 31)")
            searchRows.append([.text(id), .text(SearchText.indexText(subject)), .text(SearchText.indexText(request)),
                               .text(perEntry ? "" : note), .text(isOpen ? "" : "aplicar o pacote \(i % 17)"), .text(perEntry ? "" : note)])
            entryRows.append([.text(id), 1, .text(note)])
            historyRows.append([.text("\(id)-h1"), .text(id), .integer(openedAt), 1, "opened", "", .text("grupo \(group)"), "", ""])
            if let handoff {
                handoffRows += handoff.history
                transferRows += handoff.transfers
            } else {
                historyRows.append([.text("\(id)-h2"), .text(id), .integer(openedAt + 3_600_000), 2, "holder", .text("grupo \(group)"),
                                    .text("agente \(agent)"), .text(agent), .text(agent)])
            }
            historyRows.append([.text("\(id)-h3"), .text(id), .integer(lastInteraction), .integer(handoff?.nextSeq ?? 3), "stage",
                                "aguardando_atendimento", .text(stage), .text(agent), .text(agent)])
            discussionRows.append([.text("\(id)-d1"), .text(id), 1, "note", 1, .text("Verifique o cadastro \(i % 31)"), .text(agent),
                                   .text(agent), "agent", .integer(openedAt + 3_600_000)])
        }
        try bulk(tx, "tickets", ["id", "code", "organization_id", "organization_name", "plan", "contact_id", "contact_name", "category", "priority",
                                 "declared_category", "declared_priority", "product", "module", "subject", "request_text", "flow", "stage",
                                 "stage_since", "is_open", "group_id", "agent_id", "access_level", "opened_at", "updated_at",
                                 "last_interaction_at", "first_response_at", "finished_at", "outcome", "transfer_count", "ticket_type"], ticketRows)
        try bulk(tx, "ticket_search", ["ticket_id", "subject", "request", "discussion", "solution", "public_discussion"], searchRows)
        if perEntry {
            let last = try tx.queryOne("SELECT COALESCE(MAX(seq), 0) AS n FROM ticket_search_entries")?.int("n") ?? 0
            try bulk(tx, "ticket_search_entries", ["ticket_id", "is_public", "text"], entryRows)
            if tx.engine == .sqlite {
                try tx.execute("INSERT INTO ticket_fts_entries (rowid, text) SELECT seq, text FROM ticket_search_entries WHERE seq > ?", [.integer(last)])
            }
        }
        try bulk(tx, "ticket_history", ["id", "ticket_id", "at", "seq", "kind", "old_value", "new_value", "actor_id", "actor_name"], historyRows)
        try bulk(tx, "ticket_history", ["id", "ticket_id", "at", "seq", "kind", "old_value", "new_value", "note", "actor_id", "actor_name"],
                 handoffRows)
        try bulk(tx, "transfers", ["id", "ticket_id", "at", "from_agent_id", "from_group_id", "to_agent_id", "to_group_id", "pair_key",
                                   "actor_id", "actor_name"], transferRows)
        try bulk(tx, "discussion_entries", ["id", "ticket_id", "seq", "kind", "is_public", "text", "author_id", "author_name", "author_kind", "added_at"],
                 discussionRows)
    }

    func bulk(_ tx: any SQLExecutor, _ table: String, _ columns: [String], _ rows: [[SQLValue]]) throws {
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        var index = 0
        while index < rows.count {
            let chunk = rows[index..<min(rows.count, index + Self.rowsPerStatement)]
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES " + Array(repeating: tuple, count: chunk.count).joined(separator: ", ")
            try tx.execute(sql, chunk.flatMap { $0 })
            index += chunk.count
        }
    }
}

extension SplitMix64 {
    /// True with probability `p` (0...1).
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
}
