import Foundation
import Testing
import TestSupport

@Suite("The agent's queue page in a real headless browser", .serialized)
struct QueuePageTests {
    @Test("queue filters (stage by name with counts, priority, category, group, text, SLA state, only mine) and pages of 50 that keep the filters; the customer lists and searches the same tickets")
    func queueFiltersAndPages() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        try WorkflowTimeRoutesTests.configureSLA(gateway, admin: seeded.admin)
        func open(_ subject: String, _ category: String, _ priority: String) throws -> (id: String, code: String) {
            let opened = try gateway.request("POST", "/v1/tickets", json: [
                "subject": subject, "request": "Relato: \(subject).", "category": category, "priority": priority, "product": "ERP",
                "module": "Financeiro", "organization_id": seeded.organizationID], bearer: seeded.maria)
            #expect(opened.status == 201, "\(opened.text)")
            let ticket = try #require(opened.json["ticket"] as? [String: Any], "\(opened.text)")
            return (try #require(ticket["id"] as? String), try #require(ticket["code"] as? String))
        }
        let urgent = try open("Sistema parado na filial", "PROBLEMA", "URGENTE")
        let fiscal = try open("Novo leiaute do SPED", "EXIGENCIA_FISCAL", "NORMAL")
        let taken = try open("Boleto sem registro", "PROBLEMA", "NORMAL")
        for number in 1...50 { _ = try open("Pedido de ajuste \(number)", "DUVIDA", "BAIXA") }
        // Workflow has every ticket; Ana takes one (hers, Em atendimento).
        #expect(try waitFor(30) {
            (try gateway.request("GET", "/v1/tickets?page_size=100", bearer: seeded.ana).json["tickets"] as? [Any])?.count == 53
        })
        #expect(try gateway.request("POST", "/v1/tickets/\(taken.id)/take", bearer: seeded.ana).status == 200)
        let result = try PortalBrowser.run("queue_filters.py", gateway, [urgent.code, fiscal.code, taken.code],
                                           environment: ["PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        // The customer's side of the same tickets: her list, and a search by a word of a subject.
        let customer = try PortalBrowser.run("customer_tickets.py", gateway, ["53", taken.code],
                                             environment: ["PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)"])
        #expect(customer.status == 0, Comment(rawValue: customer.output + "\n" + customer.error))
        #expect(customer.output.hasPrefix("OK"))
    }
}
