import Foundation
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport
import WorkflowCore

/// A flow's stages have an English name beside the Portuguese one (`flow_stages.name_en`,
/// `customer_name_en`, migration 200): the shipped stages' from ``ShippedStageNames`` (seeded, and
/// given by the migration to flows stored before it), an administrator's own stage as they name
/// it; the queue's CSV ends with `stage_en` and the metrics' CSVs name stages in both languages;
/// every message that names a stage in Portuguese carries its English name too (`stage_name_en`,
/// `customer_stage_name_en`: rows, views, counts, moves, metrics, the events' ticket summary).
@Suite("Workflow: stages named in English too (flow rows, the messages' stage_name_en, queue CSV stage_en, metrics CSVs)")
struct StageEnglishNamesTests {
    static let ana = WorkflowHarness.agent("ana")

    func names(_ database: any Database) throws -> [String: String] {
        try database.read { tx in
            Dictionary(uniqueKeysWithValues: try tx.query("SELECT stage_key, name_en, customer_name_en FROM flow_stages WHERE flow = 'padrao'").map {
                (try $0.text("stage_key"), "\(try $0.text("name_en"))|\(try $0.text("customer_name_en"))")
            })
        }
    }

    func queueCSV(_ harness: WorkflowHarness) throws -> [String] {
        let stream = try harness.client.serverStream(WorkflowV1.Workflow.exportQueue, WorkflowV1.ExportQueueRequest(),
                                                     options: CallOptions(timeoutMilliseconds: 30_000, metadata: harness.signer.metadata(for: WorkflowHarness.admin())))
        var csv = ""
        while let chunk = try stream.receive() { csv += chunk.text }
        return csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
    }

