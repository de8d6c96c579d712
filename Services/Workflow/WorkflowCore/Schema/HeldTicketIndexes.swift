import Storage

/// Two `tickets` indexes an opening no longer writes (issue 7): migration 185.
///
/// A new ticket has no agent and no development version (`agent_id` and `version_id` are `''`
/// until someone takes it or plans it), yet every opening added an entry to
/// `tickets_agent_stage_opened` and to `tickets_version`. Every query that seeks them names a
/// real agent or version (an agent's queue, the agent filter, a version's items and count), so
/// both become partial, `WHERE agent_id <> ''` and `WHERE version_id <> ''`, as the metrics'
/// holder index already is (migration 180); those queries say the condition too
/// (``agentCondition``, ``versionCondition``), which is what lets both engines use a partial
/// index with a bound value. Measured on SQLite (docs/BENCHMARKS-workflow.md, 2026-11-30): a
/// ticket insert with the eight secondary indexes 22.2–22.4 µs of CPU, with these two partial
/// 19.3–20.2 µs.
enum HeldTicketIndexes {
    /// What a query seeking an agent's tickets adds (tickets alias `t`).
    static let agentCondition = "t.agent_id <> ''"
    /// What a query seeking a version's tickets adds (tickets alias `t`).
    static let versionCondition = "t.version_id <> ''"

    static let migration = Migration(version: 185, name: "held_ticket_indexes", sql: """
        DROP INDEX tickets_agent_stage_opened;
        CREATE INDEX tickets_agent_stage_opened ON tickets (agent_id, stage, opened_at, id) WHERE agent_id <> '';
        DROP INDEX tickets_version;
        CREATE INDEX tickets_version ON tickets (version_id) WHERE version_id <> '';
        """)
}
