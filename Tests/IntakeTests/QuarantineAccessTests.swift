import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// The quarantine per ticket: a held message that names a ticket (threaded to it when held, or
/// taken into it) is read only by who workflow lets see that ticket, through the same
/// `requireTicketAccess` as the other ticket calls (``FakeWorkflow`` hides the ticket).
@Suite("Workflow's access rules on the mail quarantine")
struct QuarantineAccessTests {
    /// A small RFC 5322 message from `from`, to `to`, with `id` as its Message-ID.
    static func mail(from: String, id: String, to: String = "suporte@suporte.example", subject: String = "Ajuda") -> [UInt8] {
        Array("From: \(from)\r\nTo: \(to)\r\nSubject: \(subject)\r\nMessage-ID: <\(id)>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nOla.\r\n".utf8)
    }

    /// What the quarantine stored, to show a refused call changed nothing.
    static func rows(_ harness: IntakeHarness) throws -> [String] {
        try harness.database.read { tx in
            try tx.query("SELECT id, status, attempts, resolution, ticket_id FROM mail_quarantine ORDER BY id").map { row in
                "\(try row.text("id"))|\(try row.int("status"))|\(try row.int("attempts"))|\(try row.text("resolution"))|\(try row.text("ticket_id"))"
            }
        }
    }

    static func get(_ harness: IntakeHarness, _ id: String, as options: CallOptions) throws -> IntakeV1.QuarantinedMail {
        var request = IntakeV1.QuarantinedMailRequest()
        request.id = id
        return try harness.client.call(IntakeV1.Intake.getQuarantinedMail, request, options: options)
    }

    static func download(_ harness: IntakeHarness, _ id: String, as options: CallOptions) throws -> [UInt8] {
        var request = IntakeV1.QuarantinedMailRequest()
        request.id = id
        let stream = try harness.client.serverStream(IntakeV1.Intake.downloadQuarantinedMail, request, options: options)
        var bytes: [UInt8] = []
        while let part = try stream.receive() { bytes += part.data }
        return bytes
    }

