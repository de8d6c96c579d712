import Foundation
import RPCTransport
import Storage
import Testing
import TestSupport

/// A company's administrator inviting an address that already has a sign-in elsewhere in the
/// deployment (another company's contact, support): answered as a fresh invitation, nothing made
/// that links or takes over the account, the owner told by e-mail; what stays precise.
@Suite("Quiet invitations: a company's administrator does not learn whether an address has an account elsewhere", .serialized)
struct QuietInvitationTests {
    /// The keys of an answer's `user` with their values' kinds, and whether it has a token.
    static func shape(_ response: GatewayHarness.Response) -> String {
        let user = response.json["user"] as? [String: Any] ?? [:]
        let keys = user.keys.sorted().joined(separator: ",")
        return "\(response.status) user[\(keys)] status=\(user["status"] ?? "") role=\(user["role"] ?? "") token=\(response.json["token"] != nil) "
            + "top[\(response.json.keys.sorted().joined(separator: ","))]"
    }

    @Test("""
          another company's contact's or support's address invited by a company's administrator: 201 with the body of a fresh \
          invitation, the account untouched (its password signs in, the answer's token opens nothing), its owner gets the notice \
          (Portuguese first, English second, no link), listed as a pending invitation the administrator resends (the notice again), \
          disables and enables; inviting it or its contact again is the 409 a real one gives; her own company's sign-in stays 409 \
          and support keeps the precise 409
          """, arguments: TestEngines.all)
    func answeredAsFresh(engine: DatabaseEngine) throws {
        let (sink, deployment, seeded) = try InvitationMailTests.deployment(engine, ["NOTIFICATION_MAIL_FROM_NAME": "Central de TI"])
        defer { sink.stop() }
        let gateway = deployment.gateway
        let (admin, maria, organizationID) = (seeded.admin, seeded.maria, seeded.organizationID)
        // Bruno signs in as a contact of another company.
        let bruno = try gateway.createOutsider(admin: admin, email: "bruno@beta.com.br")
        let brunoMe = try gateway.request("GET", "/v1/me", bearer: bruno.token)
        #expect(brunoMe.status == 200, "\(brunoMe.text)")

        // A fresh invitation, then the same for Bruno's and support's addresses: one shape.
        let fresh = try gateway.request("POST", "/v1/invitations", json: ["email": "novo@acme.com.br", "display_name": "Novo"], bearer: maria)
        #expect(fresh.status == 201, "\(fresh.text)")
        let quiet = try gateway.request("POST", "/v1/invitations", json: ["email": "Bruno@Beta.com.br", "display_name": "Bruno"], bearer: maria)
        #expect(Self.shape(quiet) == Self.shape(fresh), "\(quiet.text) vs \(fresh.text)")
        let quietUser = try #require(quiet.json["user"] as? [String: Any])
        #expect(quietUser["email"] as? String == "bruno@beta.com.br" && quietUser["organization_id"] as? String == organizationID)
        let staff = try gateway.request("POST", "/v1/invitations", json: ["email": "ana@suporte.example", "display_name": "Ana"], bearer: maria)
        #expect(Self.shape(staff) == Self.shape(fresh), "\(staff.text)")

        // Nothing made: Bruno's account is as it was, and the token in the answer opens nothing.
        let token = try #require(quiet.json["token"] as? String)
        let accept = try gateway.request("POST", "/v1/invitations/accept", json: ["token": token, "password": "Senha-Tomada-2026!"])
        #expect(accept.status == 400, "\(accept.text)")
        _ = try gateway.token("bruno@beta.com.br", "Us3r-Passw0rd!x")
        let again = try gateway.request("GET", "/v1/me", bearer: bruno.token)
        #expect(again.status == 200 && (again.json["principal"] as? [String: Any])?["organization_id"] as? String == bruno.organizationID,
                "\(again.text)")

