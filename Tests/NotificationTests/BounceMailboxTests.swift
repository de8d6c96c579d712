import Foundation
import MailKit
import Messages
@testable import NotificationCore
import Storage
import Testing
import TestSupport

/// The envelope sender's mailbox is read over IMAP (a real dovecot): delivery status
/// notifications, plain or with base64 / quoted-printable parts, mark our e-mails bounced and are
/// moved to the processed folder; other messages are flagged and left for a person.
@Suite("Notification: bounce mailbox over IMAP", .serialized, .enabled(if: IMAPTestServer.isAvailable))
struct BounceMailboxTests {
    enum Encoding { case plain, base64, quotedPrintable }

    static func base64Lines(_ text: String) -> String {
        let encoded = Data(text.utf8).base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines.joined(separator: "\n")
    }

    /// Quoted-printable with a soft line break every 40 characters (so decoding is needed to
    /// read any field) and `=` and non-ASCII bytes encoded.
    static func quotedPrintable(_ text: String) -> String {
        var out = "", column = 0
        for byte in text.utf8 {
            let piece: String
            if byte == 0x0a {
                out += "\n"
                column = 0
                continue
            } else if byte == UInt8(ascii: "=") || byte >= 0x80 {
                piece = String(format: "=%02X", byte)
            } else {
                piece = String(UnicodeScalar(byte))
            }
            if column + piece.count > 40 {
                out += "=\n"
                column = 0
            }
            out += piece
            column += piece.count
        }
        return out
    }

