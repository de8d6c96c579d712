import Foundation
import Testing
import TestSupport

@Suite("Every page of the portal in a real headless browser: labelled, keyboard-usable, Portuguese then English, escaped", .serialized)
struct EveryPageTests {
    /// What a page could run if it assigned HTML: the test fails when `window.__xss` is ever set.
    static let markup = "<img src=x onerror=window.__xss=1>"

    @Test("administrator, agent, customer, representative (and signed out) visit every route in pt-BR and in English: every field, button, link and image named, one h1, the html lang, nothing out of the Tab order, the focus outline kept, the main form's button reached with Tab and activated with Space and Enter, no Portuguese left in English, and the seeded markup shown as text, never run")
    func everyPage() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        func created(_ response: GatewayHarness.Response, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            #expect(response.status == 201 || response.status == 200, "\(response.text)", sourceLocation: sourceLocation)
            return (response.json["id"] as? String) ?? ""
        }
        // Names, subjects and titles carrying markup, in neutral words (the English check takes
        // the seeded data out of the text).
        let subject = "Ticket 7 \(Self.markup)"
        let request = "Steps: 1, 2, 3 \(Self.markup)"
        let title = "Article 9 \(Self.markup)"
        let group = "Group 3 \(Self.markup)"
        let agent = "Agent 5 \(Self.markup)"
        let entry = "Entry 4 \(Self.markup)"
        _ = try created(try gateway.request("POST", "/v1/groups", json: ["group": ["id": "g-markup", "name": group, "active": true]], bearer: seeded.admin))
        _ = try created(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-markup", "name": agent, "email": "agent5@suporte.example",
                                                                                   "max_access_level": 1, "active": true]], bearer: seeded.admin))
        let articleID = try created(try gateway.request("POST", "/v1/knowledge/articles", json: [
            "kind": "ARTICLE", "title": title, "body_markdown": "Body 9 \(Self.markup)", "product": "ERP", "module": "Fiscal",
            "visibility": "VISIBILITY_CUSTOMERS", "state": "PUBLISHED"], bearer: seeded.admin))
        // A custom field of problems (asked on the new ticket, answered on the seeded one), a
        // version and a step sequence of the backlog, a role.
        let fieldLabels = ["Field 1 \(Self.markup)", "Field 1 (en) \(Self.markup)", "Choice 1 \(Self.markup)"]
        _ = try created(try gateway.request("POST", "/v1/custom-fields", json: [
            "key": "field_1", "label_pt": fieldLabels[0], "label_en": fieldLabels[1], "kind": "FIELD_CHOICE", "category": "PROBLEMA",
            "choices": [fieldLabels[2]], "active": true, "position": 1], bearer: seeded.admin))
        let version = "Version 2 \(Self.markup)"
        _ = try created(try gateway.request("POST", "/v1/versions", json: [
            "version": ["name": version, "target_date_ms": Int(Date().addingTimeInterval(30 * 86_400).timeIntervalSince1970 * 1000)]], bearer: seeded.admin))
        let step = "Step 3 \(Self.markup)"
        _ = try created(try gateway.request("POST", "/v1/step-sequences", json: [
            "ticket_type": "type-3", "steps": [["name": step, "group_id": "n1"]]], bearer: seeded.admin))
        _ = try created(try gateway.request("POST", "/v1/roles", json: ["role": ["name": "role-4", "permissions": ["tickets.transfer_any"]]], bearer: seeded.admin))
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "custom_fields": [["key": "field_1", "value": fieldLabels[2]]],
            "subject": subject, "request": request, "category": "PROBLEMA", "priority": "ALTA", "product": "ERP", "module": "Fiscal",
            "organization_id": seeded.organizationID], headers: ["Idempotency-Key": "every-page-1"], bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: seeded.ana).text.contains(ticketID) })
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/take", bearer: seeded.ana).status == 200)
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/discussion", json: ["is_public": true, "text": entry], bearer: seeded.ana).status == 201)
        // Solved and the customer told: her page has the accept/reject form, the agent's the FAQ request.
        let solution = "Solution 6 \(Self.markup)"
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/solution", json: ["text": solution], bearer: seeded.ana).status == 200)
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/status", json: ["status": "cliente_informado"], bearer: seeded.ana).status == 200)

        // A representative's person (Acme and an organization whose name carries markup).
        let organization = "Org 1 \(Self.markup)"
        let other = try created(try gateway.request("POST", "/v1/organizations", json: [
            "name": organization, "tax_id": "45321098000117", "kind": "ORGANIZATION_CUSTOMER", "active": true], bearer: seeded.admin))
        _ = try created(try gateway.request("POST", "/v1/organizations/\(other)/contacts", json: [
            "name": "Contact 1", "email": "contact1@example.net", "authorized": true], bearer: seeded.admin))
        let representative = try created(try gateway.request("POST", "/v1/representatives", json: [
            "name": "Reseller 1", "email": "reseller1@example.net", "active": true, "organization_ids": [seeded.organizationID, other]], bearer: seeded.admin))
        let person = try created(try gateway.request("POST", "/v1/representatives/\(representative)/contacts", json: [
            "name": "Rep 1", "email": "rep1@example.net", "active": true], bearer: seeded.admin))
        _ = try created(try gateway.request("POST", "/v1/users", json: [
            "email": "rep1@example.net", "display_name": "Rep 1", "role": "representative", "password": seeded.password,
            "representative_id": representative, "contact_id": person], bearer: seeded.admin))

        // A mail from an unknown sender, held in quarantine.
        let mailSubject = "Mail 8 \(Self.markup)"
        let mail = """
            From: Sender 8 <sender8@example.net>
            To: suporte@suporte.example
            Subject: \(mailSubject)
            Message-ID: <mail-8@example.net>
            Date: Sat, 28 Nov 2026 10:00:00 -0300
            Content-Type: text/plain; charset=utf-8

            Body 8 \(Self.markup)
            """.replacingOccurrences(of: "\n", with: "\r\n")
        let (_, held) = try MailQuarantineRouteTests.deliver(mail, deployment)
        let mailID = try #require(held["quarantine_id"] as? String, "\(held)")

        // The data the pages show as it was typed (names from TicketFlowTests.seed among them, and
        // workflow's default calendar, a record the administrator renames).
        let data = [subject, request, title, group, agent, entry, solution, mailSubject, "Body 8 \(Self.markup)", "Sender 8", organization,
                    version, step, "type-3", "role-4", "Contact 1", "Reseller 1", "Rep 1", "Body 9 \(Self.markup)", Self.markup, "Nível 1", "Acme",
                    "Maria", "Ana Admin", "Ana", "Nota fiscal rejeitada com erro 539", "Confira o CNPJ do destinatário e transmita de novo.",
                    "ERP", "Fiscal", "Padrão (São Paulo, seg–sex 08–18)"] + fieldLabels
        let result = try PortalBrowser.run("every_page.py", gateway, [ticketID, articleID, mailID, other, representative], environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)",
            "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)",
            "PORTAL_REPRESENTATIVE": "rep1@example.net:\(seeded.password)",
            "PORTAL_DATA": String(decoding: try JSONSerialization.data(withJSONObject: data), as: UTF8.self)])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        // Every role walked its pages in both languages, sub-pages and opened forms among them.
        let audited = Set(result.output.split(separator: "\n").map(String.init))
        for state in ["signed out pt-BR sign-in", "signed out en password reset", "admin pt-BR /equipe (.edit-member opened)", "admin en /perfis (.acc-edit-role opened)",
                      "admin pt-BR /cadastros (.edit-field opened)", "admin en /desenvolvimento (.blg-edit-version opened)",
                      "admin pt-BR /desenvolvimento (.blg-edit-sequence opened)", "admin en /prazos",
                      "admin en /notificacoes?pessoa=maria@acme.com.br", "admin pt-BR /base/sinonimos", "agent en /correio/\(mailID)",
                      "agent pt-BR /painel", "customer en /t/\(ticketID)", "customer pt-BR /contatos", "representative en /nova",
                      "representative print /t/\(ticketID)", "admin pt-BR /clientes", "agent en /clientes?q=Org&inativas=1",
                      "admin pt-BR /clientes/\(other) (.edit-contact opened)", "agent en /clientes/\(other)", "admin en /?organization_id=\(other)",
                      "admin pt-BR /representantes/\(representative) (.edit-contact opened)", "agent en /representantes/\(representative)"] {
            #expect(audited.contains(state), "\(state) was not audited")
        }
        #expect(Int(PortalBrowser.value(String(result.output.prefix { $0 != "\n" }))) ?? 0 >= 100, "\(result.output)")
    }
}
