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
}
