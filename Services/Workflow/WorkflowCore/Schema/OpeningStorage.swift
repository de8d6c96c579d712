import Foundation
import Storage

/// Fewer B-trees written per opened ticket (issue 7): migration 170.
///
/// Every opening appends a row to each of these tables. On SQLite a table with a `TEXT` (or
/// composite) primary key is two B-trees, the rowid table and the key's index, so each row is
/// inserted twice and each commit writes the last page of both; `WITHOUT ROWID` keeps the rows
/// in the key's B-tree only (same columns, same key, same secondary indexes). Their rows are
/// small (under a tenth of a page), which is what `WITHOUT ROWID` suits. The tables are rebuilt
/// once (copy, drop, rename); PostgreSQL tables have no rowid and are left as they are.
///
/// `ticket_history` is keyed by `(ticket_id, at, seq, id)` on SQLite: every query reads a ticket's
/// history in `(at, seq)` order (the old `ticket_history_ticket` index), so the rows are kept in
/// that order and the index goes; `id` (unique, time-ordered) keeps the key unique.
///
/// Two indexes no query uses are dropped on both engines: `tickets_code` (tickets are never looked
/// up by code in workflow) and `wf_sla_targets_status` (every query on SLA targets goes by
/// ticket, the primary key's first column).
enum OpeningStorage {
    /// The rebuilt tables: name, columns and primary key as created by their migrations (3, 110,
    /// 120, 130, 150), and the secondary indexes to create again.
    private static let tables: [(name: String, columns: String, key: String, indexes: [String])] = [
        ("text_versions", """
            ticket_id TEXT NOT NULL, field TEXT NOT NULL, version BIGINT NOT NULL, text TEXT NOT NULL,
            author_id TEXT NOT NULL DEFAULT '', author_name TEXT NOT NULL DEFAULT '', at BIGINT NOT NULL
            """, "ticket_id, field, version", []),
        ("ticket_history", """
            id TEXT NOT NULL, ticket_id TEXT NOT NULL, at BIGINT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL,
            old_value TEXT NOT NULL DEFAULT '', new_value TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',
            actor_id TEXT NOT NULL DEFAULT '', actor_name TEXT NOT NULL DEFAULT ''
            """, "ticket_id, at, seq, id", []),
        ("wf_sla_events", """
            ticket_id TEXT NOT NULL, seq INTEGER NOT NULL, at BIGINT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL
            """, "ticket_id, seq", []),
        ("wf_sla_tickets", """
            ticket_id TEXT NOT NULL, plan TEXT NOT NULL, priority INTEGER NOT NULL, stage TEXT NOT NULL, version BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
            """, "ticket_id", []),
        ("wf_sla_targets", """
            ticket_id TEXT NOT NULL, target INTEGER NOT NULL, cycle INTEGER NOT NULL, status TEXT NOT NULL, target_ms BIGINT NOT NULL,
            elapsed_ms BIGINT NOT NULL, due_at BIGINT, warn_at BIGINT, stopped_at BIGINT
            """, "ticket_id, target", []),
        ("wf_timers", """
            id TEXT NOT NULL, ticket_id TEXT NOT NULL, kind TEXT NOT NULL, due_at BIGINT NOT NULL, payload TEXT NOT NULL,
            generation BIGINT NOT NULL, state TEXT NOT NULL, lease_owner TEXT, lease_until BIGINT, attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT, created_at BIGINT NOT NULL, fired_at BIGINT, fired_by TEXT
            """, "id", ["CREATE INDEX wf_timers_due ON wf_timers (state, due_at)",
                        "CREATE UNIQUE INDEX wf_timers_one_pending ON wf_timers (ticket_id, kind) WHERE state = 'pending'"]),
        ("wf_inactivity_tickets", """
            ticket_id TEXT NOT NULL, stage TEXT NOT NULL, entered_at BIGINT NOT NULL, version BIGINT NOT NULL
            """, "ticket_id", []),
        ("wf_metric_tickets", """
            ticket_id TEXT NOT NULL, opened_at BIGINT NOT NULL, opened_day INTEGER NOT NULL, organization_id TEXT NOT NULL,
            category INTEGER NOT NULL, product TEXT NOT NULL, module TEXT NOT NULL, priority INTEGER NOT NULL, plan TEXT NOT NULL,
            group_id TEXT NOT NULL, agent_id TEXT NOT NULL, access_level INTEGER NOT NULL, stage TEXT NOT NULL,
            stage_entered_at BIGINT NOT NULL, is_open INTEGER NOT NULL, finished_at BIGINT, first_response_wall_ms BIGINT,
            first_response_business_ms BIGINT, first_response_met INTEGER, resolution_wall_ms BIGINT, resolution_business_ms BIGINT,
            resolution_met INTEGER, transfers INTEGER NOT NULL, ping_pongs INTEGER NOT NULL, reopens INTEGER NOT NULL,
            survey_score INTEGER
            """, "ticket_id", ["CREATE INDEX wf_metric_tickets_opened ON wf_metric_tickets (opened_at, ticket_id)"]),
    ]

    static let migration: Migration = {
        let drops = """
            DROP INDEX IF EXISTS tickets_code;
            DROP INDEX IF EXISTS wf_sla_targets_status;

            """
        var sqlite = drops
        for table in tables {
            // A rowid table's TEXT key accepted NULL; a WITHOUT ROWID key cannot (no such row is ever written).
            let notNull = table.key.split(separator: ",").map { "\($0.trimmingCharacters(in: .whitespaces)) IS NOT NULL" }
                .joined(separator: " AND ")
            sqlite += """
                CREATE TABLE \(table.name)_v170 (\(table.columns), PRIMARY KEY (\(table.key))) WITHOUT ROWID;
                INSERT INTO \(table.name)_v170 SELECT * FROM \(table.name) WHERE \(notNull);
                DROP TABLE \(table.name);
                ALTER TABLE \(table.name)_v170 RENAME TO \(table.name);

                """
            for index in table.indexes { sqlite += index + ";\n" }
        }
        return Migration(version: 170, name: "opening_storage", sqlite: sqlite, postgres: drops)
    }()
}
