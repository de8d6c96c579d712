import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func text(_ name: String, replacing: [String: String] = [:]) throws -> [UInt8] {
        var text = String(decoding: try bytes(name), as: UTF8.self)
        for (key, value) in replacing { text = text.replacingOccurrences(of: key, with: value) }
        return Array(text.utf8)
    }
}

@Suite("E-mail parsing (GMime)")
struct MailParsingTests {
    @Test("Thunderbird: RFC 2047 subject, quoted-printable UTF-8 body, RFC 2231 file name, base64 attachment")
    func thunderbird() throws {
        let mail = try MailMessage(raw: Fixtures.bytes("thunderbird-new-ticket.eml"))
        #expect(mail.subject == "Nota fiscal não transmite – rejeição 539")
        #expect(mail.fromAddress == "maria@acme.example" && mail.fromName == "Maria Souza")
        #expect(mail.messageID == "4f2a9c1e-7b3d-4e55-9a1c-2d8e6f0b1a77@acme.example")
        #expect(mail.text.contains("devolve a rejeição 539 (duplicidade)"))
        #expect(mail.attachments.count == 1)
        #expect(mail.attachments.first?.fileName == "relatório.pdf" && mail.attachments.first?.contentType == "application/pdf")
        #expect(mail.attachments.first?.bytes == (try Fixtures.bytes("thunderbird-attachment.bin")))
        // GMime keeps the CRLF of a quoted-printable body; the ticket's text has plain line ends
        // (else a CLI, an export or a quote trimmer splitting on "\n" sees one long line).
        #expect(!mail.text.contains("\r") && mail.text.contains("\n"), "\(mail.text.debugDescription)")
    }

    @Test("Outlook: HTML-only latin-1 quoted-printable body becomes text; base64 latin-1 subject")
    func outlookHTMLOnly() throws {
        let mail = try MailMessage(raw: Fixtures.bytes("outlook-html-only.eml"))
        #expect(mail.subject == "Relatório de comissões não gera")
        #expect(mail.fromName == "João Lima" && mail.fromAddress == "joao@acme.example")
        #expect(mail.text.contains("O relatório de comissões (rotina COM210) não gera desde a atualização"))
        #expect(mail.text.contains("Afeta todos os usuários & todas as filiais.\nObrigado,"))
        #expect(!mail.text.contains("MsoNormal") && !mail.text.contains("<"))
        #expect(mail.attachments.isEmpty)
    }

    @Test("Gmail: multipart/alternative with base64 text, threading headers and an image")
    func gmail() throws {
        let mail = try MailMessage(raw: Fixtures.text("gmail-reply.eml", replacing: ["{{TOKEN}}": "abc"]))
        #expect(mail.text.hasPrefix("Segue o print da tela com o erro."))
        #expect(mail.referencedMessageIDs == ["n.d1.abc@suporte.example", "n.d1.abc@suporte.example"])
        #expect(mail.recipients.contains("suporte+abc@suporte.example"))
        #expect(mail.attachments.map(\.fileName) == ["image.png"])
        #expect(mail.attachments.first?.bytes == (try Fixtures.bytes("gmail-attachment.png")))
    }
}

@Suite("E-mail channel in", .serialized)
struct MailIngestTests {
    @Test("new mails open tickets, replies land on the right ticket by signed token, the same Message-ID is taken once, strangers are refused", arguments: TestEngines.all)
    func ingest(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "12ABC34501DE35")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        _ = try harness.contact(acme, "João Lima", email: "joao@acme.example")
        _ = try harness.contact(beta, "Intruso", email: "intruso@beta.example")
        let intake = harness.intake

