import Foundation
import Storage
import Testing
import TestSupport

/// Intake's `RepresentativeAccessChanged` reaches every gateway instance: what one instance
/// cached for a representative (ticket views, represented organizations) goes when another
/// instance removes an organization.
@Suite("Representative access changes reach every gateway instance", .serialized)
struct RepresentativeEventTests {
    @Test("an organization removed from a representative through one gateway: the other stops answering its cached view (TTL 120 s, so only the event explains it), lists and signs the new organizations at once",
          arguments: TestEngines.all)
    func organizationRemoved(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine, gatewayEnvironment: ViewCacheTests.caching)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let admin = seeded.admin
        func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        }
        // Beta, with an administrator contact who can sign in and open a ticket.
        let organization = try gateway.request("POST", "/v1/organizations", json: [
            "name": "Beta", "tax_id": "45321098000117", "kind": "ORGANIZATION_CUSTOMER", "active": true, "plan": "basico"], bearer: admin)
        ok(organization, 201)
        let beta = try #require(organization.json["id"] as? String)
        let contact = try gateway.request("POST", "/v1/organizations/\(beta)/contacts", json: [
            "name": "Beta Admin", "email": "ti@beta.com.br", "authorized": true, "admin": true], bearer: admin)
        ok(contact, 201)
        let betaToken = try gateway.createUser(admin: admin, email: "ti@beta.com.br", role: "customer_admin", organization: beta,
                                               contact: try #require(contact.json["id"] as? String))
        // The representative acts for Acme and Beta; its person Rui signs in.
        let representative = try gateway.request("POST", "/v1/representatives", json: [
            "name": "Revenda Sul", "email": "contato@revendasul.com.br", "active": true,
            "organization_ids": [seeded.organizationID, beta]], bearer: admin)
        ok(representative, 201)
        let representativeID = try #require(representative.json["id"] as? String)
        let person = try gateway.request("POST", "/v1/representatives/\(representativeID)/contacts", json: [
            "name": "Rui", "email": "rui@revendasul.com.br", "active": true], bearer: admin)
        ok(person, 201)
        ok(try gateway.request("POST", "/v1/users", json: ["email": "rui@revendasul.com.br", "display_name": "Rui", "role": "representative",
                                                         "password": "Us3r-Passw0rd!x", "representative_id": representativeID,
                                                         "contact_id": try #require(person.json["id"] as? String)], bearer: admin), 201)
        let rui = try gateway.token("rui@revendasul.com.br", "Us3r-Passw0rd!x")
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Beta: dúvida fiscal", "request": "Detalhes do problema.", "category": "DUVIDA", "priority": "NORMAL",
            "product": "ERP", "module": "Fiscal"], bearer: betaToken)
        ok(opened, 201)
        let betaTicket = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String)

        // The second instance lists Beta's ticket for Rui and caches its view (a hit proves it).
        let second = try ViewCacheTests.SecondGateway(like: gateway)
        #expect(try waitFor {
            try second.request("GET", "/metrics", bearer: admin).text.contains("ocorrencias_view_cache_usable 1")
        })
        #expect(try waitFor {
            let list = try second.request("GET", "/v1/tickets", bearer: rui)
            return ((list.json["tickets"] as? [[String: Any]]) ?? []).contains { $0["ticket_id"] as? String == betaTicket }
        })
        func hits() throws -> Double {
            ViewCacheTests.counter(try second.request("GET", "/metrics", bearer: admin).text, "ocorrencias_view_cache_total", ["kind=\"hit\""])
        }
        #expect(try waitFor(60) {
            let before = try hits()
            let view = try second.request("GET", "/v1/tickets/\(betaTicket)", bearer: rui)
            let after = try hits()
            return view.status == 200 && view.json["workflow"] is [String: Any] && after > before
        }, "the second gateway never answered Rui's view from its cache")
        ok(try second.request("GET", "/v1/tickets/\(betaTicket)", bearer: rui))

        // Through the first gateway, Beta drops the representative.
        ok(try gateway.request("POST", "/v1/representatives/\(representativeID)", json: [
            "id": representativeID, "name": "Revenda Sul", "email": "contato@revendasul.com.br", "active": true,
            "organization_ids": [seeded.organizationID]], bearer: admin))
        // The second refuses the view promptly (its entry would live 120 s), no longer lists the
        // ticket and signs only Acme (its list of organizations would live 30 s).
        var status = 0
        #expect(try waitFor(15) {
            status = try second.request("GET", "/v1/tickets/\(betaTicket)", bearer: rui).status
            return status == 404
        }, "still \(status)")
        let list = try second.request("GET", "/v1/tickets", bearer: rui)
        ok(list)
        #expect(!((list.json["tickets"] as? [[String: Any]]) ?? []).contains { $0["ticket_id"] as? String == betaTicket }, "\(list.text)")
        let me = try second.request("GET", "/v1/me", bearer: rui)
        #expect(((me.json["principal"] as? [String: Any])?["represented_organization_ids"] as? [String]) == [seeded.organizationID], "\(me.text)")
        // The first instance, which made the change, too.
        ok(try gateway.request("GET", "/v1/tickets/\(betaTicket)", bearer: rui), 404)
        let mine = try gateway.request("GET", "/v1/me", bearer: rui)
        #expect(((mine.json["principal"] as? [String: Any])?["represented_organization_ids"] as? [String]) == [seeded.organizationID], "\(mine.text)")
    }
}
