import Foundation
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

@Suite("Intake: directory edits publish events for the gateways' caches")
struct DirectoryEventTests {
    /// The gateway's watch stream on intake (what its view cache reads), opened before the
    /// changes: the relay hands the watcher's outbox rows to open streams and deletes them, so
    /// they are read here as the gateway gets them, not from the outbox.
    final class GatewayWatch {
        let stream: ResponseStream<EventsV1.WatchEventsBatch>
        private(set) var received: [EventsV1.EventEnvelope] = []

        init(_ harness: IntakeHarness) throws {
            var request = EventsV1.WatchEventsRequest()
            request.subscriber = "gateway"
            stream = try harness.client.serverStream(EventsV1.EventFeed.watch, request, options: CallOptions(timeoutMilliseconds: 120_000))
            // The first batch (a heartbeat) says the stream is registered: later events reach it.
            _ = try stream.receive()
        }

        /// The events of `type` received so far, reading batches until there are `count` of
        /// them (heartbeats every 500 ms; at most 40 batches).
        func events(_ type: String, count: Int) throws -> [EventsV1.EventEnvelope] {
            var batches = 0
            while received.filter({ $0.type == type }).count < count, batches < 40, let batch = try stream.receive() {
                received += batch.events
                batches += 1
            }
            return received.filter { $0.type == type }
        }
    }

    @Test("a representative's organizations or active flag changing publishes RepresentativeAccessChanged (before and after), keyed by the representative, for the gateway too; a rename publishes nothing; a person deactivated does",
          arguments: TestEngines.all)
    func representativeAccess(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let watch = try GatewayWatch(harness)
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
        let watched = try watch.events(IntakeV1.RepresentativeAccessChanged.protoName, count: 1)
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
        let watch = try GatewayWatch(harness)
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
        // Each key's events in order (the feed keeps per-key order).
        let watched = try watch.events(IntakeV1.DirectoryChanged.protoName, count: 3).map(\.key)
        #expect(watched.filter { $0 == acme.id } == [acme.id] && watched.filter { $0 == maria.id } == [maria.id, maria.id], "\(watched)")
        #expect(watched.count == 3)

        var bad = acme
        bad.name = " "
        #expect(throws: RPCError.self) { _ = try harness.client.call(IntakeV1.Intake.updateOrganization, bad, options: harness.staff) }
        #expect(try harness.events(IntakeV1.DirectoryChanged.self).count == 3)

        // Deleting a contact (never on a ticket) is announced like a deactivation: the gateways
        // end the sign-ins that followed it.
        let lia = try harness.contact(acme, "Lia", email: "lia@acme.example")
        var delete = IntakeV1.DeleteContactRequest()
        delete.contactID = lia.id
        _ = try harness.client.call(IntakeV1.Intake.deleteContact, delete, options: harness.staff)
        let afterDelete = try harness.events(IntakeV1.DirectoryChanged.self)
        #expect(afterDelete.count == 4 && afterDelete.last?.kind == "contact" && afterDelete.last?.id == lia.id
                && afterDelete.last?.organizationID == acme.id)
    }

    @Test("ListContacts with contact_ids lists only those of the organization (inactive ones with include_inactive; other organizations' and unknown ids left out); more than 1000 ids is a field error",
          arguments: TestEngines.all)
    func listSomeContacts(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let other = try harness.organization("Outra", taxID: "11444777000161")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let joao = try harness.contact(acme, "João", email: "joao@acme.example")
        _ = try harness.contact(acme, "Lia", email: "lia@acme.example")
        let stranger = try harness.contact(other, "Rui", email: "rui@outra.example")
        var status = IntakeV1.UpdateContactStatusRequest()
        status.contactID = joao.id
        status.active = false
        _ = try harness.client.call(IntakeV1.Intake.setContactActive, status, options: harness.staff)

        var request = IntakeV1.ListContactsRequest()
        request.organizationID = acme.id
        request.contactIDs = [maria.id, joao.id, stranger.id, "nao-existe", maria.id]
        #expect(try harness.client.call(IntakeV1.Intake.listContacts, request, options: harness.staff).contacts.map(\.id) == [maria.id])
        request.includeInactive = true
        let both = try harness.client.call(IntakeV1.Intake.listContacts, request, options: harness.staff).contacts
        #expect(Set(both.map(\.id)) == [maria.id, joao.id] && both.first { $0.id == joao.id }?.active == false)
        request.contactIDs = []
        #expect(try harness.client.call(IntakeV1.Intake.listContacts, request, options: harness.staff).contacts.count == 3)
        request.contactIDs = (0...1000).map { "c\($0)" }
        let refused = rpcError { _ = try harness.client.call(IntakeV1.Intake.listContacts, request, options: harness.staff) }
        #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["contact_ids"])
    }
}
