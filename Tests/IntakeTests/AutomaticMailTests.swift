import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Mail sent by programs (RFC 3834): out-of-office answers to our notifications, vacation
/// programs, mailing lists, delivery reports. They must neither open tickets nor land on one as
/// the customer's reply (an out-of-office would reopen or flood the ticket and loop with the next
/// notification), and nobody answers them; they are held for agents (docs/INTAKE.md, "E-mail").
@Suite("E-mail from programs", .serialized)
struct AutomaticMailTests {
    static func withHeaders(_ raw: [UInt8], _ headers: String, messageID: String? = nil) -> [UInt8] {
        var text = String(decoding: raw, as: UTF8.self)
        text = headers + text
        if let messageID {
            let start = text.range(of: "Message-ID: <")!
            let end = text[start.upperBound...].firstIndex(of: ">")!
            text.replaceSubrange(start.upperBound..<end, with: messageID)
        }
        return Array(text.utf8)
    }

    @Test("an out-of-office answering a notification, a vacation reply, a list's mail and a delivery report from a contact open nothing and add no reply; `intake ingest-mail` exits 0 with `automatic` (the MTA bounces nothing); the message is held and an agent may still reprocess it",
          arguments: TestEngines.all)
    func automaticMail(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let (opened, ticket) = try harness.ingestCommand(try Fixtures.bytes("thunderbird-new-ticket.eml"))
        #expect(opened == 0 && ticket["outcome"] == "opened", "\(ticket)")
        let ticketID = ticket["ticket_id"] ?? ""
        let reply = try Fixtures.text("gmail-reply.eml", replacing: ["{{TOKEN}}": tokens.token(ticketID: ticketID)])

        let outOfOffice = Self.withHeaders(reply, "Auto-Submitted: auto-replied\r\n", messageID: "ooo-1@mail.gmail.com")
        let vacation = Self.withHeaders(try Fixtures.bytes("thunderbird-new-ticket.eml"), "X-Autoreply: yes\r\n", messageID: "vacation-1@acme.example")
        let list = Self.withHeaders(try Fixtures.bytes("thunderbird-new-ticket.eml"), "Precedence: bulk\r\n", messageID: "list-1@acme.example")
        let report = Array("""
            From: Mail Delivery Subsystem <MAILER-DAEMON@acme.example>\r
            To: maria@acme.example\r
            Subject: Undelivered Mail Returned to Sender\r
            Message-ID: <dsn-1@acme.example>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r
            \r
            --b\r
            Content-Type: text/plain\r
            \r
            Your message could not be delivered.\r
            --b\r
            Content-Type: message/delivery-status\r
            \r
            Reporting-MTA: dns; mx.acme.example\r
            \r
            Final-Recipient: rfc822; ninguem@acme.example\r
            Action: failed\r
            Status: 5.1.1\r
            --b--\r

            """.utf8)
        var held: [String] = []
        for (name, raw, why) in [("out-of-office", outOfOffice, "Auto-Submitted: auto-replied"), ("vacation", vacation, "X-Autoreply: yes"),
                                 ("list", list, "Precedence: bulk"), ("report", report, "mailer-daemon")] {
            let (status, result) = try harness.ingestCommand(raw)
            #expect(status == 0 && result["outcome"] == "automatic", "\(name): \(status) \(result)")
            #expect(result["reason"]?.contains("mensagem automática") == true && result["reason"]?.contains(why) == true, "\(name): \(result)")
            held.append(result["quarantine_id"] ?? "")
        }
        #expect(try harness.count("tickets") == 1)
        #expect(try harness.intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent())).messages.count == 0)
        #expect(try harness.events(IntakeV1.CustomerReplied.self).isEmpty)
        let quarantined = try harness.quarantined()
        #expect(Set(quarantined.map(\.id)) == Set(held) && quarantined.allSatisfy { $0.kind == .quarantineRejected })

        // A person's reply on the same thread still lands on the ticket.
        let (status, person) = try harness.ingestCommand(reply)
        #expect(status == 0 && person["outcome"] == "replied", "\(person)")

        // An agent who reads the vacation reply and wants it as a ticket reprocesses it.
        var get = IntakeV1.QuarantinedMailRequest()
        get.id = held[1]
        let reprocessed = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, get, options: harness.staff)
        #expect(reprocessed.outcome == "opened" && reprocessed.mail?.status == .quarantineReprocessed)
    }

    @Test("automatic messages are never answered either, and a person's ordinary mail is not automatic")
    func neverAnswered() throws {
        let plain = try MailMessage(raw: Fixtures.bytes("thunderbird-new-ticket.eml"))
        #expect(plain.automaticReason == nil && MailBounce.mayAnswer(plain))
        for header in ["Auto-Submitted: auto-generated", "Precedence: auto_reply", "X-Autorespond: 1", "Return-Path: <>"] {
            let mail = try MailMessage(raw: Self.withHeaders(Fixtures.bytes("thunderbird-new-ticket.eml"), header + "\r\n"))
            #expect(mail.automaticReason != nil && !MailBounce.mayAnswer(mail), "\(header)")
        }
        let lenient = try #require(MailMessage(lenient: Array("junk line\r\nFrom: maria@acme.example\r\nX-Autoreply: yes\r\n\r\n".utf8)))
        #expect(lenient.automaticReason == "X-Autoreply: yes")
    }
}
