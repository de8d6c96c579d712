import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

/// A retry with an idempotency key replays the first call's stored answer only while the caller
/// may still read the article it is about (security review: replays did not check access again).
@Suite("Knowledge: replays check the article again")
struct ReplayAccessTests {
    @Test("a customer's vote and article-opened record replay while the article is theirs to read; once it is internal the retry is NOT_FOUND, as a missing article; an agent's link the same after it becomes a draft",
          arguments: TestEngines.all)
    func replayAfterTheArticleIsHidden(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let article = try Fixtures.article(kb, "Segunda via de boleto", "Financeiro > Cobrança > Segunda via.")
        var customer = Fixtures.customer
        customer.idempotencyKey = "voto-1"
        var vote = KnowledgeV1.VoteRequest()
        vote.articleID = article.id
        vote.helpful = true
        let first = try kb.vote(vote, caller: customer)
        #expect(first.helpfulVotes == 1)
        #expect(try kb.vote(vote, caller: customer) == first, "a plain retry replays")
        var opened = KnowledgeV1.RecordArticleOpenedRequest()
        opened.articleID = article.id
        opened.draftID = "rascunho-1"
        customer.idempotencyKey = "aberto-1"
        try kb.recordArticleOpened(opened, caller: customer)
        var agent = Fixtures.agent
        agent.idempotencyKey = "vinculo-1"
        var link = KnowledgeV1.LinkArticleToTicketRequest()
        link.articleID = article.id
        link.ticketID = "t-1"
        let linked = try kb.linkArticleToTicket(link, caller: agent)
        #expect(try kb.linkArticleToTicket(link, caller: agent) == linked)

        func update(visibility: KnowledgeV1.Visibility, state: KnowledgeV1.ArticleState, version: Int32) throws {
            var update = KnowledgeV1.UpdateArticleRequest()
            update.id = article.id
            update.expectedVersion = version
            update.kind = article.kind
            update.title = article.title
            update.bodyMarkdown = article.bodyMarkdown
            update.product = article.product
            update.module = article.module
            update.category = article.category
            update.visibility = visibility
            update.state = state
            _ = try kb.updateArticle(update, caller: Fixtures.editor)
        }
        func code(_ body: () throws -> Void) -> RPCStatusCode? {
            do { try body(); return nil } catch let error as RPCError { return error.code } catch { return .unknown }
        }
        // Made internal: the customer's retries are refused; the agent's still replays.
        try update(visibility: .agentsOnly, state: .published, version: 1)
        customer.idempotencyKey = "voto-1"
        #expect(code { _ = try kb.vote(vote, caller: customer) } == .notFound)
        customer.idempotencyKey = "aberto-1"
        #expect(code { try kb.recordArticleOpened(opened, caller: customer) } == .notFound)
        #expect(try kb.linkArticleToTicket(link, caller: agent) == linked)
        // Back to a draft: agents no longer read it, so the link's retry is refused too.
        try update(visibility: .agentsOnly, state: .draft, version: 2)
        #expect(code { _ = try kb.linkArticleToTicket(link, caller: agent) } == .notFound)
        // Published for customers again: the stored answers come back, nothing was counted twice.
        try update(visibility: .customers, state: .published, version: 3)
        customer.idempotencyKey = "voto-1"
        #expect(try kb.vote(vote, caller: customer) == first)
    }
}
