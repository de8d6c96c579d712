import Storage

/// Countdowns planned under an older policy than their stage's are re-planned by the scheduler
/// (docs/WORKFLOW-TIME.md, "A ticket entering the stage while the edit runs").
///
/// Every save of an inactivity policy gives it a new **revision** (a counter, `wf_inactivity_revision`),
/// and every stage entry records the revision of the policy its countdown was planned under
/// (`wf_inactivity_tickets.planned_revision`; 0 without a policy); a policy edit's re-plan records
/// the edit's. On PostgreSQL a ticket entering the stage while an edit runs read the policy
/// before the edit committed and is not seen by the edit's re-plan: it keeps the older revision.
/// Each scheduler round looks for such countdowns (one indexed read) and re-plans them under
/// the rules of an edit (``replan(_:stages:now:)``).
///
/// ```swift
/// inactivity.register(on: scheduler)   // the timers' handlers and this round task
/// ```
extension InactivityEngine {
    /// The revision counter, each policy's revision, each countdown's, and the index the
    /// scheduler's look-up reads (only waiting countdowns: a customer's activity stops one).
    static let revisionsMigration = Migration(version: 201, name: "inactivity_policy_revisions", sql: """
        CREATE TABLE wf_inactivity_revision (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL);
        INSERT INTO wf_inactivity_revision (id, revision) VALUES (1, 0);
        ALTER TABLE wf_inactivity_policies ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE wf_inactivity_tickets ADD COLUMN planned_revision BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX wf_inactivity_tickets_planned ON wf_inactivity_tickets (stage, planned_revision) WHERE customer_acted = 0;
        """)

    /// Countdowns re-planned per stage and round at most (the rest in the next rounds).
    static let staleBatch = 500

    /// Each active policy's stage and revision, and the oldest revision a countdown waiting in
    /// its stage was planned under: an index's first entry (a correlated subquery per active
    /// policy, ordered by the index, so no plan scans the stage's entries).
    private static let oldestPlannedSQL = """
        SELECT p.stage, p.revision,
               (SELECT t.planned_revision FROM wf_inactivity_tickets t WHERE t.stage = p.stage AND t.customer_acted = 0
                ORDER BY t.planned_revision LIMIT 1) AS oldest
        FROM wf_inactivity_policies p WHERE p.active = 1
        """

    /// Re-plans, at `now`, up to ``staleBatch`` countdowns per stage planned under an older
    /// revision than the stage's active policy, and records that policy's revision on them.
    /// Usually it finds none, by one indexed read (no write transaction). On PostgreSQL the
    /// countdowns are locked `SKIP LOCKED`: one a stage change, a reply or an edit holds is
    /// left to a later round (an edit re-plans it itself), and instances sharing the database
    /// re-plan disjoint ones. A timer firing meanwhile locks its countdown after its timer row,
    /// this the other way round: a deadlock PostgreSQL breaks by failing one side, retried (the
    /// timer after its retry delay, this at the next round), as for an edit.
    /// - Returns: how many countdowns were re-planned.
    @discardableResult
    public func replanStale(_ database: any Database, now: Int64) throws -> Int {
        let stale = try database.read { tx in
            try tx.query(Self.oldestPlannedSQL, []).contains { row in
                guard let oldest = try row.optionalInt("oldest") else { return false }
                return oldest < (try row.int("revision"))
            }
        }
        guard stale else { return 0 }
        return try database.write { tx in
            var planned = 0
            for (policy, revision) in try InactivityPolicyStore.allRevised(tx) where policy.active {
                let lock = tx.engine == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
                let ids = try tx.query("""
                    SELECT ticket_id FROM wf_inactivity_tickets WHERE stage = ? AND customer_acted = 0 AND planned_revision < ?
                    ORDER BY ticket_id LIMIT ?
                    """ + lock, [.text(policy.stage), .integer(revision), .integer(Int64(Self.staleBatch))]).map { SQLValue.text(try $0.text("ticket_id")) }
                guard !ids.isEmpty else { continue }
                let list = Array(repeating: "?", count: ids.count).joined(separator: ", ")
                planned += try replan(tx, try waitingCountdowns(tx, where: "t.ticket_id IN (\(list))", ids, lock: ""), policy: policy, now: now)
                try tx.execute("UPDATE wf_inactivity_tickets SET planned_revision = ? WHERE ticket_id IN (\(list))", [.integer(revision)] + ids)
            }
            return planned
        }
    }
}

extension InactivityPolicyStore {
    /// A revision newer than every earlier one. On PostgreSQL the counter's row also orders
    /// policy edits: a second edit waits for the first to commit.
    static func nextRevision(_ tx: any SQLExecutor) throws -> Int64 {
        guard let revision = try tx.scalar("UPDATE wf_inactivity_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision", [])
            .integerValue else { throw StorageError(.other, "wf_inactivity_revision has no row") }
        return revision
    }
}
