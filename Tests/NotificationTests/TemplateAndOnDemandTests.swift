import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("Notification: templates, on-demand and account e-mail", .serialized)
struct TemplateAndOnDemandTests {
    @Test("An administrator's English template is used for an en ticket, every value HTML-escaped, the code forced into the subject",
          arguments: TestEngines.all)
    func editedTemplate(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        var set = NotificationV1.SetTemplateRequest()
        var template = NotificationV1.Template()
        template.eventKind = "SolutionGiven"
        template.locale = "en"
        template.subject = "Solved: {{subject}}"
        template.text = "Solution by {{actor_name}}: {{text}}"
        template.html = "<p>Solution by <b>{{actor_name}}</b>:</p><div>{{text}}</div>"
        set.messageTemplate = template
        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.setTemplate, set, options: harness.options(NotificationHarness.agent()))
        }
        _ = try harness.client.call(NotificationV1.Notification.setTemplate, set, options: harness.options(NotificationHarness.administrator()))
        var get = NotificationV1.GetTemplateRequest()
        get.eventKind = "SolutionGiven"
        get.locale = "en"
        let stored = try harness.client.call(NotificationV1.Notification.getTemplate, get, options: harness.options(NotificationHarness.agent()))
        #expect(stored.messageTemplate?.customized == true)
        get.locale = "pt-BR"
        let builtIn = try harness.client.call(NotificationV1.Notification.getTemplate, get, options: harness.options(NotificationHarness.agent()))
        #expect(builtIn.messageTemplate?.customized == false)

        var solution = WorkflowV1.SolutionGiven()
        solution.ticket = Events.summary(ticketID: "t-en", code: "2026-000900", locale: "en")
        solution.actorName = "Ana \"<admin>\""
        solution.text = "<img src=x onerror=alert(1)> use version 12.1"
        try harness.deliver([Events.envelope(solution, key: "t-en")])
        #expect(waitFor(15) { sink.files("eml").count == 1 })
        usleep(200_000)
        let mail = try #require(try ReceivedMail.all(in: mailDirectory.path).first)
        #expect(mail.headers["Subject"] == "[2026-000900] Solved: Cálculo de ICMS")
        #expect(mail.html.contains("<b>Ana &quot;&lt;admin&gt;&quot;</b>"))
        #expect(mail.html.contains("&lt;img src=x onerror=alert(1)&gt; use version 12.1"))
        #expect(!mail.html.contains("<img"))
        #expect(mail.text == "Solution by Ana \"<admin>\": <img src=x onerror=alert(1)> use version 12.1")
    }

    @Test("An agent's e-mail about a ticket: recipients, copies, UTF-8 attachments intact, recorded for the ticket's history",
          arguments: TestEngines.all)
    func onDemandEmail(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        let report = TicketEmails.inline("relatório março.pdf", contentType: "application/pdf", (0..<5_000).map { UInt8($0 % 256) })
        let log = TicketEmails.inline("erro.log", contentType: "text/plain", Array("linha 1\nlinha 2 ação\n".utf8))
        let request = TicketEmails.request("t-manual", code: "2026-000321", subject: "Resumo da solução — versão 12.1",
                                           body: "Segue o relatório e o log.\nAtenciosamente, Ana", copies: ["gerente@cliente.example"],
                                           attachments: [report, log])
        // Customers cannot send e-mail as the support team.
        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: harness.options(NotificationHarness.customer()))
        }
        let options = CallOptions(timeoutMilliseconds: 10_000, metadata: harness.options(NotificationHarness.agent()).metadata,
                                  idempotencyKey: "send-1")
        let first = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: options)
        // A retried call with the same idempotency key does not send twice.
        let again = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: options)
        #expect(first.delivery?.id == again.delivery?.id)
        #expect(waitFor(15) { sink.files("eml").count == 1 })
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-manual").first?.state) == "sent" })
        usleep(300_000)
        #expect(sink.files("eml").count == 1)
        let mail = try #require(try ReceivedMail.all(in: mailDirectory.path).first)
        #expect(mail.content_type == "multipart/mixed")
        #expect(Set(mail.envelope.to) == ["jose@cliente.example", "gerente@cliente.example"])
        #expect(mail.headers["Cc"]?.contains("gerente@cliente.example") == true)
        #expect(mail.headers["Subject"] == "[2026-000321] Resumo da solução — versão 12.1")
        #expect(mail.text == "Segue o relatório e o log.\nAtenciosamente, Ana")
        #expect(mail.defects.isEmpty)
        #expect(mail.attachments.count == 2)
        #expect(mail.attachments.first?.filename == "relatório março.pdf")
        #expect(mail.attachments.first?.sha256 == Digest.hex(Digest.sha256(report.content)))
        #expect(mail.attachments.last?.sha256 == Digest.hex(Digest.sha256(log.content)))
        let sent = try #require(try harness.emailSentEvents().first { $0.ticketID == "t-manual" })
        #expect(sent.recipients == ["jose@cliente.example"])
        #expect(sent.copies == ["gerente@cliente.example"])
        #expect(sent.eventKind == "TicketEmail")
        #expect(ReplyToken(secret: harness.secret).ticketID(in: sent.messageID) == "t-manual")
    }

    @Test("A large attachment in the request is stored in pieces from a spool file (not rendered whole), sent intact and streamed again on replay",
          arguments: TestEngines.all)
    func largeInlineAttachment(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        // 3 MiB (the RPC frame limit is 4 MiB): about 4 MiB once encoded, 16 pieces of 256 KiB.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let content = (0..<(3 << 20) + 17).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let sheet = TicketEmails.inline("planilha de cálculo.xlsx", contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                        content)
        let note = TicketEmails.inline("leia-me.txt", contentType: "", Array("instruções\n".utf8))
        let request = TicketEmails.request("t-inline-large", code: "2026-000654", subject: "Planilha", body: "Segue a planilha.",
                                           attachments: [sheet, note])
        let options = CallOptions(timeoutMilliseconds: 30_000, metadata: harness.options(NotificationHarness.agent()).metadata)
        let sent = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: options)
        let id = try #require(sent.delivery?.id)
        // The row keeps no copy; the message is in pieces no longer than 256 KiB; no spool file is left.
        let (payload, payloadBytes, pieces, largest, stored) = try harness.database.read { tx in
            let row = try #require(try tx.queryOne("SELECT payload, payload_bytes FROM notification_deliveries WHERE id = ?", [.text(id)]))
            let pieces = try #require(try tx.queryOne(
                "SELECT COUNT(*) AS n, MAX(length(data)) AS largest, SUM(length(data)) AS total FROM notification_payload_chunks WHERE delivery_id = ?",
                [.text(id)]))
            return (try row.blob("payload"), Int(try row.int("payload_bytes")), Int(try pieces.int("n")), Int(try pieces.int("largest")),
                    Int(try pieces.int("total")))
        }
        #expect(payload.isEmpty && payloadBytes > content.count * 4 / 3 && stored == payloadBytes)
        #expect(pieces == (payloadBytes + PayloadChunks.chunkBytes - 1) / PayloadChunks.chunkBytes && largest == PayloadChunks.chunkBytes)
        let spool = "\(harness.directory.path)/notification-spool"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).isEmpty)

        #expect(waitFor(30) { sink.files("eml").count == 1 })
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-inline-large").first?.state) == "sent" })
        let mail = try #require(try ReceivedMail.all(in: mailDirectory.path).first)
        #expect(mail.defects.isEmpty)
        #expect(mail.content_type == "multipart/mixed")
        #expect(mail.attachments.map { $0.filename ?? "" } == ["planilha de cálculo.xlsx", "leia-me.txt"])
        #expect(mail.attachments.first?.size == content.count)
        #expect(mail.attachments.first?.sha256 == Digest.hex(Digest.sha256(content)))
        #expect(mail.attachments.last?.content_type == "application/octet-stream")
        #expect(mail.attachments.last?.sha256 == Digest.hex(Digest.sha256(note.content)))

        // A replay streams the same bytes again from the stored pieces.
        var replay = NotificationV1.ReplayDeliveryRequest()
        replay.deliveryID = id
        _ = try harness.client.call(NotificationV1.Notification.replayDelivery, replay, options: harness.options(NotificationHarness.administrator()))
        #expect(waitFor(30) { sink.files("eml").count == 2 })
        let copies = sink.files("eml").map { FileManager.default.contents(atPath: "\(mailDirectory.path)/\($0)") }
        #expect(copies[0] != nil && copies[0] == copies[1], "byte-identical")
    }

    @Test("An attachment spooled a slice at a time encodes to the same bytes as the whole at once")
    func spooledEncoding() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        let spool = AttachmentSpool(dataDirectory: directory.path)
        for count in [0, 1, 56, 57, 58, 57 * 1_024, 57 * 1_024 + 1, 2 * 57 * 1_024 + 100] {
            let content = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let file = try spool.spool(fileName: "a.bin", contentType: "", content: content)
            defer { AttachmentSpool.remove([file]) }
            #expect(FileManager.default.contents(atPath: file.path).map { Array($0) } == MIMEEncoding.base64LineBytes(content))
            #expect(file.size == count && file.contentType == "application/octet-stream")
        }
    }

    @Test("""
          Account e-mails for the gateway: invitation with its one-time link, Reply-To the support mailbox; only services or \
          administrators ask
          """, arguments: TestEngines.all)
    func accountEmail(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        var request = NotificationV1.SendAccountEmailRequest()
        request.kind = "invitation"
        request.to = "novo@cliente.example"
        request.name = "Márcia"
        request.organizationName = "Cliente Ltda"
        request.link = "https://portal.example/convite/abc123"
        request.expiresAtMs = 1_800_000_000_000
        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.sendAccountEmail, request, options: harness.options(NotificationHarness.customer()))
        }
        let gateway = PrincipalSigner.service("gateway")
        _ = try harness.client.call(NotificationV1.Notification.sendAccountEmail, request, options: harness.options(gateway))
        request.kind = "password_reset"
        request.link = "https://portal.example/senha/xyz789"
        request.locale = "en"
        _ = try harness.client.call(NotificationV1.Notification.sendAccountEmail, request, options: harness.options(gateway))
        #expect(waitFor(15) { sink.files("eml").count == 2 })
        usleep(200_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        let invitation = try #require(mails.first { $0.text.contains("convite/abc123") })
        #expect(invitation.headers["Subject"] == "Convite para o portal de suporte de Cliente Ltda")
        // About no ticket: replies go to the support mailbox (was: no Reply-To, so they went to the
        // envelope sender, which may be the bounce mailbox nobody reads).
        #expect(invitation.headers["Reply-To"] == "suporte@suporte.example")
        let reset = try #require(mails.first { $0.text.contains("senha/xyz789") })
        #expect(reset.headers["Subject"] == "Password reset")
        #expect(reset.headers["Reply-To"] == "suporte@suporte.example")
        #expect(reset.html.contains("https://portal.example/senha/xyz789"))
    }

    @Test("""
          NOTIFICATION_REPLY_TO (a no-reply address) is the Reply-To of every e-mail about no ticket; ticket e-mails keep \
          their signed reply address
          """)
    func configuredReplyTo() throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        var settings = try NotificationSettings(environment: ["NOTIFICATION_REPLY_TO": "nao-responda@suporte.example"])
        let base = NotificationHarness.settings(smtpPort: sink.port)
        (settings.smtpURL, settings.mailDomain, settings.fromAddress) = (base.smtpURL, base.mailDomain, base.fromAddress)
        let harness = try NotificationHarness(engine: .sqlite, settings: settings)
        let gateway = PrincipalSigner.service("gateway")
        for kind in ["invitation", "staff_invitation", "representative_invitation", "password_reset"] {
            var request = NotificationV1.SendAccountEmailRequest()
            request.kind = kind
            request.to = "novo@cliente.example"
            request.name = "Márcia"
            request.organizationName = "Cliente Ltda"
            request.link = "https://portal.example/\(kind)/abc123"
            request.expiresAtMs = 1_800_000_000_000
            _ = try harness.client.call(NotificationV1.Notification.sendAccountEmail, request, options: harness.options(gateway))
        }
        let event = Events.opened(ticketID: "t-reply")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { sink.files("eml").count == 5 })
        usleep(200_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        let ticketMail = try #require(mails.first { $0.headers["X-Ocorrencias-Event"] == "TicketOpened" })
        #expect(ticketMail.headers["Reply-To"]?.hasPrefix("suporte+") == true, "\(ticketMail.headers)")
        let account = mails.filter { $0.headers["X-Ocorrencias-Event"] != "TicketOpened" }
        #expect(account.count == 4)
        #expect(account.allSatisfy { $0.headers["Reply-To"] == "nao-responda@suporte.example" }, "\(account.map(\.headers))")
        // A malformed address stops the start instead of going out in every header.
        #expect(throws: NotificationConfigurationError.self) {
            _ = try NotificationSettings(environment: ["NOTIFICATION_REPLY_TO": "não é endereço"])
        }
    }

    @Test("""
          CR/LF in names, subjects and organization names never make a header (no Bcc, no extra recipient); pt-BR \
          accents in From, To and Subject are RFC 2047 words Python decodes; links keep their query, escaped in HTML
          """, arguments: TestEngines.all)
    func headerInjection(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.fromName = "Suporte Ocorrências – Açaí \"SP\""
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let injected = "\r\nBcc: intruso@evil.example\r\nX-Injected: sim"
        var account = NotificationV1.SendAccountEmailRequest()
        account.kind = "invitation"
        account.to = "novo@cliente.example"
        account.name = "Zé Ninguém" + injected
        account.organizationName = "Ação & Cia" + injected
        account.link = "https://portal.example/portal/convite#token=abc&next=1"
        account.expiresAtMs = 1_800_000_000_000
        _ = try harness.client.call(NotificationV1.Notification.sendAccountEmail, account, options: harness.options(PrincipalSigner.service("gateway")))
        _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail,
                                    TicketEmails.request("t-inj", code: "2026-000404", subject: "Olá" + injected, body: "<b>negrito</b>\nfim"),
                                    options: harness.options(NotificationHarness.agent()))
        var opened = Events.opened(ticketID: "t-inj-open", subject: "Nota\nBcc: intruso@evil.example")
        opened.contact = Events.person("contact-9", "Conceição" + injected, "maria@cliente.example")
        try harness.deliver([Events.envelope(opened, key: opened.ticketID)])
        #expect(waitFor(15) { sink.files("eml").count == 3 })
        usleep(200_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        try #require(mails.count == 3)
        #expect(Set(mails.flatMap(\.envelope.to)) == ["novo@cliente.example", "jose@cliente.example", "maria@cliente.example"])
        for mail in mails {
            #expect(mail.defects.isEmpty && mail.all_ascii && mail.crlf_only, "\(mail.file)")
            #expect(mail.headers["Bcc"] == nil && mail.headers["X-Injected"] == nil, "\(mail.headers)")
            #expect(mail.headers["From"] == "\"Suporte Ocorrências – Açaí \\\"SP\\\"\" <suporte@suporte.example>", "\(mail.headers["From"] ?? "")")
            #expect(!mail.text.isEmpty && !mail.html.isEmpty)
        }
        let invitation = try #require(mails.first { $0.envelope.to == ["novo@cliente.example"] })
        #expect(invitation.headers["Subject"] == "Convite para o portal de suporte de Ação & Cia Bcc: intruso@evil.example X-Injected: sim")
        // (Python's modern parser puts a space between adjacent encoded words of a display name,
        // which RFC 2047 says to ignore: only the start of the name is compared.)
        #expect(invitation.headers["To"]?.hasPrefix("\"Zé Ninguém Bcc:") == true, "\(invitation.headers["To"] ?? "")")
        #expect(invitation.headers["To"]?.hasSuffix("<novo@cliente.example>") == true)
        #expect(invitation.text.contains("https://portal.example/portal/convite#token=abc&next=1"))
        #expect(invitation.html.contains("https://portal.example/portal/convite#token=abc&amp;next=1"))
        let agents = try #require(mails.first { $0.envelope.to == ["jose@cliente.example"] })
        #expect(agents.headers["Subject"]?.hasPrefix("[2026-000404] Olá Bcc: intruso@evil.example X-Injected: sim") == true, "\(agents.headers["Subject"] ?? "")")
        #expect(agents.html.contains("&lt;b&gt;negrito&lt;/b&gt;<br>fim"), "\(agents.html)")
        let opening = try #require(mails.first { $0.envelope.to == ["maria@cliente.example"] })
        #expect(opening.headers["Subject"] == "[2026-000123] Ocorrência registrada: Nota Bcc: intruso@evil.example")
        #expect(opening.headers["To"]?.hasPrefix("\"Conceição Bcc:") == true)
    }

    @Test("""
          an address with a line break or brackets (as intake stored some before 2026-12-02) is never written into To: a ticket's \
          contact and organization with such addresses get no mail, an account e-mail to one is refused naming `to`
          """, arguments: TestEngines.all)
    func storedAddressesNeverReachHeaders(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let bad = ["maria@cliente.example>\r\nBcc: intruso@evil.example", "<jose@cliente.example>", "ti@cliente.example\nBcc: intruso@evil.example",
                   "[ana@cliente.example]", "ana@cliente.example,intruso@evil.example"]
        var account = NotificationV1.SendAccountEmailRequest()
        account.kind = "invitation"
        account.name = "Ninguém"
        account.organizationName = "Cliente"
        account.link = "https://portal.example/portal/convite#token=abc"
        account.expiresAtMs = 1_800_000_000_000
        for address in bad {
            account.to = address
            let refused = SuppressionTests.rpcError {
                _ = try harness.client.call(NotificationV1.Notification.sendAccountEmail, account, options: harness.options(PrincipalSigner.service("gateway")))
            }
            #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["to"], "\(address.debugDescription)")
        }
        var events = bad.enumerated().map { index, address in
            Events.envelope(Events.opened(ticketID: "t-bad-\(index)", contactEmail: address, organizationEmail: bad[(index + 1) % bad.count]),
                            key: "t-bad-\(index)")
        }
        let good = Events.opened(ticketID: "t-good", contactEmail: "boa@cliente.example", organizationEmail: "ti@cliente.example")
        events.append(Events.envelope(good, key: good.ticketID))
        try harness.deliver(events)
        #expect(waitFor(15) { sink.files("eml").count >= 1 })
        usleep(1_000_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.count == 1 && Set(mails.flatMap(\.envelope.to)) == ["boa@cliente.example"], "\(mails.map(\.envelope.to))")
        for mail in mails {
            #expect(mail.headers["Bcc"] == nil && mail.headers["To"]?.contains("evil") == false, "\(mail.headers)")
        }
    }
}

