import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// A message counts as a duplicate only when its Message-ID and its content fingerprint match one
/// taken before: a redelivery is one ticket, a different message under a reused Message-ID (an
/// ERP's fixed id, a counter that restarted) is a new one.
@Suite("E-mail channel in: reused Message-IDs", .serialized)
struct MailReusedMessageIDTests {
    /// A message from Maria with Message-ID `<id@erp.example>`; `trace` header lines go first (as
    /// each hop prepends them), `lineEnd` "\r\n" as IMAP hands it over, "\n" as an MTA's pipe.
    static func raw(id: String, subject: String = "Pedido 4711 rejeitado", body: String = "O pedido 4711 foi rejeitado pela SEFAZ.",
                    inReplyTo: String? = nil, trace: [String] = [], lineEnd: String = "\r\n") -> [UInt8] {
        var lines = trace
        if let inReplyTo { lines.append("In-Reply-To: <\(inReplyTo)>") }
        lines += [
            "Message-ID: <\(id)@erp.example>",
            "From: Maria Souza <maria@acme.example>",
            "To: suporte@suporte.example",
            "Date: Tue, 01 Dec 2026 10:00:00 -0300",
            "Subject: \(subject)",
            "Content-Type: text/plain; charset=UTF-8",
            "",
            body,
            "",
        ]
        return Array(lines.joined(separator: lineEnd).utf8)
    }

    static let transport = [
        "Received: from mx2.suporte.example by imap.suporte.example; Tue, 01 Dec 2026 10:00:09 -0300",
        "Received: from erp.example by mx2.suporte.example; Tue, 01 Dec 2026 10:00:05 -0300",
        "Delivered-To: suporte@suporte.example",
        "Return-Path: <bounces@erp.example>",
        "X-Spam-Score: 1.3",
        "Authentication-Results: mx2.suporte.example; spf=pass",
    ]

    struct Setup {
        let harness: IntakeHarness
        let tokens: ReplyToken

        init(_ engine: DatabaseEngine) throws {
            harness = try IntakeHarness(engine)
            tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
            let acme = try harness.organization("Acme", taxID: "11222333000181")
            _ = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        }

        func receive(_ raw: [UInt8], source: String = "imap") throws -> MailOutcome {
            try harness.intake.receive(raw: raw, source: source, tokens: tokens).outcome
        }
    }

    @Test("the fingerprint ignores transport headers and line ends, not the sender's content")
    func fingerprint() throws {
        let first = try MailMessage(raw: Self.raw(id: "1")).contentFingerprint
        #expect(first.count == 64)
        #expect(try MailMessage(raw: Self.raw(id: "1", trace: Self.transport, lineEnd: "\n")).contentFingerprint == first)
        #expect(try MailMessage(raw: Self.raw(id: "1", body: "Outro pedido.")).contentFingerprint != first)
        #expect(try MailMessage(raw: Self.raw(id: "1", subject: "Pedido 4712 rejeitado")).contentFingerprint != first)
    }

    @Test("a redelivery with more Received headers is one ticket, through IMAP and through the MTA's pipe", arguments: TestEngines.all)
    func redelivery(engine: DatabaseEngine) throws {
        let setup = try Setup(engine)
        guard case .opened(let ticketID, let code) = try setup.receive(Self.raw(id: "1")) else { Issue.record("not opened"); return }
        #expect(try setup.receive(Self.raw(id: "1", trace: Self.transport)) == .duplicate(ticketID: ticketID, code: code))
        let (status, result) = try setup.harness.ingestCommand(Self.raw(id: "1", trace: Self.transport, lineEnd: "\n"))
        #expect(status == 0 && result["outcome"] == "duplicate" && result["ticket_id"] == ticketID)
        #expect(try setup.harness.count("tickets") == 1)
    }

