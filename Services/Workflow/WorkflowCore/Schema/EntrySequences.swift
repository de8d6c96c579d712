import Storage

/// A ticket's discussion entries and history lines each have a place, `seq` (1, 2, … per
/// ticket), taken as `MAX(seq) + 1` by the statement that writes the row while the writer holds
/// the ticket's row lock: migration 191 makes the database hold the rule too, with a unique index
/// on `(ticket_id, seq)` in `discussion_entries` (replacing the plain index on the same columns,
/// so an entry writes no more B-trees than before) and in `ticket_history` (one B-tree more per
/// history line). Two rows sharing a place would make a page of the discussion or history
/// (``TicketPage``, keyed by that place) skip one of them.
///
/// A database that already holds such twins cannot take the index, so they are renumbered first,
/// deterministically, in the tickets that have them only: 1, 2, … in the order the lists read them
/// (the discussion by place, the history by time then place), twins by time, then id. Every other
/// ticket keeps its numbers. The next entry or line of a renumbered ticket follows its new last.
enum EntrySequences {
    static let migration = Migration(version: 191, name: "discussion_and_history_unique_seq", sql: """
        UPDATE discussion_entries SET seq = numbered.seq
            FROM (SELECT ticket_id, id, ROW_NUMBER() OVER (PARTITION BY ticket_id ORDER BY seq, added_at, id) AS seq FROM discussion_entries
                  WHERE ticket_id IN (SELECT ticket_id FROM discussion_entries GROUP BY ticket_id, seq HAVING COUNT(*) > 1)) AS numbered
            WHERE discussion_entries.ticket_id = numbered.ticket_id AND discussion_entries.id = numbered.id
              AND discussion_entries.seq <> numbered.seq;
        DROP INDEX discussion_ticket;
        CREATE UNIQUE INDEX discussion_ticket ON discussion_entries (ticket_id, seq);
        UPDATE ticket_history SET seq = numbered.seq
            FROM (SELECT ticket_id, id, ROW_NUMBER() OVER (PARTITION BY ticket_id ORDER BY at, seq, id) AS seq FROM ticket_history
                  WHERE ticket_id IN (SELECT ticket_id FROM ticket_history GROUP BY ticket_id, seq HAVING COUNT(*) > 1)) AS numbered
            WHERE ticket_history.ticket_id = numbered.ticket_id AND ticket_history.id = numbered.id
              AND ticket_history.seq <> numbered.seq;
        CREATE UNIQUE INDEX ticket_history_seq ON ticket_history (ticket_id, seq);
        """)
}
