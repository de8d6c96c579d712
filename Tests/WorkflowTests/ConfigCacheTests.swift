import Foundation
import Messages
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// Routing rules, category levels, SLA policies and calendars are kept in memory per
/// configuration version (a row the tables' triggers change): openings see every committed
/// change, whoever made it, and read the tables again only after one.
@Suite("Workflow: configuration cache")
struct ConfigCacheTests {
    func version(_ harness: WorkflowHarness) throws -> Int64 {
        try harness.database.read { try $0.queryOne("SELECT version FROM wf_config_version WHERE id = 1", [])?.int("version") ?? -1 }
    }

    func group(_ harness: WorkflowHarness, _ id: String) throws -> String {
        try harness.database.read { try $0.queryOne("SELECT group_id FROM tickets WHERE id = ?", [.text(id)])?.text("group_id") ?? "?" }
    }

    func resolutionTarget(_ harness: WorkflowHarness, _ id: String) throws -> Int64 {
        try harness.database.read {
            try $0.queryOne("SELECT MAX(target_ms) AS n FROM wf_sla_targets WHERE ticket_id = ?", [.text(id)])?.int("n") ?? -1
        }
    }

    @Test("a change by plain SQL (as another instance would make it) is seen by the next opening; no change, no reload; a rolled-back change leaves none",
          arguments: TestEngines.all)
    func changesSeenAcrossWriters(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let routing = harness.lifecycle.routing
        try harness.deliver(WorkflowHarness.opened("T1"), key: "T1")
        #expect(try group(harness, "T1") == "n1")
        #expect(try resolutionTarget(harness, "T1") == 40 * 3_600_000, "built-in normal policy: 40 h")
        let loads = routing.loads.load(ordering: .relaxed)
        try harness.deliver(WorkflowHarness.opened("T2"), key: "T2")
        #expect(routing.loads.load(ordering: .relaxed) == loads, "unchanged configuration: not read again")

        // Written behind the service's back: only the triggers can tell the cache.
        try harness.database.write { tx in
            _ = try tx.execute("UPDATE routing_rules SET group_id = 'n2' WHERE id = 'default'", [])
            try SLAPolicyStore.save(tx, SLAPolicy(firstResponseSeconds: 3_600, nextResponseSeconds: 3_600, resolutionSeconds: 7 * 3_600))
        }
        try harness.deliver(WorkflowHarness.opened("T3"), key: "T3")
        #expect(try group(harness, "T3") == "n2")
        #expect(try resolutionTarget(harness, "T3") == 7 * 3_600_000, "the stored policy")

        // A change that is rolled back: the version it produced is never seen again.
        let before = try version(harness)
        struct Abandon: Error {}
        #expect(throws: Abandon.self) {
            try harness.database.write { tx in
                _ = try tx.execute("UPDATE routing_rules SET group_id = 'produto' WHERE id = 'default'", [])
                throw Abandon()
            }
        }
        #expect(try version(harness) == before)
        try harness.deliver(WorkflowHarness.opened("T4"), key: "T4")
        #expect(try group(harness, "T4") == "n2")
    }

    @Test("every write to a configuration table changes the version", arguments: TestEngines.all)
    func triggers(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        let statements = [
            "INSERT INTO routing_rules (id, position, group_id) VALUES ('r', 1, 'g')",
            "UPDATE routing_rules SET group_id = 'h' WHERE id = 'r'",
            "DELETE FROM routing_rules WHERE id = 'r'",
            "INSERT INTO category_levels (category, access_level) VALUES (3, 1)",
            "UPDATE category_levels SET access_level = 2",
            "DELETE FROM category_levels",
            "INSERT INTO wf_calendars (id, name, time_zone, weekly_hours, national_holidays, updated_at) VALUES ('c', 'C', 'America/Sao_Paulo', '{}', 1, 0)",
            "INSERT INTO wf_calendar_days (calendar_id, day, kind, name) VALUES ('c', '2026-12-24', 'holiday', 'Véspera')",
            "DELETE FROM wf_calendar_days",
            "UPDATE wf_calendars SET name = 'D'",
            "DELETE FROM wf_calendars",
            "INSERT INTO wf_sla_policies (plan, priority, first_response_seconds, next_response_seconds, resolution_seconds, pause_stages, warning_percent, calendar_id, updated_at) VALUES ('*', 0, 1, 1, 1, '', 80, '', 0)",
            "UPDATE wf_sla_policies SET resolution_seconds = 2",
            "DELETE FROM wf_sla_policies",
            "INSERT INTO wf_inactivity_policies (id, stage, days, business_days, reminder_days, to_stage, outcome, calendar_id, active, updated_at) VALUES ('p', 's', 3, 0, 0, 't', '', '', 1, 0)",
            "UPDATE wf_inactivity_policies SET days = 4",
            "DELETE FROM wf_inactivity_policies",
        ]
        var seen = [try version(harness)]
        for sql in statements {
            try harness.database.write { tx in _ = try tx.execute(sql, []) }
            let now = try version(harness)
            #expect(!seen.contains(now), "\(sql)")
            seen.append(now)
        }
    }

    @Test("a delivery's transaction reads the configuration version once on SQLite (one snapshot, one writer), each time on PostgreSQL",
          arguments: TestEngines.all)
    func versionReadOncePerTransaction(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowService.migrations)
        let (first, second) = try database.write { tx -> (Int64, Int64) in
            var versions: [Int64] = []
            try ConfigVersion.perTransaction(tx) {
                versions.append(try ConfigVersion.read(tx))
                try tx.execute("UPDATE wf_config_version SET version = 42 WHERE id = 1")
                versions.append(try ConfigVersion.read(tx))
            }
            return (versions[0], versions[1])
        }
        #expect(first != 42)
        #expect(second == (engine == .sqlite ? first : 42))
        // The next transaction reads it again.
        #expect(try database.write { tx in try ConfigVersion.read(tx) } == 42)
    }
}
