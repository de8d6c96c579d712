import Foundation
import Storage
import Testing
import TestSupport

/// The customer directory's update routes change only the fields a body names
/// (``MergedUpdate``): an integration syncing what it knows keeps what it does not.
@Suite("Directory updates through the gateway keep the fields left out", .serialized)
struct DirectoryUpdateRouteTests {
    @Test("an organization's plan changed alone keeps its e-mail, account owner and activity; a new organization is active; an empty value clears", arguments: TestEngines.all)
    func organizationUpdates(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let created = try gateway.request("POST", "/v1/organizations", json: [
            "name": "Beta Sistemas", "tax_id": "04252011000110", "kind": "ORGANIZATION_CUSTOMER", "plan": "Ouro",
            "email": "ti@beta.example", "account_owner_agent_id": "A-ana"], bearer: seeded.admin)
        #expect(created.status == 201, "\(created.text)")
        #expect(created.json["active"] as? Bool == true, "a new organization is active without saying so: \(created.text)")
        let id = try #require(created.json["id"] as? String)

        let changed = try gateway.request("POST", "/v1/organizations/\(id)", json: ["plan": "Prata"], bearer: seeded.admin)
        #expect(changed.status == 200, "\(changed.text)")
        let stored = try gateway.request("GET", "/v1/organizations/\(id)", bearer: seeded.admin).json
        #expect(stored["plan"] as? String == "Prata")
        #expect(stored["name"] as? String == "Beta Sistemas")
        #expect(stored["tax_id"] as? String == "04252011000110")
        #expect(stored["email"] as? String == "ti@beta.example")
        #expect(stored["account_owner_agent_id"] as? String == "A-ana")
        #expect(stored["active"] as? Bool == true)
        #expect(stored["code"] as? String == created.json["code"] as? String)

        // Cleared and deactivated when the body says so; a bad value is refused naming it, and nothing changes.
        #expect(try gateway.request("POST", "/v1/organizations/\(id)", json: ["email": "", "active": false], bearer: seeded.admin).status == 200)
        let cleared = try gateway.request("GET", "/v1/organizations/\(id)", bearer: seeded.admin).json
        #expect((cleared["email"] as? String ?? "").isEmpty && (cleared["active"] as? Bool ?? false) == false)
        #expect(cleared["plan"] as? String == "Prata")
        let bad = try gateway.request("POST", "/v1/organizations/\(id)", json: ["tax_id": "04252011000199", "plan": "Bronze"], bearer: seeded.admin)
        #expect(bad.status == 400 && bad.text.contains("tax_id"), "\(bad.text)")
        #expect(try gateway.request("GET", "/v1/organizations/\(id)", bearer: seeded.admin).json["plan"] as? String == "Prata")
        // Unknown ids and callers who may not: as before.
        #expect(try gateway.request("POST", "/v1/organizations/nope", json: ["plan": "X"], bearer: seeded.admin).status == 404)
        #expect(try gateway.request("POST", "/v1/organizations/\(id)", json: ["plan": "X"], bearer: seeded.maria).status == 403)
    }

    @Test("a contact read alone, and changed by its phone alone, keeps its authorization, administration and e-mail; another company's administrator neither reads nor changes it", arguments: TestEngines.all)
    func contactUpdates(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let added = try gateway.request("POST", "/v1/organizations/\(seeded.organizationID)/contacts", json: [
            "name": "João", "email": "joao@acme.com.br", "authorized": true, "admin": true], bearer: seeded.admin)
        #expect(added.status == 201, "\(added.text)")
        let id = try #require(added.json["id"] as? String)
        #expect(added.json["active"] as? Bool == true)

        let read = try gateway.request("GET", "/v1/contacts/\(id)", bearer: seeded.maria)
        #expect(read.status == 200 && read.json["email"] as? String == "joao@acme.com.br", "the company's administrator reads it: \(read.text)")
        let changed = try gateway.request("POST", "/v1/contacts/\(id)", json: ["phone": "+55 11 4000-1234"], bearer: seeded.admin)
        #expect(changed.status == 200, "\(changed.text)")
        let stored = try gateway.request("GET", "/v1/contacts/\(id)", bearer: seeded.admin).json
        #expect(stored["phone"] as? String == "+55 11 4000-1234")
        #expect(stored["name"] as? String == "João" && stored["email"] as? String == "joao@acme.com.br")
        #expect(stored["authorized"] as? Bool == true && stored["admin"] as? Bool == true && stored["active"] as? Bool == true)
        #expect(stored["organization_id"] as? String == seeded.organizationID)

        let outsider = try gateway.createOutsider(admin: seeded.admin, email: "chefe@outra.example", role: "customer_admin").token
        #expect(try gateway.request("GET", "/v1/contacts/\(id)", bearer: outsider).status == 403)
        let refused = try gateway.request("POST", "/v1/contacts/\(id)", json: ["phone": "+55 11 0000-0000"], bearer: outsider)
        #expect(refused.status == 403, "\(refused.text)")
        #expect(try gateway.request("GET", "/v1/contacts/\(id)", bearer: seeded.admin).json["phone"] as? String == "+55 11 4000-1234")
        #expect(try gateway.request("GET", "/v1/contacts/nope", bearer: seeded.admin).status == 404)
    }
}
