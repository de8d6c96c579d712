import Foundation
import MailKit
import IntakeCore
import Messages
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("E-mail by IMAP (real dovecot)", .serialized, .enabled(if: IMAPTestServer.isAvailable))
struct ImapTests {
    @Test("the service polls a dovecot mailbox (IDLE off): new mail opens tickets, replies thread, rejected mail is flagged, nothing is taken twice", arguments: TestEngines.all)
    func polling(engine: DatabaseEngine) throws {
        let dovecot = try IMAPTestServer()
        defer { dovecot.stop() }
        let harness = try IntakeHarness(engine, environment: dovecot.intakeEnvironment(interval: "0.2"))
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        try dovecot.deliver(Fixtures.bytes("thunderbird-new-ticket.eml"))
        try dovecot.deliver(Fixtures.bytes("unknown-sender.eml"))
        #expect(try waitFor { try harness.count("tickets") == 1 })
        let mailbox = IMAPMailbox(url: dovecot.url, user: dovecot.user, password: dovecot.password)
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

    @Test("through a real dovecot: a redelivery with more Received headers is one ticket, a different message reusing its Message-ID a second",
          arguments: TestEngines.all)
    func reusedMessageID(engine: DatabaseEngine) throws {
        let dovecot = try IMAPTestServer()
        defer { dovecot.stop() }
        let harness = try IntakeHarness(engine, environment: dovecot.intakeEnvironment(interval: "0.2"))
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        let mailbox = IMAPMailbox(url: dovecot.url, user: dovecot.user, password: dovecot.password)
        try dovecot.deliver(MailReusedMessageIDTests.raw(id: "fixed"))
        #expect(try waitFor { try harness.count("tickets") == 1 && mailbox.unseen().isEmpty })
        try dovecot.deliver(MailReusedMessageIDTests.raw(id: "fixed", trace: MailReusedMessageIDTests.transport))
        try dovecot.deliver(MailReusedMessageIDTests.raw(id: "fixed", body: "O pedido 4712 também."))
        #expect(try waitFor { try harness.count("tickets") == 2 && mailbox.unseen().isEmpty })
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try harness.count("tickets") == 2)
    }

    @Test("with IDLE new mail is taken in at once, moved to the processed folder; a rejected message is flagged and bounced through SMTP",
          .enabled(if: SMTPSink.isAvailable), arguments: TestEngines.all)
    func idleMoveAndBounce(engine: DatabaseEngine) throws {
        let dovecot = try IMAPTestServer()
        defer { dovecot.stop() }
        let smtp = try SMTPSink()
        defer { smtp.stop() }
        // Polling every 120 s: anything taken in within seconds came through IDLE.
        let harness = try IntakeHarness(engine, environment: dovecot.intakeEnvironment(interval: "120", idle: true, smtp: smtp.url, [
            "INTAKE_IMAP_PROCESSED_FOLDER": "Processadas",
        ]))
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        let inbox = IMAPMailbox(url: dovecot.url, user: dovecot.user, password: dovecot.password)
        let processed = IMAPMailbox(url: dovecot.url.replacingOccurrences(of: "/INBOX", with: "/Processadas"),
                                    user: dovecot.user, password: dovecot.password)
        #expect(try inbox.supportsIdle())
        // The folder is created by the first round; then the poller connects, polls once more and
        // enters IDLE. Wait for that state instead of a fixed pause (a second was not always
        // enough on a loaded machine); the server looks at the mailbox when IDLE starts, so mail
        // delivered from here on is reported through IDLE.
        let poller = try #require(harness.mailPoller)
        #expect(waitFor(10) { (try? processed.search("ALL")) != nil })
        try #require(waitFor(30) { poller.isIdling }, "the poller never entered IDLE")

        try dovecot.deliver(Fixtures.bytes("thunderbird-new-ticket.eml"))
        #expect(try waitFor(10) { try harness.count("tickets") == 1 }, "taken in through IDLE, long before the next poll")
        #expect(try waitFor(10) { try processed.search("ALL").count == 1 && inbox.search("ALL").isEmpty }, "moved out of INBOX")

        try dovecot.deliver(Fixtures.bytes("unknown-sender.eml"))
        try dovecot.deliver(Fixtures.text("unknown-sender.eml",
                                          replacing: ["Message-ID: <unknown-1@": "Auto-Submitted: auto-replied\nMessage-ID: <unknown-2@"]))
        #expect(try waitFor(10) { try inbox.search("FLAGGED").count == 2 && inbox.unseen().isEmpty }, "rejected mail stays, flagged")
        #expect(waitFor(10) { smtp.messages().count == 1 }, "one bounce: the automatic message is not answered")
        Thread.sleep(forTimeInterval: 0.5)
        let bounces = smtp.messages()
        #expect(bounces.count == 1)
        #expect(smtp.recipients() == [["alguem@desconhecido.example"]])
        let bounce = bounces.first ?? ""
        #expect(bounce.contains("Auto-Submitted: auto-replied"))
        #expect(bounce.contains("In-Reply-To: <unknown-1@desconhecido.example>"))
        #expect(bounce.contains("Preciso de ajuda"))
        #expect(bounce.contains("Motivo:") && bounce.contains("Reason:"))
        #expect(try processed.search("ALL").count == 1)
        #expect(try harness.count("tickets") == 1)
    }

