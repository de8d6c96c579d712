import Foundation
import Storage
import Testing
import TestSupport

/// The staff's customer directory in the portal (`#/clientes`, customers.js) and the queue
/// narrowed to one organization (`GET /v1/tickets?organization_id=`), which its pages link to.
@Suite("The customers page in a real headless browser, and the queue by organization", .serialized)
struct CustomersPageTests {
    /// A ticket registered by the administrator for `organization`'s `contact`: its code.
    static func registerTicket(_ gateway: GatewayHarness, admin: String, organization: String, contact: String, subject: String) throws -> (id: String, code: String) {
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": subject, "request": "Registrado por telefone.", "category": "DUVIDA", "priority": "NORMAL",
            "product": "ERP", "organization_id": organization, "contact_id": contact, "channel": "phone"], bearer: admin)
        #expect(opened.status == 201, "\(opened.text)")
        let ticket = try #require(opened.json["ticket"] as? [String: Any], "\(opened.text)")
        return (try #require(ticket["id"] as? String), try #require(ticket["code"] as? String))
    }

    /// A second customer company with an authorized contact: (organization id, contact id).
    static func otherOrganization(_ gateway: GatewayHarness, admin: String) throws -> (String, String) {
        let organization = try gateway.request("POST", "/v1/organizations", json: [
            "name": "Beta Sistemas", "tax_id": "45723174000110", "kind": "ORGANIZATION_CUSTOMER", "active": true], bearer: admin)
        #expect(organization.status == 201, "\(organization.text)")
        let id = try #require(organization.json["id"] as? String)
        let contact = try gateway.request("POST", "/v1/organizations/\(id)/contacts", json: [
            "name": "Paulo", "email": "paulo@beta.example", "authorized": true], bearer: admin)
        #expect(contact.status == 201, "\(contact.text)")
        return (id, try #require(contact.json["id"] as? String))
    }

    @Test("an administrator pages through 51 organizations, finds Acme by name and CNPJ, creates an organization with a CNPJ (a wrong one refused beside its field), adds two contacts, changes its plan keeping every other field, changes and deactivates a contact, invites the other, deactivates the organization, is refused deleting a contact a ticket names, and opens Acme's tickets in the queue; an agent reads and edits without sign-ins; a customer gets no page")
    func administratorManagesCustomers() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let acmeTicket = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Pedido da Acme")
        let acmeCode = try #require(try gateway.request("GET", "/v1/tickets/\(acmeTicket)", bearer: seeded.admin)
            .json["intake"].flatMap { ($0 as? [String: Any])?["code"] as? String })
        let (beta, paulo) = try Self.otherOrganization(gateway, admin: seeded.admin)
        let betaTicket = try Self.registerTicket(gateway, admin: seeded.admin, organization: beta, contact: paulo, subject: "Pedido da Beta")
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?page_size=50", bearer: seeded.admin).text.contains(betaTicket.id) })
        // 51 organizations: the list's second page of 50 holds the last prospect.
        for number in 1...49 {
            let prospect = try gateway.request("POST", "/v1/organizations", json: [
                "name": String(format: "Prospect %02d", number), "kind": "ORGANIZATION_PROSPECT", "active": true], bearer: seeded.admin)
            #expect(prospect.status == 201, "\(prospect.text)")
        }

        let result = try PortalBrowser.run("customers_page.py", gateway, [acmeCode, betaTicket.code], environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)",
            "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))

        // What the page did is stored: the organization whole after the plan's change and its
        // deactivation (the refused CNPJ stored nothing), its two contacts as left, Carla's sign-in invited as the company's
        // administrator, and Maria (named by a ticket) still there.
        let id = PortalBrowser.value(result.output)
        let organization = try gateway.request("GET", "/v1/organizations/\(id)", bearer: seeded.admin).json
        #expect(organization["name"] as? String == "Padaria Pão Quente Ltda" && organization["tax_id"] as? String == "04252011000110", "\(organization)")
        #expect(organization["plan"] as? String == "premium" && organization["plan_includes"] as? String == "Suporte em horário comercial e uma visita por mês",
                "\(organization)")
        #expect(organization["email"] as? String == "financeiro@paoquente.com.br" && organization["account_owner_agent_id"] as? String == "A-ana",
                "\(organization)")
        #expect(organization["kind"] as? String == "ORGANIZATION_CUSTOMER" && organization["active"] as? Bool == false, "\(organization)")
        let everyOne = try #require(try gateway.request("GET", "/v1/organizations?include_inactive=true", bearer: seeded.admin)
            .json["organizations"] as? [[String: Any]])
        #expect(everyOne.map { $0["name"] as? String ?? "?" }.filter { !$0.hasPrefix("Prospect") }.sorted() == ["Acme", "Beta Sistemas", "Padaria Pão Quente Ltda"],
                "\(everyOne)")
        let contacts = try #require(try gateway.request("GET", "/v1/organizations/\(id)/contacts?include_inactive=true", bearer: seeded.admin)
            .json["contacts"] as? [[String: Any]])
        let carla = try #require(contacts.first { $0["email"] as? String == "carla@paoquente.com.br" }, "\(contacts)")
        let bruno = try #require(contacts.first { $0["email"] as? String == "bruno@paoquente.com.br" }, "\(contacts)")
        #expect(contacts.count == 2)
        #expect(carla["active"] as? Bool == true && carla["authorized"] as? Bool == true && carla["admin"] as? Bool == true, "\(carla)")
        #expect(bruno["active"] as? Bool == false && bruno["authorized"] as? Bool == true && bruno["phone"] as? String == "+55 11 2222-0000", "\(bruno)")
        let users = try #require(try gateway.request("GET", "/v1/users", bearer: seeded.admin).json["users"] as? [[String: Any]])
        let invited = try #require(users.first { $0["email"] as? String == "carla@paoquente.com.br" }, "\(users)")
        #expect(invited["status"] as? String == "invited" && invited["role"] as? String == "customer_admin", "\(invited)")
        #expect(invited["contact_id"] as? String == carla["id"] as? String && invited["organization_id"] as? String == id, "\(invited)")
        let acmeContacts = try gateway.request("GET", "/v1/organizations/\(seeded.organizationID)/contacts?include_inactive=true", bearer: seeded.admin)
        #expect(acmeContacts.text.contains("maria@acme.com.br"))
        // The directory is the staff's: a customer reads neither the list nor another organization.
        #expect(try gateway.request("GET", "/v1/organizations", bearer: seeded.maria).status == 403)
        #expect(try gateway.request("GET", "/v1/organizations/\(id)", bearer: seeded.maria).status == 403)
        #expect(try gateway.request("GET", "/v1/customers?q=Padaria", bearer: seeded.maria).status == 403)
    }

    @Test("on Acme's page an administrator creates a representative (a bad e-mail refused beside its field), links an existing one found by name, sees its other organization, deactivates the first, unlinks the second and links it again by id, and on the representative's page adds a person, changes their phone and deactivates them; an agent sees the section")
    func administratorManagesRepresentatives() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let (beta, _) = try Self.otherOrganization(gateway, admin: seeded.admin)
        let norte = try gateway.request("POST", "/v1/representatives", json: [
            "name": "Revenda Norte", "email": "contato@revendanorte.com.br", "active": true, "organization_ids": [beta]], bearer: seeded.admin)
        #expect(norte.status == 201, "\(norte.text)")
        let norteID = try #require(norte.json["id"] as? String)

        let result = try PortalBrowser.run("customers_representatives.py", gateway, [seeded.organizationID, norteID], environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))

        // What the pages did is stored: Revenda Sul inactive, acting for Acme only, with its
        // person as changed; Revenda Norte acting for Beta and Acme again; nothing from the refusal.
        let sulID = PortalBrowser.value(result.output)
        let sul = try gateway.request("GET", "/v1/representatives/\(sulID)", bearer: seeded.admin).json
        #expect(sul["name"] as? String == "Revenda Sul" && sul["email"] as? String == "contato@revendasul.com.br"
                    && sul["phone"] as? String == "+55 51 4000-0000" && sul["active"] as? Bool == false, "\(sul)")
        #expect(sul["organization_ids"] as? [String] == [seeded.organizationID], "\(sul)")
        let norteNow = try gateway.request("GET", "/v1/representatives/\(norteID)", bearer: seeded.admin).json
        #expect(Set(norteNow["organization_ids"] as? [String] ?? []) == [beta, seeded.organizationID] && norteNow["active"] as? Bool == true,
                "\(norteNow)")
        let every = try gateway.request("GET", "/v1/organizations/\(seeded.organizationID)/representatives?include_inactive=true", bearer: seeded.admin)
        #expect((every.json["representatives"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } == ["Revenda Norte", "Revenda Sul"],
                "\(every.text)")
        let people = try #require(try gateway.request("GET", "/v1/representatives/\(sulID)/contacts?include_inactive=true", bearer: seeded.admin)
            .json["contacts"] as? [[String: Any]])
        #expect(people.count == 1, "\(people)")
        #expect(people.first?["name"] as? String == "Rui Lima" && people.first?["email"] as? String == "rui@revendasul.com.br"
                    && people.first?["phone"] as? String == "+55 51 4000-1111" && people.first?["active"] as? Bool == false, "\(people)")
    }

    @Test("the queue narrowed to one organization lists its tickets only, with the other filters; a customer's list ignores it", arguments: TestEngines.all)
    func queueByOrganization(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let acme = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Pedido da Acme")
        let (beta, paulo) = try Self.otherOrganization(gateway, admin: seeded.admin)
        let other = try Self.registerTicket(gateway, admin: seeded.admin, organization: beta, contact: paulo, subject: "Pedido da Beta")
        func listed(_ query: String, _ token: String) throws -> [String] {
            let list = try gateway.request("GET", "/v1/tickets?page_size=50" + query, bearer: token)
            #expect(list.status == 200, "\(list.text)")
            return (list.json["tickets"] as? [[String: Any]] ?? []).compactMap { $0["ticket_id"] as? String }
        }
        #expect(try waitFor { Set(try listed("", seeded.admin)).isSuperset(of: [acme, other.id]) })
        #expect(try listed("&organization_id=\(seeded.organizationID)", seeded.admin) == [acme])
        #expect(try listed("&organization_id=\(beta)", seeded.ana) == [other.id])
        #expect(try listed("&organization_id=\(beta)&category=PROBLEMA", seeded.admin).isEmpty)
        #expect(try listed("&organization_id=\(beta)&category=DUVIDA", seeded.admin) == [other.id])
        // A customer sees her own organization's tickets whatever organization is asked.
        #expect(try listed("&organization_id=\(beta)", seeded.maria) == [acme])
    }
}
