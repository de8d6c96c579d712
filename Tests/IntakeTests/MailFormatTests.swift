import Foundation
@testable import IntakeCore
import Messages
import RPC
import ServiceKit
import Storage
import Testing
import TestSupport

/// Mail as clients and old systems really write it: charsets that are missing, unknown or lie,
/// forwarded messages, text files, calendar invitations, and structures built to hurt.
@Suite("E-mail formats from real clients")
struct MailFormatTests {
    /// `text` as bytes, one byte per character (each must be at most U+00FF): "N\u{E3}o" is the
    /// ISO-8859-1 / windows-1252 spelling of "Não", "\u{93}" the windows-1252 left quote.
    static func bytes(_ text: String) -> [UInt8] {
        text.unicodeScalars.map { UInt8($0.value) }
    }

    /// A multipart/mixed message from Maria with one text part per entry of `parts` (its header
    /// lines and its body).
    static func message(subject: String = "Teste", _ parts: [(headers: String, body: String)]) -> [UInt8] {
        var raw = "From: Maria Souza <maria@acme.example>\r\nTo: suporte@suporte.example\r\nSubject: \(subject)\r\n"
            + "Message-ID: <formatos@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        for part in parts { raw += "--b\r\n\(part.headers)\r\n\r\n\(part.body)\r\n" }
        return bytes(raw + "--b--\r\n")
    }

