import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport

/// The account lifecycle over HTTP, as an attacker tries it: signing out everywhere, a company's
/// administrator removing an administrator (themselves included) through the contact routes or
/// taking over a colleague's contact with a second login, and look-alike addresses.
@Suite("Accounts: sign-out everywhere, company administrators, one login per contact, addresses", .serialized)
struct AccountLifecycleTests {
    @Test("POST /v1/auth/logout?everywhere=true ends every session and token of the user (the other devices' too), not the password nor API keys; a plain logout ends only its own; look-alike addresses (NFD accent, zero-width space) are one account or refused", arguments: TestEngines.all)
    func logoutEverywhere(engine: DatabaseEngine) throws {
        let gateway = try GatewayHarness(engine: engine)
        let admin = try gateway.adminToken()
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "integração", "role": "agent"], bearer: admin)
        #expect(created.status == 201, "\(created.text)")
        let key = try #require(created.json["key"] as? String)
        let laptop = try gateway.adminToken()
        let browser = try gateway.login(GatewayHarness.adminEmail, GatewayHarness.adminPassword)

        // A plain logout ends its own session only.
        let phone = try gateway.adminToken()
        #expect(try gateway.request("POST", "/v1/auth/logout", bearer: phone).status == 204)
        #expect(try gateway.request("GET", "/v1/me", bearer: phone).status == 401)
        #expect(try gateway.request("GET", "/v1/me", bearer: laptop).status == 200)

        // Everywhere, from the browser (its CSRF token needed as for any unsafe method).
        #expect(try gateway.request("POST", "/v1/auth/logout?everywhere=true", headers: browser.cookieOnly).status == 403)
        let everywhere = try gateway.request("POST", "/v1/auth/logout?everywhere=true", headers: browser.headers)
        #expect(everywhere.status == 204, "\(everywhere.text)")
        #expect(everywhere.headers("set-cookie").contains { $0.hasPrefix("ocorrencias_session=;") })
        for token in [admin, laptop] {
            #expect(try gateway.request("GET", "/v1/me", bearer: token).status == 401)
        }
        #expect(try gateway.request("GET", "/v1/me", headers: browser.cookieOnly).status == 401)
        #expect(try gateway.request("GET", "/v1/me", bearer: key).status == 200, "an API key is not a session")
        let again = try gateway.adminToken()

        // Addresses: the decomposed spelling of a taken address is taken (and signs in); an
        // address with an invisible character is refused, and nothing is stored.
        let composed = "jos\u{E9}@suporte.example", decomposed = "jose\u{301}@suporte.example"
        func create(_ email: String) throws -> GatewayHarness.Response {
            try gateway.request("POST", "/v1/users", json: ["email": email, "display_name": "José", "role": "agent",
                                                             "password": "Agente-Fiscal-2026!"], bearer: again)
        }
        #expect(try create(composed).status == 201)
        let twin = try create(decomposed)
        #expect(twin.status == 409 && twin.errorCode == "ALREADY_EXISTS", "\(twin.text)")
        _ = try gateway.token(decomposed, "Agente-Fiscal-2026!")
        let hidden = try create("jose\u{200B}@suporte.example")
        #expect(hidden.status == 400, "\(hidden.text)")
        #expect(((hidden.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first?["field"] as? String == "email")
        let users = try gateway.request("GET", "/v1/users", bearer: again).json["users"] as? [[String: Any]] ?? []
        #expect(users.count == 2, "\(users.map { $0["email"] ?? "" })")
    }

    @Test("a mailbox cannot be flooded with reset e-mails: past 3 unused links of the address, a reset makes and sends nothing (the same 202); once a link is used the next ask gets one again", arguments: TestEngines.all)
    func resetLinksAreBounded(engine: DatabaseEngine) throws {
        let gateway = try GatewayHarness(engine: engine)
        var links: [String] = []
        for _ in 1...6 {
            let reset = try gateway.request("POST", "/v1/auth/password-reset", json: ["email": GatewayHarness.adminEmail])
            #expect(reset.status == 202 && reset.json["status"] as? String == "sent_if_registered", "\(reset.text)")
            if let token = reset.json["token"] as? String { links.append(token) }
        }
        #expect(links.count == 3)
        #expect(try gateway.request("POST", "/v1/auth/password-reset/confirm", json: ["token": links[2], "password": "Nova-Senha-Forte-1"]).status == 204)
        #expect(try gateway.request("POST", "/v1/auth/password-reset", json: ["email": GatewayHarness.adminEmail]).json["token"] != nil)
    }

    @Test("a company's administrator deactivates or deletes neither her own contact nor another administrator's (by /active, an update or DELETE; 403, checked by the gateway from the sign-ins and by intake from the contact), and cannot add a second login to a contact that has one (hers, a colleague's: 409 naming contact_id, nothing stored); an administrator's new customer_admin marks its contact; a customer_admin API key manages no sign-ins; a plain contact she deactivates, staff deactivate an administrator", arguments: TestEngines.all)
    func companyAdministratorsStay(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let (admin, maria, organizationID) = (seeded.admin, seeded.maria, seeded.organizationID)
        let mariaContact = try #require((try gateway.request("GET", "/v1/me", bearer: maria).json["principal"] as? [String: Any])?["id"] as? String)
        func addContact(_ name: String, _ email: String, as bearer: String) throws -> String {
            let added = try gateway.request("POST", "/v1/organizations/\(organizationID)/contacts",
                                            json: ["name": name, "email": email, "authorized": true], bearer: bearer)
            setup.ok(added, 201)
            return try #require(added.json["id"] as? String, "\(added.text)")
        }
        // Bia: a second administrator, made by support on a contact not marked administrator.
        let biaContact = try addContact("Bia", "bia@acme.com.br", as: admin)
        let bia = try gateway.createUser(admin: admin, email: "bia@acme.com.br", role: "customer_admin", organization: organizationID,
                                         contact: biaContact)
        #expect(try gateway.request("GET", "/v1/contacts/\(biaContact)", bearer: admin).json["admin"] as? Bool == true)
        let joaoContact = try addContact("João", "joao@acme.com.br", as: maria)

        // Maria against her own contact and Bia's: every way is 403, and both still sign in.
        func attempts(_ contact: String) throws -> [GatewayHarness.Response] {
            [try gateway.request("POST", "/v1/contacts/\(contact)/active", json: ["active": false], bearer: maria),
             try gateway.request("POST", "/v1/contacts/\(contact)/active", json: [String: Any](), bearer: maria),
             try gateway.request("POST", "/v1/contacts/\(contact)", json: ["active": false], bearer: maria),
             try gateway.request("DELETE", "/v1/contacts/\(contact)", bearer: maria)]
        }
        for contact in [mariaContact, biaContact] {
            for refused in try attempts(contact) { #expect(refused.status == 403, "\(contact): \(refused.text)") }
        }
        // The gateway knows Bia is an administrator even when intake's flag is taken away.
        setup.ok(try gateway.request("POST", "/v1/contacts/\(biaContact)", json: ["admin": false], bearer: admin))
        for refused in try attempts(biaContact) { #expect(refused.status == 403, "\(refused.text)") }
        #expect(try gateway.request("GET", "/v1/me", bearer: maria).status == 200)
        #expect(try gateway.request("GET", "/v1/me", bearer: bia).status == 200)

        // A second login on a contact that has one: Maria's own, Bia's (by Maria), Bia's (by support).
        for (body, bearer, path) in [(["email": "intruso@evil.example", "display_name": "Intruso", "contact_id": mariaContact], maria, "/v1/invitations"),
                                     (["email": "intruso@evil.example", "display_name": "Intruso", "contact_id": biaContact], maria, "/v1/invitations"),
                                     (["email": "segundo@acme.com.br", "display_name": "Segundo", "contact_id": biaContact, "role": "customer_contact",
                                       "organization_id": organizationID, "password": "Cliente-Acme-2026!"], admin, "/v1/users")] {
            let refused = try gateway.request("POST", path, json: body, bearer: bearer)
            #expect(refused.status == 409, "\(path): \(refused.text)")
            let details = (refused.json["error"] as? [String: Any])?["details"] as? [[String: Any]]
            #expect(details?.first?["field"] as? String == "contact_id" && details?.first?["reason"] as? String == "has_sign_in", "\(refused.text)")
        }
        let emails = Set((try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? []).compactMap { $0["email"] as? String })
        #expect(!emails.contains("intruso@evil.example") && !emails.contains("segundo@acme.com.br"), "\(emails)")

        // A key made with the company administrator's role manages no people (it names no contact).
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "acme", "role": "customer_admin", "organization_id": organizationID],
                                          bearer: admin)
        setup.ok(created, 201)
        let key = try #require(created.json["key"] as? String)
        let joaoUser = try gateway.request("POST", "/v1/invitations", json: ["email": "joao@acme.com.br", "display_name": "João",
                                                                            "contact_id": joaoContact], bearer: maria)
        setup.ok(joaoUser, 201)
        let joaoID = try #require((joaoUser.json["user"] as? [String: Any])?["id"] as? String)
        #expect(try gateway.request("GET", "/v1/users", bearer: key).status == 403)
        for action in ["disable", "enable", "resend-invitation"] {
            #expect(try gateway.request("POST", "/v1/users/\(joaoID)/\(action)", bearer: key).status == 403, "\(action)")
        }

        // What stays allowed: Maria deactivates João; support deactivates Bia, whose sign-in ends.
        setup.ok(try gateway.request("POST", "/v1/contacts/\(joaoContact)/active", json: ["active": false], bearer: maria))
        setup.ok(try gateway.request("POST", "/v1/contacts/\(biaContact)/active", json: ["active": false], bearer: admin))
        #expect(try gateway.request("GET", "/v1/me", bearer: bia).status == 401)
    }
}

