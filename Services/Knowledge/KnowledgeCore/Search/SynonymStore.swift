import Foundation
import Messages
import RPC
import Storage

/// Synonym groups as data: seeded from ``DefaultSynonyms`` on first start, edited over RPC.
enum SynonymStore {
    static func list(_ tx: any SQLExecutor) throws -> [KnowledgeV1.SynonymGroup] {
        try tx.query("SELECT id, terms FROM kb_synonyms ORDER BY id", []).map { row in
            var group = KnowledgeV1.SynonymGroup()
            group.id = try row.text("id")
            group.terms = try row.text("terms").split(separator: "|").map(String.init)
            return group
        }
    }

    /// Copies the default groups once per database.
    static func seedDefaults(_ tx: any SQLExecutor) throws {
        guard try tx.execute("INSERT INTO kb_meta (key, value) VALUES ('synonyms_seeded', 1) ON CONFLICT (key) DO NOTHING") == 1 else { return }
        for (index, terms) in DefaultSynonyms.groups.enumerated() {
            try tx.execute("INSERT INTO kb_synonyms (id, terms, updated_at) VALUES (?, ?, ?)",
                           [.text(String(format: "default-%03d", index + 1)), .text(terms.joined(separator: "|")), .integer(ArticleStore.now())])
        }
        try bump(tx)
    }

    static func put(_ tx: any SQLExecutor, _ group: KnowledgeV1.SynonymGroup) throws -> KnowledgeV1.SynonymGroup {
        let terms = group.terms.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var violations: [FieldViolation] = []
        if Set(terms.map { $0.lowercased() }).count < 2 {
            violations.append(FieldViolation(field: "group.terms", reason: "too_few", pt: "Informe ao menos dois termos diferentes.",
                                             en: "At least two different terms are needed."))
        }
        if terms.count > 50 || terms.contains(where: { $0.count > 80 || $0.contains("|") || $0.contains("\u{0}") })
            || terms.contains(where: { TextAnalyzer.analyze($0).isEmpty }) {
            violations.append(FieldViolation(field: "group.terms", reason: "invalid",
                                             pt: "Até 50 termos de até 80 caracteres, com ao menos uma palavra, sem '|'.",
                                             en: "Up to 50 terms of up to 80 characters, each with a word, without '|'."))
        }
        guard violations.isEmpty else { throw RPCError(.invalidArgument, "grupo de sinônimos inválido / invalid synonym group", violations: violations) }
        var saved = KnowledgeV1.SynonymGroup()
        saved.id = group.id.isEmpty ? UUID().uuidString.lowercased() : group.id
        saved.terms = terms
        if group.id.isEmpty {
            try tx.execute("INSERT INTO kb_synonyms (id, terms, updated_at) VALUES (?, ?, ?)",
                           [.text(saved.id), .text(terms.joined(separator: "|")), .integer(ArticleStore.now())])
        } else {
            let changed = try tx.execute("UPDATE kb_synonyms SET terms = ?, updated_at = ? WHERE id = ?",
                                         [.text(terms.joined(separator: "|")), .integer(ArticleStore.now()), .text(group.id)])
            guard changed == 1 else { throw RPCError(.notFound, "grupo de sinônimos não encontrado / synonym group not found") }
        }
        try bump(tx)
        return saved
    }

    static func delete(_ tx: any SQLExecutor, id: String) throws {
        guard try tx.execute("DELETE FROM kb_synonyms WHERE id = ?", [.text(id)]) == 1 else {
            throw RPCError(.notFound, "grupo de sinônimos não encontrado / synonym group not found")
        }
        try bump(tx)
    }

    private static func bump(_ tx: any SQLExecutor) throws {
        try tx.execute("UPDATE kb_meta SET value = value + 1 WHERE key = 'synonyms'")
    }
}
