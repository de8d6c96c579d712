import Storage

/// The notification database: the delivery log (one row per event, recipient and channel), person
/// subscriptions, webhook subscribers, administrator-edited templates, and the last ticket summary
/// seen per ticket (so intake's events can reach the holder without asking workflow).
public enum NotificationSchema {
    static func deliveries(blob: String) -> String {
        """
        CREATE TABLE notification_deliveries (
            id TEXT PRIMARY KEY,
            event_id TEXT NOT NULL,
            recipient TEXT NOT NULL,
            channel TEXT NOT NULL,
            event_kind TEXT NOT NULL,
            ticket_id TEXT NOT NULL DEFAULT '',
            lane TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '',
            envelope_to TEXT NOT NULL DEFAULT '',
            copies TEXT NOT NULL DEFAULT '',
            message_id TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            payload \(blob) NOT NULL,
            access_level INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            last_answer TEXT NOT NULL DEFAULT '',
            created_at BIGINT NOT NULL,
            sent_at BIGINT,
            resends INTEGER NOT NULL DEFAULT 0,
            webhook_id TEXT NOT NULL DEFAULT '',
            CONSTRAINT notification_deliveries_once UNIQUE (event_id, recipient, channel)
        );
        CREATE INDEX notification_deliveries_due ON notification_deliveries (state, lane, next_attempt_at);
        CREATE INDEX notification_deliveries_ticket ON notification_deliveries (ticket_id, created_at);
        CREATE INDEX notification_deliveries_recipient ON notification_deliveries (recipient, created_at);
        CREATE TABLE notification_subscriptions (
            person TEXT NOT NULL,
            event_kind TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (person, event_kind)
        );
        CREATE TABLE notification_webhooks (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            event_kinds TEXT NOT NULL,
            access_level INTEGER NOT NULL DEFAULT 0,
            internal_entries INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE notification_templates (
            event_kind TEXT NOT NULL,
            locale TEXT NOT NULL,
            subject TEXT NOT NULL,
            text_body TEXT NOT NULL,
            html_body TEXT NOT NULL DEFAULT '',
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (event_kind, locale)
        );
        CREATE TABLE notification_tickets (
            ticket_id TEXT PRIMARY KEY,
            summary \(blob) NOT NULL,
            updated_at BIGINT NOT NULL
        );
        """
    }