        let thunderbird = try MailMessage(raw: Fixtures.bytes("thunderbird-new-ticket.eml"))
        guard case .opened(let ticketID, let code) = try intake.ingest(thunderbird, tokens: tokens) else {
            Issue.record("not opened"); return
        }
        #expect(try intake.ingest(thunderbird, tokens: tokens) == .duplicate(ticketID: ticketID, code: code))
        let ticket = try harness.intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent()))
        #expect(ticket.channel == "email" && ticket.subject == "Nota fiscal não transmite – rejeição 539")
        #expect(ticket.organization?.id == acme.id && ticket.contact?.email == "maria@acme.example")
        #expect(ticket.attachments.map(\.fileName) == ["relatório.pdf"])
        #expect(ticket.emailMessageID == thunderbird.messageID)
        let opened = try harness.events(IntakeV1.TicketOpened.self)
        #expect(opened.count == 1 && opened[0].emailMessageID == thunderbird.messageID && opened[0].channel == "email")

        let outlook = try MailMessage(raw: Fixtures.bytes("outlook-html-only.eml"))
        guard case .opened(let secondID, _) = try intake.ingest(outlook, tokens: tokens) else { Issue.record("outlook not opened"); return }
        #expect(try intake.getTicket(secondID, caller: Caller(IntakeHarness.agent())).request.contains("rotina COM210"))

        // A reply to a notification: the token sits in the reply address and the Message-ID.
        let token = tokens.token(ticketID: ticketID)
        let reply = try MailMessage(raw: Fixtures.text("gmail-reply.eml", replacing: ["{{TOKEN}}": token]))
        guard case .replied(let repliedID, _, _) = try intake.ingest(reply, tokens: tokens) else { Issue.record("not replied"); return }
        #expect(repliedID == ticketID)
        #expect(try intake.ingest(reply, tokens: tokens) == .duplicate(ticketID: ticketID, code: code))
        let replied = try harness.events(IntakeV1.CustomerReplied.self)
        #expect(replied.count == 1 && replied[0].text == "Segue o print da tela com o erro." && replied[0].channel == "email")
        #expect(replied[0].attachments.map(\.fileName) == ["image.png"])

        // The same reply sent by someone of another organization is refused, not appended.
        let foreign = try MailMessage(raw: Fixtures.text("gmail-reply.eml", replacing: [
            "{{TOKEN}}": token, "maria@acme.example": "intruso@beta.example", "CAKf3+9aB7x": "OTHER-ID",
        ]))
        guard case .rejected(let reason) = try intake.ingest(foreign, tokens: tokens) else { Issue.record("foreign accepted"); return }
        #expect(reason.contains("não pertence à organização") && reason.contains("does not belong"))
        // A forged token (and a ticket number in the subject) threads nothing: it opens the
        // stranger's own ticket in their own organization.
        let forged = try MailMessage(raw: Fixtures.text("gmail-reply.eml", replacing: [
            "{{TOKEN}}": ticketID + "-0123456789abcdef", "maria@acme.example": "intruso@beta.example", "CAKf3+9aB7x": "FORGED-ID",
        ]))
        guard case .opened(let strangerTicket, _) = try intake.ingest(forged, tokens: tokens) else { Issue.record("forged not opened"); return }
        #expect(try intake.getTicket(strangerTicket, caller: Caller(IntakeHarness.agent())).organization?.id == beta.id)
        #expect(try intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent())).messages.count == 1)

        let unknown = try MailMessage(raw: Fixtures.bytes("unknown-sender.eml"))
        guard case .rejected(let unknownReason) = try intake.ingest(unknown, tokens: tokens) else { Issue.record("unknown accepted"); return }
        #expect(unknownReason.contains("unknown sender"))
        #expect(try harness.count("tickets") == 3)
    }

    /// Maria of Acme, who sends the mails of the attachment tests, and their files: a 30 KB
    /// print, a small log and a 300 KB dump (over the 256 KiB that may travel inside a request).
    struct MailSender {
        let harness: IntakeHarness
        let tokens: ReplyToken
        let print = (0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let log = Array("pedido 123: timeout ao gravar\n".utf8)
        let dump = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        /// The sender, an authorized contact of Acme.
        let maria: IntakeV1.Contact

        init(_ engine: DatabaseEngine) throws {
            harness = try IntakeHarness(engine)
            tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
            let acme = try harness.organization("Acme", taxID: "11222333000181")
            maria = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        }
    }

    /// A new-ticket e-mail from Maria with `files` as base64 attachments.
    /// With `inReplyTo`, a reply to that Message-ID.
    static func mail(messageID: String, files: [(name: String, bytes: [UInt8])], inReplyTo: String? = nil) throws -> MailMessage {
        var raw = inReplyTo.map { "In-Reply-To: <\($0)>\r\n" } ?? ""
        raw += """
            Message-ID: <\(messageID)@acme.example>\r
            From: Maria Souza <maria@acme.example>\r
            To: suporte@suporte.example\r
            Subject: Tela congela ao salvar o pedido\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain; charset=UTF-8\r
            \r
            Ao salvar o pedido a tela congela. Seguem os arquivos.\r

            """
        for file in files {
            let base64 = Data(file.bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
            raw += "--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"\(file.name)\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n"
        }
        raw += "--b1--\r\n"
        return try MailMessage(raw: Array(raw.utf8))
    }

    @Test("a new mail's attachments travel inside its open when they all fit (one transaction, no upload left over), else all are uploaded first; either way listed in the message's order with their hashes",
          arguments: TestEngines.all)
    func attachmentsInsideTheOpen(engine: DatabaseEngine) throws {
        let sender = try MailSender(engine)
        let (harness, tokens, print, log, dump) = (sender.harness, sender.tokens, sender.print, sender.log, sender.dump)
        func listed(_ outcome: MailOutcome) throws -> [CommonV1.AttachmentRef] {
            guard case .opened(let ticketID, _) = outcome else { Issue.record("not opened: \(outcome)"); return [] }
            return try harness.intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent())).attachments
        }

        // Two small files: inside the open.
        let small = try listed(harness.intake.ingest(Self.mail(messageID: "small", files: [("print.png", print), ("log.txt", log)]), tokens: tokens))
        #expect(small.map(\.fileName) == ["print.png", "log.txt"])
        #expect(small.map(\.sha256) == [Digest.hex(Digest.sha256(print)), Digest.hex(Digest.sha256(log))])
        // A file over the inline size (256 KiB): every file is uploaded first, order kept.
        let large = try listed(harness.intake.ingest(Self.mail(messageID: "large", files: [("dump.bin", dump), ("log.txt", log)]), tokens: tokens))
        #expect(large.map(\.fileName) == ["dump.bin", "log.txt"])
        #expect(large.map(\.sizeBytes) == [300_000, Int64(log.count)])
        // No attachment is left outside a ticket.
        #expect(try harness.count("attachments WHERE ticket_id IS NULL OR ticket_id = ''") == 0)
        #expect(try harness.count("attachments") == 4)
        // Refused (a file name over 255 characters): nothing is stored, not even the good file
        // before it (uploaded first, it would have stayed behind until garbage collection).
        let contents = try harness.count("contents")
        let refused = try harness.intake.ingest(Self.mail(messageID: "refused", files: [("novo.png", print.reversed()),
                                                                                         (String(repeating: "a", count: 300) + ".txt", log)]), tokens: tokens)
        guard case .rejected(let reason) = refused else { Issue.record("not refused: \(refused)"); return }
        #expect(reason.contains("files[1].file_name"), "\(reason)")
        #expect(try harness.count("attachments") == 4 && harness.count("contents") == contents && harness.count("tickets") == 2)
    }

    @Test("a required custom field does not refuse a ticket opened by e-mail (mail cannot carry it), while the portal's open still needs it, also when a customer or agent names the e-mail channel over RPC",
          arguments: TestEngines.all)
    func requiredCustomFieldsAndMail(engine: DatabaseEngine) throws {
        let sender = try MailSender(engine)
        let harness = sender.harness
        var field = IntakeV1.CustomField()
        field.key = "numero_nota"
        field.labelPt = "Número da nota"
        field.labelEn = "Invoice number"
        field.kind = .fieldNumber
        field.required = true
        field.active = true
        _ = try harness.client.call(IntakeV1.Intake.putCustomField, field, options: harness.staff)
        let outcome = try harness.intake.ingest(Self.mail(messageID: "campo-obrigatorio", files: []), tokens: sender.tokens)
        guard case .opened(let ticketID, _) = outcome else { Issue.record("not opened: \(outcome)"); return }
        let ticket = try harness.intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent()))
        #expect(ticket.channel == "email" && ticket.customFields.isEmpty)
        // The portal's open (another channel) is still refused without it.
        var acme = IntakeV1.Organization()
        acme.id = try #require(ticket.organization?.id)
        var maria = IntakeV1.Contact()
        maria.id = try #require(ticket.contact?.id)
        maria.organizationID = acme.id
        let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme),
                                                          options: harness.options(IntakeHarness.customer(maria))) }
        #expect(error?.violations.map(\.field) == ["custom_fields.numero_nota"], "\(String(describing: error))")
        // Naming the e-mail channel (and a Message-ID) over RPC is not mail: the field is still required,
        // for a customer and an agent alike (before 2026-12-02 that skipped every required field).
        var pretending = IntakeHarness.request(acme, subject: "Sem o campo")
        pretending.channel = "email"
        pretending.emailMessageID = "forjado@cliente.example"
        // (A customer may not name the e-mail channel over RPC at all, since 2026-12-02.)
        for (options, fields) in [(harness.options(IntakeHarness.customer(maria)), ["channel", "custom_fields.numero_nota"]),
                                  (harness.staff, ["custom_fields.numero_nota"])] {
            pretending.contactID = maria.id
            let refused = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, pretending, options: options) }
            #expect(refused?.violations.map(\.field) == fields, "\(String(describing: refused))")
            pretending.emailMessageID = ""
        }
        #expect(try harness.count("tickets") == 1)
    }

    @Test("a reply mail's attachments travel inside the reply when they all fit, else all are uploaded first; either way on the reply's message in order; a refused reply stores nothing",
          arguments: TestEngines.all)
    func attachmentsInsideTheReply(engine: DatabaseEngine) throws {
        let sender = try MailSender(engine)
        let (harness, tokens, print, log, dump) = (sender.harness, sender.tokens, sender.print, sender.log, sender.dump)
        guard case .opened(let ticketID, let code) = try harness.intake.ingest(Self.mail(messageID: "first", files: []), tokens: tokens) else {
            Issue.record("not opened"); return
        }
        func messages() throws -> [IntakeV1.TicketMessage] {
            try harness.intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent())).messages
        }

        // Two small files: inside the reply (no upload before it).
        let small = try harness.intake.ingest(Self.mail(messageID: "r1", files: [("print.png", print), ("log.txt", log)],
                                                        inReplyTo: "first@acme.example"), tokens: tokens)
        guard case .replied(let repliedID, _, let messageID) = small else { Issue.record("not replied: \(small)"); return }
        #expect(repliedID == ticketID)
        #expect(try messages().first?.attachments.map(\.fileName) == ["print.png", "log.txt"])
        #expect(try messages().first?.id == messageID)
        #expect(try messages().first?.attachments.map(\.sha256) == [Digest.hex(Digest.sha256(print)), Digest.hex(Digest.sha256(log))])
        #expect(try harness.events(IntakeV1.CustomerReplied.self).first?.attachments.map(\.fileName) == ["print.png", "log.txt"])
        #expect(try harness.count("attachments WHERE message_id = '\(messageID)'") == 2)
        // The same Message-ID again is taken once.
        #expect(try harness.intake.ingest(Self.mail(messageID: "r1", files: [("print.png", print), ("log.txt", log)],
                                                    inReplyTo: "first@acme.example"), tokens: tokens) == .duplicate(ticketID: ticketID, code: code))
        #expect(try messages().count == 1 && harness.count("attachments") == 2)
        // A file over the inline size: every file is uploaded first, order kept.
        let large = try harness.intake.ingest(Self.mail(messageID: "r2", files: [("dump.bin", dump), ("log.txt", log)],
                                                        inReplyTo: "first@acme.example"), tokens: tokens)
        guard case .replied(_, _, let largeID) = large else { Issue.record("not replied: \(large)"); return }
        // (Two replies within one millisecond have no order between them: found by id.)
        #expect(try messages().first { $0.id == largeID }?.attachments.map(\.fileName) == ["dump.bin", "log.txt"])
        #expect(try harness.count("attachments WHERE ticket_id IS NULL OR ticket_id = ''") == 0)
        #expect(try harness.count("attachments") == 4)
        // Refused (a file name over 255 characters): nothing is stored, not even the good file before it.
        let contents = try harness.count("contents")
        let refused = try harness.intake.ingest(Self.mail(messageID: "r3", files: [("novo.png", print.reversed()),
                                                                                   (String(repeating: "a", count: 300) + ".txt", log)],
                                                          inReplyTo: "first@acme.example"), tokens: tokens)
        guard case .rejected(let reason) = refused else { Issue.record("not refused: \(refused)"); return }
        #expect(reason.contains("files[1].file_name"), "\(reason)")
        #expect(try harness.count("attachments") == 4 && harness.count("contents") == contents && messages().count == 2)
    }

    @Test("`intake ingest-mail` reads a raw message on stdin: 0 when taken in, 67 for an unknown sender", arguments: TestEngines.all)
    func command(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        func run(_ fixture: String) throws -> (Int32, [String: String]) { try harness.ingestCommand(try Fixtures.bytes(fixture)) }
        let (status, result) = try run("thunderbird-new-ticket.eml")
        #expect(status == 0 && result["outcome"] == "opened" && result["code"]?.hasSuffix("-000001") == true)
        let (again, second) = try run("thunderbird-new-ticket.eml")
        #expect(again == 0 && second["outcome"] == "duplicate" && second["ticket_id"] == result["ticket_id"])
        let (refused, rejection) = try run("unknown-sender.eml")
        #expect(refused == 67 && rejection["outcome"] == "rejected")
        // The running service sees the ticket the command stored.
        var get = IntakeV1.GetTicketRequest()
        get.ticket = result["ticket_id"] ?? ""
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: harness.staff).attachments.count == 1)
    }
}

