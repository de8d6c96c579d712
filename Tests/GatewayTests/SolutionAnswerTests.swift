import Foundation
import Storage
import Testing
import TestSupport

/// The customer's accept/reject of a proposed solution in workflow's default flow (padrao), where
/// a ticket awaits acceptance once the agent tells the customer the solution (status
/// `cliente_informado`), over HTTP and in a real headless browser.
@Suite("Accept / reject a solution in the default flow", .serialized)
struct SolutionAnswerTests {
    /// A ticket of Maria's taken by Ana, with a solution recorded; returns its id.
    static func solvedTicket(_ gateway: GatewayHarness, _ seeded: TicketFlowTests.Seeded, subject: String) throws -> String {
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": subject, "request": "A rotina FIS001 devolve erro 539.", "category": "PROBLEMA",
            "priority": "ALTA", "product": "ERP", "module": "Fiscal"], bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let id = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String)
        #expect(try waitFor { try gateway.request("POST", "/v1/tickets/\(id)/take", bearer: seeded.ana, conform: false).status == 200 })
        let solution = try gateway.request("POST", "/v1/tickets/\(id)/solution", json: ["text": "CNPJ do destinatário corrigido."], bearer: seeded.ana)
        #expect(solution.status == 200, "\(solution.text)")
        return id
    }

    static func workflowPart(_ response: GatewayHarness.Response) -> [String: Any] { response.json["workflow"] as? [String: Any] ?? [:] }
    static func discussion(_ response: GatewayHarness.Response) -> [[String: Any]] { workflowPart(response)["discussion"] as? [[String: Any]] ?? [] }

    @Test("over HTTP: told the solution, the customer rejects with a reason both sides see, then accepts; refusals", arguments: TestEngines.all)
    func overHTTP(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let (maria, ana) = (seeded.maria, seeded.ana)
        func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        }
        let id = try Self.solvedTicket(gateway, seeded, subject: "Nota não transmite")
        // Nothing to answer until the customer is told the solution.
        #expect(Self.workflowPart(try gateway.request("GET", "/v1/tickets/\(id)", bearer: maria))["awaiting_acceptance"] as? Bool != true)
        ok(try gateway.request("POST", "/v1/tickets/\(id)/solution/answer", json: ["accept": true], bearer: maria), 422)
        ok(try gateway.request("POST", "/v1/tickets/\(id)/status", json: ["status": "cliente_informado"], bearer: ana))
        #expect(Self.workflowPart(try gateway.request("GET", "/v1/tickets/\(id)", bearer: maria))["awaiting_acceptance"] as? Bool == true)

        // Refusals: the agent cannot answer for her; another company does not reach it; a rejection needs a reason.
        ok(try gateway.request("POST", "/v1/tickets/\(id)/solution/answer", json: ["accept": true], bearer: ana), 403)
        let stranger = try gateway.createOutsider(admin: seeded.admin, email: "z@outra.com").token
        ok(try gateway.request("POST", "/v1/tickets/\(id)/solution/answer", json: ["accept": true], bearer: stranger), 404)
        let missing = try gateway.request("POST", "/v1/tickets/\(id)/solution/answer", json: ["accept": false], bearer: maria)
        ok(missing, 400)
        #expect(((missing.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first?["field"] as? String == "reason", "\(missing.text)")

        let rejected = try gateway.request("POST", "/v1/tickets/\(id)/solution/answer",
                                           json: ["accept": false, "reason": "A filial 2 continua com erro 539."], bearer: maria)
        ok(rejected)
        #expect(rejected.json["awaiting_acceptance"] as? Bool != true)
        for (who, token) in [("customer", maria), ("agent", ana)] {
            let entries = Self.discussion(try gateway.request("GET", "/v1/tickets/\(id)", bearer: token))
            let entry = entries.first { $0["kind"] as? String == "solution_rejected" }
            #expect(entry?["text"] as? String == "A filial 2 continua com erro 539." && entry?["is_public"] as? Bool == true, "\(who): \(entries)")
        }
        let agentRow = Self.workflowPart(try gateway.request("GET", "/v1/tickets/\(id)", bearer: ana))["row"] as? [String: Any] ?? [:]
        #expect(agentRow["unread_messages"] as? Int == 1, "\(agentRow)")

        // Told again, she accepts: the solution is confirmed, by her.
        ok(try gateway.request("POST", "/v1/tickets/\(id)/read", bearer: ana))
        ok(try gateway.request("POST", "/v1/tickets/\(id)/status", json: ["status": "cliente_informado"], bearer: ana))
        ok(try gateway.request("POST", "/v1/tickets/\(id)/solution/answer", json: ["accept": true], bearer: maria))
        let status = (Self.workflowPart(try gateway.request("GET", "/v1/tickets/\(id)", bearer: ana))["row"] as? [String: Any])?["status"] as? [String: Any]
        #expect(status?["status"] as? String == "solucao_confirmada" && !(status?["set_by_id"] as? String ?? "").isEmpty && status?["set_by_id"] as? String != "A-ana", "\(String(describing: status))")
    }

    @Test("in the browser: the agent tells the customer the solution; she rejects with a reason (seen by both), is told again and accepts")
    func inBrowser() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let seeded = try TicketFlowTests.seed(deployment.gateway)
        let id = try Self.solvedTicket(deployment.gateway, seeded, subject: "Boleto sem registro")
        let result = try PortalBrowser.run("solution_answer.py", deployment.gateway, [id], environment: [
            "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)", "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        // What the pages did is stored: the public rejection entry and the confirmed status.
        let view = try deployment.gateway.request("GET", "/v1/tickets/\(id)", bearer: seeded.maria)
        #expect(Self.discussion(view).contains { $0["kind"] as? String == "solution_rejected" && ($0["text"] as? String ?? "").contains("filial 2") })
        let status = (Self.workflowPart(try deployment.gateway.request("GET", "/v1/tickets/\(id)", bearer: seeded.ana))["row"] as? [String: Any])?["status"] as? [String: Any]
        #expect(status?["status"] as? String == "solucao_confirmada", "\(String(describing: status))")
    }
}
