import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: full-text search index (FTS5 / tsvector)")
struct FullTextSearchTests {
    static let ana = WorkflowHarness.agent("ana")      // level 1
    static let bruno = WorkflowHarness.agent("bruno")  // level 0

    /// f1 and f2 (org-1), f3 (org-2, Estratégica: level 3); notes on f1, one public and one internal.
    static func load(_ harness: WorkflowHarness) throws {
        try harness.seedDirectory()
        var level = WorkflowV1.SetCategoryAccessLevelRequest()
        level.category = .estrategica
        level.accessLevel = 3
        _ = try harness.call(WorkflowV1.Workflow.setCategoryAccessLevel, level, as: WorkflowHarness.admin())
        try harness.deliver(WorkflowHarness.opened("f1", subject: "Nota Fiscal Eletrônica rejeitada", request: "Erro 539 ao transmitir a NF-e",
                                                   openedAt: 1_922_352_800_000), key: "f1")
        try harness.deliver(WorkflowHarness.opened("f2", module: "Folha", subject: "Cálculo de FÉRIAS", request: "A folha de pagamento diverge",
                                                   openedAt: 1_922_352_860_000), key: "f2")
        try harness.deliver(WorkflowHarness.opened("f3", organization: "org-2", category: .estrategica, subject: "Nota fiscal de serviço",
                                                   request: "A prefeitura recusa o XML", openedAt: 1_922_352_920_000), key: "f3")
        try harness.take("f1", as: Self.ana)
        for (text, isPublic) in [("Reenvie o lote com o certificado renovado", true), ("Cliente usa certificado vencido; avisar o comercial", false)] {
            var note = WorkflowV1.AddDiscussionRequest()
            note.ticketID = "f1"
            note.text = text
            note.isPublic = isPublic
            _ = try harness.call(WorkflowV1.Workflow.addDiscussion, note, as: Self.ana)
        }
    }

    func search(_ harness: WorkflowHarness, _ query: String, field: String = "", mode: String = "",
                as principal: AuthV1.Principal = WorkflowHarness.admin()) throws -> Set<String> {
        var request = WorkflowV1.SearchTicketsRequest()
        request.query = query
        request.field = field
        request.mode = mode
        return Set(try harness.call(WorkflowV1.Workflow.searchTickets, request, as: principal).tickets.map(\.ticketID))
    }

    func queue(_ harness: WorkflowHarness, text: String, as principal: AuthV1.Principal = WorkflowHarness.admin()) throws -> Set<String> {
        var request = WorkflowV1.ListQueueRequest()
        request.filter = WorkflowV1.TicketFilter()
        request.filter?.text = text
        return Set(try harness.call(WorkflowV1.Workflow.listQueue, request, as: principal).tickets.map(\.ticketID))
    }

    func customer(_ harness: WorkflowHarness, text: String, organization: String = "org-1") throws -> Set<String> {
        var request = WorkflowV1.ListCustomerTicketsRequest()
        request.text = text
        let principal = WorkflowHarness.customer("maria", organization: organization)
        return Set(try harness.call(WorkflowV1.Workflow.listCustomerTickets, request, as: principal).tickets.map(\.ticketID))
    }

    @Test("accents and case do not matter; words match as prefixes; phrases keep order; one field or all", arguments: TestEngines.all)
    func matching(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.load(harness)
        #expect(try search(harness, "ferias") == ["f2"])
        #expect(try search(harness, "CÁLCULO de férias") == ["f2"])
        #expect(try search(harness, "nota fiscal") == ["f1", "f3"])
        #expect(try search(harness, "nota eletronica").isEmpty, "a phrase: the words must be next to each other")
        #expect(try search(harness, "nota eletronica", mode: "any") == ["f1", "f3"])
        #expect(try search(harness, "eletr") == ["f1"], "the last word of a phrase matches as a prefix")
        #expect(try search(harness, "nf e") == ["f1"], "NF-e is indexed as nf e")
        #expect(try search(harness, "539", field: "request") == ["f1"])
        #expect(try search(harness, "539", field: "subject").isEmpty)
        #expect(try search(harness, "certificado vencido", field: "discussion") == ["f1"], "internal entries are searched by staff")
        #expect(try search(harness, "certificado", field: "solution").isEmpty)
        #expect(try queue(harness, text: "NOTA fisc") == ["f1", "f3"], "every word, in subject or request")
        #expect(try queue(harness, text: "nota prefeitura") == ["f3"])
        #expect(try queue(harness, text: "certificado").isEmpty, "the queue's text filter looks at subject and request only")
        #expect(try queue(harness, text: "%").isEmpty, "no word in it: nothing matches (% is no wildcard, and the search is not dropped)")
    }

