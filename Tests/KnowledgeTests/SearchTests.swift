import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

@Suite("Search and suggestions on both engines")
struct SearchTests {
    /// A small base where each query below has one clearly right answer.
    static func base(_ engine: DatabaseEngine) throws -> KnowledgeBase {
        let kb = try Fixtures.knowledgeBase(engine)
        try Fixtures.article(kb, "Como emitir a nota fiscal eletrônica", "Na tela Fiscal > Emissão, escolha o pedido e clique em Transmitir para a SEFAZ.")
        try Fixtures.article(kb, "Segunda via de boleto", "Para reemitir um boleto vencido, abra Financeiro > Cobrança e gere a segunda via.", module: "financeiro")
        try Fixtures.article(kb, "Sistema lento ao abrir relatórios", "Quando a lentidão aparece, limpe o cache e verifique a rede.", module: "relatorios")
        try Fixtures.article(kb, "Cancelamento de NF-e fora do prazo", "Depois de 24 horas o cancelamento exige pedido de cancelamento extemporâneo.")
        try Fixtures.article(kb, "Configuração do certificado digital A1", "Importe o arquivo .pfx em Configurações > Certificados.", module: "configuracao")
        try Fixtures.article(kb, "Procedimento interno de reprocessamento", "Rodar o reprocessamento do boleto no servidor.", module: "financeiro",
                             visibility: .agentsOnly)
        try Fixtures.article(kb, "Rascunho sobre boleto registrado", "Ainda em revisão.", module: "financeiro", state: .draft)
        return kb
    }

    @Test("accents, stemming, synonyms and abbreviations find the right article", arguments: TestEngines.all)
    func relevance(engine: DatabaseEngine) throws {
        let kb = try Self.base(engine)
        #expect(try Fixtures.search(kb, "emissao nota fiscal").first == "Como emitir a nota fiscal eletrônica")
        #expect(try Fixtures.search(kb, "emitindo").first == "Como emitir a nota fiscal eletrônica")
        #expect(try Fixtures.search(kb, "NF").first.map { $0.contains("nota fiscal") || $0.contains("NF-e") } == true)
        #expect(try Fixtures.search(kb, "cancelar nfe").first == "Cancelamento de NF-e fora do prazo")
        #expect(try Fixtures.search(kb, "sistema travando").first == "Sistema lento ao abrir relatórios")
        #expect(try Fixtures.search(kb, "CONFIGURACAO CERTIFICADO").first == "Configuração do certificado digital A1")
        #expect(try Fixtures.search(kb, "boleto", module: "financeiro") == ["Segunda via de boleto"])
        #expect(try Fixtures.search(kb, "boleto", module: "fiscal") == [])
    }

    @Test("a typo is corrected towards an indexed word: boleot finds boleto", arguments: TestEngines.all)
    func typos(engine: DatabaseEngine) throws {
        let kb = try Self.base(engine)
        var request = KnowledgeV1.SearchRequest()
        request.query = "segunda via boleot"
        let response = try kb.search(request, caller: Fixtures.customer)
        #expect(response.hits.first?.title == "Segunda via de boleto")
        #expect(response.corrections == ["boleot→boleto"])
        #expect(try Fixtures.search(kb, "certifcado digtal").first == "Configuração do certificado digital A1")
        #expect(try Fixtures.search(kb, "cancelamnto").first == "Cancelamento de NF-e fora do prazo")
    }

    @Test("customers never receive internal or unpublished articles; agents get internal ones", arguments: TestEngines.all)
    func noLeaks(engine: DatabaseEngine) throws {
        let kb = try Self.base(engine)
        for query in ["reprocessamento", "boleto", "servidor", "rascunho", "revisão", "procedimento interno", "boleto registrado"] {
            for title in try Fixtures.search(kb, query) + Fixtures.suggest(kb, query) + Fixtures.suggest(kb, String(query.dropLast(2))) {
                #expect(!title.contains("interno") && !title.contains("Rascunho"), "leaked \(title) for \(query)")
            }
        }
        // The typo vocabulary of customers does not include words of internal articles.
        var request = KnowledgeV1.SearchRequest()
        request.query = "reprocessamentoo"
        #expect(try kb.search(request, caller: Fixtures.customer).corrections.isEmpty)
        #expect(try Fixtures.search(kb, "reprocessamento", caller: Fixtures.agent) == ["Procedimento interno de reprocessamento"])
        #expect(try Fixtures.search(kb, "rascunho", caller: Fixtures.agent).isEmpty)
    }

    @Test("suggestions follow every keystroke, the last word counting as a prefix", arguments: TestEngines.all)
    func suggestions(engine: DatabaseEngine) throws {
        let kb = try Self.base(engine)
        #expect(try Fixtures.suggest(kb, "").isEmpty)
        #expect(try Fixtures.suggest(kb, "bol").first == "Segunda via de boleto")
        #expect(try Fixtures.suggest(kb, "segunda via do bo").first == "Segunda via de boleto")
        #expect(try Fixtures.suggest(kb, "certif").first == "Configuração do certificado digital A1")
        #expect(try Fixtures.suggest(kb, "nao consigo emitir nota").first == "Como emitir a nota fiscal eletrônica")
        var request = KnowledgeV1.SuggestRequest()
        request.subject = "boleto"
        request.product = "outro-produto"
        #expect(try kb.suggest(request, caller: Fixtures.customer).hits.isEmpty)
    }

