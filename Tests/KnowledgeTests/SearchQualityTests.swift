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

    static func pluralBase(_ kb: KnowledgeBase) throws {
        try Fixtures.article(kb, "Emissão de nota fiscal rejeitada", "A SEFAZ devolve a rejeição com o motivo.")
        try Fixtures.article(kb, "Erro ao gerar o XML", "Confira o certificado digital.")
        try Fixtures.article(kb, "Itens do pedido sem preço", "Cadastre a tabela de preços.")
        try Fixtures.article(kb, "Botão de impressão desabilitado", "Falta a permissão de impressão.")
        try Fixtures.article(kb, "Relatório mensal de vendas", "Financeiro > Relatórios.")
        try Fixtures.article(kb, "Papel da impressora térmica", "Use bobinas de 80 mm.")
    }

    /// Plural queries and the article of the singular (pairs Snowball stems apart).
    static let plurals = [
        ("emissões de notas fiscais", "Emissão de nota fiscal rejeitada"), ("rejeições", "Emissão de nota fiscal rejeitada"),
        ("erros nos XMLs", "Erro ao gerar o XML"), ("itens", "Itens do pedido sem preço"), ("botões", "Botão de impressão desabilitado"),
        ("impressões", "Botão de impressão desabilitado"), ("relatórios mensais", "Relatório mensal de vendas"),
        ("papéis", "Papel da impressora térmica"),
    ]

    @Test("plurals find the article written in the singular: emissões, notas fiscais, erros, XMLs, itens, botões, mensais, papéis",
          arguments: TestEngines.all)
    func pluralsFindSingulars(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        try Self.pluralBase(kb)
        for (query, title) in Self.plurals {
            #expect(try Self.search(kb, query).hits.first?.title == title, "\(query)")
        }
        #expect(TextAnalyzer.indexText("úteis fáceis níveis disponíveis ordens mensagens cupons")
                == TextAnalyzer.indexText("útil fácil nível disponível ordem mensagem cupom"))
        // Verb forms and words Snowball already brings together are unchanged.
        #expect(TextAnalyzer.stem("emitimos") == TextAnalyzer.stem("emitir"))
        #expect(TextAnalyzer.stem("meses") == TextAnalyzer.stem("mes") && TextAnalyzer.stem("paises") == TextAnalyzer.stem("pais"))
    }

    @Test("articles stored by an older analysis get current stems at start, on both the index and the database engines",
          arguments: TestEngines.all)
    func olderStemsAreReanalysed(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let old = try KnowledgeBase(database: try scratch.open(migrations: KnowledgeService.migrations), cacheCheckInterval: 0)
        try Self.pluralBase(old)
        try old.waitForSearchIndex()
        // As the previous analysis stored them: every plural form of the bodies and titles kept
        // apart ("emissa" here stands for any stem a plural query no longer produces).
        try old.database.write { tx in
            try tx.execute("UPDATE kb_articles SET index_title = 'stale ' || index_title, index_body = 'stale'", [])
            try tx.execute("UPDATE kb_meta SET value = 1 WHERE key = 'analyzer'", [])
        }
        for inMemory in [true, false] {
            let database = try scratch.open(migrations: KnowledgeService.migrations)
            let kb = try KnowledgeBase(database: database, cacheCheckInterval: 0, inMemoryIndex: inMemory)
            try kb.waitForSearchIndex()
            #expect(try kb.database.read { try $0.scalar("SELECT value FROM kb_meta WHERE key = 'analyzer'", []).integerValue }
                    == TextAnalyzer.version)
            #expect(try kb.database.read { try $0.query("SELECT 1 FROM kb_articles WHERE index_title LIKE 'stale%' OR index_body = 'stale'", []) }
                .isEmpty)
            for (query, title) in Self.plurals {
                #expect(try Self.search(kb, query).hits.first?.title == title, "\(query), in memory: \(inMemory)")
            }
        }
    }

    @Test("'email' and 'e-mail', 'eSocial' and 'e-Social' find each other, also on a base seeded before these groups existed",
          arguments: TestEngines.all)
    func hyphenatedWordsMeet(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let first = try KnowledgeBase(database: try scratch.open(migrations: KnowledgeService.migrations), cacheCheckInterval: 0)
        try Fixtures.article(first, "Como alterar o e-mail de envio da NF-e", "Em Configurações, informe o servidor SMTP.")
        try Fixtures.article(first, "Email do contador", "Cadastre o email do escritório de contabilidade.")
        try Fixtures.article(first, "Eventos do eSocial", "Transmita os eventos periódicos.")
        // A base seeded by an earlier release: only the first edition of the default groups.
        try first.database.write { tx in
            try tx.execute("DELETE FROM kb_synonyms WHERE id NOT LIKE 'default-___'", [])
            try tx.execute("UPDATE kb_meta SET value = 1 WHERE key = 'synonyms_seeded'", [])
        }
        let kb = try KnowledgeBase(database: try scratch.open(migrations: KnowledgeService.migrations), cacheCheckInterval: 0)
        for query in ["email", "e-mail", "emails", "e-mails"] {
            #expect(Set(try Self.search(kb, query).hits.map(\.title)) == ["Como alterar o e-mail de envio da NF-e", "Email do contador"], "\(query)")
        }
        #expect(try Self.search(kb, "e-Social").hits.map(\.title) == ["Eventos do eSocial"])
        // Seeded once: a group an editor deleted does not come back at the next start.
        let groups = try kb.listSynonyms(caller: Fixtures.agent).groups
        let email = try #require(groups.first { $0.terms.contains("e-mail") })
        #expect(groups.filter { $0.terms.contains("e-mail") }.count == 1)
        var delete = KnowledgeV1.DeleteSynonymGroupRequest()
        delete.id = email.id
        try kb.deleteSynonymGroup(delete, caller: Fixtures.editor)
        let restarted = try KnowledgeBase(database: try scratch.open(migrations: KnowledgeService.migrations), cacheCheckInterval: 0)
        #expect(try restarted.listSynonyms(caller: Fixtures.agent).groups.allSatisfy { !$0.terms.contains("e-mail") })
    }

    @Test("a title hit ranks above body mentions, however many, and a word's synonyms count as the word, not on top of it",
          arguments: TestEngines.all)
    func titleAboveBodyMentions(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        try Fixtures.article(kb, "Boleto", "Como gerar.")
        try Fixtures.article(kb, "Segunda via de boleto", "Abra o menu Financeiro, escolha Contas a receber, localize o título vencido e clique em Reemitir.")
        try Fixtures.article(kb, "Remessa", "Para enviar o boleto ao banco, gere a remessa com todos os boletos. O boleto fica registrado quando o "
                             + "banco processa a remessa, e o boleto pode ser pago. Boleto pago baixa o título.")
        try Fixtures.article(kb, "Conciliação", "O extrato traz cada título pago; a cobrança do boleto aparece conciliada.")
        try Fixtures.article(kb, "Emitir nota fiscal de devolução", "Abra Fiscal > Devolução e escolha a nota de origem.")
        try Fixtures.article(kb, "Parâmetros fiscais do produto", "Antes de emitir a nota fiscal, confira o NCM. Sem ele não é possível emitir "
                             + "nota fiscal nem emitir nota fiscal de devolução; a nota fiscal de devolução é rejeitada.")
        let boleto = try Self.search(kb, "boleto").hits.map(\.title)
        #expect(Array(boleto.prefix(2)) == ["Boleto", "Segunda via de boleto"], "\(boleto)")
        #expect(try Self.search(kb, "emitir nota fiscal de devolução").hits.first?.title == "Emitir nota fiscal de devolução")
    }
}