    @Test("one mailbox logs in once for many commands, and reconnects when the server drops the connection")
    func connectionReuse() throws {
        let dovecot = try IMAPTestServer()
        defer { dovecot.stop() }
        try dovecot.deliver(Fixtures.bytes("thunderbird-new-ticket.eml"))
        let inbox = IMAPMailbox(url: dovecot.url, user: dovecot.user, password: dovecot.password)
        for _ in 0..<5 { #expect(try inbox.search("ALL").count == 1) }
        let uid = try #require(try inbox.unseen().first)
        #expect(try MailMessage(raw: inbox.fetch(uid)).messageID == "4f2a9c1e-7b3d-4e55-9a1c-2d8e6f0b1a77@acme.example")
        try inbox.setFlags(uid, "\\Flagged", add: true)
        #expect(try inbox.search("FLAGGED") == [uid])
        #expect(waitFor { dovecot.logins == 1 }, "9 commands, one login (got \(dovecot.logins))")
        // The server ends the session (as on its idle timeout): the next command reconnects.
        try dovecot.kickAll()
        #expect(try inbox.search("ALL").count == 1)
        #expect(waitFor { dovecot.logins == 2 })
    }

    @Test("a message that keeps failing (the attachment store is broken) is held as failed after the bounded rounds, the mail after it still comes in, and it opens its ticket when reprocessed after the fix",
          arguments: TestEngines.all)
    func poisonMessage(engine: DatabaseEngine) throws {
        let dovecot = try IMAPTestServer()
        defer { dovecot.stop() }
        let harness = try IntakeHarness(engine, environment: dovecot.intakeEnvironment(interval: "0.2", [
            "INTAKE_IMAP_MAX_FAILURES": "3",
            // The message's small attachment would be kept in the database: every content goes
            // through the (broken) file store instead.
            "INTAKE_INLINE_CONTENT_BYTES": "0",
        ]))
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        _ = try harness.contact(acme, "João Lima", email: "joao@acme.example")
        // Uploads stream into <attachments>/tmp: a file in its place makes every upload fail.
        let temporary = harness.intake.contents.root + "/tmp"
        try FileManager.default.removeItem(atPath: temporary)
        try Data("x".utf8).write(to: URL(fileURLWithPath: temporary))
        try dovecot.deliver(Fixtures.bytes("thunderbird-new-ticket.eml"))
        try dovecot.deliver(Fixtures.bytes("outlook-html-only.eml"))
        #expect(try waitFor(15) { try harness.count("mail_quarantine") == 1 && harness.count("tickets") == 1 },
                "the one with an attachment is held, the one after it (no attachment) opens its ticket")
        let held = try #require(try harness.quarantined().first)
        #expect(held.kind == .quarantineFailed && held.bounceStatus == .bounceNone && held.reason.contains("internal failure"))
        let inbox = IMAPMailbox(url: dovecot.url, user: dovecot.user, password: dovecot.password)
        #expect(try waitFor { try inbox.search("FLAGGED").count == 1 && inbox.unseen().isEmpty })

        try FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        var request = IntakeV1.QuarantinedMailRequest()
        request.id = held.id
        let reprocessed = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, request, options: harness.staff)
        #expect(reprocessed.outcome == "opened")
        let ticket = try harness.intake.getTicket(reprocessed.mail?.ticketID ?? "", caller: Caller(IntakeHarness.agent()))
        #expect(ticket.attachments.map(\.fileName) == ["relatório.pdf"])
    }

    @Test("a server without IDLE is polled", arguments: TestEngines.all)
    func fallbackToPolling(engine: DatabaseEngine) throws {
        let dovecot = try IMAPTestServer(capabilities: "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE MOVE UIDPLUS")
        defer { dovecot.stop() }
        let harness = try IntakeHarness(engine, environment: dovecot.intakeEnvironment(interval: "0.3", idle: true))
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        // The poller has asked for IDLE and fallen back to polling (a fixed second's pause stood
        // for this): the mail delivered now is taken in by a later poll.
        let poller = try #require(harness.mailPoller)
        try #require(waitFor(15) { poller.pollsWithoutIdle }, "the poller never found that the server has no IDLE")
        #expect(!poller.isIdling)
        try dovecot.deliver(Fixtures.bytes("thunderbird-new-ticket.eml"))
        #expect(try waitFor(10) { try harness.count("tickets") == 1 })
        let inbox = IMAPMailbox(url: dovecot.url, user: dovecot.user, password: dovecot.password)
        #expect(try inbox.supportsIdle() == false)
        #expect(try inbox.search("ALL").count == 1, "no processed folder configured: the message stays, seen")
    }
}
