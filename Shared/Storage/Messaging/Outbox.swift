/// The transactional outbox: events are written in the same transaction as the state change they
/// describe, so either both happen or neither does; an ``OutboxRelay`` publishes them afterwards.
///
/// Events live in `storage_outbox` (created by ``openDatabase(_:migrations:)``) until delivered,
/// then they are deleted. Delivery is at least once: consumers deduplicate with ``Inbox``.
///
/// ```swift
/// try db.write { tx in
///     try tx.execute("UPDATE tickets SET status = ? WHERE id = ?", ["closed", .text(id)])
///     try Outbox.enqueue(tx, OutboxEvent(type: "ocorrencias.workflow.v1.TicketClosed", key: id, payload: bytes))
/// }
/// ```
public enum Outbox {
    /// The advisory-lock class for per-key enqueue locks on PostgreSQL ("OB").
    static let keyLockClass: Int32 = 0x4F42

    /// Records `event` in the caller's transaction.
    ///
    /// Per-key order is commit order: on PostgreSQL the call takes a transaction-level advisory
    /// lock on the key, so two transactions enqueueing for the same key are serialized and their
    /// sequence numbers follow their commits (SQLite has a single writer already). Enqueue events
    /// late in the transaction to hold that lock briefly.
    ///
    /// - Throws: ``StorageError/Kind/uniqueViolation`` when an event with the same id exists.
    public static func enqueue(_ executor: any SQLExecutor, _ event: OutboxEvent) throws {
        if executor.engine == .postgres {
            try executor.execute("SELECT pg_advisory_xact_lock(\(keyLockClass), hashtext(?))", [.text(event.key)])
        }
        try executor.execute("""
            INSERT INTO storage_outbox (event_id, event_type, event_key, payload, created_at, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, 0)
            """, [.text(event.id), .text(event.type), .text(event.key), .blob(event.payload), .timestamp(event.createdAt)])
    }

    /// Records several events in the caller's transaction with at most two statements (one
    /// advisory-lock statement on PostgreSQL for all their keys, taken in key order, and one
    /// multi-row `INSERT`), instead of two per event. Events of one key keep their order in
    /// `events`; the ordering guarantees are those of the single-event `enqueue`.
    ///
    /// - Parameter keysAreNew: The keys name something created in this very transaction (a new
    ///   ticket's id), so no other transaction can enqueue for them before this one commits and
    ///   the advisory locks are skipped (one statement less on PostgreSQL).
    /// - Throws: ``StorageError/Kind/uniqueViolation`` when an event with one of the ids exists.
    public static func enqueue(_ executor: any SQLExecutor, _ events: [OutboxEvent], keysAreNew: Bool = false) throws {
        guard events.count > 1 || keysAreNew else {
            if let event = events.first { try enqueue(executor, event) }
            return
        }
        guard !events.isEmpty else { return }
        if executor.engine == .postgres && !keysAreNew {
            let keys = Array(Set(events.map(\.key))).sorted()
            let locks = keys.map { _ in "pg_advisory_xact_lock(\(keyLockClass), hashtext(?))" }.joined(separator: ", ")
            try executor.execute("SELECT \(locks)", keys.map { .text($0) })
        }
        let insert = insertStatement(events)
        try executor.execute(insert.sql, insert.values)
    }

    /// The multi-row `INSERT` that records `events` (`?` placeholders and their values), for a
    /// caller that sends it as part of a larger statement (e.g. a PostgreSQL data-modifying
    /// `WITH`). It takes no per-key lock: use it only for keys created in the same transaction
    /// (see `keysAreNew` in ``enqueue(_:_:keysAreNew:)``).
    public static func insertStatement(_ events: [OutboxEvent]) -> (sql: String, values: [SQLValue]) {
        var values: [SQLValue] = []
        values.reserveCapacity(events.count * 5)
        for event in events {
            values += [.text(event.id), .text(event.type), .text(event.key), .blob(event.payload), .timestamp(event.createdAt)]
        }
        let rows = Array(repeating: "(?, ?, ?, ?, ?, 0)", count: events.count).joined(separator: ", ")
        return ("""
            INSERT INTO storage_outbox (event_id, event_type, event_key, payload, created_at, next_attempt_at)
            VALUES \(rows)
            """, values)
    }

    /// The SQL expression (over `column`, the outbox's `event_key`) of the entity a key names:
    /// what follows the first `|` (`"workflow|T"` → `"T"`), the whole key when it has none. It is
    /// the leading column of the outbox's per-key index (storage migration 5), written exactly
    /// as the index declares it so that each engine's planner matches it.
    static func entityKeySQL(_ engine: DatabaseEngine, _ column: String) -> String {
        switch engine {
        case .sqlite: "substr(\(column), instr(\(column), '|') + 1)"
        case .postgres: "substr(\(column), strpos(\(column), '|') + 1)"
        }
    }

    /// What waits in the outbox: rows not delivered yet, the oldest one's creation time (epoch
    /// milliseconds, nil when empty) and how many of them failed at least once.
    public static func stats(_ executor: any SQLExecutor) throws -> (pending: Int, oldestCreatedAt: Int64?, retrying: Int) {
        guard let row = try executor.queryOne("""
            SELECT COUNT(*) AS n, MIN(created_at) AS oldest, SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS retrying
            FROM storage_outbox
            """) else { return (0, nil, 0) }
        return (Int(try row.int("n")), try row.optionalInt("oldest"), Int(try row.optionalInt("retrying") ?? 0))
    }

    /// The creation time (epoch milliseconds) of the oldest undelivered event whose key starts
    /// with `keyPrefix` (e.g. `"gateway|"` for one subscriber's rows), nil when there is none:
    /// the earliest creation time among the first 100 such rows in `seq` (enqueue) order, which
    /// is the oldest unless an event was created more than 100 events' worth before it was
    /// enqueued.
    ///
    /// The query walks the primary key from the oldest row and stops at the 100th row with the
    /// prefix; in a publisher's outbox they are at or near the front (every event writes one row
    /// per subscriber, side by side). It used to be `MIN(created_at) … WHERE event_key LIKE`, a
    /// scan of the whole table on both engines, dead rows included on PostgreSQL (≈ 4 ms a call
    /// in the end-to-end benchmark; the watch streams run it for every batch they send).
    ///
    /// `LIKE` rather than a `substr` comparison: PostgreSQL estimates a `LIKE` prefix from the
    /// column's statistics (a third of the rows for one of three subscribers) and walks the
    /// primary key; for `substr(…) = ?` it guessed a handful of rows, fewer than the limit, and
    /// sorted the whole table instead.
    public static func oldestCreatedAt(_ executor: any SQLExecutor, keyPrefix: String) throws -> Int64? {
        let pattern = keyPrefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        return try executor.queryOne("""
            SELECT MIN(created_at) AS oldest FROM (
                SELECT created_at FROM storage_outbox WHERE event_key LIKE ? ESCAPE '\\' ORDER BY seq LIMIT 100) AS head
            """, [.text(pattern)])?.optionalInt("oldest")
    }

    /// The number of events not delivered yet.
    public static func pendingCount(_ executor: any SQLExecutor) throws -> Int {
        Int(try executor.queryOne("SELECT COUNT(*) AS n FROM storage_outbox")?.int("n") ?? 0)
    }
}