extension AccountLifecycleTests {
    @Test("support's block binds the company: a sign-in support disabled is 403 DISABLED_BY_SUPPORT for the company's administrator to enable (also after she disables it again), support enables it; one she disabled (disabled_by company) she enables again", arguments: TestEngines.all)
    func supportsBlockBinds(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let (admin, maria, organizationID) = (seeded.admin, seeded.maria, seeded.organizationID)
        let added = try gateway.request("POST", "/v1/organizations/\(organizationID)/contacts",
                                        json: ["name": "João", "email": "joao@acme.com.br", "authorized": true], bearer: admin)
        setup.ok(added, 201)
        _ = try gateway.createUser(admin: admin, email: "joao@acme.com.br", role: "customer_contact", organization: organizationID,
                                   contact: try #require(added.json["id"] as? String))
        func joao() throws -> [String: Any] {
            let users = try gateway.request("GET", "/v1/users", bearer: maria).json["users"] as? [[String: Any]] ?? []
            return try #require(users.first { $0["email"] as? String == "joao@acme.com.br" })
        }
        let id = try #require(try joao()["id"] as? String)
        func signIn() throws -> Int {
            try gateway.request("POST", "/v1/auth/tokens", json: ["email": "joao@acme.com.br", "password": "Us3r-Passw0rd!x"]).status
        }

        // Support disables him: Maria may not enable him, not even after disabling him herself.
        #expect(try gateway.request("POST", "/v1/users/\(id)/disable", bearer: admin).status == 204)
        #expect(try joao()["disabled_by"] as? String == "administrator")
        let refused = try gateway.request("POST", "/v1/users/\(id)/enable", bearer: maria)
        #expect(refused.status == 403 && (refused.json["error"] as? [String: Any])?["code"] as? String == "DISABLED_BY_SUPPORT", "\(refused.text)")
        #expect(((refused.json["error"] as? [String: Any])?["message_en"] as? String)?.contains("disabled by support") == true, "\(refused.text)")
        #expect(try gateway.request("POST", "/v1/users/\(id)/disable", bearer: maria).status == 204)
        #expect(try joao()["disabled_by"] as? String == "administrator")
        #expect(try gateway.request("POST", "/v1/users/\(id)/enable", bearer: maria).status == 403)
        #expect(try joao()["status"] as? String == "disabled")
        #expect(try signIn() == 401)
        // Support lifts it.
        #expect(try gateway.request("POST", "/v1/users/\(id)/enable", bearer: admin).status == 204)
        #expect(try signIn() == 201)

        // Maria's own block she lifts; support may lift it too.
        #expect(try gateway.request("POST", "/v1/users/\(id)/disable", bearer: maria).status == 204)
        #expect(try joao()["disabled_by"] as? String == "company")
        #expect(try signIn() == 401)
        #expect(try gateway.request("POST", "/v1/users/\(id)/enable", bearer: maria).status == 204)
        #expect(try joao()["status"] as? String == "active")
        #expect(try signIn() == 201)
        #expect(try gateway.request("POST", "/v1/users/\(id)/disable", bearer: maria).status == 204)
        #expect(try gateway.request("POST", "/v1/users/\(id)/enable", bearer: admin).status == 204)
        // Support's disable over the company's binds again.
        #expect(try gateway.request("POST", "/v1/users/\(id)/disable", bearer: maria).status == 204)
        #expect(try gateway.request("POST", "/v1/users/\(id)/disable", bearer: admin).status == 204)
        #expect(try joao()["disabled_by"] as? String == "administrator")
        #expect(try gateway.request("POST", "/v1/users/\(id)/enable", bearer: maria).status == 403)
    }
}

extension AccountLifecycleTests {
    @Test("an administrator's API keys stop while she is disabled (HTTP 401 API_KEY_CREATOR_DISABLED; the RPC port refuses new connections and calls on open ones, saying why) and work again once she is enabled; keys of other makers, and a key made with a key, keep working", arguments: TestEngines.all)
    func keysFollowTheirMaker(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, admin) = (setup.gateway, setup.seeded.admin)
        let rosa = try gateway.createUser(admin: admin, email: "rosa@suporte.example", role: "administrator", accessLevel: 3)
        func key(_ name: String, by bearer: String) throws -> String {
            let created = try gateway.request("POST", "/v1/api-keys", json: ["name": name, "role": "administrator", "access_level": 3], bearer: bearer)
            setup.ok(created, 201)
            return try #require(created.json["key"] as? String)
        }
        let rosas = try key("rosa", by: rosa)
        let admins = try key("admin", by: admin)
        let byKey = try key("by-key", by: admins)
        let rosaID = try #require(((try gateway.request("GET", "/v1/me", bearer: rosa)).json["user"] as? [String: Any])?["id"] as? String)
        let open = ProxyTests.client(port: gateway.proxyPort, key: rosas)
        defer { open.close() }
        #expect(try open.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving)
        setup.ok(try gateway.request("GET", "/v1/api-keys", bearer: rosas))

