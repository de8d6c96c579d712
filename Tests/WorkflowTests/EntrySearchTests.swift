import Foundation
import Messages
import Storage
import Testing
import TestSupport
import WorkflowCore

/// Discussion entries searched in rows of their own (migration 184, `Queue/EntryTextIndex.swift`).
@Suite("Workflow: discussion entries in the full-text index, one row each")
struct EntrySearchTests {
    static let ana = WorkflowHarness.agent("ana")
    static let search = FullTextSearchTests()

    /// s1 (subject, request and three entries: public, internal, public) and s2 (subject only).
    static func load(_ harness: WorkflowHarness) throws {
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("s1", subject: "Integração bancária falha", request: "O arquivo de retorno não é lido",
                                                   openedAt: 1_922_352_800_000), key: "s1")
        try harness.deliver(WorkflowHarness.opened("s2", subject: "Banco não conecta", request: "Sem resposta do servidor",
                                                   openedAt: 1_922_352_860_000), key: "s2")
        try harness.take("s1", as: Self.ana)
        for (text, isPublic) in [("Banco Itaú mudou o leiaute CNAB", true), ("Senha do cofre trocada pelo gerente", false),
                                 ("Reprocessar a remessa amanhã", true)] {
            var note = WorkflowV1.AddDiscussionRequest()
            note.ticketID = "s1"
            note.text = text
            note.isPublic = isPublic
            _ = try harness.call(WorkflowV1.Workflow.addDiscussion, note, as: Self.ana)
        }
    }

    /// The tickets matching, through ``TextIndex`` directly; on SQLite both plans, which must agree.
    static func ids(_ database: any Database, _ words: [String], _ match: TextIndex.Match, _ fields: [TextIndex.Field]) throws -> Set<String> {
        let plain = try database.read { tx in
            let condition = TextIndex.condition(tx.engine, words: words, match: match, fields: fields)
            return Set(try tx.query("SELECT t.id FROM tickets t WHERE " + condition.sql, condition.params).map { try $0.text("id") })
        }
        for common in [1, 1_000_000] {
            let found = try database.read { tx in
                let condition = try TextIndex.condition(tx, words: words, match: match, fields: fields, ordered: true, commonHits: common)
                return Set(try tx.query("SELECT t.id FROM tickets t WHERE " + condition.sql + " ORDER BY t.opened_at DESC, t.id DESC",
                                        condition.params).map { try $0.text("id") })
            }
            #expect(found == plain, "\(words) \(match) with commonHits \(common)")
        }
        return plain
    }

    @Test("every word may lie in the subject or in a different entry; a phrase lies within one entry", arguments: TestEngines.all)
    func wordsAcrossEntries(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.load(harness)
        let database = harness.database
        #expect(try Self.ids(database, ["integracao", "itau", "remessa"], .allWords, TextIndex.staffFields) == ["s1"],
                "subject, first entry, third entry")
        #expect(try Self.ids(database, ["banco", "cofre"], .allWords, TextIndex.staffFields) == ["s1"], "s2 has banco but no entry with cofre")
        #expect(try Self.ids(database, ["banco"], .allWords, TextIndex.staffFields) == ["s1", "s2"])
        #expect(try Self.ids(database, ["retorno", "remes"], .allWords, [.request, .discussion]) == ["s1"], "prefixes in entries too")
        #expect(try Self.ids(database, ["integracao", "itau"], .allWords, [.subject]).isEmpty, "itau is in an entry, not the subject")
        #expect(try Self.ids(database, ["itau", "gerente"], .allWords, [.discussion]) == ["s1"])
        #expect(try Self.ids(database, ["leiaute", "cnab"], .phrase, TextIndex.staffFields) == ["s1"])
        #expect(try Self.ids(database, ["cnab", "senha"], .phrase, TextIndex.staffFields).isEmpty,
                "the end of one entry and the start of the next are not a phrase")
        #expect(try Self.ids(database, ["cofre", "nada"], .anyWord, TextIndex.staffFields) == ["s1"])
        #expect(try Self.ids(database, ["ita", "conecta"], .anyExactWord, TextIndex.staffFields) == ["s2"], "whole words only")
        #expect(try Self.search.search(harness, "leiaute cnab") == ["s1"])
        #expect(try Self.search.search(harness, "mudou o leiaute", field: "discussion") == ["s1"])
        #expect(try Self.search.search(harness, "cnab senha").isEmpty)
        #expect(try Self.search.search(harness, "itau conecta", mode: "any") == ["s1", "s2"])
        #expect(try Self.search.customer(harness, text: "integracao itau remessa") == ["s1"], "customers: words across subject and public entries")
        if engine == .sqlite {
            try database.write { tx in try tx.execute("INSERT INTO ticket_fts_entries (ticket_fts_entries) VALUES ('integrity-check')") }
        }
    }

    @Test("customers never match internal entries, alone or with other words", arguments: TestEngines.all)
    func internalEntriesHidden(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.load(harness)
        let database = harness.database
        #expect(try Self.ids(database, ["cofre"], .allWords, TextIndex.customerFields).isEmpty)
        #expect(try Self.ids(database, ["itau", "senha"], .allWords, TextIndex.customerFields).isEmpty, "senha is in an internal entry")
        #expect(try Self.ids(database, ["senha", "cofre"], .phrase, TextIndex.customerFields).isEmpty)
        #expect(try Self.ids(database, ["senha", "nada"], .anyWord, TextIndex.customerFields).isEmpty)
        #expect(try Self.ids(database, ["itau", "senha"], .allWords, TextIndex.staffFields) == ["s1"])
        #expect(try Self.search.customer(harness, text: "senha").isEmpty)
        #expect(try Self.search.customer(harness, text: "itau senha").isEmpty)
        #expect(try Self.search.customer(harness, text: "itau") == ["s1"])
    }

    @Test("migration 184 moves the entries of a database at version 183 into their own rows", arguments: TestEngines.all)
    func migration(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let before = try scratch.open(migrations: WorkflowService.migrations.filter { $0.version < 184 })
        // As the code before 184 wrote them: entries appended, folded, to the ticket's search row.
        let entries: [(ticket: String, seq: Int64, isPublic: Bool, text: String)] = [
            ("m1", 1, true, "Ação pendente: reenviar a NF-e 539."), ("m1", 2, false, "Senha do cofre: ver com o gerente"),
            ("m1", 3, true, "Lote reenviado; aguardando a SEFAZ"), ("m2", 1, true, "Férias calculadas"),
        ]
        try before.write { tx in
            for (id, subject) in [("m1", "Nota fiscal rejeitada"), ("m2", "Cálculo de férias")] {
                try tx.execute("""
                    INSERT INTO tickets (id, organization_id, flow, stage, stage_since, opened_at, updated_at, last_interaction_at)
                    VALUES (?, 'org-1', 'padrao', 'aguardando_atendimento', 0, 0, 0, 0)
                    """, [.text(id)])
                let mine = entries.filter { $0.ticket == id }
                try tx.execute("INSERT INTO ticket_search (ticket_id, subject, request, discussion, public_discussion) VALUES (?, ?, 'pedido', ?, ?)",
                               [.text(id), .text(SearchText.indexText(subject)),
                                .text(mine.map { " " + SearchText.indexText($0.text) }.joined()),
                                .text(mine.filter(\.isPublic).map { " " + SearchText.indexText($0.text) }.joined())])
            }
            if engine == .sqlite {
                // Index the rows as that version's code did, whether by trigger or by an explicit insert.
                try tx.execute("INSERT INTO ticket_fts (ticket_fts) VALUES ('rebuild')")
            }
            for entry in entries {
                try tx.execute("INSERT INTO discussion_entries (id, ticket_id, seq, kind, is_public, text, added_at) VALUES (?, ?, ?, 'note', ?, ?, 0)",
                               [.text("\(entry.ticket)-\(entry.seq)"), .text(entry.ticket), .integer(entry.seq), SQLValue(entry.isPublic), .text(entry.text)])
            }
        }
        before.close()
        let database = try scratch.open(migrations: WorkflowService.migrations)
        defer { database.close() }
        #expect(try database.read { tx in try tx.queryOne("SELECT COUNT(*) AS n FROM ticket_search_entries")?.int("n") } == 4)
        #expect(try database.read { tx in
            try tx.queryOne("SELECT COUNT(*) AS n FROM ticket_search WHERE discussion <> '' OR public_discussion <> ''")?.int("n")
        } == 0, "the old per-ticket discussion is no longer kept")
        #expect(try Self.ids(database, ["acao", "pendente"], .phrase, TextIndex.staffFields) == ["m1"], "accents folded")
        #expect(try Self.ids(database, ["nf", "e", "539"], .phrase, TextIndex.customerFields) == ["m1"], "punctuation dropped")
        #expect(try Self.ids(database, ["nota", "sefaz", "reenv"], .allWords, TextIndex.customerFields) == ["m1"], "subject and two entries")
        #expect(try Self.ids(database, ["cofre"], .allWords, TextIndex.customerFields).isEmpty, "internal entries stay internal")
        #expect(try Self.ids(database, ["nota", "cofre"], .allWords, TextIndex.staffFields) == ["m1"])
        #expect(try Self.ids(database, ["ferias"], .allWords, [.discussion]) == ["m2"])
        #expect(try Self.ids(database, ["ferias"], .allWords, [.subject]) == ["m2"])
        #expect(try Self.ids(database, ["gerente", "lote"], .phrase, TextIndex.staffFields).isEmpty, "no phrase across entries")
        if engine == .sqlite {
            try database.write { tx in
                try tx.execute("INSERT INTO ticket_fts_entries (ticket_fts_entries) VALUES ('integrity-check')")
                try tx.execute("INSERT INTO ticket_fts (ticket_fts) VALUES ('integrity-check')")
            }
        }
    }
}
