import Foundation
import MailKit
import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

extension IntakeHarness {
    /// Runs the real `intake ingest-mail` on `raw`; exit status and the JSON line. (Through
    /// ``Command/capture(_:_:environment:input:)``, not `Foundation.Process`, whose `run()` can
    /// crash the test process on Linux; this runs dozens of times per suite.)
    func ingestCommand(_ raw: [UInt8]) throws -> (Int32, [String: String]) {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in self.environment { environment[key] = value }
        let (status, output) = try Command.capture(BuildProducts.executable("intake").path, ["ingest-mail"],
                                                   environment: environment, input: raw)
        let json = (try? JSONSerialization.jsonObject(with: Data(output))) as? [String: String] ?? [:]
        return (status, json)
    }

    func quarantined(includeResolved: Bool = false, as options: CallOptions? = nil) throws -> [IntakeV1.QuarantinedMail] {
        var request = IntakeV1.ListQuarantinedMailRequest()
        request.includeResolved = includeResolved
        return try client.call(IntakeV1.Intake.listQuarantinedMail, request, options: options ?? staff).messages
    }

    func downloadQuarantined(_ id: String, chunk: Int32 = 100) throws -> (IntakeV1.QuarantinedMail?, [UInt8]) {
        var request = IntakeV1.QuarantinedMailRequest()
        request.id = id
        request.chunkBytes = chunk
        let stream = try client.serverStream(IntakeV1.Intake.downloadQuarantinedMail, request, options: staff)
        var bytes: [UInt8] = []
        var record: IntakeV1.QuarantinedMail?
        while let part = try stream.receive() {
            if part.offset == 0 { record = part.mail }
            #expect(part.offset == Int64(bytes.count))
            bytes += part.data
        }
        return (record, bytes)
    }

    func bounceRow(_ quarantineID: String) throws -> Row? {
        try database.read { tx in
            try tx.queryOne("""
                SELECT b.status, b.attempts, b.last_error, b.recipient FROM mail_bounces b
                JOIN mail_quarantine q ON q.bounce_id = b.id WHERE q.id = ?
                """, [.text(quarantineID)])
        }
    }
}

