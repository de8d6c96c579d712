import Foundation
import IntakeCore
import Messages
import RPC
import Storage
import Testing
import TestSupport

/// The customer directory's edges an adversarial review found (2026-12-02): addresses that would
/// carry mail headers, generated codes meeting a code given by hand, unbounded fields, Unicode
/// e-mail forms, and contacts who wrote on a ticket.
@Suite("Customer directory edges", .serialized)
struct DirectoryEdgeTests {
    @Test("an e-mail address with a line break, a tab, brackets or an empty domain label is refused naming `email` (it would add headers to mail); ordinary ones are kept",
          arguments: TestEngines.all)
    func emailAddressesCarryNoHeaders(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contactsBefore = try harness.count("contacts")
        for bad in ["maria@acme.example\r\nBcc: x", "maria@acme.example\nX-Evil:1", "maria\t@acme.example", "maria>@acme.example",
                    "<maria@acme.example>", "maria@acme.example,", "maria@acme..example", "maria@acme.example.", "maria@.example",
                    "ma\u{0}ria@acme.example", "\"maria\"@acme.example", String(repeating: "m", count: 250) + "@acme.example"] {
            let error = rpcError { _ = try harness.contact(acme, "Maria", email: bad) }
            #expect(error?.code == .invalidArgument && error?.violations.map(\.field) == ["email"], "\(bad.debugDescription)")
            var representative = IntakeV1.Representative()
            representative.name = "Revenda"
            representative.email = bad
            #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.createRepresentative, representative, options: harness.staff) }?
                .violations.map(\.field) == ["email"], "\(bad.debugDescription)")
            var organization = IntakeV1.Organization()
            organization.name = "Beta"
            organization.kind = .organizationProspect
            organization.email = bad
            #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.createOrganization, organization, options: harness.staff) }?
                .violations.map(\.field) == ["email"], "\(bad.debugDescription)")
        }
        #expect(try harness.count("contacts") == contactsBefore && harness.count("representatives") == 0 && harness.count("organizations") == 1)
        // What people use is still an address, and mail senders are still read.
        for good in ["maria+suporte@acme.example", "m.souza@fiscal.acme.com.br", "zé@acme.example", "MARIA@ACME.EXAMPLE"] {
            #expect(rpcError { _ = try harness.contact(acme, "Maria", email: good) } == nil, "\(good)")
        }
        #expect(MailHeaders.address(in: "Maria Souza <Maria@Acme.example>") == "maria@acme.example")
        #expect(MailHeaders.address(in: "maria@acme.example (Maria)") == "maria@acme.example")
    }

    @Test("a code given by hand that looks generated (C000002) is skipped by the counter: later organizations without a code still get one",
          arguments: TestEngines.all)
    func generatedCodesSkipCodesGivenByHand(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let manual = try harness.organization("Manual", taxID: "", kind: .organizationProspect, code: "c000002")
        #expect(manual.code == "C000002")
        let first = try harness.organization("Primeira", taxID: "", kind: .organizationProspect)
        let second = try harness.organization("Segunda", taxID: "", kind: .organizationProspect)
        let third = try harness.organization("Terceira", taxID: "", kind: .organizationProspect)
        #expect([first.code, second.code, third.code] == ["C000001", "C000003", "C000004"])
        // A code given by hand that is taken is still refused.
        #expect(rpcError { _ = try harness.organization("Outra", taxID: "", kind: .organizationProspect, code: "C000003") }?.code == .alreadyExists)
        #expect(try harness.count("organizations") == 4)
    }

    @Test("the fields that travel on every ticket and event are bounded: phone (contacts, representatives and their people), plan, what it includes, account owner; a representative's organizations; nothing stored",
          arguments: TestEngines.all)
    func fieldsAreBounded(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        var contact = IntakeV1.Contact()
        contact.organizationID = acme.id
        contact.name = "Maria"
        contact.email = "maria@acme.example"
        contact.phone = String(repeating: "9", count: 100_000)
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.addContact, contact, options: harness.staff) }?
            .violations.map { "\($0.field):\($0.reason)" } == ["phone:too_long"])
        var representative = IntakeV1.Representative()
        representative.name = "Revenda"
        representative.phone = contact.phone
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.createRepresentative, representative, options: harness.staff) }?
            .violations.map(\.field) == ["phone"])
        var organization = acme
        organization.plan = String(repeating: "p", count: 101)
        organization.planIncludes = String(repeating: "i", count: 10_001)
        organization.accountOwnerAgentID = String(repeating: "a", count: 101)
        #expect(Set(rpcError { _ = try harness.client.call(IntakeV1.Intake.updateOrganization, organization, options: harness.staff) }?
            .violations.map(\.field) ?? []) == ["plan", "plan_includes", "account_owner_agent_id"])
        #expect(try harness.count("contacts") == 0 && harness.count("representatives") == 0)
        #expect(try harness.client.call(IntakeV1.Intake.getOrganization, { var r = IntakeV1.GetOrganizationRequest(); r.organizationID = acme.id; return r }(),
                                        options: harness.staff).plan == "premium")
        // A representative's organizations are bounded like every list of a request.
        representative.phone = ""
        representative.organizationIDs = (0..<5_001).map { "org-\($0)" }
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.createRepresentative, representative, options: harness.staff) }?
            .violations.map { "\($0.field):\($0.reason)" } == ["organization_ids:too_many"])
        // Within the limits, kept.
        contact.phone = "+55 11 5555-0000 ramal 1234"
        #expect(try harness.client.call(IntakeV1.Intake.addContact, contact, options: harness.staff).phone == "+55 11 5555-0000 ramal 1234")
    }

    @Test("an e-mail address is found in either Unicode form (é composed or e + combining accent), by lookup (the key a mail's sender is found by too)",
          arguments: TestEngines.all)
    func emailInEitherUnicodeForm(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let beta = try harness.organization("Beta", taxID: "12ABC34501DE35")
        let decomposed = try harness.contact(beta, "José", email: "Jose\u{301}@Beta.example")
        let composed = try harness.contact(beta, "Zé", email: "z\u{E9}@beta.example")
        func lookup(_ query: String) throws -> [String] {
            var request = IntakeV1.LookupCustomersRequest()
            request.query = query
            return try harness.client.call(IntakeV1.Intake.lookupCustomers, request, options: harness.staff).contacts.map(\.id)
        }
        #expect(try lookup("jos\u{E9}@beta.example") == [decomposed.id])
        #expect(try lookup("ze\u{301}@beta.example") == [composed.id])
        #expect(try lookup("ZÉ@BETA.EXAMPLE") == [composed.id])
    }

    @Test("a contact who replied on a ticket or cancelled it is linked to it: deleting them is refused (deactivate instead), as for the ticket's own contact",
          arguments: TestEngines.all)
    func replierCannotBeDeleted(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let joao = try harness.contact(acme, "João", email: "joao@acme.example")
        let lia = try harness.contact(acme, "Lia", email: "lia@acme.example")
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme),
                                                          options: harness.options(IntakeHarness.customer(maria))).ticket)
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket.code
        reply.text = "Segue o log."
        _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: harness.options(IntakeHarness.customer(joao)))
        // An agent's reply links nobody.
        _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: harness.staff)
        func delete(_ contact: IntakeV1.Contact) -> RPCError? {
            var request = IntakeV1.DeleteContactRequest()
            request.contactID = contact.id
            return rpcError { _ = try harness.client.call(IntakeV1.Intake.deleteContact, request, options: harness.staff) }
        }
        // The company's administrator cancels Maria's ticket: linked too.
        let ana = try harness.contact(acme, "Ana", email: "ana@acme.example", admin: true)
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = ticket.id
        _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: harness.options(IntakeHarness.customer(ana, admin: true)))
        #expect(delete(joao)?.code == .failedPrecondition)
        #expect(delete(maria)?.code == .failedPrecondition)
        #expect(delete(ana)?.code == .failedPrecondition)
        #expect(delete(lia) == nil, "a colleague who never wrote is deleted")
        #expect(try harness.count("contacts") == 3)
    }
}

