import Foundation
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

    @Test("an agent's, a chefe's and an administrator's invitation names the support team; a customer's names the company")
    func staffInvitationReadsProperly() throws {
        try #require(SMTPSink.isAvailable, "python3 and the SMTP sink script are needed")
        let sink = try SMTPSink()
        defer { sink.stop() }
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: ["NOTIFICATION_SMTP_URL": sink.url,
                                                                                         "NOTIFICATION_MAIL_FROM_NAME": "Central de TI"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
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
}
