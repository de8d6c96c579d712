import Foundation
import Messages
import Storage
import TestSupport
@testable import KnowledgeCore

/// Principals and a fresh knowledge base per engine, shared by the knowledge tests.
enum Fixtures {
    static func principal(_ kind: AuthV1.Principal.Kind, id: String, permissions: [String] = [], organization: String = "") -> AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = kind
        principal.id = id
        principal.displayName = id.capitalized
        principal.permissions = permissions
        principal.organizationID = organization
        return principal
    }

    static let editor = Caller(principal(.agent, id: "editora", permissions: ["knowledge.edit"]))
    static let agent = Caller(principal(.agent, id: "agente"))
    static let customer = Caller(principal(.customer, id: "cliente", organization: "org-1"))

    static func knowledgeBase(_ engine: DatabaseEngine) throws -> KnowledgeBase {
        let database = try ScratchDatabase(engine).open(migrations: KnowledgeService.migrations)
        return try KnowledgeBase(database: database, cacheCheckInterval: 0)
    }

    @discardableResult
    static func article(_ kb: KnowledgeBase, _ title: String, _ body: String, kind: KnowledgeV1.ArticleKind = .article,
                        product: String = "erp", module: String = "fiscal", category: String = "duvida", tags: [String] = [],
                        visibility: KnowledgeV1.Visibility = .customers, state: KnowledgeV1.ArticleState = .published,
                        idempotencyKey: String? = nil) throws -> KnowledgeV1.Article {
        var request = KnowledgeV1.CreateArticleRequest()
        request.kind = kind
        request.title = title
        request.bodyMarkdown = body
        request.product = product
        request.module = module
        request.category = category
        request.tags = tags
        request.visibility = visibility
        request.state = state
        return try kb.createArticle(request, caller: editor, idempotencyKey: idempotencyKey)
    }

    static func search(_ kb: KnowledgeBase, _ query: String, caller: Caller = customer, product: String = "", module: String = "") throws -> [String] {
        var request = KnowledgeV1.SearchRequest()
        request.query = query
        request.product = product
        request.module = module
        return try kb.search(request, caller: caller).hits.map(\.title)
    }

    static func suggest(_ kb: KnowledgeBase, _ subject: String, caller: Caller = customer, product: String = "", draft: String = "") throws -> [String] {
        var request = KnowledgeV1.SuggestRequest()
        request.subject = subject
        request.product = product
        request.draftID = draft
        return try kb.suggest(request, caller: caller).hits.map(\.title)
    }
}
