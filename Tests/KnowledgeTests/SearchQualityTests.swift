import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

/// What a Brazilian support team types every day: words most articles share, fiscal codes and
/// version numbers, plurals, "e-mail" written both ways.
@Suite("Search quality in Brazilian Portuguese on both engines")
struct SearchQualityTests {
    static func search(_ kb: KnowledgeBase, _ query: String) throws -> KnowledgeV1.SearchResponse {
        var request = KnowledgeV1.SearchRequest()
        request.query = query
        return try kb.search(request, caller: Fixtures.customer)
    }

    @Test("a word most articles share still ranks the articles titled with it first (its weight no longer drops to zero)",
          arguments: TestEngines.all)
    func commonWordRanksTitlesFirst(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        try Fixtures.article(kb, "Remessa ao banco", "Para enviar o boleto ao banco, gere a remessa. O boleto fica registrado quando o banco processa a remessa.")
        try Fixtures.article(kb, "Boleto", "Como gerar a segunda via.")
        try Fixtures.article(kb, "Conciliação bancária", "Importe o extrato; cada boleto pago aparece conciliado.")
        try Fixtures.article(kb, "Segunda via de boleto", "Abra o menu Financeiro e clique em Reemitir.")
        try Fixtures.article(kb, "Juros de atraso", "O boleto vencido é recalculado com juros e multa.")
        // "boleto" is in all five articles: BM25's plain idf is negative there and was clamped to
        // ~0, so every score was ~0 and the order was the order of the random ids.
        let hits = try Self.search(kb, "boleto").hits
        #expect(hits.count == 5)
        #expect(Set(hits.prefix(2).map(\.title)) == ["Boleto", "Segunda via de boleto"], "\(hits.map(\.title))")
        #expect(hits.allSatisfy { $0.score > 0.01 }, "\(hits.map(\.score))")
    }

    @Test("codes and numbers are never 'corrected' into another code: CFOP 5101 is not CFOP 5102, version 12.1.2410 is not 12.1.2310",
          arguments: TestEngines.all)
    func codesAreNotTypos(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        try Fixtures.article(kb, "CFOP 5102 na venda de mercadoria", "Use o CFOP 5102 para venda de mercadoria adquirida de terceiros.")
        try Fixtures.article(kb, "Atualização para a versão 12.1.2310", "Novidades da versão 12.1.2310.")
        try Fixtures.article(kb, "NCM 84713012 em notebooks", "Classificação fiscal de notebooks.")
        for query in ["cfop 5101", "versão 12.1.2410", "ncm 84713019", "5103"] {
            #expect(try Self.search(kb, query).corrections == [], "\(query)")
        }
        // A real typo next to a code is still corrected.
        #expect(try Self.search(kb, "cfop 5102 mercadorai").corrections == ["mercadorai→mercadoria"])
    }
}
