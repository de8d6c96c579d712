import Foundation
import Messages
import RPC
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

@Suite("Editors' queue, forum and ticket links")
struct EditorialTests {
    static func publishableAnswer(entry: String = "e1") -> WorkflowV1.PublishableAnswerMarked {
        var contact = CommonV1.PersonRef()
        contact.name = "Maria Souza"
        contact.email = "maria@padaria.com.br"
        var ticket = WorkflowV1.TicketSummary()
        ticket.ticketID = "tk-123"
        ticket.code = "OC-2026-000123"
        ticket.organizationID = "org-9"
        ticket.organizationName = "Padaria Pão Quente"
        ticket.contact = contact
        ticket.subject = "Boleto não registra"
        ticket.product = "erp"
        ticket.module = "financeiro"
        ticket.category = .duvida
        var event = WorkflowV1.PublishableAnswerMarked()
        event.ticket = ticket
        event.entryID = entry
        event.question = "A Padaria Pão Quente (chamado OC-2026-000123) não consegue registrar boletos. Maria Souza, tel (11) 98765-4321, CNPJ 12.345.678/0001-90."
        event.answer = "Maria, reenvie o arquivo de remessa em Financeiro > Cobrança; escreva para maria@padaria.com.br se precisar."
        event.agentID = "agente"
        return event
    }

    @Test("a publishable answer reaches the queue once, is anonymised on approval and only then shown to customers",
          arguments: TestEngines.all)
    func forum(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let event = Self.publishableAnswer()
        // Delivered twice (at-least-once): one queue item.
        for _ in 0..<2 { try kb.database.write { try kb.enqueuePublishableAnswer(event, $0) } }
        #expect(try kb.listForum(KnowledgeV1.ListForumRequest(), caller: Fixtures.customer).entries.isEmpty)
        #expect(throws: RPCError.self) { try kb.listEditorQueue(KnowledgeV1.ListEditorQueueRequest(), caller: Fixtures.agent) }
        let queue = try kb.listEditorQueue(KnowledgeV1.ListEditorQueueRequest(), caller: Fixtures.editor).items
        #expect(queue.count == 1)
        let item = try #require(queue.first)
        #expect(item.kind == .publishableAnswer)
        #expect(item.category == "duvida")
        var approve = KnowledgeV1.ApproveQueueItemRequest()
        approve.id = item.id
        #expect(throws: RPCError.self) { try kb.approveQueueItem(approve, caller: Fixtures.agent) }
        let approved = try kb.approveQueueItem(approve, caller: Fixtures.editor)
        #expect(approved.item?.status == .approved)
        let entries = try kb.listForum(KnowledgeV1.ListForumRequest(), caller: Fixtures.customer).entries
        #expect(entries.count == 1)
        let text = (entries.first?.question ?? "") + " " + (entries.first?.answer ?? "")
        for secret in ["Padaria", "Pão Quente", "Maria", "Souza", "OC-2026-000123", "98765", "12.345.678", "maria@padaria.com.br", "tk-123"] {
            #expect(!text.contains(secret), "\(secret) left in: \(text)")
        }
        #expect(text.contains("arquivo de remessa"))
        #expect(throws: RPCError.self) { try kb.approveQueueItem(approve, caller: Fixtures.editor) }
        // FAQ before the form includes the forum of the product.
        var faq = KnowledgeV1.ListFaqRequest()
        faq.product = "erp"
        #expect(try kb.listFaq(faq, caller: Fixtures.customer).forum.count == 1)
    }

    @Test("an e-mail address, a phone and this system's ticket codes are replaced whole, even when they contain the customer's names")
    func anonymizerReplacesWholeIdentifiers() {
        let text = Anonymizer.anonymize("Fale com maria@acme.com.br ou (11) 98765-4321 sobre a 2026-000123 da Acme; Maria confirmou.",
                                        names: ["Acme", "Maria Souza"], codes: [])
        #expect(text == "Fale com [e-mail] ou [telefone] sobre a [chamado] da [cliente]; [cliente] confirmou.", "\(text)")
    }

