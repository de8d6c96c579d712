import Foundation
import Testing
import TestSupport

@Suite("The agent's handling forms on the ticket page (transfer, send back, reclassify, confidentiality, time) in a real headless browser", .serialized)
struct TicketHandlingPageTests {
    @Test("Ana takes and transfers a ticket to Bruno with a note; Bruno, a chefe, makes it confidential at level 1 (Caio, at level 0, no longer offered) and sends it back (a blank justification refused) with one; Ana, who gets no confidentiality form, makes it urgent, logs 30 minutes by phone, changes the contact to João and links Maria's other ticket")
    func agentHandlesATicket() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        // Bruno: a chefe in Nível 1 (Ana's group) at level 1; group Nível 2 has neither of them.
        _ = try Self.addBruno(gateway, seeded, chefe: true)
        // Caio: Nível 1 at level 0, offered until the ticket is made confidential.
        try Self.addCaio(gateway, seeded)
        #expect(try gateway.request("POST", "/v1/groups", json: ["group": ["id": "n2", "name": "Nível 2", "active": true]], bearer: seeded.admin).status == 200)
        // Ana's role in workflow's directory lets her link customers; João is another authorized
        // contact of Acme; Maria has a second ticket to link.
        #expect(try gateway.request("POST", "/v1/roles", json: ["role": ["name": "vinculo", "permissions": ["tickets.link_customer"]]],
                                    bearer: seeded.admin).status == 200)
        #expect(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-ana", "name": "Ana", "email": "ana@suporte.example",
                                                                        "max_access_level": 1, "active": true, "role": "vinculo"]],
                                    bearer: seeded.admin).status == 200)
        #expect(try gateway.request("POST", "/v1/organizations/\(seeded.organizationID)/contacts", json: [
            "name": "João", "email": "joao@acme.com.br", "authorized": true], bearer: seeded.admin).status == 201)
        let other = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Boleto duplicado")
        let ticket = try ReplyFilesTests.openTicket(gateway, seeded)
        // Workflow has the ticket before the page opens it.
        _ = try waitFor { try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: seeded.ana).json["workflow"] != nil }

        let result = try PortalBrowser.run("ticket_handling.py", gateway, [ticket], environment: [
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)",
            "PORTAL_OTHER_AGENT": "bruno@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))

        let view = try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: seeded.admin)
        let row = try #require((view.json["workflow"] as? [String: Any])?["row"] as? [String: Any], "\(view.text)")
        #expect((row["holder"] as? [String: Any])?["agent_id"] as? String == "A-ana", "\(row)")
        #expect(row["priority"] as? String == "URGENTE" && row["access_level"] as? Int == 1, "\(row)")
        let history = try gateway.request("GET", "/v1/tickets/\(ticket)/history", bearer: seeded.admin).text
        for text in ["Bruno conhece o módulo de vendas.", "Não é de vendas: o erro vem do fiscal.", "Parou o faturamento da filial.",
                     "Traz dados da folha de pagamento."] {
            #expect(history.contains(text), "\(text) not in \(history)")
        }
        let intake = try #require(view.json["intake"] as? [String: Any])
        #expect(((intake["ticket"] as? [String: Any] ?? intake)["contact"] as? [String: Any])?["name"] as? String == "João", "\(view.text)")
        let related = try gateway.request("GET", "/v1/tickets/\(ticket)/related", bearer: seeded.admin)
        #expect((related.json["linked"] as? [[String: Any]] ?? []).map { $0["ticket_id"] as? String } == [other], "\(related.text)")
        let totals = try gateway.request("GET", "/v1/time-totals?group_by=agent", bearer: seeded.admin)
        let ana = (totals.json["totals"] as? [[String: Any]] ?? []).first { $0["key"] as? String == "A-ana" }
        #expect(ana?["minutes"] as? Int == 30 && ana?["entries"] as? Int == 1, "\(totals.text)")
    }

    @Test("What a helpdesk met on the ticket pages: a stale page refused an action is drawn again as the ticket is now, the SLA targets shown, the note a move needs asked for, no stray null, \"Salvo.\" after an action, refusals naming the field's label, the stage's own name for staff, drafts kept across redraws and Back, actions left out of print, a phone-sized page that fits, a cancel shown at once, the product required, a sign-in dialog when the session ends mid-form, and unread customer messages marked read so the ticket can be finished")
    func helpdeskCare() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        // Bruno, another agent of Ana's group and her chefe, takes a ticket while her page of it is
        // open; later takes one from her.
        let bruno = try Self.addBruno(gateway, seeded, chefe: true)
        #expect(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-ana", "name": "Ana", "email": "ana@suporte.example",
                                                                          "max_access_level": 1, "active": true, "chefe_agent_id": "A-bruno"]],
                                    bearer: seeded.admin).status == 200)
        let contested = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Estoque negativo")
        let cancelled = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Boleto duplicado")
        let ticket = try ReplyFilesTests.openTicket(gateway, seeded)

        let result = try PortalBrowser.run("ticket_page_care.py", gateway, [ticket, cancelled, contested], environment: [
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)", "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)",
            "PORTAL_OTHER_AGENT_TOKEN": bruno])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))

        // Stored as the pages said: the ticket finished, the other cancelled, the one sent after
        // signing in again opened once with what was typed before the session ended.
        let row = try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: seeded.admin).json["workflow"]
            .flatMap { ($0 as? [String: Any])?["row"] as? [String: Any] }
        #expect(row?["stage"] as? String == "finalizado", "\(String(describing: row))")
        let intake = try gateway.request("GET", "/v1/tickets/\(cancelled)", bearer: seeded.admin).json["intake"] as? [String: Any]
        #expect(intake?["status"] as? String == "cancelled", "\(String(describing: intake))")
        let list = try gateway.request("GET", "/v1/tickets?page_size=50&text=comissoes", bearer: seeded.admin)
        let found = (list.json["tickets"] as? [[String: Any]] ?? []).filter { ($0["subject"] as? String ?? "").hasPrefix("Relatório de comissões") }
        #expect(found.count == 1 && found.first?["ticket_id"] as? String == PortalBrowser.value(result.output), "\(list.text)")
        // Ana's repasse from the page that showed Bruno holding it was refused (it stayed in the
        // group's queue, where she took it); Bruno took it from her, and her public answer after
        // that was refused: Bruno holds it, with no public entry.
        let contestedView = try gateway.request("GET", "/v1/tickets/\(contested)", bearer: seeded.admin).json["workflow"] as? [String: Any]
        let contestedRow = contestedView?["row"] as? [String: Any]
        let holder = contestedRow?["holder"] as? [String: Any]
        #expect(holder?["agent_id"] as? String == "A-bruno" && holder?["group_id"] as? String == "n1", "\(String(describing: contestedRow))")
        #expect(!(contestedView?["discussion"] as? [[String: Any]] ?? []).contains { $0["text"] as? String == "Já verifiquei o certificado." },
                "\(String(describing: contestedView?["discussion"]))")
        let holders = try gateway.request("GET", "/v1/tickets/\(contested)/history", bearer: seeded.admin)
        #expect(holders.status == 200 && holders.text.contains("agente Ana"), "\(holders.text)")
    }

    /// Caio, an agent of Ana's group Nível 1 at level 0 (no sign-in): below a confidential ticket.
    static func addCaio(_ gateway: GatewayHarness, _ seeded: TicketFlowTests.Seeded) throws {
        #expect(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-caio", "name": "Caio", "email": "caio@suporte.example",
                                                                        "max_access_level": 0, "active": true]], bearer: seeded.admin).status == 200)
        #expect(try gateway.request("POST", "/v1/groups/n1/members", json: ["agent_id": "A-caio", "member": true], bearer: seeded.admin).status == 200)
    }

    /// Bruno, an agent (or a chefe) of Ana's group Nível 1 at level 1, with a sign-in: its bearer token.
    static func addBruno(_ gateway: GatewayHarness, _ seeded: TicketFlowTests.Seeded, chefe: Bool) throws -> String {
        #expect(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-bruno", "name": "Bruno", "email": "bruno@suporte.example",
                                                                        "max_access_level": 1, "active": true, "is_chefe": chefe]],
                                    bearer: seeded.admin).status == 200)
        #expect(try gateway.request("POST", "/v1/groups/n1/members", json: ["agent_id": "A-bruno", "member": true], bearer: seeded.admin).status == 200)
        return try gateway.createUser(admin: seeded.admin, email: "bruno@suporte.example", role: chefe ? "chefe" : "agent", agent: "A-bruno", accessLevel: 1)
    }
}
