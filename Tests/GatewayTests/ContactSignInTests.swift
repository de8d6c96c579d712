import Foundation
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// A customer's (or representative's) sign-in follows its intake person whatever path changes
/// it: here intake is changed straight through its RPC port, never through the gateway's route.
@Suite("Sign-ins follow intake's contacts (changed straight through intake's RPC)", .serialized)
struct ContactSignInTests {
    /// Calls the gateway on another port (a second instance).
    static func request(_ port: Int, _ method: String, _ path: String, json: [String: Any]? = nil, bearer: String? = nil) throws -> GatewayHarness.Response {
        var arguments = ["-s", "-i", "-X", method, "--max-time", "20", "-H", "Content-Type: application/json", "--data-binary", "@-"]
        if let bearer { arguments += ["-H", "Authorization: Bearer \(bearer)"] }
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        return try GatewayHarness.curl(arguments + ["http://127.0.0.1:\(port)\(path)"], input: body)
    }

    static func signIn(_ port: Int, _ email: String, _ password: String = "Us3r-Passw0rd!x") throws -> GatewayHarness.Response {
        try request(port, "POST", "/v1/auth/tokens", json: ["email": email, "password": password])
    }

    /// A contact of `organizationID` added through the gateway as the administrator.
    static func addContact(_ gateway: GatewayHarness, _ admin: String, _ organizationID: String, _ fields: [String: Any]) throws -> String {
        let added = try gateway.request("POST", "/v1/organizations/\(organizationID)/contacts", json: fields, bearer: admin)
        #expect(added.status == 201, "\(added.text)")
        return try #require(added.json["id"] as? String)
    }

    static func setActive(_ intake: (client: RPCClient, options: CallOptions), contact: String, _ active: Bool) throws {
        var request = IntakeV1.UpdateContactStatusRequest()
        request.contactID = contact
        request.active = active
        #expect(try intake.client.call(IntakeV1.Intake.setContactActive, request, options: intake.options).active == active)
    }

    static func user(_ gateway: GatewayHarness, _ admin: String, _ email: String) throws -> [String: Any] {
        let users = try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? []
        return try #require(users.first { $0["email"] as? String == email })
    }

    static func field(_ response: GatewayHarness.Response) -> (String?, String?) {
        let detail = ((response.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first
        return (detail?["field"] as? String, detail?["reason"] as? String)
    }

    @Test("a contact deactivated through intake's RPC ends its customer's sessions on every instance within seconds and refuses new sign-ins (403 CONTACT_INACTIVE); reactivated, the customer signs in again; a sign-in an administrator disabled stays disabled; a contact deleted in intake ends its sessions too; with the view cache on or off",
          arguments: [true, false])
    func deactivatedInIntake(viewCache: Bool) throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite, gatewayEnvironment: viewCache ? [:] : ["GATEWAY_VIEW_CACHE_TTL_MS": "0"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let admin = seeded.admin
        let joaoContact = try Self.addContact(gateway, admin, seeded.organizationID, ["name": "João", "email": "joao@acme.com.br", "authorized": true])
        let liaContact = try Self.addContact(gateway, admin, seeded.organizationID, ["name": "Lia", "email": "lia@acme.com.br", "authorized": true])
        let joao = try gateway.createUser(admin: admin, email: "joao@acme.com.br", role: "customer_contact", organization: seeded.organizationID,
                                          contact: joaoContact)
        _ = try gateway.createUser(admin: admin, email: "lia@acme.com.br", role: "customer_contact", organization: seeded.organizationID,
                                   contact: liaContact)
        // Lia is disabled by hand.
        let liaID = try #require(try Self.user(gateway, admin, "lia@acme.com.br")["id"] as? String)
        #expect(try gateway.request("POST", "/v1/users/\(liaID)/disable", bearer: admin).status == 204)

        // A second instance on the same database; João's token works on both.
        let second = try ViewCacheTests.SecondGateway(like: gateway)
        #expect(try Self.request(second.httpPort, "GET", "/v1/tickets?page_size=5", bearer: joao).status == 200)
        #expect(try gateway.request("GET", "/v1/tickets?page_size=5", bearer: joao).status == 200)

        // Deactivated straight in intake: both instances refuse his session within seconds.
        let intake = gateway.intakeAsAdministrator()
        defer { intake.client.close() }
        let started = Date()
        try Self.setActive(intake, contact: joaoContact, false)
        #expect(try waitFor(10) {
            try gateway.request("GET", "/v1/tickets?page_size=5", bearer: joao).status == 401
                && Self.request(second.httpPort, "GET", "/v1/tickets?page_size=5", bearer: joao).status == 401
        })
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 10, "ended after \(elapsed) s")
        for port in [gateway.httpPort, second.httpPort] {
            let refused = try Self.signIn(port, "joao@acme.com.br")
            #expect(refused.status == 403 && refused.errorCode == "CONTACT_INACTIVE", "\(refused.text)")
        }
        let stored = try Self.user(gateway, admin, "joao@acme.com.br")
        #expect(stored["status"] as? String == "disabled" && stored["disabled_by"] as? String == "contact", "\(stored)")

