import Storage

/// The workflow database's schema. Versions 1–99 belong to the workflow core; 100 and up to the
/// SLA, timers, survey and metrics parts (see docs/WORKFLOW.md, "Extension seam").
///
/// Integers are `BIGINT` on both engines (SQLite gives the name integer affinity), booleans are
/// 0/1 and timestamps epoch milliseconds.
public enum WorkflowSchema {
    /// Migrations of the workflow core, in version order.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "staff_directory", sql: """
            CREATE TABLE agents (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL DEFAULT '',
                max_access_level BIGINT NOT NULL DEFAULT 0, active BIGINT NOT NULL DEFAULT 1,
                chefe_agent_id TEXT, is_chefe BIGINT NOT NULL DEFAULT 0, role TEXT NOT NULL DEFAULT '',
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
            CREATE INDEX agents_chefe ON agents (chefe_agent_id);
            CREATE TABLE staff_groups (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, active BIGINT NOT NULL DEFAULT 1,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
            CREATE TABLE group_members (
                group_id TEXT NOT NULL, agent_id TEXT NOT NULL, added_at BIGINT NOT NULL,
                PRIMARY KEY (group_id, agent_id));
            CREATE INDEX group_members_agent ON group_members (agent_id);
            CREATE TABLE roles (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL);
            CREATE TABLE role_permissions (role TEXT NOT NULL, permission TEXT NOT NULL, PRIMARY KEY (role, permission));
            CREATE TABLE transfer_destinations (
                agent_id TEXT NOT NULL, dest_agent_id TEXT NOT NULL DEFAULT '', dest_group_id TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (agent_id, dest_agent_id, dest_group_id));
            """),
        Migration(version: 2, name: "flows_and_routing", sql: """
            CREATE TABLE flow_stages (
                flow TEXT NOT NULL, stage_key TEXT NOT NULL, name TEXT NOT NULL, customer_name TEXT NOT NULL,
                customer_stage TEXT NOT NULL, position BIGINT NOT NULL, is_final BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (flow, stage_key));
            CREATE TABLE flow_settings (
                flow TEXT PRIMARY KEY, queue_stage TEXT NOT NULL, working_stage TEXT NOT NULL, waiting_stage TEXT NOT NULL);
            CREATE TABLE flow_transitions (
                flow TEXT NOT NULL, position BIGINT NOT NULL, from_stage TEXT NOT NULL, to_stage TEXT NOT NULL,
                trigger_kind TEXT NOT NULL, categories TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL DEFAULT '',
                requires_note BIGINT NOT NULL DEFAULT 0, requires_public_note BIGINT NOT NULL DEFAULT 0,
                permission TEXT NOT NULL DEFAULT '', after_days BIGINT NOT NULL DEFAULT 0, label TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (flow, position));
            CREATE TABLE routing_rules (
                id TEXT PRIMARY KEY, position BIGINT NOT NULL, plan TEXT NOT NULL DEFAULT '', product TEXT NOT NULL DEFAULT '',
                module TEXT NOT NULL DEFAULT '', category BIGINT NOT NULL DEFAULT 0, priority BIGINT NOT NULL DEFAULT 0,
                group_id TEXT NOT NULL);
            CREATE INDEX routing_rules_position ON routing_rules (position, id);
            CREATE TABLE category_levels (category BIGINT PRIMARY KEY, access_level BIGINT NOT NULL);
            """),
        Migration(version: 3, name: "tickets", sql: """
            CREATE TABLE tickets (
                id TEXT PRIMARY KEY, code TEXT NOT NULL DEFAULT '',
                organization_id TEXT NOT NULL DEFAULT '', organization_name TEXT NOT NULL DEFAULT '',
                organization_email TEXT NOT NULL DEFAULT '', plan TEXT NOT NULL DEFAULT '',
                contact_id TEXT NOT NULL DEFAULT '', contact_name TEXT NOT NULL DEFAULT '', contact_email TEXT NOT NULL DEFAULT '',
                contact_phone TEXT NOT NULL DEFAULT '', representative_id TEXT NOT NULL DEFAULT '',
                representative_name TEXT NOT NULL DEFAULT '', representative_email TEXT NOT NULL DEFAULT '',
                registered_by_agent_id TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL DEFAULT '', origin BIGINT NOT NULL DEFAULT 0,
                declared_category BIGINT NOT NULL DEFAULT 0, declared_priority BIGINT NOT NULL DEFAULT 0,
                category BIGINT NOT NULL DEFAULT 0, priority BIGINT NOT NULL DEFAULT 0,
                product TEXT NOT NULL DEFAULT '', module TEXT NOT NULL DEFAULT '',
                subject TEXT NOT NULL DEFAULT '', request_text TEXT NOT NULL DEFAULT '', solution_text TEXT NOT NULL DEFAULT '',
                flow TEXT NOT NULL, stage TEXT NOT NULL, stage_since BIGINT NOT NULL, is_open BIGINT NOT NULL DEFAULT 1,
                status TEXT NOT NULL DEFAULT '', status_reason TEXT NOT NULL DEFAULT '', status_by_id TEXT NOT NULL DEFAULT '',
                status_by_name TEXT NOT NULL DEFAULT '', status_at BIGINT NOT NULL DEFAULT 0,
                outcome TEXT NOT NULL DEFAULT '', public_note TEXT NOT NULL DEFAULT '',
                group_id TEXT NOT NULL DEFAULT '', agent_id TEXT NOT NULL DEFAULT '',
                access_level BIGINT NOT NULL DEFAULT 0, service_type TEXT NOT NULL DEFAULT 'support', locale TEXT NOT NULL DEFAULT '',
                opened_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_interaction_at BIGINT NOT NULL,
                first_response_at BIGINT NOT NULL DEFAULT 0, finished_at BIGINT NOT NULL DEFAULT 0,
                unread_count BIGINT NOT NULL DEFAULT 0, scheduled_for BIGINT NOT NULL DEFAULT 0, schedule_count BIGINT NOT NULL DEFAULT 0,
                transfer_count BIGINT NOT NULL DEFAULT 0, ping_pong BIGINT NOT NULL DEFAULT 0, reopen_count BIGINT NOT NULL DEFAULT 0);
            CREATE INDEX tickets_stage_opened ON tickets (stage, opened_at, id);
            CREATE INDEX tickets_group_stage_opened ON tickets (group_id, stage, opened_at, id);
            CREATE INDEX tickets_agent_stage_opened ON tickets (agent_id, stage, opened_at, id);
            CREATE INDEX tickets_open_opened ON tickets (is_open, opened_at, id);
            CREATE INDEX tickets_opened ON tickets (opened_at, id);
            CREATE INDEX tickets_org_interaction ON tickets (organization_id, last_interaction_at, id);
            CREATE INDEX tickets_code ON tickets (code);
            CREATE TABLE ticket_search (
                ticket_id TEXT PRIMARY KEY, subject TEXT NOT NULL DEFAULT '', request TEXT NOT NULL DEFAULT '',
                discussion TEXT NOT NULL DEFAULT '', solution TEXT NOT NULL DEFAULT '');
            CREATE TABLE ticket_attachments (
                ticket_id TEXT NOT NULL, attachment_id TEXT NOT NULL, file_name TEXT NOT NULL DEFAULT '',
                content_type TEXT NOT NULL DEFAULT '', size_bytes BIGINT NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '',
                message_id TEXT NOT NULL DEFAULT '', added_at BIGINT NOT NULL, PRIMARY KEY (ticket_id, attachment_id));
            CREATE TABLE discussion_entries (
                id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL, is_public BIGINT NOT NULL,
                text TEXT NOT NULL, author_id TEXT NOT NULL DEFAULT '', author_name TEXT NOT NULL DEFAULT '',
                author_kind TEXT NOT NULL DEFAULT '', publishable BIGINT NOT NULL DEFAULT 0, message_id TEXT NOT NULL DEFAULT '',
                added_at BIGINT NOT NULL);
            CREATE INDEX discussion_ticket ON discussion_entries (ticket_id, seq);
            CREATE TABLE text_versions (
                ticket_id TEXT NOT NULL, field TEXT NOT NULL, version BIGINT NOT NULL, text TEXT NOT NULL,
                author_id TEXT NOT NULL DEFAULT '', author_name TEXT NOT NULL DEFAULT '', at BIGINT NOT NULL,
                PRIMARY KEY (ticket_id, field, version));
            CREATE TABLE ticket_history (
                id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, at BIGINT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL,
                old_value TEXT NOT NULL DEFAULT '', new_value TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',
                actor_id TEXT NOT NULL DEFAULT '', actor_name TEXT NOT NULL DEFAULT '');
            CREATE INDEX ticket_history_ticket ON ticket_history (ticket_id, at, seq);
            CREATE TABLE transfers (
                id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, at BIGINT NOT NULL,
                from_agent_id TEXT NOT NULL DEFAULT '', from_group_id TEXT NOT NULL DEFAULT '',
                to_agent_id TEXT NOT NULL DEFAULT '', to_group_id TEXT NOT NULL DEFAULT '',
                note TEXT NOT NULL DEFAULT '', sent_back BIGINT NOT NULL DEFAULT 0, ping_pong BIGINT NOT NULL DEFAULT 0,
                pair_key TEXT NOT NULL, actor_id TEXT NOT NULL DEFAULT '', actor_name TEXT NOT NULL DEFAULT '');
            CREATE INDEX transfers_ticket ON transfers (ticket_id, at);
            CREATE TABLE ticket_links (
                ticket_id TEXT NOT NULL, other_ticket_id TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', at BIGINT NOT NULL,
                actor_id TEXT NOT NULL DEFAULT '', PRIMARY KEY (ticket_id, other_ticket_id));
            CREATE TABLE time_entries (
                id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, agent_id TEXT NOT NULL, organization_id TEXT NOT NULL,
                minutes BIGINT NOT NULL, service_type TEXT NOT NULL, mode TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',
                worked_at BIGINT NOT NULL, month TEXT NOT NULL, created_at BIGINT NOT NULL);
            CREATE INDEX time_entries_ticket ON time_entries (ticket_id);
            CREATE INDEX time_entries_worked ON time_entries (worked_at);
            """),
        Migration(version: 4, name: "backlog_versions_and_steps", sql: """
            ALTER TABLE tickets ADD COLUMN estimated_effort BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE tickets ADD COLUMN promised_delivery_at BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE tickets ADD COLUMN version_id TEXT NOT NULL DEFAULT '';
            ALTER TABLE tickets ADD COLUMN ticket_type TEXT NOT NULL DEFAULT '';
            ALTER TABLE tickets ADD COLUMN step_position BIGINT NOT NULL DEFAULT -1;
            CREATE INDEX tickets_version ON tickets (version_id);
            CREATE TABLE dev_versions (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, target_date BIGINT NOT NULL, delivered_at BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL);
            CREATE TABLE step_sequences (
                ticket_type TEXT NOT NULL, position BIGINT NOT NULL, name TEXT NOT NULL, agent_id TEXT NOT NULL DEFAULT '',
                group_id TEXT NOT NULL DEFAULT '', required_fields TEXT NOT NULL DEFAULT '', PRIMARY KEY (ticket_type, position));
            CREATE TABLE ticket_fields (
                ticket_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (ticket_id, name));
            """),
        // Counts per stage of open tickets read this index only (the visibility columns included).
        Migration(version: 5, name: "index_open_stage_counts", sql: """
            CREATE INDEX tickets_open_stage_level ON tickets (is_open, stage, flow, access_level, agent_id);
            """),
        // Full-text search (Queue/TextIndex.swift): public entries kept apart for customers; SQLite gets
        // an FTS5 index over ticket_search (rebuilt as a table with an INTEGER PRIMARY KEY so the index's
        // rowids survive VACUUM), PostgreSQL tsvector columns with GIN indexes. Existing rows are indexed.
        Migration(version: 6, name: "ticket_full_text_search", sqlite: """
            CREATE TABLE ticket_search_v6 (
                seq INTEGER PRIMARY KEY, ticket_id TEXT NOT NULL UNIQUE, subject TEXT NOT NULL DEFAULT '',
                request TEXT NOT NULL DEFAULT '', discussion TEXT NOT NULL DEFAULT '', solution TEXT NOT NULL DEFAULT '',
                public_discussion TEXT NOT NULL DEFAULT '');
            INSERT INTO ticket_search_v6 (ticket_id, subject, request, discussion, solution, public_discussion)
                SELECT s.ticket_id,
                    trim(replace(replace(replace(replace(replace(replace(s.subject, ',', ' '), '.', ' '), ':', ' '), ';', ' '), '-', ' '), '/', ' ')),
                    s.request, s.discussion, s.solution,
                    COALESCE((SELECT group_concat(d.text, ' ') FROM discussion_entries d WHERE d.ticket_id = s.ticket_id AND d.is_public = 1), '')
                FROM ticket_search s;
            DROP TABLE ticket_search;
            ALTER TABLE ticket_search_v6 RENAME TO ticket_search;
            CREATE VIRTUAL TABLE ticket_fts USING fts5(
                subject, request, solution, discussion, public_discussion,
                content = 'ticket_search', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2');
            INSERT INTO ticket_fts (ticket_fts) VALUES ('rebuild');
            CREATE TRIGGER ticket_fts_insert AFTER INSERT ON ticket_search BEGIN
                INSERT INTO ticket_fts (rowid, subject, request, solution, discussion, public_discussion)
                VALUES (new.seq, new.subject, new.request, new.solution, new.discussion, new.public_discussion);
            END;
            CREATE TRIGGER ticket_fts_delete AFTER DELETE ON ticket_search BEGIN
                INSERT INTO ticket_fts (ticket_fts, rowid, subject, request, solution, discussion, public_discussion)
                VALUES ('delete', old.seq, old.subject, old.request, old.solution, old.discussion, old.public_discussion);
            END;
            CREATE TRIGGER ticket_fts_update AFTER UPDATE ON ticket_search BEGIN
                INSERT INTO ticket_fts (ticket_fts, rowid, subject, request, solution, discussion, public_discussion)
                VALUES ('delete', old.seq, old.subject, old.request, old.solution, old.discussion, old.public_discussion);
                INSERT INTO ticket_fts (rowid, subject, request, solution, discussion, public_discussion)
                VALUES (new.seq, new.subject, new.request, new.solution, new.discussion, new.public_discussion);
            END;
            """, postgres: """
            ALTER TABLE ticket_search ADD COLUMN public_discussion TEXT NOT NULL DEFAULT '';
            UPDATE ticket_search s SET
                subject = btrim(regexp_replace(s.subject, '[^[:alnum:]]+', ' ', 'g')),
                request = btrim(regexp_replace(s.request, '[^[:alnum:]]+', ' ', 'g')),
                solution = btrim(regexp_replace(s.solution, '[^[:alnum:]]+', ' ', 'g')),
                discussion = btrim(regexp_replace(s.discussion, '[^[:alnum:]]+', ' ', 'g')),
                public_discussion = COALESCE((SELECT string_agg(btrim(regexp_replace(
                        translate(lower(d.text), 'áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ',
                                  'aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn'),
                        '[^[:alnum:]]+', ' ', 'g')), ' ' ORDER BY d.seq)
                    FROM discussion_entries d WHERE d.ticket_id = s.ticket_id AND d.is_public = 1), '');
            ALTER TABLE ticket_search ADD COLUMN doc tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('simple', subject), 'A') || setweight(to_tsvector('simple', request), 'B')
                || setweight(to_tsvector('simple', solution), 'C') || setweight(to_tsvector('simple', discussion), 'D')) STORED;
            ALTER TABLE ticket_search ADD COLUMN public_doc tsvector GENERATED ALWAYS AS (
                to_tsvector('simple', subject) || to_tsvector('simple', request) || to_tsvector('simple', solution)
                || to_tsvector('simple', public_discussion)) STORED;
            CREATE INDEX ticket_search_doc ON ticket_search USING GIN (doc);
            CREATE INDEX ticket_search_public_doc ON ticket_search USING GIN (public_doc);
            """),
        // Routing rules and category levels are cached in memory per configuration version
        // (Config/ConfigVersion.swift); the SLA tables get their triggers in migration 160.
        ConfigVersion.migration(version: 7, name: "routing_config_version", tables: ["routing_rules", "category_levels"]),
    ]
}
