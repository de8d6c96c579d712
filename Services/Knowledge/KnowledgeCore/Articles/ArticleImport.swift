import Foundation
import Messages
import RPC
import Storage

/// An article brought in from elsewhere (a migration, the evaluation set, a benchmark), with its
/// own id.
public struct ArticleImport: Sendable {
    public var id: String
    public var kind: KnowledgeV1.ArticleKind
    public var title: String
    public var bodyMarkdown: String
    public var product: String
    public var module: String
    public var category: String
    public var tags: [String]
    public var visibility: KnowledgeV1.Visibility
    public var state: KnowledgeV1.ArticleState

    public init(id: String, kind: KnowledgeV1.ArticleKind, title: String, bodyMarkdown: String, product: String = "", module: String = "",
                category: String = "", tags: [String] = [], visibility: KnowledgeV1.Visibility = .customers,
                state: KnowledgeV1.ArticleState = .published) {
        self.id = id; self.kind = kind; self.title = title; self.bodyMarkdown = bodyMarkdown; self.product = product
        self.module = module; self.category = category; self.tags = tags; self.visibility = visibility; self.state = state
    }
}

extension KnowledgeBase {
    /// Creates `articles` in one transaction (editors only), updating the vocabulary once.
    /// - Throws: `INVALID_ARGUMENT` for an invalid article, `ALREADY_EXISTS`-like storage errors for a reused id.
    public func importArticles(_ articles: [ArticleImport], caller: Caller) throws {
        try caller.require(.editor)
        let inputs = try articles.map { article in
            (article.id, try ArticleInput(kind: article.kind, title: article.title, bodyMarkdown: article.bodyMarkdown, product: article.product,
                                          module: article.module, category: article.category, tags: article.tags,
                                          visibility: article.visibility, state: article.state).validated())
        }
        try database.write { tx in
            var delta: [String: (Int, Int)] = [:]
            let version = try IndexVersion.next(tx)
            for (id, input) in inputs {
                let record = try ArticleStore.create(tx, input, author: caller.principal, id: id, adjustVocabulary: false, indexVersion: version)
                let pub = record.isPublic ? 1 : 0
                for word in record.indexedWords { delta[word, default: (0, 0)].0 += 1; delta[word, default: (0, 0)].1 += pub }
            }
            if !delta.isEmpty {
                try ArticleStore.addTerms(tx, delta.map { ($0.key, $0.value.0, $0.value.1) })
                try tx.execute("UPDATE kb_meta SET value = value + 1 WHERE key = 'vocabulary'")
            }
        }
        if database.engine == .postgres && articles.count >= 1_000 {
            // Fresh statistics after a bulk load, for the planner.
            try database.write { try $0.execute("ANALYZE kb_articles") }
        }
        cache.refreshAfterWrite(database)
    }
}
