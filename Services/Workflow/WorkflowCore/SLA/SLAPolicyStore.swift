import Foundation
import Storage

/// SLA policies kept in `wf_sla_policies`, one row per plan × priority (`*` / 0 = any).
public enum SLAPolicyStore {
    /// Saves (inserts or replaces) `policy`.
    public static func save(_ tx: any SQLExecutor, _ policy: SLAPolicy, at now: Int64 = currentMillis()) throws {
        try tx.execute("DELETE FROM wf_sla_policies WHERE plan = ? AND priority = ?", [.text(policy.plan), .integer(Int64(policy.priority))])
        try tx.execute("""
            INSERT INTO wf_sla_policies (plan, priority, first_response_seconds, next_response_seconds, resolution_seconds,
                                         pause_stages, warning_percent, calendar_id, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(policy.plan), .integer(Int64(policy.priority)), .integer(policy.firstResponseSeconds),
                  .integer(policy.nextResponseSeconds), .integer(policy.resolutionSeconds),
                  .text(policy.pauseStages.sorted().joined(separator: ",")), .integer(Int64(policy.warningPercent)),
                  .text(policy.calendarID), .integer(now)])
    }

    /// Deletes the policy of `plan` × `priority`. - Returns: whether it existed.
    @discardableResult
    public static func delete(_ tx: any SQLExecutor, plan: String, priority: Int32) throws -> Bool {
        try tx.execute("DELETE FROM wf_sla_policies WHERE plan = ? AND priority = ?", [.text(plan), .integer(Int64(priority))]) > 0
    }

    /// Every stored policy, by plan then priority.
    public static func all(_ tx: any SQLExecutor) throws -> [SLAPolicy] {
        try tx.query("SELECT * FROM wf_sla_policies ORDER BY plan, priority").map(policy(from:))
    }

    /// The policy for a ticket: exact plan × priority, then plan × any priority, then any plan ×
    /// priority, then any × any, then ``SLAPolicy/builtIn(priority:)``.
    public static func resolve(_ tx: any SQLExecutor, plan: String, priority: Int32) throws -> SLAPolicy {
        let rows = try tx.query("SELECT * FROM wf_sla_policies WHERE plan IN (?, '*') AND priority IN (?, 0)",
                                [.text(plan), .integer(Int64(priority))])
        return resolve(try rows.map(policy(from:)), plan: plan, priority: priority)
    }

    /// ``resolve(_:plan:priority:)`` among `policies` (all of them, or already those of `plan` or `*`).
    static func resolve(_ policies: [SLAPolicy], plan: String, priority: Int32) -> SLAPolicy {
        let candidates = policies.filter { ($0.plan == plan || $0.plan == "*") && ($0.priority == priority || $0.priority == 0) }
        let ranked = candidates.sorted { rank($0, plan, priority) < rank($1, plan, priority) }
        return ranked.first ?? SLAPolicy.builtIn(priority: priority)
    }

    private static func rank(_ policy: SLAPolicy, _ plan: String, _ priority: Int32) -> Int {
        (policy.plan == plan ? 0 : 2) + (policy.priority == priority ? 0 : 1)
    }

    static func policy(from row: Row) throws -> SLAPolicy {
        let stages = try row.text("pause_stages").split(separator: ",").map(String.init)
        return SLAPolicy(plan: try row.text("plan"), priority: Int32(try row.int("priority")),
                         firstResponseSeconds: try row.int("first_response_seconds"),
                         nextResponseSeconds: try row.int("next_response_seconds"),
                         resolutionSeconds: try row.int("resolution_seconds"),
                         pauseStages: Set(stages), warningPercent: Int32(try row.int("warning_percent")),
                         calendarID: try row.text("calendar_id"))
    }
}
