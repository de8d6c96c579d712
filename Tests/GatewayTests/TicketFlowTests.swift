import Foundation
import Storage
import Testing
import TestSupport

@Suite("Tickets end to end through the gateway: HTTP → intake/workflow/knowledge/notification", .serialized)
struct TicketFlowTests {
    struct Seeded {
        var admin: String
        var maria: String
        var ana: String
        var organizationID: String
        var password = "Us3r-Passw0rd!x"
    }

    /// Workflow's directory (agent Ana in group n1, routing to it), intake's (company Acme and its
    /// administrator contact Maria), their gateway sign-ins, and a published FAQ.
    static func seed(_ gateway: GatewayHarness) throws -> Seeded {
        let admin = try gateway.adminToken()
        func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        }
        // Workflow's directory: an agent in a group, and a routing rule to it.
        ok(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-ana", "name": "Ana", "email": "ana@suporte.example",
                                                                      "max_access_level": 1, "active": true]], bearer: admin))
        ok(try gateway.request("POST", "/v1/groups", json: ["group": ["id": "n1", "name": "Nível 1", "active": true]], bearer: admin))
        ok(try gateway.request("POST", "/v1/groups/n1/members", json: ["agent_id": "A-ana", "member": true], bearer: admin))
        ok(try gateway.request("POST", "/v1/routing-rules", json: ["rule": ["id": "default", "position": 100, "group_id": "n1"]], bearer: admin))
        // Intake's directory: a customer company and its administrator contact.
        let organization = try gateway.request("POST", "/v1/organizations", json: [
            "name": "Acme", "tax_id": "11222333000181", "kind": "ORGANIZATION_CUSTOMER", "active": true, "plan": "premium"], bearer: admin)
        ok(organization, 201)
        let organizationID = try #require(organization.json["id"] as? String)
        let contact = try gateway.request("POST", "/v1/organizations/\(organizationID)/contacts", json: [
            "name": "Maria", "email": "maria@acme.com.br", "phone": "+55 11 5555-0000", "authorized": true, "admin": true], bearer: admin)
        ok(contact, 201)
        let contactID = try #require(contact.json["id"] as? String)
        // Their sign-ins, linked to intake's contact and workflow's agent.
        let maria = try gateway.createUser(admin: admin, email: "maria@acme.com.br", role: "customer_admin", organization: organizationID, contact: contactID)
        let ana = try gateway.createUser(admin: admin, email: "ana@suporte.example", role: "agent", agent: "A-ana", accessLevel: 1)

        // A published FAQ the customer sees as a suggestion while typing the subject.
        ok(try gateway.request("POST", "/v1/knowledge/articles", json: [
            "kind": "FAQ", "title": "Nota fiscal rejeitada com erro 539", "body_markdown": "Confira o CNPJ do destinatário e transmita de novo.",
            "product": "ERP", "module": "Fiscal", "visibility": "VISIBILITY_CUSTOMERS", "state": "PUBLISHED"], bearer: admin), 201)
        return Seeded(admin: admin, maria: maria, ana: ana, organizationID: organizationID)
    }

    @Test("a customer opens a ticket with an attachment after a suggestion; an agent takes it and asks; the customer replies", arguments: TestEngines.all)
    func ticketFlow(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        }

        let seeded = try Self.seed(gateway)
        let (admin, maria, ana, organizationID) = (seeded.admin, seeded.maria, seeded.ana, seeded.organizationID)
        let stranger = try gateway.createOutsider(admin: admin, email: "x@outra.com").token
        let suggestion = try gateway.request("GET", "/v1/knowledge/suggest?subject=nota%20fiscal%20rejei&draft_id=D-1", bearer: maria)
        ok(suggestion)
        #expect(suggestion.text.contains("Nota fiscal rejeitada"), "\(suggestion.text)")
        ok(try gateway.request("GET", "/v1/knowledge/search?q=nota%20fiscal", bearer: maria))

        // The attachment, then the ticket (twice with one Idempotency-Key: one ticket).
        let file = Data("log da transmissão: erro 539\n".utf8)
        let upload = try gateway.request("POST", "/v1/attachments?file_name=log.txt", body: file, headers: ["Content-Type": "text/plain"], bearer: maria)
        ok(upload, 201)
        let attachmentID = try #require(upload.json["id"] as? String)
        let ticketJSON: [String: Any] = [
            "subject": "Nota fiscal não transmite", "request": "Ao transmitir a NF-e a rotina FIS001 devolve erro 539.",
            "category": "PROBLEMA", "priority": "ALTA", "product": "ERP", "module": "Fiscal", "organization_id": organizationID,
            "details": ["system_version": "12.1.2310", "database": "SQL Server", "environment": "cloud", "company_branch": "01/0001",
                        "routine": "FIS001", "affected_users": "all users"],
            "attachment_ids": [attachmentID]]
        let opened = try gateway.request("POST", "/v1/tickets", json: ticketJSON, headers: ["Idempotency-Key": "open-1"], bearer: maria)
        ok(opened, 201)
        let again = try gateway.request("POST", "/v1/tickets", json: ticketJSON, headers: ["Idempotency-Key": "open-1"], bearer: maria)
        ok(again, 201)
        let ticket = try #require(opened.json["ticket"] as? [String: Any])
        let ticketID = try #require(ticket["id"] as? String)
        #expect((again.json["ticket"] as? [String: Any])?["id"] as? String == ticketID)

        // Bad input: an unknown enum value and a missing subject, as 400 with the field.
        let badEnum = try gateway.request("POST", "/v1/tickets", json: ["category": "NOPE"], bearer: maria)
        #expect(badEnum.status == 400)
        #expect(badEnum.text.contains("category"))
        var missing = ticketJSON
        missing["subject"] = ""
        missing["attachment_ids"] = nil
        let invalid = try gateway.request("POST", "/v1/tickets", json: missing, bearer: maria)
        #expect(invalid.status == 400)
        #expect(((invalid.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.contains { $0["field"] as? String == "subject" } == true,
                "\(invalid.text)")

        // The customer sees the ticket, composed from intake and (once the event arrived) workflow.
        #expect(try waitFor {
            let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: maria)
            return view.status == 200 && !(view.json["workflow"] is NSNull) && view.json["workflow"] != nil
        })
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: maria)
        #expect((view.json["intake"] as? [String: Any])?["subject"] as? String == "Nota fiscal não transmite")
        #expect(try waitFor {
            try gateway.request("GET", "/v1/tickets", bearer: maria).text.contains(ticketID)
        })
        // Another company's contact does not.
        let foreign = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: stranger)
        #expect(foreign.status == 403 || foreign.status == 404)

        // The agent finds it in the queue, takes it and asks for information in public.
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: ana).text.contains(ticketID) })
        ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/take", bearer: ana))
        ok(try gateway.request("GET", "/v1/tickets/\(ticketID)/moves", bearer: ana))
        ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/discussion", json: ["is_public": true, "text": "Pode enviar o XML da nota?"],
                               bearer: ana), 201)
        // The customer replies with the XML inside the reply (JSON `files`, base64); both files
        // download byte for byte.
        let xml = Data("<nfeProc><NFe><infNFe Id=\"NFe539\"/></NFe></nfeProc>\n".utf8)
        let reply = try gateway.request("POST", "/v1/tickets/\(ticketID)/replies", json: [
            "text": "Segue o XML.", "files": [["file_name": "nota.xml", "content_type": "application/xml", "data": xml.base64EncodedString()]]],
            bearer: maria)
        ok(reply, 201)
        let download = try gateway.request("GET", "/v1/attachments/\(attachmentID)", bearer: maria)
        ok(download)
        #expect(download.body == file)
        let messages = try #require(((try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: maria).json["intake"] as? [String: Any])
            .flatMap { ($0["ticket"] as? [String: Any]) ?? $0 }?["messages"]) as? [[String: Any]])
        let xmlReply = try #require(messages.first { $0["text"] as? String == "Segue o XML." }, "\(messages)")
        let xmlID = try #require((xmlReply["attachments"] as? [[String: Any]])?.first { $0["file_name"] as? String == "nota.xml" }?["id"] as? String,
                                 "\(xmlReply)")
        #expect(try gateway.request("GET", "/v1/attachments/\(xmlID)", bearer: maria).body == xml)
        ok(try gateway.request("GET", "/v1/tickets/\(ticketID)/history", bearer: ana))
        ok(try gateway.request("GET", "/v1/deliveries?ticket_id=\(ticketID)", bearer: admin))

        // Workflow's time: the ticket's SLA, the metrics report, the queue as CSV; a forged survey link is refused.
        let sla = try gateway.request("GET", "/v1/tickets/\(ticketID)/sla", bearer: ana)
        #expect(sla.status == 200, "\(sla.text)")
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let tomorrow = ISO8601DateFormatter.string(from: Date().addingTimeInterval(86_400), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let report = try gateway.request("GET", "/v1/reports/metrics?from_day=\(today)&to_day=\(tomorrow)", bearer: admin)
        #expect(report.status == 200, "\(report.text)")
        let export = try gateway.request("GET", "/v1/tickets/export.csv", bearer: admin)
        ok(export)
        #expect(export.header("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(export.text.contains(ticket["code"] as? String ?? "?"), "\(export.text.prefix(500))")
        let forged = try gateway.request("POST", "/v1/surveys/answer", json: ["token": "forged", "score": 5])
        #expect(forged.status >= 400 && forged.status != 500, "\(forged.text)")

        // The CLI lists the customer's tickets with her token.
        let cli = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["tickets", "list", "--json"],
                                         environment: ["OCORRE_URL": "http://127.0.0.1:\(gateway.httpPort)", "OCORRE_TOKEN": maria,
                                                       "OCORRE_CONFIG": gateway.directory.path + "/none.json"])
        #expect(cli.status == 0, "\(cli.error)")
        #expect(cli.output.contains(ticketID))
        let table = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["tickets", "list"],
                                           environment: ["OCORRE_URL": "http://127.0.0.1:\(gateway.httpPort)", "OCORRE_TOKEN": maria,
                                                         "OCORRE_CONFIG": gateway.directory.path + "/none.json"])
        #expect(table.output.contains("ASSUNTO") && table.output.contains("Nota fiscal não transmite"), "\(table.output)")
        let cliEnvironment = ["OCORRE_URL": "http://127.0.0.1:\(gateway.httpPort)", "OCORRE_TOKEN": maria, "OCORRE_CONFIG": gateway.directory.path + "/none.json"]
        let shown = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["tickets", "show", ticketID, "--json"], environment: cliEnvironment)
        #expect(shown.status == 0 && shown.output.contains("Nota fiscal não transmite"), "\(shown.error)")
        let replied = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["tickets", "reply", ticketID, "--text", "Mais um detalhe pela CLI."],
                                             environment: cliEnvironment)
        #expect(replied.status == 0, "\(replied.error)")
        let searched = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["kb", "search", "nota", "fiscal"], environment: cliEnvironment)
        #expect(searched.status == 0 && searched.output.contains("Nota fiscal rejeitada"), "\(searched.output) \(searched.error)")
        // A table people read: translated headers, the kind named, no raw field dump (score, snippet).
        #expect(searched.output.contains("TÍTULO") && searched.output.contains("FAQ") && !searched.output.contains("SCORE"), "\(searched.output)")
        let cliFiles = try TemporaryDirectory()
        let screenshot = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try screenshot.write(to: URL(fileURLWithPath: cliFiles.path + "/tela boleto.png"))
        try Data("registro 123 recusado\n".utf8).write(to: URL(fileURLWithPath: cliFiles.path + "/log.txt"))
        func uploads() throws -> Double {
            ViewCacheTests.counter(try gateway.request("GET", "/metrics", bearer: admin).text, "gateway_rpc_client_calls_total",
                                   ["Intake/UploadAttachment\""])
        }
        let uploadsBefore = try uploads()
        let cliOpened = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["tickets", "open", "--subject", "Boleto não gera", "--description",
                                                                               "A rotina de boletos para no registro.", "--category", "PROBLEMA",
                                                                               "--priority", "BAIXA", "--product", "ERP", "--json",
                                                                               "--attach", "\(cliFiles.path)/tela boleto.png,\(cliFiles.path)/log.txt"],
                                            environment: cliEnvironment)
        #expect(cliOpened.status == 0 && cliOpened.output.contains("Boleto não gera"), "\(cliOpened.error)")
        let cliTicket = try #require(((try? JSONSerialization.jsonObject(with: Data(cliOpened.output.utf8))) as? [String: Any])?["ticket"] as? [String: Any],
                                     "\(cliOpened.output)")
        let cliAttachments = cliTicket["attachments"] as? [[String: Any]] ?? []
        #expect(Set(cliAttachments.compactMap { $0["file_name"] as? String }) == ["tela boleto.png", "log.txt"], "\(cliOpened.output.prefix(3000))")
        // The 300,000-byte screenshot is uploaded first; the small log travels inside the open.
        #expect(try uploads() == uploadsBefore + 1)
        for attachment in cliAttachments {
            let id = try #require(attachment["id"] as? String)
            let expected = attachment["file_name"] as? String == "log.txt" ? Data("registro 123 recusado\n".utf8) : screenshot
            #expect(try gateway.request("GET", "/v1/attachments/\(id)", bearer: maria).body == expected)
        }

        // The company administrator invites a colleague: notification records the e-mail.
        ok(try gateway.request("POST", "/v1/invitations", json: ["email": "joao@acme.com.br", "display_name": "João"], bearer: maria), 201)
        #expect(try waitFor {
            try gateway.request("GET", "/v1/deliveries?recipient=joao@acme.com.br", bearer: admin).text.contains("joao@acme.com.br")
        })
        // An address that must not get e-mail: administrators suppress it and lift it; customers
        // cannot; an invitation to it is logged as failed, not sent.
        #expect(try gateway.request("POST", "/v1/email-suppressions", json: ["address": "Ex@acme.com.br"], bearer: maria).status == 403)
        ok(try gateway.request("POST", "/v1/email-suppressions", json: ["address": "Ex@acme.com.br", "note": "saiu da empresa"], bearer: admin), 201)
        #expect(try gateway.request("GET", "/v1/email-suppressions?address=ex@acme.com.br", bearer: admin).text.contains("saiu da empresa"))
        ok(try gateway.request("POST", "/v1/invitations", json: ["email": "ex@acme.com.br", "display_name": "Ex"], bearer: maria), 201)
        #expect(try waitFor {
            try gateway.request("GET", "/v1/deliveries?recipient=ex@acme.com.br", bearer: admin).text.contains("suprimido por um administrador")
        })
        ok(try gateway.request("DELETE", "/v1/email-suppressions/ex%40acme.com.br", bearer: admin))
        let gone = try gateway.request("DELETE", "/v1/email-suppressions/ex%40acme.com.br", bearer: admin)
        #expect(gone.status == 404 && gone.text.contains("address not suppressed"), "\(gone.text)")
        // Metrics include the services' figures: tickets by stage, deliveries by state.
        let metrics = try gateway.request("GET", "/metrics", bearer: admin)
        #expect(metrics.text.contains("ocorrencias_tickets_by_stage{"), "\(metrics.text.suffix(2000))")
        #expect(metrics.text.contains("ocorrencias_deliveries{state=\"queued\"}"))
        #expect(metrics.text.contains("gateway_rpc_client_calls_total{service=\"gateway\",method=\"/ocorrencias.intake.v1.Intake/OpenTicket\",code=\"OK\"}"))
    }
}