extension TemplateAndOnDemandTests {
    /// Every stored byte of delivery `id`'s message (the row's `payload` and its chunks).
    static func storedMessage(_ harness: NotificationHarness, _ id: String) throws -> String {
        try harness.database.read { tx in
            var bytes: [UInt8] = []
            if let row = try tx.queryOne("SELECT payload FROM notification_deliveries WHERE id = ?", [.text(id)]) {
                bytes += (try? row.optionalBlob("payload") ?? []) ?? []
            }
            for row in try tx.query("SELECT data FROM notification_payload_chunks WHERE delivery_id = ? ORDER BY seq", [.text(id)]) {
                bytes += try row.blob("data")
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    @Test("""
          A reset e-mail's one-time link leaves notification's stored copy once the relay accepted it (headers kept, the body a \
          note); the retry after a refused first attempt still sent it whole; a ticket e-mail is stored as it was
          """, arguments: TestEngines.all)
    func accountEmailLinkLeavesStoredCopy(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, failFirst: 1)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        var request = NotificationV1.SendAccountEmailRequest()
        request.kind = "password_reset"
        request.to = "maria@cliente.example"
        request.name = "Maria"
        request.link = "https://portal.example/portal/nova-senha#token=SEGREDO-0123456789abcdef"
        request.expiresAtMs = 1_800_000_000_000
        let sent = try harness.client.call(NotificationV1.Notification.sendAccountEmail, request,
                                           options: harness.options(PrincipalSigner.service("gateway")))
        let id = try #require(sent.delivery?.id)
        #expect(waitFor(20) { sink.files("eml").count == 1 })
        let mail = try #require(try ReceivedMail.all(in: mailDirectory.path).first)
        #expect(mail.text.contains("SEGREDO-0123456789abcdef") || mail.html.contains("SEGREDO-0123456789abcdef"), "the retry sent the link")
        var delivery: NotificationV1.Delivery?
        #expect(waitFor(10) {
            delivery = (try? harness.deliveries(recipient: "maria@cliente.example"))?.first { $0.id == id }
            return delivery?.state == "sent"
        })
        #expect((delivery?.attempts ?? 0) >= 2, "\(String(describing: delivery))")
        let stored = try Self.storedMessage(harness, id)
        #expect(!stored.contains("SEGREDO") && !stored.contains("nova-senha"), "\(stored)")
        #expect(stored.contains("Content removed after sending") && stored.contains("Subject:") && stored.contains("Message-ID:"), "\(stored)")
    }

