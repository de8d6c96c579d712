import Foundation
import Messages
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

@Suite("The in-memory search index and its consistency across instances")
struct SearchIndexTests {
    static func entry(_ id: String, title: String, body: String, isPublic: Bool = true, source: InvertedIndex.Source = .article,
                      product: String = "erp") -> InvertedIndex.Entry {
        InvertedIndex.Entry(id: id, source: source, kind: 3, isPublic: isPublic, product: product, module: "fiscal", category: "duvida",
                            title: TextAnalyzer.indexText(title), body: TextAnalyzer.indexText(body))
    }

    static func stems(_ text: String) -> [[[String]]] {
        TextAnalyzer.analyze(text).map { [[$0.stem]] }
    }

    @Test("ranks title hits above body hits, filters, replaces and removes documents")
    func rankingAndChanges() {
        var index = InvertedIndex()
        index.upsert(Self.entry("body", title: "Cadastro de clientes", body: "Também serve para o boleto."))
        index.upsert(Self.entry("title", title: "Segunda via de boleto", body: "Abra o financeiro."))
        index.upsert(Self.entry("internal", title: "Boleto interno", body: "Reprocessar.", isPublic: false))
        index.upsert(Self.entry("pdv", title: "Boleto no caixa", body: "PDV.", product: "pdv"))
        let boleto = Self.stems("boleto")
        #expect(index.search(boleto, all: false, filter: .init(publicOnly: true, product: "erp"), limit: 10).map(\.id) == ["title", "body"])
        #expect(index.search(boleto, all: false, filter: .init(publicOnly: false, product: "erp"), limit: 10).map(\.id).contains("internal"))
        #expect(index.search(boleto, all: false, filter: .init(publicOnly: true, product: "nenhum"), limit: 10).isEmpty)
        #expect(index.search(boleto, all: false, filter: .init(publicOnly: true), limit: 1).count == 1)
        // An edit replaces the document; a removal drops it.
        index.upsert(Self.entry("title", title: "Cadastro de fornecedores", body: "Nada aqui."))
        #expect(index.search(boleto, all: false, filter: .init(publicOnly: true, product: "erp"), limit: 10).map(\.id) == ["body"])
        index.remove(.article, "body")
        #expect(index.search(boleto, all: false, filter: .init(publicOnly: true, product: "erp"), limit: 10).isEmpty)
        #expect(index.count == 3)
        // AND of concepts.
        let both = Self.stems("boleto caixa")
        #expect(index.search(both, all: true, filter: .init(publicOnly: true), limit: 10).map(\.id) == ["pdv"])
    }

    @Test("a phrase matches consecutive stems only, never across the title and the body")
    func phrases() {
        var index = InvertedIndex()
        index.upsert(Self.entry("phrase", title: "Emitir nota fiscal", body: "Passo a passo."))
        index.upsert(Self.entry("apart", title: "Nota de débito", body: "Regime fiscal."))
        index.upsert(Self.entry("across", title: "Como emitir a nota", body: "Fiscal de campo."))
        let phrase = [[TextAnalyzer.analyze("nota fiscal").map(\.stem)]]
        #expect(index.search(phrase, all: false, filter: .init(publicOnly: true), limit: 10).map(\.id) == ["phrase"])
    }

    @Test("another instance sees new, changed and unpublished articles; a stale index never returns an unpublished one",
          arguments: TestEngines.all)
    func twoInstances(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let writer = try KnowledgeBase(database: try scratch.open(migrations: KnowledgeService.migrations), cacheCheckInterval: 0)
        let reader = try KnowledgeBase(database: try scratch.open(migrations: KnowledgeService.migrations), cacheCheckInterval: 0.05)
        let stale = try KnowledgeBase(database: try scratch.open(migrations: KnowledgeService.migrations), cacheCheckInterval: 3600)
        let article = try Fixtures.article(writer, "Rejeição 539 duplicidade de NF-e", "Consulte o recibo na SEFAZ antes de reenviar.")
        try stale.refreshSearchIndex()
        #expect(try Fixtures.search(stale, "rejeicao 539") == ["Rejeição 539 duplicidade de NF-e"])

        // The reader finds it through its background check (queries keep being answered meanwhile).
        try eventually { try Fixtures.search(reader, "duplicidade") == ["Rejeição 539 duplicidade de NF-e"] }

        // Archived elsewhere: the stale instance still ranks it, but the row check drops it.
        var update = KnowledgeV1.UpdateArticleRequest()
        update.id = article.id
        update.kind = article.kind
        update.title = article.title
        update.bodyMarkdown = article.bodyMarkdown
        update.product = article.product
        update.module = article.module
        update.category = article.category
        update.visibility = .customers
        update.state = .archived
        _ = try writer.updateArticle(update, caller: Fixtures.editor)
        #expect(try Fixtures.search(stale, "duplicidade").isEmpty)
        try eventually { try Fixtures.search(reader, "duplicidade").isEmpty }
        try stale.refreshSearchIndex()
        #expect(try Fixtures.search(stale, "duplicidade").isEmpty)

        // Made internal and published again: customers of every instance never see it, agents do.
        update.state = .published
        update.visibility = .agentsOnly
        update.expectedVersion = 0
        _ = try writer.updateArticle(update, caller: Fixtures.editor)
        #expect(try Fixtures.search(stale, "duplicidade").isEmpty)
        try eventually { try Fixtures.search(reader, "duplicidade", caller: Fixtures.agent).count == 1 }
        #expect(try Fixtures.search(reader, "duplicidade").isEmpty)
    }

    @Test("before the index is built the database engine answers, with no leaks and no forum entries", arguments: TestEngines.all)
    func databaseEngineFallback(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: KnowledgeService.migrations)
        let kb = try KnowledgeBase(database: database, cacheCheckInterval: 0, inMemoryIndex: false)
        try Fixtures.article(kb, "Segunda via de boleto", "Financeiro > Cobrança > Segunda via.", module: "financeiro")
        try Fixtures.article(kb, "Boleto: reprocessamento interno", "Somente a equipe.", module: "financeiro", visibility: .agentsOnly)
        try Fixtures.article(kb, "Rascunho de boleto", "Em revisão.", module: "financeiro", state: .draft)
        #expect(try kb.cache.current(database).index == nil)
        #expect(try Fixtures.search(kb, "boleot") == ["Segunda via de boleto"])
        #expect(try Fixtures.suggest(kb, "bol") == ["Segunda via de boleto"])
        #expect(try Set(Fixtures.search(kb, "boleto", caller: Fixtures.agent)) == ["Segunda via de boleto", "Boleto: reprocessamento interno"])
    }

    /// Polls `condition` for up to 10 seconds.
    func eventually(_ condition: () throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if try !waitFor(10, condition) { Issue.record("condition not met within 10 s", sourceLocation: sourceLocation) }
    }
}
