import Messages
import Storage

/// Which published articles a query may return.
struct SearchFilter: Sendable {
    var product = ""
    var module = ""
    var category = ""
    var kind: KnowledgeV1.ArticleKind = .unspecified
    /// Customers: public articles only.
    var publicOnly = true
    /// Forum entries may be returned too (only when `kind` is unspecified).
    var includeForum = false
}

/// Runs a ``QueryPlan`` on the database's own full-text engine (queries use it only until the
/// in-memory ``InvertedIndex`` is built, and for `explainSearch`): SQLite FTS5 with bm25 (title
/// column weighted 4×) or PostgreSQL text search with `ts_rank_cd` (title weight A = 1.0, body B
/// = 0.4). Both read the same pre-analysed stems; the query is compiled from sanitised terms
/// only, so user input never becomes engine syntax.
enum SearchEngine {
    static let titleWeight = 4.0
    /// Articles ranked when a query holds only common concepts.
    static let commonCandidates = 300

    static func run(_ tx: any SQLExecutor, _ plan: QueryPlan, _ filter: SearchFilter, limit: Int, explain: Bool = false) throws -> [KnowledgeV1.ArticleHit] {
        guard !plan.isEmpty else { return [] }
        let prefix = explain ? (tx.engine == .sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ANALYZE ") : ""
        // On PostgreSQL the filters are written so no B-tree index can serve them ("+ 0",
        // "|| ''"): the GIN index on tsv must drive the query, whatever the statistics or a generic
        // plan of the prepared statement say (a filter-index scan rechecks every article's tsvector).
        let pg = tx.engine == .postgres
        var conditions = [pg ? "a.state + 0 = ?" : "a.state = ?"]
        var params: [SQLValue] = [.integer(Int64(KnowledgeV1.ArticleState.published.rawValue))]
        if filter.publicOnly {
            conditions.append(pg ? "a.visibility + 0 = ?" : "a.visibility = ?")
            params.append(.integer(Int64(KnowledgeV1.Visibility.customers.rawValue)))
        }
        for (column, value) in [("product", filter.product), ("module", filter.module), ("category", filter.category)] where !value.isEmpty {
            conditions.append(pg ? "a.\(column) || '' = ?" : "a.\(column) = ?")
            params.append(.text(value))
        }
        if filter.kind != .unspecified {
            conditions.append(pg ? "a.kind + 0 = ?" : "a.kind = ?")
            params.append(.integer(Int64(filter.kind.rawValue)))
        }
        let columns = "a.id, a.kind, a.title, a.summary, a.product, a.module, a.category, a.visibility, a.state"
        let rows: [Row]
        let where_ = conditions.joined(separator: " AND ")
        // Only common concepts: rank the newest `commonCandidates` articles that match them all,
        // instead of most of the base.
        let capped = plan.retrieval.all
        switch tx.engine {
        case .sqlite:
            let inner = """
                SELECT \(columns), -bm25(kb_articles_fts, \(titleWeight), 1.0) AS score
                FROM kb_articles_fts JOIN kb_articles a ON a.seq = kb_articles_fts.rowid
                WHERE kb_articles_fts MATCH ? AND \(where_)
                """
            let sql = capped
                ? "\(prefix)SELECT * FROM (\(inner) ORDER BY kb_articles_fts.rowid DESC LIMIT \(commonCandidates)) ORDER BY score DESC, id LIMIT ?"
                : "\(prefix)\(inner) ORDER BY score DESC, a.id LIMIT ?"
            rows = try tx.query(sql, [.text(fts5(plan))] + params + [.integer(Int64(limit))])
        case .postgres:
            // The cost model ignores what decompressing each tsvector costs, so on a small or
            // freshly loaded table it prefers scanning every article; the GIN index is always right here.
            try tx.execute("SET LOCAL enable_seqscan = off")
            let weights = "'{0.1, 0.2, 0.4, 1.0}'"
            if capped {
                rows = try tx.query("""
                    \(prefix)SELECT c.*, ts_rank_cd(\(weights), c.tsv, to_tsquery('simple', ?), 1) AS score
                    FROM (SELECT \(columns), a.tsv FROM kb_articles a WHERE a.tsv @@ to_tsquery('simple', ?) AND \(where_)
                          LIMIT \(commonCandidates)) c
                    ORDER BY score DESC, c.id LIMIT ?
                    """, [.text(tsquery(plan)), .text(tsquery(plan))] + params + [.integer(Int64(limit))])
            } else {
                rows = try tx.query("""
                    \(prefix)SELECT \(columns), ts_rank_cd(\(weights), a.tsv, q, 1) AS score
                    FROM kb_articles a, to_tsquery('simple', ?) q
                    WHERE a.tsv @@ q AND \(where_)
                    ORDER BY score DESC, a.id LIMIT ?
                    """, [.text(tsquery(plan))] + params + [.integer(Int64(limit))])
            }
        }
        if explain {
            var hit = KnowledgeV1.ArticleHit()
            hit.snippet = (tx.engine == .sqlite ? fts5(plan) : tsquery(plan)) + "\n" + rows.map { row in
                row.values.map { if case .text(let text) = $0 { return text } else { return $0.description } }.joined(separator: " | ")
            }.joined(separator: "\n")
            return [hit]
        }
        return try rows.compactMap { row in
            guard var hit = try HitLoader.articleHit(row, filter: filter) else { return nil }
            hit.score = try row.double("score")
            return hit
        }
    }

    /// `("emit" OR "emissa") OR ("not" "fiscal")` — every term a quoted string of letters and
    /// digits; `AND` between concepts when only common concepts are left.
    static func fts5(_ plan: QueryPlan) -> String {
        let (concepts, all) = plan.retrieval
        return concepts.map { concept in
            "(" + concept.phrases.map { phrase in "\"" + phrase.map(safe).joined(separator: " ") + "\"" }.joined(separator: " OR ") + ")"
        }.joined(separator: all ? " AND " : " OR ")
    }

    /// `(emit | emissa) | (not <-> fiscal)`; `&` between concepts when only common ones are left.
    static func tsquery(_ plan: QueryPlan) -> String {
        let (concepts, all) = plan.retrieval
        return concepts.map { concept in
            "(" + concept.phrases.map { phrase in
                phrase.count == 1 ? safe(phrase[0]) : "(" + phrase.map(safe).joined(separator: " <-> ") + ")"
            }.joined(separator: " | ") + ")"
        }.joined(separator: all ? " & " : " | ")
    }

    /// Keeps letters and digits only (the analyser already does; this is the last guard).
    static func safe(_ term: String) -> String {
        let kept = String(term.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }.map(Character.init))
        return kept.isEmpty ? "x" : kept
    }
}
