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
    ]
}