/// A representative's person opening tickets, checked against intake's own directory on every
/// open (the principal's list of organizations is only a claim).
@Suite("Representatives opening tickets", .serialized)
struct RepresentativeOpenTests {
    @Test("a representative's person opens for a represented organization naming its contact (the ticket's representative is theirs); not with another organization's contact, not for an organization not represented (or no longer), not once the person or the representative is inactive, not for an inactive organization; nothing stored",
          arguments: TestEngines.all)
    func opensOnlyWhatTheDirectorySays(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "12ABC34501DE35")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let bia = try harness.contact(beta, "Bia", email: "bia@beta.example")
        let (paula, paulaID) = try harness.representativePerson(for: acme)
        func open(_ organization: IntakeV1.Organization, _ contact: IntakeV1.Contact, subject: String) -> (IntakeV1.Ticket?, RPCError?) {
            var request = IntakeHarness.request(organization, subject: subject)
            request.contactID = contact.id
            var ticket: IntakeV1.Ticket?
            let error = rpcError { ticket = try harness.client.call(IntakeV1.Intake.openTicket, request, options: paula).ticket }
            return (ticket, error)
        }
        let (opened, _) = open(acme, maria, subject: "Pela revenda")
        let representativeID = try #require(opened?.representative?.id)
        #expect(opened?.contact?.id == maria.id && opened?.origin == "representative" && opened?.registeredByAgent == nil)
        #expect(open(acme, bia, subject: "Contato de outra").1?.violations.map { "\($0.field):\($0.reason)" } == ["contact_id:other_organization"])
        #expect(open(beta, bia, subject: "Não representada").1?.code == .permissionDenied)
        let before = try harness.count("tickets")