        // Lia's contact deactivated and reactivated: her administrator's disable stays.
        try Self.setActive(intake, contact: liaContact, false)
        try Self.setActive(intake, contact: liaContact, true)
        // João reactivated: his sign-in is enabled again (after Lia's events, in order).
        try Self.setActive(intake, contact: joaoContact, true)
        #expect(try waitFor(10) { try Self.user(gateway, admin, "joao@acme.com.br")["status"] as? String == "active" })
        for port in [gateway.httpPort, second.httpPort] {
            let again = try Self.signIn(port, "joao@acme.com.br")
            #expect(again.status == 201, "\(again.text)")
            let token = try #require(again.json["token"] as? String)
            #expect(try Self.request(port, "GET", "/v1/tickets?page_size=5", bearer: token).status == 200)
        }
        Thread.sleep(forTimeInterval: 1)
        let lia = try Self.user(gateway, admin, "lia@acme.com.br")
        #expect(lia["status"] as? String == "disabled" && lia["disabled_by"] as? String == "administrator", "\(lia)")
        #expect(try Self.signIn(gateway.httpPort, "lia@acme.com.br").status == 401)
        // Only an administrator's enable lets her in again.
        #expect(try gateway.request("POST", "/v1/users/\(liaID)/enable", bearer: admin).status == 204)
        let liaSession = try #require(try Self.signIn(gateway.httpPort, "lia@acme.com.br").json["token"] as? String)

