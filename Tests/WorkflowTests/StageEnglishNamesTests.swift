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
/// it; the queue's CSV ends with `stage_en` and the metrics' CSVs name stages in both languages.
@Suite("Workflow: stages named in English too (flow rows, queue CSV stage_en, metrics CSVs)")
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
}
