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
}

/// Runs a ``QueryPlan`` on the database's own full-text engine: SQLite FTS5 with bm25 (title
/// column weighted 4×) or PostgreSQL text search with `ts_rank_cd` (title weight A = 1.0, body B
/// = 0.4). Both read the same pre-analysed stems; the query is compiled from sanitised terms
/// only, so user input never becomes engine syntax.
enum SearchEngine {
    static let titleWeight = 4.0

    static func run(_ tx: any SQLExecutor, _ plan: QueryPlan, _ filter: SearchFilter, limit: Int) throws -> [KnowledgeV1.ArticleHit] {
        guard !plan.isEmpty else { return [] }
        var conditions = ["a.state = ?"]
        var params: [SQLValue] = [.integer(Int64(KnowledgeV1.ArticleState.published.rawValue))]
        if filter.publicOnly {
            conditions.append("a.visibility = ?")
            params.append(.integer(Int64(KnowledgeV1.Visibility.customers.rawValue)))
        }
        for (column, value) in [("product", filter.product), ("module", filter.module), ("category", filter.category)] where !value.isEmpty {
            conditions.append("a.\(column) = ?")
            params.append(.text(value))
        }
        if filter.kind != .unspecified {
            conditions.append("a.kind = ?")
            params.append(.integer(Int64(filter.kind.rawValue)))
        }
        let columns = "a.id, a.kind, a.title, a.summary, a.product, a.module, a.category, a.visibility, a.state"
        let rows: [Row]
        switch tx.engine {
        case .sqlite:
            rows = try tx.query("""
                SELECT \(columns), -bm25(kb_articles_fts, \(titleWeight), 1.0) AS score
                FROM kb_articles_fts JOIN kb_articles a ON a.seq = kb_articles_fts.rowid
                WHERE kb_articles_fts MATCH ? AND \(conditions.joined(separator: " AND "))
                ORDER BY score DESC, a.id LIMIT ?
                """, [.text(fts5(plan))] + params + [.integer(Int64(limit))])
        case .postgres:
            rows = try tx.query("""
                SELECT \(columns), ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', a.tsv, q, 1) AS score
                FROM kb_articles a, to_tsquery('simple', ?) q
                WHERE a.tsv @@ q AND \(conditions.joined(separator: " AND "))
                ORDER BY score DESC, a.id LIMIT ?
                """, [.text(tsquery(plan))] + params + [.integer(Int64(limit))])
        }
        return try rows.compactMap { row in
            var hit = KnowledgeV1.ArticleHit()
            hit.id = try row.text("id")
            hit.kind = KnowledgeV1.ArticleKind(_protoRawValue: Int32(try row.int("kind")))
            hit.title = try row.text("title")
            hit.snippet = try row.text("summary")
            hit.product = try row.text("product")
            hit.module = try row.text("module")
            hit.category = try row.text("category")
            hit.visibility = KnowledgeV1.Visibility(_protoRawValue: Int32(try row.int("visibility")))
            hit.score = try row.double("score")
            // Defence in depth: never return what the filter excludes, whatever the SQL did.
            let state = KnowledgeV1.ArticleState(_protoRawValue: Int32(try row.int("state")))
            guard state == .published, !filter.publicOnly || hit.visibility == .customers else { return nil }
            return hit
        }
    }

    /// `("emit" OR "emissa") OR ("not" "fiscal") OR "bole"*` — every term a quoted string of
    /// letters and digits.
    static func fts5(_ plan: QueryPlan) -> String {
        plan.concepts.map { concept in
            var alternatives = concept.phrases.map { phrase in "\"" + phrase.map(safe).joined(separator: " ") + "\"" }
            if let prefix = concept.prefix { alternatives.append("\"\(safe(prefix))\"*") }
            return "(" + alternatives.joined(separator: " OR ") + ")"
        }.joined(separator: " OR ")
    }

    /// `(emit | emissa) | (not <-> fiscal) | bole:*`.
    static func tsquery(_ plan: QueryPlan) -> String {
        plan.concepts.map { concept in
            var alternatives = concept.phrases.map { phrase in
                phrase.count == 1 ? safe(phrase[0]) : "(" + phrase.map(safe).joined(separator: " <-> ") + ")"
            }
            if let prefix = concept.prefix { alternatives.append("\(safe(prefix)):*") }
            return "(" + alternatives.joined(separator: " | ") + ")"
        }.joined(separator: " | ")
    }

    /// Keeps letters and digits only (the analyser already does; this is the last guard).
    static func safe(_ term: String) -> String {
        let kept = String(term.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }.map(Character.init))
        return kept.isEmpty ? "x" : kept
    }
}