    @Test("access rules hold in search: agents by level, customers their organization and public entries only", arguments: TestEngines.all)
    func access(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.load(harness)
        #expect(try search(harness, "nota fiscal", as: Self.bruno) == ["f1"], "f3 is level 3")
        #expect(try queue(harness, text: "nota", as: Self.ana) == ["f1"])
        #expect(try search(harness, "nota fiscal", as: WorkflowHarness.agent("carla")) == ["f1", "f3"], "carla has level 3")
        #expect(try customer(harness, text: "nota fiscal") == ["f1"])
        #expect(try customer(harness, text: "nota fiscal", organization: "org-2") == ["f3"])
        #expect(try customer(harness, text: "certificado renovado") == ["f1"], "a public entry")
        #expect(try customer(harness, text: "vencido").isEmpty, "an internal entry is not searched for customers")
        #expect(try customer(harness, text: "renovado", organization: "org-2").isEmpty)
    }

    @Test("the index follows request and solution edits and customer replies", arguments: TestEngines.all)
    func followsChanges(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.load(harness)
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "f2"
        reply.text = "Segue a planilha de rescisão"
        reply.repliedAtMs = 1_922_353_400_000
        try harness.deliver(reply, key: "f2")
        #expect(try search(harness, "rescisao") == ["f2"])
        #expect(try customer(harness, text: "planilha") == ["f2"])
        var amend = WorkflowV1.SetTextRequest()
        amend.ticketID = "f1"
        amend.text = "Rejeição 225: falha no schema"
        _ = try harness.call(WorkflowV1.Workflow.amendRequest, amend, as: Self.ana)
        #expect(try search(harness, "rejeicao 225", field: "request") == ["f1"])
        #expect(try search(harness, "539", field: "request").isEmpty, "the old request text left the index")
        amend.text = "Lote reenviado com o certificado novo"
        _ = try harness.call(WorkflowV1.Workflow.setSolution, amend, as: Self.ana)
        #expect(try search(harness, "lote reenviado", field: "solution") == ["f1"])
        #expect(try customer(harness, text: "reenviado") == ["f1"], "customers search the solution")
    }

    @Test("openings of one delivery are indexed together (SQLite: one FTS5 segment), a reply in the same delivery with them; edits follow",
          arguments: TestEngines.all)
    func deliveryIndexedTogether(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "d2"
        reply.text = "Segue a planilha de rescisão"
        reply.repliedAtMs = 1_922_353_400_000
        let envelopes = [
            WorkflowHarness.envelope(WorkflowHarness.opened("d1", subject: "Nota Fiscal rejeitada", request: "Erro 539 no lote"), key: "d1"),
            WorkflowHarness.envelope(WorkflowHarness.opened("d2", subject: "Cálculo de férias", request: "A folha diverge"), key: "d2"),
            WorkflowHarness.envelope(reply, key: "d2"),
            WorkflowHarness.envelope(WorkflowHarness.opened("d3", subject: "Boleto duplicado", request: "Cobrança em dobro"), key: "d3"),
        ]
        #expect(try harness.deliver(envelopes).accepted == 4)
        #expect(try search(harness, "nota fiscal") == ["d1"])
        #expect(try search(harness, "ferias") == ["d2"])
        #expect(try search(harness, "rescisao") == ["d2"], "the reply given in the same delivery as the opening")
        #expect(try search(harness, "boleto") == ["d3"])
        #expect(try customer(harness, text: "planilha") == ["d2"])
        var amend = WorkflowV1.SetTextRequest()
        amend.ticketID = "d3"
        amend.text = "Cobrança cancelada pelo banco"
        _ = try harness.call(WorkflowV1.Workflow.amendRequest, amend, as: WorkflowHarness.admin())
        #expect(try search(harness, "cancelada", field: "request") == ["d3"])
        #expect(try search(harness, "dobro", field: "request").isEmpty, "the old request text left the index")
        if engine == .sqlite {
            try harness.database.write { tx in
                try tx.execute("INSERT INTO ticket_fts (ticket_fts) VALUES ('integrity-check')")
                #expect(try tx.queryOne("SELECT COUNT(*) AS n FROM ticket_search WHERE fts_pending <> 0")?.int("n") == 0)
            }
        }
    }

