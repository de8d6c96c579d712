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
    ///
    /// On PostgreSQL the rest of the caller's transaction is planned for its parameters' values
    /// (``planForValues(_:)``): the generic plan of the prepared statement, which PostgreSQL
    /// switched to after five calls, does not know which destination is asked for and walked
    /// the primary key from the oldest row, filtering, past a resting destination's whole backlog
    /// to a live destination's first row (5,000,000 rows waiting: 4–9 s per call, 2026-12-02,
    /// `outbox-scrape-bench`; docs/STORAGE.md).
    public static func oldestCreatedAt(_ executor: any SQLExecutor, destination: String) throws -> Int64? {
        try planForValues(executor)
        return try executor.queryOne(oldestOfDestinationSQL(executor.engine), [.text(destination)])?.int("created_at")
    }

    /// The first row's creation time of the destination given as the parameter.
    static func oldestOfDestinationSQL(_ engine: DatabaseEngine) -> String {
        "SELECT created_at FROM storage_outbox WHERE \(OutboxRelay.destinationExpression(engine)) = ? ORDER BY seq LIMIT 1"
    }

    /// PostgreSQL: plans the statements of the rest of the caller's transaction for the values
    /// of their parameters (`SET LOCAL plan_cache_mode = force_custom_plan`, sent with the next
    /// statement), for statements whose best plan depends on which destination they name: a
    /// live destination's few rows through the destination index, while a generic plan, made
    /// once for any destination, may walk the primary key past a resting one's backlog. Planning
    /// each call costs a fraction of a millisecond. SQLite plans do not depend on the values.
    static func planForValues(_ executor: any SQLExecutor) throws {
        if executor.engine == .postgres { try executor.executeDeferred("SET LOCAL plan_cache_mode = force_custom_plan") }
    }

    /// The number of events not delivered yet, exact: it counts every row (a read of the whole
    /// primary key), so it is for tests and tools; metrics use ``stats(_:countLimit:)``.
    public static func pendingCount(_ executor: any SQLExecutor) throws -> Int {
        Int(try executor.queryOne("SELECT COUNT(*) AS n FROM storage_outbox")?.int("n") ?? 0)
    }
}
