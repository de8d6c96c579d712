import Foundation
import Storage
import Testing
import TestSupport

/// `GET /v1/organizations`: the customer directory, listed and paged for staff (intake's
/// `ListOrganizations`), refused to customers.
@Suite("The customer directory listed through the gateway", .serialized)
struct OrganizationListRouteTests {
    @Test("staff list organizations by name, filtered by name prefix (accents ignored), kind and activity, a page at a time; a customer is refused", arguments: TestEngines.all)
    func listsOrganizations(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        for (name, taxID, kind, active) in [("Ácido Lático Ltda", "11444777000161", "ORGANIZATION_PROSPECT", true),
                                            ("Acme Filial Sul", "45723174000110", "ORGANIZATION_CUSTOMER", false),
                                            ("Beta Sistemas", "04252011000110", "ORGANIZATION_CUSTOMER", true)] {
            let created = try gateway.request("POST", "/v1/organizations", json: ["name": name, "tax_id": taxID, "kind": kind, "active": active],
                                              bearer: seeded.admin)
            #expect(created.status == 201, "\(created.text)")
            // A new organization is active; it is deactivated by an update.
            if !active, let id = created.json["id"] as? String {
                #expect(try gateway.request("POST", "/v1/organizations/\(id)", json: ["active": false], bearer: seeded.admin).status == 200)
            }
        }
        func names(_ query: String) throws -> (names: [String], next: String) {
            let listed = try gateway.request("GET", "/v1/organizations" + query, bearer: seeded.admin)
            #expect(listed.status == 200, "\(listed.text)")
            let organizations = listed.json["organizations"] as? [[String: Any]] ?? []
            return (organizations.compactMap { $0["name"] as? String }, listed.json["next_page_token"] as? String ?? "")
        }
        // Active ones in name order (accents ignored: Ácido sorts among the A's).
        #expect(try names("").names == ["Ácido Lático Ltda", "Acme", "Beta Sistemas"])
        #expect(try names("?include_inactive=true").names == ["Ácido Lático Ltda", "Acme", "Acme Filial Sul", "Beta Sistemas"])
        #expect(try names("?name_prefix=ac&include_inactive=true").names == ["Ácido Lático Ltda", "Acme", "Acme Filial Sul"])
        #expect(try names("?kind=ORGANIZATION_PROSPECT").names == ["Ácido Lático Ltda"])
        // Pages of two: the token leads to the rest, and the last page has none.
        let first = try names("?page_size=2&include_inactive=true")
        #expect(first.names == ["Ácido Lático Ltda", "Acme"] && !first.next.isEmpty)
        let second = try names("?page_size=2&include_inactive=true&page_token=\(first.next)")
        #expect(second.names == ["Acme Filial Sul", "Beta Sistemas"])
        // Bad input names the field; a customer does not see the directory.
        let bad = try gateway.request("GET", "/v1/organizations?kind=FORNECEDOR", bearer: seeded.admin)
        #expect(bad.status == 400, "\(bad.text)")
        #expect(bad.text.contains("kind"), "\(bad.text)")
        #expect(try gateway.request("GET", "/v1/organizations", bearer: seeded.maria).status == 403)
        #expect(try gateway.request("GET", "/v1/organizations").status == 401)
    }
}
