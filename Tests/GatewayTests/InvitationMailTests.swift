import Foundation
import Messages
import Storage
import Testing
import TestSupport

/// The invitation e-mails as the invited read them, through a real SMTP sink: a customer's names
/// the company, a staff member's names the support team (the deployment's sender name), never a
/// sentence cut short ("portal de suporte de ."); and a pending invitation resent.
@Suite("Invitation e-mails through a real SMTP sink", .serialized)
struct InvitationMailTests {
    /// The `Subject:` header of each message the sink received for `address`.
    static func subjects(_ sink: SMTPSink, to address: String) -> [String] {
        zip(sink.messages(), sink.recipients()).compactMap { message, recipients in
            guard recipients.contains(address) else { return nil }
            return message.split(separator: "\r\n", omittingEmptySubsequences: false)
                .first { $0.hasPrefix("Subject: ") }.map { String($0.dropFirst("Subject: ".count)) }
        }
    }

    /// A deployment whose notification sends to a fresh SMTP sink (`environment`: more of the
    /// services' variables), seeded as ``TicketFlowTests/seed(_:)``.
    static func deployment(_ engine: DatabaseEngine, _ environment: [String: String] = [:]) throws
        -> (SMTPSink, ProxyTests.Deployment, TicketFlowTests.Seeded) {
        try #require(SMTPSink.isAvailable, "python3 and the SMTP sink script are needed")
        let sink = try SMTPSink()
        let deployment = try ProxyTests.Deployment(engine: engine, serviceEnvironment: environment.merging(["NOTIFICATION_SMTP_URL": sink.url]) { a, _ in a })
        return (sink, deployment, try TicketFlowTests.seed(deployment.gateway))
    }

    @Test("an agent's, a chefe's and an administrator's invitation names the support team; a customer's names the company")
    func staffInvitationReadsProperly() throws {
        let (sink, deployment, seeded) = try Self.deployment(.sqlite, ["NOTIFICATION_MAIL_FROM_NAME": "Central de TI"])
        defer { sink.stop() }
        let gateway = deployment.gateway
        for (email, role) in [("novo.agente@suporte.example", "agent"), ("nova.chefe@suporte.example", "chefe"),
                              ("novo.admin@suporte.example", "administrator")] {
            let invited = try gateway.request("POST", "/v1/invitations", json: ["email": email, "display_name": "Pessoa", "role": role],
                                              bearer: seeded.admin)
            #expect(invited.status == 201, "\(invited.text)")
        }
        let customer = try gateway.request("POST", "/v1/invitations", json: ["email": "jose@acme.com.br", "display_name": "José",
                                                                             "organization_id": seeded.organizationID], bearer: seeded.admin)
        #expect(customer.status == 201, "\(customer.text)")
        #expect(waitFor(20) { sink.messages().count >= 4 })
        for email in ["novo.agente@suporte.example", "nova.chefe@suporte.example", "novo.admin@suporte.example"] {
            #expect(Self.subjects(sink, to: email) == ["Convite para a equipe de suporte (Central de TI)"], "\(email)")
        }
        #expect(Self.subjects(sink, to: "jose@acme.com.br") == ["Convite para o portal de suporte de Acme"])
        #expect(!sink.messages().contains { $0.contains("suporte de .") || $0.contains("suporte de \r\n") })
    }

    @Test("a representative's person's invitation says what a representative does there (opens tickets for the customers represented), in Portuguese, and in English for an English reader; not the staff's wording")
    func representativeInvitationReadsAsSuch() throws {
        let (sink, deployment, seeded) = try Self.deployment(.sqlite, ["NOTIFICATION_MAIL_FROM_NAME": "Central de TI"])
        defer { sink.stop() }
        let gateway = deployment.gateway
        let representative = try gateway.request("POST", "/v1/representatives", json: [
            "name": "Revenda Sul", "email": "contato@revendasul.com.br", "active": true, "organization_ids": [seeded.organizationID]],
                                                 bearer: seeded.admin)
        #expect(representative.status == 201, "\(representative.text)")
        let representativeID = try #require(representative.json["id"] as? String)
        let person = try gateway.request("POST", "/v1/representatives/\(representativeID)/contacts", json: [
            "name": "Rui", "email": "rui@revendasul.com.br", "active": true], bearer: seeded.admin)
        #expect(person.status == 201, "\(person.text)")
        let invited = try gateway.request("POST", "/v1/invitations", json: [
            "email": "rui@revendasul.com.br", "display_name": "Rui", "role": "representative", "representative_id": representativeID,
            "contact_id": try #require(person.json["id"] as? String)], bearer: seeded.admin)
        #expect(invited.status == 201, "\(invited.text)")
        // The English template, as notification sends it to a reader whose locale is English.
        let (client, options) = gateway.direct("notification", as: GatewayHarness.administrator)
        defer { client.close() }
        var english = NotificationV1.SendAccountEmailRequest()
        english.kind = "representative_invitation"
        english.to = "paula@revendasul.com.br"
        english.name = "Paula"
        english.link = "http://127.0.0.1:8080/portal/convite#token=abc"
        english.expiresAtMs = Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000
        english.locale = "en"
        _ = try client.call(NotificationV1.Notification.sendAccountEmail, english, options: options)
        #expect(waitFor(20) { sink.messages().count >= 2 })

        let mails = try NotificationsPageTests.mails(in: sink.directory)
        func mail(to address: String) -> [String: Any]? {
            mails.first { (($0["envelope"] as? [String: Any])?["to"] as? [String] ?? []).contains(address) }
        }
        let rui = try #require(mail(to: "rui@revendasul.com.br"), "\(mails)")
        let ruiSubject = (rui["headers"] as? [String: Any])?["Subject"] as? String ?? ""
        let ruiText = rui["text"] as? String ?? ""
        #expect(ruiSubject == "Convite para o portal de ocorrências como representante (Central de TI)", "\(ruiSubject)")
        #expect(ruiText.contains("Olá, Rui.") && ruiText.contains("como representante: por ele você abre ocorrências em nome dos clientes que representa"),
                "\(ruiText)")
        #expect(ruiText.contains("/portal/convite#token=") && !ruiText.contains("equipe de suporte"), "\(ruiText)")
        let paula = try #require(mail(to: "paula@revendasul.com.br"), "\(mails)")
        let paulaText = paula["text"] as? String ?? ""
        #expect((paula["headers"] as? [String: Any])?["Subject"] as? String == "Invitation to the ticket portal as a representative (Central de TI)")
        #expect(paulaText.contains("Hello Paula,") && paulaText.contains("you open tickets on behalf of the customers you represent")
                && !paulaText.contains("support team"), "\(paulaText)")
        #expect(!sink.messages().contains { $0.contains("X-Ocorrencias-Event: StaffInvitation") })
    }