    @Test("bodies: windows-1252 under an ISO-8859-1 label, windows-1252 under a UTF-8 label, no label, an unknown label, UTF-8 under an ISO-8859-1 label; iconv for other charsets; no character dropped or replaced")
    func bodyCharsets() throws {
        let utf8Bytes = String(decoding: Array("ação".utf8).map { UInt16($0) }, as: UTF16.self)
        let mail = try MailMessage(raw: Self.message([
            ("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit", "1 N\u{E3}o \u{93}aspas\u{94} \u{96} 10 \u{80}"),
            ("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit", "2 Acentua\u{E7}\u{E3}o"),
            ("Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit", "3 sem r\u{F3}tulo"),
            ("Content-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: 8bit", "4 r\u{F3}tulo desconhecido"),
            ("Content-Type: text/plain; charset=\"ISO-8859-1\"\r\nContent-Transfer-Encoding: 8bit", "5 \(utf8Bytes)"),
            ("Content-Type: text/plain; charset=iso-8859-15\r\nContent-Transfer-Encoding: 8bit", "6 \u{A4}"),
            ("Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable", "7 =93ok=94 nul=00fim"),
        ]))
        let lines = mail.text.split(separator: "\n").map(String.init)
        #expect(lines == ["1 Não “aspas” – 10 €", "2 Acentuação", "3 sem rótulo", "4 rótulo desconhecido", "5 ação", "6 €", "7 “ok” nulfim"],
                "\(mail.text.debugDescription)")
    }

    @Test("headers: 8-bit windows-1252 in the subject and the sender's name, RFC 2047 words labelled ISO-8859-1 holding windows-1252, words split across lines")
    func headerCharsets() throws {
        let raw = Self.bytes("From: Jo\u{E3}o \u{96} Fiscal <joao@acme.example>\r\nTo: suporte@suporte.example\r\n"
            + "Subject: Nota \u{93}rejeitada\u{94} =?iso-8859-1?Q?=96_emiss=E3o?= =?utf-8?Q?Ocorr=C3=AAn?=\r\n =?utf-8?Q?cia?=\r\n"
            + "Message-ID: <h@acme.example>\r\n\r\ncorpo\r\n")
        let mail = try MailMessage(raw: raw)
        #expect(mail.subject == "Nota “rejeitada” – emissãoOcorrência", "\(mail.subject.debugDescription)")
        #expect(mail.fromName == "João – Fiscal" && mail.fromAddress == "joao@acme.example")
    }

    @Test("a subject whose encoded words hold line breaks and tabs is one line; a UTF-8 body's byte order mark is dropped")
    func subjectOnOneLineAndBOM() throws {
        let raw = Self.bytes("From: maria@acme.example\r\nSubject: =?utf-8?Q?Nota=0D=0Arejeitada=09539?= SP\r\n\t=?utf-8?B?4oCUIGZpbQ==?=\r\n"
            + "Message-ID: <bom@acme.example>\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + Data(Array("\u{FEFF}Em anexo o XML.".utf8)).base64EncodedString() + "\r\n")
        let mail = try MailMessage(raw: raw)
        #expect(mail.subject == "Nota rejeitada 539 SP — fim", "\(mail.subject.debugDescription)")
        #expect(mail.text == "Em anexo o XML.", "\(mail.text.debugDescription)")
    }

    @Test("a forwarded message (message/rfc822) is kept whole as a .eml file named after its subject, its own parts not spilled into the mail")
    func forwardedMessage() throws {
        let forwarded = "From: cliente@acme.example\r\nSubject: Pedido 123: erro/timeout\r\nMessage-ID: <orig@acme.example>\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\n"
            + "texto encaminhado\r\n--inner\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"dentro.png\"\r\n\r\nPNG\r\n--inner--\r\n"
        let mail = try MailMessage(raw: Self.message([
            ("Content-Type: text/plain; charset=utf-8", "Segue o e-mail do cliente."),
            ("Content-Type: message/rfc822\r\nContent-Disposition: attachment", forwarded),
            ("Content-Type: message/rfc822; name=\"original.eml\"", forwarded),
        ]))
        #expect(mail.text == "Segue o e-mail do cliente.")
        #expect(mail.attachments.map(\.fileName) == ["Pedido 123_ erro_timeout.eml", "original.eml"])
        #expect(mail.attachments.map(\.contentType) == ["message/rfc822", "message/rfc822"])
        let inner = try MailMessage(raw: try #require(mail.attachments.first).bytes)
        #expect(inner.subject == "Pedido 123: erro/timeout" && inner.text == "texto encaminhado" && inner.attachments.map(\.fileName) == ["dentro.png"])
    }

    @Test("a text file sent inline with its name (Apple Mail) is a file, not the body; text/calendar, winmail.dat and nameless parts are files with a fitting name; 8-bit and RFC 2047 names in windows-1252 keep their characters")
    func textFilesAndNamelessParts() throws {
        let mail = try MailMessage(raw: Self.message([
            ("Content-Type: text/plain; charset=utf-8", "Segue o log."),
            ("Content-Type: text/plain; name=\"erro.log\"\r\nContent-Disposition: inline; filename=\"erro.log\"", "linha 1 do log"),
            ("Content-Type: text/html; charset=utf-8\r\nContent-Disposition: inline; filename=\"relatorio.html\"", "<p>relatorio</p>"),
            ("Content-Type: text/calendar; method=REQUEST; charset=utf-8", "BEGIN:VCALENDAR\r\nEND:VCALENDAR"),
            ("Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64", "VE5FRg=="),
            ("Content-Type: image/png\r\nContent-ID: <print@acme>\r\nContent-Disposition: inline", "PNG"),
            ("Content-Type: application/pdf; name*=UTF-8''relat%C3%B3rio%20final.pdf", "PDF"),
            ("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"relat\u{F3}rio \u{96} mar\u{E7}o.pdf\"", "PDF"),
            ("Content-Type: application/xml\r\nContent-Disposition: attachment; filename=\"=?iso-8859-1?Q?nota_n=BA_539_=96_SP.xml?=\"", "XML"),
        ]))
        #expect(mail.text == "Segue o log.")
        #expect(mail.attachments.map(\.fileName) == ["erro.log", "relatorio.html", "anexo-3.ics", "winmail.dat", "anexo-5.png", "relatório final.pdf",
                                                     "relatório – março.pdf", "nota nº 539 – SP.xml"])
        #expect(mail.attachments[0].bytes == Array("linha 1 do log".utf8) && mail.attachments[3].bytes == Array("TNEF".utf8))
        // An old system naming the one part of its mail: still the body.
        let single = try MailMessage(raw: Self.bytes("From: erp@acme.example\r\nSubject: Aviso\r\nMessage-ID: <erp-1@acme.example>\r\n"
            + "Content-Type: text/plain; charset=iso-8859-1; name=\"aviso.txt\"\r\n\r\nNota rejeitada: duplicidade \u{96} verifique.\r\n"))
        #expect(single.text == "Nota rejeitada: duplicidade – verifique." && single.attachments.isEmpty)
    }

    /// A message of `depth` nested multiparts, the innermost holding `parts` one-byte files.
    static func nested(depth: Int, parts: Int = 0) -> [UInt8] {
        var raw = "From: Maria Souza <maria@acme.example>\r\nTo: suporte@suporte.example\r\nSubject: bomba\r\nMessage-ID: <bomba-\(depth)-\(parts)@acme.example>\r\nMIME-Version: 1.0\r\n"
        for level in 0..<depth { raw += "Content-Type: multipart/mixed; boundary=b\(level)\r\n\r\n--b\(level)\r\n" }
        raw += "Content-Type: text/plain\r\n\r\nfundo\r\n"
        for _ in 0..<parts { raw += "--b\(depth - 1)\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n" }
        for level in (0..<depth).reversed() { raw += "--b\(level)--\r\n" }
        return Array(raw.utf8)
    }

    @Test("MIME and header bombs are refused at once with a clear reason, before GMime reads them; a message within the limits is read")
    func bombs() throws {
        /// Why the message is refused; nil when it is read.
        func refusal(_ raw: [UInt8]) -> String? {
            do { _ = try MailMessage(raw: raw); return nil } catch { return "\(error)" }
        }
        let clock = ContinuousClock()
        let started = clock.now
        #expect(refusal(Self.nested(depth: 60_000))?.contains("more than 500 MIME parts") == true)
        #expect(refusal(Self.nested(depth: 1, parts: 100_000))?.contains("partes MIME") == true)
        // "Content-Type :" (blanks before the colon, which GMime accepts) counts too.
        let spaced = String(decoding: Self.nested(depth: 600), as: UTF8.self).replacingOccurrences(of: "Content-Type:", with: "content-TYPE :")
        #expect(refusal(Array(spaced.utf8)) != nil)
        var header = Array("From: maria@acme.example\r\nSubject: x\r\n".utf8)
        header += Array(String(repeating: "X-Junk: aaaaaaaaaaaaaaaaaaaa\r\n", count: 40_000).utf8) + Array("\r\ncorpo\r\n".utf8)
        #expect(refusal(header)?.contains("message header over 1024 KiB") == true)
        #expect(clock.now - started < .seconds(5))
        // Within the limits: read as usual.
        let fine = try MailMessage(raw: Self.nested(depth: 20, parts: 400))
        #expect(fine.text == "fundo" && fine.attachments.count == 400)
        // An HTTP trace pasted into the body and sent as a text file (not base64): thousands of
        // Content-Type lines that are no MIME part.
        let trace = String(repeating: "POST /api/notas HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"nota\": 539}\r\n\r\n", count: 2_000)
        let traced = try MailMessage(raw: Self.message([("Content-Type: text/plain; charset=utf-8", "Segue o trace:\r\n\r\n" + trace),
                                                        ("Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"trace.log\"", trace)]))
        #expect(traced.text.hasPrefix("Segue o trace:") && traced.attachments.map(\.fileName) == ["trace.log"])
    }
}

