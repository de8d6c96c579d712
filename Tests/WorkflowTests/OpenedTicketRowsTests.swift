import Foundation
import Messages
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// SQLite openings make the new ticket's row from their values and the learnt defaults instead
/// of asking the insert for it (``OpenedTicketRows``): the same ticket either way.
@Suite("Workflow: new tickets' rows without RETURNING")
struct OpenedTicketRowsTests {
    static let written = ["id", "flow", "stage", "stage_since"]

    /// A `RETURNING *` row: the written columns, then defaults.
    static func returned(_ id: String, stage: String = "fila", serviceType: String = "support") -> Row {
        Row(columns: ["id", "code", "flow", "stage", "stage_since", "is_open", "service_type", "step_position"],
            values: [.text(id), .text(""), .text("padrao"), .text(stage), .integer(5), .integer(1), .text(serviceType), .integer(-1)])
    }

    static func values(_ id: String, stage: String = "fila") -> [SQLValue] {
        [.text(id), .text("padrao"), .text(stage), .integer(5)]
    }

    @Test("the template is used once two openings agree on every default; its rows are RETURNING's")
    func learnsFromTwoAgreeingRows() throws {
        let rows = OpenedTicketRows()
        rows.learn(from: Self.returned("T1"), written: Self.written, values: Self.values("T1"))
        #expect(rows.template == nil)
        rows.learn(from: Self.returned("T2", stage: "outra"), written: Self.written, values: Self.values("T2", stage: "outra"))
        let template = try #require(rows.template)
        let made = rows.row(template, values: Self.values("T3", stage: "fila"), groupName: .text("N1"))
        let expected = Self.returned("T3")
        #expect(made.columns == expected.columns + ["holder_group_name"])
        #expect(made.values == expected.values + [.text("N1")])
    }

    @Test("defaults that differ keep it learning; a written value that comes back changed disables it")
    func refusesWhatItCannotRepeat() {
        let rows = OpenedTicketRows()
        rows.learn(from: Self.returned("T1", serviceType: "support"), written: Self.written, values: Self.values("T1"))
        rows.learn(from: Self.returned("T2", serviceType: "projeto"), written: Self.written, values: Self.values("T2"))
        #expect(rows.template == nil)
        // A value bound as text that came back as an integer (a column's type conversion).
        var converted = Self.values("T3")
        converted[3] = .text("5")
        rows.learn(from: Self.returned("T3", serviceType: "projeto"), written: Self.written, values: converted)
        rows.learn(from: Self.returned("T4", serviceType: "projeto"), written: Self.written, values: Self.values("T4"))
        rows.learn(from: Self.returned("T5", serviceType: "projeto"), written: Self.written, values: Self.values("T5"))
        #expect(rows.template == nil)
    }

    @Test("openings after the template is learnt write the same history, SLA and metrics as the first ones", arguments: TestEngines.all)
    func sameEffects(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        // Opened on a Sunday years ahead: the same SLA due times for all four, and none breached by
        // the SLA sweep between one ticket's check and the next (which made this flaky under load).
        for id in ["T1", "T2", "T3", "T4"] { try harness.deliver(WorkflowHarness.opened(id, openedAt: 1_922_352_800_000), key: id) }
        #expect((harness.lifecycle.openedRows.template != nil) == (engine == .sqlite))
        func effects(_ id: String) throws -> [String] {
            try harness.database.read { tx in
                let history = try tx.query("SELECT kind, new_value, note, actor_id FROM ticket_history WHERE ticket_id = ? ORDER BY seq", [.text(id)])
                let sla = try tx.query("SELECT plan, priority, stage, version FROM wf_sla_tickets WHERE ticket_id = ?", [.text(id)])
                let metric = try tx.query("""
                    SELECT organization_id, category, product, module, priority, plan, group_id, agent_id, access_level, stage, is_open
                    FROM wf_metric_tickets WHERE ticket_id = ?
                    """, [.text(id)])
                let targets = try tx.query("SELECT target, status, due_at FROM wf_sla_targets WHERE ticket_id = ? ORDER BY target", [.text(id)])
                return (history + sla + metric + targets).map { "\($0.values)" }
            }
        }
        let first = try effects("T1")
        #expect(first.count > 3)
        let fourth = try effects("T4")
        #expect(fourth == first, "\(fourth) vs \(first)")
        #expect(try harness.ticket("T4").row?.holder == harness.ticket("T1").row?.holder)
    }
}