@Suite("E-mail quarantine", .serialized)
struct MailQuarantineTests {
    @Test("`intake ingest-mail` keeps malformed mail (exit 0, quarantined, once); agents list, download byte-exact, reprocess after a fix and discard it; customers cannot",
          arguments: TestEngines.all)
    func pipeQuarantine(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")

        let noHeaders = try Fixtures.bytes("malformed-no-headers.eml")
        let binary = try Fixtures.bytes("malformed-binary.eml")
        let (status, first) = try harness.ingestCommand(noHeaders)
        #expect(status == 0 && first["outcome"] == "quarantined" && first["quarantine_id"]?.isEmpty == false)
        let (again, second) = try harness.ingestCommand(noHeaders)
        #expect(again == 0 && second["quarantine_id"] == first["quarantine_id"], "the same message is held once")
        // The same message with the other line ends (IMAP hands over CRLF, an MTA's pipe LF) is
        // still the same message.
        let text = String(decoding: noHeaders, as: UTF8.self)
        let flipped = text.contains("\r\n") ? text.replacingOccurrences(of: "\r\n", with: "\n") : text.replacingOccurrences(of: "\n", with: "\r\n")
        let (_, third) = try harness.ingestCommand(Array(flipped.utf8))
        #expect(third["quarantine_id"] == first["quarantine_id"], "line ends do not make another message")
        let (binaryStatus, binaryResult) = try harness.ingestCommand(binary)
        #expect(binaryStatus == 0 && binaryResult["outcome"] == "quarantined")
        let (refused, rejection) = try harness.ingestCommand(try Fixtures.bytes("unknown-sender.eml"))
        #expect(refused == 67 && rejection["outcome"] == "rejected" && rejection["quarantine_id"]?.isEmpty == false)
        let (empty, _) = try harness.ingestCommand([])
        #expect(empty == 65)
        #expect(try harness.count("mail_quarantine") == 3)
        #expect(try harness.count("tickets") == 0)

        // Agents see them, newest first.
        let held = try harness.quarantined()
        #expect(held.map(\.id) == [rejection["quarantine_id"], binaryResult["quarantine_id"], first["quarantine_id"]].compactMap { $0 })
        #expect(held.map(\.kind) == [.quarantineRejected, .quarantineUnparsable, .quarantineUnparsable])
        #expect(held.allSatisfy { $0.status == .quarantineHeld && $0.source == "pipe" && $0.bounceStatus == .bounceNone })
        #expect(held[0].fromAddress == "alguem@desconhecido.example" && held[0].subject == "Preciso de ajuda")
        #expect(held[0].reason.contains("unknown sender"))
        #expect(held[1].sizeBytes == Int64(binary.count) && held[1].sha256 == sha256Hex(binary))
        // Paging by key cursor.
        var page = IntakeV1.ListQuarantinedMailRequest()
        page.pageSize = 2
        let one = try harness.client.call(IntakeV1.Intake.listQuarantinedMail, page, options: harness.staff)
        page.pageToken = one.nextPageToken
        let two = try harness.client.call(IntakeV1.Intake.listQuarantinedMail, page, options: harness.staff)
        #expect(one.messages.count == 2 && two.messages.map(\.id) == [held[2].id] && two.nextPageToken.isEmpty)
        page.pageToken = "garbage"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.listQuarantinedMail, page, options: harness.staff) }?.code == .invalidArgument)

        // The raw bytes come back exactly.
        let (record, bytes) = try harness.downloadQuarantined(held[1].id)
        #expect(bytes == binary && record?.id == held[1].id)
        #expect(try harness.downloadQuarantined(held[2].id, chunk: 0).1 == noHeaders)

        // Customers and integrations are refused; an unknown id is NOT_FOUND.
        let customer = harness.options(IntakeHarness.customer(maria))
        #expect(rpcError { _ = try harness.quarantined(as: customer) }?.code == .permissionDenied)
        var integration = AuthV1.Principal()
        integration.kind = .integration
        integration.id = "erp"
        #expect(rpcError { _ = try harness.quarantined(as: harness.options(integration)) }?.code == .permissionDenied)
        var get = IntakeV1.QuarantinedMailRequest()
        get.id = held[1].id
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, get, options: customer) }?.code == .permissionDenied)
        get.id = "nope"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.getQuarantinedMail, get, options: harness.staff) }?.code == .notFound)

        // Reprocessing a still unparsable message keeps it held, counting the attempt.
        get.id = held[1].id
        let retried = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, get, options: harness.staff)
        #expect(retried.outcome == "unparsable" && retried.mail?.status == .quarantineHeld && retried.mail?.attempts == 2)

        // After the sender is added as a contact, the rejected message opens its ticket.
        _ = try harness.contact(acme, "Alguém", email: "alguem@desconhecido.example")
        get.id = held[0].id
        // With an idempotency key: a retry gets the first answer, not "already resolved", and opens nothing more.
        let keyed = harness.options(IntakeHarness.agent(), key: "reprocessar-1")
        let reprocessed = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, get, options: keyed)
        #expect(reprocessed.outcome == "opened" && reprocessed.mail?.status == .quarantineReprocessed)
        #expect(try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, get, options: keyed) == reprocessed)
        var otherOrganization = get
        otherOrganization.organizationID = acme.id
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, otherOrganization, options: keyed) }?.code
                    == .failedPrecondition, "the key with another request")
        #expect(reprocessed.mail?.ticketCode.hasSuffix("-000001") == true && reprocessed.mail?.resolvedBy == "agent-1")
        #expect(try harness.count("tickets") == 1)
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, get, options: harness.staff) }?.code == .failedPrecondition)

        // Discarding needs a reason.
        var discard = IntakeV1.DiscardQuarantinedMailRequest()
        discard.id = held[2].id
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.discardQuarantinedMail, discard, options: harness.staff) }?.violations.map(\.field) == ["reason"])
        discard.reason = "texto colado sem cabeçalho; a cliente abriu pelo portal"
        let discardKey = harness.options(IntakeHarness.agent(), key: "descartar-1")
        let discarded = try harness.client.call(IntakeV1.Intake.discardQuarantinedMail, discard, options: discardKey)
        #expect(discarded.status == .quarantineDiscarded && discarded.resolution == discard.reason && discarded.resolvedAt > 0)
        #expect(try harness.client.call(IntakeV1.Intake.discardQuarantinedMail, discard, options: discardKey) == discarded, "a retry: the first answer")
        #expect(try harness.quarantined().map(\.id) == [held[1].id], "only what is still held")
        #expect(try harness.quarantined(includeResolved: true).count == 3)
    }

    @Test("an agent repairs an unparsable message (headers restored) and reprocesses it: the ticket opens, the stored message stays as received",
          arguments: TestEngines.all)
    func correctedMessage(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        let original = try Fixtures.bytes("malformed-no-headers.eml")
        let (status, result) = try harness.ingestCommand(original)
        #expect(status == 0 && result["outcome"] == "quarantined")
        var request = IntakeV1.QuarantinedMailRequest()
        request.id = result["quarantine_id"] ?? ""
        request.replacementRaw = Array("still no headers\r\n".utf8)
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, request, options: harness.staff) }?
            .violations.map(\.reason) == ["unparsable"])
        request.replacementRaw = Array("""
            From: Maria Souza <maria@acme.example>\r
            To: suporte@suporte.example\r
            Subject: Sistema trava ao emitir nota fiscal\r
            Message-ID: <corrigida-1@acme.example>\r
            Content-Type: text/plain; charset=utf-8\r
            \r

            """.utf8) + original
        let response = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, request, options: harness.staff)
        #expect(response.outcome == "opened" && response.mail?.resolution == "opened (corrected message)")
        let ticket = try harness.intake.getTicket(response.mail?.ticketID ?? "", caller: Caller(IntakeHarness.agent()))
        #expect(ticket.subject == "Sistema trava ao emitir nota fiscal" && ticket.request.contains("ERRO 539"))
        #expect(try harness.downloadQuarantined(request.id).1 == original)
    }

    @Test("loop safety and rate limit: no answer to automatic mail, to our own address, beyond the hourly limit per sender, or twice for one message",
          arguments: TestEngines.all)
    func bounceDecisions(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        var bounce = MailBounce(smtpURL: "smtp://127.0.0.1:9", from: "suporte@suporte.example")
        bounce.limitPerHour = 2
        func receive(_ id: String, headers: String = "", from: String = "alguem@desconhecido.example") throws -> MailReceipt {
            let raw = try Fixtures.text("unknown-sender.eml", replacing: [
                "Message-ID: <unknown-1@": "\(headers)Message-ID: <\(id)@", "alguem@desconhecido.example": from,
            ])
            return try harness.intake.receive(raw: raw, source: "imap", tokens: tokens, bounce: bounce)
        }
        let first = try receive("a")
        guard case .queued = first.bounce else { Issue.record("not queued: \(String(describing: first.bounce))"); return }
        let again = try receive("a")
        #expect(again.quarantineID == first.quarantineID && again.bounce == nil, "redelivered: held and answered once")
        guard case .queued = try receive("b").bounce else { Issue.record("second not queued"); return }
        #expect(try receive("c").bounce == .suppressed("rate limit: 2 answers per hour to this sender"))
        #expect(try receive("d", headers: "Auto-Submitted: auto-replied\n", from: "robo@outro.example").bounce == .suppressed("automatic message, null sender or daemon"))
        #expect(try receive("e", from: "suporte+abc@suporte.example").bounce == .suppressed("our own address"))
        #expect(try receive("f", from: "mailer-daemon@mx.example").bounce == .suppressed("automatic message, null sender or daemon"))
        #expect(try harness.count("mail_bounces") == 2)
        #expect(try harness.count("mail_quarantine") == 6)
        let rate = try harness.quarantined().first { $0.emailMessageID == "c@desconhecido.example" }
        #expect(rate?.bounceStatus == .bounceSuppressed && rate?.bounceNote.contains("rate limit") == true)
    }

    @Test("a permanent SMTP refusal (550) is recorded as failed after one attempt and not retried",
          .enabled(if: SMTPSink.isAvailable), arguments: TestEngines.all)
    func permanentFailure(engine: DatabaseEngine) throws {
        let smtp = try SMTPSink(options: ["--reject-rcpt", "desconhecido.example"])
        defer { smtp.stop() }
        let harness = try IntakeHarness(engine, environment: [
            "INTAKE_SMTP_URL": smtp.url, "INTAKE_BOUNCE_FROM": "suporte@suporte.example", "INTAKE_BOUNCE_RETRY_SECONDS": "0.1",
        ])
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let bounce = try #require(try MailBounce.fromEnvironment(harness.environment))
        let receipt = try harness.intake.receive(raw: try Fixtures.bytes("unknown-sender.eml"), source: "imap", tokens: tokens, bounce: bounce)
        let id = try #require(receipt.quarantineID)
        #expect(try waitFor(15) { try harness.bounceRow(id)?.text("status") == "failed" })
        Thread.sleep(forTimeInterval: 1.5)
        let row = try #require(try harness.bounceRow(id))
        #expect(try row.int("attempts") == 1, "a 5xx is final")
        #expect(try row.text("last_error").contains("550"))
        #expect(smtp.messages().isEmpty)
        let record = try harness.quarantined().first
        #expect(record?.bounceStatus == .bounceFailed && record?.bounceAttempts == 1 && record?.bounceError.contains("550") == true)
    }

    @Test("two intake processes on one database send each queued bounce once", .enabled(if: SMTPSink.isAvailable), arguments: TestEngines.all)
    func twoSenders(engine: DatabaseEngine) throws {
        let smtp = try SMTPSink()
        defer { smtp.stop() }
        let environment = ["INTAKE_SMTP_URL": smtp.url, "INTAKE_BOUNCE_FROM": "suporte@suporte.example"]
        let first = try IntakeHarness(engine, environment: environment)
        let second = try IntakeHarness(engine, environment: environment, databaseURL: first.environment["INTAKE_DATABASE_URL"],
                                       dataDirectory: first.directory.path, secret: first.secretText)
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(first.secretText.utf8)))
        let bounce = try #require(try MailBounce.fromEnvironment(first.environment))
        for index in 0..<12 {
            let raw = try Fixtures.text("unknown-sender.eml", replacing: [
                "unknown-1@": "unknown-\(index)@", "alguem@desconhecido.example": "alguem\(index)@desconhecido.example",
            ])
            _ = try (index % 2 == 0 ? first : second).intake.receive(raw: raw, source: "imap", tokens: tokens, bounce: bounce)
        }
        #expect(try waitFor(30) { try first.database.read { try $0.scalar("SELECT COUNT(*) FROM mail_bounces WHERE status = 'sent'").integerValue } == 12 })
        Thread.sleep(forTimeInterval: 1)
        #expect(smtp.messages().count == 12)
        #expect(Set(smtp.recipients().flatMap { $0 }).count == 12, "each sender answered once")
    }

    @Test("temporary failures (451) are retried with backoff and given up after the bounded number of attempts",
          .enabled(if: SMTPSink.isAvailable), arguments: TestEngines.all)
    func boundedRetries(engine: DatabaseEngine) throws {
        let smtp = try SMTPSink(options: ["--fail-first", "1000"])
        defer { smtp.stop() }
        let harness = try IntakeHarness(engine, environment: [
            "INTAKE_SMTP_URL": smtp.url, "INTAKE_BOUNCE_FROM": "suporte@suporte.example",
            "INTAKE_BOUNCE_RETRY_SECONDS": "0.1", "INTAKE_BOUNCE_RETRY_MAX_SECONDS": "0.3", "INTAKE_BOUNCE_MAX_ATTEMPTS": "3",
        ])
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let bounce = try #require(try MailBounce.fromEnvironment(harness.environment))
        let receipt = try harness.intake.receive(raw: try Fixtures.bytes("unknown-sender.eml"), source: "imap", tokens: tokens, bounce: bounce)
        let id = try #require(receipt.quarantineID)
        #expect(try waitFor(20) { try harness.bounceRow(id)?.text("status") == "failed" })
        Thread.sleep(forTimeInterval: 1)
        let row = try #require(try harness.bounceRow(id))
        #expect(try row.int("attempts") == 3)
        #expect(try row.text("last_error").contains("451"))
        #expect(smtp.messages().isEmpty)
    }

    @Test("a sender who is an authorized contact of several organizations is held, not answered, until an agent chooses the organization",
          arguments: TestEngines.all)
    func ambiguousSender(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "12ABC34501DE35")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        _ = try harness.contact(beta, "Maria Souza (Beta)", email: "maria@acme.example")
        let (status, result) = try harness.ingestCommand(try Fixtures.bytes("thunderbird-new-ticket.eml"))
        #expect(status == 0 && result["outcome"] == "held" && result["reason"]?.contains("2 organizations") == true)
        #expect(try harness.count("tickets") == 0)
        let held = try #require(try harness.quarantined().first)
        #expect(held.kind == .quarantineAmbiguousSender && held.bounceStatus == .bounceNone)

        var request = IntakeV1.QuarantinedMailRequest()
        request.id = held.id
        let undecided = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, request, options: harness.staff)
        #expect(undecided.outcome == "held" && undecided.mail?.status == .quarantineHeld)
        request.organizationID = beta.id
        let decided = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, request, options: harness.staff)
        #expect(decided.outcome == "opened")
        let ticket = try harness.intake.getTicket(decided.mail?.ticketID ?? "", caller: Caller(IntakeHarness.agent()))
        #expect(ticket.organization?.id == beta.id && ticket.attachments.map(\.fileName) == ["relatório.pdf"])

        // With one of the two organizations inactive there is no doubt.
        var inactive = acme
        inactive.active = false
        _ = try harness.client.call(IntakeV1.Intake.updateOrganization, inactive, options: harness.staff)
        let outlook = try Fixtures.text("outlook-html-only.eml", replacing: ["joao@acme.example": "maria@acme.example"])
        let (opened, second) = try harness.ingestCommand(outlook)
        #expect(opened == 0 && second["outcome"] == "opened")
    }

    @Test("the answer to a reply on a cancelled ticket, sent from the registered address, does not tell the sender to write from the registered address; a stranger's still does",
          arguments: TestEngines.all)
    func answerToARegisteredSender(engine: DatabaseEngine) throws {
        let sender = try MailIngestTests.MailSender(engine)
        let harness = sender.harness
        let bounce = MailBounce(smtpURL: "smtp://127.0.0.1:9", from: "suporte@suporte.example")
        func raw(_ id: String, inReplyTo: String? = nil) -> [UInt8] {
            Array(((inReplyTo.map { "In-Reply-To: <\($0)>\r\n" } ?? "") + """
                Message-ID: <\(id)@acme.example>\r
                From: Maria Souza <maria@acme.example>\r
                To: suporte@suporte.example\r
                Subject: Tela congela ao salvar o pedido\r
                Content-Type: text/plain; charset=UTF-8\r
                \r
                Ainda congela.\r

                """).utf8)
        }
        let opened = try harness.intake.receive(raw: raw("first"), source: "imap", tokens: sender.tokens, bounce: bounce)
        guard case .opened(let ticketID, _) = opened.outcome else { Issue.record("not opened: \(opened.outcome)"); return }
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = ticketID
        _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: harness.options(IntakeHarness.customer(sender.maria)))

        let refused = try harness.intake.receive(raw: raw("late", inReplyTo: "first@acme.example"), source: "imap",
                                                 tokens: sender.tokens, bounce: bounce)
        guard case .queued(let answerID) = refused.bounce else { Issue.record("not answered: \(String(describing: refused.bounce))"); return }
        let stranger = try harness.intake.receive(raw: try Fixtures.bytes("unknown-sender.eml"), source: "imap", tokens: sender.tokens, bounce: bounce)
        guard case .queued(let strangerID) = stranger.bounce else { Issue.record("stranger not answered"); return }
        func text(_ id: String) throws -> String {
            try harness.database.read { tx in
                String(decoding: try #require(try tx.queryOne("SELECT message FROM mail_bounces WHERE id = ?", [.text(id)])).blob("message"),
                       as: UTF8.self)
            }
        }
        let answer = try text(answerID)
        #expect(answer.contains("Motivo: ocorrência cancelada") && answer.contains("Reason: the ticket was cancelled"), "\(answer)")
        #expect(!answer.contains("escreva do e-mail cadastrado") && !answer.contains("write from the address registered"), "\(answer)")
        #expect(answer.contains("Seu endereço está cadastrado; se precisar, abra uma nova ocorrência pelo portal."), "\(answer)")
        #expect(answer.contains("Your address is registered; if you need to, open a new ticket in the portal."), "\(answer)")
        let strangerAnswer = try text(strangerID)
        #expect(strangerAnswer.contains("escreva do e-mail cadastrado na sua empresa") && !strangerAnswer.contains("Seu endereço está cadastrado"))
    }

    @Test("resolved mail and finished bounces are purged after the retention; held mail and pending bounces stay", arguments: TestEngines.all)
    func retention(engine: DatabaseEngine) throws {
        // About 0.9 s of retention, looked at every 0.2 s.
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GC_INTERVAL_SECONDS": "0.2", "INTAKE_MAIL_RETENTION_DAYS": "0.00001"])
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let bounce = MailBounce(smtpURL: "smtp://127.0.0.1:9", from: "suporte@suporte.example")
        let rejected = try harness.intake.receive(raw: try Fixtures.bytes("unknown-sender.eml"), source: "imap", tokens: tokens, bounce: bounce)
        let kept = try harness.intake.receive(raw: try Fixtures.bytes("malformed-binary.eml"), source: "imap", tokens: tokens, bounce: bounce)
        var discard = IntakeV1.DiscardQuarantinedMailRequest()
        discard.id = try #require(rejected.quarantineID)
        discard.reason = "spam"
        _ = try harness.client.call(IntakeV1.Intake.discardQuarantinedMail, discard, options: harness.staff)
        #expect(try waitFor(10) { try harness.count("mail_quarantine") == 1 }, "the discarded message goes")
        #expect(try harness.quarantined().map(\.id) == [kept.quarantineID], "the held one stays")
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try harness.count("mail_bounces") == 1, "a pending bounce stays")
        try harness.database.write { try $0.execute("UPDATE mail_bounces SET status = 'sent', finished_at = 1") }
        #expect(try waitFor(10) { try harness.count("mail_bounces") == 0 }, "a finished one goes")
    }

    @Test("backoff doubles from the base and stops at the maximum")
    func backoff() {
        var bounce = MailBounce(smtpURL: "smtp://127.0.0.1:9", from: "suporte@suporte.example")
        bounce.retrySeconds = 60
        bounce.retryMaxSeconds = 600
        #expect((1...6).map { bounce.backoffSeconds(afterAttempts: $0) } == [60, 120, 240, 480, 600, 600])
    }
}

