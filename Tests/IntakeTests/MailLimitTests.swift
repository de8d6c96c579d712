import Foundation
import IntakeCore
import MailKit
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// A message from Maria with a `bytes`-long base64 attachment.
func bigMessage(_ id: String, from: String = "Maria Souza <maria@acme.example>", attachmentBytes: Int) -> [UInt8] {
    let data = Data((0..<attachmentBytes).map { UInt8(truncatingIfNeeded: $0 &* 31) }).base64EncodedString(options: .lineLength76Characters)
    let text = """
        From: \(from)
        To: suporte@suporte.example
        Subject: Planilha do fechamento
        Message-ID: <\(id)>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b1"

        --b1
        Content-Type: text/plain; charset=utf-8

        Segue a planilha.
        --b1
        Content-Type: application/octet-stream; name="fechamento.xlsx"
        Content-Disposition: attachment; filename="fechamento.xlsx"
        Content-Transfer-Encoding: base64

        \(data)
        --b1--
        """
    return Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

@Suite("Lenient header reading")
struct MailHeadersTests {
    @Test("fields are read up to the first empty line: folded values unfolded, stray lines skipped, CRLF or LF, within the limit")
    func lenientHeaders() {
        let raw = Array("Encaminhado do celular\r\nFrom: Maria\r\n <maria@acme.example>\r\nX-Junk\r\nSubject:  Olá \r\n\r\nBody: not a header\r\n".utf8)
        let fields = MailHeaders.read(raw)
        #expect(fields.map(\.name) == ["From", "Subject"])
        #expect(fields.first?.value == "Maria <maria@acme.example>" && fields.last?.value == "Olá")
        #expect(MailHeaders.block(raw).count == raw.count - "Body: not a header\r\n".utf8.count)
        #expect(MailHeaders.read(Array("Bom dia,\n\nPrazo: amanhã\n".utf8)).isEmpty, "nothing after the first empty line")
        #expect(MailHeaders.read(Array(("A: 1\n" + String(repeating: "B: 2\n", count: 20_000)).utf8)).count < 14_000, "bounded")
        #expect(MailHeaders.address(in: "Maria <Maria@Acme.example>") == "maria@acme.example")
        #expect(MailHeaders.address(in: "maria@acme.example (Maria)") == "maria@acme.example")
        #expect(MailHeaders.address(in: "<>") == nil && MailHeaders.address(in: "Maria") == nil)
        let lenient = MailMessage(lenient: raw)
        #expect(lenient?.fromAddress == "maria@acme.example" && lenient?.subject == "Olá")
        #expect(MailMessage(lenient: Array("Bom dia,\n\nMaria\n".utf8)) == nil)
    }
}

@Suite("E-mail size limit and unreadable mail (real dovecot and SMTP)", .serialized, .enabled(if: IMAPTestServer.isAvailable && SMTPSink.isAvailable))
struct MailLimitTests {
    @Test("oversized mail in the mailbox: only its header is fetched and held, the sender is told the limit (pt-BR and en), it stays seen and flagged and is not fetched again; the mail after it comes in; it can be discarded, not reprocessed",
          arguments: TestEngines.all)
    func oversizedFromImap(engine: DatabaseEngine) throws {
        let dovecot = try IMAPTestServer()
        defer { dovecot.stop() }
        let smtp = try SMTPSink()
        defer { smtp.stop() }
        let harness = try IntakeHarness(engine, environment: dovecot.intakeEnvironment(interval: "0.2", smtp: smtp.url, [
            "INTAKE_MAX_MAIL_BYTES": String(100 << 10),
        ]))
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        let big = bigMessage("grande-1@acme.example", attachmentBytes: 300 << 10)
        try dovecot.deliver(big)
        try dovecot.deliver(bigMessage("pequena-1@acme.example", attachmentBytes: 20 << 10))
        #expect(try waitFor(15) { try harness.count("mail_quarantine") == 1 && harness.count("tickets") == 1 })
        let inbox = IMAPMailbox(url: dovecot.url, user: dovecot.user, password: dovecot.password)
        #expect(try waitFor(10) { try inbox.search("FLAGGED").count == 1 && inbox.unseen().isEmpty })
        // What the poller asks the server: the size without the message, then the header alone.
        let uid = try #require(try inbox.search("FLAGGED").first)
        #expect(try inbox.size(uid) == Int64(big.count))
        let header = try inbox.fetchHeader(uid)
        #expect(header.count < 1024 && String(decoding: header, as: UTF8.self).hasSuffix("\r\n\r\n"))
        #expect(try inbox.fetchHeader(uid, limit: 40).count == 40, "a partial fetch of at most the limit")

        let held = try #require(try harness.quarantined().first)
        #expect(held.kind == .quarantineOversized && held.headersOnly && held.status == .quarantineHeld)
        #expect(held.sizeBytes >= Int64(big.count), "the whole size as the server announces it (\(held.sizeBytes))")
        #expect(held.fromAddress == "maria@acme.example" && held.emailMessageID == "grande-1@acme.example")
        let (_, stored) = try harness.downloadQuarantined(held.id, chunk: 0)
        #expect(stored.count < 1024, "only the header block is stored (\(stored.count) bytes)")
        #expect(String(decoding: stored, as: UTF8.self).contains("Subject: Planilha do fechamento"))

        #expect(waitFor(10) { smtp.messages().count == 1 })
        #expect(smtp.recipients() == [["maria@acme.example"]])
        let bounce = smtp.messages().first ?? ""
        #expect(bounce.contains("acima do limite de 0.1 MiB") && bounce.contains("over the limit of 0.1 MiB"), "\(bounce)")

        // More rounds: not fetched again, no second row or answer.
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try harness.count("mail_quarantine") == 1 && smtp.messages().count == 1)

        var request = IntakeV1.QuarantinedMailRequest()
        request.id = held.id
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, request, options: harness.staff) }?.code
                == .failedPrecondition)
        var discard = IntakeV1.DiscardQuarantinedMailRequest()
        discard.id = held.id
        discard.reason = "cliente avisado"
        #expect(try harness.client.call(IntakeV1.Intake.discardQuarantinedMail, discard, options: harness.staff).status == .quarantineDiscarded)
    }

    @Test("unparsable mail whose sender can still be read is answered ('could not be read'); one without a readable sender or from a robot is only held",
          arguments: TestEngines.all)
    func unreadableAnswered(engine: DatabaseEngine) throws {
        let dovecot = try IMAPTestServer()
        defer { dovecot.stop() }
        let smtp = try SMTPSink()
        defer { smtp.stop() }
        let harness = try IntakeHarness(engine, environment: dovecot.intakeEnvironment(interval: "0.2", smtp: smtp.url))
        try dovecot.deliver(Array("Encaminhado do celular\r\nFrom: Maria <maria@acme.example>\r\nSubject: Erro 539\r\n\r\nO erro continua.\r\n".utf8))
        try dovecot.deliver(Array("Relatório automático\r\nFrom: robo@acme.example\r\nAuto-Submitted: auto-generated\r\n\r\nok\r\n".utf8))
        try dovecot.deliver(try Fixtures.bytes("malformed-no-headers.eml"))
        #expect(try waitFor(15) { try harness.count("mail_quarantine") == 3 })
        #expect(waitFor(10) { smtp.messages().count == 1 })
        Thread.sleep(forTimeInterval: 0.5)
        #expect(smtp.messages().count == 1 && smtp.recipients() == [["maria@acme.example"]])
        let bounce = smtp.messages().first ?? ""
        #expect(bounce.contains("não pôde ser lida") && bounce.contains("could not be read") && bounce.contains("Erro 539"), "\(bounce)")

        let held = try harness.quarantined()
        #expect(held.allSatisfy { $0.kind == .quarantineUnparsable })
        let answered = try #require(held.first { $0.fromAddress == "maria@acme.example" })
        #expect(answered.bounceStatus == .bounceSent || answered.bounceStatus == .bouncePending)
        #expect(held.first { $0.fromAddress == "robo@acme.example" }?.bounceStatus == .bounceSuppressed)
        #expect(held.first { $0.fromAddress.isEmpty }?.bounceStatus == .bounceNone)
        // An agent sees the headers that could be read.
        var get = IntakeV1.QuarantinedMailRequest()
        get.id = answered.id
        let record = try harness.client.call(IntakeV1.Intake.getQuarantinedMail, get, options: harness.staff)
        #expect(record.headers.map(\.name) == ["From", "Subject"] && record.headers.first?.value == "Maria <maria@acme.example>")
    }

    @Test("`intake ingest-mail` over the limit: read to the end, only the header held, exit 65 so the MTA bounces; under it as before",
          arguments: TestEngines.all)
    func oversizedFromPipe(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_MAX_MAIL_BYTES": String(64 << 10)])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        let big = bigMessage("grande-2@acme.example", attachmentBytes: 3 << 20)
        let (status, result) = try harness.ingestCommand(big)
        #expect(status == 65 && result["outcome"] == "too_large" && result["reason"]?.contains("limite de 0.1 MiB") == true, "\(result)")
        let held = try #require(try harness.quarantined().first)
        #expect(held.kind == .quarantineOversized && held.sizeBytes == Int64(big.count) && held.source == "pipe")
        #expect(try harness.downloadQuarantined(held.id, chunk: 0).1.count < 1024)
        let (again, second) = try harness.ingestCommand(big)
        #expect(again == 65 && second["quarantine_id"] == held.id, "held once")
        let (small, opened) = try harness.ingestCommand(bigMessage("pequena-2@acme.example", attachmentBytes: 10 << 10))
        #expect(small == 0 && opened["outcome"] == "opened", "\(opened)")
    }
}