    @Test("""
          An account e-mail refused for good (550 on its recipient), out of attempts (451 every time) or to a suppressed address \
          loses its one-time link from the stored copy too; neither a replay (FAILED_PRECONDITION, pointing to a new link) nor a \
          dead-letter retry sends the note; an invitation notice (no one-time link) is kept whole and replayable
          """, arguments: TestEngines.all)
    func undeliveredAccountEmailLosesItsLink(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, failFirst: 1_000, extra: ["--reject-rcpt", "perdido"])
        defer { sink.stop() }
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.retry = RetryPolicy(maxAttempts: 2, baseMilliseconds: 50, maxMilliseconds: 100)
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let admin = harness.options(NotificationHarness.administrator())
        var suppress = NotificationV1.AddSuppressionRequest()
        suppress.address = "bloqueado@cliente.example"
        _ = try harness.client.call(NotificationV1.Notification.addSuppression, suppress, options: admin)
        func send(_ kind: String, to address: String, link: String) throws -> String {
            var request = NotificationV1.SendAccountEmailRequest()
            request.kind = kind
            request.to = address
            request.name = "Maria"
            request.organizationName = "Acme"
            request.link = link
            request.expiresAtMs = 1_800_000_000_000
            return try #require(try harness.client.call(NotificationV1.Notification.sendAccountEmail, request,
                                                        options: harness.options(PrincipalSigner.service("gateway"))).delivery?.id)
        }
        let link = "https://portal.example/portal/nova-senha#token=SEGREDO-0123456789abcdef"
        let refused = try send("password_reset", to: "perdido@cliente.example", link: link)
        let exhausted = try send("invitation", to: "lento@cliente.example", link: link)
        let suppressed = try send("password_reset", to: "bloqueado@cliente.example", link: link)
        let notice = try send("invitation_notice", to: "bloqueado@cliente.example", link: "https://portal.example/portal/")
        func state(_ id: String) -> String? {
            try? harness.database.read { tx in try tx.queryOne("SELECT state FROM notification_deliveries WHERE id = ?", [.text(id)])?.text("state") }
        }
        #expect(waitFor(30) { state(refused) == "failed" && state(exhausted) == "dead" }, "\(String(describing: state(refused))) \(String(describing: state(exhausted)))")
        #expect(state(suppressed) == "failed" && state(notice) == "failed")
        for id in [refused, exhausted, suppressed] {
            let stored = try Self.storedMessage(harness, id)
            #expect(!stored.contains("SEGREDO") && !stored.contains("nova-senha"), "\(id): \(stored)")
            #expect(stored.contains("Content removed after sending") && stored.contains("Message-ID:"), "\(id): \(stored)")
        }
        let kept = try Self.storedMessage(harness, notice)
        #expect(!kept.contains("Content removed") && kept.contains("X-Ocorrencias-Event: InvitationNotice")
                && kept.contains("Content-Type: multipart/alternative"), "\(kept)")

        // No way to send the note: the person asks the gateway for a new link.
        for id in [refused, exhausted, suppressed] {
            var replay = NotificationV1.ReplayDeliveryRequest()
            replay.deliveryID = id
            let error = SuppressionTests.rpcError { _ = try harness.client.call(NotificationV1.Notification.replayDelivery, replay, options: admin) }
            #expect(error?.code == .failedPrecondition && error?.message.contains("peça um novo") == true, "\(String(describing: error))")
        }
        var retry = NotificationV1.RetryDeadLettersRequest()
        retry.includeFailed = true
        retry.deliveryIDs = [refused, exhausted, suppressed, notice]
        #expect(try harness.client.call(NotificationV1.Notification.retryDeadLetters, retry, options: admin).requeued == 1)
        #expect(state(refused) == "failed" && state(exhausted) == "dead" && state(suppressed) == "failed")
    }

    @Test("the redacted copy keeps the header (without its MIME lines, folded ones included) and replaces the body")
    func redactedMessage() {
        let message = Array("""
            From: Suporte <suporte@suporte.example>\r
            Subject: Redefini\u{E7}\u{E3}o\r
            MIME-Version: 1.0\r
            Content-Type: multipart/alternative;\r
             boundary="b1"\r
            Message-ID: <m1@suporte.example>\r
            \r
            --b1\r
            https://portal.example/#token=SEGREDO\r
            """.utf8)
        let redacted = String(decoding: AccountMailRedaction.redacted(message), as: UTF8.self)
        #expect(!redacted.contains("SEGREDO") && !redacted.contains("boundary") && !redacted.contains("multipart"), "\(redacted)")
        #expect(redacted.contains("From: Suporte <suporte@suporte.example>\r\nSubject: Redefinição\r\nMessage-ID: <m1@suporte.example>\r\n"), "\(redacted)")
        #expect(redacted.hasSuffix("\r\n\r\n" + AccountMailRedaction.note), "\(redacted)")
    }
}
