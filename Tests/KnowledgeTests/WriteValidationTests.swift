import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

/// Bad input to a write is INVALID_ARGUMENT naming the field, and nothing of it is stored.
@Suite("Writes refuse bad input with field violations and store nothing")
struct WriteValidationTests {
    static func count(_ kb: KnowledgeBase, _ table: String) throws -> Int {
        try kb.database.read { try $0.query("SELECT 1 FROM \(table)", []).count }
    }

    static func invalid(_ field: String, _ body: () throws -> Void) {
        let error = #expect(throws: RPCError.self) { try body() }
        #expect(error?.code == .invalidArgument, "\(String(describing: error))")
        #expect(error?.violations.map(\.field) == [field], "\(String(describing: error?.violations))")
        #expect(error?.violations.allSatisfy { !$0.descriptionPT.isEmpty && !$0.descriptionEN.isEmpty } == true)
    }

    @Test("a ticket submitted without a ticket id, or a vote with a draft id no draft has, is refused", arguments: TestEngines.all)
    func deflectionEvents(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let article = try Fixtures.article(kb, "Segunda via de boleto", "Financeiro > Cobrança.")
        for ticketID in ["", "   ", String(repeating: "t", count: 101)] {
            var submitted = KnowledgeV1.RecordTicketSubmittedRequest()
            submitted.draftID = "d1"
            submitted.ticketID = ticketID
            Self.invalid("ticket_id") { try kb.recordTicketSubmitted(submitted, caller: Fixtures.customer) }
        }
        #expect(try Self.count(kb, "kb_events") == 0)
        var vote = KnowledgeV1.VoteRequest()
        vote.articleID = article.id
        vote.helpful = true
        vote.draftID = String(repeating: "d", count: 101)
        Self.invalid("draft_id") { _ = try kb.vote(vote, caller: Fixtures.customer) }
        #expect(try Self.count(kb, "kb_votes") == 0)
        vote.draftID = ""
        #expect(try kb.vote(vote, caller: Fixtures.customer).helpfulVotes == 1, "a vote outside a draft is fine")
    }

    @Test("a rejection reason longer than the portal's 500 characters is refused, the item stays pending", arguments: TestEngines.all)
    func rejectionReason(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        var request = KnowledgeV1.RequestFaqRequest()
        request.requestText = "Como inutilizar numeração de NF-e?"
        request.solutionText = "Use Fiscal > Inutilizar numeração."
        let item = try kb.requestFaq(request, caller: Fixtures.agent)
        var reject = KnowledgeV1.RejectQueueItemRequest()
        reject.id = item.id
        reject.reason = String(repeating: "r", count: 501)
        Self.invalid("reason") { _ = try kb.rejectQueueItem(reject, caller: Fixtures.editor) }
        #expect(try kb.listEditorQueue(KnowledgeV1.ListEditorQueueRequest(), caller: Fixtures.editor).items.map(\.id) == [item.id])
    }

    @Test("a synonym group whose terms are one word written differently (accents, case) is refused: it would do nothing",
          arguments: TestEngines.all)
    func synonymGroupOfOneWord(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let before = try Self.count(kb, "kb_synonyms")
        var put = KnowledgeV1.PutSynonymGroupRequest()
        var group = KnowledgeV1.SynonymGroup()
        group.terms = ["Emissão", "emissao", "EMISSÃO"]
        put.group = group
        Self.invalid("group.terms") { _ = try kb.putSynonymGroup(put, caller: Fixtures.editor) }
        #expect(try Self.count(kb, "kb_synonyms") == before)
    }

    @Test("a Markdown link to '/\\\\host' (a browser goes to that host) keeps only its text")
    func backslashLink() {
        let html = MarkdownRenderer.html("[portal](/\\evil.example/login) [ok](/portal/#/base)")
        #expect(!html.contains("evil.example/login\""), "\(html)")
        #expect(html.contains("<a href=\"/portal/#/base\""), "\(html)")
    }
}
