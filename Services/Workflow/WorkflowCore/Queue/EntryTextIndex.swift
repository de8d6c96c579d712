import Storage

/// The discussion's full-text rows: one per entry in `ticket_search_entries` (ticket, public
/// flag, folded text), indexed by SQLite FTS5 (`ticket_fts_entries`, external content) or a
/// PostgreSQL `tsvector` with a GIN index (migration 184). ``TextIndex`` searches them together
/// with the tickets' own rows.
///
/// Until migration 184 every entry was appended to its ticket's single search row, which each
/// engine then re-indexed whole (FTS5's update trigger deletes and re-inserts the document;
/// PostgreSQL recomputes the generated vectors): an entry cost in proportion to the ticket's
/// history, a ticket's life was quadratic. An entry's own row costs the same at the 1st and
/// the 1000th entry (docs/BENCHMARKS-workflow.md, "Discussion entries and the search index").
enum EntryTextIndex {
    /// Builds the entries' rows from `discussion_entries` and empties the tickets' old
    /// `discussion` and `public_discussion` columns (no longer written nor searched).
    ///
    /// Folding: SQLite keeps an entry's text as written, its tokenizer (`unicode61
    /// remove_diacritics 2`) splits and folds it as ``SearchText/indexText(_:)`` does; PostgreSQL
    /// folds it in SQL as migration 6 did (lower case, Portuguese accents translated, anything
    /// but letters and digits a space). Migrations are SQL only, so ``SearchText`` cannot run
    /// here; for Portuguese text both give the same words. Entries written later are folded by
    /// ``SearchText/indexText(_:)``.
    static let migration = Migration(version: 184, name: "discussion_entry_search", sqlite: """
        CREATE TABLE ticket_search_entries (
            seq INTEGER PRIMARY KEY, ticket_id TEXT NOT NULL, is_public INTEGER NOT NULL, text TEXT NOT NULL);
        INSERT INTO ticket_search_entries (ticket_id, is_public, text)
            SELECT ticket_id, is_public, text FROM discussion_entries ORDER BY ticket_id, seq;
        CREATE INDEX ticket_search_entries_ticket ON ticket_search_entries (ticket_id);
        CREATE VIRTUAL TABLE ticket_fts_entries USING fts5(
            text, content = 'ticket_search_entries', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2');
        INSERT INTO ticket_fts_entries (ticket_fts_entries) VALUES ('rebuild');
        UPDATE ticket_search SET discussion = '', public_discussion = '' WHERE discussion <> '' OR public_discussion <> '';
        """, postgres: """
        CREATE TABLE ticket_search_entries (
            seq BIGSERIAL PRIMARY KEY, ticket_id TEXT NOT NULL, is_public BIGINT NOT NULL, text TEXT NOT NULL,
            doc tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED);
        INSERT INTO ticket_search_entries (ticket_id, is_public, text)
            SELECT ticket_id, is_public, btrim(regexp_replace(
                    translate(lower(text), 'áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ',
                              'aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn'),
                    '[^[:alnum:]]+', ' ', 'g'))
            FROM discussion_entries ORDER BY ticket_id, seq;
        CREATE INDEX ticket_search_entries_ticket ON ticket_search_entries (ticket_id);
        CREATE INDEX ticket_search_entries_doc ON ticket_search_entries USING GIN (doc);
        UPDATE ticket_search SET discussion = '', public_discussion = '' WHERE discussion <> '' OR public_discussion <> '';
        DROP INDEX ticket_search_public_doc;
        ALTER TABLE ticket_search DROP COLUMN public_doc;
        """)

    /// Indexes a new entry of `ticketID` in its own row (and, on SQLite, in the FTS5 index at once:
    /// no trigger, see ``DeferredTextIndex``'s notes on what an FTS5 trigger costs).
    static func add(_ tx: any SQLExecutor, ticketID: String, isPublic: Bool, text: String) throws {
        let folded = SQLValue.text(SearchText.indexText(text))
        try tx.execute("INSERT INTO ticket_search_entries (ticket_id, is_public, text) VALUES (?, ?, ?)",
                       [.text(ticketID), SQLValue(isPublic), folded])
        if tx.engine == .sqlite {
            try tx.execute("INSERT INTO ticket_fts_entries (rowid, text) VALUES (last_insert_rowid(), ?)", [folded])
        }
    }
}
