import Foundation
import Storage
import Testing
import TestSupport

/// Knowledge's editors' queue shows an FAQ request (the ticket's code, company, contact and texts)
/// only to editors who may see its ticket, as knowledge asks workflow for the calls about one
/// ticket: an editor below a confidential ticket's level neither lists nor approves it.
@Suite("The editors' queue follows the tickets' access levels", .serialized)
struct EditorQueueLevelTests {
    @Test("an FAQ asked from a level-1 ticket: a level-0 editor's queue leaves it out and approving it is 404; a level-1 editor and the administrator see it",
          arguments: TestEngines.all)
    func queueByLevel(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        setup.ok(try gateway.request("POST", "/v1/category-access-levels", json: ["category": "PROBLEMA", "access_level": 1], bearer: seeded.admin))
        for (id, level) in [("A-edu", 0), ("A-lia", 1)] {
            setup.ok(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": id, "name": id, "email": "\(id)@suporte.example",
                                                                          "max_access_level": level, "active": true]], bearer: seeded.admin))
        }
        let low = try gateway.createUser(admin: seeded.admin, email: "edu@suporte.example", role: "knowledge_editor", agent: "A-edu", accessLevel: 0)
        let high = try gateway.createUser(admin: seeded.admin, email: "lia@suporte.example", role: "knowledge_editor", agent: "A-lia", accessLevel: 1)
        let ticketID = try setup.openTicket(subject: "Fusão sigilosa", request: "Como consolidar o balanço da fusão sigilosa?", module: "Contábil")
        setup.ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/faq-request", json: [
            "request_text": "Como consolidar o balanço da fusão sigilosa?", "solution_text": "Use a consolidação do módulo contábil."],
                               bearer: seeded.ana), 201)

        func queue(_ bearer: String) throws -> [[String: Any]] {
            let listed = try gateway.request("GET", "/v1/knowledge/queue", bearer: bearer)
            setup.ok(listed)
            return listed.json["items"] as? [[String: Any]] ?? []
        }
        let all = try queue(seeded.admin)
        let item = try #require(all.first { $0["ticket_id"] as? String == ticketID }, "\(all)")
        let itemID = try #require(item["id"] as? String)
        #expect(try queue(high).contains { $0["ticket_id"] as? String == ticketID })
        let lowItems = try queue(low)
        #expect(!lowItems.contains { $0["ticket_id"] as? String == ticketID }, "\(lowItems)")
        #expect(!"\(lowItems)".contains("sigilosa"))
        let approved = try gateway.request("POST", "/v1/knowledge/queue/\(itemID)/approve", json: ["publish": true], bearer: low)
        #expect(approved.status == 404, "\(approved.text)")
        let rejected = try gateway.request("POST", "/v1/knowledge/queue/\(itemID)/reject", json: ["reason": "não"], bearer: low)
        #expect(rejected.status == 404, "\(rejected.text)")
        // Still pending: the level-1 editor reviews it.
        setup.ok(try gateway.request("POST", "/v1/knowledge/queue/\(itemID)/reject", json: ["reason": "fica interno"], bearer: high))
    }
}
