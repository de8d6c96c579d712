import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// Who may cancel a ticket: its contact, its representative's people, the company's
/// administrators and staff; a colleague reads it (and answers it) but does not cancel it.
@Suite("Cancelling: the ticket's own people, the company's administrators and staff", .serialized)
struct CancelPermissionTests {
    @Test("the ticket's contact, the representative who opened it, a company administrator and staff cancel; a plain colleague and another representative read it but get PERMISSION_DENIED (pt-BR / en) and nothing changes",
          arguments: TestEngines.all)
    func whoMayCancel(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let joao = try harness.contact(acme, "João", email: "joao@acme.example")
        let ana = try harness.contact(acme, "Ana", email: "ana@acme.example", admin: true)
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let asJoao = harness.options(IntakeHarness.customer(joao))
        let asAna = harness.options(IntakeHarness.customer(ana, admin: true))
        let (paula, paulaID) = try harness.representativePerson(for: acme)
        let rui = try harness.representativePerson(for: acme, name: "Consultoria Norte", domain: "norte.example", person: "Rui").options

        func open(_ subject: String, as options: CallOptions, contact: IntakeV1.Contact? = nil) throws -> IntakeV1.Ticket {
            var request = IntakeHarness.request(acme, subject: subject)
            if let contact { request.contactID = contact.id }
            return try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: options).ticket)
        }
        func cancel(_ ticket: IntakeV1.Ticket, as options: CallOptions, key: String? = nil) throws -> IntakeV1.Ticket {
            var request = IntakeV1.CancelTicketRequest()
            request.ticket = ticket.code
            request.reason = "Não é mais necessário"
            var options = options
            if let key { options.metadata[MetadataKey.idempotencyKey] = key }
            return try harness.client.call(IntakeV1.Intake.cancelTicket, request, options: options)
        }
        let byMaria = try open("Nota fiscal rejeitada", as: asMaria)
        let forAna = try open("Boleto duplicado", as: asMaria)
        let byPaula = try open("Estoque negativo", as: paula, contact: maria)
        let forStaff = try open("Relatório lento", as: asMaria)

        // A colleague and another representative of the company read the tickets (and answer
        // them) as before, but cancelling is refused, also with an idempotency key.
        for (refused, tickets) in [(asJoao, [byMaria, byPaula]), (rui, [byMaria, byPaula])] {
            for ticket in tickets {
                #expect(try harness.getTicket(ticket.id, as: refused).status == "open")
                for key in [nil, "cancel-\(ticket.id)"] {
                    let error = rpcError { _ = try cancel(ticket, as: refused, key: key) }
                    #expect(error?.code == .permissionDenied)
                    #expect(error?.message.hasPrefix("apenas o contato da ocorrência") == true
                            && error?.message.contains(" / only the ticket's contact, the representative who opened it") == true, "\(String(describing: error))")
                }
            }
        }
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = byMaria.id
        reply.text = "Aqui também acontece."
        #expect(try harness.client.call(IntakeV1.Intake.reply, reply, options: asJoao).message != nil, "a colleague still answers")
        #expect(try harness.events(IntakeV1.TicketCancelledByCustomer.self).isEmpty)
        #expect(try [byMaria, byPaula].allSatisfy { try harness.getTicket($0.id, as: harness.staff).status == "open" })

        // Its own contact; a company administrator (not its contact); the representative who
        // opened it; staff.
        #expect(try cancel(byMaria, as: asMaria).status == "cancelled")
        #expect(try cancel(forAna, as: asAna).status == "cancelled")
        #expect(try cancel(byPaula, as: paula).status == "cancelled")
        #expect(try cancel(forStaff, as: harness.staff).status == "cancelled")
        let events = try harness.events(IntakeV1.TicketCancelledByCustomer.self)
        #expect(events.map(\.ticketID) == [byMaria.id, forAna.id, byPaula.id, forStaff.id])
        #expect(events.map { $0.by?.id ?? "" } == [maria.id, ana.id, paulaID, "agent-1"])
    }

    @Test("the contact of a ticket a representative opened cancels it too; an administrator of another company does not reach it",
          arguments: TestEngines.all)
    func contactOfARepresentativesTicket(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "12ABC34501DE35")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let chefe = try harness.contact(beta, "Chefe Beta", email: "chefe@beta.example", admin: true)
        let paula = try harness.representative(for: acme)
        var request = IntakeHarness.request(acme)
        request.contactID = maria.id
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: paula).ticket)
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = ticket.id
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: harness.options(IntakeHarness.customer(chefe, admin: true))) }?.code
                == .notFound)
        #expect(try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: harness.options(IntakeHarness.customer(maria))).status == "cancelled")
    }
}
