import Foundation
import Observability

/// The idempotent inbox: remembers which events a consumer has processed, so a redelivered event
/// (at-least-once delivery) is applied exactly once.
///
/// Call ``claim(_:consumer:eventID:now:)`` in the same transaction as the event's effects: if the
/// transaction rolls back, the claim rolls back with it and the event will be processed on
/// redelivery. Entries live in `storage_inbox` (created by ``openDatabase(_:migrations:)``).
///
/// ```swift
/// try db.write { tx in
///     guard try Inbox.claim(tx, consumer: "notification", eventID: event.id) else { return }  // duplicate
///     try tx.execute("INSERT INTO notifications ...", [...])
/// }
/// ```
public enum Inbox {
    /// Records that `consumer` processes `eventID` in this transaction.
    ///
    /// Relies on the `(consumer, event_id)` primary key, not on a read before the insert, so two
    /// concurrent deliveries of one event cannot both claim it (on PostgreSQL the second waits for
    /// the first transaction and then sees the entry).
    /// - Returns: `true` the first time; `false` when the event was already processed (skip it).
    public static func claim(_ executor: any SQLExecutor, consumer: String, eventID: String, now: Date = Date()) throws -> Bool {
        let inserted = try executor.execute(
            "INSERT INTO storage_inbox (consumer, event_id, processed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [.text(consumer), .text(eventID), .timestamp(now)])
        return inserted == 1
    }

    /// Records that `consumer` processes every id of `eventIDs` in this transaction, with one
    /// statement (`INSERT … SELECT` over the ids given as one JSON array parameter, `ON CONFLICT
    /// DO NOTHING RETURNING`) instead of one per event, as ``claim(_:consumer:eventID:now:)``
    /// does for each. The statement text is the same whatever the number of ids (a `VALUES` row
    /// per id made one statement per delivery size, each prepared on every connection and
    /// crowding the statement cache).
    /// - Returns: The ids claimed now, i.e. not processed before (an id given twice counts once).
    public static func claim(_ executor: any SQLExecutor, consumer: String, eventIDs: [String], now: Date = Date()) throws -> Set<String> {
        guard !eventIDs.isEmpty else { return [] }
        if eventIDs.count == 1 {
            return try claim(executor, consumer: consumer, eventID: eventIDs[0], now: now) ? [eventIDs[0]] : []
        }
        // SQLite: the `WHERE true` tells the upsert's ON from a join's.
        let sql = executor.engine == .postgres ? """
            INSERT INTO storage_inbox (consumer, event_id, processed_at)
            SELECT CAST(? AS text), value, CAST(? AS bigint) FROM json_array_elements_text(CAST(? AS json)) AS ids(value)
            ON CONFLICT DO NOTHING RETURNING event_id
            """ : """
            INSERT INTO storage_inbox (consumer, event_id, processed_at) SELECT ?, value, ? FROM json_each(?) WHERE true
            ON CONFLICT DO NOTHING RETURNING event_id
            """
        var claimed = Set<String>()
        for row in try executor.query(sql, [.text(consumer), .timestamp(now), .text(JSONText.array(eventIDs))]) {
            claimed.insert(try row.text("event_id"))
        }
        return claimed
    }

    /// Forgets entries processed before `cutoff`.
    ///
    /// - Important: An event redelivered after its entry was pruned is applied again. Keep entries
    ///   far longer than the longest redelivery delay (relay backoff plus downtime); days, not
    ///   minutes.
    /// - Parameter limit: At most this many entries (oldest first) in this call; nil: all of them.
    /// - Returns: The number of entries removed.
    @discardableResult
    public static func prune(_ executor: any SQLExecutor, olderThan cutoff: Date, limit: Int? = nil) throws -> Int {
        try OldRows.delete(executor, table: "storage_inbox", key: "consumer, event_id", time: "processed_at", before: cutoff, limit: limit)
    }

    /// Forgets entries older than `retention` (see ``prune(_:olderThan:)``).
    @discardableResult
    public static func prune(_ executor: any SQLExecutor, retention: Duration, now: Date = Date()) throws -> Int {
        try prune(executor, olderThan: now.addingTimeInterval(-retention.timeInterval))
    }
}
