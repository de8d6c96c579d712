import Storage

/// Full-text conditions over `ticket_search` (one row per ticket: subject, request, solution) and
/// `ticket_search_entries` (one row per discussion entry, with its public flag; see
/// ``EntryTextIndex``), answered by each engine's own index: SQLite FTS5 (`ticket_fts` and
/// `ticket_fts_entries`, external content over those tables) and PostgreSQL `tsvector` columns
/// with GIN indexes (`doc` in both tables). An entry costs the same to index however long its
/// ticket's discussion already is (migration 184).
///
/// Text is stored already folded by ``SearchText/indexText(_:)`` (lower case, no accents, only
/// letters and digits separated by single spaces), so both engines see the same words: PostgreSQL
/// uses the `simple` configuration (no stemming, no stop words), SQLite the `unicode61` tokenizer
/// with `remove_diacritics 2`. A query word of three or more characters matches any indexed word
/// it begins ("fisc" finds "fiscal"); shorter words match whole words only.
///
/// ```swift
/// let condition = TextIndex.condition(tx.engine, words: ["nota", "fiscal"], match: .allWords,
///                                     fields: [.subject, .request])
/// clauses.append(condition.sql); params += condition.params
/// ```
public enum TextIndex {
    /// A searchable field. `discussion` is every entry, `publicDiscussion` public entries only
    /// (what customers may search).
    public enum Field: String, Sendable, CaseIterable {
        case subject, request, solution, discussion
        case publicDiscussion = "public_discussion"

        /// The weight of a ticket field in PostgreSQL's `ticket_search.doc` (entries have their own rows).
        var weight: String {
            switch self {
            case .subject: "A"
            case .request: "B"
            case .solution: "C"
            case .discussion, .publicDiscussion: "D"
            }
        }
    }

    /// How the words combine.
    public enum Match: Sendable {
        /// Every word, each in any of the fields.
        case allWords
        /// Any of the words.
        case anyWord
        /// The words in this order, next to each other.
        case phrase
        /// Any of the words, each matching whole words only (no prefixes).
        case anyExactWord
    }

    /// Fields agents search by default.
    public static let staffFields: [Field] = [.subject, .request, .solution, .discussion]
    /// Fields customers search: what they can read.
    public static let customerFields: [Field] = [.subject, .request, .solution, .publicDiscussion]

    /// Shortest word matched as a prefix.
    static let prefixLength = 3

    /// Ticket fields, kept in the ticket's row of `ticket_search`.
    static let ticketFields: Set<Field> = [.subject, .request, .solution]

    /// A condition `t.id IN (...)` true for the tickets matching `words` (already split by
    /// ``SearchText/words(_:)``; nothing else reaches the match expression). `fields` must not
    /// mix `discussion` and `publicDiscussion`.
    ///
    /// Ticket fields are searched in the ticket's row, the discussion in one row per entry
    /// (``EntryTextIndex``): `allWords` asks each word apart (a ticket matches when every word is
    /// in its row or in any of its entries), the other matches ask all words at once (a phrase
    /// lies within one field or one entry).
    public static func condition(_ engine: DatabaseEngine, words: [String], match: Match, fields: [Field],
                                 ticketID column: String = "t.id") -> (sql: String, params: [SQLValue]) {
        let parts = groups(words: words, match: match, fields: fields).map { group in
            sources(engine, group, match: match, fields: fields)
        }
        return (parts.map { "\(column) IN (\($0.sql))" }.joined(separator: " AND "), parts.flatMap(\.params))
    }

    /// The word groups asked apart: each word of `allWords` once entries are searched (a ticket's
    /// words may lie in different rows), else all words together.
    static func groups(words: [String], match: Match, fields: [Field]) -> [[String]] {
        precondition(!words.isEmpty && !fields.isEmpty)
        precondition(!(fields.contains(.discussion) && fields.contains(.publicDiscussion)))
        let entries = fields.contains(.discussion) || fields.contains(.publicDiscussion)
        return match == .allWords && entries && words.count > 1 ? words.map { [$0] } : [words]
    }

    /// The ticket fields among `fields`, in their order.
    static func rowFields(_ fields: [Field]) -> [Field] { fields.filter(ticketFields.contains) }

    /// A `SELECT` of the ids of the tickets matching `words` (one group) in their row or one of their entries.
    static func sources(_ engine: DatabaseEngine, _ words: [String], match: Match, fields: [Field]) -> (sql: String, params: [SQLValue]) {
        var selects: [String] = [], params: [SQLValue] = []
        let row = rowFields(fields)
        let publicOnly = fields.contains(.publicDiscussion)
        switch engine {
        case .sqlite:
            if !row.isEmpty {
                selects.append("SELECT s.ticket_id FROM ticket_fts JOIN ticket_search s ON s.seq = ticket_fts.rowid WHERE ticket_fts MATCH ?")
                params.append(.text(fts5(words: words, match: match, fields: row)))
            }
            if row.count < fields.count {
                selects.append("SELECT e.ticket_id FROM ticket_fts_entries JOIN ticket_search_entries e ON e.seq = ticket_fts_entries.rowid "
                               + "WHERE ticket_fts_entries MATCH ?" + (publicOnly ? " AND e.is_public = 1" : ""))
                params.append(.text(fts5(words: words, match: match, fields: [])))
            }
        case .postgres:
            if !row.isEmpty {
                selects.append("SELECT s.ticket_id FROM ticket_search s WHERE s.doc @@ to_tsquery('simple', ?)")
                params.append(.text(tsquery(words: words, match: match, fields: row)))
            }
            if row.count < fields.count {
                selects.append("SELECT e.ticket_id FROM ticket_search_entries e WHERE e.doc @@ to_tsquery('simple', ?)"
                               + (publicOnly ? " AND e.is_public = 1" : ""))
                params.append(.text(tsquery(words: words, match: match, fields: [])))
            }
        }
        return (selects.joined(separator: " UNION ALL "), params)
    }

