import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Staff reach a ticket's content in intake only as far as workflow lets them see the ticket
/// (`Access/TicketAccess.swift`): asked over RPC, here of ``FakeWorkflow``; against the real
/// workflow in `GatewayTests.IntakeTicketAccessTests`.
@Suite("Workflow's access rules on intake's ticket calls")
struct TicketAccessTests {
    /// What intake stored, to show a refused call stored nothing.
    struct Stored: Equatable {
        var attachments: Int64, onTickets: Int64, contents: Int64, messages: Int64, outbox: Int64, statuses: [String]

        init(_ harness: IntakeHarness) throws {
            attachments = try harness.count("attachments")
            contents = try harness.count("contents")
            messages = try harness.count("ticket_messages")
            // Not the gateway's rows: the relay hands them to the event feed, which drops them
            // when no gateway watches, so they leave on their own while a test runs.
            outbox = try harness.database.read {
                try $0.scalar("SELECT COUNT(*) FROM storage_outbox WHERE event_key NOT LIKE 'gateway|%'").integerValue
            }
            onTickets = try harness.database.read { try $0.scalar("SELECT COUNT(*) FROM attachments WHERE ticket_id IS NOT NULL").integerValue }
            statuses = try harness.database.read { try $0.query("SELECT status FROM tickets ORDER BY id").map { try $0.text("status") } }
        }
    }