    @Test("the migration indexes tickets stored before it, public entries included", arguments: TestEngines.all)
    func migration(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let before = try scratch.open(migrations: WorkflowService.migrations.filter { $0.version < 6 })
        try before.write { tx in
            for (id, subject) in [("m1", "nota fiscal, rejeitada"), ("m2", "calculo de ferias")] {
                try tx.execute("""
                    INSERT INTO tickets (id, organization_id, flow, stage, stage_since, opened_at, updated_at, last_interaction_at)
                    VALUES (?, 'org-1', 'padrao', 'aguardando_atendimento', 0, 0, 0, 0)
                    """, [.text(id)])
                try tx.execute("INSERT INTO ticket_search (ticket_id, subject, request, discussion) VALUES (?, ?, 'pedido', ?)",
                               [.text(id), .text(subject), .text(id == "m1" ? " resposta publica. nota interna" : "")])
            }
            try tx.execute("""
                INSERT INTO discussion_entries (id, ticket_id, seq, kind, is_public, text, added_at) VALUES
                ('e1', 'm1', 1, 'note', 1, 'Resposta pública.', 0), ('e2', 'm1', 2, 'note', 0, 'Nota interna', 0)
                """)
        }
        let database = try scratch.open(migrations: WorkflowService.migrations)
        func ids(_ words: [String], _ match: TextIndex.Match, _ fields: [TextIndex.Field]) throws -> Set<String> {
            let condition = TextIndex.condition(engine, words: words, match: match, fields: fields)
            return try database.read { tx in
                Set(try tx.query("SELECT t.id FROM tickets t WHERE " + condition.sql, condition.params).map { try $0.text("id") })
            }
        }
        #expect(try ids(["nota", "fiscal"], .phrase, TextIndex.staffFields) == ["m1"])
        #expect(try ids(["ferias"], .allWords, [.subject]) == ["m2"])
        #expect(try ids(["publica"], .allWords, TextIndex.customerFields) == ["m1"])
        #expect(try ids(["interna"], .allWords, TextIndex.customerFields).isEmpty)
        #expect(try ids(["interna"], .allWords, TextIndex.staffFields) == ["m1"])
        // Both SQLite plans (from the index; walking the tickets and checking the hits' rowids) agree.
        for (words, match, fields) in [(["nota", "fiscal"], TextIndex.Match.phrase, TextIndex.staffFields), (["pedido"], .allWords, [.request]),
                                       (["publica"], .anyWord, TextIndex.customerFields), (["nada"], .allWords, [.subject])] as [([String], TextIndex.Match, [TextIndex.Field])] {
            let plain = try ids(words, match, fields)
            for common in [1, 1_000_000] {
                let found = try database.read { tx in
                    let condition = try TextIndex.condition(tx, words: words, match: match, fields: fields, ordered: true, commonHits: common)
                    return Set(try tx.query("SELECT t.id FROM tickets t WHERE " + condition.sql + " ORDER BY t.opened_at, t.id", condition.params)
                        .map { try $0.text("id") })
                }
                #expect(found == plain, "\(words) with commonHits \(common)")
            }
        }
    }
}