    /// A report about `messageID` whose delivery-status and returned-headers parts use `encoding`.
    static func report(messageID: String, recipient: String, action: String, status: String, encoding: Encoding) -> [UInt8] {
        let human = "Não foi possível entregar sua mensagem a um ou mais destinatários.\n"
        let dsn = """
            Reporting-MTA: dns; mx.cliente.example
            Arrival-Date: Sun, 29 Nov 2026 04:55:00 +0000

            Final-Recipient: rfc822; \(recipient)
            Action: \(action)
            Status: \(status)
            Diagnostic-Code: smtp; 550 5.1.1 <\(recipient)>: Recipient address rejected: User unknown in virtual mailbox table

            """
        let headers = """
            From: Suporte <suporte@suporte.example>
            To: \(recipient)
            Subject: =?UTF-8?B?W1QtMV0gT2NvcnLDqm5jaWEgYWJlcnRh?=
            Message-ID: <\(messageID)>

            """
        func part(_ type: String, _ body: String) -> String {
            switch encoding {
            case .plain: "Content-Type: \(type)\n\n\(body)"
            case .base64: "Content-Type: \(type)\nContent-Transfer-Encoding: base64\n\n\(base64Lines(body))\n"
            case .quotedPrintable: "Content-Type: \(type)\nContent-Transfer-Encoding: quoted-printable\n\n\(quotedPrintable(body))\n"
            }
        }
        let text = """
            Return-Path: <>
            From: postmaster@cliente.example
            To: suporte@suporte.example
            Subject: Delivery Status Notification (Failure)
            Message-ID: <dsn-\(UUID().uuidString)@mx.cliente.example>
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status;
            \tboundary="=_b0und_\(UUID().uuidString.prefix(6))"

            This is a MIME-encapsulated message.

            --=_b0und_X
            \(part("text/plain; charset=utf-8", human))
            --=_b0und_X
            \(part("message/delivery-status", dsn))
            --=_b0und_X
            \(part("text/rfc822-headers", headers))
            --=_b0und_X--

            """
        // One boundary throughout (the placeholder above keeps the literal readable).
        let boundary = text.components(separatedBy: "boundary=\"")[1].components(separatedBy: "\"")[0]
        return Array(text.replacingOccurrences(of: "=_b0und_X", with: boundary).replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    @Test("Base64 and quoted-printable report parts are decoded; the result equals the plain report's")
    func decoding() throws {
        let messageID = "n.0123456789abcdef0123456789abcdef.tok3n@suporte.example"
        let plain = try #require(DeliveryStatusReport.parse(Self.report(messageID: messageID, recipient: "a@b.example",
                                                                        action: "failed", status: "5.1.1", encoding: .plain)))
        #expect(plain.originalMessageID == messageID)
        #expect(plain.recipients.first?.diagnostic.hasSuffix("User unknown in virtual mailbox table") == true)
        for encoding in [Encoding.base64, .quotedPrintable] {
            let raw = Self.report(messageID: messageID, recipient: "a@b.example", action: "failed", status: "5.1.1", encoding: encoding)
            let text = String(decoding: raw, as: UTF8.self)
            #expect(encoding == .base64 ? !text.contains("Final-Recipient") : text.contains("=\r\n"), "the parts are really encoded")
            #expect(!text.contains(messageID), "the Message-ID is readable only once decoded")
            #expect(DeliveryStatusReport.parse(raw) == plain, "\(encoding)")
        }
        #expect(MIMEFlattening.quotedPrintable(ArraySlice("a=3Db=\r\nc =C3=A9\r\n".utf8)) == Array("a=bc é\r\n".utf8))
        #expect(DeliveryStatusReport.parse(Array("Subject: oi\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n".utf8)) == nil)
    }

    @Test("Reports in the bounce mailbox mark e-mails bounced and are moved; other mail is flagged and left",
          arguments: TestEngines.all)
    func mailbox(engine: DatabaseEngine) throws {
        let imap = try IMAPTestServer(user: "bounces")
        let mail = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mail.path)
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.bounceIMAPURL = imap.url
        settings.bounceIMAPUser = imap.user
        settings.bounceIMAPPassword = imap.password
        settings.bouncePollMilliseconds = 200
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let events = (1...3).map { Events.opened(ticketID: "t-imap-\($0)", contactEmail: "sumido\($0)@cliente.example") }
        try harness.deliver(events.map { Events.envelope($0, key: $0.ticketID) })
        #expect(waitFor(15) { (try? harness.stats().sent) == 3 })
        let sent = try (1...3).map { try #require(try harness.deliveries(ticketID: "t-imap-\($0)").first) }

        try imap.deliver(Self.report(messageID: sent[0].messageID, recipient: "sumido1@cliente.example", action: "failed",
                                     status: "5.1.1", encoding: .plain))
        try imap.deliver(Self.report(messageID: sent[1].messageID, recipient: "sumido2@cliente.example", action: "failed",
                                     status: "5.2.2", encoding: .base64))
        try imap.deliver(Self.report(messageID: sent[2].messageID, recipient: "sumido3@cliente.example", action: "delayed",
                                     status: "4.4.1", encoding: .quotedPrintable))
        try imap.deliver(Self.report(messageID: "outra@externo.example", recipient: "x@cliente.example", action: "failed",
                                     status: "5.0.0", encoding: .base64))
        try imap.deliver(Array("From: jose@cliente.example\r\nTo: suporte@suporte.example\r\nSubject: Re: [T-1]\r\n\r\nObrigado!\r\n".utf8))

        #expect(waitFor(20) { (try? harness.stats().bounced) == 2 })
        let first = try #require(try harness.deliveries(ticketID: "t-imap-1").first)
        let second = try #require(try harness.deliveries(ticketID: "t-imap-2").first)
        #expect(first.state == "bounced" && first.serverAnswer.contains("5.1.1") && first.serverAnswer.contains("User unknown"))
        #expect(second.state == "bounced" && second.serverAnswer.contains("5.2.2"), "decoded from base64: \(second.serverAnswer)")
        #expect(try harness.deliveries(ticketID: "t-imap-3").first?.state == "sent", "a delay report changes nothing")
        #expect(try harness.emailSentEvents().filter { $0.outcome == "bounced" }.map(\.ticketID).sorted() == ["t-imap-1", "t-imap-2"])

        // The four reports were moved; the customer's reply stays, flagged, for a person.
        let inbox = IMAPMailbox(url: imap.url, user: imap.user, password: imap.password)
        let processed = IMAPMailbox(url: IMAPMailbox.split(imap.url).server + "/Processed", user: imap.user, password: imap.password)
        #expect(waitFor(15) { (try? processed.search("ALL").count) == 4 })
        #expect(waitFor(15) { (try? inbox.search("FLAGGED").count) == 1 }, "the reply is flagged (after the reports, in UID order)")
        #expect(try inbox.search("ALL").count == 1)
        // A later pass does not read it again.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try inbox.search("FLAGGED").count == 1 && (try harness.stats().bounced) == 2)
    }
}
