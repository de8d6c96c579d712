import Foundation
import Messages
import RPC
import Storage

/// The editors' queue: FAQ requests from agents and publishable answers from workflow events,
/// reviewed by an editor into FAQ articles or forum entries.
enum EditorQueue {
    struct NewItem {
        var kind: KnowledgeV1.QueueItemKind
        var sourceKey: String
        var ticketID = "", ticketCode = "", organizationID = "", organizationName = "", contactName = "", contactEmail = ""
        var product = "", module = "", category = ""
        var question = "", answer = "", requestedByID = "", requestedByName = "", note = ""
    }

    static let columns = """
        id, kind, status, ticket_id, ticket_code, organization_id, organization_name, contact_name, contact_email, product,
        module, category, question, answer, requested_by_name, created_at, reviewed_by_name, reviewed_at, note, article_id, forum_entry_id
        """

    /// Adds an item once per source (a redelivered event or a retried request adds nothing).
    @discardableResult
    static func add(_ tx: any SQLExecutor, _ item: NewItem) throws -> String? {
        let id = UUID().uuidString.lowercased()
        let inserted = try tx.execute("""
            INSERT INTO kb_queue (id, kind, status, source_key, ticket_id, ticket_code, organization_id, organization_name,
                contact_name, contact_email, product, module, category, question, answer, requested_by_id, requested_by_name,
                created_at, reviewed_by_name, reviewed_at, note, article_id, forum_entry_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, '', '')
            ON CONFLICT (source_key) DO NOTHING
            """, [.text(id), .integer(Int64(item.kind.rawValue)), .integer(Int64(KnowledgeV1.QueueItemStatus.pending.rawValue)),
                  .text(item.sourceKey), .text(item.ticketID), .text(item.ticketCode), .text(item.organizationID),
                  .text(item.organizationName), .text(item.contactName), .text(item.contactEmail), .text(item.product),
                  .text(item.module), .text(item.category), .text(item.question), .text(item.answer), .text(item.requestedByID),
                  .text(item.requestedByName), .integer(ArticleStore.now()), .text(item.note)])
        return inserted == 1 ? id : nil
    }

    static func find(_ tx: any SQLExecutor, id: String) throws -> (KnowledgeV1.QueueItem, contactEmail: String, organizationID: String)? {
        guard let row = try tx.queryOne("SELECT \(columns) FROM kb_queue WHERE id = ?", [.text(id)]) else { return nil }
        return (try item(row), try row.text("contact_email"), try row.text("organization_id"))
    }

    static func findBySource(_ tx: any SQLExecutor, sourceKey: String) throws -> KnowledgeV1.QueueItem? {
        try tx.queryOne("SELECT \(columns) FROM kb_queue WHERE source_key = ?", [.text(sourceKey)]).map(item)
    }

    static func list(_ tx: any SQLExecutor, status: KnowledgeV1.QueueItemStatus, kind: KnowledgeV1.QueueItemKind, limit: Int) throws -> [KnowledgeV1.QueueItem] {
        var sql = "SELECT \(columns) FROM kb_queue WHERE status = ?"
        var params: [SQLValue] = [.integer(Int64((status == .unspecified ? .pending : status).rawValue))]
        if kind != .unspecified {
            sql += " AND kind = ?"
            params.append(.integer(Int64(kind.rawValue)))
        }
        sql += " ORDER BY created_at, id LIMIT ?"
        params.append(.integer(Int64(limit)))
        return try tx.query(sql, params).map(item)
    }

    static func item(_ row: Row) throws -> KnowledgeV1.QueueItem {
        var item = KnowledgeV1.QueueItem()
        item.id = try row.text("id")
        item.kind = KnowledgeV1.QueueItemKind(_protoRawValue: Int32(try row.int("kind")))
        item.status = KnowledgeV1.QueueItemStatus(_protoRawValue: Int32(try row.int("status")))
        item.ticketID = try row.text("ticket_id")
        item.ticketCode = try row.text("ticket_code")
        item.organizationName = try row.text("organization_name")
        item.contactName = try row.text("contact_name")
        item.product = try row.text("product")
        item.module = try row.text("module")
        item.category = try row.text("category")
        item.question = try row.text("question")
        item.answer = try row.text("answer")
        item.requestedByName = try row.text("requested_by_name")
        item.createdAtMs = try row.int("created_at")
        item.reviewedByName = try row.text("reviewed_by_name")
        item.reviewedAtMs = try row.int("reviewed_at")
        item.note = try row.text("note")
        item.articleID = try row.text("article_id")
        item.forumEntryID = try row.text("forum_entry_id")
        return item
    }

