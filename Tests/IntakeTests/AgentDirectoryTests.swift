import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

@Suite("Directory for agents", .serialized)
struct AgentDirectoryTests {
    @Test("organizations page by name with a key cursor, filtered by name prefix, kind and active", arguments: TestEngines.all)
    func listOrganizations(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let names = ["Zeta Ltda", "Álamo Serviços", "alfa sistemas", "Beta Comércio", "Alfa Indústria", "Gama", "Delta"]
        var created: [String: IntakeV1.Organization] = [:]
        for name in names {
            created[name] = try harness.organization(name, taxID: "", kind: .organizationProspect)
        }
        _ = try harness.organization("Alfa Inativa", taxID: "", kind: .organizationProspect, active: false)
        _ = try harness.organization("Alfa Cliente", taxID: "11222333000181")

        func page(_ prefix: String = "", size: Int32, token: String = "", inactive: Bool = false,
                  kind: IntakeV1.OrganizationKind = .unspecified) throws -> IntakeV1.ListOrganizationsResponse {
            var request = IntakeV1.ListOrganizationsRequest()
            request.namePrefix = prefix
            request.pageSize = size
            request.pageToken = token
            request.includeInactive = inactive
            request.kind = kind
            return try harness.client.call(IntakeV1.Intake.listOrganizations, request, options: harness.staff)
        }
        // Every active organization, three per page, in folded-name order, none twice.
        var seen: [String] = []
        var token = ""
        var pages = 0
        repeat {
            let response = try page(size: 3, token: token)
            seen += response.organizations.map(\.name)
            token = response.nextPageToken
            pages += 1
            // An organization added meanwhile after the cursor shows up later, before it nothing moves.
            if pages == 1 { _ = try harness.organization("Omega", taxID: "", kind: .organizationProspect) }
        } while !token.isEmpty && pages < 10
        #expect(seen == ["Álamo Serviços", "Alfa Cliente", "Alfa Indústria", "alfa sistemas", "Beta Comércio", "Delta",
                         "Gama", "Omega", "Zeta Ltda"])
        #expect(pages == 3)

        #expect(try page("ALFA", size: 10).organizations.map(\.name) == ["Alfa Cliente", "Alfa Indústria", "alfa sistemas"])
        #expect(try page("alfa", size: 10, inactive: true).organizations.count == 4)
        #expect(try page("alfa", size: 10, kind: .organizationCustomer).organizations.map(\.name) == ["Alfa Cliente"])
        let first = try page("a", size: 2)
        #expect(first.organizations.map(\.name) == ["Álamo Serviços", "Alfa Cliente"])
        #expect(try page("a", size: 2, token: first.nextPageToken).organizations.map(\.name) == ["Alfa Indústria", "alfa sistemas"])

        let bad = rpcError { _ = try page(size: 3, token: "not a token") }
        #expect(bad?.code == .invalidArgument)
        #expect(bad?.violations.first?.field == "page_token")

        // Customers cannot browse the directory.
        let contact = try harness.contact(created["Gama"]!, "Gil", email: "gil@gama.example")
        let denied = rpcError {
            _ = try harness.client.call(IntakeV1.Intake.listOrganizations, IntakeV1.ListOrganizationsRequest(),
                                        options: harness.options(IntakeHarness.customer(contact)))
        }
        #expect(denied?.code == .permissionDenied)
    }

    @Test("a representative is updated, and lists the organizations they act for and their own contacts", arguments: TestEngines.all)
    func representatives(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "", kind: .organizationProspect)
        let gama = try harness.organization("Gama", taxID: "", kind: .organizationProspect)
        var draft = IntakeV1.Representative()
        draft.name = "Revenda Sul"
        draft.email = "contato@revenda.example"
        draft.organizationIDs = [acme.id]
        let representative = try harness.client.call(IntakeV1.Intake.createRepresentative, draft, options: harness.staff)

        var changed = representative
        changed.name = "Revenda Sul e Sudeste"
        changed.phone = "+55 51 5555-0101"
        changed.organizationIDs = [gama.id, beta.id]
        let updated = try harness.client.call(IntakeV1.Intake.updateRepresentative, changed, options: harness.staff)
        #expect(updated.name == "Revenda Sul e Sudeste" && updated.phone == "+55 51 5555-0101")
        #expect(Set(updated.organizationIDs) == [beta.id, gama.id])
        var get = IntakeV1.RepresentativeRequest()
        get.representativeID = representative.id
        #expect(try harness.client.call(IntakeV1.Intake.getRepresentative, get, options: harness.staff) == updated)
        #expect(try harness.client.call(IntakeV1.Intake.listRepresentativeOrganizations, get, options: harness.staff)
                    .organizations.map(\.name) == ["Beta", "Gama"])
        // The lookup finds them under the new name.
        var lookup = IntakeV1.LookupCustomersRequest()
        lookup.query = "revenda sul e"
        #expect(try harness.client.call(IntakeV1.Intake.lookupCustomers, lookup, options: harness.staff).representatives.map(\.id)
                    == [representative.id])

        // Bad fields and unknown organizations are named; nothing changes.
        var bad = updated
        bad.name = " "
        bad.email = "no-at"
        bad.organizationIDs = [acme.id, "missing"]
        let refused = rpcError { _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, bad, options: harness.staff) }
        #expect(refused?.code == .invalidArgument)
        // Every field in one answer, the unknown organization too (since 2026-12-02; before, it came only after a second try).
        #expect(Set(refused?.violations.map(\.field) ?? []) == ["name", "email", "organization_ids[1]"])
        bad = updated
        bad.organizationIDs = [acme.id, "missing"]
        let unknown = rpcError { _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, bad, options: harness.staff) }
        #expect(unknown?.violations.map(\.field) == ["organization_ids[1]"])
        #expect(try harness.client.call(IntakeV1.Intake.getRepresentative, get, options: harness.staff) == updated)
        var ghost = updated
        ghost.id = "missing"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, ghost, options: harness.staff) }?.code
                    == .notFound)

        // Their own contacts.
        func addContact(_ name: String, email: String) throws -> IntakeV1.RepresentativeContact {
            var contact = IntakeV1.RepresentativeContact()
            contact.representativeID = representative.id
            contact.name = name
            contact.email = email
            return try harness.client.call(IntakeV1.Intake.addRepresentativeContact, contact, options: harness.staff)
        }
        let paula = try addContact("Paula Reis", email: "paula@revenda.example")
        _ = try addContact("Ângelo Dias", email: "angelo@revenda.example")
        #expect(paula.active && !paula.id.isEmpty)
        var inactive = paula
        inactive.active = false
        inactive.representativeID = "someone-else"
        let saved = try harness.client.call(IntakeV1.Intake.updateRepresentativeContact, inactive, options: harness.staff)
        #expect(saved.representativeID == representative.id && !saved.active)
        #expect(try harness.client.call(IntakeV1.Intake.listRepresentativeContacts, get, options: harness.staff)
                    .contacts.map(\.name) == ["Ângelo Dias"])
        get.includeInactive = true
        #expect(try harness.client.call(IntakeV1.Intake.listRepresentativeContacts, get, options: harness.staff)
                    .contacts.map(\.name) == ["Ângelo Dias", "Paula Reis"])
        var orphan = IntakeV1.RepresentativeContact()
        orphan.representativeID = "missing"
        orphan.name = "Ninguém"
        orphan.phone = "123"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.addRepresentativeContact, orphan, options: harness.staff) }?
                    .violations.map(\.field) == ["representative_id"])

        // Customers reach none of it.
        let customer = IntakeHarness.customer(try harness.contact(acme, "Cris", email: "cris@acme.example"))
        for call in [{ _ = try harness.client.call(IntakeV1.Intake.getRepresentative, get, options: harness.options(customer)) },
                     { _ = try harness.client.call(IntakeV1.Intake.listRepresentativeContacts, get, options: harness.options(customer)) },
                     { _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, updated, options: harness.options(customer)) }]
            as [() throws -> Void] {
            #expect(rpcError(call)?.code == .permissionDenied)
        }
    }
    @Test("an organization's representatives, by name with the organizations they act for; inactive ones only when asked; staff only; one representative contact read",
          arguments: TestEngines.all)
    func organizationRepresentatives(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "", kind: .organizationProspect)
        let gama = try harness.organization("Gama", taxID: "", kind: .organizationProspect, active: false)
        func representative(_ name: String, _ organizations: [String], active: Bool = true) throws -> IntakeV1.Representative {
            var draft = IntakeV1.Representative()
            draft.name = name
            draft.active = active
            draft.organizationIDs = organizations
            return try harness.client.call(IntakeV1.Intake.createRepresentative, draft, options: harness.staff)
        }
        let sul = try representative("Revenda Sul", [acme.id, gama.id])
        let consultor = try representative("Ângela Consultoria", [acme.id, beta.id])
        let parada = try representative("Revenda Parada", [acme.id], active: false)
        _ = try representative("Só Beta", [beta.id])
        if parada.active {
            var off = parada
            off.active = false
            _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, off, options: harness.staff)
        }

        func listed(_ organization: String, inactive: Bool = false, options: CallOptions? = nil) throws
            -> IntakeV1.ListOrganizationRepresentativesResponse {
            var request = IntakeV1.ListOrganizationRepresentativesRequest()
            request.organizationID = organization
            request.includeInactive = inactive
            return try harness.client.call(IntakeV1.Intake.listOrganizationRepresentatives, request, options: options ?? harness.staff)
        }
        let active = try listed(acme.id)
        #expect(active.representatives.map(\.id) == [consultor.id, sul.id])
        #expect(active.representatives.first?.organizationIDs.sorted() == [acme.id, beta.id].sorted())
        // Every organization named, inactive Gama too, by name.
        #expect(active.organizations.map(\.name) == ["Acme", "Beta", "Gama"])
        #expect(try listed(acme.id, inactive: true).representatives.map(\.name) == ["Ângela Consultoria", "Revenda Parada", "Revenda Sul"])
        #expect(try listed(gama.id).representatives.map(\.id) == [sul.id])
        let none = try harness.organization("Delta", taxID: "", kind: .organizationProspect)
        let empty = try listed(none.id)
        #expect(empty.representatives.isEmpty && empty.organizations.map(\.id) == [none.id])
        #expect(rpcError { _ = try listed("missing") }?.code == .notFound)

        // One of a representative's people, read by id.
        var person = IntakeV1.RepresentativeContact()
        person.representativeID = sul.id
        person.name = "Rui"
        person.email = "rui@sul.example"
        let added = try harness.client.call(IntakeV1.Intake.addRepresentativeContact, person, options: harness.staff)
        var get = IntakeV1.GetRepresentativeContactRequest()
        get.contactID = added.id
        #expect(try harness.client.call(IntakeV1.Intake.getRepresentativeContact, get, options: harness.staff) == added)
        get.contactID = "missing"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.getRepresentativeContact, get, options: harness.staff) }?.code == .notFound)

        // Customers reach neither.
        let customer = harness.options(IntakeHarness.customer(try harness.contact(acme, "Cris", email: "cris@acme.example", admin: true), admin: true))
        #expect(rpcError { _ = try listed(acme.id, options: customer) }?.code == .permissionDenied)
        get.contactID = added.id
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.getRepresentativeContact, get, options: customer) }?.code == .permissionDenied)
    }
}
