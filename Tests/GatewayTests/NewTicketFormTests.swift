import Foundation
import Testing
import TestSupport

@Suite("The customer's new ticket form in a real headless browser", .serialized)
struct NewTicketFormTests {
    @Test("the form explains the category and priority from the support policy, asks the product's custom fields and the technical details; the ticket page shows them to the customer and the agent; files chosen small, large, small are listed in that order with only the large one uploaded (file_positions)")
    func newTicketFormCarriesDetailsAndCustomFields() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        // Two custom fields of product ERP (any category): a required choice and a boolean.
        for field: [String: Any] in [
            ["key": "regime", "label_pt": "Regime tributário", "label_en": "Tax regime", "kind": "FIELD_CHOICE", "product": "ERP",
             "required": true, "active": true, "choices": ["Simples Nacional", "Lucro presumido", "Lucro real"], "position": 1],
            ["key": "contingencia", "label_pt": "Em contingência", "label_en": "In contingency", "kind": "FIELD_BOOLEAN", "product": "ERP",
             "active": true, "position": 2],
        ] {
            let created = try gateway.request("POST", "/v1/custom-fields", json: field, bearer: seeded.admin)
            #expect(created.status == 200, "\(created.text)")
        }
        // Small, over the served inline size (256 KiB), small: the open carries both small ones and
        // places them (before positions the first small one was uploaded with the large one).
        let chosen = [("a-log.txt", Data("FIS001: timeout no fechamento\n".utf8)), ("b-dump.bin", AttachmentStreamTests.file(bytes: 300_000, seed: 11)),
                      ("c-tela.png", AttachmentStreamTests.file(bytes: 20_000, seed: 12))]
        for (name, data) in chosen { try data.write(to: URL(fileURLWithPath: gateway.directory.path + "/" + name)) }
        let result = try PortalBrowser.run("new_ticket_form.py", gateway, chosen.map { gateway.directory.path + "/" + $0.0 }, environment: [
            "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        let ticketID = PortalBrowser.value(result.output)

        // Stored by intake as typed on the page: the details' choices by their documented values.
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
        let intake = try #require(view.json["intake"] as? [String: Any], "\(view.text)")
        let details = try #require(intake["details"] as? [String: Any], "\(view.text)")
        #expect(details["database"] as? String == "SQL Server" && details["environment"] as? String == "cloud", "\(details)")
        #expect(details["affected_users"] as? String == "all users" && details["routine"] as? String == "FIS001", "\(details)")
        #expect(details["system_version"] as? String == "12.1.2310" && details["previous_version"] as? String == "12.1.2210", "\(details)")
        #expect(details["current_version"] == nil || details["current_version"] as? String == "", "fields left empty are not sent: \(details)")
        let custom = (intake["custom_fields"] as? [[String: Any]] ?? []).map { "\($0["key"] ?? "")=\($0["value"] ?? "")" }
        #expect(Set(custom) == ["regime=Lucro real", "contingencia=true"], "\(custom)")
        #expect(intake["priority"] as? String == "URGENTE" && intake["category"] as? String == "PROBLEMA")
        #expect(intake["product"] as? String == "erp", "the product as typed, trimmed: \(intake["product"] ?? "")")
        let attachments = ((intake["ticket"] as? [String: Any])?["attachments"] ?? intake["attachments"]) as? [[String: Any]] ?? []
        #expect(attachments.compactMap { $0["file_name"] as? String } == chosen.map(\.0), "\(attachments)")
        for (name, data) in chosen {
            let id = try #require(attachments.first { $0["file_name"] as? String == name }?["id"] as? String, "\(name)")
            #expect(try gateway.request("GET", "/v1/attachments/\(id)", bearer: seeded.ana).body == data, "\(name)")
        }
        let metrics = try gateway.request("GET", "/metrics", bearer: seeded.admin).text
        #expect(ViewCacheTests.counter(metrics, "gateway_rpc_client_calls_total", ["Intake/UploadAttachment\""]) == 1, "only the large file uploaded")
    }

    @Test("an agent registers a customer's WhatsApp message on the portal: customer found by name, contact and channel chosen; intake records the agent")
    func agentRegistersTicket() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let result = try PortalBrowser.run("agent_registers_ticket.py", gateway, environment: ["PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        let ticketID = PortalBrowser.value(result.output)
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
        let intake = try #require(view.json["intake"] as? [String: Any], "\(view.text)")
        #expect((intake["registered_by_agent"] as? [String: Any])?["id"] as? String == "A-ana", "\(view.text)")
        #expect(intake["channel"] as? String == "whatsapp" && intake["category"] as? String == "DUVIDA", "\(view.text)")
        #expect((intake["organization"] as? [String: Any])?["id"] as? String == seeded.organizationID, "\(view.text)")
        #expect((intake["contact"] as? [String: Any])?["name"] as? String == "Maria", "\(view.text)")
        // The customer sees it among her organization's tickets.
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?page_size=50", bearer: seeded.maria).text.contains(ticketID) })
    }
}
