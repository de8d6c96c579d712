import Foundation
import Storage
import Testing
import TestSupport

/// `GET /v1/organizations/{id}/representatives` (intake's `ListOrganizationRepresentatives`) and a
/// representative's person read and changed by id (`/v1/representative-contacts/{id}`), which the
/// portal's *Clientes* pages use.
@Suite("An organization's representatives over HTTP", .serialized)
struct OrganizationRepresentativesRouteTests {
    @Test("staff list an organization's representatives (inactive ones only when asked) with the organizations they act for; a representative's person changes only the fields sent; customers are refused",
          arguments: TestEngines.all)
    func organizationRepresentatives(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let acme = seeded.organizationID
        let (beta, _) = try CustomersPageTests.otherOrganization(gateway, admin: seeded.admin)
        func create(_ name: String, _ organizations: [String]) throws -> String {
            let created = try gateway.request("POST", "/v1/representatives", json: [
                "name": name, "email": "contato@\(name.lowercased().replacingOccurrences(of: " ", with: "")).example", "active": true,
                "organization_ids": organizations], bearer: seeded.admin)
            #expect(created.status == 201, "\(created.text)")
            return try #require(created.json["id"] as? String)
        }
        let sul = try create("Revenda Sul", [acme, beta])
        let norte = try create("Revenda Norte", [acme])
        _ = try create("Só Beta", [beta])
        let off = try gateway.request("POST", "/v1/representatives/\(norte)", json: ["active": false], bearer: seeded.admin)
        #expect(off.status == 200 && off.json["name"] as? String == "Revenda Norte", "\(off.text)")

        func listed(_ token: String, _ query: String = "") throws -> GatewayHarness.Response {
            try gateway.request("GET", "/v1/organizations/\(acme)/representatives" + query, bearer: token)
        }
        let active = try listed(seeded.ana)
        #expect(active.status == 200, "\(active.text)")
        let representatives = active.json["representatives"] as? [[String: Any]] ?? []
        #expect(representatives.map { $0["id"] as? String } == [sul], "\(active.text)")
        #expect(Set(representatives.first?["organization_ids"] as? [String] ?? []) == [acme, beta], "\(active.text)")
        #expect((active.json["organizations"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } == ["Acme", "Beta Sistemas"],
                "\(active.text)")
        let every = try listed(seeded.admin, "?include_inactive=true")
        #expect((every.json["representatives"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } == ["Revenda Norte", "Revenda Sul"],
                "\(every.text)")
        #expect(try gateway.request("GET", "/v1/organizations/missing/representatives", bearer: seeded.admin).status == 404)
        // The organization's own administrator is a customer: refused.
        #expect(try listed(seeded.maria).status == 403)
        #expect(try listed(seeded.maria, "?include_inactive=true").status == 403)

        // A representative's person: read by id, and a body naming `active` alone keeps the rest.
        let person = try gateway.request("POST", "/v1/representatives/\(sul)/contacts", json: [
            "name": "Rui", "email": "rui@sul.example", "phone": "+55 51 5555-0101", "active": true], bearer: seeded.admin)
        #expect(person.status == 201, "\(person.text)")
        let personID = try #require(person.json["id"] as? String)
        let read = try gateway.request("GET", "/v1/representative-contacts/\(personID)", bearer: seeded.ana)
        #expect(read.status == 200 && read.json["email"] as? String == "rui@sul.example", "\(read.text)")
        let deactivated = try gateway.request("POST", "/v1/representative-contacts/\(personID)", json: ["active": false], bearer: seeded.ana)
        #expect(deactivated.status == 200, "\(deactivated.text)")
        #expect(deactivated.json["active"] as? Bool == false && deactivated.json["phone"] as? String == "+55 51 5555-0101"
                    && deactivated.json["name"] as? String == "Rui" && deactivated.json["representative_id"] as? String == sul, "\(deactivated.text)")
        #expect(try gateway.request("GET", "/v1/representative-contacts/\(personID)", bearer: seeded.maria).status == 403)
        #expect(try gateway.request("POST", "/v1/representative-contacts/\(personID)", json: ["active": true], bearer: seeded.maria).status == 403)
        #expect(try gateway.request("GET", "/v1/representative-contacts/missing", bearer: seeded.admin).status == 404)
    }
}
