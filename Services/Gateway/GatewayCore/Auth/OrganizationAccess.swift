import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit

/// A customer organization deactivated in intake (`active = false`) loses its portal and API
/// access: its contacts and company administrators cannot sign in, and their sessions, tokens
/// and the organization's customer API keys are refused (403 `ORGANIZATION_INACTIVE`) on every
/// request, on the HTTP API and the public RPC port alike. Reactivated, the same sessions and
/// keys work again (nothing is ended or disabled, so nothing needs restoring). Support staff are
/// not concerned; a representative keeps its other organizations (``RepresentativeDirectory``
/// lists only the active ones).
///
/// Intake is asked as the gateway itself and the answer kept in ``Gateway/directoryStates``
/// (``ActiveStates``): intake's `DirectoryChanged` for the organization (every instance watches
/// the feed) drops it at once, so a deactivation applies within a second or two; if the event
/// is missed, within `GATEWAY_ACCESS_RECHECK_MS` (30 s). Intake unreachable with nothing known:
/// refused (503 `ORGANIZATION_UNVERIFIED`, fail closed as the contact's check at sign-in).
enum OrganizationAccess {
    /// 403: the caller's customer organization is inactive.
    static let inactive = APIError(status: 403, code: "ORGANIZATION_INACTIVE",
                                   pt: "Sua organização está inativa; fale com o suporte.",
                                   en: "Your organization is inactive; contact support.")

    /// 503: intake could not say whether the organization is active (fail closed).
    static let unverifiable = APIError(status: 503, code: "ORGANIZATION_UNVERIFIED",
                                       pt: "Não foi possível confirmar sua organização agora; tente novamente em instantes.",
                                       en: "Your organization cannot be checked right now; try again shortly.",
                                       headers: [("Retry-After", "5")])

    /// The customer organization a caller of `role` with `organizationID` reads as, if any:
    /// customers' sign-ins and keys. Staff, representatives and keys of other roles: none.
    static func customerOrganization(role: Role, organizationID: String?) -> String? {
        guard role.isCustomer, let organizationID, !organizationID.isEmpty else { return nil }
        return organizationID
    }

    /// Refuses a customer of an inactive organization (``inactive``, ``unverifiable``).
    static func require(role: Role, organizationID: String?, gateway: Gateway) throws {
        guard let organizationID = customerOrganization(role: role, organizationID: organizationID) else { return }
        let active: Bool
        do {
            active = try gateway.directoryStates.isActive(organizationID, lookup: intakeLookup(gateway))
        } catch let error as RPCError {
            gateway.runtime.logger.warning("customer refused: intake did not say whether the organization is active: \(error)",
                                           ["organization.id": organizationID])
            throw unverifiable
        }
        guard active else { throw inactive }
    }

    /// Asks intake's `GetOrganization` as the gateway itself (an unknown organization is inactive).
    static func intakeLookup(_ gateway: Gateway) -> (String) throws -> Bool {
        { organizationID in
            var request = IntakeV1.GetOrganizationRequest()
            request.organizationID = organizationID
            let options = CallOptions(timeoutMilliseconds: 5_000, metadata: gateway.signer.metadata(for: PrincipalSigner.service("gateway")))
            do {
                return try gateway.runtime.client(for: "intake").call(IntakeV1.Intake.getOrganization, request, options: options).active
            } catch let error as RPCError where error.code == .notFound {
                return false
            }
        }
    }
}