    /// Every page of the listing with `pageSize`, as `options`: the pages' ids.
    static func pages(_ harness: IntakeHarness, pageSize: Int32, includeResolved: Bool = false, as options: CallOptions) throws -> [[String]] {
        var request = IntakeV1.ListQuarantinedMailRequest()
        request.pageSize = pageSize
        request.includeResolved = includeResolved
        var pages: [[String]] = []
        repeat {
            let page = try harness.client.call(IntakeV1.Intake.listQuarantinedMail, request, options: options)
            pages.append(page.messages.map(\.id))
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty && pages.count < 20
        return pages
    }

    @Test("a held message threaded to a ticket workflow hides from the agent (reply token in the address, an unparsable one's header, References naming a reply's e-mail): Get, Download, Reprocess and Discard are NOT_FOUND and change nothing, listings leave it out page by page; messages naming no ticket are served; an agent who sees the ticket, administrators and services read it",
          arguments: TestEngines.all)
    func heldForHiddenTicket(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let (ticket, _, _, _) = try TicketAccessTests.acmeTicket(harness)
        let token = tokens.token(ticketID: ticket.id)
        // A reply Maria sent by e-mail, so References can name its Message-ID.
        _ = try harness.intake.receive(raw: Self.mail(from: "maria@acme.example", id: "r1@acme.example", to: "suporte+\(token)@suporte.example"),
                                       source: "imap", tokens: tokens)
        #expect(try harness.count("ticket_messages") == 1)

        func hold(_ raw: [UInt8]) throws -> String {
            let receipt = try harness.intake.receive(raw: raw, source: "imap", tokens: tokens)
            return try #require(receipt.quarantineID)
        }
        let first = try hold(Self.mail(from: "alguem@desconhecido.example", id: "n1@desconhecido.example"))
        let byToken = try hold(Self.mail(from: "alguem@desconhecido.example", id: "t1@desconhecido.example", to: "suporte+\(token)@suporte.example"))
        let middle = try hold(Self.mail(from: "outro@desconhecido.example", id: "n2@desconhecido.example"))
        let unparsable = try hold(Array("Encaminhado do celular\r\nFrom: alguem@desconhecido.example\r\nTo: suporte+\(token)@suporte.example\r\n\r\nOla.\r\n".utf8))
        var referencing = Self.mail(from: "alguem@desconhecido.example", id: "t2@desconhecido.example")
        referencing.insert(contentsOf: Array("References: <r1@acme.example>\r\n".utf8), at: 0)
        let byReference = try hold(referencing)
        let last = try hold(Self.mail(from: "outro@desconhecido.example", id: "n3@desconhecido.example"))
        let threaded = [byToken, unparsable, byReference]
        let recorded = try harness.database.read { tx in
            try tx.query("SELECT id, thread_ticket_id FROM mail_quarantine").reduce(into: [String: String]()) {
                $0[try $1.text("id")] = try $1.text("thread_ticket_id")
            }
        }
        #expect(threaded.allSatisfy { recorded[$0] == ticket.id }, "\(recorded)")
        #expect([first, middle, last].allSatisfy { recorded[$0] == "" })

        harness.workflow.hide(ticket.id, from: "agent-x")
        let x = harness.options(IntakeHarness.agent("agent-x", administrator: false, permissions: ["tickets.work"]))
        let before = try Self.rows(harness)
        for id in threaded {
            let get = rpcError { _ = try Self.get(harness, id, as: x) }
            #expect(get?.code == .notFound && get?.message == "mensagem retida não encontrada / quarantined message not found",
                    "as a missing one: \(String(describing: get))")
            #expect(rpcError { _ = try Self.download(harness, id, as: x) }?.code == .notFound)
            var reprocess = IntakeV1.QuarantinedMailRequest()
            reprocess.id = id
            #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, reprocess, options: x) }?.code == .notFound)
            var discard = IntakeV1.DiscardQuarantinedMailRequest()
            discard.id = id
            discard.reason = "spam"
            #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.discardQuarantinedMail, discard, options: x) }?.code == .notFound)
        }
        #expect(try Self.rows(harness) == before, "nothing changed")
        // Listings leave them out, however they are paged, and never end on an empty page.
        let visible = [last, middle, first]
        #expect(try Self.pages(harness, pageSize: 50, as: x) == [visible])
        #expect(try Self.pages(harness, pageSize: 1, as: x) == visible.map { [$0] })
        #expect(try Self.pages(harness, pageSize: 2, as: x) == [[last, middle], [first]])
        // A message naming no ticket is read as before.
        #expect(try Self.get(harness, middle, as: x).id == middle)
        #expect(try Self.download(harness, middle, as: x) == Self.mail(from: "outro@desconhecido.example", id: "n2@desconhecido.example"))

        // An agent workflow lets see the ticket, an administrator and a service read them all.
        let everything = [last, byReference, unparsable, middle, byToken, first]
        for principal in [IntakeHarness.agent("agent-y", administrator: false, permissions: ["tickets.work"]), IntakeHarness.agent(),
                          PrincipalSigner.service("gateway")] {
            let options = harness.options(principal)
            #expect(try Self.pages(harness, pageSize: 2, as: options).flatMap { $0 } == everything)
            #expect(try Self.get(harness, byToken, as: options).id == byToken)
            #expect(try Self.download(harness, byReference, as: options) == referencing)
        }
        // Workflow lets agent-x see it again: theirs too.
        harness.workflow.show(ticket.id, to: "agent-x")
        #expect(try Self.pages(harness, pageSize: 50, as: x) == [everything])
        #expect(try Self.get(harness, unparsable, as: x).kind == .quarantineUnparsable)
    }

    @Test("a message taken into a ticket (reprocessed with ticket_id) names it: hidden from the agent in a listing of resolved mail and NOT_FOUND to read; rows held before migration 26 get their ticket at start",
          arguments: TestEngines.all)
    func resolvedAndOlderRows(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let (ticket, _, _, _) = try TicketAccessTests.acmeTicket(harness)
        let pedro = Self.mail(from: "pedro@acme.example", id: "p1@acme.example", subject: "Sobre a nota")
        let held = try #require(try harness.intake.receive(raw: pedro, source: "imap", tokens: tokens).quarantineID)
        var contact = IntakeV1.Contact()
        contact.organizationID = ticket.organization?.id ?? ""
        contact.name = "Pedro"
        contact.email = "pedro@acme.example"
        contact.authorized = true
        _ = try harness.client.call(IntakeV1.Intake.addContact, contact, options: harness.staff)
        var reprocess = IntakeV1.QuarantinedMailRequest()
        reprocess.id = held
        reprocess.ticketID = ticket.code
        let taken = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, reprocess, options: harness.staff)
        #expect(taken.outcome == "replied" && taken.mail?.ticketID == ticket.id)