    @Test("a pending invitation resent: a new link, the old one spent, a second e-mail, once per Idempotency-Key; refused with 409 once the password is set; a company's administrator only for its contacts",
          arguments: TestEngines.all)
    func resend(engine: DatabaseEngine) throws {
        let (sink, deployment, seeded) = try Self.deployment(engine)
        defer { sink.stop() }
        let gateway = deployment.gateway
        let invited = try gateway.request("POST", "/v1/invitations", json: ["email": "novo.agente@suporte.example", "display_name": "Novo",
                                                                            "role": "agent"], bearer: seeded.admin)
        #expect(invited.status == 201, "\(invited.text)")
        let userID = try #require((invited.json["user"] as? [String: Any])?["id"] as? String)
        let first = try #require(invited.json["token"] as? String)
        #expect(waitFor(20) { Self.subjects(sink, to: "novo.agente@suporte.example").count == 1 })

        // A customer's administrator may not resend a staff member's invitation.
        #expect(try gateway.request("POST", "/v1/users/\(userID)/resend-invitation", bearer: seeded.maria).status == 403)
        let resent = try gateway.request("POST", "/v1/users/\(userID)/resend-invitation", headers: ["Idempotency-Key": "reenvio-1"],
                                         bearer: seeded.admin)
        #expect(resent.status == 200, "\(resent.text)")
        let second = try #require(resent.json["token"] as? String)
        #expect(second != first)
        // A retry with the same key: the same answer, no third link, no third e-mail.
        let retried = try gateway.request("POST", "/v1/users/\(userID)/resend-invitation", headers: ["Idempotency-Key": "reenvio-1"],
                                          bearer: seeded.admin)
        #expect(retried.status == 200 && retried.json["token"] as? String == second, "\(retried.text)")
        #expect(waitFor(20) { Self.subjects(sink, to: "novo.agente@suporte.example").count == 2 })
        usleep(500_000)
        #expect(Self.subjects(sink, to: "novo.agente@suporte.example").count == 2)

        // The first link no longer works; the new one does; then there is nothing to resend.
        let password = "Senha-Nova-Forte-2026"
        let old = try gateway.request("POST", "/v1/invitations/accept", json: ["token": first, "password": password])
        #expect(old.status == 400 && old.text.contains("token"), "\(old.text)")
        #expect(try gateway.request("POST", "/v1/invitations/accept", json: ["token": second, "password": password]).status == 204)
        let refused = try gateway.request("POST", "/v1/users/\(userID)/resend-invitation", bearer: seeded.admin)
        #expect(refused.status == 409 && refused.errorCode == "INVITATION_NOT_PENDING", "\(refused.text)")
        #expect(refused.text.contains("já definiu a senha"), "\(refused.text)")
        #expect(Self.subjects(sink, to: "novo.agente@suporte.example").count == 2)
        #expect(try gateway.request("POST", "/v1/users/nao-existe/resend-invitation", bearer: seeded.admin).status == 404)
    }

    @Test("in the browser: the company's administrator resends her colleague's invitation from the contacts page, the administrator an agent's from the team page; the new e-mailed link works, the first does not")
    func resendInBrowser() throws {
        try PortalBrowser.requireChromium()
        let (sink, deployment, seeded) = try Self.deployment(.sqlite)
        defer { sink.stop() }
        let gateway = deployment.gateway
        let contact = try gateway.request("POST", "/v1/invitations", json: ["email": "jose@acme.com.br", "display_name": "José"], bearer: seeded.maria)
        #expect(contact.status == 201, "\(contact.text)")
        let first = try #require(contact.json["token"] as? String)
        let agent = try gateway.request("POST", "/v1/invitations", json: ["email": "novo.agente@suporte.example", "display_name": "Novo",
                                                                          "role": "agent"], bearer: seeded.admin)
        #expect(agent.status == 201, "\(agent.text)")
        let result = try PortalBrowser.run("resend_invitation.py", gateway, [sink.directory, "jose@acme.com.br", "novo.agente@suporte.example"],
                                           environment: ["PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)",
                                                         "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        let newest = PortalBrowser.value(result.output)
        let password = "Senha-Nova-Forte-2026"
        #expect(try gateway.request("POST", "/v1/invitations/accept", json: ["token": first, "password": password]).status == 400)
        #expect(try gateway.request("POST", "/v1/invitations/accept", json: ["token": newest, "password": password]).status == 204)
    }
}
