import Foundation
@testable import GatewayCore
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// A `customer_admin` sign-in is its company's administrator only while its intake contact has
/// the `admin` flag: support takes the flag away in intake, and the sign-in becomes a plain
/// customer everywhere (the gateway's user management and invitations, intake's contacts, the
/// cancellation of a colleague's ticket, what `/v1/me` shows); the flag given back restores it.
/// (Before 2026-12-02 the gateway and intake's listing and cancel rule trusted the stored role.)
@Suite("Company administrators follow their contact's admin flag", .serialized)
struct CompanyAdministratorFlagTests {
    /// Sets the `admin` flag of `contactID` straight through intake's port: the gateway hears of it
    /// only by intake's `DirectoryChanged`.
    static func setAdmin(_ gateway: GatewayHarness, _ contactID: String, _ admin: Bool) throws {
        let intake = gateway.intakeAsAdministrator()
        defer { intake.client.close() }
        var get = IntakeV1.GetContactRequest()
        get.contactID = contactID
        var contact = try intake.client.call(IntakeV1.Intake.getContact, get, options: intake.options)
        contact.admin = admin
        #expect(try intake.client.call(IntakeV1.Intake.updateContact, contact, options: intake.options).admin == admin)
    }

    @Test("support takes Maria's admin flag in intake: within seconds (the event; answers are otherwise kept 10 minutes here) listing, disabling and enabling the company's sign-ins, inviting an existing contact, resending an invitation and the company's contact routes are 403 NOT_COMPANY_ADMINISTRATOR (bilingual), cancelling João's ticket, opening for him and accepting his proposed solution (workflow) 403, /v1/me shows customer_contact without organization_admin; nothing changed; the flag back, every right is hers again; a customer_admin key is never signed organization_admin",
          arguments: TestEngines.all)
    func theFlagDecides(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine, gatewayEnvironment: ["GATEWAY_ACCESS_RECHECK_MS": "600000"])
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let (admin, maria, acme) = (seeded.admin, seeded.maria, seeded.organizationID)
        func me(_ bearer: String) throws -> (user: [String: Any], principal: [String: Any]) {
            let answer = try gateway.request("GET", "/v1/me", bearer: bearer)
            setup.ok(answer)
            return (answer.json["user"] as? [String: Any] ?? [:], answer.json["principal"] as? [String: Any] ?? [:])
        }
        let mariaContact = try #require(try me(maria).principal["id"] as? String)
        func addContact(_ name: String, _ email: String) throws -> String {
            let added = try gateway.request("POST", "/v1/organizations/\(acme)/contacts", json: ["name": name, "email": email, "authorized": true],
                                            bearer: admin)
            setup.ok(added, 201)
            return try #require(added.json["id"] as? String, "\(added.text)")
        }
        func userID(_ email: String) throws -> String {
            let users = try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? []
            return try #require(users.first { $0["email"] as? String == email }?["id"] as? String)
        }
        // João: a plain contact who signs in; Rita: invited by Maria, not yet in; Rui: a contact
        // without a sign-in.
        let joaoContact = try addContact("João", "joao@acme.com.br")
        let joao = try gateway.createUser(admin: admin, email: "joao@acme.com.br", role: "customer_contact", organization: acme, contact: joaoContact)
        let joaoUser = try userID("joao@acme.com.br")
        let ritaContact = try addContact("Rita", "rita@acme.com.br")
        setup.ok(try gateway.request("POST", "/v1/invitations", json: ["email": "rita@acme.com.br", "display_name": "Rita", "contact_id": ritaContact],
                                     bearer: maria), 201)
        let ritaUser = try userID("rita@acme.com.br")
        let ruiContact = try addContact("Rui", "rui@acme.com.br")
        func open(_ subject: String, for contact: String? = nil, as bearer: String) throws -> GatewayHarness.Response {
            var body: [String: Any] = ["subject": subject, "request": "A rotina devolve erro 539.", "category": "PROBLEMA", "priority": "NORMAL",
                                       "product": "ERP", "module": "Fiscal", "organization_id": acme]
            if let contact { body["contact_id"] = contact }
            return try gateway.request("POST", "/v1/tickets", json: body, bearer: bearer)
        }
        func ticketID(_ response: GatewayHarness.Response) throws -> String {
            setup.ok(response, 201)
            return try #require((response.json["ticket"] as? [String: Any])?["id"] as? String, "\(response.text)")
        }
        let joaosTicket = try ticketID(try open("Nota fiscal rejeitada", as: joao))
        // Another of João's, whose solution Ana told him (workflow awaits his company's answer).
        let solved = try ticketID(try open("Boleto sem registro", as: joao))
        #expect(try waitFor { try gateway.request("POST", "/v1/tickets/\(solved)/take", bearer: seeded.ana, conform: false).status == 200 })
        setup.ok(try gateway.request("POST", "/v1/tickets/\(solved)/solution", json: ["text": "Registro reenviado ao banco."], bearer: seeded.ana))
        setup.ok(try gateway.request("POST", "/v1/tickets/\(solved)/status", json: ["status": "cliente_informado"], bearer: seeded.ana))
        func answer() throws -> GatewayHarness.Response {
            try gateway.request("POST", "/v1/tickets/\(solved)/solution/answer", json: ["accept": true], bearer: maria)
        }
        func cancel(_ ticket: String) throws -> GatewayHarness.Response {
            try gateway.request("POST", "/v1/tickets/\(ticket)/cancel", json: ["reason": "Resolvido internamente"], bearer: maria)
        }

