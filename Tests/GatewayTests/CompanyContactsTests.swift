import Foundation
import Testing
import TestSupport

/// A customer company's first access, as its people live it: the company's administrator manages
/// its contacts in the portal and everyone changes their own password there.
@Suite("The company's contacts and the account page in a real headless browser")
struct CompanyContactsTests {
    @Test("the company's administrator invites a colleague on the contacts page; the e-mailed link sets his password; he sees the company's tickets and changes his password on his account page; deactivated he cannot sign in, reactivated he can")
    func inBrowser() throws {
        try PortalBrowser.requireChromium()
        try #require(SMTPSink.isAvailable, "python3 and the SMTP sink script are needed")
        let sink = try SMTPSink()
        defer { sink.process.terminate() }
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: ["NOTIFICATION_SMTP_URL": sink.url])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        _ = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Pedido aberto pela Maria")
        let result = try PortalBrowser.run("company_contacts.py", gateway, [sink.directory],
                                           environment: ["PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))

        // What the pages did is stored: João is an active, authorized contact of Acme with his own
        // sign-in (the second password), and he sees the company's ticket.
        let contactID = PortalBrowser.value(result.output)
        let contacts = try gateway.request("GET", "/v1/organizations/\(seeded.organizationID)/contacts?include_inactive=true", bearer: seeded.admin)
        let joao = try #require((contacts.json["contacts"] as? [[String: Any]])?.first { $0["id"] as? String == contactID }, "\(contacts.text)")
        #expect(joao["name"] as? String == "João Lima" && joao["email"] as? String == "joao.lima@acme.com.br")
        #expect(joao["active"] as? Bool == true && joao["authorized"] as? Bool == true)
        let token = try gateway.token("joao.lima@acme.com.br", "Outra-Senha-Forte-9")
        #expect(try gateway.request("GET", "/v1/me", bearer: token).json["principal"].flatMap { ($0 as? [String: Any])?["id"] as? String } == contactID)
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?page_size=50", bearer: token).text.contains("Pedido aberto pela Maria") })
    }
}
