import Foundation
import Messages
import RPC
import Storage

/// Articles, their versions and the indexed vocabulary, inside the caller's transaction.
enum ArticleStore {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Inserts a new article (version 1) and indexes it.
    static func create(_ tx: any SQLExecutor, _ input: ArticleInput, author: AuthV1.Principal, id: String = UUID().uuidString.lowercased(),
                       at: Int64 = now(), adjustVocabulary: Bool = true, indexVersion: Int64? = nil) throws -> ArticleRecord {
        let record = ArticleRecord(id: id, kind: input.kind, title: input.title, bodyMarkdown: input.bodyMarkdown,
                                   product: input.product, module: input.module, category: input.category, tags: input.tags,
                                   visibility: input.visibility, state: input.state, authorID: author.id,
                                   authorName: author.displayName, version: 1, at: at)
        try tx.execute("""
            INSERT INTO kb_articles (\(ArticleRecord.columns), body_html, summary, index_title, index_body, index_version)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, values(record) + indexValues(record) + [.integer(try indexVersion ?? IndexVersion.next(tx))])
        try saveVersion(tx, record)
        if adjustVocabulary { try adjustTerms(tx, removing: nil, adding: record, bumpVocabulary: true) }
        return record
    }

    /// Replaces the editable fields, keeping the previous text as a version.
    /// - Throws: `NOT_FOUND`; `FAILED_PRECONDITION` when `expectedVersion` is not current.
    static func update(_ tx: any SQLExecutor, id: String, expectedVersion: Int, _ input: ArticleInput,
                       editor: AuthV1.Principal) throws -> ArticleRecord {
        guard let old = try find(tx, id: id) else { throw notFound(id) }
        if expectedVersion != 0 && expectedVersion != old.version {
            throw RPCError(.failedPrecondition, "o artigo foi alterado por outra pessoa (versão \(old.version)) / "
                           + "the article was changed by someone else (version \(old.version))")
        }
        var record = old
        record.kind = input.kind; record.title = input.title; record.bodyMarkdown = input.bodyMarkdown
        record.product = input.product; record.module = input.module; record.category = input.category
        record.tags = input.tags; record.visibility = input.visibility; record.state = input.state
        record.editorID = editor.id; record.editorName = editor.displayName
        record.version = old.version + 1
        record.updatedAt = max(now(), old.updatedAt + 1)
        let changed = try tx.execute("""
            UPDATE kb_articles SET kind = ?, title = ?, body_markdown = ?, product = ?, module = ?, category = ?, tags = ?,
                visibility = ?, state = ?, editor_id = ?, editor_name = ?, version = ?, updated_at = ?,
                body_html = ?, summary = ?, index_title = ?, index_body = ?, index_version = ?
            WHERE id = ? AND version = ?
            """, [.integer(Int64(record.kind.rawValue)), .text(record.title), .text(record.bodyMarkdown), .text(record.product),
                  .text(record.module), .text(record.category), .text(record.tags.joined(separator: "|")),
                  .integer(Int64(record.visibility.rawValue)), .integer(Int64(record.state.rawValue)), .text(record.editorID),
                  .text(record.editorName), .integer(Int64(record.version)), .integer(record.updatedAt)]
                 + indexValues(record) + [.integer(try IndexVersion.next(tx)), .text(id), .integer(Int64(old.version))])
        guard changed == 1 else {
            throw RPCError(.failedPrecondition, "o artigo foi alterado por outra pessoa / the article was changed by someone else")
        }
        try saveVersion(tx, record)
        try adjustTerms(tx, removing: old, adding: record, bumpVocabulary: true)
        return record
    }

    static func find(_ tx: any SQLExecutor, id: String) throws -> ArticleRecord? {
        try tx.queryOne("SELECT \(ArticleRecord.columns) FROM kb_articles WHERE id = ?", [.text(id)]).map(ArticleRecord.init)
    }

    /// The article if `caller` may read it.
    /// - Throws: `NOT_FOUND` when it does not exist or the caller may not see it (no existence leak).
    static func readable(_ tx: any SQLExecutor, id: String, caller: Caller) throws -> ArticleRecord {
        guard let record = try find(tx, id: id), caller.canRead(visibility: record.visibility, state: record.state) else {
            throw notFound(id)
        }
        return record
    }

    static func versions(_ tx: any SQLExecutor, id: String) throws -> [KnowledgeV1.ArticleVersion] {
        try tx.query("""
            SELECT article_id, version, kind, title, body_markdown, product, module, category, tags, visibility, state,
                   editor_id, editor_name, edited_at
            FROM kb_article_versions WHERE article_id = ? ORDER BY version
            """, [.text(id)]).map { row in
            var version = KnowledgeV1.ArticleVersion()
            version.articleID = try row.text("article_id")
            version.version = Int32(try row.int("version"))
            version.kind = KnowledgeV1.ArticleKind(_protoRawValue: Int32(try row.int("kind")))
            version.title = try row.text("title")
            version.bodyMarkdown = try row.text("body_markdown")
            version.product = try row.text("product")
            version.module = try row.text("module")
            version.category = try row.text("category")
            version.tags = ArticleRecord.splitTags(try row.text("tags"))
            version.visibility = KnowledgeV1.Visibility(_protoRawValue: Int32(try row.int("visibility")))
            version.state = KnowledgeV1.ArticleState(_protoRawValue: Int32(try row.int("state")))
            version.editorID = try row.text("editor_id")
            version.editorName = try row.text("editor_name")
            version.editedAtMs = try row.int("edited_at")
            return version
        }
    }

    /// Articles matching the filters that `caller` may read, most recently updated first.
    static func list(_ tx: any SQLExecutor, caller: Caller, product: String, module: String, category: String,
                     kind: KnowledgeV1.ArticleKind, state: KnowledgeV1.ArticleState, limit: Int, offset: Int) throws -> [ArticleRecord] {
        var sql = "SELECT \(ArticleRecord.columns) FROM kb_articles WHERE state = ?"
        let wanted: KnowledgeV1.ArticleState = caller.role == .editor && state != .unspecified ? state : .published
        var params: [SQLValue] = [.integer(Int64(wanted.rawValue))]
        if caller.publicOnly {
            sql += " AND visibility = ?"
            params.append(.integer(Int64(KnowledgeV1.Visibility.customers.rawValue)))
        }
        for (column, value) in [("product", product), ("module", module), ("category", category)] where !value.isEmpty {
            sql += " AND \(column) = ?"
            params.append(.text(value))
        }
        if kind != .unspecified {
            sql += " AND kind = ?"
            params.append(.integer(Int64(kind.rawValue)))
        }
        sql += " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
        params += [.integer(Int64(limit)), .integer(Int64(offset))]
        return try tx.query(sql, params).map(ArticleRecord.init)
    }

    static func notFound(_ id: String) -> RPCError {
        RPCError(.notFound, "artigo não encontrado / article not found: \(id)")
    }

    // MARK: Helpers

    private static func values(_ record: ArticleRecord) -> [SQLValue] {
        [.text(record.id), .integer(Int64(record.kind.rawValue)), .text(record.title), .text(record.bodyMarkdown),
         .text(record.product), .text(record.module), .text(record.category), .text(record.tags.joined(separator: "|")),
         .integer(Int64(record.visibility.rawValue)), .integer(Int64(record.state.rawValue)), .text(record.authorID),
         .text(record.authorName), .text(record.editorID), .text(record.editorName), .integer(Int64(record.version)),
         .integer(record.createdAt), .integer(record.updatedAt)]
    }

    /// body_html, summary, index_title, index_body.
    private static func indexValues(_ record: ArticleRecord) -> [SQLValue] {
        let plain = MarkdownRenderer.plainText(record.bodyMarkdown)
        let summary = plain.count > 240 ? String(plain.prefix(240)) + "…" : plain
        let stems = indexStems(title: record.title, tags: record.tags, body: record.bodyMarkdown)
        return [.text(MarkdownRenderer.html(record.bodyMarkdown)), .text(summary), .text(stems.title), .text(stems.body)]
    }

    /// The stems stored with an article: `index_title` (title and tags) and `index_body`.
    static func indexStems(title: String, tags: [String], body: String) -> (title: String, body: String) {
        (TextAnalyzer.indexText(title + " " + tags.joined(separator: " ")), TextAnalyzer.indexText(body))
    }

    private static func saveVersion(_ tx: any SQLExecutor, _ record: ArticleRecord) throws {
        try tx.execute("""
            INSERT INTO kb_article_versions (article_id, version, kind, title, body_markdown, product, module, category, tags,
                visibility, state, editor_id, editor_name, edited_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(record.id), .integer(Int64(record.version)), .integer(Int64(record.kind.rawValue)), .text(record.title),
                  .text(record.bodyMarkdown), .text(record.product), .text(record.module), .text(record.category),
                  .text(record.tags.joined(separator: "|")), .integer(Int64(record.visibility.rawValue)),
                  .integer(Int64(record.state.rawValue)), .text(record.editorID), .text(record.editorName), .integer(record.updatedAt)])
    }