    /// Marks a pending item reviewed.
    /// - Throws: `NOT_FOUND`, or `FAILED_PRECONDITION` when it was already reviewed.
    static func close(_ tx: any SQLExecutor, id: String, status: KnowledgeV1.QueueItemStatus, reviewer: String, note: String?,
                      articleID: String = "", forumEntryID: String = "") throws {
        let changed = try tx.execute("""
            UPDATE kb_queue SET status = ?, reviewed_by_name = ?, reviewed_at = ?, note = COALESCE(?, note), article_id = ?, forum_entry_id = ?
            WHERE id = ? AND status = ?
            """, [.integer(Int64(status.rawValue)), .text(reviewer), .integer(ArticleStore.now()), SQLValue(note), .text(articleID),
                  .text(forumEntryID), .text(id), .integer(Int64(KnowledgeV1.QueueItemStatus.pending.rawValue))])
        guard changed == 1 else {
            throw RPCError(.failedPrecondition, "este item já foi revisado / this item was already reviewed")
        }
    }
}

/// The forum of answered questions: only entries an editor reviewed and anonymised.
enum Forum {
    static func add(_ tx: any SQLExecutor, queueID: String, question: String, answer: String, product: String, module: String,
                    category: String, approvedBy: String) throws -> KnowledgeV1.ForumEntry {
        var entry = KnowledgeV1.ForumEntry()
        entry.id = UUID().uuidString.lowercased()
        entry.question = question
        entry.answer = answer
        entry.answerHTML = MarkdownRenderer.html(answer)
        entry.product = product
        entry.module = module
        entry.category = category
        entry.approvedAtMs = ArticleStore.now()
        try tx.execute("""
            INSERT INTO kb_forum (id, queue_id, question, answer, product, module, category, approved_by, approved_at, index_version)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(entry.id), .text(queueID), .text(question), .text(answer), .text(product), .text(module), .text(category),
                  .text(approvedBy), .integer(entry.approvedAtMs), .integer(try IndexVersion.next(tx))])
        // Its words join the (public) vocabulary, for typo correction and completions.
        let words = Set(TextAnalyzer.words(question + " " + answer).filter { !StopWords.portuguese.contains($0) })
        if !words.isEmpty {
            try ArticleStore.addTerms(tx, words.map { ($0, 1, 1) })
            try tx.execute("UPDATE kb_meta SET value = value + 1 WHERE key = 'vocabulary'")
        }
        return entry
    }

    static func find(_ tx: any SQLExecutor, id: String) throws -> KnowledgeV1.ForumEntry? {
        try tx.queryOne("SELECT id, question, answer, product, module, category, approved_at FROM kb_forum WHERE id = ?",
                        [.text(id)]).map(entry)
    }

    /// Snippet of a forum answer for search hits (plain text, 240 characters at most).
    static func snippet(_ answer: String) -> String {
        let plain = MarkdownRenderer.plainText(answer)
        return plain.count > 240 ? String(plain.prefix(240)) + "…" : plain
    }

    static func list(_ tx: any SQLExecutor, product: String, module: String, category: String, limit: Int) throws -> [KnowledgeV1.ForumEntry] {
        var sql = "SELECT id, question, answer, product, module, category, approved_at FROM kb_forum WHERE 1 = 1"
        var params: [SQLValue] = []
        for (column, value) in [("product", product), ("module", module), ("category", category)] where !value.isEmpty {
            sql += " AND \(column) = ?"
            params.append(.text(value))
        }
        sql += " ORDER BY approved_at DESC, id LIMIT ?"
        params.append(.integer(Int64(limit)))
        return try tx.query(sql, params).map(entry)
    }

    static func entry(_ row: Row) throws -> KnowledgeV1.ForumEntry {
        var entry = KnowledgeV1.ForumEntry()
        entry.id = try row.text("id")
        entry.question = try row.text("question")
        entry.answer = try row.text("answer")
        entry.answerHTML = MarkdownRenderer.html(entry.answer)
        entry.product = try row.text("product")
        entry.module = try row.text("module")
        entry.category = try row.text("category")
        entry.approvedAtMs = try row.int("approved_at")
        return entry
    }
}
