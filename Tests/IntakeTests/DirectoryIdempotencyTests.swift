import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// The directory's creating calls honour `idempotency-key` as opens and replies do: an
/// integration syncing its customers that retries after a timeout gets the first answer, not a
/// second organization, contact, representative or representative's person (before, the key
/// was ignored: a prospect or a contact was created twice, a customer answered 409).
@Suite("Customer directory: idempotent creates", .serialized)
struct DirectoryIdempotencyTests {
    @Test("a retried create with the same key answers the first record and stores one; another request under the key is refused",
          arguments: TestEngines.all)
    func retriedCreates(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let staff = harness.options(IntakeHarness.agent(), key: "erp-sync-1")

        // A prospect has no tax id, so nothing else stopped a second one.
        var prospect = IntakeV1.Organization()
        prospect.name = "Padaria Estrela"
        prospect.kind = .organizationProspect
        let organization = try harness.client.call(IntakeV1.Intake.createOrganization, prospect, options: staff)
        let again = try harness.client.call(IntakeV1.Intake.createOrganization, prospect, options: staff)
        #expect(again.serializedBytes() == organization.serializedBytes())
        #expect(try harness.count("organizations") == 1)
        var other = prospect
        other.name = "Padaria Lua"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.createOrganization, other, options: staff) }?.code == .failedPrecondition)
        #expect(try harness.count("organizations") == 1)

        var contact = IntakeV1.Contact()
        contact.organizationID = organization.id
        contact.name = "Joana"
        contact.email = "joana@estrela.example"
        contact.authorized = true
        let contactKey = harness.options(IntakeHarness.agent(), key: "erp-sync-2")
        let person = try harness.client.call(IntakeV1.Intake.addContact, contact, options: contactKey)
        #expect(try harness.client.call(IntakeV1.Intake.addContact, contact, options: contactKey).id == person.id)
        #expect(try harness.count("contacts") == 1)

        var representative = IntakeV1.Representative()
        representative.name = "Revenda Norte"
        representative.organizationIDs = [organization.id]
        let representativeKey = harness.options(IntakeHarness.agent(), key: "erp-sync-3")
        let created = try harness.client.call(IntakeV1.Intake.createRepresentative, representative, options: representativeKey)
        #expect(try harness.client.call(IntakeV1.Intake.createRepresentative, representative, options: representativeKey).id == created.id)
        #expect(try harness.count("representatives") == 1)

        var rui = IntakeV1.RepresentativeContact()
        rui.representativeID = created.id
        rui.name = "Rui"
        rui.email = "rui@norte.example"
        let ruiKey = harness.options(IntakeHarness.agent(), key: "erp-sync-4")
        let ruiCreated = try harness.client.call(IntakeV1.Intake.addRepresentativeContact, rui, options: ruiKey)
        #expect(try harness.client.call(IntakeV1.Intake.addRepresentativeContact, rui, options: ruiKey).id == ruiCreated.id)
        #expect(try harness.count("representative_contacts") == 1)

        // Without a key, the same request is a second record, as before.
        _ = try harness.client.call(IntakeV1.Intake.createOrganization, prospect, options: harness.staff)
        #expect(try harness.count("organizations") == 2)
        // Another caller's key of the same name is another key.
        let otherAgent = harness.options(IntakeHarness.agent("agent-2"), key: "erp-sync-1")
        #expect(try harness.client.call(IntakeV1.Intake.createOrganization, prospect, options: otherAgent).id != organization.id)
        // A refused create does not use up its key.
        var refused = prospect
        refused.name = ""
        let fresh = harness.options(IntakeHarness.agent(), key: "erp-sync-5")
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.createOrganization, refused, options: fresh) }?.code == .invalidArgument)
        #expect(try harness.client.call(IntakeV1.Intake.createOrganization, other, options: fresh).name == "Padaria Lua")
    }
}
