import Foundation
@testable import GatewayCore
import Messages
import RPC
import Storage
import Testing
import TestSupport
@testable import KnowledgeCore

/// Who may edit the knowledge base, with principals exactly as the gateway builds them for its
/// users' roles.
@Suite("Knowledge editors: only editors and administrators write")
struct EditorPermissionTests {
    static func caller(_ role: Role) -> Caller {
        let user = User(id: "u-\(role.rawValue)", email: "\(role.rawValue)@suporte.com", displayName: role.rawValue, role: role,
                        contactID: nil, agentID: "A-\(role.rawValue)", organizationID: nil, accessLevel: 1, status: "active", locale: "pt-BR")
        return Caller(user.principal)
    }

    @Test("a plain agent or chefe gets PERMISSION_DENIED on every write; knowledge editors and administrators write",
          arguments: TestEngines.all)
    func writes(engine: DatabaseEngine) throws {
        let kb = try Fixtures.knowledgeBase(engine)
        let article = try Fixtures.article(kb, "Segunda via de boleto", "Financeiro > Cobrança.")
        try kb.database.write { try kb.enqueuePublishableAnswer(EditorialTests.publishableAnswer(), $0) }
        let item = try #require(try kb.listEditorQueue(KnowledgeV1.ListEditorQueueRequest(), caller: Fixtures.editor).items.first)

        var create = KnowledgeV1.CreateArticleRequest()
        create.kind = .faq
        create.title = "Como cancelar NF-e"
        create.bodyMarkdown = "Fiscal > Cancelamento."
        create.visibility = .customers
        create.state = .published
        var update = KnowledgeV1.UpdateArticleRequest()
        update.id = article.id
        update.kind = article.kind
        update.title = "Segunda via do boleto"
        update.bodyMarkdown = article.bodyMarkdown
        update.visibility = .customers
        update.state = .published
        var synonyms = KnowledgeV1.PutSynonymGroupRequest()
        var group = KnowledgeV1.SynonymGroup()
        group.terms = ["DANFE", "documento auxiliar"]
        synonyms.group = group
        var approve = KnowledgeV1.ApproveQueueItemRequest()
        approve.id = item.id

        for role in [Role.agent, .chefe, .customerContact, .customerAdmin] {
            let caller = Self.caller(role)
            #expect(!caller.principal.permissions.contains("knowledge.write"), "\(role) carries knowledge.write")
            for (name, write) in [("CreateArticle", { _ = try kb.createArticle(create, caller: caller) }),
                                  ("UpdateArticle", { _ = try kb.updateArticle(update, caller: caller) }),
                                  ("PutSynonymGroup", { _ = try kb.putSynonymGroup(synonyms, caller: caller) }),
                                  ("ListEditorQueue", { _ = try kb.listEditorQueue(KnowledgeV1.ListEditorQueueRequest(), caller: caller) }),
                                  ("ApproveQueueItem", { _ = try kb.approveQueueItem(approve, caller: caller) })] as [(String, () throws -> Void)] {
                let error = #expect(throws: RPCError.self, "\(role) \(name)") { try write() }
                #expect(error?.code == .permissionDenied, "\(role) \(name): \(String(describing: error))")
            }
        }
        // Agents still read, ask for FAQs and search internal articles.
        #expect(try kb.getArticle(KnowledgeV1.GetArticleRequest.with(id: article.id), caller: Self.caller(.agent)).title == article.title)

        let editor = Self.caller(.knowledgeEditor)
        #expect(editor.role == .editor && Self.caller(.administrator).role == .editor)
        #expect(try kb.createArticle(create, caller: editor).authorID == "A-knowledge_editor")
        #expect(try kb.updateArticle(update, caller: Self.caller(.administrator)).version == 2)
        #expect(try kb.approveQueueItem(approve, caller: editor).item?.status == .approved)
    }
}

extension KnowledgeV1.GetArticleRequest {
    static func with(id: String) -> Self {
        var request = Self()
        request.id = id
        return request
    }
}
