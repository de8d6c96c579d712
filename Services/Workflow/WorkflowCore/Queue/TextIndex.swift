import Storage

/// Full-text conditions over `ticket_search`, answered by each engine's own index: SQLite FTS5
/// (`ticket_fts`, external content over `ticket_search`, kept in step by triggers) and PostgreSQL
/// `tsvector` columns with GIN indexes (`doc`, `public_doc`).
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
    /// A searchable field. `publicDiscussion` holds public entries only (what customers may search).
    public enum Field: String, Sendable, CaseIterable {
        case subject, request, solution, discussion
        case publicDiscussion = "public_discussion"

        /// The weight of the field in PostgreSQL's `doc` vector (`publicDiscussion` is in `public_doc`).
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

    /// A condition `t.id IN (...)` true for the tickets matching `words` (already split by
    /// ``SearchText/words(_:)``; nothing else reaches the match expression). `fields` must not
    /// mix `discussion` and `publicDiscussion`.
    public static func condition(_ engine: DatabaseEngine, words: [String], match: Match, fields: [Field],
                                 ticketID column: String = "t.id") -> (sql: String, params: [SQLValue]) {
        precondition(!words.isEmpty && !fields.isEmpty)
        switch engine {
        case .sqlite:
            return ("\(column) IN (SELECT s.ticket_id FROM ticket_fts JOIN ticket_search s ON s.seq = ticket_fts.rowid WHERE ticket_fts MATCH ?)",
                    [.text(fts5(words: words, match: match, fields: fields))])
        case .postgres:
            let publicVector = fields.contains(.publicDiscussion)
            return ("\(column) IN (SELECT s.ticket_id FROM ticket_search s WHERE s.\(publicVector ? "public_doc" : "doc") @@ to_tsquery('simple', ?))",
                    [.text(tsquery(words: words, match: match, fields: fields))])
        }
    }

    /// Hits from which a query counts as common on SQLite (see ``condition(_:words:match:fields:ordered:commonHits:)``).
    public static let commonHits = 2_000

    /// Like ``condition(_:words:match:fields:ticketID:)``, choosing the SQLite plan by how common
    /// the words are, when the caller's query walks an index in its result order (`ordered`) and
    /// could stop after a page. PostgreSQL's planner chooses by itself (it keeps statistics of
    /// the `tsvector` lexemes).
    ///
    /// SQLite knows nothing of a full-text match's size. Rare words (fewer than ``commonHits``
    /// tickets) are best answered from the index (fetch the hits, then filter and sort them);
    /// common ones by walking the caller's ordered index and checking each ticket against the
    /// hits' rowids (read once from the index, without touching their rows), so a page stops
    /// early instead of sorting tens of thousands of hits.
    public static func condition(_ tx: any SQLExecutor, words: [String], match: Match, fields: [Field],
                                 ordered: Bool, commonHits: Int = TextIndex.commonHits) throws -> (sql: String, params: [SQLValue]) {
        guard tx.engine == .sqlite, ordered else { return condition(tx.engine, words: words, match: match, fields: fields) }
        let expression = fts5(words: words, match: match, fields: fields)
        let hits = try tx.queryOne("SELECT COUNT(*) AS n FROM (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ? LIMIT \(commonHits))",
                                   [.text(expression)])?.int("n") ?? 0
        guard hits >= commonHits else { return condition(tx.engine, words: words, match: match, fields: fields) }
        return ("(SELECT s.seq FROM ticket_search s WHERE s.ticket_id = t.id) IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)",
                [.text(expression)])
    }

    static func prefix(_ word: String, _ match: Match) -> Bool {
        match != .anyExactWord && word.count >= prefixLength
    }

    /// The FTS5 match expression, e.g. `{subject request} : "nota"* AND {subject request} : "fiscal"*`.
    static func fts5(words: [String], match: Match, fields: [Field]) -> String {
        let columns = "{" + fields.map(\.rawValue).joined(separator: " ") + "} : "
        switch match {
        case .phrase:
            return columns + "\"" + words.joined(separator: " ") + "\"" + (prefix(words[words.count - 1], match) ? "*" : "")
        case .allWords, .anyWord, .anyExactWord:
            let terms = words.map { columns + "\"" + $0 + "\"" + (prefix($0, match) ? "*" : "") }
            return terms.joined(separator: match == .allWords ? " AND " : " OR ")
        }
    }

    /// The tsquery, e.g. `nota:*AB & fiscal:*AB`; weights restrict `doc` to the fields asked for.
    static func tsquery(words: [String], match: Match, fields: [Field]) -> String {
        let everything = Set(fields) == Set(staffFields) || fields.contains(.publicDiscussion)
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