@Suite("E-mail formats from real clients, stored", .serialized)
struct MailFormatIngestTests {
    @Test("a forwarded message and a text file sent inline reach the ticket as files; the body is only the customer's text", arguments: TestEngines.all)
    func forwardedAndTextFilesOnTheTicket(engine: DatabaseEngine) throws {
        let sender = try MailIngestTests.MailSender(engine)
        let forwarded = "From: cliente@acme.example\r\nSubject: Pedido 123 travado\r\nMessage-ID: <orig-1@acme.example>\r\n\r\ntexto original\r\n"
        let raw = MailFormatTests.message(subject: "Fwd: Pedido 123 travado", [
            ("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit", "Segue o e-mail do cliente \u{96} n\u{E3}o abre."),
            ("Content-Type: message/rfc822\r\nContent-Disposition: attachment", forwarded),
            ("Content-Type: text/plain; name=\"erro.log\"\r\nContent-Disposition: inline; filename=\"erro.log\"", "linha 1 do log"),
        ])
        let outcome = try sender.harness.intake.ingest(MailMessage(raw: raw), tokens: sender.tokens)
        guard case .opened(let ticketID, _) = outcome else { Issue.record("not opened: \(outcome)"); return }
        let ticket = try sender.harness.intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent()))
        #expect(ticket.request == "Segue o e-mail do cliente – não abre.")
        #expect(ticket.attachments.map(\.fileName) == ["Pedido 123 travado.eml", "erro.log"])
        #expect(ticket.attachments.map(\.contentType) == ["message/rfc822", "text/plain"])
    }

    @Test("a MIME bomb is held as unparsable with its reason and answered; no ticket, no file stored", arguments: TestEngines.all)
    func bombHeld(engine: DatabaseEngine) throws {
        let sender = try MailIngestTests.MailSender(engine)
        let receipt = try sender.harness.intake.receive(raw: MailFormatTests.nested(depth: 1, parts: 5_000), source: "pipe", tokens: sender.tokens)
        guard case .rejected(let reason) = receipt.outcome else { Issue.record("not refused: \(receipt.outcome)"); return }
        #expect(reason.contains("mais de 500 partes MIME") && reason.contains("more than 500 MIME parts"), "\(reason)")
        #expect(receipt.unparsable && receipt.quarantineID != nil && receipt.readableSender == "maria@acme.example")
        #expect(try sender.harness.count("mail_quarantine") == 1 && sender.harness.count("tickets") == 0 && sender.harness.count("attachments") == 0)
    }

    @Test("a reply longer than a reply may be is cut to 100,000 characters and taken in, as a new ticket's text is, instead of refused", arguments: TestEngines.all)
    func longReplyCut(engine: DatabaseEngine) throws {
        let sender = try MailIngestTests.MailSender(engine)
        let harness = sender.harness
        guard case .opened(let ticketID, _) = try harness.intake.ingest(MailIngestTests.mail(messageID: "longo", files: []), tokens: sender.tokens) else {
            Issue.record("not opened"); return
        }
        let log = String(repeating: "linha do log de erro 0123456789\n", count: 5_000)
        let raw = "From: Maria Souza <maria@acme.example>\r\nTo: suporte@suporte.example\r\nSubject: Re: Tela congela\r\n"
            + "Message-ID: <longo-re@acme.example>\r\nIn-Reply-To: <longo@acme.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSegue o log:\n\(log)"
        let outcome = try harness.intake.ingest(MailMessage(raw: Array(raw.utf8)), tokens: sender.tokens)
        guard case .replied(let repliedID, _, let messageID) = outcome else { Issue.record("not replied: \(outcome)"); return }
        #expect(repliedID == ticketID)
        let message = try harness.intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent())).messages.first { $0.id == messageID }
        #expect(message?.text.count == 100_000 && message?.text.hasPrefix("Segue o log:\nlinha do log") == true)
    }

    @Test("addresses as clients write them: the sender in another case and a display name with a comma and quotes match the contact; the reply address upper-cased by an old system still threads; a plus-addressed sender is not the contact",
          arguments: TestEngines.all)
    func addressSpellings(engine: DatabaseEngine) throws {
        let sender = try MailIngestTests.MailSender(engine)
        let intake = sender.harness.intake
        func mail(_ id: String, from: String, to: String = "suporte@suporte.example") throws -> MailMessage {
            try MailMessage(raw: Array("From: \(from)\r\nTo: \(to)\r\nSubject: Nota\r\nMessage-ID: <\(id)@acme.example>\r\n\r\nA nota não sai.\r\n".utf8))
        }
        let opened = try intake.ingest(mail("caixa", from: "\"Souza, Maria (Fiscal)\" <Maria@ACME.Example>"), tokens: sender.tokens)
        guard case .opened(let ticketID, _) = opened else { Issue.record("not opened: \(opened)"); return }
        #expect(try intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent())).contact?.id == sender.maria.id)
        let token = sender.tokens.token(ticketID: ticketID).uppercased()
        let replied = try intake.ingest(mail("caixa-re", from: "MARIA@ACME.EXAMPLE", to: "SUPORTE+\(token)@SUPORTE.EXAMPLE"), tokens: sender.tokens)
        guard case .replied(let repliedID, _, _) = replied else { Issue.record("not replied: \(replied)"); return }
        #expect(repliedID == ticketID)
        guard case .rejected(let reason) = try intake.ingest(mail("mais", from: "maria+nf@acme.example"), tokens: sender.tokens) else {
            Issue.record("plus-addressed sender taken as the contact"); return
        }
        #expect(reason.contains("unknown sender"))
    }

    @Test("a References header of 20,000 ids threads by its root at the cost of at most 50 lookups, once each; In-Reply-To first",
          arguments: TestEngines.all)
    func longReferences(engine: DatabaseEngine) throws {
        let sender = try MailIngestTests.MailSender(engine)
        let intake = sender.harness.intake
        guard case .opened(let ticketID, _) = try intake.ingest(MailIngestTests.mail(messageID: "raiz", files: []), tokens: sender.tokens) else {
            Issue.record("not opened"); return
        }
        let noise = (0..<20_000).map { "<ruido-\($0)@lista.example>" }
        let raw = "From: Maria Souza <maria@acme.example>\r\nTo: suporte@suporte.example\r\nSubject: Re: Tela congela\r\n"
            + "Message-ID: <raiz-re@acme.example>\r\nIn-Reply-To: <ruido-19999@lista.example> <ruido-19999@lista.example>\r\n"
            + "References: <raiz@acme.example>\r\n " + noise.joined(separator: "\r\n ") + "\r\n\r\nContinua travando.\r\n"
        let mail = try MailMessage(raw: Array(raw.utf8))
        #expect(mail.threadingMessageIDs.count == 50)
        #expect(mail.threadingMessageIDs.prefix(3) == ["ruido-19999@lista.example", "raiz@acme.example", "ruido-0@lista.example"])
        #expect(mail.threadingMessageIDs.last == "ruido-19998@lista.example")
        let clock = ContinuousClock()
        let started = clock.now
        guard case .replied(let repliedID, _, _) = try intake.ingest(mail, tokens: sender.tokens) else { Issue.record("not threaded"); return }
        #expect(repliedID == ticketID)
        #expect(clock.now - started < .seconds(3))
    }
}
