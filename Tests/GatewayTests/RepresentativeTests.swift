import Foundation
import Storage
import Testing
import TestSupport

/// Representatives (intake's directory: a reseller's or consultant's people who act for several
/// organizations) sign in and see the tickets of the organizations they represent.
@Suite("Representatives sign in", .serialized)
struct RepresentativeTests {
    @Test("a representative's person signs in and sees the represented organizations' tickets only; intake and workflow enforce it; a dropped organization is refused at once by intake",
          arguments: TestEngines.all)
    func representative(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let admin = seeded.admin
        func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        }
        // Two more companies, each with an administrator contact who can sign in.
        func company(_ name: String, taxID: String, email: String) throws -> (id: String, token: String, contact: String) {
            let organization = try gateway.request("POST", "/v1/organizations", json: [
                "name": name, "tax_id": taxID, "kind": "ORGANIZATION_CUSTOMER", "active": true, "plan": "basico"], bearer: admin)
            ok(organization, 201)
            let id = try #require(organization.json["id"] as? String)
            let contact = try gateway.request("POST", "/v1/organizations/\(id)/contacts", json: [
                "name": name + " Admin", "email": email, "authorized": true, "admin": true], bearer: admin)
            ok(contact, 201)
            let contactID = try #require(contact.json["id"] as? String)
            let token = try gateway.createUser(admin: admin, email: email, role: "customer_admin", organization: id, contact: contactID)
            return (id, token, contactID)
        }
        let beta = try company("Beta", taxID: "45321098000117", email: "ti@beta.com.br")
        let gamma = try company("Gama", taxID: "77889966000156", email: "ti@gama.com.br")

        // The representative acts for Acme and Beta; its person gets a sign-in.
        let representative = try gateway.request("POST", "/v1/representatives", json: [
            "name": "Revenda Sul", "email": "contato@revendasul.com.br", "active": true,
            "organization_ids": [seeded.organizationID, beta.id]], bearer: admin)
        ok(representative, 201)
        let representativeID = try #require(representative.json["id"] as? String)
        let person = try gateway.request("POST", "/v1/representatives/\(representativeID)/contacts", json: [
            "name": "Rui", "email": "rui@revendasul.com.br", "active": true], bearer: admin)
        ok(person, 201)
        let personID = try #require(person.json["id"] as? String)
        ok(try gateway.request("GET", "/v1/representatives/\(representativeID)/contacts", bearer: admin))
        ok(try gateway.request("POST", "/v1/users", json: ["email": "rui@revendasul.com.br", "display_name": "Rui", "role": "representative",
                                                         "password": "Us3r-Passw0rd!x"], bearer: admin), 400)
        ok(try gateway.request("POST", "/v1/users", json: ["email": "rui@revendasul.com.br", "display_name": "Rui", "role": "representative",
                                                         "password": "Us3r-Passw0rd!x", "representative_id": representativeID,
                                                         "contact_id": personID], bearer: admin), 201)
        let rui = try gateway.token("rui@revendasul.com.br", "Us3r-Passw0rd!x")
        let me = try gateway.request("GET", "/v1/me", bearer: rui)
        ok(me)
        let principal = me.json["principal"] as? [String: Any] ?? [:]
        #expect(principal["kind"] as? String == "customer" && principal["representative_id"] as? String == representativeID, "\(me.text)")
        #expect(Set(principal["represented_organization_ids"] as? [String] ?? []) == [seeded.organizationID, beta.id], "\(me.text)")

