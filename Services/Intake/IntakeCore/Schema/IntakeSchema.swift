import Storage

/// Intake's tables. Appended to, never edited.
///
/// Booleans are `INTEGER` 0/1 and times epoch milliseconds (docs/STORAGE.md). Name lookups use a
/// folded `*_key` column compared by range, which both engines serve from a B-tree (on
/// PostgreSQL the column is `COLLATE "C"` so the range is byte order whatever the locale).
enum IntakeSchema {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "directory", sqlite: directory(text: "TEXT", blob: "BLOB", int: "INTEGER", collate: ""),
                  postgres: directory(text: "TEXT", blob: "BYTEA", int: "BIGINT", collate: " COLLATE \"C\"")),
        Migration(version: 2, name: "tickets", sqlite: tickets(blob: "BLOB", int: "INTEGER"),
                  postgres: tickets(blob: "BYTEA", int: "BIGINT")),
        Migration(version: 3, name: "catalog", sqlite: catalog(int: "INTEGER"), postgres: catalog(int: "BIGINT")),
        Migration(version: 4, name: "representative_contacts", sqlite: representativeContacts(int: "INTEGER", collate: ""),
                  postgres: representativeContacts(int: "BIGINT", collate: " COLLATE \"C\"")),
        // The garbage collector's two questions: old uploads on no ticket, contents no attachment uses.
        Migration(version: 5, name: "garbage_collection_indexes", sql: """
            CREATE INDEX attachments_pending ON attachments (created_at) WHERE ticket_id IS NULL;
            CREATE INDEX attachments_sha256 ON attachments (sha256);
            """),
        Migration(version: 6, name: "mail_quarantine_and_bounces", sqlite: mailQuarantine(blob: "BLOB", int: "INTEGER"),
                  postgres: mailQuarantine(blob: "BYTEA", int: "BIGINT")),
        // No query reads tickets by organization (organizations are never deleted, so no foreign
        // key check needs it either): one B-tree less to write per open.
        Migration(version: 7, name: "drop_tickets_organization_index", sql: "DROP INDEX tickets_organization"),
        // PostgreSQL: the uniqueness of an e-mail's Message-ID only where there is one, so the
        // index no longer takes an entry (a NULL) for every ticket opened elsewhere. SQLite keeps
        // its column constraint: dropping it means rebuilding `tickets`, which other tables
        // reference (docs/BENCHMARKS-intake.md, "Fourth pass"); migration 23 does.
        Migration(version: 8, name: "tickets_email_message_id_partial",
                  sqlite: "SELECT 1",
                  postgres: """
                      ALTER TABLE tickets DROP CONSTRAINT tickets_email_message_id_key;
                      CREATE UNIQUE INDEX tickets_email_message_id ON tickets (email_message_id) WHERE email_message_id IS NOT NULL;
                      """),
        // SQLite: the double-submission check is answered from memory (RecentSubmissions): this
        // index, keyed by contact, took a page of its own in every open's commit. PostgreSQL
        // keeps it (its check reads it, several processes share the server).
        Migration(version: 9, name: "sqlite_drop_tickets_duplicates",
                  sqlite: "DROP INDEX tickets_duplicates",
                  postgres: "SELECT 1"),
        // Small contents kept in their row instead of a file (``ContentUpload``; NULL: a file).
        // Version 20 leaves room for the open path's own migrations.
        Migration(version: 20, name: "contents_inline_data", sqlite: "ALTER TABLE contents ADD COLUMN data BLOB",
                  postgres: "ALTER TABLE contents ADD COLUMN data BYTEA"),
        // No query looks attachments up by uploader (a named upload is found by id, then its
        // uploader compared): the index only cost a B-tree write per attachment.
        Migration(version: 21, name: "drop_attachments_uploader_index", sql: "DROP INDEX attachments_uploader"),
        // A file's place among its ticket's (or reply's) files, in the order the open or reply
        // gave them (``IntakeContext/link(_:_:ticketID:organizationID:messageID:firstPosition:addToTicketTotal:)``).
        // Listed by position, then creation and id: rows from before keep 0, and with it the
        // order they were listed in until now. A constant default, so neither engine rewrites
        // the table (SQLite changes the schema only; PostgreSQL ≥ 11 stores the default once).
        Migration(version: 22, name: "attachments_position",
                  sqlite: "ALTER TABLE attachments ADD COLUMN position INTEGER NOT NULL DEFAULT 0",
                  postgres: "ALTER TABLE attachments ADD COLUMN position BIGINT NOT NULL DEFAULT 0"),
        // SQLite: what migration 8 did on PostgreSQL (``sqliteTicketsRebuild``).
        Migration(version: 23, name: "sqlite_tickets_email_message_id_partial", sqlite: sqliteTicketsRebuild, postgres: "SELECT 1"),
        // Each content counts the attachment rows naming it (`ref_count`): the garbage collector
        // finds unreferenced contents in a partial index of the few at 0, instead of through an
        // index on `attachments (sha256)`, whose random keys cost a write in a random leaf page
        // for every attachment (docs/BENCHMARKS-intake.md, "Reference counts"). The foreign key
        // from attachments to contents goes with that index (deleting a content would otherwise
        // scan `attachments`); SQLite drops it by rebuilding `attachments`, which no table references.
        Migration(version: 24, name: "contents_reference_counts", sqlite: contentReferenceCounts(sqlite: true),
                  postgres: contentReferenceCounts(sqlite: false)),
        // Staff-only files (`AttachmentRef.internal`): an internal discussion entry's files, or an
        // upload an agent marked internal. Never listed to customers or representatives, nor
        // downloadable by them (``IntakeContext/download(_:caller:send:)``). A constant default:
        // neither engine rewrites the table, and every file from before stays as visible as it was.
        Migration(version: 25, name: "attachments_internal",
                  sqlite: "ALTER TABLE attachments ADD COLUMN internal INTEGER NOT NULL DEFAULT 0",
                  postgres: "ALTER TABLE attachments ADD COLUMN internal BIGINT NOT NULL DEFAULT 0"),
        // The ticket a held e-mail was threaded to (reply token, In-Reply-To, References) when it
        // was held: '' none, NULL not looked for yet (rows from before, looked for once at start,
        // ``IntakeContext/recordQuarantineThreads(tokens:)``). An agent reads a quarantined
        // message only when workflow lets them see the tickets it names
        // (``IntakeContext/requireQuarantineAccess(_:caller:)``). No default: no row rewritten.
        Migration(version: 26, name: "mail_quarantine_thread_ticket", sql: "ALTER TABLE mail_quarantine ADD COLUMN thread_ticket_id TEXT"),
        // The integration key (principal kind integration) that opened a ticket, '' otherwise:
        // until workflow has the ticket that key may touch it, as the registering agent may
        // (``IntakeContext/requireTicketAccess(_:caller:toAct:)``). Intake's own: not in the
        // ticket's snapshot nor in TicketOpened. A constant default: no row rewritten.
        Migration(version: 27, name: "tickets_registered_by_integration",
                  sql: "ALTER TABLE tickets ADD COLUMN registered_by_integration TEXT NOT NULL DEFAULT ''"),
        // A ticket's messages in commit order: each reply takes the next `seq` of its ticket
        // (`tickets.last_message_seq`) under the ticket row's lock, held until its commit
        // (``TicketStore/nextMessageSequence(_:ticketID:)``), and `GetTicket` lists by it. Rows
        // from before are numbered in the order they were listed in (creation time, then id).
        Migration(version: 28, name: "ticket_messages_sequence", sqlite: messageSequence(int: "INTEGER"),
                  postgres: messageSequence(int: "BIGINT")),
        // The tickets a held e-mail names by code in its subject or text (ids, space-separated;
        // ``IntakeContext/quarantineTickets(_:_:tokens:)``): '' none, NULL not looked for yet (rows from
        // before, looked for once at start with the threads). Never used for threading; an
        // agent reads the message only when workflow lets them see each of them too.
        Migration(version: 29, name: "mail_quarantine_named_tickets", sql: "ALTER TABLE mail_quarantine ADD COLUMN named_ticket_ids TEXT"),
        // A ticket's files are looked up by `ticket_id = ?`, never by `ticket_id IS NULL`: the
        // index keeps only files on a ticket. An upload no longer writes a NULL entry into it
        // (and on SQLite the open's link no longer deletes that entry), and no planner can pick it
        // to find pending uploads (docs/BENCHMARKS-intake.md, "Pending uploads read by primary
        // key"). Both engines use a partial index for `ticket_id = ?`, which implies `IS NOT NULL`.
        // Rebuilds the index (one pass over `attachments`); no row is rewritten.
        Migration(version: 30, name: "attachments_ticket_partial", sql: """
            DROP INDEX attachments_ticket;
            CREATE INDEX attachments_ticket ON attachments (ticket_id) WHERE ticket_id IS NOT NULL;
            """),
        // An organization's representatives (ListOrganizationRepresentatives) are found by
        // `organization_id`; the primary key leads with `representative_id`.
        Migration(version: 31, name: "representative_organizations_organization",
                  sql: "CREATE INDEX representative_organizations_organization ON representative_organizations (organization_id)"),
        // The customer lookup matches the start of any word of a name ("Silva" finds "Maria da
        // Silva"), not only of the whole name: each later word of a name, on (``NameWords``),
        // filled from the names stored before. One row per word after the first of each name.
        Migration(version: 32, name: "directory_name_words",
                  sqlite: NameWords.migration(collate: "", withoutRowID: " WITHOUT ROWID", position: "instr"),
                  postgres: NameWords.migration(collate: " COLLATE \"C\"", withoutRowID: "", position: "strpos")),
        // The built-in channel of integration keys (``BuiltInEntries/integrationChannel``): an
        // integration's open or reply that names no channel came through the API, not by phone.
        // Added last among the channels unless an administrator already made an `api` entry
        // (its labels and place are kept); active either way, as every built-in entry is.
        Migration(version: 33, name: "catalog_integration_channel", sql: """
            INSERT INTO list_entries (list, key, label_pt, label_en, position, origin_kind)
                SELECT 'channel', 'api', 'Integração (API)', 'Integration (API)', last_channel.position, 0
                FROM (SELECT COALESCE(MAX(position), 0) + 1 AS position FROM list_entries WHERE list = 'channel') AS last_channel
                WHERE NOT EXISTS (SELECT 1 FROM list_entries WHERE list = 'channel' AND key = 'api');
            UPDATE list_entries SET active = 1 WHERE list = 'channel' AND key = 'api';
            """),
        // The content fingerprint of the e-mail that opened a ticket or added a reply
        // (``MailFingerprint/content(_:)``): a message counts as a duplicate only when its
        // Message-ID and this match, so a system that reuses one Message-ID for different
        // messages loses none. NULL (rows from before, and every non-mail row) matches any
        // content: those keep deduplicating redeliveries as they did. The unique constraints
        // on `email_message_id` stay: a different message under a taken id is stored under
        // that id with its fingerprint appended (``IntakeContext/mailKey(_:_:)``). No default:
        // no row rewritten.
        Migration(version: 34, name: "email_content_fingerprint", sql: """
            ALTER TABLE tickets ADD COLUMN email_fingerprint TEXT;
            ALTER TABLE ticket_messages ADD COLUMN email_fingerprint TEXT;
            """),
        // Addresses stored before today's rule (2026-12-02: line breaks, brackets, invisible
        // characters) and lookup keys stored before they were NFC: every row with an address
        // is marked unchecked, and ``IntakeContext/checkStoredAddresses()`` (at start-up)
        // rewrites its key or clears the address, keeping what it cleared in `refused_email`.
        // New rows (written through the rule) are checked already (the default 1).
        Migration(version: 35, name: "stored_addresses_checked", sql: """
            ALTER TABLE contacts ADD COLUMN address_checked INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE contacts ADD COLUMN refused_email TEXT NOT NULL DEFAULT '';
            UPDATE contacts SET address_checked = 0 WHERE email <> '';
            ALTER TABLE representatives ADD COLUMN address_checked INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE representatives ADD COLUMN refused_email TEXT NOT NULL DEFAULT '';
            UPDATE representatives SET address_checked = 0 WHERE email <> '';
            ALTER TABLE representative_contacts ADD COLUMN address_checked INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE representative_contacts ADD COLUMN refused_email TEXT NOT NULL DEFAULT '';
            UPDATE representative_contacts SET address_checked = 0 WHERE email <> '';
            ALTER TABLE organizations ADD COLUMN address_checked INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE organizations ADD COLUMN refused_email TEXT NOT NULL DEFAULT '';
            UPDATE organizations SET address_checked = 0 WHERE email <> '';
            """),
    ]

    /// Migration 28: `ticket_messages.seq` (1, 2, … per ticket) and `tickets.last_message_seq`,
    /// numbered from the order messages were listed in until now; the unique index on
    /// `(ticket_id, seq)` replaces the one on `(ticket_id, created_at)` (one B-tree per reply, as
    /// before). Rewrites every message row and the row of every ticket with messages.
    static func messageSequence(int: String) -> String {
        """
        ALTER TABLE tickets ADD COLUMN last_message_seq \(int) NOT NULL DEFAULT 0;
        ALTER TABLE ticket_messages ADD COLUMN seq \(int) NOT NULL DEFAULT 0;
        UPDATE ticket_messages SET seq = numbered.seq
            FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY ticket_id ORDER BY created_at, id) AS seq FROM ticket_messages) AS numbered
            WHERE numbered.id = ticket_messages.id;
        UPDATE tickets SET last_message_seq = counted.seq
            FROM (SELECT ticket_id, MAX(seq) AS seq FROM ticket_messages GROUP BY ticket_id) AS counted
            WHERE counted.ticket_id = tickets.id;
        DROP INDEX ticket_messages_ticket;
        CREATE UNIQUE INDEX ticket_messages_sequence ON ticket_messages (ticket_id, seq);
        """
    }

    /// SQLite: `tickets` rebuilt without the `UNIQUE` column constraint on `email_message_id`,
    /// whose index took an entry (a NULL) for every ticket not opened by e-mail — one B-tree
    /// insertion per open, and a page of every batch's commit — and with a partial unique index
    /// instead (`WHERE email_message_id IS NOT NULL`), as PostgreSQL has since migration 8. A
    /// column constraint cannot be dropped on SQLite: the table is rebuilt.
    ///
    /// The migration runs in a transaction with foreign keys enforced (``Migrator``), where
    /// `PRAGMA foreign_keys = OFF` of SQLite's usual twelve steps does nothing, and `DROP TABLE
    /// tickets` first deletes every row, which `ticket_messages` and `attachments` refer to. So:
    /// the checks are deferred to `COMMIT` (`defer_foreign_keys`, reset by the `COMMIT`); the rows
    /// are copied aside with their rowids (``RecentSubmissions`` reads `tickets` by rowid) into a
    /// `TEMP` table (SQLite's temporary file, in `SQLITE_TMPDIR` or `/var/tmp`: space for one
    /// copy of `tickets` is needed there, none of it goes through the WAL, and the database file
    /// does not grow); the table is dropped (each child row counts as a violation) and created
    /// again under its name, in the pages just freed; the rows are copied back with their rowids
    /// (each parent row inserted cancels its children's violations). `COMMIT` fails, and nothing
    /// changes, unless every reference holds again.
    /// Children keep their `REFERENCES tickets (id)` (by name; nothing is renamed, so no
    /// reference is rewritten). Kept as they were: every column with its type, default and
    /// `NOT NULL`, the primary key, `code`'s `UNIQUE`, the foreign keys to `organizations` and
    /// `contacts`. `tickets` has no trigger, and no other index on SQLite (migrations 7 and 9
    /// dropped `tickets_organization` and `tickets_duplicates`). Measured in
    /// docs/BENCHMARKS-intake.md ("Migration 23").
    static let sqliteTicketsRebuild = """
        PRAGMA defer_foreign_keys = ON;
        CREATE TEMP TABLE tickets_v23 AS SELECT rowid AS old_rowid, * FROM tickets;
        DROP TABLE tickets;
        CREATE TABLE tickets (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations (id),
            contact_id TEXT NOT NULL REFERENCES contacts (id),
            representative_id TEXT NOT NULL DEFAULT '',
            registered_by TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            opened_at INTEGER NOT NULL,
            submission_hash TEXT NOT NULL,
            email_message_id TEXT,
            attachment_bytes INTEGER NOT NULL DEFAULT 0,
            snapshot BLOB NOT NULL
        );
        INSERT INTO tickets (rowid, id, code, organization_id, contact_id, representative_id, registered_by, status, opened_at,
                             submission_hash, email_message_id, attachment_bytes, snapshot)
            SELECT old_rowid, id, code, organization_id, contact_id, representative_id, registered_by, status, opened_at,
                   submission_hash, email_message_id, attachment_bytes, snapshot
            FROM tickets_v23 ORDER BY old_rowid;
        DROP TABLE tickets_v23;
        CREATE UNIQUE INDEX tickets_email_message_id ON tickets (email_message_id) WHERE email_message_id IS NOT NULL;
        """

    /// Migration 24: `contents.ref_count`, counted from the attachments there are, and the
    /// attachments table without its index and foreign key on `sha256`.
    static func contentReferenceCounts(sqlite: Bool) -> String {
        let counts = """
            ALTER TABLE contents ADD COLUMN ref_count \(sqlite ? "INTEGER" : "BIGINT") NOT NULL DEFAULT 0;
            UPDATE contents SET ref_count = (SELECT COUNT(*) FROM attachments a WHERE a.sha256 = contents.sha256);
            CREATE INDEX contents_unreferenced ON contents (sha256) WHERE ref_count <= 0;
            """
        guard sqlite else {
            return counts + """

                ALTER TABLE attachments DROP CONSTRAINT IF EXISTS attachments_sha256_fkey;
                DROP INDEX attachments_sha256;
                """
        }
        return counts + """

            CREATE TABLE attachments_v24 (
                id TEXT PRIMARY KEY,
                sha256 TEXT NOT NULL,
                file_name TEXT NOT NULL,
                content_type TEXT NOT NULL,
                size_bytes INTEGER NOT NULL,
                uploader_id TEXT NOT NULL,
                organization_id TEXT NOT NULL DEFAULT '',
                ticket_id TEXT REFERENCES tickets (id),
                message_id TEXT NOT NULL DEFAULT '',
                created_at INTEGER NOT NULL,
                position INTEGER NOT NULL DEFAULT 0
            );
            INSERT INTO attachments_v24 (id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, ticket_id,
                                         message_id, created_at, position)
            SELECT id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, ticket_id, message_id, created_at,
                   position
            FROM attachments ORDER BY rowid;
            DROP TABLE attachments;
            ALTER TABLE attachments_v24 RENAME TO attachments;
            CREATE INDEX attachments_ticket ON attachments (ticket_id);
            CREATE INDEX attachments_pending ON attachments (created_at) WHERE ticket_id IS NULL;
            """
    }

    /// E-mail kept instead of taken in, and the queue of answers to rejected e-mail (migration 6).
    ///
    /// `message_key` is the Message-ID (or `sha256:<hex>` of an unparsable message): the same
    /// message is held once and answered once. A bounce row is written in the transaction that
    /// holds the message; the sender claims it by moving `next_attempt_at` (a lease).
    static func mailQuarantine(blob: String, int: String) -> String {
        """
        CREATE TABLE mail_bounces (
            id TEXT PRIMARY KEY,
            recipient TEXT NOT NULL,
            message \(blob) NOT NULL,
            status TEXT NOT NULL,
            attempts \(int) NOT NULL DEFAULT 0,
            next_attempt_at \(int) NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            created_at \(int) NOT NULL,
            finished_at \(int)
        );
        CREATE INDEX mail_bounces_due ON mail_bounces (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX mail_bounces_recipient ON mail_bounces (recipient, created_at);
        CREATE TABLE mail_quarantine (
            id TEXT PRIMARY KEY,
            message_key TEXT NOT NULL UNIQUE,
            kind \(int) NOT NULL,
            status \(int) NOT NULL,
            source TEXT NOT NULL,
            reason TEXT NOT NULL,
            from_address TEXT NOT NULL DEFAULT '',
            subject TEXT NOT NULL DEFAULT '',
            email_message_id TEXT NOT NULL DEFAULT '',
            raw \(blob) NOT NULL,
            size_bytes \(int) NOT NULL,
            sha256 TEXT NOT NULL,
            received_at \(int) NOT NULL,
            attempts \(int) NOT NULL DEFAULT 1,
            resolved_at \(int),
            resolved_by TEXT NOT NULL DEFAULT '',
            resolution TEXT NOT NULL DEFAULT '',
            ticket_id TEXT NOT NULL DEFAULT '',
            ticket_code TEXT NOT NULL DEFAULT '',
            bounce_id TEXT REFERENCES mail_bounces (id),
            bounce_note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX mail_quarantine_listing ON mail_quarantine (received_at, id);
        CREATE INDEX mail_quarantine_held ON mail_quarantine (received_at, id) WHERE status = 1;
        """
    }

    /// A representative's own people (migration 4).
    static func representativeContacts(int: String, collate: String) -> String {
        """
        CREATE TABLE representative_contacts (
            id TEXT PRIMARY KEY,
            representative_id TEXT NOT NULL REFERENCES representatives (id),
            name TEXT NOT NULL,
            name_key TEXT\(collate) NOT NULL,
            email TEXT NOT NULL DEFAULT '',
            email_key TEXT\(collate) NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            active \(int) NOT NULL DEFAULT 1,
            created_at \(int) NOT NULL
        );
        CREATE INDEX representative_contacts_representative ON representative_contacts (representative_id, name_key);
        CREATE INDEX representative_contacts_email_key ON representative_contacts (email_key);
        """
    }

    static func directory(text: String, blob: String, int: String, collate: String) -> String {
        """
        CREATE TABLE organizations (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            name_key TEXT\(collate) NOT NULL,
            tax_id TEXT UNIQUE,
            kind \(int) NOT NULL,
            plan TEXT NOT NULL DEFAULT '',
            plan_includes TEXT NOT NULL DEFAULT '',
            active \(int) NOT NULL DEFAULT 1,
            account_owner_agent_id TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            created_at \(int) NOT NULL
        );
        CREATE INDEX organizations_name_key ON organizations (name_key);
        CREATE TABLE contacts (
            id TEXT PRIMARY KEY,
            organization_id TEXT NOT NULL REFERENCES organizations (id),
            name TEXT NOT NULL,
            name_key TEXT\(collate) NOT NULL,
            email TEXT NOT NULL DEFAULT '',
            email_key TEXT\(collate) NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            active \(int) NOT NULL DEFAULT 1,
            authorized \(int) NOT NULL DEFAULT 1,
            admin \(int) NOT NULL DEFAULT 0,
            linked \(int) NOT NULL DEFAULT 0,
            created_at \(int) NOT NULL
        );
        CREATE INDEX contacts_organization ON contacts (organization_id);
        CREATE INDEX contacts_name_key ON contacts (name_key);
        CREATE INDEX contacts_email_key ON contacts (email_key);
        CREATE TABLE representatives (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT\(collate) NOT NULL,
            email TEXT NOT NULL DEFAULT '',
            email_key TEXT\(collate) NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            active \(int) NOT NULL DEFAULT 1,
            created_at \(int) NOT NULL
        );
        CREATE INDEX representatives_name_key ON representatives (name_key);
        CREATE INDEX representatives_email_key ON representatives (email_key);
        CREATE TABLE representative_organizations (
            representative_id TEXT NOT NULL REFERENCES representatives (id),
            organization_id TEXT NOT NULL REFERENCES organizations (id),
            PRIMARY KEY (representative_id, organization_id)
        );
        CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            last_value \(int) NOT NULL
        );
        """
    }

    static func tickets(blob: String, int: String) -> String {
        """
        CREATE TABLE tickets (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations (id),
            contact_id TEXT NOT NULL REFERENCES contacts (id),
            representative_id TEXT NOT NULL DEFAULT '',
            registered_by TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            opened_at \(int) NOT NULL,
            submission_hash TEXT NOT NULL,
            email_message_id TEXT UNIQUE,
            attachment_bytes \(int) NOT NULL DEFAULT 0,
            snapshot \(blob) NOT NULL
        );
        CREATE INDEX tickets_duplicates ON tickets (contact_id, submission_hash, opened_at);
        CREATE INDEX tickets_organization ON tickets (organization_id, opened_at);
        CREATE TABLE ticket_messages (
            id TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL REFERENCES tickets (id),
            created_at \(int) NOT NULL,
            email_message_id TEXT UNIQUE,
            snapshot \(blob) NOT NULL
        );
        CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, created_at);
        CREATE TABLE contents (
            sha256 TEXT PRIMARY KEY,
            size_bytes \(int) NOT NULL,
            stored_at \(int) NOT NULL
        );
        CREATE TABLE attachments (
            id TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL REFERENCES contents (sha256),
            file_name TEXT NOT NULL,
            content_type TEXT NOT NULL,
            size_bytes \(int) NOT NULL,
            uploader_id TEXT NOT NULL,
            organization_id TEXT NOT NULL DEFAULT '',
            ticket_id TEXT REFERENCES tickets (id),
            message_id TEXT NOT NULL DEFAULT '',
            created_at \(int) NOT NULL
        );
        CREATE INDEX attachments_ticket ON attachments (ticket_id);
        CREATE INDEX attachments_uploader ON attachments (uploader_id);
        """
    }

    static func catalog(int: String) -> String {
        """
        CREATE TABLE list_entries (
            list TEXT NOT NULL,
            key TEXT NOT NULL,
            label_pt TEXT NOT NULL,
            label_en TEXT NOT NULL,
            active \(int) NOT NULL DEFAULT 1,
            position \(int) NOT NULL DEFAULT 0,
            origin_kind \(int) NOT NULL DEFAULT 0,
            PRIMARY KEY (list, key)
        );
        INSERT INTO list_entries (list, key, label_pt, label_en, position, origin_kind) VALUES
            ('channel', 'portal', 'Portal', 'Portal', 1, 0),
            ('channel', 'email', 'E-mail', 'E-mail', 2, 0),
            ('channel', 'phone', 'Telefone', 'Phone', 3, 0),
            ('channel', 'whatsapp', 'WhatsApp', 'WhatsApp', 4, 0),
            ('channel', 'skype', 'Skype', 'Skype', 5, 0),
            ('channel', 'chat', 'Chat', 'Chat', 6, 0),
            ('channel', 'internal', 'Interno', 'Internal', 7, 0),
            ('origin', 'customer', 'Cliente', 'Customer', 1, 1),
            ('origin', 'representative', 'Representante', 'Representative', 2, 2),
            ('origin', 'internal', 'Interno', 'Internal', 3, 3);
        CREATE TABLE custom_fields (
            key TEXT PRIMARY KEY,
            definition BYTEA_OR_BLOB NOT NULL,
            product TEXT NOT NULL DEFAULT '',
            category \(int) NOT NULL DEFAULT 0,
            active \(int) NOT NULL DEFAULT 1,
            position \(int) NOT NULL DEFAULT 0
        );
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """.replacingOccurrences(of: "BYTEA_OR_BLOB", with: int == "BIGINT" ? "BYTEA" : "BLOB")
    }
}
