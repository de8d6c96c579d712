import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// A company's administrator manages the company's contacts, not its administrators: their own
/// contact and another administrator's are not theirs to deactivate or delete (either would end
/// that person's sign-in, and the company could lose its last administrator), and the `admin`
/// flag is support's to set.
@Suite("A company's administrator and the company's administrators' contacts", .serialized)
struct CompanyAdministratorContactTests {
    @Test("Ana (the company's administrator) deactivates or deletes neither her own contact nor Bia's (another administrator), by SetContactActive, UpdateContact or DeleteContact, and cannot set the admin flag; João (a plain contact) she deactivates; staff deactivate Bia", arguments: TestEngines.all)
    func administratorsStay(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let ana = try harness.contact(acme, "Ana", email: "ana@acme.example", admin: true)
        let bia = try harness.contact(acme, "Bia", email: "bia@acme.example", admin: true)
        let joao = try harness.contact(acme, "João", email: "joao@acme.example")
        let asAna = harness.options(IntakeHarness.customer(ana, admin: true))
        func deactivate(_ contact: IntakeV1.Contact, _ options: CallOptions) -> RPCError? {
            var request = IntakeV1.UpdateContactStatusRequest()
            request.contactID = contact.id
            request.active = false
            return rpcError { _ = try harness.client.call(IntakeV1.Intake.setContactActive, request, options: options) }
        }
        func delete(_ contact: IntakeV1.Contact) -> RPCError? {
            var request = IntakeV1.DeleteContactRequest()
            request.contactID = contact.id
            return rpcError { _ = try harness.client.call(IntakeV1.Intake.deleteContact, request, options: asAna) }
        }
        func updateInactive(_ contact: IntakeV1.Contact) -> RPCError? {
            var changed = contact
            changed.active = false
            return rpcError { _ = try harness.client.call(IntakeV1.Intake.updateContact, changed, options: asAna) }
        }
        for contact in [ana, bia] {
            #expect(deactivate(contact, asAna)?.code == .permissionDenied, "\(contact.name)")
            #expect(updateInactive(contact)?.code == .permissionDenied, "\(contact.name)")
            #expect(delete(contact)?.code == .permissionDenied, "\(contact.name)")
        }
        // Her own name and phone she still changes.
        var renamed = ana
        renamed.name = "Ana Souza"
        #expect(try harness.client.call(IntakeV1.Intake.updateContact, renamed, options: asAna).name == "Ana Souza")

        // The admin flag stays as support set it: neither given to João nor taken from Bia.
        var promoted = joao
        promoted.admin = true
        #expect(try harness.client.call(IntakeV1.Intake.updateContact, promoted, options: asAna).admin == false)
        var demoted = bia
        demoted.admin = false
        #expect(try harness.client.call(IntakeV1.Intake.updateContact, demoted, options: asAna).admin == true)

        // A plain contact she deactivates; staff deactivate another administrator.
        #expect(deactivate(joao, asAna) == nil)
        #expect(deactivate(bia, harness.staff) == nil)
        var listing = IntakeV1.ListContactsRequest()
        listing.organizationID = acme.id
        listing.includeInactive = true
        let states = Dictionary(uniqueKeysWithValues: try harness.client.call(IntakeV1.Intake.listContacts, listing, options: harness.staff)
            .contacts.map { ($0.name, $0.active) })
        #expect(states == ["Ana Souza": true, "Bia": false, "João": false])
    }