    /// Versioned migrations (appended to, never edited).
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "deliveries, subscriptions, webhooks, templates, tickets",
                  sqlite: deliveries(blob: "BLOB"), postgres: deliveries(blob: "BYTEA")),
        // Which instance holds a `sending` delivery, so instances sharing one database take over
        // only what a dead instance left (its lease, in next_attempt_at, expired).
        Migration(version: 2, name: "delivery claim owner",
                  sql: "ALTER TABLE notification_deliveries ADD COLUMN claimed_by TEXT NOT NULL DEFAULT ''"),
        // The lease of a `sending` claim in its own column (renewed while held; next_attempt_at
        // keeps only its meaning for queued rows).
        Migration(version: 3, name: "delivery claim lease", sql: """
            ALTER TABLE notification_deliveries ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
            UPDATE notification_deliveries SET claimed_until = next_attempt_at WHERE state = 'sending';
            """),
        // Retention prunes finished rows by age; dead letters are listed oldest first.
        Migration(version: 4, name: "delivery log by age",
                  sql: "CREATE INDEX notification_deliveries_created ON notification_deliveries (created_at, id)"),
        // Large messages (attachments fetched from intake) stored in pieces, streamed when sent.
        Migration(version: 5, name: "payload chunks",
                  sqlite: payloadChunks(blob: "BLOB"), postgres: payloadChunks(blob: "BYTEA")),
        // Planning keeps templates, webhooks and subscriptions in memory (PlanningCache) and
        // checks this version, bumped by every write to those tables, once per event.
        Migration(version: 6, name: "configuration version", sqlite: configVersionSQLite, postgres: configVersionPostgres),
        // Addresses no longer e-mailed (a permanent bounce, or an administrator), part of the
        // configuration planning keeps in memory (its writes bump the version too).
        Migration(version: 7, name: "suppressed addresses",
                  sqlite: suppressions + versionTriggersSQLite(["notification_suppressions"]),
                  postgres: suppressions + versionTriggersPostgres(["notification_suppressions"])),
        // Who hears of what, as administrators edited it (over NOTIFICATION_RULES_FILE or the
        // defaults), part of the configuration planning keeps in memory, and the log of edits.
        Migration(version: 8, name: "rules edited by administrators",
                  sqlite: editedRules + versionTriggersSQLite(editedRuleTables),
                  postgres: editedRules + versionTriggersPostgres(editedRuleTables)),
        // A rotated webhook secret keeps signing, beside the new one, until the receiver switched.
        Migration(version: 9, name: "previous webhook secret", sql: """
            ALTER TABLE notification_webhooks ADD COLUMN previous_secret TEXT NOT NULL DEFAULT '';
            ALTER TABLE notification_webhooks ADD COLUMN previous_until BIGINT NOT NULL DEFAULT 0;
            """),
        // Each ticket's current confidentiality level (workflow's latest summary, and its
        // TicketAccessLevelChanged): the delivery log hides a ticket's rows from callers below
        // it, whatever the level was when they were planned. Tickets cached before: 0 until
        // workflow's next event about them (each row's own level still applies).
        Migration(version: 10, name: "ticket's current access level",
                  sql: "ALTER TABLE notification_tickets ADD COLUMN access_level INTEGER NOT NULL DEFAULT 0"),
        // Which tickets an edited audience rule and a webhook apply to (category, priority,
        // product, module, organization; TicketCriteria's text, empty: every ticket, as before).
        Migration(version: 11, name: "rule and webhook ticket filters", sql: """
            ALTER TABLE notification_audience_rules ADD COLUMN ticket_filter TEXT NOT NULL DEFAULT '';
            ALTER TABLE notification_webhooks ADD COLUMN ticket_filter TEXT NOT NULL DEFAULT '';
            """),
        // Several rules per event kind, each with its audiences, fixed addresses and filter
        // (notification_audience_rules keeps which kinds are edited, by whom, when). Each stored
        // rule becomes its kind's one rule, unchanged; a kind stored with no audiences keeps none
        // (nobody by e-mail).
        Migration(version: 12, name: "several audience rules per kind",
                  sqlite: ruleEntries + versionTriggersSQLite(["notification_audience_rule_entries"]),
                  postgres: ruleEntries + versionTriggersPostgres(["notification_audience_rule_entries"])),
        // The edited kinds' own audiences and filter, read once by migration 12 (which made each
        // its kind's first rule) and written empty since: nothing reads them. SQLite ≥ 3.35 drops
        // a column in place (Debian's is 3.40; no index, view or trigger names these two).
        Migration(version: 13, name: "edited kinds without their old audiences", sql: """
            ALTER TABLE notification_audience_rules DROP COLUMN audiences;
            ALTER TABLE notification_audience_rules DROP COLUMN ticket_filter;
            """),
        // Which tickets a person's switch applies to (TicketCriteria's text, empty: every ticket,
        // as every switch stored before): `enabled` for those, the opposite for the others.
        Migration(version: 14, name: "subscription ticket filters",
                  sql: "ALTER TABLE notification_subscriptions ADD COLUMN ticket_filter TEXT NOT NULL DEFAULT ''"),
    ]

    /// An edited kind's rules, in order (`position`): audiences and fixed addresses
    /// (comma-separated) and the tickets they apply to (``TicketCriteria``'s text, empty: every ticket).
    static let ruleEntries = """
        CREATE TABLE notification_audience_rule_entries (
            id TEXT PRIMARY KEY,
            event_kind TEXT NOT NULL,
            position BIGINT NOT NULL,
            audiences TEXT NOT NULL,
            addresses TEXT NOT NULL DEFAULT '',
            ticket_filter TEXT NOT NULL DEFAULT '',
            updated_by TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX notification_audience_rule_entries_kind ON notification_audience_rule_entries (event_kind, position);
        INSERT INTO notification_audience_rule_entries (id, event_kind, position, audiences, addresses, ticket_filter, updated_by, updated_at)
            SELECT 'rule-' || event_kind, event_kind, 0, audiences, '', ticket_filter, updated_by, updated_at
            FROM notification_audience_rules WHERE audiences <> '';

        """

    /// An edited kind's audiences (comma-separated; empty: nobody by e-mail); a group's mailbox
    /// (empty address: the file's mailbox for that group no longer applies); every edit.
    static let editedRules = """
        CREATE TABLE notification_audience_rules (
            event_kind TEXT PRIMARY KEY,
            audiences TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE notification_group_mailboxes (
            group_id TEXT PRIMARY KEY,
            address TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE notification_rule_changes (
            id TEXT PRIMARY KEY,
            changed_at BIGINT NOT NULL,
            changed_by TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            value TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX notification_rule_changes_at ON notification_rule_changes (changed_at, id);

        """

    static let editedRuleTables = ["notification_audience_rules", "notification_group_mailboxes"]

    static let suppressions = """
        CREATE TABLE notification_suppressions (
            address TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT '',
            diagnostic TEXT NOT NULL DEFAULT '',
            delivery_id TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            created_at BIGINT NOT NULL
        );

        """

    static let configTables = ["notification_templates", "notification_webhooks", "notification_subscriptions"]

    static var configVersionSQLite: String {
        """
        CREATE TABLE notification_config_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);
        INSERT INTO notification_config_version (id, version) VALUES (1, 0);

        """ + versionTriggersSQLite(configTables)
    }

    /// Triggers bumping `notification_config_version` at every write to `tables` (SQLite).
    static func versionTriggersSQLite(_ tables: [String]) -> String {
        var sql = ""
        for table in tables {
            for operation in ["INSERT", "UPDATE", "DELETE"] {
                sql += """
                    CREATE TRIGGER \(table)_\(operation.lowercased())_version AFTER \(operation) ON \(table) BEGIN
                        UPDATE notification_config_version SET version = version + 1 WHERE id = 1;
                    END;

                    """
            }
        }
        return sql
    }

    static var configVersionPostgres: String {
        """
        CREATE TABLE notification_config_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);
        INSERT INTO notification_config_version (id, version) VALUES (1, 0);
        CREATE FUNCTION notification_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE notification_config_version SET version = version + 1 WHERE id = 1;
            RETURN NULL;
        END $$;

        """ + versionTriggersPostgres(configTables)
    }

    /// Triggers bumping `notification_config_version` at every write to `tables` (PostgreSQL).
    static func versionTriggersPostgres(_ tables: [String]) -> String {
        var sql = ""
        for table in tables {
            sql += """
                CREATE TRIGGER \(table)_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON \(table)
                    FOR EACH STATEMENT EXECUTE FUNCTION notification_config_changed();

                """
        }
        return sql
    }

    static func payloadChunks(blob: String) -> String {
        """
        CREATE TABLE notification_payload_chunks (
            delivery_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            data \(blob) NOT NULL,
            PRIMARY KEY (delivery_id, seq)
        );
        ALTER TABLE notification_deliveries ADD COLUMN payload_bytes BIGINT NOT NULL DEFAULT 0;
        """
    }
}