        // Every company-administrator right of Maria's, as (what, answer).
        func rights() throws -> [(String, GatewayHarness.Response)] {
            [("list sign-ins", try gateway.request("GET", "/v1/users", bearer: maria)),
             ("disable", try gateway.request("POST", "/v1/users/\(joaoUser)/disable", bearer: maria)),
             ("enable", try gateway.request("POST", "/v1/users/\(joaoUser)/enable", bearer: maria)),
             ("resend", try gateway.request("POST", "/v1/users/\(ritaUser)/resend-invitation", bearer: maria)),
             ("list contacts", try gateway.request("GET", "/v1/organizations/\(acme)/contacts", bearer: maria)),
             ("read contact", try gateway.request("GET", "/v1/contacts/\(joaoContact)", bearer: maria)),
             ("change contact", try gateway.request("POST", "/v1/contacts/\(joaoContact)", json: ["phone": "+55 11 4444-0000"], bearer: maria))]
        }
        setup.ok(try gateway.request("GET", "/v1/users", bearer: maria))
        #expect(try me(maria).user["role"] as? String == "customer_admin")

        // Support takes the flag away, in intake only.
        try Self.setAdmin(gateway, mariaContact, false)
        #expect(try waitFor(10) { try gateway.request("GET", "/v1/users", bearer: maria).errorCode == "NOT_COMPANY_ADMINISTRATOR" })
        for (what, refused) in try rights() + [
            ("invite", try gateway.request("POST", "/v1/invitations", json: ["email": "rui@acme.com.br", "display_name": "Rui", "contact_id": ruiContact],
                                           bearer: maria)),
            ("add contact", try gateway.request("POST", "/v1/organizations/\(acme)/contacts", json: ["name": "Lia", "email": "lia@acme.com.br"], bearer: maria)),
            ("deactivate contact", try gateway.request("POST", "/v1/contacts/\(joaoContact)/active", json: ["active": false], bearer: maria)),
            ("delete contact", try gateway.request("DELETE", "/v1/contacts/\(ruiContact)", bearer: maria)),
        ] {
            #expect(refused.status == 403 && refused.errorCode == "NOT_COMPANY_ADMINISTRATOR", "\(what): \(refused.text)")
            let error = refused.json["error"] as? [String: Any] ?? [:]
            #expect((error["message"] as? String)?.contains("não é mais administrador da sua empresa") == true
                    && (error["message_en"] as? String)?.contains("no longer your company's administrator") == true, "\(what): \(refused.text)")
        }
        // Intake's rules, as for any plain contact: João's ticket is not hers to cancel, nor to open for him.
        let refusedCancel = try cancel(joaosTicket)
        #expect(refusedCancel.status == 403 && refusedCancel.errorCode == "PERMISSION_DENIED", "\(refusedCancel.text)")
        let refusedOpen = try open("Para o João", for: joaoContact, as: maria)
        #expect(refusedOpen.status == 403, "\(refusedOpen.text)")
        // Workflow's, which takes the signed principal: João's proposed solution is not hers to accept.
        let refusedAnswer = try answer()
        #expect(refusedAnswer.status == 403 && refusedAnswer.errorCode == "PERMISSION_DENIED", "\(refusedAnswer.text)")
        // What she is now, as /v1/me says; she still reads the company's tickets and opens her own.
        let (user, principal) = try me(maria)
        #expect(user["role"] as? String == "customer_contact" && user["company_administrator_withdrawn"] as? Bool == true, "\(user)")
        #expect(principal["organization_admin"] as? Bool == false, "\(principal)")
        #expect((principal["permissions"] as? [String])?.contains("contacts.invite") == false, "\(principal)")
        setup.ok(try gateway.request("GET", "/v1/tickets/\(joaosTicket)", bearer: maria))
        _ = try ticketID(try open("Meu pedido", as: maria))
        // Nothing changed: João still signs in, his ticket is open, Rui has no sign-in, Rita's link stands.
        #expect(try me(joao).user["status"] as? String == "active")
        #expect((try gateway.request("GET", "/v1/tickets/\(joaosTicket)", bearer: admin).json["intake"] as? [String: Any])?["status"] as? String == "open")
        #expect(try (gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? [])
            .allSatisfy { $0["email"] as? String != "rui@acme.com.br" })

        // The flag back: every right is hers again, with the same session.
        try Self.setAdmin(gateway, mariaContact, true)
        #expect(try waitFor(10) { try gateway.request("GET", "/v1/users", bearer: maria).status == 200 })
        for (what, allowed) in try rights() { #expect((200..<300).contains(allowed.status), "\(what): \(allowed.text)") }
        setup.ok(try gateway.request("POST", "/v1/invitations", json: ["email": "rui@acme.com.br", "display_name": "Rui", "contact_id": ruiContact],
                                     bearer: maria), 201)
        setup.ok(try cancel(joaosTicket))
        _ = try ticketID(try open("Para o João", for: joaoContact, as: maria))
        setup.ok(try answer())
        let restored = try me(maria)
        #expect(restored.user["role"] as? String == "customer_admin" && restored.user["company_administrator_withdrawn"] == nil, "\(restored.user)")
        #expect(restored.principal["organization_admin"] as? Bool == true)

        // A key made with the company administrator's role names no contact: never signed its administrator.
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "erp", "role": "customer_admin", "organization_id": acme], bearer: admin)
        setup.ok(created, 201)
        let key = try #require(created.json["key"] as? String)
        #expect(try me(key).principal["organization_admin"] as? Bool == false)
        #expect(try gateway.request("GET", "/v1/organizations/\(acme)/contacts", bearer: key).status == 403)
    }

    @Test("in the browser: without the flag Maria has no Contatos da empresa link, Minha conta says Contato do cliente and why, João's ticket offers her no cancel; the flag back, all three again")
    func inBrowser() throws {
        try PortalBrowser.requireChromium()
        let setup = try SeededDeployment(engine: .sqlite)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let mariaContact = try #require((try gateway.request("GET", "/v1/me", bearer: seeded.maria).json["principal"] as? [String: Any])?["id"] as? String)
        let added = try gateway.request("POST", "/v1/organizations/\(seeded.organizationID)/contacts",
                                        json: ["name": "João", "email": "joao@acme.com.br", "authorized": true], bearer: seeded.admin)
        setup.ok(added, 201)
        let joao = try gateway.createUser(admin: seeded.admin, email: "joao@acme.com.br", role: "customer_contact", organization: seeded.organizationID,
                                          contact: try #require(added.json["id"] as? String))
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Boleto sem registro", "request": "O banco recusa o boleto.", "category": "PROBLEMA", "priority": "NORMAL",
            "product": "ERP", "module": "Financeiro", "organization_id": seeded.organizationID], bearer: joao)
        setup.ok(opened, 201)
        let ticket = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String)
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: seeded.ana).text.contains(ticket) })
        func page(_ state: String) throws {
            let result = try PortalBrowser.run("withdrawn_administrator.py", gateway, [state, ticket],
                                               environment: ["PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)"])
            #expect(result.status == 0 && result.output.hasPrefix("OK"), Comment(rawValue: state + ": " + result.output + "\n" + result.error))
        }
        try Self.setAdmin(gateway, mariaContact, false)
        #expect(try waitFor(10) { try gateway.request("GET", "/v1/users", bearer: seeded.maria).errorCode == "NOT_COMPANY_ADMINISTRATOR" })
        try page("withdrawn")
        try Self.setAdmin(gateway, mariaContact, true)
        #expect(try waitFor(10) { try gateway.request("GET", "/v1/users", bearer: seeded.maria).status == 200 })
        try page("restored")
    }

    @Test("intake's DirectoryChanged drops a contact's answer at once (and an organization's), whatever the entry: the next request asks intake again")
    func directoryChangedDropsTheAnswer() throws {
        let directory = ActiveStates(lifetimeMilliseconds: 600_000)
        let representatives = RepresentativeDirectory(lifetimeSeconds: 600)
        var asked: [String] = []
        let lookup: (String) throws -> Bool = { asked.append($0); return true }
        let admin = CompanyAdministratorAccess.key(contactID: "C-maria")
        directory.note(admin, active: true)
        directory.note("O-acme", active: true)
        func event(_ type: String, key: String, source: String = "intake") -> EventsV1.EventEnvelope {
            var envelope = EventsV1.EventEnvelope()
            (envelope.type, envelope.key, envelope.source) = (type, key, source)
            return envelope
        }
        // Other events and other entries leave both answers.
        for other in [event(IntakeV1.TicketOpened.protoName, key: "C-maria"), event(IntakeV1.DirectoryChanged.protoName, key: "C-joao"),
                      event(IntakeV1.DirectoryChanged.protoName, key: "C-maria", source: "workflow")] {
            Gateway.forgetDirectoryEntries(other, representatives: representatives, directory: directory)
        }
        #expect(try directory.isActive(admin, lookup: lookup) && directory.isActive("O-acme", lookup: lookup) && asked.isEmpty)
        Gateway.forgetDirectoryEntries(event(IntakeV1.DirectoryChanged.protoName, key: "C-maria"), representatives: representatives, directory: directory)
        #expect(try directory.isActive(admin, lookup: lookup) && asked == [admin])
        #expect(try directory.isActive("O-acme", lookup: lookup) && asked == [admin], "another entry's answer stays")
        Gateway.forgetDirectoryEntries(event(IntakeV1.DirectoryChanged.protoName, key: "O-acme"), representatives: representatives, directory: directory)
        #expect(try directory.isActive("O-acme", lookup: lookup) && asked == [admin, "O-acme"])
    }

    @Test("intake unreachable: a customer_admin sign-in with nothing known of its contact is refused (503 COMPANY_ADMINISTRATOR_UNVERIFIED, bilingual, Retry-After: fail closed), one known uses that answer; other sign-ins are not asked")
    func failsClosed() throws {
        let directory = try TemporaryDirectory(prefix: "gateway-admin-flag")
        let environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": "gateway-admin-flag-\(UUID().uuidString)",
                           // Nobody listens at port 9.
                           "INTAKE_ADDRESSES": "127.0.0.1:9", "GATEWAY_ACCESS_RECHECK_MS": "600000"]
        let configuration = try ServiceConfiguration(serviceName: "gateway", arguments: ["test"], environment: environment)
        let database = try openDatabase(.fromEnvironment(service: "gateway", dataDirectory: directory.path, environment: environment),
                                        migrations: GatewayService.migrations)
        defer { database.close() }
        let runtime = ServiceRuntime(configuration: configuration, logger: Logger(service: "gateway", level: .critical), database: database,
                                     secret: DeploymentSecret(bytes: Array(environment["OCORRENCIAS_SECRET"]!.utf8)))
        let gateway = Gateway(runtime: runtime, configuration: try GatewayConfiguration(environment: environment))
        func user(_ role: Role, contact: String) -> User {
            User(id: "U-\(contact)", email: "\(contact)@acme.example", displayName: contact, role: role, contactID: contact, agentID: nil,
                 organizationID: "O-acme", representativeID: nil, accessLevel: 0, status: "active", locale: "pt-BR")
        }
        let refusal = #expect(throws: APIError.self) { try CompanyAdministratorAccess.holds(user(.customerAdmin, contact: "C-maria"), gateway: gateway) }
        #expect(refusal?.status == 503 && refusal?.code == "COMPANY_ADMINISTRATOR_UNVERIFIED", "\(String(describing: refusal))")
        #expect(refusal?.messagePT.contains("Não foi possível confirmar") == true && refusal?.messageEN.contains("cannot be checked") == true)
        #expect(refusal?.headers.contains { $0.0 == "Retry-After" } == true)
        gateway.directoryStates.note(CompanyAdministratorAccess.key(contactID: "C-maria"), active: true)
        #expect(try CompanyAdministratorAccess.holds(user(.customerAdmin, contact: "C-maria"), gateway: gateway))
        gateway.directoryStates.note(CompanyAdministratorAccess.key(contactID: "C-maria"), active: false)
        #expect(try !CompanyAdministratorAccess.holds(user(.customerAdmin, contact: "C-maria"), gateway: gateway))
        #expect(try !CompanyAdministratorAccess.holds(user(.customerContact, contact: "C-joao"), gateway: gateway))
    }
}
