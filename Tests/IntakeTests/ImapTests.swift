import Foundation
import IntakeCore
import Messages
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("E-mail by IMAP polling (real dovecot)", .serialized, .enabled(if: DovecotServer.isAvailable))
struct ImapTests {
    @Test("the service polls a dovecot mailbox: new mail opens tickets, replies thread, rejected mail is flagged, nothing is taken twice", arguments: TestEngines.all)
    func polling(engine: DatabaseEngine) throws {
        let dovecot = try DovecotServer()
        defer { dovecot.stop() }
        let harness = try IntakeHarness(engine, environment: [
            "INTAKE_IMAP_URL": dovecot.url, "INTAKE_IMAP_USER": dovecot.user, "INTAKE_IMAP_PASSWORD": dovecot.password,
            "INTAKE_IMAP_INTERVAL_SECONDS": "0.2",
        ])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        try dovecot.deliver(Fixtures.bytes("thunderbird-new-ticket.eml"))
        try dovecot.deliver(Fixtures.bytes("unknown-sender.eml"))
        func waitFor(_ condition: () throws -> Bool) throws -> Bool {
            let limit = Date().addingTimeInterval(20)
            while Date() < limit {
                if try condition() { return true }
                usleep(100_000)
            }
            return try condition()
        }
        #expect(try waitFor { try harness.count("tickets") == 1 })
        let mailbox = ImapMailbox(url: dovecot.url, user: dovecot.user, password: dovecot.password)
        #expect(try waitFor { try mailbox.unseen().isEmpty && mailbox.search("FLAGGED").count == 1 }, "the unknown sender's mail is flagged")
        let ticketID = try harness.database.read { try $0.scalar("SELECT id FROM tickets") }
        guard case .text(let id) = ticketID else { Issue.record("no ticket"); return }

        // A reply to the notification, with its signed token, threads onto the ticket.
        let token = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8))).token(ticketID: id)
        try dovecot.deliver(Fixtures.text("gmail-reply.eml", replacing: ["{{TOKEN}}": token]))
        // The same message delivered twice (a mail loop, a resend) is taken once.
        try dovecot.deliver(Fixtures.bytes("thunderbird-new-ticket.eml"))
        #expect(try waitFor { try harness.count("ticket_messages") == 1 && mailbox.unseen().isEmpty })
        #expect(try harness.count("tickets") == 1)
        #expect(try harness.events(IntakeV1.CustomerReplied.self).first?.channel == "email")
    }
}
