import Foundation
import IntakeCore
import Messages
import RPC
import Storage
import Testing
import TestSupport

@Suite("Customer side after opening", .serialized)
struct CustomerSideTests {
    @Test("reply with text and a file raises CustomerReplied; cancel raises TicketCancelledByCustomer and closes replies", arguments: TestEngines.all)
    func replyAndCancel(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let joao = try harness.contact(acme, "João", email: "joao@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: asMaria).ticket)
        let file = try harness.upload(Array("log de erro".utf8), name: "erro.log", as: harness.options(IntakeHarness.customer(joao)))
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket.code
        reply.text = "Segue o log pedido."
        reply.attachmentIDs = [file.id]
        // A colleague of the same organization answers the request for more information.
        let message = try harness.client.call(IntakeV1.Intake.reply, reply, options: harness.options(IntakeHarness.customer(joao))).message
        #expect(message?.attachments.map(\.id) == [file.id] && message?.author?.id == joao.id)
        let replied = try harness.events(IntakeV1.CustomerReplied.self)
        #expect(replied.count == 1 && replied[0].text == "Segue o log pedido." && replied[0].organizationID == acme.id)
        #expect(replied[0].attachments.map(\.sha256) == [file.sha256] && replied[0].channel == "portal")

        var empty = IntakeV1.ReplyRequest()
        empty.ticket = ticket.id
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, empty, options: asMaria) }?.violations.map(\.field) == ["text"])

        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = ticket.id
        cancel.reason = "Resolvido internamente"
        let cancelled = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: asMaria)
        #expect(cancelled.status == "cancelled" && cancelled.cancelReason == "Resolvido internamente")
        #expect(cancelled.messages.count == 1 && cancelled.messages[0].attachments.count == 1)
        let events = try harness.events(IntakeV1.TicketCancelledByCustomer.self)
        #expect(events.count == 1 && events[0].reason == "Resolvido internamente" && events[0].by?.id == maria.id)
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: asMaria) }?.code == .failedPrecondition)
        reply.attachmentIDs = []
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: asMaria) }?.code == .failedPrecondition)
        // Events of one ticket keep their order in the outbox.
        #expect(try harness.events().map(\.type) == [IntakeV1.TicketOpened.protoName, IntakeV1.CustomerReplied.protoName,
                                                     IntakeV1.TicketCancelledByCustomer.protoName])
    }

    @Test("a customer of organization B never reaches organization A's tickets or files through intake", arguments: TestEngines.all)
    func organizationIsolation(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "12ABC34501DE35")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let intruder = try harness.contact(beta, "Intruso", email: "intruso@beta.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let asIntruder = harness.options(IntakeHarness.customer(intruder))
        // Even a principal that claims organization A while being B's contact gets nothing.
        var claimsAcme = IntakeHarness.customer(intruder)
        claimsAcme.organizationID = acme.id
        let asImpostor = harness.options(claimsAcme)

        let file = try harness.upload(Array("segredo da Acme".utf8), name: "segredo.txt", as: asMaria)
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = [file.id]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket)
        for options in [asIntruder, asImpostor] {
            for reference in [ticket.id, ticket.code] {
                var get = IntakeV1.GetTicketRequest()
                get.ticket = reference
                #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.getTicket, get, options: options) }?.code == .notFound)
            }
            #expect(rpcError { _ = try harness.download(file.id, as: options) }?.code == .notFound)
            var reply = IntakeV1.ReplyRequest()
            reply.ticket = ticket.id
            reply.text = "Apensado por engano"
            #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: options) }?.code == .notFound)
            var cancel = IntakeV1.CancelTicketRequest()
            cancel.ticket = ticket.id
            #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: options) }?.code == .notFound)
            #expect(rpcError { _ = try harness.upload([1, 2, 3], as: options, ticketID: ticket.id) }?.code == .notFound)
            var organization = IntakeV1.GetOrganizationRequest()
            organization.organizationID = acme.id
            if options.metadata == asIntruder.metadata {
                #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.getOrganization, organization, options: options) }?.code == .permissionDenied)
            }
        }
        // A pending upload is visible to its uploader only.
        let pending = try harness.upload(Array("rascunho".utf8), as: asMaria)
        #expect(rpcError { _ = try harness.download(pending.id, as: asIntruder) }?.code == .notFound)
        #expect(try harness.download(pending.id, as: asMaria) == Array("rascunho".utf8))
        // Nothing was added to A's ticket.
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.id
        let read = try harness.client.call(IntakeV1.Intake.getTicket, get, options: asMaria)
        #expect(read.messages.isEmpty && read.status == "open" && read.attachments.map(\.id) == [file.id])
    }

    @Test("workflow's TicketFinished (delivered once, redelivered) marks the ticket finished: no more cancelling, replies still go through", arguments: TestEngines.all)
    func finishedByWorkflow(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: asMaria).ticket)
        var finished = WorkflowV1.TicketFinished()
        var summary = WorkflowV1.TicketSummary()
        summary.ticketID = ticket.id
        summary.code = ticket.code
        finished.ticket = summary
        finished.outcome = "resolvida"
        var envelope = EventsV1.EventEnvelope()
        envelope.id = "finished-\(ticket.id)"
        envelope.type = WorkflowV1.TicketFinished.protoName
        envelope.key = ticket.id
        envelope.source = "workflow"
        envelope.payload = finished.serializedBytes()
        var delivery = EventsV1.DeliverEventsRequest()
        delivery.events = [envelope]
        #expect(try harness.client.call(EventsV1.EventSink.deliver, delivery).accepted == 1)
        #expect(try harness.client.call(EventsV1.EventSink.deliver, delivery).duplicates == 1)

        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.id
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: asMaria).status == "finished")
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = ticket.id
        let refused = rpcError { _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: asMaria) }
        #expect(refused?.code == .failedPrecondition && refused?.message.contains("finished") == true)
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket.id
        reply.text = "Voltou a acontecer."
        #expect(try harness.client.call(IntakeV1.Intake.reply, reply, options: asMaria).message != nil)
        #expect(try harness.events(IntakeV1.TicketCancelledByCustomer.self).isEmpty)
    }

    @Test("a customer's cancel that crossed a finish follows workflow's outcome: finished when workflow finished it otherwise (it could not apply the cancel), still cancelled when workflow applied it (cancelada_cliente); the reason kept",
          arguments: TestEngines.all)
    func cancelCrossingAFinish(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        func finish(_ ticket: IntakeV1.Ticket, _ outcome: String) throws {
            var finished = WorkflowV1.TicketFinished()
            var summary = WorkflowV1.TicketSummary()
            summary.ticketID = ticket.id
            summary.code = ticket.code
            finished.ticket = summary
            finished.outcome = outcome
            var envelope = EventsV1.EventEnvelope()
            envelope.id = "finished-\(ticket.id)"
            envelope.type = WorkflowV1.TicketFinished.protoName
            envelope.key = ticket.id
            envelope.source = "workflow"
            envelope.payload = finished.serializedBytes()
            var delivery = EventsV1.DeliverEventsRequest()
            delivery.events = [envelope]
            #expect(try harness.client.call(EventsV1.EventSink.deliver, delivery).accepted == 1)
        }
        func status(_ ticket: IntakeV1.Ticket) throws -> IntakeV1.Ticket {
            var get = IntakeV1.GetTicketRequest()
            get.ticket = ticket.id
            return try harness.client.call(IntakeV1.Intake.getTicket, get, options: asMaria)
        }
        var opened: [IntakeV1.Ticket] = []
        for subject in ["Nota fiscal rejeitada", "Boleto duplicado"] {
            var request = IntakeHarness.request(acme)
            request.subject = subject
            let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket)
            var cancel = IntakeV1.CancelTicketRequest()
            cancel.ticket = ticket.id
            cancel.reason = "Resolvemos internamente."
            _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: asMaria)
            #expect(try status(ticket).status == "cancelled")
            opened.append(ticket)
        }
        // The agent's conclusion crossed the cancel: workflow finished it as resolved. Before,
        // intake's copy stayed "cancelled" while workflow's said "Finalizado — resolvida".
        try finish(opened[0], "resolvida")
        let crossed = try status(opened[0])
        #expect(crossed.status == "finished" && crossed.cancelReason == "Resolvemos internamente.", "\(crossed.status)")
        // Workflow applied the cancel: it stays cancelled.
        try finish(opened[1], "cancelada_cliente")
        #expect(try status(opened[1]).status == "cancelled")
    }
}
