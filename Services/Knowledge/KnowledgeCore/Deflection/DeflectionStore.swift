import Foundation
import Messages
import RPC
import Storage

/// Deflection events reported by the portal and "did this help?" votes.
///
/// Events are recorded as they happen (`shown`, `opened`, `ticket`); whether a draft was
/// deflected is decided only when the report is computed (``DeflectionReport``), so the 30-minute
/// rule can change without rewriting history.
enum DeflectionStore {
    static func validDraft(_ draftID: String) throws {
        guard !draftID.isEmpty, draftID.count <= 100, !draftID.contains("\u{0}") else {
            throw RPCError(.invalidArgument, "rascunho inválido / invalid draft id", violations: [
                FieldViolation(field: "draft_id", reason: "invalid", pt: "Informe o rascunho (até 100 caracteres).",
                               en: "A draft id (up to 100 characters) is required."),
            ])
        }
    }

    /// The ticket a deflection event or a link names: required, at most 100 characters.
    static func validTicket(_ ticketID: String) throws {
        guard !ticketID.trimmingCharacters(in: .whitespaces).isEmpty, ticketID.count <= 100, !ticketID.contains("\u{0}") else {
            throw RPCError(.invalidArgument, "chamado inválido / invalid ticket id", violations: [
                FieldViolation(field: "ticket_id", reason: "required", pt: "Informe a ocorrência (até 100 caracteres).",
                               en: "A ticket id (up to 100 characters) is required."),
            ])
        }
    }

    /// Records the articles shown to a draft (each article once per draft).
    static func recordShown(_ tx: any SQLExecutor, draftID: String, articleIDs: [String], actor: String, product: String, module: String) throws {
        let at = ArticleStore.now()
        for articleID in articleIDs {
            try tx.execute("""
                INSERT INTO kb_events (draft_id, kind, article_id, actor_id, product, module, at)
                SELECT ?, 'shown', ?, ?, ?, ?, ? WHERE NOT EXISTS (
                    SELECT 1 FROM kb_events WHERE draft_id = ? AND kind = 'shown' AND article_id = ?)
                """, [.text(draftID), .text(articleID), .text(actor), .text(product), .text(module), .integer(at),
                      .text(draftID), .text(articleID)])
        }
    }

    static func recordOpened(_ tx: any SQLExecutor, draftID: String, article: ArticleRecord, actor: String, at: Int64 = ArticleStore.now()) throws {
        try tx.execute("INSERT INTO kb_events (draft_id, kind, article_id, actor_id, product, module, at) VALUES (?, 'opened', ?, ?, ?, ?, ?)",
                       [.text(draftID), .text(article.id), .text(actor), .text(article.product), .text(article.module), .integer(at)])
    }

    static func recordTicket(_ tx: any SQLExecutor, draftID: String, ticketID: String, actor: String, at: Int64 = ArticleStore.now()) throws {
        try tx.execute("INSERT INTO kb_events (draft_id, kind, article_id, actor_id, product, module, at) VALUES (?, 'ticket', ?, ?, '', '', ?)",
                       [.text(draftID), .text(ticketID), .text(actor), .integer(at)])
    }

    /// One vote per person and article (a new vote replaces the previous one).
    static func vote(_ tx: any SQLExecutor, articleID: String, voter: String, helpful: Bool, draftID: String) throws -> (Int, Int) {
        try tx.execute("""
            INSERT INTO kb_votes (article_id, voter_id, helpful, draft_id, voted_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (article_id, voter_id) DO UPDATE SET helpful = excluded.helpful, draft_id = excluded.draft_id,
                voted_at = excluded.voted_at
            """, [.text(articleID), .text(voter), SQLValue(helpful), .text(draftID), .integer(ArticleStore.now())])
        return try votes(tx, articleID: articleID)
    }

    static func votes(_ tx: any SQLExecutor, articleID: String) throws -> (Int, Int) {
        let row = try tx.queryOne("""
            SELECT COALESCE(SUM(helpful), 0) AS up, COUNT(*) - COALESCE(SUM(helpful), 0) AS down FROM kb_votes WHERE article_id = ?
            """, [.text(articleID)])
        return (Int(try row?.int("up") ?? 0), Int(try row?.int("down") ?? 0))
    }
}