        // A ticket in each company, opened by its own people.
        func open(_ token: String, _ subject: String) throws -> String {
            let opened = try gateway.request("POST", "/v1/tickets", json: [
                "subject": subject, "request": "Detalhes do problema.", "category": "DUVIDA", "priority": "NORMAL",
                "product": "ERP", "module": "Fiscal"], bearer: token)
            ok(opened, 201)
            return try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String)
        }
        let acmeTicket = try open(seeded.maria, "Acme: dúvida fiscal")
        let betaTicket = try open(beta.token, "Beta: dúvida fiscal")
        let gammaTicket = try open(gamma.token, "Gama: dúvida fiscal")

        // Workflow lists the represented organizations' tickets, not the others'.
        var listed: Set<String> = []
        #expect(try waitFor {
            let list = try gateway.request("GET", "/v1/tickets", bearer: rui)
            listed = Set(((list.json["tickets"] as? [[String: Any]]) ?? []).compactMap { $0["ticket_id"] as? String })
            return listed.isSuperset(of: [acmeTicket, betaTicket])
        }, "\(listed)")
        #expect(!listed.contains(gammaTicket))
        // Both parts of the view (intake's and workflow's) for a represented company; 404 for another.
        var view: [String: Any] = [:]
        #expect(try waitFor {
            view = try gateway.request("GET", "/v1/tickets/\(betaTicket)", bearer: rui).json
            return view["workflow"] is [String: Any]
        }, "\(view)")
        #expect((view["intake"] as? [String: Any])?["subject"] as? String == "Beta: dúvida fiscal")
        ok(try gateway.request("GET", "/v1/tickets/\(gammaTicket)", bearer: rui), 404)
        ok(try gateway.request("GET", "/v1/tickets/\(gammaTicket)/moves", bearer: rui), 404)
        // The representative replies for Beta, and opens a ticket for Beta naming Beta's contact
        // (it is recorded as the ticket's representative); not for Gama.
        ok(try gateway.request("POST", "/v1/tickets/\(betaTicket)/replies", json: ["text": "Complementando pela revenda."], bearer: rui), 201)
        ok(try gateway.request("POST", "/v1/tickets/\(gammaTicket)/replies", json: ["text": "x"], bearer: rui), 404)
        let newTicket: [String: Any] = ["subject": "Beta: nota rejeitada", "request": "Aberta pela revenda.", "category": "PROBLEMA",
                                        "priority": "ALTA", "product": "ERP", "module": "Fiscal", "organization_id": beta.id]
        let noContact = try gateway.request("POST", "/v1/tickets", json: newTicket, bearer: rui)
        ok(noContact, 400)
        #expect(noContact.text.contains("contact_id"), "\(noContact.text)")
        var forBeta = newTicket
        forBeta["contact_id"] = beta.contact
        let opened = try gateway.request("POST", "/v1/tickets", json: forBeta, bearer: rui)
        ok(opened, 201)
        let openedTicket = opened.json["ticket"] as? [String: Any] ?? [:]
        #expect((openedTicket["representative"] as? [String: Any])?["id"] as? String == representativeID, "\(opened.text)")
        #expect(openedTicket["origin"] as? String == "representative", "\(opened.text)")
        var forGamma = forBeta
        forGamma["organization_id"] = gamma.id
        ok(try gateway.request("POST", "/v1/tickets", json: forGamma, bearer: rui), 403)

        // The portal's contact picker: Beta's contacts authorized to open tickets, for the
        // representative (a represented organization), staff and Beta's administrator; not Gama's,
        // nor another company's administrator, nor a plain contact of Beta.
        let plain = try gateway.request("POST", "/v1/organizations/\(beta.id)/contacts", json: [
            "name": "Beta Fiscal", "email": "fiscal@beta.com.br", "authorized": true, "admin": false], bearer: admin)
        ok(plain, 201)
        let plainID = try #require(plain.json["id"] as? String)
        ok(try gateway.request("POST", "/v1/organizations/\(beta.id)/contacts", json: [
            "name": "Beta Estagiário", "email": "estagio@beta.com.br", "authorized": false, "admin": false], bearer: admin), 201)
        let contacts = try gateway.request("GET", "/v1/organizations/\(beta.id)/contacts?authorized_only=true", bearer: rui)
        ok(contacts)
        let listedContacts = (contacts.json["contacts"] as? [[String: Any]]) ?? []
        #expect(listedContacts.compactMap { $0["id"] as? String } == [beta.contact, plainID], "\(contacts.text)")
        #expect(try gateway.request("GET", "/v1/organizations/\(beta.id)/contacts", bearer: rui).text.contains("Beta Estagiário"))
        ok(try gateway.request("GET", "/v1/organizations/\(gamma.id)/contacts", bearer: rui), 403)
        ok(try gateway.request("GET", "/v1/organizations/\(beta.id)/contacts", bearer: seeded.ana))
        ok(try gateway.request("GET", "/v1/organizations/\(beta.id)/contacts", bearer: beta.token))
        ok(try gateway.request("GET", "/v1/organizations/\(beta.id)/contacts", bearer: gamma.token), 403)
        let plainToken = try gateway.createUser(admin: admin, email: "fiscal@beta.com.br", role: "customer_contact", organization: beta.id,
                                                contact: plainID)
        ok(try gateway.request("GET", "/v1/organizations/\(beta.id)/contacts", bearer: plainToken), 403)
        // The organization's name for the picker (intake checks it is represented).
        ok(try gateway.request("GET", "/v1/organizations/\(beta.id)", bearer: rui))
        ok(try gateway.request("GET", "/v1/organizations/\(gamma.id)", bearer: rui), 403)

        // Beta drops the representative: intake refuses at once from its own directory, even
        // while the gateway still signs the older list (cached for a short while).
        ok(try gateway.request("POST", "/v1/representatives/\(representativeID)", json: [
            "id": representativeID, "name": "Revenda Sul", "email": "contato@revendasul.com.br", "active": true,
            "organization_ids": [seeded.organizationID]], bearer: admin))
        ok(try gateway.request("GET", "/v1/tickets/\(betaTicket)", bearer: rui), 404)
        ok(try gateway.request("GET", "/v1/tickets/\(acmeTicket)", bearer: rui))
        ok(try gateway.request("GET", "/v1/organizations/\(beta.id)/contacts", bearer: rui), 403)
    }
}
