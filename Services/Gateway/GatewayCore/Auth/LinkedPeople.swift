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
        do {
            switch owner {
            case .organization(let organizationID):
                return Dictionary(try contacts(of: organizationID, only: only).map { ($0.id, $0.active) }, uniquingKeysWith: { $1 })
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

    /// Contact `contactID` of `organizationID` as intake has it now (inactive ones too); `nil`
    /// when intake knows neither (a contact of another organization is nobody here).
    /// - Throws: ``RPCError`` when intake does not answer.
    func contact(_ contactID: String, organizationID: String) throws -> IntakeV1.Contact? {
        do {
            return try contacts(of: organizationID, only: [contactID]).first { $0.id == contactID }
        } catch let error as RPCError where error.code == .notFound {
            return nil
        }
    }

    /// The contacts of `organizationID` (inactive ones included), only those named when `only` is
    /// not empty: one `ListContacts` call.
    private func contacts(of organizationID: String, only: [String]) throws -> [IntakeV1.Contact] {
        var request = IntakeV1.ListContactsRequest()
        request.organizationID = organizationID
        request.includeInactive = true
        request.contactIDs = only
        return try intake.call(IntakeV1.Intake.listContacts, request, options: options).contacts
    }

    /// Calls made as the gateway itself.
    private var options: CallOptions {
        CallOptions(timeoutMilliseconds: 5_000, metadata: signer.metadata(for: PrincipalSigner.service("gateway")))
    }

    private var intake: RPCClient { runtime.client(for: "intake") }

    /// Whether `person` is an active person of its owner in intake now (unknown: no).
    func isActive(_ person: LinkedContact) throws -> Bool {
        try states(of: person.owner, only: [person.contactID])[person.contactID] ?? false
    }
}
