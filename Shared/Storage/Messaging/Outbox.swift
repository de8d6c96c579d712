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
    /// - Parameters:
    ///   - keysAreNew: The keys name something created in this very transaction (a new
    ///     ticket's id), so no other transaction can enqueue for them before this one commits and
    ///     the advisory locks are skipped (one statement less on PostgreSQL).
    ///   - deferred: Send the statements with the transaction's next statement or its commit
    ///     (``SQLExecutor/executeDeferred(_:_:)``: one round trip less on PostgreSQL; a failure,
    ///     such as a duplicate id, is then thrown there). Not inside a savepoint the caller may
    ///     roll back to on failure.
    /// - Throws: ``StorageError/Kind/uniqueViolation`` when an event with one of the ids exists.
    public static func enqueue(_ executor: any SQLExecutor, _ events: [OutboxEvent], keysAreNew: Bool = false, deferred: Bool = false) throws {
        guard events.count > 1 || keysAreNew || deferred else {
            if let event = events.first { try enqueue(executor, event) }
            return
        }
        guard !events.isEmpty else { return }
        let run: (String, [SQLValue]) throws -> Void = deferred ? executor.executeDeferred : { try executor.execute($0, $1) }
        // In statements of at most `statementRows` keys or events: PostgreSQL takes at most 1,664
        // expressions in a select list, SQLite 32,766 parameters in a statement (6,553 events).
        if executor.engine == .postgres && !keysAreNew {
            let keys = Array(Set(events.map(\.key))).sorted()
            for start in stride(from: 0, to: keys.count, by: statementRows) {
                let part = keys[start..<min(keys.count, start + statementRows)]
                let locks = part.map { _ in "pg_advisory_xact_lock(\(keyLockClass), hashtext(?))" }.joined(separator: ", ")
                try run("SELECT \(locks)", part.map { .text($0) })
            }
        }
        for start in stride(from: 0, to: events.count, by: statementRows) {
            let insert = insertStatement(Array(events[start..<min(events.count, start + statementRows)]))
            try run(insert.sql, insert.values)
        }
    }

    /// The most keys one advisory-lock statement takes, and events one `INSERT` writes.
    static let statementRows = 1_000

    /// The multi-row `INSERT` that records `events` (`?` placeholders and their values), for a
    /// caller that sends it as part of a larger statement (e.g. a PostgreSQL data-modifying
    /// `WITH`). It takes no per-key lock: use it only for keys created in the same transaction
    /// (see `keysAreNew` in ``enqueue(_:_:keysAreNew:deferred:)``).
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

    /// What waits in the outbox: rows not delivered yet, the oldest one's creation time (epoch
    /// milliseconds, nil when empty) and how many of them failed at least once.
    public static func stats(_ executor: any SQLExecutor) throws -> (pending: Int, oldestCreatedAt: Int64?, retrying: Int) {
        guard let row = try executor.queryOne("""
            SELECT COUNT(*) AS n, MIN(created_at) AS oldest, SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS retrying
            FROM storage_outbox
            """) else { return (0, nil, 0) }
        return (Int(try row.int("n")), try row.optionalInt("oldest"), Int(try row.optionalInt("retrying") ?? 0))
    }

    /// The creation time (epoch milliseconds) of the oldest undelivered event for `destination`
    /// (one subscriber's rows: keys `destination|…`, or the key `destination` itself), nil when
    /// there is none. "Oldest" is the first enqueued (lowest `seq`), whose creation time is the
    /// earliest up to the time between creating an event and enqueueing it.
    ///
    /// One probe of storage migration 11's index (destination, seq). It used to read the outbox's
    /// oldest rows in `seq` order until the first with the prefix, which is at the front while
    /// every subscriber keeps up — but while one subscriber is down its backlog is the front: with
    /// notification stopped during ticket opens, every batch of intake's watch streams read the
    /// whole backlog again (half of intake's CPU per open). Before that it was
    /// `MIN(created_at) … WHERE event_key LIKE …`, a scan of the whole table on both engines.
    public static func oldestCreatedAt(_ executor: any SQLExecutor, destination: String) throws -> Int64? {
        try executor.queryOne("""
            SELECT created_at FROM storage_outbox WHERE \(OutboxRelay.destinationExpression(executor.engine)) = ?
            ORDER BY seq LIMIT 1
            """, [.text(destination)])?.int("created_at")
    }

    /// The number of events not delivered yet.
    public static func pendingCount(_ executor: any SQLExecutor) throws -> Int {
        Int(try executor.queryOne("SELECT COUNT(*) AS n FROM storage_outbox")?.int("n") ?? 0)
    }
}