        harness.workflow.hide(ticket.id, from: "agent-x")
        let x = harness.options(IntakeHarness.agent("agent-x", administrator: false, permissions: ["tickets.work"]))
        #expect(try Self.pages(harness, pageSize: 10, includeResolved: true, as: x) == [[]])
        #expect(rpcError { _ = try Self.get(harness, held, as: x) }?.code == .notFound)
        #expect(try Self.pages(harness, pageSize: 10, includeResolved: true, as: harness.staff) == [[held]])

        // A message held before migration 26 (no ticket looked for: NULL) threaded to the ticket.
        let token = tokens.token(ticketID: ticket.id)
        let older = try #require(try harness.intake.receive(raw: Self.mail(from: "alguem@desconhecido.example", id: "o1@desconhecido.example",
                                                                           to: "suporte+\(token)@suporte.example"),
                                                             source: "imap", tokens: tokens).quarantineID)
        try harness.database.write { try $0.execute("UPDATE mail_quarantine SET thread_ticket_id = NULL") }
        try harness.intake.recordQuarantineThreads(tokens: tokens)
        let threads = try harness.database.read { tx in
            try tx.query("SELECT id, thread_ticket_id FROM mail_quarantine ORDER BY id").map { "\(try $0.text("id"))=\(try $0.text("thread_ticket_id"))" }
        }
        #expect(threads == ["\(held)=", "\(older)=\(ticket.id)"].sorted())
        #expect(rpcError { _ = try Self.get(harness, older, as: x) }?.code == .notFound)
    }

    @Test("a held message from an outsider naming a hidden ticket only by its code (subject or text) is NOT_FOUND for an agent who may not see it and left out of their listing, though it is not threaded to it; codes of no ticket, or of tickets they see, keep it readable; rows from before migration 29 are looked at at start",
          arguments: TestEngines.all)
    func namedByCode(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let (ticket, _, _, _) = try TicketAccessTests.acmeTicket(harness)
        func hold(_ id: String, subject: String, text: String = "Ola.") throws -> String {
            var raw = Self.mail(from: "alguem@desconhecido.example", id: id, subject: subject)
            raw.removeLast(6)  // "Ola.\r\n"
            raw += Array("\(text)\r\n".utf8)
            return try #require(try harness.intake.receive(raw: raw, source: "imap", tokens: tokens).quarantineID)
        }
        let bySubject = try hold("s1@desconhecido.example", subject: "Re: Ocorrência \(ticket.code) - nota fiscal")
        let byText = try hold("s2@desconhecido.example", subject: "Encaminhado", text: "Segue o que o suporte escreveu na ocorrencia n.\(ticket.code):\r\nsenha do banco")
        let noTicket = try hold("s3@desconhecido.example", subject: "Ocorrência 1999-000001 e telefone 11-2026-0001234")
        #expect(try harness.count("ticket_messages") == 0)

        harness.workflow.hide(ticket.id, from: "agent-x")
        let x = harness.options(IntakeHarness.agent("agent-x", administrator: false, permissions: ["tickets.work"]))
        let y = harness.options(IntakeHarness.agent("agent-y", administrator: false, permissions: ["tickets.work"]))
        for held in [bySubject, byText] {
            #expect(rpcError { _ = try Self.get(harness, held, as: x) }?.code == .notFound)
            #expect(try Self.get(harness, held, as: y).id == held)
        }
        #expect(try Self.get(harness, noTicket, as: x).id == noTicket)
        #expect(try Self.pages(harness, pageSize: 10, as: x) == [[noTicket]])
        #expect(Set(try Self.pages(harness, pageSize: 10, as: harness.staff).joined()) == [bySubject, byText, noTicket])

        // Rows held before migration 29 (NULL): looked at once at start.
        try harness.database.write { try $0.execute("UPDATE mail_quarantine SET named_ticket_ids = NULL") }
        try harness.intake.recordQuarantineThreads(tokens: tokens)
        let named = try harness.database.read { tx in
            try tx.query("SELECT id, named_ticket_ids FROM mail_quarantine ORDER BY id").map { "\(try $0.text("id"))=\(try $0.text("named_ticket_ids"))" }
        }
        #expect(named == ["\(bySubject)=\(ticket.id)", "\(byText)=\(ticket.id)", "\(noTicket)="].sorted())
        #expect(rpcError { _ = try Self.get(harness, byText, as: x) }?.code == .notFound)
    }

    @Test("ticket codes in mail text: four digits, a dash, six or more digits, no digit around; each once, in order, at most the limit")
    func ticketCodes() {
        #expect(MailTicketCodes.codes(in: "Re: [2026-000123] e 2026-1234567, de novo 2026-000123.") == ["2026-000123", "2026-1234567"])
        #expect(MailTicketCodes.codes(in: "12026-000123 2026-00012 tel 2026-000123x") == ["2026-000123"])
        #expect(MailTicketCodes.codes(in: "sem código / no code") == [])
        #expect(MailTicketCodes.codes(in: (1...30).map { "2026-\(100000 + $0)" }.joined(separator: " "), limit: 3) == ["2026-100001", "2026-100002", "2026-100003"])
    }

    @Test("an agent who reprocesses a message into a new ticket workflow has not received yet reads the record and lists it (as a ticket's registrant would); another agent gets FAILED_PRECONDITION and a listing without it until workflow has the ticket",
          arguments: TestEngines.all)
    func reprocessedIntoANewTicket(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let held = try #require(try harness.intake.receive(raw: Self.mail(from: "pedro@acme.example", id: "p1@acme.example"),
                                                           source: "imap", tokens: tokens).quarantineID)
        _ = try harness.contact(acme, "Pedro", email: "pedro@acme.example")
        let y = harness.options(IntakeHarness.agent("agent-y", administrator: false, permissions: ["tickets.work"]))
        let z = harness.options(IntakeHarness.agent("agent-z", administrator: false, permissions: ["tickets.work"]))
        harness.workflow.knowsNoTicket(true)
        var reprocess = IntakeV1.QuarantinedMailRequest()
        reprocess.id = held
        let taken = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, reprocess, options: y)
        #expect(taken.outcome == "opened" && taken.mail?.ticketID.isEmpty == false)
        #expect(try Self.get(harness, held, as: y).status == .quarantineReprocessed)
        #expect(try Self.pages(harness, pageSize: 10, includeResolved: true, as: y) == [[held]])
        let early = rpcError { _ = try Self.get(harness, held, as: z) }
        #expect(early?.code == .failedPrecondition && early?.message.contains("workflow") == true)
        #expect(try Self.pages(harness, pageSize: 10, includeResolved: true, as: z) == [[]])
        harness.workflow.knowsNoTicket(false)
        #expect(try Self.get(harness, held, as: z).id == held)
    }

    @Test("workflow unreachable: an agent's listing with a message naming a ticket is UNAVAILABLE (never a silent yes); one naming none is served", arguments: [DatabaseEngine.sqlite])
    func workflowDown(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["WORKFLOW_ADDRESSES": "127.0.0.1:9"])
        let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8)))
        let (ticket, _, _, _) = try TicketAccessTests.acmeTicket(harness)
        let x = harness.options(IntakeHarness.agent("agent-x", administrator: false, permissions: ["tickets.work"]))
        let plain = try #require(try harness.intake.receive(raw: Self.mail(from: "alguem@desconhecido.example", id: "n1@desconhecido.example"),
                                                             source: "imap", tokens: tokens).quarantineID)
        #expect(try Self.pages(harness, pageSize: 10, as: x) == [[plain]])
        let token = tokens.token(ticketID: ticket.id)
        let threaded = try #require(try harness.intake.receive(raw: Self.mail(from: "alguem@desconhecido.example", id: "t1@desconhecido.example",
                                                                              to: "suporte+\(token)@suporte.example"),
                                                                source: "imap", tokens: tokens).quarantineID)
        #expect(rpcError { _ = try Self.pages(harness, pageSize: 10, as: x) }?.code == .unavailable)
        #expect(rpcError { _ = try Self.get(harness, threaded, as: x) }?.code == .unavailable)
        #expect(try Self.get(harness, plain, as: x).id == plain)
    }
}
