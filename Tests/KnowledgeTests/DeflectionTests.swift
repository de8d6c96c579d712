import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

@Suite("Deflection: suggestions shown, articles opened, drafts given up, votes")
struct DeflectionTests {
    @Test("drafts given up within 30 minutes of opening an article count as deflected; the report ranks articles per product and module",
          arguments: TestEngines.all)
    func report(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let boleto = try Fixtures.article(kb, "Segunda via de boleto", "Financeiro > Cobrança > Segunda via.", module: "financeiro")
        let nfe = try Fixtures.article(kb, "Como emitir NF-e", "Fiscal > Emissão > Transmitir.", module: "fiscal")
        func open(_ draft: String, _ id: String) throws {
            var request = KnowledgeV1.GetArticleRequest()
            request.id = id
            request.draftID = draft
            _ = try kb.getArticle(request, caller: Fixtures.customer)
        }
        func ticket(_ draft: String) throws {
            var request = KnowledgeV1.RecordTicketSubmittedRequest()
            request.draftID = draft
            request.ticketID = "t-\(draft)"
            try kb.recordTicketSubmitted(request, caller: Fixtures.customer)
        }
        func vote(_ id: String, _ helpful: Bool, as voter: String) throws -> KnowledgeV1.VoteResponse {
            var request = KnowledgeV1.VoteRequest()
            request.articleID = id
            request.helpful = helpful
            return try kb.vote(request, caller: Caller(Fixtures.principal(.customer, id: voter)))
        }
        // Three drafts see the boleto article; two open it and give up, one opens it and files a ticket.
        for draft in ["d1", "d2", "d3"] { _ = try Fixtures.suggest(kb, "segunda via boleto", product: "erp", draft: draft) }
        _ = try Fixtures.suggest(kb, "segunda via boleto", product: "erp", draft: "d1")  // typed again: shown once per draft
        try open("d1", boleto.id)
        try open("d2", boleto.id)
        try open("d3", nfe.id)
        try ticket("d3")
        // A draft that only saw suggestions and filed a ticket without opening anything.
        _ = try Fixtures.suggest(kb, "emitir nfe", product: "erp", draft: "d4")
        try ticket("d4")
        #expect(try vote(boleto.id, true, as: "c1").helpfulVotes == 1)
        #expect(try vote(boleto.id, false, as: "c2").unhelpfulVotes == 1)
        let changed = try vote(boleto.id, true, as: "c2")  // changed their mind: one vote per person
        #expect(changed.helpfulVotes == 2 && changed.unhelpfulVotes == 0)
        #expect(try vote(nfe.id, false, as: "c1").unhelpfulVotes == 1)

        // Right now the window of d1/d2 is still open: pending, not yet deflected.
        let early = try kb.deflectionReport(KnowledgeV1.DeflectionReportRequest(), caller: Fixtures.agent)
        #expect(early.total?.pending == 2)
        #expect(early.total?.deflected == 0)

        let later = Int64(Date().timeIntervalSince1970 * 1000) + 31 * 60 * 1000
        let report = try kb.deflectionReport(KnowledgeV1.DeflectionReportRequest(), caller: Fixtures.agent, now: later)
        let total = try #require(report.total)
        #expect(total.drafts == 4)
        #expect(total.draftsWithOpenedArticle == 3)
        #expect(total.deflected == 2)
        #expect(total.tickets == 1)
        #expect(abs(total.deflectionRate - 2.0 / 3.0) < 1e-9)
        #expect(total.best.first?.articleID == boleto.id)
        #expect(total.best.first?.shown == 3)
        #expect(total.best.first?.opened == 2)
        #expect(total.best.first?.deflected == 2)
        #expect(total.best.first?.helpfulVotes == 2)
        #expect(total.worst.first?.articleID == nfe.id)
        #expect(total.worst.first?.tickets == 1)
        let financeiro = try #require(report.groups.first { $0.module == "financeiro" })
        #expect(financeiro.best.map(\.articleID) == [boleto.id])
        let fiscal = try #require(report.groups.first { $0.module == "fiscal" })
        #expect(fiscal.worst.map(\.articleID) == [nfe.id])

        // Reports are for the support team.
        #expect(throws: RPCError.self) { try kb.deflectionReport(KnowledgeV1.DeflectionReportRequest(), caller: Fixtures.customer) }
    }

    @Test("customers cannot record openings of or vote on articles they cannot read", arguments: TestEngines.all)
    func hiddenArticles(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let hidden = try Fixtures.article(kb, "Interno", "Texto", visibility: .agentsOnly)
        var opened = KnowledgeV1.RecordArticleOpenedRequest()
        opened.draftID = "d1"
        opened.articleID = hidden.id
        #expect(throws: RPCError.self) { try kb.recordArticleOpened(opened, caller: Fixtures.customer) }
        var vote = KnowledgeV1.VoteRequest()
        vote.articleID = hidden.id
        #expect(throws: RPCError.self) { try kb.vote(vote, caller: Fixtures.customer) }
        opened.draftID = ""
        let error = #expect(throws: RPCError.self) { try kb.recordArticleOpened(opened, caller: Fixtures.agent) }
        #expect(error?.code == .invalidArgument)
    }
}
