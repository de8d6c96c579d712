import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Delivery status notifications (RFC 3464) about our e-mails mark them bounced.
@Suite("Notification: bounces (DSN)", .serialized)
struct BounceTests {
    /// A report as Postfix writes it, about `messageID`, with the given action and status.
    static func report(messageID: String, recipient: String, action: String, status: String) -> [UInt8] {
        Array("""
        Return-Path: <>
        From: MAILER-DAEMON@mx.cliente.example (Mail Delivery System)
        To: suporte@suporte.example
        Subject: Undelivered Mail Returned to Sender
        Message-ID: <20261129045500.ABC123@mx.cliente.example>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="B0UND"

        --B0UND
        Content-Type: text/plain; charset=us-ascii

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients.

        --B0UND
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.cliente.example
        Arrival-Date: Sun, 29 Nov 2026 04:55:00 +0000

        Final-Recipient: rfc822; \(recipient)
        Original-Recipient: rfc822;\(recipient)
        Action: \(action)
        Status: \(status)
        Diagnostic-Code: smtp; 550 5.1.1 <\(recipient)>: Recipient address
            rejected: User unknown

        --B0UND
        Content-Type: text/rfc822-headers

        From: Suporte <suporte@suporte.example>
        To: \(recipient)
        Subject: [2026-000123] Ocorrência aberta
        Message-ID: <\(messageID)>

        --B0UND--
        """.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    @Test("A failed DSN marks the sent e-mail bounced once, with the diagnostic, and tells workflow; others change nothing",
          arguments: TestEngines.all)
    func bounced(engine: DatabaseEngine) throws {
        let mail = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mail.path)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let events = (1...2).map { Events.opened(ticketID: "t-bounce-\($0)", contactEmail: "sumido\($0)@cliente.example") }
        try harness.deliver(events.map { Events.envelope($0, key: $0.ticketID) })
        #expect(waitFor(15) { (try? harness.stats().sent) == 2 })
        let first = try #require(try harness.deliveries(ticketID: "t-bounce-1").first)
        let second = try #require(try harness.deliveries(ticketID: "t-bounce-2").first)
        let admin = harness.options(NotificationHarness.administrator())
        var request = NotificationV1.ReportBounceRequest()
        request.message = Self.report(messageID: first.messageID, recipient: "sumido1@cliente.example", action: "failed", status: "5.1.1")
        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.reportBounce, request, options: harness.options(NotificationHarness.agent()))
        }
        let answer = try harness.client.call(NotificationV1.Notification.reportBounce, request, options: admin)
        #expect(answer.recognized && answer.action == "failed" && answer.status == "5.1.1")
        #expect(answer.delivery?.state == "bounced")
        #expect(answer.delivery?.serverAnswer.contains("User unknown") == true, "\(answer.delivery?.serverAnswer ?? "")")
        #expect(try harness.emailSentEvents().filter { $0.ticketID == "t-bounce-1" }.map(\.outcome) == ["sent", "bounced"])
        // The same report again: nothing new.
        _ = try harness.client.call(NotificationV1.Notification.reportBounce, request, options: admin)
        #expect(try harness.emailSentEvents().filter { $0.ticketID == "t-bounce-1" }.count == 2)
        // A delay warning is recognized but the message stays sent.
        request.message = Self.report(messageID: second.messageID, recipient: "sumido2@cliente.example", action: "delayed", status: "4.4.1")
        let delayed = try harness.client.call(NotificationV1.Notification.reportBounce, request, options: admin)
        #expect(delayed.recognized && delayed.action == "delayed" && delayed.delivery?.state == "sent")
        // Not one of ours.
        request.message = Self.report(messageID: "outra.mensagem@externo.example", recipient: "x@cliente.example", action: "failed", status: "5.0.0")
        #expect(try harness.client.call(NotificationV1.Notification.reportBounce, request, options: admin).recognized == false)
        request.message = Array("Subject: oi\r\n\r\nnão é um relatório\r\n".utf8)
        #expect(try harness.client.call(NotificationV1.Notification.reportBounce, request, options: admin).recognized == false)
        #expect(try harness.stats().bounced == 1)
    }

    @Test("Report parsing: folded fields, recipient fields, our Message-ID forms")
    func parsing() throws {
        let raw = Self.report(messageID: "n.0123456789abcdef0123456789abcdef.tok@suporte.example", recipient: "a@b.example",
                              action: "failed", status: "5.1.1")
        let report = try #require(DeliveryStatusReport.parse(raw))
        #expect(report.originalMessageID == "n.0123456789abcdef0123456789abcdef.tok@suporte.example")
        #expect(report.recipients == [.init(address: "a@b.example", action: "failed", status: "5.1.1",
                                            diagnostic: "550 5.1.1 <a@b.example>: Recipient address rejected: User unknown")])
        #expect(DeliveryStatusReport.deliveryID(inMessageID: report.originalMessageID) == "0123456789abcdef0123456789abcdef")
        #expect(DeliveryStatusReport.deliveryID(inMessageID: "n.0123456789abcdef0123456789abcdef@suporte.example")
                == "0123456789abcdef0123456789abcdef")
        #expect(DeliveryStatusReport.deliveryID(inMessageID: "n.xyz.tok@suporte.example") == nil)
    }
}