@Suite("E-mail quarantine over IMAP (real dovecot, real SMTP)", .serialized,
       .enabled(if: IMAPTestServer.isAvailable && SMTPSink.isAvailable))
struct ImapQuarantineTests {
    @Test("malformed mail from the mailbox is kept byte-exact; a rejected message's bounce waits while the SMTP server is down and arrives once it is up",
          arguments: TestEngines.all)
    func sinkDownThenUp(engine: DatabaseEngine) throws {
        let dovecot = try IMAPTestServer()
        defer { dovecot.stop() }
        let port = try FreePort.next()
        let harness = try IntakeHarness(engine, environment: dovecot.intakeEnvironment(interval: "0.2", smtp: "smtp://127.0.0.1:\(port)", [
            "INTAKE_BOUNCE_RETRY_SECONDS": "0.2", "INTAKE_BOUNCE_RETRY_MAX_SECONDS": "0.5",
        ]))
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        let binary = try Fixtures.bytes("malformed-binary.eml")
        let noHeaders = try Fixtures.bytes("malformed-no-headers.eml")
        try dovecot.deliver(binary)
        try dovecot.deliver(noHeaders)
        try dovecot.deliver(Fixtures.bytes("unknown-sender.eml"))
        try dovecot.deliver(Fixtures.bytes("thunderbird-new-ticket.eml"))
        #expect(try waitFor { try harness.count("mail_quarantine") == 3 && harness.count("tickets") == 1 })
        let inbox = IMAPMailbox(url: dovecot.url, user: dovecot.user, password: dovecot.password)
        #expect(try waitFor(10) { try inbox.search("FLAGGED").count == 3 && inbox.unseen().isEmpty })

        let held = try harness.quarantined()
        #expect(held.count == 3 && held.allSatisfy { $0.source == "imap" })
        let unparsable = held.filter { $0.kind == .quarantineUnparsable }
        #expect(unparsable.count == 2 && unparsable.allSatisfy { $0.bounceStatus == .bounceNone })
        // Kept byte for byte as the IMAP server hands them out (dovecot sends line ends as CRLF
        // and NUL as 0x80, as IMAP requires).
        let downloaded = try unparsable.map { try harness.downloadQuarantined($0.id).1 }
        let served = try inbox.search("FLAGGED").map { try inbox.fetch($0) }
        #expect(Set(downloaded).isSubset(of: Set(served)) && Set(downloaded).count == 2, "kept byte for byte")
        #expect(downloaded.contains(noHeaders))

        // The SMTP server is down: the bounce is tried, fails, and waits.
        let rejected = try #require(held.first { $0.kind == .quarantineRejected })
        #expect(try waitFor(10) { (try harness.bounceRow(rejected.id)?.int("attempts") ?? 0) >= 2 })
        #expect(try harness.bounceRow(rejected.id)?.text("status") == "pending")

        let smtp = try SMTPSink(port: port)
        defer { smtp.stop() }
        #expect(waitFor(15) { smtp.messages().count == 1 }, "sent once the server is up")
        #expect(try waitFor { try harness.bounceRow(rejected.id)?.text("status") == "sent" })
        Thread.sleep(forTimeInterval: 1)
        #expect(smtp.messages().count == 1)
        #expect(smtp.recipients() == [["alguem@desconhecido.example"]])
        let answer = smtp.messages().first ?? ""
        #expect(answer.contains("In-Reply-To: <unknown-1@desconhecido.example>") && answer.contains("Auto-Submitted: auto-replied"))
        let record = try harness.quarantined().first { $0.id == rejected.id }
        #expect(record?.bounceStatus == .bounceSent && (record?.bounceAttempts ?? 0) >= 3)
    }
}