@Suite("E-mail pipe answering with intake's own SMTP (real SMTP server)", .serialized, .enabled(if: SMTPSink.isAvailable))
struct MailPipeAnswerTests {
    @Test("with INTAKE_SMTP_URL the pipe answers like IMAP: exit 0 with the answer queued and sent by the service, never to robots, at most the hourly limit per sender; the MTA bounces nothing",
          arguments: TestEngines.all)
    func pipeAnswersThroughIntake(engine: DatabaseEngine) throws {
        let smtp = try SMTPSink()
        defer { smtp.stop() }
        let harness = try IntakeHarness(engine, environment: [
            "INTAKE_SMTP_URL": smtp.url, "INTAKE_BOUNCE_FROM": "suporte@suporte.example", "INTAKE_BOUNCE_LIMIT_PER_HOUR": "2",
        ])
        let stranger = try Fixtures.bytes("unknown-sender.eml")
        func copy(_ n: Int) -> [UInt8] {
            Array(String(decoding: stranger, as: UTF8.self)
                .replacingOccurrences(of: "<unknown-1@desconhecido.example>", with: "<unknown-\(n)@desconhecido.example>").utf8)
        }
        let (status, first) = try harness.ingestCommand(stranger)
        #expect(status == 0 && first["outcome"] == "rejected" && first["answer"] == "queued", "\(first)")
        // The running service sends it.
        #expect(waitFor { smtp.recipients().contains(["alguem@desconhecido.example"]) })
        // The sink records the recipients at RCPT and the message once DATA ends: wait for both.
        #expect(waitFor { smtp.messages().first?.contains("Preciso de ajuda") == true })
        // The same message again: held once, not answered again.
        let (_, again) = try harness.ingestCommand(stranger)
        #expect(again["quarantine_id"] == first["quarantine_id"] && again["answer"] == nil, "\(again)")
        // A second message is answered; a third within the hour is not.
        #expect(try harness.ingestCommand(copy(2)).1["answer"] == "queued")
        let (limited, third) = try harness.ingestCommand(copy(3))
        #expect(limited == 0 && third["outcome"] == "rejected" && third["answer"]?.hasPrefix("suppressed: rate limit") == true, "\(third)")
        // An automatic message is never answered.
        let robot = Array(String(decoding: copy(4), as: UTF8.self).replacingOccurrences(of: "MIME-Version: 1.0", with: "Auto-Submitted: auto-replied\nMIME-Version: 1.0").utf8)
        let (robotStatus, robotResult) = try harness.ingestCommand(robot)
        #expect(robotStatus == 0 && robotResult["answer"]?.hasPrefix("suppressed: automatic") == true, "\(robotResult)")
        #expect(waitFor { smtp.recipients().count == 2 })
        #expect(try harness.count("mail_quarantine") == 4)
    }
}

@Suite("E-mail quarantine permission")
struct MailQuarantinePermissionTests {
    @Test("agents need tickets.work (administrators and services always may); customers and integrations never", arguments: TestEngines.all)
    func permission(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let (status, _) = try harness.ingestCommand(try Fixtures.bytes("unknown-sender.eml"))
        #expect(status == 67)
        let reader = harness.options(IntakeHarness.agent("agent-r", administrator: false, permissions: ["tickets.read"]))
        let worker = harness.options(IntakeHarness.agent("agent-w", administrator: false, permissions: ["tickets.read", "tickets.work"]))
        #expect(rpcError { _ = try harness.quarantined(as: reader) }?.code == .permissionDenied)
        #expect(try harness.quarantined(as: worker).count == 1)
        #expect(try harness.quarantined().count == 1, "an administrator")
    }
}