        setup.ok(try gateway.request("POST", "/v1/users/\(rosaID)/disable", bearer: admin), 204)
        let refused = try gateway.request("GET", "/v1/api-keys", bearer: rosas)
        #expect(refused.status == 401 && (refused.json["error"] as? [String: Any])?["code"] as? String == "API_KEY_CREATOR_DISABLED", "\(refused.text)")
        #expect(((refused.json["error"] as? [String: Any])?["message_en"] as? String)?.contains("disabled") == true, "\(refused.text)")
        let onOpen = #expect(throws: RPCError.self) { try open.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()) }
        #expect(onOpen?.code == .unauthenticated && onOpen?.message.contains("disabled") == true, "\(String(describing: onOpen))")
        let fresh = ProxyTests.client(port: gateway.proxyPort, key: rosas)
        let onConnect = #expect(throws: RPCError.self) { try fresh.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()) }
        fresh.close()
        #expect(onConnect?.code == .unauthenticated && onConnect?.message.contains("disabled") == true, "\(String(describing: onConnect))")
        for other in [admins, byKey] { setup.ok(try gateway.request("GET", "/v1/api-keys", bearer: other)) }

        setup.ok(try gateway.request("POST", "/v1/users/\(rosaID)/enable", bearer: admin), 204)
        setup.ok(try gateway.request("GET", "/v1/api-keys", bearer: rosas))
        let again = ProxyTests.client(port: gateway.proxyPort, key: rosas)
        defer { again.close() }
        #expect(try again.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving)
    }
}