        // The representative stops acting for Acme (the person's principal still claims it).
        var get = IntakeV1.RepresentativeRequest()
        get.representativeID = representativeID
        var representative = try harness.client.call(IntakeV1.Intake.getRepresentative, get, options: harness.staff)
        representative.organizationIDs = [beta.id]
        representative = try harness.client.call(IntakeV1.Intake.updateRepresentative, representative, options: harness.staff)
        #expect(open(acme, maria, subject: "Depois de deixar").1?.code == .permissionDenied)
        representative.organizationIDs = [acme.id]
        representative.active = false
        representative = try harness.client.call(IntakeV1.Intake.updateRepresentative, representative, options: harness.staff)
        #expect(open(acme, maria, subject: "Representante inativo").1?.code == .permissionDenied)
        representative.active = true
        _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, representative, options: harness.staff)
        var person = IntakeV1.GetRepresentativeContactRequest()
        person.contactID = paulaID
        var paulaRecord = try harness.client.call(IntakeV1.Intake.getRepresentativeContact, person, options: harness.staff)
        paulaRecord.active = false
        _ = try harness.client.call(IntakeV1.Intake.updateRepresentativeContact, paulaRecord, options: harness.staff)
        #expect(open(acme, maria, subject: "Pessoa inativa").1?.code == .permissionDenied)
        paulaRecord.active = true
        _ = try harness.client.call(IntakeV1.Intake.updateRepresentativeContact, paulaRecord, options: harness.staff)
        var inactive = acme
        inactive.active = false
        _ = try harness.client.call(IntakeV1.Intake.updateOrganization, inactive, options: harness.staff)
        #expect(open(acme, maria, subject: "Organização inativa").1?.code == .failedPrecondition)
        #expect(try harness.count("tickets") == before)
    }
}

/// One answer names every offending field of a directory write, those found in the database
/// (an unknown organization or representative) with the request's own.
@Suite("Directory writes name every fault at once", .serialized)
struct DirectoryAllFaultsTests {
    @Test("a contact, a representative and a representative's person with bad fields and unknown references: every field in one INVALID_ARGUMENT; nothing stored",
          arguments: TestEngines.all)
    func everyFaultAtOnce(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        func fields(_ body: () throws -> Void) -> Set<String> { Set(rpcError(body)?.violations.map(\.field) ?? []) }
        var contact = IntakeV1.Contact()
        contact.organizationID = "no-such-organization"
        contact.email = "maria@acme.example\r\nBcc: x"
        #expect(fields { _ = try harness.client.call(IntakeV1.Intake.addContact, contact, options: harness.staff) }
                == ["organization_id", "name", "email"])
        var representative = IntakeV1.Representative()
        representative.email = "revenda@"
        representative.organizationIDs = [acme.id, "no-such-organization"]
        #expect(fields { _ = try harness.client.call(IntakeV1.Intake.createRepresentative, representative, options: harness.staff) }
                == ["name", "email", "organization_ids[1]"])
        representative.name = "Revenda Sul"
        representative.email = "contato@revenda.example"
        representative.organizationIDs = [acme.id]
        var created = try harness.client.call(IntakeV1.Intake.createRepresentative, representative, options: harness.staff)
        created.name = " "
        created.organizationIDs = ["no-such-organization"]
        #expect(fields { _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, created, options: harness.staff) }
                == ["name", "organization_ids[0]"])
        var person = IntakeV1.RepresentativeContact()
        person.representativeID = "no-such-representative"
        #expect(fields { _ = try harness.client.call(IntakeV1.Intake.addRepresentativeContact, person, options: harness.staff) }
                == ["representative_id", "name", "email"])
        #expect(try harness.count("contacts") == 0 && harness.count("representative_contacts") == 0 && harness.count("representatives") == 1)
    }
}
