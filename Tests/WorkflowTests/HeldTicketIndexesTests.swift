import Foundation
import Messages
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// Migration 185 (``HeldTicketIndexes``): the agent and version indexes of `tickets` are partial,
/// so an opening writes neither; the queries that seek them say the indexes' condition.
@Suite("Workflow: partial agent and version indexes of tickets")
struct HeldTicketIndexesTests {
    /// SQLite's plan for `sql` (its `detail` lines).
    static func plan(_ harness: WorkflowHarness, _ sql: String, _ params: [SQLValue]) throws -> String {
        try harness.database.read { tx in
            try tx.query("EXPLAIN QUERY PLAN " + sql, params).map { $0.s("detail") }.joined(separator: " | ")
        }
    }

    @Test("SQLite seeks the partial indexes for an agent's tickets and a version's items")
    func sqlitePlans() throws {
        let harness = try WorkflowHarness(.sqlite)
        let agent = try Self.plan(harness, """
            SELECT t.id FROM tickets t WHERE t.agent_id = ? AND \(HeldTicketIndexes.agentCondition) AND t.stage = ? ORDER BY t.opened_at, t.id
            """, [.text("ana"), .text("em_atendimento")])
        #expect(agent.contains("tickets_agent_stage_opened"), "\(agent)")
        let version = try Self.plan(harness, """
            SELECT COUNT(*) FROM tickets t WHERE t.version_id = ? AND \(HeldTicketIndexes.versionCondition)
            """, [.text("v1")])
        #expect(version.contains("tickets_version"), "\(version)")
    }

    @Test("an opened ticket is in neither index until it is held or planned", arguments: TestEngines.all)
    func openedTicketsStayOut(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("H1"), key: "H1")
        let counts = try harness.database.read { tx in
            try tx.queryOne("""
                SELECT (SELECT COUNT(*) FROM tickets t WHERE \(HeldTicketIndexes.agentCondition)) AS held,
                       (SELECT COUNT(*) FROM tickets t WHERE \(HeldTicketIndexes.versionCondition)) AS planned,
                       (SELECT COUNT(*) FROM tickets) AS total
                """)
        }
        #expect(try counts?.int("total") == 1)
        #expect(try counts?.int("held") == 0)
        #expect(try counts?.int("planned") == 0)
    }
}
