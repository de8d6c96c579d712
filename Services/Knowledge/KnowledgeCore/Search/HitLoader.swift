import Messages
import Storage

extension SearchFilter {
    /// The same filter for the in-memory index.
    var indexFilter: InvertedIndex.Filter {
        InvertedIndex.Filter(publicOnly: publicOnly, product: product, module: module, category: category, kind: Int32(kind.rawValue),
                             includeForum: includeForum)
    }

    /// Whether a stored row still passes (the index may be a moment behind another instance's write).
    func admits(state: KnowledgeV1.ArticleState, visibility: KnowledgeV1.Visibility, kind: KnowledgeV1.ArticleKind,
                product: String, module: String, category: String) -> Bool {
        state == .published && (!publicOnly || visibility == .customers)
            && (self.kind == .unspecified || self.kind == kind)
            && (self.product.isEmpty || self.product == product) && (self.module.isEmpty || self.module == module)
            && (self.category.isEmpty || self.category == category)
    }
}

/// Reads the hits the in-memory index ranked, by key, in rank order, checking each row again
/// against the filter (state, visibility, product...): what the database says wins.
enum HitLoader {
    static func load(_ tx: any SQLExecutor, _ matches: [InvertedIndex.Match], filter: SearchFilter) throws -> [KnowledgeV1.ArticleHit] {
        let articleIDs = matches.filter { $0.source == .article }.map(\.id)
        var found: [String: KnowledgeV1.ArticleHit] = [:]
        if !articleIDs.isEmpty {
            let marks = Array(repeating: "?", count: articleIDs.count).joined(separator: ", ")
            for row in try tx.query("""
                SELECT id, kind, title, summary, product, module, category, visibility, state FROM kb_articles WHERE id IN (\(marks))
                """, articleIDs.map { .text($0) }) {
                guard let hit = try articleHit(row, filter: filter) else { continue }
                found["a:" + hit.id] = hit
            }
        }
        let forumIDs = matches.filter { $0.source == .forum }.map(\.id)
        if !forumIDs.isEmpty && filter.includeForum && filter.kind == .unspecified {
            let marks = Array(repeating: "?", count: forumIDs.count).joined(separator: ", ")
            for row in try tx.query("SELECT id, question, answer, product, module, category FROM kb_forum WHERE id IN (\(marks))",
                                    forumIDs.map { .text($0) }) {
                var hit = KnowledgeV1.ArticleHit()
                hit.id = try row.text("id")
                hit.forumEntry = true
                hit.kind = .faq
                hit.title = String(try row.text("question").prefix(ArticleInput.maxTitle))
                hit.snippet = Forum.snippet(try row.text("answer"))
                hit.product = try row.text("product")
                hit.module = try row.text("module")
                hit.category = try row.text("category")
                // Reviewed and anonymised: customers may read every forum entry.
                hit.visibility = .customers
                guard filter.admits(state: .published, visibility: .customers, kind: .unspecified, product: hit.product,
                                    module: hit.module, category: hit.category) else { continue }
                found["f:" + hit.id] = hit
            }
        }
        return matches.compactMap { match in
            guard var hit = found[InvertedIndex.key(match.source, match.id)] else { return nil }
            hit.score = match.score
            return hit
        }
    }

    /// The hit of a `kb_articles` row (columns id, kind, title, summary, product, module, category,
    /// visibility, state), or nil when the row does not pass `filter`: defence in depth, whatever
    /// the index or the SQL matched, a hit the filter excludes is never returned.
    static func articleHit(_ row: Row, filter: SearchFilter) throws -> KnowledgeV1.ArticleHit? {
        var hit = KnowledgeV1.ArticleHit()
        hit.id = try row.text("id")
        hit.kind = KnowledgeV1.ArticleKind(_protoRawValue: Int32(try row.int("kind")))
        hit.title = try row.text("title")
        hit.snippet = try row.text("summary")
        hit.product = try row.text("product")
        hit.module = try row.text("module")
        hit.category = try row.text("category")
        hit.visibility = KnowledgeV1.Visibility(_protoRawValue: Int32(try row.int("visibility")))
        let state = KnowledgeV1.ArticleState(_protoRawValue: Int32(try row.int("state")))
        guard filter.admits(state: state, visibility: hit.visibility, kind: hit.kind, product: hit.product, module: hit.module,
                            category: hit.category) else { return nil }
        return hit
    }
}
