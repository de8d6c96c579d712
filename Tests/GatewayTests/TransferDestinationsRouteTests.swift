import Foundation
import Storage
import Testing
import TestSupport

/// `GET /v1/agents/{id}/transfer-destinations?ticket_id=…`, what the ticket page's repasse form
/// offers: without the agents a repasse of that ticket would refuse (below its level), so the
/// portal offers no destination the call then refuses.
@Suite("Gateway: a ticket's transfer destinations leave out who may not receive it")
struct TransferDestinationsRouteTests {
    @Test("a confidential ticket's destinations leave out the agent below its level; without the ticket, or for an administrator, he is there",
          arguments: TestEngines.all)
    func confidentialTicket(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        _ = try TicketHandlingPageTests.addBruno(gateway, seeded, chefe: false)
        try TicketHandlingPageTests.addCaio(gateway, seeded)
        let ticket = try ReplyFilesTests.openTicket(gateway, seeded)
        #expect(try waitFor { try gateway.request("POST", "/v1/tickets/\(ticket)/take", json: [:], bearer: seeded.ana).status == 200 })
        func offered(_ agent: String, ticket: String?, bearer: String) throws -> [String] {
            let query = ticket.map { "?ticket_id=\($0)" } ?? ""
            let response = try gateway.request("GET", "/v1/agents/\(agent)/transfer-destinations\(query)", bearer: bearer)
            #expect(response.status == 200, "\(response.text)")
            return (response.json["agents"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
        #expect(try offered("A-ana", ticket: ticket, bearer: seeded.ana) == ["A-bruno", "A-caio"])
        let level = try gateway.request("POST", "/v1/tickets/\(ticket)/access-level", json: ["access_level": 1, "reason": "Folha de pagamento"],
                                         bearer: seeded.admin)
        #expect(level.status == 200, "\(level.text)")
        #expect(try offered("A-ana", ticket: ticket, bearer: seeded.ana) == ["A-bruno"], "Caio (level 0) is not offered")
        #expect(try offered("A-ana", ticket: nil, bearer: seeded.ana) == ["A-bruno", "A-caio"], "without the ticket: the reach alone")
        // What is left out is what the repasse refuses.
        let refused = try gateway.request("POST", "/v1/tickets/\(ticket)/transfer", json: ["to_agent_id": "A-caio"], bearer: seeded.ana)
        #expect(refused.status != 200 && refused.text.contains("below_access_level"), "\(refused.text)")
        // An administrator may hand it to Caio, so is offered him.
        let adminID = try #require((try gateway.request("GET", "/v1/me", bearer: seeded.admin).json["principal"] as? [String: Any])?["id"] as? String)
        #expect(try offered(adminID, ticket: ticket, bearer: seeded.admin).contains("A-caio"))
    }
}