    @Test("query syntax and hostile input give a literal search or a clear INVALID_ARGUMENT, never an engine error",
          arguments: TestEngines.all)
    func badInput(engine: DatabaseEngine) throws {
        let kb = try Self.base(engine)
        let literal = ["\"boleto", "boleto\"", "bol*", "*", "NEAR(boleto via)", "boleto NEAR via", "-boleto", "boleto -via", "(boleto",
                       "boleto)", "boleto AND OR NOT", "boleto:*", "boleto & | !", "'; DROP TABLE kb_articles; --", "bo\u{0}leto",
                       "\u{0}", "^boleto", "{boleto}", "col:boleto", "boleto\\", "¿¡", "😀 boleto", "a", "de da do", String(repeating: "x", count: 500)]
        for query in literal {
            var request = KnowledgeV1.SearchRequest()
            request.query = query
            do {
                _ = try kb.search(request, caller: Fixtures.customer)
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument, "\(query.debugDescription): \(error)")
            }
            var suggest = KnowledgeV1.SuggestRequest()
            suggest.subject = query
            _ = try kb.suggest(suggest, caller: Fixtures.customer)
        }
        #expect(try Fixtures.search(kb, "-boleto").first == "Segunda via de boleto")
        #expect(try Fixtures.search(kb, "\"boleto\" NEAR(via)").first == "Segunda via de boleto")
        for query in ["", "   ", "\u{0}", String(repeating: "boleto ", count: 100)] {
            var request = KnowledgeV1.SearchRequest()
            request.query = query
            let error = #expect(throws: RPCError.self) { try kb.search(request, caller: Fixtures.customer) }
            #expect(error?.code == .invalidArgument)
        }
        var request = KnowledgeV1.SearchRequest()
        request.query = "boleto"
        request.limit = -1
        let negative = #expect(throws: RPCError.self) { try kb.search(request, caller: Fixtures.customer) }
        #expect(negative?.code == .invalidArgument && negative?.violations.map(\.field) == ["limit"])
    }

    @Test("a limit above a list's maximum is lowered to it, as every service reads a page size (it was refused here only); 0 is the default", arguments: TestEngines.all)
    func limitsCapped(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        for number in 1...60 {
            try Fixtures.article(kb, "Boleto \(number): segunda via", "Gere a segunda via do boleto \(number) em Financeiro.", kind: .faq)
        }
        var search = KnowledgeV1.SearchRequest()
        search.query = "boleto"
        search.limit = 1_000
        #expect(try kb.search(search, caller: Fixtures.customer).hits.count == 50)
        search.limit = 0
        #expect(try kb.search(search, caller: Fixtures.customer).hits.count == 10)
        var suggest = KnowledgeV1.SuggestRequest()
        suggest.subject = "boleto"
        suggest.limit = Int32.max
        #expect(try kb.suggest(suggest, caller: Fixtures.customer).hits.count == 10)
        var list = KnowledgeV1.ListArticlesRequest()
        list.limit = 99_999_999
        #expect(try kb.listArticles(list, caller: Fixtures.agent).articles.count == 60)
        var faq = KnowledgeV1.ListFaqRequest()
        faq.limit = 101
        #expect(try kb.listFaq(faq, caller: Fixtures.customer).articles.count == 60)
        var report = KnowledgeV1.DeflectionReportRequest()
        report.limit = 51
        _ = try kb.deflectionReport(report, caller: Fixtures.agent)
        var queue = KnowledgeV1.ListEditorQueueRequest()
        queue.limit = 201
        _ = try kb.listEditorQueue(queue, caller: Fixtures.editor)
        var forum = KnowledgeV1.ListForumRequest()
        forum.limit = 101
        _ = try kb.listForum(forum, caller: Fixtures.customer)
    }

    @Test("synonyms are data: a group added over the API takes effect at once", arguments: TestEngines.all)
    func editableSynonyms(engine: DatabaseEngine) throws {
        let kb = try Self.base(engine)
        #expect(try kb.listSynonyms(caller: Fixtures.agent).groups.contains { $0.terms.contains("nota fiscal") })
        #expect(try Fixtures.search(kb, "guia de pagamento").isEmpty)
        var put = KnowledgeV1.PutSynonymGroupRequest()
        var group = KnowledgeV1.SynonymGroup()
        group.terms = ["guia de pagamento", "boleto"]
        put.group = group
        #expect(throws: RPCError.self) { try kb.putSynonymGroup(put, caller: Fixtures.agent) }
        let saved = try kb.putSynonymGroup(put, caller: Fixtures.editor)
        #expect(try Fixtures.search(kb, "guia de pagamento").first == "Segunda via de boleto")
        var delete = KnowledgeV1.DeleteSynonymGroupRequest()
        delete.id = saved.id
        try kb.deleteSynonymGroup(delete, caller: Fixtures.editor)
        #expect(try Fixtures.search(kb, "guia de pagamento").isEmpty)
    }

    @Test("FAQ of a category and product before the form", arguments: TestEngines.all)
    func faqBeforeForm(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        try Fixtures.article(kb, "Como trocar a senha?", "Menu Usuário > Senha.", kind: .faq, category: "duvida")
        try Fixtures.article(kb, "Prazo de cancelamento?", "24 horas.", kind: .faq, category: "exigencia_fiscal")
        try Fixtures.article(kb, "FAQ interna", "x", kind: .faq, category: "duvida", visibility: .agentsOnly)
        try Fixtures.article(kb, "Artigo longo", "x", kind: .article, category: "duvida")
        var request = KnowledgeV1.ListFaqRequest()
        request.category = "duvida"
        request.product = "erp"
        #expect(try kb.listFaq(request, caller: Fixtures.customer).articles.map(\.title) == ["Como trocar a senha?"])
        #expect(Set(try kb.listFaq(request, caller: Fixtures.agent).articles.map(\.title)) == ["Como trocar a senha?", "FAQ interna"])
    }
}