    @Test("seeded and migrated flows name the shipped stages in English; an administrator's name_en reaches the queue CSV's last column, stage_en",
          arguments: TestEngines.all)
    func englishStageNames(engine: DatabaseEngine) throws {
        let data = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": data.path]
        if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        do {
            let harness = try WorkflowHarness(engine, environment: environment)
            let seeded = try names(harness.database)
            #expect(seeded["aguardando_cliente"] == "Waiting on the customer|Awaiting your answer", "\(seeded)")
            #expect(seeded["em_atendimento"] == "In service|In service", "\(seeded)")
            // As a database stored before migration 200, with an administrator's own stage.
            try harness.database.write { tx in
                try tx.execute("ALTER TABLE flow_stages DROP COLUMN name_en")
                try tx.execute("ALTER TABLE flow_stages DROP COLUMN customer_name_en")
                try tx.execute("""
                    INSERT INTO flow_stages (flow, stage_key, name, customer_name, customer_stage, position, is_final)
                    VALUES ('padrao', 'triagem_fiscal', 'Triagem fiscal', 'Triagem fiscal', 'triagem_fiscal', 99, 0)
                    """)
                try tx.execute("DELETE FROM schema_migrations WHERE component = 'service' AND version = 200")
            }
        }
        do {
            let harness = try WorkflowHarness(engine, environment: environment)
            let migrated = try names(harness.database)
            #expect(migrated["aguardando_cliente"] == "Waiting on the customer|Awaiting your answer", "\(migrated)")
            #expect(migrated["finalizado"] == "Finished|Finished" && migrated["triagem_fiscal"] == "|", "no English name given: \(migrated)")
            // The administrator names Em atendimento their own way in English.
            try harness.database.write { tx in
                try tx.execute("UPDATE flow_stages SET name_en = 'Being handled' WHERE flow = 'padrao' AND stage_key = 'em_atendimento'")
            }
        }
        let harness = try WorkflowHarness(engine, environment: environment)
        try harness.seedDirectory()
        for id in ["q1", "w1"] { try harness.deliver(WorkflowHarness.opened(id), key: id) }
        try harness.take("w1", as: Self.ana)
        let lines = try queueCSV(harness)
        #expect(lines.first?.hasSuffix(",outcome,outcome_en,category_en,priority_en,stage_en") == true, "\(lines)")
        let byStage = Dictionary(uniqueKeysWithValues: lines.dropFirst().map { line in
            (line.contains(",Em atendimento,") ? "em_atendimento" : "aguardando_atendimento", line)
        })
        #expect(byStage["em_atendimento"]?.hasSuffix(",Being handled") == true, "\(lines)")
        #expect(byStage["aguardando_atendimento"]?.hasSuffix(",Awaiting service") == true, "\(lines)")
        // The metrics' CSVs: the report's backlog and the per-ticket export name the stage in both.
        var report = WorkflowV1.GetMetricsRequest()
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "America/Sao_Paulo")!, formatOptions: [.withFullDate])
        report.fromDay = today
        report.toDay = ISO8601DateFormatter.string(from: Date().addingTimeInterval(2 * 86_400), timeZone: TimeZone(identifier: "America/Sao_Paulo")!,
                                                   formatOptions: [.withFullDate])
        let options = CallOptions(timeoutMilliseconds: 30_000, metadata: harness.signer.metadata(for: WorkflowHarness.admin()))
        var csv = ""
        let stream = try harness.client.serverStream(WorkflowV1.WorkflowTime.exportMetricsReport, report, options: options)
        while let chunk = try stream.receive() { csv += chunk.text }
        #expect(csv.contains("section,stage,open,age_0d,age_1_2d,age_3_6d,age_7_29d,age_30d_plus,stage_name,stage_name_en\r\n"), "\(csv)")
        #expect(csv.contains("backlog,em_atendimento,1,1,0,0,0,0,Em atendimento,Being handled\r\n"), "\(csv)")
        #expect(csv.components(separatedBy: "\r\n").first?.hasSuffix(",avg_survey_score,label,label_en") == true, "\(csv)")
        #expect(csv.contains(",Total,Total\r\n") && csv.contains(",Problema,Problem\r\n"), "\(csv)")
        var export = WorkflowV1.ExportMetricsRequest()
        export.toMs = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        var facts = ""
        let rows = try harness.client.serverStream(WorkflowV1.WorkflowTime.exportMetrics, export, options: options)
        while let chunk = try rows.receive() { facts += chunk.text }
        let factLines = facts.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(factLines.first == (MetricsExport.columns + MetricsExport.labelColumns).joined(separator: ","), "\(facts)")
        #expect(factLines.contains { $0.hasPrefix("w1,") && $0.hasSuffix(",Problema,Problem,Normal,Normal,Em atendimento,Being handled,,") }, "\(facts)")
    }

    @Test("an administrator's stage with an English name reads in English in every message naming it: the queue's and the customer's rows, the ticket view (customer_stage_name_en), the counts, the allowed moves, the metrics' backlog and the StageChanged event's summary; shipped stages by ShippedStageNames' words",
          arguments: TestEngines.all)
    func englishNamesInTheMessages(engine: DatabaseEngine) throws {
        let data = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": data.path]
        if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        do {
            let first = try WorkflowHarness(engine, environment: environment)
            try FlowFixtures.addTaxTriage(first.database)
        }
        // The flow as stored is read at the start.
        let harness = try WorkflowHarness(engine, environment: environment)
        try harness.seedDirectory()
        for id in ["q1", "w1"] { try harness.deliver(WorkflowHarness.opened(id), key: id) }
        try harness.take("w1", as: Self.ana)
        var allowed = WorkflowV1.ListAllowedMovesRequest()
        allowed.ticketID = "w1"
        let moves = try harness.call(WorkflowV1.Workflow.listAllowedMoves, allowed, as: Self.ana).moves
        let triage = moves.first { $0.toStage == "triagem_fiscal" }
        #expect(triage?.stageName == "Triagem fiscal" && triage?.stageNameEn == "Tax triage", "\(moves)")
        let waiting = moves.first { $0.toStage == "aguardando_cliente" }
        #expect(waiting?.stageNameEn == "Waiting on the customer", "\(moves)")
        _ = try harness.move("w1", to: "triagem_fiscal", as: Self.ana)

        // The team's queue and view.
        let queue = try harness.call(WorkflowV1.Workflow.listQueue, WorkflowV1.ListQueueRequest(), as: WorkflowHarness.admin()).tickets
        let rows = Dictionary(uniqueKeysWithValues: queue.map { ($0.ticketID, $0) })
        #expect(rows["w1"]?.stageName == "Triagem fiscal" && rows["w1"]?.stageNameEn == "Tax triage", "\(queue)")
        #expect(rows["q1"]?.stageName == "Aguardando atendimento" && rows["q1"]?.stageNameEn == "Awaiting service", "\(queue)")
        let view = try harness.ticket("w1")
        #expect(view.row?.stageNameEn == "Tax triage" && view.customerStageName == "Em triagem" && view.customerStageNameEn == "In triage",
                "\(view)")
        // The customer's list and view: their names of the stage.
        let contact = WorkflowHarness.ticketContact()
        let own = try harness.call(WorkflowV1.Workflow.listCustomerTickets, WorkflowV1.ListCustomerTicketsRequest(), as: contact).tickets
        let ownRows = Dictionary(uniqueKeysWithValues: own.map { ($0.ticketID, $0) })
        #expect(ownRows["w1"]?.stageName == "Em triagem" && ownRows["w1"]?.stageNameEn == "In triage", "\(own)")
        #expect(ownRows["q1"].map { $0.stageNameEn == ShippedStageNames.name($0.stageName, .english) && $0.stageNameEn != $0.stageName } == true,
                "\(own)")
        let customerView = try harness.ticket("w1", as: contact)
        #expect(customerView.row?.stageNameEn == "In triage" && customerView.customerStageNameEn == "In triage", "\(customerView)")
        // The counts by stage.
        let counts = try harness.call(WorkflowV1.Workflow.countByStage, WorkflowV1.CountByStageRequest(), as: WorkflowHarness.admin()).counts
        #expect(counts.first { $0.stage == "triagem_fiscal" }?.stageNameEn == "Tax triage", "\(counts)")
        #expect(counts.first { $0.stage == "aguardando_atendimento" }?.stageNameEn == "Awaiting service", "\(counts)")
        // The metrics' backlog by stage.
        let metrics = try harness.call(WorkflowV1.WorkflowTime.getMetrics, WorkflowHarness.metricsAroundToday(), as: WorkflowHarness.admin())
        let backlog = metrics.backlog.first { $0.stage == "triagem_fiscal" }
        #expect(backlog?.stageName == "Triagem fiscal" && backlog?.stageNameEn == "Tax triage", "\(metrics.backlog)")
        // The event notification reads: both names of both audiences.
        let moved = try #require(try harness.published(WorkflowV1.StageChanged.self, ticket: "w1").last?.0.ticket)
        #expect(moved.stageName == "Triagem fiscal" && moved.stageNameEn == "Tax triage", "\(moved)")
        #expect(moved.customerStageName == "Em triagem" && moved.customerStageNameEn == "In triage", "\(moved)")
        let routed = try #require(try harness.published(WorkflowV1.TicketRouted.self, ticket: "q1").last?.0.ticket)
        #expect(routed.stageNameEn == "Awaiting service", "\(routed)")
    }
}
