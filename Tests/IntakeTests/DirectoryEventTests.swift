import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport

@Suite("Intake: directory edits publish events for the gateways' caches")
struct DirectoryEventTests {
    /// Event types intake queued for the gateway's watcher, in order.
    static func gatewayEvents(_ harness: IntakeHarness) throws -> [EventsV1.EventEnvelope] {
        try harness.database.read { tx in
            try tx.query("SELECT payload FROM storage_outbox WHERE event_key LIKE 'gateway|%' ORDER BY seq").map {
                try EventsV1.EventEnvelope(serializedBytes: try $0.blob("payload"))
            }
        }
    }

    @Test("a representative's organizations or active flag changing publishes RepresentativeAccessChanged (before and after), keyed by the representative, for the gateway too; a rename publishes nothing; a person deactivated does",
          arguments: TestEngines.all)
    func representativeAccess(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "", kind: .organizationProspect)
        var draft = IntakeV1.Representative()
        draft.name = "Revenda Sul"
        draft.email = "contato@revenda.example"
        draft.organizationIDs = [acme.id, beta.id]
        let representative = try harness.client.call(IntakeV1.Intake.createRepresentative, draft, options: harness.staff)
        #expect(try harness.events(IntakeV1.RepresentativeAccessChanged.self).isEmpty, "creating one changes nobody's access")

        var renamed = representative
        renamed.name = "Revenda Sul e Sudeste"
        _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, renamed, options: harness.staff)
        #expect(try harness.events(IntakeV1.RepresentativeAccessChanged.self).isEmpty, "a rename changes nobody's access")

        var dropped = renamed
        dropped.organizationIDs = [acme.id]
        _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, dropped, options: harness.staff)
        var events = try harness.events(IntakeV1.RepresentativeAccessChanged.self)
        #expect(events.count == 1)
        #expect(events.first?.representativeID == representative.id)
        #expect(events.first?.organizationIDs == [acme.id])
        #expect(Set(events.first?.previousOrganizationIDs ?? []) == [acme.id, beta.id])
        #expect(events.first?.active == true && (events.first?.changedAtMs ?? 0) > 0)
        let watched = try Self.gatewayEvents(harness).filter { $0.type == IntakeV1.RepresentativeAccessChanged.protoName }
        #expect(watched.map(\.key) == [representative.id], "the gateway's watcher gets it, keyed by the representative")

        var inactive = dropped
        inactive.active = false
        _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, inactive, options: harness.staff)
        events = try harness.events(IntakeV1.RepresentativeAccessChanged.self)
        #expect(events.count == 2)
        #expect(events.last?.active == false && events.last?.organizationIDs == [] && events.last?.previousOrganizationIDs == [acme.id])

        // One of its people deactivated.
        var person = IntakeV1.RepresentativeContact()
        person.representativeID = representative.id
        person.name = "Rui"
        person.email = "rui@revenda.example"
        person = try harness.client.call(IntakeV1.Intake.addRepresentativeContact, person, options: harness.staff)
        #expect(try harness.events(IntakeV1.RepresentativeAccessChanged.self).count == 2)
        person.active = false
        _ = try harness.client.call(IntakeV1.Intake.updateRepresentativeContact, person, options: harness.staff)
        events = try harness.events(IntakeV1.RepresentativeAccessChanged.self)
        #expect(events.count == 3)
        #expect(events.last?.contactID == person.id && events.last?.contactActive == false && events.last?.representativeID == representative.id)
    }

    @Test("editing an organization or a contact, or (de)activating a contact, publishes DirectoryChanged keyed by the entry; a refused edit publishes nothing",
          arguments: TestEngines.all)
    func directoryChanged(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        var acme = try harness.organization("Acme", taxID: "11222333000181")
        var maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        #expect(try harness.events(IntakeV1.DirectoryChanged.self).isEmpty, "creations change no existing view")

        acme.name = "Acme Indústria"
        acme = try harness.client.call(IntakeV1.Intake.updateOrganization, acme, options: harness.staff)
        maria.phone = "+55 11 5555-0101"
        maria = try harness.client.call(IntakeV1.Intake.updateContact, maria, options: harness.staff)
        var status = IntakeV1.UpdateContactStatusRequest()
        status.contactID = maria.id
        status.active = false
        _ = try harness.client.call(IntakeV1.Intake.setContactActive, status, options: harness.staff)
        let events = try harness.events(IntakeV1.DirectoryChanged.self)
        #expect(events.map(\.kind) == ["organization", "contact", "contact"])
        #expect(events.map(\.id) == [acme.id, maria.id, maria.id])
        #expect(events.allSatisfy { $0.organizationID == acme.id && $0.changedAtMs > 0 })
        #expect(try Self.gatewayEvents(harness).filter { $0.type == IntakeV1.DirectoryChanged.protoName }.map(\.key)
                    == [acme.id, maria.id, maria.id])

        var bad = acme
        bad.name = " "
        #expect(throws: RPCError.self) { _ = try harness.client.call(IntakeV1.Intake.updateOrganization, bad, options: harness.staff) }
        #expect(try harness.events(IntakeV1.DirectoryChanged.self).count == 3)
    }
}
