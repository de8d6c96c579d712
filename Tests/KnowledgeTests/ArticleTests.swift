import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

@Suite("Articles: versions, permissions, safe rendering")
struct ArticleTests {
    @Test("an edit keeps the previous text as a version with who and when", arguments: TestEngines.all)
    func versions(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let created = try Fixtures.article(kb, "Como emitir NF-e", "Abra **Fiscal > Emissão**.", tags: ["nfe", "emissão"])
        #expect(created.version == 1)
        #expect(created.authorID == "editora")
        #expect(created.tags == ["nfe", "emissão"])
        var update = KnowledgeV1.UpdateArticleRequest()
        update.id = created.id
        update.expectedVersion = 1
        update.kind = .faq
        update.title = "Como emitir a NF-e"
        update.bodyMarkdown = "Abra **Fiscal > Emissão** e clique em Transmitir."
        update.product = "erp"
        update.module = "fiscal"
        update.visibility = .customers
        update.state = .published
        let editor2 = Caller(Fixtures.principal(.agent, id: "revisor", permissions: ["knowledge.edit"]))
        let updated = try kb.updateArticle(update, caller: editor2)
        #expect(updated.version == 2)
        #expect(updated.editorName == "Revisor")
        #expect(updated.authorID == "editora")
        // A stale editor is refused instead of overwriting.
        #expect(throws: RPCError.self) { try kb.updateArticle(update, caller: editor2) }
        var versionsRequest = KnowledgeV1.ListArticleVersionsRequest()
        versionsRequest.id = created.id
        let versions = try kb.listArticleVersions(versionsRequest, caller: Fixtures.agent).versions
        #expect(versions.map(\.version) == [1, 2])
        #expect(versions[0].title == "Como emitir NF-e")
        #expect(versions[0].editorID == "editora")
        #expect(versions[1].editorID == "revisor")
        #expect(versions[1].kind == .faq)
        #expect(versions[1].editedAtMs >= versions[0].editedAtMs)
    }

    @Test("customers read public published articles only; agents read internal; only editors write", arguments: TestEngines.all)
    func permissions(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let open = try Fixtures.article(kb, "Boleto vencido", "Reemita o boleto pela tela de cobrança.")
        let internalOnly = try Fixtures.article(kb, "Boleto: script interno", "Rodar o script de correção.", visibility: .agentsOnly)
        let draft = try Fixtures.article(kb, "Boleto novo layout", "Em revisão.", state: .draft)
        func get(_ id: String, _ caller: Caller) throws -> KnowledgeV1.Article {
            var request = KnowledgeV1.GetArticleRequest()
            request.id = id
            return try kb.getArticle(request, caller: caller)
        }
        #expect(try get(open.id, Fixtures.customer).title == "Boleto vencido")
        for hidden in [internalOnly.id, draft.id] {
            let error = #expect(throws: RPCError.self) { try get(hidden, Fixtures.customer) }
            #expect(error?.code == .notFound)
        }
        #expect(try get(internalOnly.id, Fixtures.agent).visibility == .agentsOnly)
        #expect(throws: RPCError.self) { try get(draft.id, Fixtures.agent) }
        #expect(try get(draft.id, Fixtures.editor).state == .draft)
        var create = KnowledgeV1.CreateArticleRequest()
        create.kind = .tip
        create.title = "Dica"
        create.bodyMarkdown = "Texto"
        create.visibility = .customers
        for caller in [Fixtures.customer, Fixtures.agent] {
            let error = #expect(throws: RPCError.self) { try kb.createArticle(create, caller: caller) }
            #expect(error?.code == .permissionDenied)
        }
        let listed = try kb.listArticles(KnowledgeV1.ListArticlesRequest(), caller: Fixtures.customer).articles.map(\.id)
        #expect(listed == [open.id])
        #expect(Set(try kb.listArticles(KnowledgeV1.ListArticlesRequest(), caller: Fixtures.agent).articles.map(\.id)) == [open.id, internalOnly.id])
    }

    @Test("a create retried with the same idempotency key answers the first article and stores one", arguments: TestEngines.all)
    func idempotentCreate(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let (title, body) = ("Como cancelar uma NF-e", "Abra **Fiscal > Cancelamento**.")
        let first = try Fixtures.article(kb, title, body, idempotencyKey: "cms-42")
        let retried = try Fixtures.article(kb, title, body, idempotencyKey: "cms-42")
        #expect(retried.id == first.id && retried.version == 1)
        let error = #expect(throws: RPCError.self) { try Fixtures.article(kb, "Como inutilizar uma NF-e", body, idempotencyKey: "cms-42") }
        #expect(error?.code == .failedPrecondition)
        #expect(try kb.database.read { try $0.query("SELECT id FROM kb_articles", []).count } == 1)
        #expect(try Fixtures.article(kb, title, body).id != first.id, "without a key, a second article")
    }

    @Test("invalid articles are refused with the offending fields", arguments: TestEngines.all)
    func validation(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        var create = KnowledgeV1.CreateArticleRequest()
        create.title = "  "
        create.bodyMarkdown = "x\u{0}y"
        let error = #expect(throws: RPCError.self) { try kb.createArticle(create, caller: Fixtures.editor) }
        #expect(error?.code == .invalidArgument)
        let fields = Set(error?.violations.map(\.field) ?? [])
        #expect(fields.isSuperset(of: ["title", "kind", "visibility", "body_markdown"]))
    }

    @Test("Markdown is rendered with everything escaped and only a small subset allowed")
    func markdown() {
        let html = MarkdownRenderer.html("""
            # Título
            Texto **forte** e *leve* com `código` e <script>alert('x')</script>.
            [site](https://exemplo.com.br) [mau](javascript:alert(1)) [img](x" onerror="y)

            - um
            - dois
            """)
        #expect(html.contains("<h3>Título</h3>"))
        #expect(html.contains("<strong>forte</strong>"))
        #expect(html.contains("<em>leve</em>"))
        #expect(html.contains("<code>código</code>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(!html.contains("<script"))
        #expect(html.contains("<a href=\"https://exemplo.com.br\" rel=\"nofollow noopener\">site</a>"))
        #expect(!html.contains("javascript:"))
        #expect(!html.contains("onerror=\""))
        #expect(html.contains("<ul><li>um</li><li>dois</li></ul>"))
    }
}
