import Observability
import Storage

/// SQLite: the full-text rows of the tickets a transaction opens, written together at its end
/// (issue 7).
///
/// FTS5 keeps a transaction's new rows in memory and writes them as one new segment, but it
/// writes what it holds at every statement savepoint too, and in a transaction every statement
/// that may have to roll back alone opens one. With the insert trigger, each opening of a
/// delivery then became a segment of its own (16 openings: 16 segments, each a few pages, and
/// FTS5's automatic merges of all those segments): ≈ 40 µs of the ≈ 190 µs an opening cost.
/// Inside ``around(_:_:)`` an opening marks its `ticket_search` row pending (`fts_pending = 1`:
/// the triggers skip it, migration 171) and the rows are indexed in one statement before the
/// commit, as one segment per delivery. Same transaction, so a crash or a rollback keeps the
/// ticket and its index entry together or neither; a text changed in the same transaction is
/// indexed as it is at the end (the update trigger skips pending rows). Outside a scope, or on
/// PostgreSQL (generated `tsvector` columns), nothing changes.
///
/// Since migration 183 no trigger indexes a new search row: a statement whose triggers write
/// the FTS5 table makes SQLite begin FTS5's part of the transaction when the statement starts,
/// even when the trigger's condition is false (the pending row), and from then on every later
/// statement's savepoint in the transaction calls FTS5 to sync (≈ 8 k instructions each, about
/// five per opening). So the pending insert touches only `ticket_search`, and a row written
/// outside a scope is indexed by an explicit insert right after it.
enum DeferredTextIndex {
    /// Ticket ids whose search rows wait for the end of the transaction (one thread's).
    final class Pending: @unchecked Sendable {
        var ticketIDs: [String] = []
    }

    /// The pending rows of the transaction running on this thread, inside ``around(_:_:)``.
    @TaskLocal static var pending: Pending?

    static let migration = Migration(version: 171, name: "ticket_fts_pending", sqlite: """
        ALTER TABLE ticket_search ADD COLUMN fts_pending INTEGER NOT NULL DEFAULT 0;
        DROP TRIGGER ticket_fts_insert;
        DROP TRIGGER ticket_fts_delete;
        DROP TRIGGER ticket_fts_update;
        CREATE TRIGGER ticket_fts_insert AFTER INSERT ON ticket_search WHEN new.fts_pending = 0 BEGIN
            INSERT INTO ticket_fts (rowid, subject, request, solution, discussion, public_discussion)
            VALUES (new.seq, new.subject, new.request, new.solution, new.discussion, new.public_discussion);
        END;
        CREATE TRIGGER ticket_fts_delete AFTER DELETE ON ticket_search WHEN old.fts_pending = 0 BEGIN
            INSERT INTO ticket_fts (ticket_fts, rowid, subject, request, solution, discussion, public_discussion)
            VALUES ('delete', old.seq, old.subject, old.request, old.solution, old.discussion, old.public_discussion);
        END;
        CREATE TRIGGER ticket_fts_update AFTER UPDATE OF subject, request, solution, discussion, public_discussion ON ticket_search
        WHEN old.fts_pending = 0 BEGIN
            INSERT INTO ticket_fts (ticket_fts, rowid, subject, request, solution, discussion, public_discussion)
            VALUES ('delete', old.seq, old.subject, old.request, old.solution, old.discussion, old.public_discussion);
            INSERT INTO ticket_fts (rowid, subject, request, solution, discussion, public_discussion)
            VALUES (new.seq, new.subject, new.request, new.solution, new.discussion, new.public_discussion);
        END;
        """, postgres: "SELECT 1")

    /// SQLite: new search rows are indexed by ``insertSearchRow(_:ticketID:subject:request:)``
    /// (pending ones by ``around(_:_:)``), not by an insert trigger (see above).
    static let explicitInsertMigration = Migration(version: 183, name: "ticket_fts_insert_explicit",
                                                   sqlite: "DROP TRIGGER ticket_fts_insert", postgres: "SELECT 1")

    /// Runs `body` (a transaction's work) with the openings' full-text rows deferred, then
    /// indexes them in `tx` (SQLite; elsewhere, or inside another scope, it only runs `body`).
    static func around(_ tx: any SQLExecutor, _ body: () throws -> Void) throws {
        guard tx.engine == .sqlite, pending == nil else { return try body() }
        let rows = Pending()
        try $pending.withValue(rows) { try body() }
        guard !rows.ticketIDs.isEmpty else { return }
        let ids: [SQLValue] = [.text(JSONText.array(rows.ticketIDs))]
        try tx.execute("""
            INSERT INTO ticket_fts (rowid, subject, request, solution, discussion, public_discussion)
            SELECT seq, subject, request, solution, discussion, public_discussion FROM ticket_search
            WHERE ticket_id IN (SELECT value FROM json_each(?)) AND fts_pending = 1
            """, ids)
        try tx.execute("UPDATE ticket_search SET fts_pending = 0 WHERE ticket_id IN (SELECT value FROM json_each(?)) AND fts_pending = 1", ids)
    }

    /// The new search row of an opening on SQLite: pending inside a scope, indexed at once otherwise.
    static func insertSearchRow(_ tx: any SQLExecutor, ticketID: String, subject: SQLValue, request: SQLValue) throws {
        if let pending {
            try tx.execute("INSERT INTO ticket_search (ticket_id, subject, request, fts_pending) VALUES (?, ?, ?, 1)",
                           [.text(ticketID), subject, request])
            pending.ticketIDs.append(ticketID)
        } else {
            try tx.execute("INSERT INTO ticket_search (ticket_id, subject, request) VALUES (?, ?, ?)", [.text(ticketID), subject, request])
            try tx.execute("""
                INSERT INTO ticket_fts (rowid, subject, request, solution, discussion, public_discussion)
                SELECT seq, subject, request, solution, discussion, public_discussion FROM ticket_search WHERE ticket_id = ?
                """, [.text(ticketID)])
        }
    }
}
