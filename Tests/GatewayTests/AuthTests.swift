import Foundation
import Storage
import Testing
import TestSupport

@Suite("Gateway sign-in, sessions and permissions over HTTP", .serialized)
struct AuthTests {
    @Test("the first administrator signs in; the portal session needs its CSRF token for unsafe methods", arguments: TestEngines.all)
    func loginAndCSRF(engine: DatabaseEngine) throws {
        let gateway = try GatewayHarness(engine: engine)
        // Wrong password and unknown e-mail: the same 401.
        let wrong = try gateway.request("POST", "/v1/auth/login", json: ["email": GatewayHarness.adminEmail, "password": "nope-nope-nope"])
        #expect(wrong.status == 401)
        #expect(wrong.errorCode == "INVALID_CREDENTIALS")
        let unknown = try gateway.request("POST", "/v1/auth/login", json: ["email": "ghost@example.com", "password": "nope-nope-nope"])
        #expect(unknown.status == 401)
        #expect(unknown.json["error"] as? NSDictionary == wrong.json["error"] as? NSDictionary)

        let session = try gateway.login(GatewayHarness.adminEmail, GatewayHarness.adminPassword)
        let me = try gateway.request("GET", "/v1/me", headers: session.cookieOnly)
        #expect(me.status == 200)
        #expect((me.json["user"] as? [String: Any])?["role"] as? String == "administrator")
        #expect((me.json["principal"] as? [String: Any])?["administrator"] as? Bool == true)
        #expect(me.header("RateLimit-Limit") != nil && me.header("RateLimit-Remaining") != nil && me.header("RateLimit-Reset") != nil)

        // Unsafe method with the cookie but without the CSRF header, or with a wrong one: 403.
        let noCSRF = try gateway.request("POST", "/v1/auth/logout", headers: session.cookieOnly)
        #expect(noCSRF.status == 403)
        #expect(noCSRF.errorCode == "CSRF_TOKEN_MISMATCH")
        let badCSRF = try gateway.request("POST", "/v1/auth/logout", headers: ["Cookie": session.cookie, "X-CSRF-Token": "forged"])
        #expect(badCSRF.errorCode == "CSRF_TOKEN_MISMATCH")
        // Still signed in; with the token the logout works and the session is gone.
        #expect(try gateway.request("GET", "/v1/me", headers: session.cookieOnly).status == 200)
        let logout = try gateway.request("POST", "/v1/auth/logout", headers: session.headers)
        #expect(logout.status == 204)
        #expect(logout.headers("set-cookie").contains { $0.hasPrefix("ocorrencias_session=;") && $0.contains("Max-Age=0") })
        #expect(try gateway.request("GET", "/v1/me", headers: session.cookieOnly).status == 401)

        // The session cookie is HttpOnly and SameSite=Strict.
        let again = try gateway.request("POST", "/v1/auth/login", json: ["email": GatewayHarness.adminEmail, "password": GatewayHarness.adminPassword])
        let cookie = try #require(again.headers("set-cookie").first { $0.hasPrefix("ocorrencias_session=") })
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))

        // Bearer tokens need no CSRF token; a garbage token is 401.
        let token = try gateway.adminToken()
        #expect(try gateway.request("GET", "/v1/users", bearer: token).status == 200)
        #expect(try gateway.request("GET", "/v1/users", bearer: "not-a-token").status == 401)
        #expect(try gateway.request("GET", "/v1/users").status == 401)
    }

    @Test("customers: a company administrator invites a contact, who sets a strong password; roles limit what each sees", arguments: TestEngines.all)
    func invitationsAndRoles(engine: DatabaseEngine) throws {
        let gateway = try GatewayHarness(engine: engine)
        let admin = try gateway.adminToken()
        let companyAdmin = try gateway.createUser(admin: admin, email: "chefe@cliente.com.br", role: "customer_admin", organization: "ORG-1", contact: "C-1")
        try gateway.createUser(admin: admin, email: "outra@empresa.com", role: "customer_contact", organization: "ORG-2", contact: "C-9")
        let agent = try gateway.createUser(admin: admin, email: "agente@suporte.com", role: "agent", agent: "A-1", accessLevel: 2)

        let invited = try gateway.request("POST", "/v1/invitations", json: ["email": "maria@cliente.com.br", "display_name": "Maria", "contact_id": "C-2"],
                                          bearer: companyAdmin)
        #expect(invited.status == 201, "\(invited.text)")
        let user = try #require(invited.json["user"] as? [String: Any])
        #expect(user["organization_id"] as? String == "ORG-1")
        #expect(user["role"] as? String == "customer_contact")
        #expect(user["status"] as? String == "invited")
        let token = try #require(invited.json["token"] as? String)
        // An invited user cannot sign in before choosing a password.
        #expect(try gateway.request("POST", "/v1/auth/tokens", json: ["email": "maria@cliente.com.br", "password": "whatever-1234"]).status == 401)
        // The same e-mail twice: 409.
        #expect(try gateway.request("POST", "/v1/invitations", json: ["email": "maria@cliente.com.br", "display_name": "Maria"], bearer: companyAdmin).status == 409)

        // The password policy: weak passwords are 422 with details.
        let weak = try gateway.request("POST", "/v1/invitations/accept", json: ["token": token, "password": "maria"])
        #expect(weak.status == 422)
        #expect(weak.errorCode == "WEAK_PASSWORD")
        #expect(((weak.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.contains { $0["reason"] as? String == "too_short" } == true)
        #expect(try gateway.request("POST", "/v1/invitations/accept", json: ["token": token, "password": "Cafe-Forte-2026!"]).status == 204)
        // A token works once.
        #expect(try gateway.request("POST", "/v1/invitations/accept", json: ["token": token, "password": "Cafe-Forte-2027!"]).status == 400)
        let maria = try gateway.token("maria@cliente.com.br", "Cafe-Forte-2026!")

        // A contact may not invite nor list users; a customer admin sees only its company.
        #expect(try gateway.request("POST", "/v1/invitations", json: ["email": "x@cliente.com.br", "display_name": "X"], bearer: maria).status == 403)
        #expect(try gateway.request("GET", "/v1/users", bearer: maria).status == 403)
        let listed = try gateway.request("GET", "/v1/users", bearer: companyAdmin)
        let emails = Set(((listed.json["users"] as? [[String: Any]]) ?? []).compactMap { $0["email"] as? String })
        #expect(emails == ["chefe@cliente.com.br", "maria@cliente.com.br"])
        // A customer admin cannot invite an agent; an agent cannot manage API keys.
        #expect(try gateway.request("POST", "/v1/invitations", json: ["email": "y@cliente.com.br", "display_name": "Y", "role": "agent"], bearer: companyAdmin).status == 403)
        #expect(try gateway.request("GET", "/v1/api-keys", bearer: agent).status == 403)

        // The principal carries what services need to enforce permissions again.
        let me = try gateway.request("GET", "/v1/me", bearer: maria)
        let principal = try #require(me.json["principal"] as? [String: Any])
        #expect(principal["kind"] as? String == "customer")
        #expect(principal["id"] as? String == "C-2")
        #expect(principal["organization_id"] as? String == "ORG-1")

        // Password reset: the same 202 for unknown addresses; the token sets a new password once.
        let unknown = try gateway.request("POST", "/v1/auth/password-reset", json: ["email": "nobody@example.com"])
        #expect(unknown.status == 202)
        #expect(unknown.json["token"] == nil)
        let reset = try gateway.request("POST", "/v1/auth/password-reset", json: ["email": "maria@cliente.com.br"])
        #expect(reset.status == 202)
        let resetToken = try #require(reset.json["token"] as? String)
        #expect(try gateway.request("POST", "/v1/auth/password-reset/confirm", json: ["token": resetToken, "password": "Nova-Senha-Forte-1"]).status == 204)
        // Old sessions ended; the new password works.
        #expect(try gateway.request("GET", "/v1/me", bearer: maria).status == 401)
        _ = try gateway.token("maria@cliente.com.br", "Nova-Senha-Forte-1")

        // Disabling a user ends its sessions.
        let mariaID = try #require(user["id"] as? String)
        let newMaria = try gateway.token("maria@cliente.com.br", "Nova-Senha-Forte-1")
        #expect(try gateway.request("POST", "/v1/users/\(mariaID)/disable", bearer: companyAdmin).status == 204)
        #expect(try gateway.request("GET", "/v1/me", bearer: newMaria).status == 401)
    }

    @Test("create-admin refuses a weak password and needs --password-stdin")
    func createAdminPolicy() throws {
        let directory = try TemporaryDirectory()
        let environment = ["OCORRENCIAS_DATA_DIR": directory.path, "GATEWAY_PWHASH": "minimal"]
        let weak = try GatewayHarness.run(BuildProducts.executable("gateway"), ["create-admin", "--email", "a@b.com", "--password-stdin"],
                                          environment: environment, input: "short\n")
        #expect(weak.status == 1)
        #expect(weak.error.contains("password"))
        let missing = try GatewayHarness.run(BuildProducts.executable("gateway"), ["create-admin", "--email", "a@b.com"], environment: environment)
        #expect(missing.status == 2)
    }
}
