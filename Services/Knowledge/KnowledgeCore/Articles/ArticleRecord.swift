import Foundation
import Messages
import Storage

/// An article as stored.
struct ArticleRecord: Sendable {
    var id: String
    var kind: KnowledgeV1.ArticleKind
    var title: String
    var bodyMarkdown: String
    var product: String
    var module: String
    var category: String
    var tags: [String]
    var visibility: KnowledgeV1.Visibility
    var state: KnowledgeV1.ArticleState
    var authorID: String
    var authorName: String
    var editorID: String
    var editorName: String
    var version: Int
    var createdAt: Int64
    var updatedAt: Int64

    /// Whether customers may read it (counts in the public vocabulary).
    var isPublic: Bool { visibility == .customers && state == .published }

    /// Words of the text indexed for search (title, tags, body).
    var indexedWords: Set<String> {
        Set(TextAnalyzer.words(title + " " + tags.joined(separator: " ") + " " + bodyMarkdown)
            .filter { !StopWords.portuguese.contains($0) })
    }

    static let columns = """
        id, kind, title, body_markdown, product, module, category, tags, visibility, state, author_id, author_name,
        editor_id, editor_name, version, created_at, updated_at
        """

    init(id: String, kind: KnowledgeV1.ArticleKind, title: String, bodyMarkdown: String, product: String, module: String,
         category: String, tags: [String], visibility: KnowledgeV1.Visibility, state: KnowledgeV1.ArticleState,
         authorID: String, authorName: String, version: Int, at: Int64) {
        self.id = id; self.kind = kind; self.title = title; self.bodyMarkdown = bodyMarkdown
        self.product = product; self.module = module; self.category = category; self.tags = tags
        self.visibility = visibility; self.state = state; self.authorID = authorID; self.authorName = authorName
        self.editorID = authorID; self.editorName = authorName; self.version = version
        self.createdAt = at; self.updatedAt = at
    }

    init(row: Row) throws {
        id = try row.text("id")
        kind = KnowledgeV1.ArticleKind(_protoRawValue: Int32(try row.int("kind")))
        title = try row.text("title")
        bodyMarkdown = try row.text("body_markdown")
        product = try row.text("product")
        module = try row.text("module")
        category = try row.text("category")
        tags = Self.splitTags(try row.text("tags"))
        visibility = KnowledgeV1.Visibility(_protoRawValue: Int32(try row.int("visibility")))
        state = KnowledgeV1.ArticleState(_protoRawValue: Int32(try row.int("state")))
        authorID = try row.text("author_id")
        authorName = try row.text("author_name")
        editorID = try row.text("editor_id")
        editorName = try row.text("editor_name")
        version = Int(try row.int("version"))
        createdAt = try row.int("created_at")
        updatedAt = try row.int("updated_at")
    }

    static func splitTags(_ text: String) -> [String] {
        text.split(separator: "|").map(String.init)
    }

    func message(helpful: Int = 0, unhelpful: Int = 0) -> KnowledgeV1.Article {
        var article = KnowledgeV1.Article()
        article.id = id
        article.kind = kind
        article.title = title
        article.bodyMarkdown = bodyMarkdown
        article.bodyHTML = MarkdownRenderer.html(bodyMarkdown)
        article.product = product
        article.module = module
        article.category = category
        article.tags = tags
        article.visibility = visibility
        article.state = state
        article.authorID = authorID
        article.authorName = authorName
        article.editorID = editorID
        article.editorName = editorName
        article.version = Int32(version)
        article.createdAtMs = createdAt
        article.updatedAtMs = updatedAt
        article.helpfulVotes = Int32(helpful)
        article.unhelpfulVotes = Int32(unhelpful)
        return article
    }
}