    @Test("reviewed forum entries are found by search and suggestions, anonymised, and never before review",
          arguments: TestEngines.all)
    func forumInSearch(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        try Fixtures.article(kb, "Cadastro de clientes", "Como cadastrar um cliente novo.", module: "vendas")
        try kb.database.write { try kb.enqueuePublishableAnswer(Self.publishableAnswer(), $0) }
        // Pending review: not searchable by anyone, even with the exact words.
        for caller in [Fixtures.customer, Fixtures.agent, Fixtures.editor] {
            #expect(try Fixtures.search(kb, "arquivo remessa", caller: caller).isEmpty)
            #expect(try Fixtures.search(kb, "Padaria Pão Quente", caller: caller).isEmpty)
        }
        let item = try #require(try kb.listEditorQueue(KnowledgeV1.ListEditorQueueRequest(), caller: Fixtures.editor).items.first)
        var approve = KnowledgeV1.ApproveQueueItemRequest()
        approve.id = item.id
        let entry = try #require(try kb.approveQueueItem(approve, caller: Fixtures.editor).forumEntry)

        var search = KnowledgeV1.SearchRequest()
        search.query = "reenviar arquivo de remesa"   // typo: the forum's words are in the vocabulary
        let hits = try kb.search(search, caller: Fixtures.customer).hits
        let hit = try #require(hits.first)
        #expect(hit.forumEntry && hit.id == entry.id && hit.visibility == .customers)
        #expect(hit.snippet.contains("arquivo de remessa"))
        #expect(try Fixtures.suggest(kb, "nao consigo registrar bol").contains(hit.title))
        // Only what was anonymised is searchable.
        #expect(try Fixtures.search(kb, "Padaria Pão Quente").isEmpty)
        #expect(try Fixtures.search(kb, "98765-4321").isEmpty)
        // Filters apply to forum entries too; a kind filter means articles only.
        search.query = "arquivo remessa"
        search.module = "vendas"
        #expect(try kb.search(search, caller: Fixtures.customer).hits.isEmpty)
        search.module = "financeiro"
        #expect(try kb.search(search, caller: Fixtures.customer).hits.map(\.id) == [entry.id])
        search.kind = .faq
        #expect(try kb.search(search, caller: Fixtures.customer).hits.isEmpty)
        // Opened by id; an unknown id is NOT_FOUND.
        var get = KnowledgeV1.GetForumEntryRequest()
        get.id = entry.id
        #expect(try kb.getForumEntry(get, caller: Fixtures.customer).answer == entry.answer)
        get.id = "nao-existe"
        #expect(throws: RPCError.self) { try kb.getForumEntry(get, caller: Fixtures.customer) }
        // Suggestions with a draft record only articles as shown.
        #expect(try Fixtures.suggest(kb, "arquivo de remessa", draft: "d-forum-1").count == 1)
        let shown = try kb.database.read { try $0.scalar("SELECT COUNT(*) FROM kb_events WHERE draft_id = 'd-forum-1'") }
        #expect(shown.integerValue == 0)
    }

    @Test("an agent asks for a FAQ from a ticket; an editor turns it into an anonymised FAQ article or rejects it",
          arguments: TestEngines.all)
    func faqRequests(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        var request = KnowledgeV1.RequestFaqRequest()
        request.ticketID = "tk-9"
        request.ticketCode = "OC-2026-000999"
        request.organizationName = "Mercado Bom Preço"
        request.contactName = "João Lima"
        request.requestText = "O Mercado Bom Preço quer saber como inutilizar numeração de NF-e"
        request.solutionText = "João, use Fiscal > Inutilizar numeração até o dia 10."
        request.product = "erp"
        request.module = "fiscal"
        #expect(throws: RPCError.self) { try kb.requestFaq(request, caller: Fixtures.customer) }
        let item = try kb.requestFaq(request, caller: Fixtures.agent, idempotencyKey: "k1")
        #expect(try kb.requestFaq(request, caller: Fixtures.agent, idempotencyKey: "k1").id == item.id)
        let second = try kb.requestFaq(request, caller: Fixtures.agent)
        var approve = KnowledgeV1.ApproveQueueItemRequest()
        approve.id = item.id
        approve.publish = true
        let approved = try kb.approveQueueItem(approve, caller: Fixtures.editor)
        let article = try #require(approved.article)
        #expect(article.kind == .faq && article.state == .published && article.visibility == .customers)
        #expect(!article.title.contains("Mercado") && !article.bodyMarkdown.contains("João"))
        #expect(try Fixtures.search(kb, "inutilizar numeracao").first == article.title)
        var reject = KnowledgeV1.RejectQueueItemRequest()
        reject.id = second.id
        reject.reason = "duplicado"
        #expect(try kb.rejectQueueItem(reject, caller: Fixtures.editor).status == .rejected)
        var rejected = KnowledgeV1.ListEditorQueueRequest()
        rejected.status = .rejected
        #expect(try kb.listEditorQueue(rejected, caller: Fixtures.editor).items.map(\.note) == ["duplicado"])
    }

    @Test("linking an article to a ticket publishes ArticleLinkedToTicket through the outbox, once", arguments: TestEngines.all)
    func linkToTicket(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let article = try Fixtures.article(kb, "Segunda via de boleto", "Financeiro > Cobrança.")
        var request = KnowledgeV1.LinkArticleToTicketRequest()
        request.ticketID = "tk-1"
        request.articleID = article.id
        #expect(throws: RPCError.self) { try kb.linkArticleToTicket(request, caller: Fixtures.customer) }
        let first = try kb.linkArticleToTicket(request, caller: Fixtures.agent)
        let again = try kb.linkArticleToTicket(request, caller: Fixtures.agent)
        #expect(first.eventID == again.eventID)
        let rows = try kb.database.read { try $0.query("SELECT event_type, event_key, payload FROM storage_outbox", []) }
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(try row.text("event_type") == KnowledgeV1.ArticleLinkedToTicket.protoName)
        #expect(try row.text("event_key") == "workflow|tk-1")
        let envelope = try EventsV1.EventEnvelope(serializedBytes: try row.blob("payload"))
        let event = try KnowledgeV1.ArticleLinkedToTicket(serializedBytes: envelope.payload)
        #expect(event.ticketID == "tk-1")
        #expect(event.articleID == article.id)
        #expect(event.articleTitle == "Segunda via de boleto")
        #expect(event.articleURL.hasSuffix("/\(article.id)"))
        // By default the portal's page of the article (it was "/kb/artigos/<id>", served by nothing).
        #expect(event.articleURL == "http://127.0.0.1:8080/portal/#/base/artigo/\(article.id)", "\(event.articleURL)")
        #expect(event.agentName == "Agente")
        #expect(envelope.source == "knowledge")
    }
}
