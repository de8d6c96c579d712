import Foundation
import RPCTransport
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

    @Test("login CSRF: a sign-in sent as another site's HTML form can send it (text/plain JSON, url-encoded, multipart) is 415 and sets no cookie; as application/json it signs in")
    func crossSiteFormSignIn() throws {
        let gateway = try GatewayHarness(engine: .sqlite)
        let credentials = #"{"email":"\#(GatewayHarness.adminEmail)","password":"\#(GatewayHarness.adminPassword)","x":"="}"#
        for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", nil] {
            let forged = try gateway.request("POST", "/v1/auth/login", body: Data(credentials.utf8),
                                             headers: type.map { ["Content-Type": $0] } ?? [:])
            #expect(forged.status == 415, "\(type ?? "no type"): \(forged.text)")
            #expect(forged.errorCode == "UNSUPPORTED_MEDIA_TYPE")
            #expect(forged.cookie("ocorrencias_session") == nil)
        }
        let signedIn = try gateway.request("POST", "/v1/auth/login", body: Data(credentials.utf8),
                                           headers: ["Content-Type": "application/json; charset=utf-8"])
        #expect(signedIn.status == 200, "\(signedIn.text)")
        #expect(signedIn.cookie("ocorrencias_session") != nil)
    }

    @Test("guesses of the current password on POST /v1/me/password count with the sign-ins: a stolen session gets 5 tries, then 429 even with the right password")
    func currentPasswordGuessesAreThrottled() throws {
        let gateway = try GatewayHarness(engine: .sqlite)
        let token = try gateway.adminToken()
        for guess in 1...5 {
            let wrong = try gateway.request("POST", "/v1/me/password", json: ["current_password": "palpite-\(guess)", "new_password": "Senha-Do-Atacante-2"],
                                            bearer: token)
            #expect(wrong.status == 403, "\(wrong.text)")
        }
        let throttled = try gateway.request("POST", "/v1/me/password", json: ["current_password": GatewayHarness.adminPassword,
                                                                               "new_password": "Senha-Do-Atacante-2"], bearer: token)
        #expect(throttled.status == 429, "\(throttled.text)")
        #expect(throttled.errorCode == "LOGIN_THROTTLED")
        // Nothing changed: the password is the old one (signing in is throttled too, for now).
        #expect(try gateway.request("POST", "/v1/auth/tokens", json: ["email": GatewayHarness.adminEmail, "password": "Senha-Do-Atacante-2"]).status == 429)
    }

    @Test("a reset asked for a registered address answers as soon as an unknown one, its e-mail queued after the answer: with notification silent (a listener that never answers), both are 202 well within the 5 s the e-mail's call may take")
    func resetAnswersBeforeTheEmail() throws {
        let silent = try ListeningSocket(host: "127.0.0.1", port: 0)
        defer { silent.close() }
        // Connections are accepted and counted, never answered.
        let listener = try #require(silent.take(blocking: true))
        final class Count: @unchecked Sendable {
            let lock = NSLock()
            var value = 0
        }
        let connections = Count()
        Thread.detachNewThread {
            while accept(listener, nil, nil) >= 0 { connections.lock.withLock { connections.value += 1 } }
        }
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_EXPOSE_TOKENS": "0",
                                                                   "NOTIFICATION_ADDRESSES": "127.0.0.1:\(silent.port)"])
        #expect(connections.lock.withLock { connections.value } == 0)
        for email in ["nobody@example.com", GatewayHarness.adminEmail, GatewayHarness.adminEmail] {
            let start = Date()
            let reset = try gateway.request("POST", "/v1/auth/password-reset", json: ["email": email])
            let seconds = Date().timeIntervalSince(start)
            #expect(reset.status == 202)
            #expect(reset.json["token"] == nil)
            // Waiting for the e-mail's call would take its whole 5 s; 4 s leaves a loaded machine
            // room for the reset's own write without blurring that line.
            #expect(seconds < 4, "\(email): \(seconds) s")
        }
        // The e-mail is still asked of notification, after the answers.
        #expect(waitFor(10) { connections.lock.withLock { connections.value } > 0 })
    }

    @Test("a password set any way ends every other one-time link of the user: a second reset link after the first was used, and a reset link after a password change, are refused", arguments: TestEngines.all)
    func oneTimeLinksEndWithThePassword(engine: DatabaseEngine) throws {
        let gateway = try GatewayHarness(engine: engine)
        func resetLink() throws -> String {
            let reset = try gateway.request("POST", "/v1/auth/password-reset", json: ["email": GatewayHarness.adminEmail])
            #expect(reset.status == 202)
            return try #require(reset.json["token"] as? String)
        }
        // Two links asked for (one leaked, say, from an old mailbox); the first one is used.
        let (first, second) = (try resetLink(), try resetLink())
        #expect(try gateway.request("POST", "/v1/auth/password-reset/confirm", json: ["token": first, "password": "Nova-Senha-Forte-1"]).status == 204)
        let reused = try gateway.request("POST", "/v1/auth/password-reset/confirm", json: ["token": second, "password": "Senha-Do-Atacante-2"])
        #expect(reused.status == 400, "\(reused.text)")
        _ = try gateway.token(GatewayHarness.adminEmail, "Nova-Senha-Forte-1")

        // A link asked for before the owner changed their password while signed in.
        let third = try resetLink()
        let token = try gateway.token(GatewayHarness.adminEmail, "Nova-Senha-Forte-1")
        #expect(try gateway.request("POST", "/v1/me/password", json: ["current_password": "Nova-Senha-Forte-1", "new_password": "Outra-Senha-Forte-3"],
                                    bearer: token).status == 204)
        let stale = try gateway.request("POST", "/v1/auth/password-reset/confirm", json: ["token": third, "password": "Senha-Do-Atacante-2"])
        #expect(stale.status == 400, "\(stale.text)")
        _ = try gateway.token(GatewayHarness.adminEmail, "Outra-Senha-Forte-3")
    }

    @Test("customers: a company administrator invites a contact, who sets a strong password; roles limit what each sees", arguments: TestEngines.all)
    func invitationsAndRoles(engine: DatabaseEngine) throws {
        // Customers sign in as intake's contacts, which an invitation checks: a real deployment.
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let (admin, companyAdmin, organizationID) = (seeded.admin, seeded.maria, seeded.organizationID)
        let otherCompany = try gateway.createOutsider(admin: admin, email: "outra@empresa.com").organizationID
        let agent = try gateway.createUser(admin: admin, email: "agente@suporte.com", role: "agent", agent: "A-1", accessLevel: 2)

        let colleague = try gateway.request("POST", "/v1/organizations/\(organizationID)/contacts",
                                            json: ["name": "Maria Souza", "email": "maria@cliente.com.br", "authorized": true], bearer: companyAdmin)
        #expect(colleague.status == 201, "\(colleague.text)")
        let colleagueID = try #require(colleague.json["id"] as? String)
        let invited = try gateway.request("POST", "/v1/invitations", json: ["email": "maria@cliente.com.br", "display_name": "Maria", "contact_id": colleagueID],
                                          bearer: companyAdmin)
        #expect(invited.status == 201, "\(invited.text)")
        let user = try #require(invited.json["user"] as? [String: Any])
        #expect(user["organization_id"] as? String == organizationID)
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
        #expect(emails == ["maria@acme.com.br", "maria@cliente.com.br"])
        // A customer admin cannot invite an agent; an agent cannot manage API keys.
        #expect(try gateway.request("POST", "/v1/invitations", json: ["email": "y@cliente.com.br", "display_name": "Y", "role": "agent"], bearer: companyAdmin).status == 403)
        #expect(try gateway.request("GET", "/v1/api-keys", bearer: agent).status == 403)

        // The principal carries what services need to enforce permissions again.
        let me = try gateway.request("GET", "/v1/me", bearer: maria)
        let principal = try #require(me.json["principal"] as? [String: Any])
        #expect(principal["kind"] as? String == "customer")
        #expect(principal["id"] as? String == colleagueID)
        #expect(principal["organization_id"] as? String == organizationID)

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
        #expect(try gateway.request("POST", "/v1/auth/tokens", json: ["email": "maria@cliente.com.br", "password": "Nova-Senha-Forte-1"]).status == 401)
        // Enabling lets her sign in again (the same rules: not her own, nor another company's).
        #expect(try gateway.request("POST", "/v1/users/\(mariaID)/enable", bearer: maria).status == 401, "her session ended")
        let outsider = try gateway.createOutsider(admin: admin, email: "chefe@outra.com", role: "customer_admin", organization: otherCompany).token
        #expect(try gateway.request("POST", "/v1/users/\(mariaID)/enable", bearer: outsider).status == 403)
        #expect(try gateway.request("POST", "/v1/users/U-nobody/enable", bearer: companyAdmin).status == 404)
        #expect(try gateway.request("POST", "/v1/users/\(mariaID)/enable", bearer: companyAdmin).status == 204)
        _ = try gateway.token("maria@cliente.com.br", "Nova-Senha-Forte-1")
        let everyone = try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]]
        #expect(everyone?.first { $0["id"] as? String == mariaID }?["status"] as? String == "active")
    }

    @Test("an invitation links the login to one of the organization's intake contacts: without contact_id the active contact with the e-mail is used (made authorized) or an authorized contact is added; another organization's, an inactive or an unauthorized contact is 400 naming contact_id; a taken e-mail is 409 before any contact is added; the invited person then opens a ticket and sees the company's tickets; deactivating his contact blocks his sign-in, reactivating it unblocks it")
    func invitedContacts() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let (admin, companyAdmin, organizationID) = (seeded.admin, seeded.maria, seeded.organizationID)
        func contacts(_ organization: String) throws -> [[String: Any]] {
            let listed = try gateway.request("GET", "/v1/organizations/\(organization)/contacts?include_inactive=true", bearer: admin)
            return (listed.json["contacts"] as? [[String: Any]]) ?? []
        }
        func addContact(_ organization: String, _ fields: [String: Any]) throws -> String {
            let added = try gateway.request("POST", "/v1/organizations/\(organization)/contacts", json: fields, bearer: admin)
            #expect(added.status == 201, "\(added.text)")
            return try #require(added.json["id"] as? String)
        }
        func invite(_ fields: [String: Any], as bearer: String) throws -> GatewayHarness.Response {
            try gateway.request("POST", "/v1/invitations", json: fields, bearer: bearer)
        }
        func field(_ response: GatewayHarness.Response) -> (String?, String?) {
            let detail = ((response.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first
            return (detail?["field"] as? String, detail?["reason"] as? String)
        }

        // No contact_id, no contact with the address: an authorized contact is added and linked.
        let before = try contacts(organizationID).count
        let joao = try invite(["email": "Joao@Acme.com.br", "display_name": "João Lima", "phone": "+55 11 4444-0000"], as: companyAdmin)
        #expect(joao.status == 201, "\(joao.text)")
        let joaoUser = try #require(joao.json["user"] as? [String: Any])
        let added = try contacts(organizationID)
        #expect(added.count == before + 1)
        let joaoContact = try #require(added.first { $0["id"] as? String == joaoUser["contact_id"] as? String }, "\(added)")
        #expect(joaoContact["name"] as? String == "João Lima" && joaoContact["phone"] as? String == "+55 11 4444-0000")
        #expect(joaoContact["authorized"] as? Bool == true && joaoContact["active"] as? Bool == true && joaoContact["admin"] as? Bool != true)

        // An existing contact with the address (any case), not yet authorized: used, and authorized.
        let existing = try addContact(organizationID, ["name": "Carla", "email": "carla@acme.com.br", "authorized": false])
        let carla = try invite(["email": "CARLA@acme.com.br", "display_name": "Carla"], as: companyAdmin)
        #expect(carla.status == 201, "\(carla.text)")
        #expect((carla.json["user"] as? [String: Any])?["contact_id"] as? String == existing)
        #expect(try contacts(organizationID).first { $0["id"] as? String == existing }?["authorized"] as? Bool == true)

        // contact_id must be an active, authorized contact of the organization.
        let other = try gateway.request("POST", "/v1/organizations", json: [
            "name": "Outra", "tax_id": "11444777000161", "kind": "ORGANIZATION_CUSTOMER", "active": true], bearer: admin)
        let otherID = try #require(other.json["id"] as? String, "\(other.text)")
        let foreign = try addContact(otherID, ["name": "Rui", "email": "rui@outra.com.br", "authorized": true])
        let inactive = try addContact(organizationID, ["name": "Ida", "email": "ida@acme.com.br", "authorized": true])
        #expect(try gateway.request("POST", "/v1/contacts/\(inactive)/active", json: ["active": false], bearer: admin).status == 200)
        let unauthorized = try addContact(organizationID, ["name": "Ugo", "email": "ugo@acme.com.br", "authorized": false])
        let count = try contacts(organizationID).count
        for (contactID, reason, email) in [(foreign, "not_found", "rui@acme.com.br"), (inactive, "inactive", "ida@acme.com.br"),
                                           (unauthorized, "not_authorized", "ugo@acme.com.br")] {
            let refused = try invite(["email": email, "display_name": "X", "contact_id": contactID], as: companyAdmin)
            #expect(refused.status == 400, "\(refused.text)")
            #expect(field(refused) == ("contact_id", reason), "\(refused.text)")
        }
        // A taken address: 409, and no contact was added for it.
        let taken = try invite(["email": "joao@acme.com.br", "display_name": "João de novo"], as: companyAdmin)
        #expect(taken.status == 409)
        #expect(try contacts(organizationID).count == count)
        #expect(((try gateway.request("GET", "/v1/users", bearer: companyAdmin).json["users"] as? [[String: Any]]) ?? []).count == 3,
                "the company's administrator, João and Carla")

        // João chooses a password and works as the company's contact: opens a ticket, sees the company's.
        let token = try #require(joao.json["token"] as? String)
        #expect(try gateway.request("POST", "/v1/invitations/accept", json: ["token": token, "password": "Cafe-Forte-2026!"]).status == 204)
        let joaoToken = try gateway.token("joao@acme.com.br", "Cafe-Forte-2026!")
        _ = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Pedido de João")
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Relatório não abre", "request": "O relatório de vendas não abre.", "category": "DUVIDA", "product": "ERP",
            "organization_id": organizationID], bearer: joaoToken)
        #expect(opened.status == 201, "\(opened.text)")
        #expect(try waitFor {
            let listed = try gateway.request("GET", "/v1/tickets?page_size=50", bearer: joaoToken).text
            return listed.contains("Pedido de João") && listed.contains("Relatório não abre")
        })

        // His contact deactivated: his sign-in is blocked and his session ends; reactivated, he signs in again.
        let joaoContactID = try #require(joaoUser["contact_id"] as? String)
        let deactivated = try gateway.request("POST", "/v1/contacts/\(joaoContactID)/active", json: ["active": false], bearer: companyAdmin)
        #expect(deactivated.status == 200 && deactivated.json["active"] as? Bool != true, "\(deactivated.text)")
        #expect(try gateway.request("GET", "/v1/tickets?page_size=50", bearer: joaoToken).status == 401)
        let refused = try gateway.request("POST", "/v1/auth/tokens", json: ["email": "joao@acme.com.br", "password": "Cafe-Forte-2026!"])
        #expect(refused.status == 403 && refused.errorCode == "CONTACT_INACTIVE", "\(refused.text)")
        #expect(try gateway.request("POST", "/v1/contacts/\(joaoContactID)/active", json: ["active": true], bearer: companyAdmin).status == 200)
        _ = try gateway.token("joao@acme.com.br", "Cafe-Forte-2026!")
        // Someone who may not change the contact changes nothing (intake refuses first).
        let outsider = try gateway.createUser(admin: admin, email: "chefe@outra.com.br", role: "customer_admin", organization: otherID, contact: foreign)
        #expect(try gateway.request("POST", "/v1/contacts/\(joaoContactID)/active", json: ["active": false], bearer: outsider).status == 403)
        _ = try gateway.token("joao@acme.com.br", "Cafe-Forte-2026!")
    }

    @Test("create-admin refuses a weak password and an address that is none, needs --password-stdin and refuses a flag it does not know (a mistyped --agent-id was ignored)")
    func createAdminPolicy() throws {
        let directory = try TemporaryDirectory()
        let environment = ["OCORRENCIAS_DATA_DIR": directory.path, "GATEWAY_PWHASH": "minimal"]
        let weak = try GatewayHarness.run(BuildProducts.executable("gateway"), ["create-admin", "--email", "a@b.com", "--password-stdin"],
                                          environment: environment, input: "short\n")
        #expect(weak.status == 1)
        #expect(weak.error.contains("password"))
        let missing = try GatewayHarness.run(BuildProducts.executable("gateway"), ["create-admin", "--email", "a@b.com"], environment: environment)
        #expect(missing.status == 2)
        let typo = try GatewayHarness.run(BuildProducts.executable("gateway"), ["create-admin", "--email", "a@b.com", "--agentid", "A-ana", "--password-stdin"],
                                          environment: environment, input: "Adm1n-Passw0rd!\n")
        #expect(typo.status == 2 && typo.error.contains("unknown flag --agentid"), "\(typo.error)")
        // An address with a blank or an invisible character is no address (SignInAddress).
        for email in ["ana maria@b.com", "ana\u{200B}@b.com", "ana@b"] {
            let bad = try GatewayHarness.run(BuildProducts.executable("gateway"), ["create-admin", "--email", email, "--password-stdin"],
                                             environment: environment, input: "Adm1n-Passw0rd!\n")
            #expect(bad.status == 1 && bad.error.contains("email"), "\(email): \(bad.error)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/gateway.sqlite"), "nothing created")
    }

    @Test("on a terminal, create-admin asks for the password with a prompt and does not echo it; one line is enough")
    func createAdminOnATerminal() throws {
        let directory = try TemporaryDirectory()
        // A pseudo-terminal driven by Python's pty module: the command's whole output as the terminal shows it.
        let script = """
            import os, pty, select, sys, time
            password = b"Ceu-Azul-Marinho-Quintal-77"
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            seen = b""
            def read_until(needle, limit):
                global seen
                end = time.time() + limit
                while needle not in seen and time.time() < end:
                    if not select.select([fd], [], [], max(0, end - time.time()))[0]:
                        break
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:
                        break
                    if not chunk:
                        break
                    seen += chunk
            read_until(b"Password: ", 20)
            os.write(fd, password + b"\\n")
            read_until(b"administrator created", 20)
            if b"administrator created" not in seen:
                os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(repr(seen) + "\\n")
            sys.exit(0 if b"Senha / Password: " in seen and password not in seen and b"administrator created" in seen else 1)
            """
        let environment = ["OCORRENCIAS_DATA_DIR": directory.path, "GATEWAY_PWHASH": "minimal"]
        let result = try GatewayHarness.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                            ["-c", script, BuildProducts.executable("gateway").path, "create-admin",
                                             "--email", "terminal@example.com", "--password-stdin"], environment: environment)
        #expect(result.status == 0, "\(result.output)\n\(result.error)")
    }
}