    @Test("two different messages under one Message-ID make two tickets; each redelivered stays one", arguments: TestEngines.all)
    func reusedID(engine: DatabaseEngine) throws {
        let setup = try Setup(engine)
        guard case .opened(let firstID, let firstCode) = try setup.receive(Self.raw(id: "fixed")) else { Issue.record("not opened"); return }
        let other = Self.raw(id: "fixed", subject: "Pedido 4712 rejeitado", body: "O pedido 4712 também.")
        guard case .opened(let secondID, let secondCode) = try setup.receive(other) else { Issue.record("reused id not opened"); return }
        #expect(secondID != firstID)
        #expect(try setup.receive(Self.raw(id: "fixed", trace: Self.transport)) == .duplicate(ticketID: firstID, code: firstCode))
        let (status, result) = try setup.harness.ingestCommand(Self.raw(id: "fixed", subject: "Pedido 4712 rejeitado",
                                                                        body: "O pedido 4712 também.", trace: Self.transport, lineEnd: "\n"))
        #expect(status == 0 && result["outcome"] == "duplicate" && result["ticket_id"] == secondID)
        #expect(try setup.receive(other) == .duplicate(ticketID: secondID, code: secondCode))
        #expect(try setup.harness.count("tickets") == 2)
        #expect(try setup.harness.intake.getTicket(secondID, caller: Caller(IntakeHarness.agent())).request.contains("4712"))
    }

    @Test("replies: one threaded by a reused Message-ID still lands on its ticket; a reply reusing an id is a new reply", arguments: TestEngines.all)
    func replies(engine: DatabaseEngine) throws {
        let setup = try Setup(engine)
        guard case .opened(let ticketID, let code) = try setup.receive(Self.raw(id: "fixed")) else { Issue.record("not opened"); return }
        // A different message under the same id opens a second ticket; a reply naming that id
        // still threads to the ticket first opened under it.
        guard case .opened = try setup.receive(Self.raw(id: "fixed", body: "Outro assunto.")) else { Issue.record("not opened"); return }
        let reply = Self.raw(id: "r", subject: "Re: Pedido 4711", body: "Segue o XML.", inReplyTo: "fixed@erp.example")
        guard case .replied(let repliedID, _, _) = try setup.receive(reply) else { Issue.record("not replied"); return }
        #expect(repliedID == ticketID)
        // The ERP reuses the reply's id for its next, different reply: a second reply, not lost.
        let next = Self.raw(id: "r", subject: "Re: Pedido 4711", body: "Segue o XML corrigido.", inReplyTo: "fixed@erp.example")
        guard case .replied(let nextID, _, _) = try setup.receive(next) else { Issue.record("second reply lost"); return }
        #expect(nextID == ticketID)
        // Redeliveries of either are taken once.
        #expect(try setup.receive(Self.raw(id: "r", subject: "Re: Pedido 4711", body: "Segue o XML.", inReplyTo: "fixed@erp.example",
                                           trace: Self.transport)) == .duplicate(ticketID: ticketID, code: code))
        #expect(try setup.receive(next) == .duplicate(ticketID: ticketID, code: code))
        #expect(try setup.harness.intake.getTicket(ticketID, caller: Caller(IntakeHarness.agent())).messages.count == 2)
    }

    @Test("a ticket stored before fingerprints (NULL) keeps taking any message under its id as a duplicate", arguments: TestEngines.all)
    func rowsFromBefore(engine: DatabaseEngine) throws {
        let setup = try Setup(engine)
        guard case .opened(let ticketID, let code) = try setup.receive(Self.raw(id: "old")) else { Issue.record("not opened"); return }
        _ = try setup.harness.database.write { try $0.execute("UPDATE tickets SET email_fingerprint = NULL", []) }
        #expect(try setup.receive(Self.raw(id: "old", body: "Conteúdo diferente.")) == .duplicate(ticketID: ticketID, code: code))
        #expect(try setup.harness.count("tickets") == 1)
    }
}