    /// Hits from which a query counts as common on SQLite (see ``condition(_:words:match:fields:ordered:commonHits:)``).
    public static let commonHits = 2_000

    /// Like ``condition(_:words:match:fields:ticketID:)``, choosing the SQLite plan by how common
    /// the words are, when the caller's query walks an index in its result order (`ordered`) and
    /// could stop after a page. PostgreSQL's planner chooses by itself (it keeps statistics of
    /// the `tsvector` lexemes).
    ///
    /// SQLite knows nothing of a full-text match's size. Rare words (fewer than ``commonHits``
    /// hits in the tickets' rows and the entries together) are best answered from the index
    /// (fetch the hits, then filter and sort them); common ones by walking the caller's ordered
    /// index and checking each ticket against the hits' rowids (read once from the index, without
    /// touching their rows), so a page stops early instead of sorting tens of thousands of hits.
    /// Each word group (see ``condition(_:words:match:fields:ticketID:)``) chooses apart.
    public static func condition(_ tx: any SQLExecutor, words: [String], match: Match, fields: [Field],
                                 ordered: Bool, commonHits: Int = TextIndex.commonHits) throws -> (sql: String, params: [SQLValue]) {
        guard tx.engine == .sqlite, ordered else { return condition(tx.engine, words: words, match: match, fields: fields) }
        let row = rowFields(fields)
        let entries = row.count < fields.count
        let publicOnly = fields.contains(.publicDiscussion)
        var clauses: [String] = [], params: [SQLValue] = []
        for group in groups(words: words, match: match, fields: fields) {
            let rowExpression = fts5(words: group, match: match, fields: row)
            let entryExpression = fts5(words: group, match: match, fields: [])
            var hits: Int64 = 0
            if !row.isEmpty {
                hits += try tx.queryOne("SELECT COUNT(*) AS n FROM (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ? LIMIT \(commonHits))",
                                        [.text(rowExpression)])?.int("n") ?? 0
            }
            if entries && hits < commonHits {
                hits += try tx.queryOne("SELECT COUNT(*) AS n FROM (SELECT rowid FROM ticket_fts_entries WHERE ticket_fts_entries MATCH ? LIMIT \(commonHits))",
                                        [.text(entryExpression)])?.int("n") ?? 0
            }
            guard hits >= commonHits else {
                let rare = sources(tx.engine, group, match: match, fields: fields)
                clauses.append("t.id IN (\(rare.sql))")
                params += rare.params
                continue
            }
            var checks: [String] = []
            if !row.isEmpty {
                checks.append("(SELECT s.seq FROM ticket_search s WHERE s.ticket_id = t.id) IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)")
                params.append(.text(rowExpression))
            }
            if entries {
                checks.append("EXISTS (SELECT 1 FROM ticket_search_entries e WHERE e.ticket_id = t.id" + (publicOnly ? " AND e.is_public = 1" : "")
                              + " AND e.seq IN (SELECT rowid FROM ticket_fts_entries WHERE ticket_fts_entries MATCH ?))")
                params.append(.text(entryExpression))
            }
            clauses.append("(" + checks.joined(separator: " OR ") + ")")
        }
        return (clauses.joined(separator: " AND "), params)
    }

    static func prefix(_ word: String, _ match: Match) -> Bool {
        match != .anyExactWord && word.count >= prefixLength
    }

    /// The FTS5 match expression, e.g. `{subject request} : "nota"* AND {subject request} : "fiscal"*`
    /// (no column filter for no `fields`: the entries' index has one column).
    static func fts5(words: [String], match: Match, fields: [Field]) -> String {
        let columns = fields.isEmpty ? "" : "{" + fields.map(\.rawValue).joined(separator: " ") + "} : "
        switch match {
        case .phrase:
            return columns + "\"" + words.joined(separator: " ") + "\"" + (prefix(words[words.count - 1], match) ? "*" : "")
        case .allWords, .anyWord, .anyExactWord:
            let terms = words.map { columns + "\"" + $0 + "\"" + (prefix($0, match) ? "*" : "") }
            return terms.joined(separator: match == .allWords ? " AND " : " OR ")
        }
    }

    /// The tsquery, e.g. `nota:*AB & fiscal:*AB`; weights restrict `doc` to the ticket fields asked
    /// for (none for all of them, or for no `fields`: an entry's vector).
    static func tsquery(words: [String], match: Match, fields: [Field]) -> String {
        let everything = fields.isEmpty || Set(fields) == ticketFields
        let weights = everything ? "" : fields.map(\.weight).joined()
        let terms = words.map { word in
            let marks = (prefix(word, match) ? "*" : "") + weights
            return marks.isEmpty ? word : word + ":" + marks
        }
        switch match {
        case .allWords: return terms.joined(separator: " & ")
        case .anyWord, .anyExactWord: return terms.joined(separator: " | ")
        case .phrase:
            // Only the last word of a phrase is a prefix, as on SQLite.
            let exact = words.dropLast().map { weights.isEmpty ? $0 : $0 + ":" + weights }
            return (exact + [terms[terms.count - 1]]).joined(separator: " <-> ")
        }
    }
}
