/// The tables behind ``Outbox``, ``Inbox`` and ``IdempotencyStore``, created by
/// ``openDatabase(_:migrations:)`` in every service database (history component `storage`).
///
/// Timestamps are epoch milliseconds. Append new versions here; never edit shipped ones.
enum BuiltinSchema {
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "create_storage_outbox",
            sqlite: """
                CREATE TABLE storage_outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id TEXT NOT NULL UNIQUE,
                    event_type TEXT NOT NULL,
                    event_key TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    locked_until INTEGER,
                    last_error TEXT
                );
                CREATE INDEX storage_outbox_key_seq ON storage_outbox (event_key, seq);
                """,
            postgres: """
                CREATE TABLE storage_outbox (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_id TEXT NOT NULL UNIQUE,
                    event_type TEXT NOT NULL,
                    event_key TEXT NOT NULL,
                    payload BYTEA NOT NULL,
                    created_at BIGINT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at BIGINT NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    locked_until BIGINT,
                    last_error TEXT
                );
                CREATE INDEX storage_outbox_key_seq ON storage_outbox (event_key, seq);
                """),
        Migration(
            version: 2, name: "create_storage_inbox",
            sql: """
                CREATE TABLE storage_inbox (
                    consumer TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    processed_at BIGINT NOT NULL,
                    PRIMARY KEY (consumer, event_id)
                );
                CREATE INDEX storage_inbox_processed_at ON storage_inbox (processed_at);
                """),
        Migration(
            version: 3, name: "create_storage_idempotency",
            sqlite: """
                CREATE TABLE storage_idempotency (
                    scope TEXT NOT NULL,
                    idem_key TEXT NOT NULL,
                    fingerprint BLOB NOT NULL,
                    response BLOB,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (scope, idem_key)
                );
                CREATE INDEX storage_idempotency_created_at ON storage_idempotency (created_at);
                """,
            postgres: """
                CREATE TABLE storage_idempotency (
                    scope TEXT NOT NULL,
                    idem_key TEXT NOT NULL,
                    fingerprint BYTEA NOT NULL,
                    response BYTEA,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (scope, idem_key)
                );
                CREATE INDEX storage_idempotency_created_at ON storage_idempotency (created_at);
                """),
        // SQLite: `seq` without AUTOINCREMENT, so an enqueue no longer rewrites the
        // `sqlite_sequence` row (one page of WAL per commit). A new row still gets a larger
        // `seq` than every row in the table (max + 1), which is all per-key order needs: a seq
        // can only come back after the largest one was delivered and deleted, and then no row
        // that could precede it is left. Rows are copied with their `seq`, leases and attempts.
        // PostgreSQL: nothing to change (an identity column has no such row).
        Migration(
            version: 4, name: "storage_outbox_without_autoincrement",
            sqlite: """
                CREATE TABLE storage_outbox_v4 (
                    seq INTEGER PRIMARY KEY,
                    event_id TEXT NOT NULL UNIQUE,
                    event_type TEXT NOT NULL,
                    event_key TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    locked_until INTEGER,
                    last_error TEXT
                );
                INSERT INTO storage_outbox_v4 (seq, event_id, event_type, event_key, payload, created_at, attempts,
                                               next_attempt_at, lease_owner, locked_until, last_error)
                SELECT seq, event_id, event_type, event_key, payload, created_at, attempts,
                       next_attempt_at, lease_owner, locked_until, last_error
                FROM storage_outbox ORDER BY seq;
                DROP TABLE storage_outbox;
                ALTER TABLE storage_outbox_v4 RENAME TO storage_outbox;
                CREATE INDEX storage_outbox_key_seq ON storage_outbox (event_key, seq);
                """,
            postgres: "SELECT 1"),
        // The per-key index ordered by the entity the key names first (the part after the
        // subscriber's `|`), then the full key and seq: the rows one event writes for its
        // subscribers (`workflow|T`, `notification|T`, `gateway|T`) sit side by side, in one leaf
        // page, instead of in one region of the index per subscriber; with time-ordered entity ids
        // (new tickets) they are appended at the right end. A ticket open wrote ~4.6 pages of this
        // index to the WAL (three regions, with mid-index splits); now about one. The relay's
        // head-of-key lookup named the same expression (until migration 7 dropped the index).
        Migration(
            version: 5, name: "storage_outbox_key_index_by_entity",
            sqlite: """
                DROP INDEX storage_outbox_key_seq;
                CREATE INDEX storage_outbox_entity_key_seq ON storage_outbox (substr(event_key, instr(event_key, '|') + 1), event_key, seq);
                """,
            postgres: """
                DROP INDEX storage_outbox_key_seq;
                CREATE INDEX storage_outbox_entity_key_seq ON storage_outbox (substr(event_key, strpos(event_key, '|') + 1), event_key, seq);
                """),
        // PostgreSQL: half of each outbox page is left free by inserts, so the relay's claim
        // (lease columns, none of them indexed) is a heap-only update written in the row's own
        // page, instead of a new row version elsewhere plus an entry in each of the three indexes
        // for every claimed event. A claim of 400 events took about a third of the server time
        // in a loop of enqueue/claim/delete rounds. Pages written from now on; SQLite has no
        // such setting (it updates rows in place).
        Migration(
            version: 6, name: "storage_outbox_room_for_leases",
            sqlite: "SELECT 1",
            postgres: "ALTER TABLE storage_outbox SET (fillfactor = 50)"),
        // The relay's claim reads the oldest rows in `seq` order and finds each key's head among
        // them (``OutboxRelay``), by primary key: nothing looks rows up by key any more, so the
        // per-key index of migration 5 is gone, and with it an index entry (and its expression)
        // written for every enqueued event and removed for every delivered one.
        Migration(
            version: 7, name: "storage_outbox_without_key_index",
            sql: "DROP INDEX IF EXISTS storage_outbox_entity_key_seq"),
        // A relay's claim is one row here (its owner, the lease's end and the claimed seqs as
        // ranges) instead of a lease written on every claimed outbox row: a claim no longer
        // rewrites the rows it takes (on SQLite every claimed page went to the WAL once more,
        // on PostgreSQL every claimed row left a dead version), and delivered rows are simply
        // deleted. The rows' own `lease_owner`/`locked_until` columns stay, read but no longer
        // written (a relay of an older version still leases that way and is respected).
        Migration(
            version: 8, name: "storage_outbox_leases",
            sql: """
                CREATE TABLE storage_outbox_leases (
                    owner TEXT PRIMARY KEY,
                    locked_until BIGINT NOT NULL,
                    seqs TEXT NOT NULL
                )
                """),
        // One row a service rewrites every few seconds while its writes fail because the
        // database cannot take work (``WriteHealth``, ``Database/probeWrite()``), to learn when
        // it takes writes again; untouched while they succeed.
        Migration(
            version: 9, name: "storage_write_probe",
            sql: "CREATE TABLE storage_write_probe (id INTEGER PRIMARY KEY, probed_at BIGINT NOT NULL)"),
        // PostgreSQL: outbox pages filled again (migration 6 left half of each free). That room
        // was for the per-row leases, which migration 8 replaced by a row of
        // `storage_outbox_leases`: nothing updates outbox rows any more but a failed delivery
        // (`attempts`, rare), so the free half only doubled the pages every enqueue extends the
        // table by, writes and evicts. Measured on intake's ticket opens (three outbox rows
        // each): the backends' file writes fell from ≈ 10.1–10.8 KiB to ≈ 5.6–6.5 KiB per open
        // (docs/BENCHMARKS-intake.md, "The outbox's pages filled again"). Pages written from now on.
        Migration(
            version: 10, name: "storage_outbox_full_pages",
            sqlite: "SELECT 1",
            postgres: "ALTER TABLE storage_outbox RESET (fillfactor)"),
        // Each destination's rows in `seq` order, for the relay's claim while a destination rests
        // after being found unreachable (``OutboxRelay``): its backlog is the oldest rows, and a
        // window in `seq` order read all of it every round before the first event of another
        // destination (quadratic in the outage's backlog). The expression is the relay's
        // `destinationExpression`, written the same way.
        Migration(
            version: 11, name: "storage_outbox_destination_index",
            sqlite: "CREATE INDEX storage_outbox_destination_seq ON storage_outbox (substr(event_key, 1, instr(event_key || '|', '|') - 1), seq)",
            postgres: "CREATE INDEX storage_outbox_destination_seq ON storage_outbox ((substr(event_key, 1, strpos(event_key || '|', '|') - 1)), seq)"),
        // The rows that failed at least once, for the metrics (``Outbox/stats``: `retrying`),
        // which counted them by reading the whole table on every scrape. A partial index: an
        // enqueued row (no attempts yet) has no entry, so enqueues write nothing more; only a
        // failed delivery's update (rare) and the delete of such a row touch it.
        Migration(
            version: 12, name: "storage_outbox_retrying_index",
            sql: "CREATE INDEX storage_outbox_retrying ON storage_outbox (seq) WHERE attempts > 0"),
    ]
}
