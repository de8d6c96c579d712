import Foundation
import Testing
import TestSupport

/// The deployment the authorization matrix runs against: two companies, their people, A's
/// ticket and the staff-side objects whose ids fill the routes' paths.
extension AuthorizationMatrixTests {
    /// The callers of the matrix.
    struct Callers {
        var admin: String
        /// A's plain contact (bearer) and its portal session (cookie and CSRF token).
        var contactA: String
        var cookieA: GatewayHarness.Session
        /// B's plain contact and B's company administrator.
        var contactB: String
        var adminB: String
        /// A representative's person acting for B only.
        var representativeB: String
        /// An agent at level 0, a chefe at level 1, a read-only integration key (`tickets.read`).
        var agent: String
        var chefe: String
        var key: String
    }

    /// A's objects: what fills the path parameters.
    struct Objects {
        var organizationA = "", contactA = "", userA = "", ticketA = "", attachmentA = "", internalEntry = "", articleInternal = ""
        var webhook = "", version = "", keyID = "", representative = ""
        /// B's organization (for the requests that name A's objects in their body).
        var organizationB = ""
    }

    static func seed(_ gateway: GatewayHarness) throws -> (Callers, Objects) {
        let admin = try gateway.adminToken()
        func made(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any] {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
            return response.json
        }
        var objects = Objects()
        // Workflow's directory: the agent who works A's ticket, a low-level agent, a chefe.
        for (id, level, chefe) in [("A-ana", 1, false), ("A-baixo", 0, false), ("A-chefe", 1, true)] {
            _ = made(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": id, "name": id, "email": "\(id.lowercased())@suporte.example",
                                                                                "max_access_level": level, "active": true, "is_chefe": chefe]],
                                         bearer: admin))
        }
        _ = made(try gateway.request("POST", "/v1/groups", json: ["group": ["id": "n1", "name": "Nível 1", "active": true]], bearer: admin))
        _ = made(try gateway.request("POST", "/v1/groups/n1/members", json: ["agent_id": "A-ana", "member": true], bearer: admin))
        _ = made(try gateway.request("POST", "/v1/routing-rules", json: ["rule": ["id": "default", "position": 100, "group_id": "n1"]], bearer: admin))
        let ana = try gateway.createUser(admin: admin, email: "ana@suporte.example", role: "agent", agent: "A-ana", accessLevel: 1)
        let agent = try gateway.createUser(admin: admin, email: "baixo@suporte.example", role: "agent", agent: "A-baixo", accessLevel: 0)
        let chefe = try gateway.createUser(admin: admin, email: "chefe@suporte.example", role: "chefe", agent: "A-chefe", accessLevel: 1)

        // Intake's directory: A with a contact and a company administrator; B likewise.
        objects.organizationA = try #require(made(try gateway.request("POST", "/v1/organizations", json: [
            "name": "Alfa Segredos Ltda", "tax_id": "11222333000181", "kind": "ORGANIZATION_CUSTOMER", "active": true], bearer: admin), 201)["id"] as? String)
        let contactA = made(try gateway.request("POST", "/v1/organizations/\(objects.organizationA)/contacts", json: [
            "name": "Contato Alfa", "email": "contato.alfa@alfa.example", "authorized": true], bearer: admin), 201)
        objects.contactA = try #require(contactA["id"] as? String)
        let managerA = made(try gateway.request("POST", "/v1/organizations/\(objects.organizationA)/contacts", json: [
            "name": "Gestora Alfa", "email": "gestora.alfa@alfa.example", "authorized": true, "admin": true], bearer: admin), 201)
        let contactAToken = try gateway.createUser(admin: admin, email: "contato.alfa@alfa.example", role: "customer_contact",
                                                   organization: objects.organizationA, contact: objects.contactA)
        try gateway.createUser(admin: admin, email: "gestora.alfa@alfa.example", role: "customer_admin", organization: objects.organizationA,
                               contact: try #require(managerA["id"] as? String))
        let users = try #require(try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]])
        objects.userA = try #require(users.first { $0["email"] as? String == "contato.alfa@alfa.example" }?["id"] as? String)
        let (adminB, organizationB) = try gateway.createOutsider(admin: admin, email: "gestor@beta.example", role: "customer_admin")
        let contactB = try gateway.createOutsider(admin: admin, email: "contato@beta.example", organization: organizationB).token
        objects.organizationB = organizationB
        let representativeB = try #require(made(try gateway.request("POST", "/v1/representatives", json: [
            "name": "Revenda da Beta", "email": "contato@revenda-beta.example", "active": true, "organization_ids": [organizationB]],
            bearer: admin), 201)["id"] as? String)
        let personB = try #require(made(try gateway.request("POST", "/v1/representatives/\(representativeB)/contacts", json: [
            "name": "Rui", "email": "rui@revenda-beta.example", "active": true], bearer: admin), 201)["id"] as? String)
        _ = made(try gateway.request("POST", "/v1/users", json: [
            "email": "rui@revenda-beta.example", "display_name": "Rui", "role": "representative", "password": "Us3r-Passw0rd!x",
            "representative_id": representativeB, "contact_id": personB], bearer: admin), 201)
        objects.representative = try #require(made(try gateway.request("POST", "/v1/representatives", json: [
            "name": "Revenda da Alfa", "email": "solicitante.alfa@revenda.example", "active": true, "organization_ids": [objects.organizationA]],
            bearer: admin), 201)["id"] as? String)

        // A's ticket: an attachment, the customer's reply, internal and public discussion.
        let upload = made(try gateway.request("POST", "/v1/attachments?file_name=segredo.txt", body: Data("anexo-secreto-alfa\n".utf8),
                                              headers: ["Content-Type": "text/plain"], bearer: contactAToken), 201)
        objects.attachmentA = try #require(upload["id"] as? String)
        let opened = made(try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Segredo industrial Alfa", "request": "A fórmula da Alfa não calcula.", "category": "PROBLEMA", "priority": "ALTA",
            "product": "ERP", "module": "Fiscal", "organization_id": objects.organizationA, "attachment_ids": [objects.attachmentA],
            "details": ["system_version": "12.1.2310", "database": "SQL Server", "environment": "cloud", "company_branch": "01/0001",
                        "routine": "FIS001", "affected_users": "all users"]], bearer: contactAToken), 201)
        objects.ticketA = try #require((opened["ticket"] as? [String: Any])?["id"] as? String)
        #expect(try waitFor { try gateway.request("POST", "/v1/tickets/\(objects.ticketA)/take", bearer: ana).status == 200 })
        let entry = made(try gateway.request("POST", "/v1/tickets/\(objects.ticketA)/discussion",
                                             json: ["is_public": false, "text": "nota-interna-alfa"], bearer: ana), 201)
        objects.internalEntry = try #require((entry["entry"] as? [String: Any])?["entry_id"] as? String, "\(entry)")
        _ = made(try gateway.request("POST", "/v1/tickets/\(objects.ticketA)/discussion", json: ["is_public": true, "text": "resposta-publica-alfa"],
                                     bearer: ana), 201)
        _ = made(try gateway.request("POST", "/v1/tickets/\(objects.ticketA)/replies", json: ["text": "replica-alfa"], bearer: contactAToken), 201)

        // Staff-side objects: an internal article, a webhook, a version, a role, a calendar, the key.
        objects.articleInternal = try #require(made(try gateway.request("POST", "/v1/knowledge/articles", json: [
            "kind": "ARTICLE", "title": "Procedimento interno Alfa", "body_markdown": "Somente a equipe.", "product": "ERP", "module": "Fiscal",
            "visibility": "VISIBILITY_AGENTS_ONLY", "state": "PUBLISHED"], bearer: admin), 201)["id"] as? String)
        objects.webhook = try #require((made(try gateway.request("POST", "/v1/webhooks", json: [
            "url": "https://hooks.example/alfa", "event_kinds": ["TicketOpened"]], bearer: admin), 201)["webhook"] as? [String: Any])?["id"] as? String)
        objects.version = try #require(made(try gateway.request("POST", "/v1/versions", json: [
            "version": ["name": "12.1.2599", "target_date_ms": 1_800_000_000_000]], bearer: admin))["id"] as? String)
        _ = made(try gateway.request("POST", "/v1/roles", json: ["role": ["name": "vinculo", "permissions": ["tickets.link_customer"]]], bearer: admin))
        let week = (1...5).map { ["weekday": $0, "intervals": [["start_minute": 480, "end_minute": 1080]]] }
        _ = made(try gateway.request("POST", "/v1/calendars", json: ["calendar": ["id": "cal-alfa", "name": "Alfa", "time_zone": "America/Sao_Paulo",
                                                                                  "weekly": week]], bearer: admin))
        let key = made(try gateway.request("POST", "/v1/api-keys", json: ["name": "leitura", "role": "agent", "access_level": 1,
                                                                          "permissions": ["tickets.read"]], bearer: admin), 201)
        objects.keyID = try #require((key["api_key"] as? [String: Any])?["id"] as? String)
        // The customer's reply reaches workflow by its event: the discussion has three entries.
        #expect(try waitFor {
            let view = try gateway.request("GET", "/v1/tickets/\(objects.ticketA)", bearer: admin).json
            return ((view["workflow"] as? [String: Any])?["discussion"] as? [Any])?.count == 3
        })
        // A's ticket above the low agent's level: the chefe raises it to 1.
        _ = made(try gateway.request("POST", "/v1/tickets/\(objects.ticketA)/access-level", json: ["access_level": 1, "reason": "confidencial"],
                                     bearer: chefe))
        let callers = Callers(admin: admin, contactA: contactAToken, cookieA: try gateway.login("contato.alfa@alfa.example", "Us3r-Passw0rd!x"),
                              contactB: contactB, adminB: adminB,
                              representativeB: try gateway.token("rui@revenda-beta.example", "Us3r-Passw0rd!x"), agent: agent, chefe: chefe, key: try #require(key["key"] as? String))
        return (callers, objects)
    }

    /// A concrete path for a route template, with A's ids.
    static func path(_ template: String, _ o: Objects) -> String {
        let parts = template.split(separator: "/").map(String.init)
        var out: [String] = []
        for (index, part) in parts.enumerated() {
            guard part.hasPrefix("{") else { out.append(part); continue }
            let owner = parts[..<index].filter { !$0.hasPrefix("{") }.joined(separator: "/")
            let value: String = switch (owner, part) {
            case (_, "{entry}"): o.internalEntry
            case (_, "{file}"): "portal.js"
            case (_, "{draft}"): "D-alfa"
            case (_, "{kind}"): "TicketOpened"
            case (_, "{address}"): "ninguem@alfa.example"
            case (_, "{name}"): "vinculo"
            case ("v1/users", _): o.userA
            case ("v1/api-keys", _): o.keyID
            case ("v1/calendars", _): "cal-alfa"
            case ("v1/tickets", _): o.ticketA
            case ("v1/versions", _): o.version
            case ("v1/attachments", _): o.attachmentA
            case ("v1/knowledge/forum", _), ("v1/knowledge/articles", _): o.articleInternal
            case ("v1/webhooks", _): o.webhook
            case ("v1/organizations", _): o.organizationA
            case ("v1/contacts", _): o.contactA
            case ("v1/representatives", _): o.representative
            case ("v1/agents", _): "A-ana"
            case ("v1/groups", _), ("v1/group-mailboxes", _): "n1"
            case ("v1/routing-rules", _): "default"
            default: "x-\(owner.split(separator: "/").last ?? "")"
            }
            out.append(value)
        }
        return "/" + out.joined(separator: "/")
    }
}