@Suite("Bounces of rejected e-mail")
struct MailBounceTests {
    static func mail(_ headers: String) throws -> MailMessage {
        try MailMessage(raw: Array("""
            From: Alguém <alguem@desconhecido.example>\r
            To: suporte@suporte.example\r
            Subject: =?UTF-8?B?w4FndWEgbm8gc2Vydmlkb3I=?=\r
            Message-ID: <m1@desconhecido.example>\r
            \(headers)MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Olá.\r

            """.utf8))
    }

    @Test("automatic messages, null senders and daemons are never answered (RFC 3834)")
    func loops() throws {
        #expect(MailBounce.mayAnswer(try Self.mail("")))
        #expect(MailBounce.mayAnswer(try Self.mail("Auto-Submitted: no\r\n")))
        #expect(!MailBounce.mayAnswer(try Self.mail("Auto-Submitted: auto-replied\r\n")))
        #expect(!MailBounce.mayAnswer(try Self.mail("Precedence: bulk\r\n")))
        #expect(!MailBounce.mayAnswer(try Self.mail("Return-Path: <>\r\n")))
        var daemon = try Self.mail("")
        daemon.fromAddress = "MAILER-DAEMON@mx.example".lowercased()
        #expect(!MailBounce.mayAnswer(daemon))
    }

    @Test("the answer names the reason in both languages, threads on the original and marks itself automatic")
    func compose() throws {
        let bounce = MailBounce(smtpURL: "smtp://127.0.0.1:1", from: "suporte@suporte.example")
        let text = String(decoding: bounce.compose(answering: try Self.mail(""), reason: "remetente desconhecido / unknown sender"),
                          as: UTF8.self)
        #expect(text.contains("To: alguem@desconhecido.example\r\n"))
        #expect(text.contains("In-Reply-To: <m1@desconhecido.example>\r\n"))
        #expect(text.contains("Auto-Submitted: auto-replied\r\n"))
        #expect(text.contains("Subject: =?UTF-8?B?"), "a non-ASCII subject is RFC 2047 encoded")
        // Each language's paragraph with its own half of the reason.
        #expect(text.contains("Motivo: remetente desconhecido\r\n") && text.contains("Reason: unknown sender\r\n"))
        #expect(text.contains("Água no servidor"))
        // Parsed back by GMime, the subject reads as written.
        let parsed = try MailMessage(raw: Array(text.utf8))
        #expect(parsed.subject == "Não registrada / Not registered: Água no servidor")
    }
}