    @Test("a sign-in signed as the company's administrator whose contact lacks the `admin` flag (support took it away) adds, reads, changes, deactivates and deletes no contact and opens for no colleague; given the flag again, it does",
          arguments: TestEngines.all)
    func theContactsFlagDecides(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        var ana = try harness.contact(acme, "Ana", email: "ana@acme.example", admin: true)
        let joao = try harness.contact(acme, "João", email: "joao@acme.example")
        // Support takes the flag away; Ana's sign-in still says `customer_admin`.
        ana.admin = false
        ana = try harness.client.call(IntakeV1.Intake.updateContact, ana, options: harness.staff)
        let asAna = harness.options(IntakeHarness.customer(ana, admin: true))
        var colleague = IntakeV1.Contact()
        colleague.organizationID = acme.id
        colleague.name = "Rita"
        colleague.email = "rita@acme.example"
        colleague.authorized = true
        var renamed = joao
        renamed.name = "João Lima"
        var status = IntakeV1.UpdateContactStatusRequest()
        status.contactID = joao.id
        status.active = false
        var get = IntakeV1.GetContactRequest()
        get.contactID = joao.id
        var delete = IntakeV1.DeleteContactRequest()
        delete.contactID = joao.id
        var forJoao = IntakeHarness.request(acme, subject: "Para o João")
        forJoao.contactID = joao.id
        func refusals() -> [RPCStatusCode?] {
            [rpcError { _ = try harness.client.call(IntakeV1.Intake.addContact, colleague, options: asAna) }?.code,
             rpcError { _ = try harness.client.call(IntakeV1.Intake.updateContact, renamed, options: asAna) }?.code,
             rpcError { _ = try harness.client.call(IntakeV1.Intake.getContact, get, options: asAna) }?.code,
             rpcError { _ = try harness.client.call(IntakeV1.Intake.setContactActive, status, options: asAna) }?.code,
             rpcError { _ = try harness.client.call(IntakeV1.Intake.deleteContact, delete, options: asAna) }?.code,
             rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, forJoao, options: asAna) }?.code]
        }
        #expect(refusals() == Array(repeating: .permissionDenied, count: 6))
        #expect(try harness.count("contacts") == 2 && harness.count("tickets") == 0)
        #expect(try harness.client.call(IntakeV1.Intake.getContact, get, options: harness.staff) == joao)
        // Her own tickets she still opens.
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Meu"), options: asAna) } == nil)

        ana.admin = true
        _ = try harness.client.call(IntakeV1.Intake.updateContact, ana, options: harness.staff)
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, forJoao, options: asAna) } == nil)
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.addContact, colleague, options: asAna) } == nil)
        #expect(try harness.client.call(IntakeV1.Intake.updateContact, renamed, options: asAna).name == "João Lima")
        #expect(try harness.client.call(IntakeV1.Intake.setContactActive, status, options: asAna).active == false)
        // (Linked to the ticket opened for him: deactivated, not deleted.)
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.deleteContact, delete, options: asAna) }?.code == .failedPrecondition)
    }

    @Test("the company's contacts listed and a colleague's ticket cancelled follow the contact's `admin` flag, not the signed role: without it Ana (signed as the company's administrator) lists none and cancels none of João's tickets (PERMISSION_DENIED, bilingual, nothing changed) but still cancels her own; a principal naming no contact (a customer_admin API key) lists none; given the flag back, Ana lists and cancels",
          arguments: TestEngines.all)
    func listingAndCancellingFollowTheFlag(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        var ana = try harness.contact(acme, "Ana", email: "ana@acme.example", admin: true)
        let joao = try harness.contact(acme, "João", email: "joao@acme.example")
        let asAna = harness.options(IntakeHarness.customer(ana, admin: true))
        let asJoao = harness.options(IntakeHarness.customer(joao))
        func open(_ subject: String, as options: CallOptions) throws -> IntakeV1.Ticket {
            try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: subject), options: options).ticket)
        }
        func cancel(_ ticket: IntakeV1.Ticket, as options: CallOptions) -> RPCError? {
            var request = IntakeV1.CancelTicketRequest()
            request.ticket = ticket.id
            request.reason = "Não precisamos mais"
            return rpcError { _ = try harness.client.call(IntakeV1.Intake.cancelTicket, request, options: options) }
        }
        var listing = IntakeV1.ListContactsRequest()
        listing.organizationID = acme.id
        func listed(as options: CallOptions) -> ([String]?, RPCError?) {
            var names: [String]?
            let error = rpcError { names = try harness.client.call(IntakeV1.Intake.listContacts, listing, options: options).contacts.map(\.name) }
            return (names, error)
        }
        let first = try open("Boleto duplicado", as: asJoao)
        let second = try open("Relatório lento", as: asJoao)
        #expect(listed(as: asAna).0 == ["Ana", "João"], "with the flag")

        // Support takes the flag away; the principal still says `organization_admin`.
        ana.admin = false
        ana = try harness.client.call(IntakeV1.Intake.updateContact, ana, options: harness.staff)
        let (names, refusal) = listed(as: asAna)
        #expect(names == nil && refusal?.code == .permissionDenied
                && refusal?.message == "apenas a equipe, o administrador da empresa ou seu representante / only staff, the company's administrator or its representative",
                "\(String(describing: refusal))")
        let refused = cancel(first, as: asAna)
        #expect(refused?.code == .permissionDenied && refused?.message.hasPrefix("apenas o contato da ocorrência") == true
                && refused?.message.contains(" / only the ticket's contact") == true, "\(String(describing: refused))")
        #expect(try harness.getTicket(first.id, as: harness.staff).status == "open")
        #expect(try harness.events(IntakeV1.TicketCancelledByCustomer.self).isEmpty)
        // Her own ticket is hers to cancel, flag or not.
        #expect(cancel(try open("Meu pedido", as: asAna), as: asAna) == nil)

        // A principal signed as the company's administrator naming no contact of it (an API key's).
        var key = IntakeHarness.customer(joao, admin: true)
        key.id = "K-erp"
        #expect(listed(as: harness.options(key)).1?.code == .permissionDenied)
        // (Intake's ticket content needs an active contact: the ticket is not even found.)
        #expect(cancel(second, as: harness.options(key))?.code == .notFound)

        // The flag back: listing and cancelling a colleague's ticket again.
        ana.admin = true
        _ = try harness.client.call(IntakeV1.Intake.updateContact, ana, options: harness.staff)
        #expect(listed(as: asAna).0 == ["Ana", "João"])
        #expect(cancel(first, as: asAna) == nil)
        #expect(try harness.getTicket(first.id, as: harness.staff).status == "cancelled")
    }
}
