import Foundation
import Messages
import Storage

/// Events of directory edits, published in the edit's own transaction: who a representative may
/// act for (`RepresentativeAccessChanged`) and other entries ticket views show or check
/// (`DirectoryChanged`). The gateways watch them to drop what they cached (docs/INTAKE.md, "Events").
extension IntakeContext {
    /// Publishes `RepresentativeAccessChanged` when a representative's organizations or active
    /// flag differ between `before` and `after`.
    func publishRepresentativeAccess(_ tx: any SQLExecutor, before: IntakeV1.Representative, after: IntakeV1.Representative,
                                     caller: Caller) throws {
        guard Set(before.organizationIDs) != Set(after.organizationIDs) || before.active != after.active else { return }
        var event = IntakeV1.RepresentativeAccessChanged()
        event.representativeID = after.id
        event.organizationIDs = after.active ? after.organizationIDs.sorted() : []
        event.previousOrganizationIDs = before.active ? before.organizationIDs.sorted() : []
        event.active = after.active
        event.changedBy = caller.id
        event.changedAtMs = Self.now()
        try publisher.publish(tx, event: event, key: after.id)
    }

    /// Publishes `RepresentativeAccessChanged` for one of a representative's people activated or
    /// deactivated.
    func publishRepresentativeContactAccess(_ tx: any SQLExecutor, before: IntakeV1.RepresentativeContact,
                                            after: IntakeV1.RepresentativeContact, caller: Caller) throws {
        guard before.active != after.active else { return }
        var event = IntakeV1.RepresentativeAccessChanged()
        event.representativeID = after.representativeID
        if let representative = try DirectoryStore.representative(tx, id: after.representativeID) {
            event.active = representative.active
            event.organizationIDs = representative.active ? representative.organizationIDs.sorted() : []
            event.previousOrganizationIDs = event.organizationIDs
        }
        event.contactID = after.id
        event.contactActive = after.active
        event.changedBy = caller.id
        event.changedAtMs = Self.now()
        try publisher.publish(tx, event: event, key: after.representativeID)
    }

    /// Publishes `DirectoryChanged` for an organization or a customer contact (`kind`).
    func publishDirectoryChange(_ tx: any SQLExecutor, kind: String, id: String, organizationID: String, caller: Caller) throws {
        var event = IntakeV1.DirectoryChanged()
        event.kind = kind
        event.id = id
        event.organizationID = organizationID
        event.changedBy = caller.id
        event.changedAtMs = Self.now()
        try publisher.publish(tx, event: event, key: id)
    }
}
