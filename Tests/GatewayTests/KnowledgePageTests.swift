import Foundation
import Testing
import TestSupport

@Suite("The knowledge base page (search, reading, votes, editing, the editors' queue) in a real headless browser", .serialized)
struct KnowledgePageTests {
    @Test("an agent reads an internal article without editor's tools; an editor approves a FAQ request and writes and edits an article (bad tags and a stale save refused, nothing lost); a customer finds only public articles and votes")
    func knowledgeBase() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        // An internal article, and a FAQ request Ana made from Maria's ticket (with what the
        // approval must take out: the company, the contact's e-mail).
        let internalArticle = try gateway.request("POST", "/v1/knowledge/articles", json: [
            "kind": "ARTICLE", "title": "Reprocessar lote de boletos", "body_markdown": "No servidor: `boletos reprocessar --lote N`.",
            "product": "ERP", "module": "Financeiro", "visibility": "VISIBILITY_AGENTS_ONLY", "state": "PUBLISHED"], bearer: seeded.admin)
        #expect(internalArticle.status == 201, "\(internalArticle.text)")
        let ticket = try ReplyFilesTests.openTicket(gateway, seeded)
        let request = try gateway.request("POST", "/v1/tickets/\(ticket)/faq-request", json: [
            "ticket_code": "2026-000001", "organization_name": "Acme", "contact_name": "Maria",
            "request_text": "A Acme precisa da segunda via do boleto de março.",
            "solution_text": "Em Financeiro > Boletos > Segunda via. Dúvidas: maria@acme.com.br.",
            "product": "ERP", "module": "Financeiro", "category": "DUVIDA"], bearer: seeded.ana)
        #expect(request.status == 201, "\(request.text)")

        let result = try PortalBrowser.run("knowledge_page.py", gateway, environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)",
            "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK "))
        let articleID = PortalBrowser.value(result.output)

        // The article written on the page: the other person's save kept (version 3), the stale
        // form's text nowhere; the customer's vote counted.
        let article = try gateway.request("GET", "/v1/knowledge/articles/\(articleID)", bearer: seeded.admin)
        #expect(article.json["version"] as? Int == 3 && article.json["body_markdown"] as? String == "Texto revisado por outra pessoa.", "\(article.text)")
        #expect(article.json["helpful_votes"] as? Int == 1, "\(article.text)")
        let versions = try gateway.request("GET", "/v1/knowledge/articles/\(articleID)/versions", bearer: seeded.admin).text
        #expect(!versions.contains("Minha alteração"), "\(versions)")
        // The approved FAQ: published, public, anonymised.
        let faqs = try #require(try gateway.request("GET", "/v1/knowledge/articles?kind=FAQ&module=Financeiro", bearer: seeded.maria)
            .json["articles"] as? [[String: Any]])
        let faq = try #require(faqs.first { $0["title"] as? String == "Como emitir a segunda via de um boleto?" }, "\(faqs)")
        let faqText = "\(faq["body_markdown"] ?? "")"
        #expect(!faqText.contains("maria@acme.com.br") && !faqText.contains("Acme") && faqText.contains("[e-mail]"), "\(faqText)")
        let pending = try gateway.request("GET", "/v1/knowledge/queue", bearer: seeded.admin).json["items"] as? [[String: Any]] ?? []
        #expect(pending.isEmpty, "\(pending)")
        // The synonym group added on the page, deleted through the route the page uses; agents may not.
        func synonymGroups() throws -> [[String: Any]] {
            try gateway.request("GET", "/v1/knowledge/synonyms", bearer: seeded.admin).json["groups"] as? [[String: Any]] ?? []
        }
        let added = try synonymGroups().filter { Set($0["terms"] as? [String] ?? []) == ["boleto", "bloqueto"] }
        #expect(added.count == 1, "\(added)")
        let groupID = try #require(added.first?["id"] as? String)
        #expect(try gateway.request("DELETE", "/v1/knowledge/synonyms/\(groupID)", bearer: seeded.ana).status == 403)
        #expect(try gateway.request("DELETE", "/v1/knowledge/synonyms/\(groupID)", bearer: seeded.admin).status == 200)
        #expect(!(try synonymGroups()).contains { $0["id"] as? String == groupID })
    }
}