    /// Acme's ticket opened by its contact Maria with one file in the open, and an internal file
    /// an administrator added; the ticket's attachments.
    static func acmeTicket(_ harness: IntakeHarness) throws -> (ticket: IntakeV1.Ticket, files: [CommonV1.AttachmentRef],
                                                                  maria: IntakeV1.Contact, joao: IntakeV1.Contact) {
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let joao = try harness.contact(acme, "João", email: "joao@acme.example")
        var open = IntakeHarness.request(acme)
        var file = IntakeV1.OpenTicketFile()
        file.fileName = "nota.txt"
        file.contentType = "text/plain"
        file.data = Array("NF-e 539".utf8)
        open.files = [file]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, open, options: harness.options(IntakeHarness.customer(maria))).ticket)
        var evidence = IntakeV1.OpenTicketFile()
        evidence.fileName = "log-interno.txt"
        evidence.data = Array("stack trace".utf8)
        let internalFiles = try harness.addFiles(ticket.id, files: [evidence], internal: true, as: harness.staff)
        return (ticket, ticket.attachments + internalFiles, maria, joao)
    }

    static func file(_ name: String, _ text: String) -> IntakeV1.OpenTicketFile {
        var file = IntakeV1.OpenTicketFile()
        file.fileName = name
        file.data = Array(text.utf8)
        return file
    }

    @Test("an agent workflow hides the ticket from gets NOT_FOUND on GetTicket (id and code), DownloadAttachment, UploadAttachment onto it, AddFiles, Reply, CancelTicket, ChangeTicketContact and a reprocess onto it, and nothing is stored; another agent, administrators, services and the customer are served",
          arguments: TestEngines.all)
    func hiddenTicket(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let (ticket, files, maria, joao) = try Self.acmeTicket(harness)
        let hidden = IntakeHarness.agent("agent-x", administrator: false, permissions: ["tickets.work", "tickets.link_customer"])
        let seeing = IntakeHarness.agent("agent-y", administrator: false)
        var integration = IntakeHarness.agent("erp-key", administrator: false, permissions: ["tickets.read", "tickets.work"])
        integration.kind = .integration
        harness.workflow.hide(ticket.id, from: "agent-x")
        harness.workflow.hide(ticket.id, from: "erp-key")
        let x = harness.options(hidden)
        // A pending upload of agent-x's own, which AddFiles would put on the ticket.
        let pending = try harness.upload(Array("rascunho".utf8), name: "rascunho.txt", as: x)
        // A message held in the quarantine, which agent-x would take in as a reply on the ticket.
        let held = try harness.intake.receive(raw: try Fixtures.text("unknown-sender.eml"), source: "imap",
                                              tokens: ReplyToken(secret: DeploymentSecret(bytes: Array(harness.secretText.utf8))))
        let before = try Stored(harness)
        harness.workflow.clearQuestions()

        func code(_ options: CallOptions, _ call: () throws -> Void) -> RPCStatusCode? { rpcError(call)?.code }
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.id
        #expect(code(x) { _ = try harness.client.call(IntakeV1.Intake.getTicket, get, options: x) } == .notFound)
        get.ticket = ticket.code
        #expect(code(x) { _ = try harness.client.call(IntakeV1.Intake.getTicket, get, options: x) } == .notFound, "by code too")
        for file in files {
            #expect(code(x) { _ = try harness.download(file.id, as: x) } == .notFound, "the public and the internal file")
        }
        #expect(code(x) { _ = try harness.upload(Array("novo".utf8), name: "novo.txt", as: x, ticketID: ticket.id) } == .notFound)
        #expect(code(x) { _ = try harness.upload(Array("novo".utf8), name: "novo.txt", as: x, ticketID: ticket.code) } == .notFound)
        #expect(code(x) { _ = try harness.addFiles(ticket.id, files: [Self.file("a.txt", "a")], internal: true, as: x) } == .notFound)
        #expect(code(x) { _ = try harness.addFiles(ticket.id, uploads: [pending.id], internal: false, as: x) } == .notFound)
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket.id
        reply.text = "Resolvido?"
        reply.files = [Self.file("b.txt", "b")]
        #expect(code(x) { _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: x) } == .notFound)
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = ticket.id
        #expect(code(x) { _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: x) } == .notFound)
        var change = IntakeV1.ChangeTicketContactRequest()
        change.ticket = ticket.id
        change.contactID = joao.id
        #expect(code(x) { _ = try harness.client.call(IntakeV1.Intake.changeTicketContact, change, options: x) } == .notFound)
        var reprocess = IntakeV1.QuarantinedMailRequest()
        reprocess.id = held.quarantineID ?? ""
        reprocess.ticketID = ticket.id
        let refusedReprocess = rpcError { _ = try harness.client.call(IntakeV1.Intake.reprocessQuarantinedMail, reprocess, options: x) }
        #expect(refusedReprocess?.code == .invalidArgument && refusedReprocess?.violations.map(\.reason) == ["not_found"],
                "the same answer as for a ticket that does not exist")
        var integrationGet = get
        integrationGet.ticket = ticket.id
        #expect(code(x) { _ = try harness.client.call(IntakeV1.Intake.getTicket, integrationGet, options: harness.options(integration)) } == .notFound,
                "an integration key is checked as an agent")

        let after = try Stored(harness)
        #expect(after == before, "nothing stored, nothing cancelled, no event: \(after) against \(before)")
        #expect(try harness.quarantined().first?.status == .quarantineHeld)
        let pendingRow = try harness.database.read { try $0.queryOne("SELECT ticket_id FROM attachments WHERE id = ?", [.text(pending.id)]) }
        #expect(pendingRow?["ticket_id"].isNull == true, "the pending upload stays pending")
        // Intake asked as the agent, then as itself (to tell hidden from not received yet).
        let questions = harness.workflow.questions
        #expect(questions.allSatisfy { $0.ticketID == ticket.id })
        #expect(Set(questions.map(\.principalID)) == ["agent-x", "intake", "erp-key"])

        // An agent workflow lets see it, an administrator (even one workflow would hide it
        // from: not asked), a service and the customer are served as before.
        harness.workflow.hide(ticket.id, from: "agent-1")
        for principal in [seeing, IntakeHarness.agent(), PrincipalSigner.service("gateway")] {
            let options = harness.options(principal)
            let seen = try harness.client.call(IntakeV1.Intake.getTicket, get, options: options)
            #expect(seen.attachments.count == 2, "internal file included for staff")
            #expect(try harness.download(files[1].id, as: options) == Array("stack trace".utf8))
        }
        let customer = harness.options(IntakeHarness.customer(maria))
        harness.workflow.knowsNoTicket(true)
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: customer).attachments.count == 1,
                "customers are checked against intake's directory, never workflow")
        harness.workflow.knowsNoTicket(false)
        let y = harness.options(seeing)
        #expect(try harness.upload(Array("novo".utf8), name: "novo.txt", as: y, ticketID: ticket.id).id.isEmpty == false)
        #expect(try harness.addFiles(ticket.id, files: [Self.file("a.txt", "a")], internal: true, as: y).count == 1)
        // A pending upload is its uploader's alone, for an agent workflow decides about.
        #expect(code(y) { _ = try harness.download(pending.id, as: y) } == .notFound)
        #expect(try harness.download(pending.id, as: x) == Array("rascunho".utf8))
        #expect(try harness.download(pending.id, as: harness.staff) == Array("rascunho".utf8), "administrators read any")
        // Workflow lets agent-x see the ticket again: their files go on it.
        harness.workflow.show(ticket.id, to: "agent-x")
        #expect(try harness.addFiles(ticket.id, uploads: [pending.id], internal: false, as: x).map(\.id) == [pending.id])
        #expect(try harness.client.call(IntakeV1.Intake.reply, reply, options: x).message?.attachments.count == 1)
    }

    @Test("an agent who may see the ticket but not act on it (workflow's caller_may_act) reads it and adds internal files, but a reply, a public file (AddFiles or an upload onto the ticket) and a cancellation are PERMISSION_DENIED and store nothing; the holder may",
          arguments: TestEngines.all)
    func seeButNotAct(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let (ticket, _, _, _) = try Self.acmeTicket(harness)
        harness.workflow.seeOnly(ticket.id, by: "agent-x")
        let x = harness.options(IntakeHarness.agent("agent-x", administrator: false))
        let holder = harness.options(IntakeHarness.agent("agent-y", administrator: false))
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.id
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: x).id == ticket.id, "seeing is enough to read")
        _ = try harness.addFiles(ticket.id, files: [Self.file("nota-interna.txt", "só a equipe")], internal: true, as: x)
        let before = try Stored(harness)

        func denied(_ call: () throws -> Void) -> Bool {
            let error = rpcError(call)
            return error?.code == .permissionDenied && error?.message.contains("only who may act on the ticket") == true
        }
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket.id
        reply.text = "Segue a correção."
        #expect(denied { _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: x) })
        #expect(denied { _ = try harness.addFiles(ticket.id, files: [Self.file("correcao.sql", "update")], internal: false, as: x) })
        #expect(denied { _ = try harness.upload(Array("visivel".utf8), name: "visivel.txt", as: x, ticketID: ticket.id) })
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = ticket.id
        #expect(denied { _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: x) })
        let after = try Stored(harness)
        #expect(after == before, "nothing stored, nothing cancelled, no event: \(after) against \(before)")

        // Who may act (here agent-y) shows the customer a file and replies.
        _ = try harness.addFiles(ticket.id, files: [Self.file("correcao.sql", "update")], internal: false, as: holder)
        #expect(try harness.client.call(IntakeV1.Intake.reply, reply, options: holder).message?.text == "Segue a correção.")
    }

    @Test("workflow unreachable: an agent's ticket calls are UNAVAILABLE and store nothing; administrators and customers are served",
          arguments: TestEngines.all)
    func workflowDown(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["WORKFLOW_ADDRESSES": "127.0.0.1:9"])
        let (ticket, files, maria, _) = try Self.acmeTicket(harness)
        let agent = harness.options(IntakeHarness.agent("agent-x", administrator: false))
        let before = try Stored(harness)
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.id
        let refused = rpcError { _ = try harness.client.call(IntakeV1.Intake.getTicket, get, options: agent) }
        #expect(refused?.code == .unavailable, "fail closed: \(String(describing: refused))")
        #expect(refused?.message == "o workflow não respondeu; tente de novo / workflow did not answer; try again")
        #expect(rpcError { _ = try harness.download(files[0].id, as: agent) }?.code == .unavailable)
        #expect(rpcError { _ = try harness.upload(Array("x".utf8), name: "x.txt", as: agent, ticketID: ticket.id) }?.code == .unavailable)
        #expect(rpcError { _ = try harness.addFiles(ticket.id, files: [Self.file("a.txt", "a")], internal: false, as: agent) }?.code == .unavailable)
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket.id
        reply.text = "Resolvido?"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: agent) }?.code == .unavailable)
        #expect(try Stored(harness) == before)
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: harness.staff).id == ticket.id)
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: harness.options(IntakeHarness.customer(maria))).id == ticket.id)
    }

    @Test("a ticket workflow has not received yet: the agent who registered it and administrators may touch it, other agents get FAILED_PRECONDITION; once workflow has it, its answer wins also for the registrant",
          arguments: TestEngines.all)
    func justOpened(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let registrar = harness.options(IntakeHarness.agent("agent-r", administrator: false))
        let other = harness.options(IntakeHarness.agent("agent-o", administrator: false))
        var open = IntakeHarness.request(acme)
        open.contactID = maria.id
        open.files = [Self.file("print.txt", "tela")]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, open, options: registrar).ticket)
        #expect(ticket.registeredByAgent?.id == "agent-r")
        harness.workflow.forget(ticket.id)
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.code

        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: registrar).id == ticket.id)
        #expect(try harness.download(ticket.attachments[0].id, as: registrar) == Array("tela".utf8))
        #expect(try harness.upload(Array("mais".utf8), name: "mais.txt", as: registrar, ticketID: ticket.id).id.isEmpty == false)
        #expect(try harness.addFiles(ticket.id, files: [Self.file("nota.txt", "n")], internal: true, as: registrar).count == 1)
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: harness.staff).attachments.count == 3)

        let before = try Stored(harness)
        let early = rpcError { _ = try harness.client.call(IntakeV1.Intake.getTicket, get, options: other) }
        #expect(early?.code == .failedPrecondition && early?.message.contains("workflow") == true)
        #expect(rpcError { _ = try harness.download(ticket.attachments[0].id, as: other) }?.code == .failedPrecondition)
        #expect(rpcError { _ = try harness.upload(Array("x".utf8), name: "x.txt", as: other, ticketID: ticket.id) }?.code == .failedPrecondition)
        #expect(rpcError { _ = try harness.addFiles(ticket.id, files: [Self.file("a.txt", "a")], internal: false, as: other) }?.code == .failedPrecondition)
        #expect(try Stored(harness) == before)

        // Workflow received it and routed it above the registrar's level.
        harness.workflow.learn(ticket.id)
        harness.workflow.hide(ticket.id, from: "agent-r")
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.getTicket, get, options: registrar) }?.code == .notFound)
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: other).id == ticket.id)
    }

    @Test("an integration key without tickets.work (a read-only key) opens, replies, cancels and edits the directory nowhere: PERMISSION_DENIED, nothing stored; with it, it opens",
          arguments: TestEngines.all)
    func readOnlyIntegration(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        func key(_ permissions: [String]) -> CallOptions {
            var principal = IntakeHarness.agent("erp-key", administrator: false, permissions: permissions)
            principal.kind = .integration
            return harness.options(principal)
        }
        let readOnly = key(["tickets.read"])
        var open = IntakeHarness.request(acme)
        open.contactID = maria.id
        let opened = try #require(try harness.client.call(IntakeV1.Intake.openTicket, open, options: key(["tickets.read", "tickets.work"])).ticket)
        let before = try Stored(harness)
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, open, options: readOnly) }?.code == .permissionDenied)
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = opened.id
        reply.text = "pela chave"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: readOnly) }?.code == .permissionDenied)
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = opened.id
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: readOnly) }?.code == .permissionDenied)
        var contact = IntakeV1.Contact()
        contact.organizationID = acme.id
        contact.name = "Novo"
        contact.email = "novo@acme.example"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.addContact, contact, options: readOnly) }?.code == .permissionDenied)
        var organization = IntakeV1.Organization()
        organization.name = "Outra"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.createOrganization, organization, options: readOnly) }?.code == .permissionDenied)
        #expect(try Stored(harness) == before)
        #expect(try harness.count("contacts") == 1 && harness.count("organizations") == 1)
    }

    @Test("a ticket an integration key opened, before workflow has it: that key may touch it as the registering agent may (read, download, upload, add files, reply), recorded in intake only (no registered_by_agent, none in TicketOpened); another key, and an agent with the key's id, get FAILED_PRECONDITION; once workflow has it, its answer wins",
          arguments: TestEngines.all)
    func justOpenedByIntegration(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        func integration(_ id: String) -> CallOptions {
            var principal = IntakeHarness.agent(id, administrator: false, permissions: ["tickets.read", "tickets.work"])
            principal.kind = .integration
            return harness.options(principal)
        }
        let erp = integration("erp-key"), otherKey = integration("crm-key")
        let sameIDAgent = harness.options(IntakeHarness.agent("erp-key", administrator: false))
        var open = IntakeHarness.request(acme)
        open.contactID = maria.id
        open.files = [Self.file("pedido.txt", "PV 77")]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, open, options: erp).ticket)
        #expect(ticket.registeredByAgent == nil, "an integration is no agent")
        #expect(try harness.events(IntakeV1.TicketOpened.self).last?.registeredByAgent == nil)
        #expect(try harness.database.read { try TicketStore.registeredByIntegration($0, ticketID: ticket.id) } == "erp-key")
        harness.workflow.forget(ticket.id)
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.code

        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: erp).id == ticket.id)
        #expect(try harness.download(ticket.attachments[0].id, as: erp) == Array("PV 77".utf8))
        #expect(try harness.upload(Array("mais".utf8), name: "mais.txt", as: erp, ticketID: ticket.id).id.isEmpty == false)
        #expect(try harness.addFiles(ticket.id, files: [Self.file("nota.txt", "n")], internal: false, as: erp).count == 1)
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket.id
        reply.text = "Pedido conferido."
        #expect(try harness.client.call(IntakeV1.Intake.reply, reply, options: erp).message?.text == "Pedido conferido.")

        let before = try Stored(harness)
        for options in [otherKey, sameIDAgent] {
            let early = rpcError { _ = try harness.client.call(IntakeV1.Intake.getTicket, get, options: options) }
            #expect(early?.code == .failedPrecondition && early?.message.contains("workflow") == true)
            #expect(rpcError { _ = try harness.download(ticket.attachments[0].id, as: options) }?.code == .failedPrecondition)
            #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: options) }?.code == .failedPrecondition)
        }
        #expect(try Stored(harness) == before)

        // Workflow received it and keeps it from the key (above its level).
        harness.workflow.learn(ticket.id)
        harness.workflow.hide(ticket.id, from: "erp-key")
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.getTicket, get, options: erp) }?.code == .notFound)
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: otherKey).id == ticket.id)
    }

    @Test("workflow's yes is reused for INTAKE_WORKFLOW_ACCESS_CACHE_MILLISECONDS per agent and ticket (so a revoked access lasts at most that long); a refusal is never reused")
    func grantsAreCachedBriefly() throws {
        let harness = try IntakeHarness(.sqlite, environment: ["INTAKE_WORKFLOW_ACCESS_CACHE_MILLISECONDS": "4000"])
        let (ticket, files, _, _) = try Self.acmeTicket(harness)
        let agent = harness.options(IntakeHarness.agent("agent-c", administrator: false))
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.id
        harness.workflow.hide(ticket.id, from: "agent-c")
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.getTicket, get, options: agent) }?.code == .notFound)
        harness.workflow.show(ticket.id, to: "agent-c")
        harness.workflow.clearQuestions()
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: agent).id == ticket.id, "the refusal was not kept")
        for file in files { _ = try harness.download(file.id, as: agent) }
        #expect(harness.workflow.questions == [FakeWorkflow.Question(ticketID: ticket.id, principalID: "agent-c")],
                "one question for the view and its downloads")
        let granted = ContinuousClock.now
        harness.workflow.hide(ticket.id, from: "agent-c")
        let stillServed = (try? harness.client.call(IntakeV1.Intake.getTicket, get, options: agent)) != nil
        if ContinuousClock.now - granted < .seconds(3) { #expect(stillServed, "within the lifetime the grant stands") }
        #expect(waitFor(10) { (try? harness.client.call(IntakeV1.Intake.getTicket, get, options: agent)) == nil })
        #expect(ContinuousClock.now - granted >= .seconds(3), "the grant lasted its lifetime")
    }
}