        // The owners are told, without a link; the new address gets its invitation.
        #expect(waitFor(20) { InvitationMailTests.subjects(sink, to: "bruno@beta.com.br").count == 1
            && InvitationMailTests.subjects(sink, to: "ana@suporte.example").count == 1 })
        #expect(InvitationMailTests.subjects(sink, to: "bruno@beta.com.br") == ["Tentativa de convite de Acme / Invitation attempt from Acme"])
        let mails = try NotificationsPageTests.mails(in: sink.directory)
        let notice = try #require(mails.first { (($0["envelope"] as? [String: Any])?["to"] as? [String] ?? []).contains("bruno@beta.com.br") })
        let text = notice["text"] as? String ?? ""
        let portuguese = try #require(text.range(of: "Alguém da empresa Acme tentou convidar este endereço"), "\(text)")
        let english = try #require(text.range(of: "Someone at Acme tried to invite this address"), "\(text)")
        #expect(portuguese.lowerBound < english.lowerBound)
        #expect(!text.contains("#token=") && !text.contains("/portal/convite") && text.contains("/portal/"), "\(text)")
        #expect(InvitationMailTests.subjects(sink, to: "novo@acme.com.br") == ["Convite para o portal de suporte de Acme"])

        // Listed as a pending invitation; managed as one.
        func listed(_ email: String) throws -> [String: Any]? {
            let users = try gateway.request("GET", "/v1/users", bearer: maria).json["users"] as? [[String: Any]] ?? []
            return users.first { $0["email"] as? String == email }
        }
        let row = try #require(try listed("bruno@beta.com.br"))
        #expect(row["status"] as? String == "invited" && row["id"] as? String == quietUser["id"] as? String, "\(row)")
        let id = try #require(row["id"] as? String)
        let resent = try gateway.request("POST", "/v1/users/\(id)/resend-invitation", bearer: maria)
        #expect(resent.status == 200 && resent.json["token"] != nil, "\(resent.text)")
        #expect(waitFor(20) { InvitationMailTests.subjects(sink, to: "bruno@beta.com.br").count == 2 })
        #expect(try gateway.request("POST", "/v1/users/\(id)/disable", bearer: maria).status == 204)
        #expect(try listed("bruno@beta.com.br")?["status"] as? String == "disabled")
        let pending = try gateway.request("POST", "/v1/users/\(id)/resend-invitation", bearer: maria)
        #expect(pending.status == 409 && pending.errorCode == "INVITATION_NOT_PENDING", "\(pending.text)")
        #expect(try gateway.request("POST", "/v1/users/\(id)/enable", bearer: maria).status == 204)
        #expect(try listed("bruno@beta.com.br")?["status"] as? String == "invited")
        // Its contact deactivated, it reads as a real sign-in would: disabled by the contact.
        let quietContact = try #require(quietUser["contact_id"] as? String)
        let off = try gateway.request("POST", "/v1/contacts/\(quietContact)/active", json: ["active": false], bearer: maria)
        #expect(off.status == 200, "\(off.text)")
        #expect(waitFor(10) { (try? listed("bruno@beta.com.br"))?["disabled_by"] as? String == "contact" })
        #expect(try listed("bruno@beta.com.br")?["status"] as? String == "disabled")
        let on = try gateway.request("POST", "/v1/contacts/\(quietContact)/active", json: ["active": true], bearer: maria)
        #expect(on.status == 200, "\(on.text)")
        #expect(waitFor(10) { (try? listed("bruno@beta.com.br"))?["status"] as? String == "invited" })
        // Support's list has no such sign-in; support's ids are not the company's.
        let supportList = try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? []
        #expect(supportList.filter { $0["email"] as? String == "bruno@beta.com.br" }.count == 1)
        #expect(try gateway.request("POST", "/v1/users/\(id)/disable", bearer: admin).status == 404)

        // Again: the 409 a second real invitation gives, for the address and for its contact.
        for email in ["bruno@beta.com.br", "novo@acme.com.br"] {
            let twice = try gateway.request("POST", "/v1/invitations", json: ["email": email, "display_name": "X"], bearer: maria)
            #expect(twice.status == 409 && twice.text.contains("\"taken\""), "\(email): \(twice.text)")
        }
        for invited in [quietUser, try #require(fresh.json["user"] as? [String: Any])] {
            let contact = try #require(invited["contact_id"] as? String)
            let same = try gateway.request("POST", "/v1/invitations", json: ["email": "outro.\(contact.suffix(4))@acme.com.br",
                                                                             "display_name": "Outro", "contact_id": contact], bearer: maria)
            #expect(same.status == 409 && same.text.contains("has_sign_in"), "\(same.text)")
        }

        // What she is entitled to know stays: her own company's sign-in, and support's precise answer.
        let own = try gateway.request("POST", "/v1/invitations", json: ["email": "maria@acme.com.br", "display_name": "Maria"], bearer: maria)
        #expect(own.status == 409 && own.text.contains("\"taken\""), "\(own.text)")
        let bySupport = try gateway.request("POST", "/v1/invitations", json: ["email": "bruno@beta.com.br", "display_name": "Bruno",
                                                                               "organization_id": organizationID], bearer: admin)
        #expect(bySupport.status == 409 && bySupport.text.contains("\"taken\""), "\(bySupport.text)")
    }

    @Test("""
          the time does not tell either: with notification not answering, a quiet invitation waits for its notice's call as a \
          fresh one waits for its e-mail's
          """)
    func comparableTiming() throws {
        let silent = try ListeningSocket(host: "127.0.0.1", port: 0)
        defer { silent.close() }
        // Connections are accepted, never answered.
        let listener = try #require(silent.take(blocking: true))
        Thread.detachNewThread { while accept(listener, nil, nil) >= 0 {} }
        let setup = try SeededDeployment(engine: .sqlite, gatewayEnvironment: ["NOTIFICATION_ADDRESSES": "127.0.0.1:\(silent.port)"])
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let other = try gateway.createOutsider(admin: seeded.admin, email: "bruno@beta.com.br")
        try gateway.createUser(admin: seeded.admin, email: "carla@beta.com.br", role: "customer_contact", organization: other.organizationID,
                               contact: try #require(try gateway.request("POST", "/v1/organizations/\(other.organizationID)/contacts",
                                   json: ["name": "Carla", "email": "carla@beta.com.br", "authorized": true], bearer: seeded.admin).json["id"] as? String))
        func timed(_ email: String) throws -> Double {
            let start = Date()
            let invited = try gateway.request("POST", "/v1/invitations", json: ["email": email, "display_name": "Pessoa"], bearer: seeded.maria)
            #expect(invited.status == 201, "\(invited.text)")
            return Date().timeIntervalSince(start)
        }
        // Each call to the silent notification waits out the client's connect timeout (2 s) once
        // per attempt it makes within the call's 5 s deadline: how many depends on the client's
        // reconnect backoff (with jitter), not on the kind of invitation. So each answer takes a
        // whole number of connect timeouts, or the deadline, the quiet ones as the fresh ones; a fixed
        // difference between two samples was flaky (4.08 s quiet against 2.02 s fresh in one CI run).
        _ = try timed("primeiro@acme.com.br")
        let times = [try timed("bruno@beta.com.br"), try timed("novo@acme.com.br"), try timed("carla@beta.com.br"),
                     try timed("nova@acme.com.br")]
        let (connectTimeout, deadline) = (2.0, 5.0)
        for time in times {
            // Without the notice's call a quiet invitation answered in milliseconds.
            #expect(time >= connectTimeout * 0.9, "\(times)")
            let waits = (time / connectTimeout).rounded()
            #expect((waits >= 1 && abs(time - waits * connectTimeout) < 0.6) || abs(time - deadline) < 0.6, "\(times)")
        }
    }
}
