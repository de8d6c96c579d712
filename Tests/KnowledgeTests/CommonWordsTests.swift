import Foundation
import Messages
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

@Suite("Queries of common words on a larger base")
struct CommonWordsTests {
    @Test("a word in most articles is retrieved through the bounded path, still filtered for customers", arguments: TestEngines.all)
    func boundedRetrieval(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        var articles: [ArticleImport] = []
        for index in 0..<150 {
            articles.append(ArticleImport(id: String(format: "c%03d", index), kind: .article, title: "Boleto caso \(index)",
                                          bodyMarkdown: "Texto sobre boleto numero \(index).", product: "erp", module: "financeiro",
                                          visibility: index % 3 == 0 ? .agentsOnly : .customers))
        }
        articles.append(ArticleImport(id: "rare", kind: .faq, title: "Boleto com PIX dinâmico", bodyMarkdown: "Cobrança com QR Code.",
                                      product: "erp", module: "financeiro"))
        try kb.importArticles(articles, caller: Fixtures.editor)
        let snapshot = try kb.cache.current(kb.database)
        let (vocabulary, synonyms, documents) = (snapshot.vocabulary, snapshot.synonyms, snapshot.index?.count ?? 0)
        #expect(documents == 151)
        let common = QueryPlan.build("boleto", synonyms: synonyms, vocabulary: vocabulary, publicOnly: true, documents: documents)
        #expect(common.retrieval.all)
        let mixed = QueryPlan.build("boleto pix", synonyms: synonyms, vocabulary: vocabulary, publicOnly: true, documents: documents)
        #expect(!mixed.retrieval.all && mixed.retrieval.concepts.count == 1)

        var request = KnowledgeV1.SearchRequest()
        request.query = "boleto"
        request.limit = 50
        let hits = try kb.search(request, caller: Fixtures.customer).hits
        #expect(hits.count == 50)
        #expect(hits.allSatisfy { $0.visibility == .customers })
        request.query = "boleto pix"
        #expect(try kb.search(request, caller: Fixtures.customer).hits.first?.id == "rare")
        #expect(try Fixtures.suggest(kb, "boleto com pix").first == "Boleto com PIX dinâmico")
        // A word still being typed that matches nothing yet does not empty the suggestions.
        #expect(try Fixtures.suggest(kb, "boleto com pi").count == 5)
        #expect(try Fixtures.suggest(kb, "bolet").count == 5)
    }
}
