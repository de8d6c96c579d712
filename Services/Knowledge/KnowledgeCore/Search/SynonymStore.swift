import Foundation
import Messages
import RPC
import Storage

/// Synonym groups as data: seeded from ``DefaultSynonyms`` (each edition once), edited over RPC.
enum SynonymStore {
    static func list(_ tx: any SQLExecutor) throws -> [KnowledgeV1.SynonymGroup] {
        try tx.query("SELECT id, terms FROM kb_synonyms ORDER BY id", []).map { row in
            var group = KnowledgeV1.SynonymGroup()
            group.id = try row.text("id")
            group.terms = try row.text("terms").split(separator: "|").map(String.init)
            return group
        }
    }

    /// Copies each edition of the default groups once per database (`kb_meta.synonyms_seeded`
    /// counts the editions copied), so a group added by a later release reaches a database seeded
    /// before it, and a default group an editor deleted never comes back.
    static func seedDefaults(_ tx: any SQLExecutor) throws {
        try tx.execute("INSERT INTO kb_meta (key, value) VALUES ('synonyms_seeded', 0) ON CONFLICT (key) DO NOTHING")
        let seeded = Int(try tx.scalar("SELECT value FROM kb_meta WHERE key = 'synonyms_seeded'", []).integerValue ?? 0)
        let editions = DefaultSynonyms.editions
        guard seeded < editions.count else { return }
        for edition in seeded..<editions.count {
            for (index, terms) in editions[edition].enumerated() {
                // The first edition's ids as they always were.
                let id = edition == 0 ? String(format: "default-%03d", index + 1) : String(format: "default-%d-%03d", edition + 1, index + 1)
                try tx.execute("INSERT INTO kb_synonyms (id, terms, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
                               [.text(id), .text(terms.joined(separator: "|")), .integer(ArticleStore.now())])
            }
        }
        try tx.execute("UPDATE kb_meta SET value = ? WHERE key = 'synonyms_seeded' AND value < ?",
                       [.integer(Int64(editions.count)), .integer(Int64(editions.count))])
        try bump(tx)
    }

    static func put(_ tx: any SQLExecutor, _ group: KnowledgeV1.SynonymGroup) throws -> KnowledgeV1.SynonymGroup {
        let terms = group.terms.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var violations: [FieldViolation] = []
        // Compared as the search sees them: "Emissão" and "emissao" are one term.
        if Set(terms.map { TextAnalyzer.analyze($0).map(\.stem) }.filter { !$0.isEmpty }).count < 2 {
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