    /// Updates the document frequencies of the words that `removing` had and `adding` has, in
    /// one statement (a JSON array of `[word, Δall, Δpublic]`).
    static func adjustTerms(_ tx: any SQLExecutor, removing old: ArticleRecord?, adding new: ArticleRecord?, bumpVocabulary: Bool) throws {
        var delta: [String: (Int, Int)] = [:]
        if let old {
            let pub = old.isPublic ? 1 : 0
            for word in old.indexedWords { delta[word, default: (0, 0)].0 -= 1; delta[word, default: (0, 0)].1 -= pub }
        }
        if let new {
            let pub = new.isPublic ? 1 : 0
            for word in new.indexedWords { delta[word, default: (0, 0)].0 += 1; delta[word, default: (0, 0)].1 += pub }
        }
        let changes = delta.filter { $0.value != (0, 0) }
        if !changes.isEmpty {
            try addTerms(tx, changes.map { ($0.key, $0.value.0, $0.value.1) })
        }
        if bumpVocabulary && !changes.isEmpty {
            try tx.execute("UPDATE kb_meta SET value = value + 1 WHERE key = 'vocabulary'")
        }
    }

    static func addTerms(_ tx: any SQLExecutor, _ changes: [(String, Int, Int)]) throws {
        let json = "[" + changes.map { "[\(jsonString($0.0)),\($0.1),\($0.2)]" }.joined(separator: ",") + "]"
        switch tx.engine {
        case .sqlite:
            try tx.execute("""
                INSERT INTO kb_terms (term, df_all, df_public)
                SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?) WHERE true
                ON CONFLICT (term) DO UPDATE SET df_all = kb_terms.df_all + excluded.df_all,
                                                 df_public = kb_terms.df_public + excluded.df_public
                """, [.text(json)])
        case .postgres:
            try tx.execute("""
                INSERT INTO kb_terms (term, df_all, df_public)
                SELECT e->>0, (e->>1)::int, (e->>2)::int FROM jsonb_array_elements(?::jsonb) e
                ON CONFLICT (term) DO UPDATE SET df_all = kb_terms.df_all + excluded.df_all,
                                                 df_public = kb_terms.df_public + excluded.df_public
                """, [.text(json)])
        }
    }

    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
