import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit

/// What intake says now of the people sign-ins follow (``LinkedContact``), asked as the gateway
/// itself (a service principal: intake lets it read its directory) outside any request.
struct LinkedPeople: Sendable {
    let runtime: ServiceRuntime
    let signer: PrincipalSigner

    /// Contact id → active, for every person of `owner` intake has (inactive ones included): an
    /// organization's contacts or a representative's people. Empty when intake does not know
    /// `owner` (its people are then nobody's, i.e. inactive).
    /// - Throws: ``RPCError`` when intake does not answer (`UNAVAILABLE`, `DEADLINE_EXCEEDED`...).
    /// - Parameter only: the organization's contacts to ask about (empty: all of them); a
    ///   representative's people are always listed whole (a handful).
    func states(of owner: LinkedContact.Owner, only: [String] = []) throws -> [String: Bool] {
        let options = CallOptions(timeoutMilliseconds: 5_000, metadata: signer.metadata(for: PrincipalSigner.service("gateway")))
        let intake = runtime.client(for: "intake")
        do {
            switch owner {
            case .organization(let organizationID):
                var request = IntakeV1.ListContactsRequest()
                request.organizationID = organizationID
                request.includeInactive = true
                request.contactIDs = only
                let contacts = try intake.call(IntakeV1.Intake.listContacts, request, options: options).contacts
                return Dictionary(contacts.map { ($0.id, $0.active) }, uniquingKeysWith: { $1 })
            case .representative(let representativeID):
                var request = IntakeV1.RepresentativeRequest()
                request.representativeID = representativeID
                request.includeInactive = true
                let people = try intake.call(IntakeV1.Intake.listRepresentativeContacts, request, options: options).contacts
                return Dictionary(people.map { ($0.id, $0.active) }, uniquingKeysWith: { $1 })
            }
        } catch let error as RPCError where error.code == .notFound {
            return [:]
        }
    }

    /// Whether `person` is an active person of its owner in intake now (unknown: no).
    func isActive(_ person: LinkedContact) throws -> Bool {
        try states(of: person.owner, only: [person.contactID])[person.contactID] ?? false
    }
}
