import Foundation
import Messages
import RPC
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport
@testable import KnowledgeCore

/// An article's life with tickets and the editors' queue: what may be linked, what a FAQ request
/// from a ticket may carry, what a refused review names.
@Suite("Article lifecycle: links, FAQ requests, reviews")
struct LifecycleTests {
    static func count(_ kb: KnowledgeBase, _ sql: String) throws -> Int {
        try kb.database.read { try $0.query(sql, []).count }
    }

    @Test("a draft or archived article cannot be linked to a ticket (the customer would get unpublished text and a link that answers NOT_FOUND)",
          arguments: TestEngines.all)
    func linkOnlyPublished(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let draft = try Fixtures.article(kb, "Novo layout do boleto", "Ainda em revisão: não divulgar.", state: .draft)
        let archived = try Fixtures.article(kb, "Boleto antigo", "Procedimento descontinuado.", state: .archived)
        for article in [draft, archived] {
            var request = KnowledgeV1.LinkArticleToTicketRequest()
            request.ticketID = "tk-1"
            request.articleID = article.id
            // Editors may read drafts and archived articles; linking one is still refused.
            let error = #expect(throws: RPCError.self) { try kb.linkArticleToTicket(request, caller: Fixtures.editor) }
            #expect(error?.code == .failedPrecondition, "\(String(describing: error))")
            #expect(error?.message.contains("publicado") == true && error?.message.contains("published") == true)
        }
        #expect(try Self.count(kb, "SELECT 1 FROM kb_ticket_links") == 0)
        #expect(try Self.count(kb, "SELECT 1 FROM storage_outbox") == 0)
        // Published again, it links.
        let published = try Fixtures.article(kb, "Segunda via de boleto", "Financeiro > Cobrança.")
        var request = KnowledgeV1.LinkArticleToTicketRequest()
        request.ticketID = "tk-1"
        request.articleID = published.id
        _ = try kb.linkArticleToTicket(request, caller: Fixtures.editor)
        #expect(try Self.count(kb, "SELECT 1 FROM kb_ticket_links") == 1)
    }

    @Test("a FAQ asked from a ticket whose product has 100 characters (intake's limit) can be approved into an article",
          arguments: TestEngines.all)
    func ticketProductFitsAnArticle(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let product = String(repeating: "p", count: 100)
        var request = KnowledgeV1.RequestFaqRequest()
        request.ticketID = "tk-9"
        request.requestText = "Como inutilizar numeração de NF-e?"
        request.solutionText = "Use Fiscal > Inutilizar numeração."
        request.product = product
        request.module = String(repeating: "m", count: 100)
        let item = try kb.requestFaq(request, caller: Fixtures.agent)
        var approve = KnowledgeV1.ApproveQueueItemRequest()
        approve.id = item.id
        approve.publish = true
        let article = try #require(try kb.approveQueueItem(approve, caller: Fixtures.editor).article)
        #expect(article.product == product)
        // An editor writes such an article directly too; 101 characters is refused, naming the field.
        try Fixtures.article(kb, "Outro", "Texto.", product: product)
        let error = #expect(throws: RPCError.self) { try Fixtures.article(kb, "Outro", "Texto.", product: product + "p") }
        #expect(error?.violations.map(\.field) == ["product"])
        // A FAQ request with a product no article could hold is refused when asked, not stuck in the queue.
        request.product = product + "p"
        let refused = #expect(throws: RPCError.self) { try kb.requestFaq(request, caller: Fixtures.agent) }
        #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["product"])
        #expect(try Self.count(kb, "SELECT 1 FROM kb_queue") == 1)
    }

    @Test("an approval refused for its text names the request's fields (question, answer), and stores nothing",
          arguments: TestEngines.all)
    func approvalViolationsNameRequestFields(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        var request = KnowledgeV1.RequestFaqRequest()
        request.ticketID = "tk-9"
        request.requestText = "Como inutilizar numeração de NF-e?"
        request.solutionText = "Use Fiscal > Inutilizar numeração."
        let faq = try kb.requestFaq(request, caller: Fixtures.agent)
        try kb.database.write { try kb.enqueuePublishableAnswer(EditorialTests.publishableAnswer(), $0) }
        let answer = try #require(try kb.listEditorQueue(KnowledgeV1.ListEditorQueueRequest(), caller: Fixtures.editor).items
            .first { $0.kind == .publishableAnswer })
        for id in [faq.id, answer.id] {
            var approve = KnowledgeV1.ApproveQueueItemRequest()
            approve.id = id
            approve.question = "   "
            approve.answer = " \n "
            let error = #expect(throws: RPCError.self) { try kb.approveQueueItem(approve, caller: Fixtures.editor) }
            #expect(error?.code == .invalidArgument)
            #expect(Set(error?.violations.map(\.field) ?? []) == ["question", "answer"], "\(String(describing: error?.violations))")
        }
        #expect(try Self.count(kb, "SELECT 1 FROM kb_articles") == 0)
        #expect(try Self.count(kb, "SELECT 1 FROM kb_forum") == 0)
        #expect(try kb.listEditorQueue(KnowledgeV1.ListEditorQueueRequest(), caller: Fixtures.editor).items.count == 2)
    }

    @Test("two editors saving the same version at once: one wins, the other gets FAILED_PRECONDITION; no edit is lost",
          arguments: TestEngines.all)
    func concurrentEdits(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let first = try KnowledgeBase(database: try scratch.open(migrations: KnowledgeService.migrations), cacheCheckInterval: 0)
        let second = try KnowledgeBase(database: try scratch.open(migrations: KnowledgeService.migrations), cacheCheckInterval: 0)
        let article = try Fixtures.article(first, "Como emitir NF-e", "Fiscal > Emissão.")
        @Sendable func edit(_ kb: KnowledgeBase, _ title: String) -> Result<KnowledgeV1.Article, any Error> {
            var update = KnowledgeV1.UpdateArticleRequest()
            update.id = article.id
            update.expectedVersion = 1
            update.kind = .article
            update.title = title
            update.bodyMarkdown = "Fiscal > Emissão > Transmitir."
            update.visibility = .customers
            update.state = .published
            return Result { try kb.updateArticle(update, caller: Fixtures.editor) }
        }
        let results = Mutex<[Result<KnowledgeV1.Article, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let result = edit(index == 0 ? first : second, "Título \(index)")
            results.withLock { $0.append(result) }
        }
        let saved = results.withLock { $0 }.compactMap { try? $0.get() }
        let refused = results.withLock { $0 }.compactMap { result -> RPCError? in
            if case .failure(let error) = result { return error as? RPCError }
            return nil
        }
        #expect(saved.count == 1 && refused.count == 1)
        #expect(refused.first?.code == .failedPrecondition)
        var get = KnowledgeV1.GetArticleRequest()
        get.id = article.id
        let current = try first.getArticle(get, caller: Fixtures.editor)
        #expect(current.version == 2 && current.title == saved.first?.title)
        #expect(try Self.count(first, "SELECT 1 FROM kb_article_versions") == 2)
    }
}
