import Foundation
import Storage

/// The later words of the directory's names, so that a lookup matches the start of any word of a
/// name ("silva" finds "Maria da Silva"), not only the start of the whole name, and stays a range
/// read of a B-tree on both engines (migration 32).
///
/// For each organization, contact and representative whose folded name (``DirectoryStore/foldKey(_:)``,
/// its `name_key`) has more than one word, `directory_name_words` holds the name from its second
/// word on, from its third word on, and so on ("da silva", "silva"); the whole name is already
/// the row's own `name_key`. A query is then a prefix of either, and several words keep their
/// order ("da sil" finds "Maria da Silva", "silva maria" does not). Rows are rewritten with their
/// name, in the same transaction.
enum NameWords {
    /// Whose name a word row belongs to (`directory_name_words.kind`).
    enum Kind: String {
        case organization, contact, representative
    }

    /// `name_key` from each word after the first on, longest first.
    static func laterWords(_ nameKey: String) -> [String] {
        var words: [String] = []
        var rest = Substring(nameKey)
        while let space = rest.firstIndex(of: " ") {
            rest = rest[rest.index(after: space)...]
            if !rest.isEmpty { words.append(String(rest)) }
        }
        return words
    }

    /// Replaces the word rows of `id` with those of `nameKey`.
    static func replace(_ tx: any SQLExecutor, _ kind: Kind, id: String, nameKey: String) throws {
        try remove(tx, kind, id: id)
        for word in laterWords(nameKey) {
            try tx.execute("INSERT INTO directory_name_words (kind, word_key, entity_id) VALUES (?, ?, ?)",
                           [.text(kind.rawValue), .text(word), .text(id)])
        }
    }

    /// Removes the word rows of `id` (its row is deleted).
    static func remove(_ tx: any SQLExecutor, _ kind: Kind, id: String) throws {
        try tx.execute("DELETE FROM directory_name_words WHERE entity_id = ? AND kind = ?", [.text(id), .text(kind.rawValue)])
    }

    /// Rows of `table` (its `columns`) with a later word of their name starting with `key`, by
    /// that word then id, each once and none of `excluded` (those already found by their whole
    /// name), at most `limit`. Read a page of the index at a time: a name with two words starting
    /// alike ("Ana Silva Silveira" for "silv") has two rows, so a page may hold fewer people.
    static func matches(_ tx: any SQLExecutor, _ kind: Kind, table: String, columns: String, key: String,
                        excluding excluded: Set<String>, limit: Int) throws -> [Row] {
        guard limit > 0, !key.isEmpty else { return [] }
        let selected = columns.split(separator: ",").map { "e." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        var seen = excluded
        var found: [Row] = []
        var after: (word: String, id: String)?
        while found.count < limit {
            var sql = """
                SELECT \(selected), w.word_key AS matched_word FROM directory_name_words w JOIN \(table) e ON e.id = w.entity_id
                WHERE w.kind = ? AND w.word_key >= ? AND w.word_key < ?
                """
            var params: [SQLValue] = [.text(kind.rawValue), .text(key), .text(DirectoryStore.prefixEnd(key))]
            if let after {
                sql += " AND (w.word_key > ? OR (w.word_key = ? AND w.entity_id > ?))"
                params += [.text(after.word), .text(after.word), .text(after.id)]
            }
            sql += " ORDER BY w.word_key, w.entity_id LIMIT ?"
            let rows = try tx.query(sql, params + [.integer(Int64(limit))])
            for row in rows where found.count < limit {
                if seen.insert(try row.text("id")).inserted { found.append(row) }
            }
            guard rows.count == limit, let last = rows.last else { break }
            after = (try last.text("matched_word"), try last.text("id"))
        }
        return found
    }

    /// Migration 32: the table, and the word rows of every name already stored, cut from its
    /// `name_key` in SQL as ``laterWords(_:)`` cuts it (`name_key` has single spaces between words).
    /// - Parameters:
    ///   - collate: The key's collation (PostgreSQL: `COLLATE "C"`, byte order whatever the locale).
    ///   - withoutRowID: SQLite's ` WITHOUT ROWID` (the rows live in the key's B-tree only); "" on PostgreSQL.
    ///   - position: Where a text first holds another: `instr` on SQLite, `strpos` on PostgreSQL.
    static func migration(collate: String, withoutRowID: String, position: String) -> String {
        """
        CREATE TABLE directory_name_words (
            kind TEXT NOT NULL,
            word_key TEXT\(collate) NOT NULL,
            entity_id TEXT NOT NULL,
            PRIMARY KEY (kind, word_key, entity_id)
        )\(withoutRowID);
        CREATE INDEX directory_name_words_entity ON directory_name_words (entity_id);
        WITH RECURSIVE names (kind, entity_id, rest) AS (
            SELECT 'organization', id, name_key FROM organizations
            UNION ALL SELECT 'contact', id, name_key FROM contacts
            UNION ALL SELECT 'representative', id, name_key FROM representatives
        ), words (kind, entity_id, rest) AS (
            SELECT kind, entity_id, substr(rest, \(position)(rest, ' ') + 1) FROM names WHERE \(position)(rest, ' ') > 0
            UNION ALL
            SELECT kind, entity_id, substr(rest, \(position)(rest, ' ') + 1) FROM words WHERE \(position)(rest, ' ') > 0
        )
        INSERT INTO directory_name_words (kind, word_key, entity_id) SELECT kind, rest, entity_id FROM words WHERE rest <> '';
        """
    }
}