        // Her contact (on no ticket) deleted straight in intake: her session ends too, and she
        // cannot sign in again (her contact is nobody now).
        var delete = IntakeV1.DeleteContactRequest()
        delete.contactID = liaContact
        _ = try intake.client.call(IntakeV1.Intake.deleteContact, delete, options: intake.options)
        #expect(try waitFor(10) { try gateway.request("GET", "/v1/tickets?page_size=5", bearer: liaSession).status == 401 })
        let gone = try Self.signIn(second.httpPort, "lia@acme.com.br")
        #expect(gone.status == 403 && gone.errorCode == "CONTACT_INACTIVE", "\(gone.text)")
        #expect(try Self.user(gateway, admin, "lia@acme.com.br")["disabled_by"] as? String == "contact")
    }

    @Test("events missed while no gateway ran: a new instance checks every followed contact when its intake stream opens (the session ends), and sign-in asks intake; with intake unreachable a customer's sign-in is refused with 503 CONTACT_UNVERIFIED while staff still sign in")
    func missedEvents() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite, gatewayEnvironment: ["GATEWAY_VIEW_CACHE_TTL_MS": "0"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let joaoContact = try Self.addContact(gateway, seeded.admin, seeded.organizationID,
                                              ["name": "João", "email": "joao@acme.com.br", "authorized": true])
        let joao = try gateway.createUser(admin: seeded.admin, email: "joao@acme.com.br", role: "customer_contact",
                                          organization: seeded.organizationID, contact: joaoContact)

        // The only gateway stops; João's contact is deactivated meanwhile (its event reaches nobody).
        _ = gateway.process.stop()
        let intake = gateway.intakeAsAdministrator()
        defer { intake.client.close() }
        try Self.setActive(intake, contact: joaoContact, false)
        Thread.sleep(forTimeInterval: 1.5)
        let restarted = try ViewCacheTests.SecondGateway(like: gateway)
        #expect(try waitFor(10) { try Self.request(restarted.httpPort, "GET", "/v1/tickets?page_size=5", bearer: joao).status == 401 })
        #expect(try Self.signIn(restarted.httpPort, "joao@acme.com.br").errorCode == "CONTACT_INACTIVE")
        try Self.setActive(intake, contact: joaoContact, true)
        #expect(try waitFor(10) { try Self.signIn(restarted.httpPort, "joao@acme.com.br").status == 201 })

        // Intake unreachable: the customer's sign-in fails closed; an agent's does not need intake.
        _ = deployment.services.first { $0.name == "intake" }?.stop()
        let unverified = try Self.signIn(restarted.httpPort, "joao@acme.com.br")
        #expect(unverified.status == 503 && unverified.errorCode == "CONTACT_UNVERIFIED", "\(unverified.text)")
        #expect(try Self.signIn(restarted.httpPort, "ana@suporte.example").status == 201)
    }

    @Test("POST /v1/users checks a customer's contact_id as invitations do (another organization's, inactive, unauthorized: 400 naming contact_id; unknown organization: 400 naming organization_id; without it the contact with the e-mail is used or added) and a representative's person, by POST /v1/users or an invitation (unknown representative, another representative's or an inactive person: 400); a representative's person deactivated in intake ends its sign-in, reactivated lets it in again")
    func createdLoginsAreChecked() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let (admin, organizationID) = (seeded.admin, seeded.organizationID)
        func create(_ fields: [String: Any]) throws -> GatewayHarness.Response {
            var body: [String: Any] = ["display_name": "X", "password": "Us3r-Passw0rd!x"]
            for (key, value) in fields { body[key] = value }
            return try gateway.request("POST", "/v1/users", json: body, bearer: admin)
        }
        func contacts() throws -> [[String: Any]] {
            try gateway.request("GET", "/v1/organizations/\(organizationID)/contacts?include_inactive=true", bearer: admin).json["contacts"]
                as? [[String: Any]] ?? []
        }
        let other = try gateway.createOutsider(admin: admin, email: "rui@outra.com.br")
        let foreign = try #require(try Self.user(gateway, admin, "rui@outra.com.br")["contact_id"] as? String)
        let inactive = try Self.addContact(gateway, admin, organizationID, ["name": "Ida", "email": "ida@acme.com.br", "authorized": true])
        #expect(try gateway.request("POST", "/v1/contacts/\(inactive)/active", json: ["active": false], bearer: admin).status == 200)
        let unauthorized = try Self.addContact(gateway, admin, organizationID, ["name": "Ugo", "email": "ugo@acme.com.br", "authorized": false])
        let count = try contacts().count
        for (contactID, reason, email) in [(foreign, "not_found", "rui@acme.com.br"), (inactive, "inactive", "ida@acme.com.br"),
                                           (unauthorized, "not_authorized", "ugo@acme.com.br"), ("C-nobody", "not_found", "x@acme.com.br")] {
            let refused = try create(["email": email, "role": "customer_contact", "organization_id": organizationID, "contact_id": contactID])
            #expect(refused.status == 400 && Self.field(refused) == ("contact_id", reason), "\(refused.text)")
        }
        let unknown = try create(["email": "y@nada.com.br", "role": "customer_contact", "organization_id": "ORG-nobody", "contact_id": "C-1"])
        #expect(unknown.status == 400 && Self.field(unknown) == ("organization_id", "not_found"), "\(unknown.text)")
        // The organization must be the contact's: Rui's contact under Acme was refused above; under
        // his own it is the organization's, but it has a sign-in already (one login per contact,
        // AccountLifecycleTests); a colleague of his without one is fine.
        let twice = try create(["email": "rui2@outra.com.br", "role": "customer_contact", "organization_id": other.organizationID,
                                "contact_id": foreign])
        #expect(twice.status == 409 && Self.field(twice) == ("contact_id", "has_sign_in"), "\(twice.text)")
        let colleague = try Self.addContact(gateway, admin, other.organizationID, ["name": "Rita", "email": "rita@outra.com.br", "authorized": true])
        #expect(try create(["email": "rui2@outra.com.br", "role": "customer_contact", "organization_id": other.organizationID,
                            "contact_id": colleague]).status == 201)
        // Without contact_id: the contact with the e-mail (made authorized), or a new authorized one.
        let ugo = try create(["email": "UGO@acme.com.br", "role": "customer_contact", "organization_id": organizationID])
        #expect(ugo.status == 201 && (ugo.json["user"] as? [String: Any])?["contact_id"] as? String == unauthorized, "\(ugo.text)")
        let novo = try create(["email": "novo@acme.com.br", "role": "customer_admin", "organization_id": organizationID])
        #expect(novo.status == 201, "\(novo.text)")
        let added = try contacts().first { $0["id"] as? String == (novo.json["user"] as? [String: Any])?["contact_id"] as? String }
        #expect(added?["authorized"] as? Bool == true && added?["admin"] as? Bool == true && added?["email"] as? String == "novo@acme.com.br")
        #expect(try contacts().count == count + 1)
        // A taken e-mail: 409 before any contact is added.
        #expect(try create(["email": "novo@acme.com.br", "role": "customer_contact", "organization_id": organizationID]).status == 409)
        #expect(try contacts().count == count + 1)

        // Representatives: the person must be an active one of that representative.
        func representative(_ name: String) throws -> String {
            let made = try gateway.request("POST", "/v1/representatives", json: [
                "name": name, "email": "contato@\(name.lowercased()).com.br", "active": true, "organization_ids": [organizationID]], bearer: admin)
            #expect(made.status == 201, "\(made.text)")
            return try #require(made.json["id"] as? String)
        }
        func person(_ representativeID: String, _ email: String) throws -> [String: Any] {
            let made = try gateway.request("POST", "/v1/representatives/\(representativeID)/contacts",
                                           json: ["name": email, "email": email, "active": true], bearer: admin)
            #expect(made.status == 201, "\(made.text)")
            return made.json
        }
        let intake = gateway.intakeAsAdministrator()
        defer { intake.client.close() }
        func setPerson(_ id: String, of representativeID: String, _ email: String, active: Bool) throws {
            var update = IntakeV1.RepresentativeContact()
            update.id = id
            update.representativeID = representativeID
            update.name = email
            update.email = email
            update.active = active
            #expect(try intake.client.call(IntakeV1.Intake.updateRepresentativeContact, update, options: intake.options).active == active)
        }
        let sul = try representative("Sul")
        let norte = try representative("Norte")
        let rui = try person(sul, "rui@sul.com.br")
        let ruiID = try #require(rui["id"] as? String)
        let northern = try #require(try person(norte, "nina@norte.com.br")["id"] as? String)
        let resting = try #require(try person(sul, "rita@sul.com.br")["id"] as? String)
        try setPerson(resting, of: sul, "rita@sul.com.br", active: false)
        for (representativeID, contactID, expected) in [("R-nobody", ruiID, ("representative_id", "not_found")),
                                                        (sul, northern, ("contact_id", "not_found")), (sul, resting, ("contact_id", "inactive"))] {
            let refused = try create(["email": "rep@sul.com.br", "role": "representative", "representative_id": representativeID, "contact_id": contactID])
            #expect(refused.status == 400 && Self.field(refused) == expected, "\(refused.text)")
        }
        #expect(try create(["email": "rui@sul.com.br", "role": "representative", "representative_id": sul, "contact_id": ruiID]).status == 201)
        // One login per person: a second one for Rui is 409.
        let second = try create(["email": "rui.2@sul.com.br", "role": "representative", "representative_id": sul, "contact_id": ruiID])
        #expect(second.status == 409 && Self.field(second) == ("contact_id", "has_sign_in"), "\(second.text)")
        // An invitation for a representative's person goes through the same check.
        let wrongPerson = try gateway.request("POST", "/v1/invitations", json: [
            "email": "nina@norte.com.br", "display_name": "Nina", "role": "representative", "representative_id": sul, "contact_id": northern], bearer: admin)
        #expect(wrongPerson.status == 400 && Self.field(wrongPerson) == ("contact_id", "not_found"), "\(wrongPerson.text)")
        let nina = try gateway.request("POST", "/v1/invitations", json: [
            "email": "nina@norte.com.br", "display_name": "Nina", "role": "representative", "representative_id": norte, "contact_id": northern], bearer: admin)
        #expect(nina.status == 201 && (nina.json["user"] as? [String: Any])?["representative_id"] as? String == norte, "\(nina.text)")
        #expect(try gateway.request("POST", "/v1/invitations/accept", json: ["token": nina.json["token"] as? String ?? "", "password": "Cafe-Forte-2026!"]).status == 204)
        _ = try gateway.token("nina@norte.com.br", "Cafe-Forte-2026!")
        let ruiToken = try gateway.token("rui@sul.com.br", "Us3r-Passw0rd!x")
        #expect(try gateway.request("GET", "/v1/tickets?page_size=5", bearer: ruiToken).status == 200)

        // Rui deactivated straight in intake: his session ends, his sign-in is refused; reactivated, he signs in.
        func setRui(_ active: Bool) throws { try setPerson(ruiID, of: sul, "rui@sul.com.br", active: active) }
        try setRui(false)
        #expect(try waitFor(10) { try gateway.request("GET", "/v1/tickets?page_size=5", bearer: ruiToken).status == 401 })
        #expect(try Self.signIn(gateway.httpPort, "rui@sul.com.br").errorCode == "CONTACT_INACTIVE")
        try setRui(true)
        #expect(try waitFor(10) { try Self.signIn(gateway.httpPort, "rui@sul.com.br").status == 201 })
    }
}
