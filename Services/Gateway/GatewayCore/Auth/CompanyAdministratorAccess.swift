import Foundation
import Messages
import RPC

/// A `customer_admin` sign-in is its company's administrator only while its intake contact has
/// the `admin` flag (and is active): the flag, which only support sets, decides, not the role
/// stored with the sign-in. Checked with the caller's standing on every request
/// (``Gateway/checkStanding(_:_:)``), in the cache organizations' active states are kept in
/// (``Gateway/directoryStates``, under ``key(contactID:)``): intake's `DirectoryChanged` for the
/// contact (the flag changed, the contact was deactivated or deleted) drops the answer at once
/// on every instance, and the gateway's own contact routes drop it on theirs before answering;
/// a missed event within `GATEWAY_ACCESS_RECHECK_MS` (30 s).
///
/// Without the flag the sign-in acts as a plain customer (`customer_contact`): signed without
/// `organization_admin` and `contacts.invite` (so intake, workflow and the portal treat it as one),
/// shown so by `GET /v1/me`, and refused every company-administrator right with 403
/// ``notAdministrator``. Given the flag back, it is the company's administrator again, with no
/// new sign-in. Before 2026-12-02 the gateway trusted the stored role: a contact support had
/// taken the flag from kept listing, disabling and inviting the company's sign-ins, listing its
/// contacts and cancelling its tickets.
///
/// Intake unreachable with nothing known of the contact: the request is refused (503
/// ``unverifiable``), as for the organization (fail closed); an answer known before is used
/// while intake does not answer.
enum CompanyAdministratorAccess {
    /// 403: a `customer_admin` sign-in whose contact is no longer its company's administrator.
    static let notAdministrator = APIError(status: 403, code: "NOT_COMPANY_ADMINISTRATOR",
                                           pt: "Você não é mais administrador da sua empresa no suporte; fale com o suporte se isso for um engano.",
                                           en: "You are no longer your company's administrator for support; contact support if this is a mistake.")

    /// 503: intake could not say whether the contact is still the company's administrator.
    static let unverifiable = APIError(status: 503, code: "COMPANY_ADMINISTRATOR_UNVERIFIED",
                                       pt: "Não foi possível confirmar agora que você administra sua empresa; tente novamente em instantes.",
                                       en: "Your company administrator role cannot be checked right now; try again shortly.",
                                       headers: [("Retry-After", "5")])

    /// The key of a contact's answer in ``Gateway/directoryStates`` (organizations are kept
    /// there under their bare id).
    static func key(contactID: String) -> String { "company-admin:" + contactID }

    /// Whether `user` is its company's administrator now: a `customer_admin` sign-in whose contact
    /// is an active contact of its organization with the `admin` flag. Other sign-ins: false,
    /// without asking.
    /// - Throws: ``unverifiable`` when intake does not answer and nothing is known.
    static func holds(_ user: User, gateway: Gateway) throws -> Bool {
        guard user.role == .customerAdmin, let contactID = user.contactID, !contactID.isEmpty,
              let organizationID = user.organizationID, !organizationID.isEmpty else { return false }
        do {
            return try gateway.directoryStates.isActive(key(contactID: contactID)) { _ in
                guard let contact = try gateway.linkedPeople.contact(contactID, organizationID: organizationID) else { return false }
                return contact.active && contact.admin
            }
        } catch let error as RPCError {
            gateway.runtime.logger.warning("company administrator refused: intake did not say whether the contact is one: \(error)",
                                           ["user.id": user.id, "contact.id": contactID])
            throw unverifiable
        }
    }

    /// The refusal of a company-administrator right to a caller who has none:
    /// ``notAdministrator`` for a `customer_admin` sign-in whose contact lost the flag (it would
    /// not know why otherwise), the usual 403 for everyone else.
    static func refusal(_ context: RequestContext) -> APIError {
        context.companyAdministrationWithdrawn ? notAdministrator : .forbidden
    }

    /// `route` (one of intake's contact routes, which only staff, representatives where intake
    /// lets them and a company's administrator use), answered ``notAdministrator`` before it
    /// runs for a sign-in whose contact lost the flag. Intake would refuse it anyway (it is signed
    /// as a plain customer, and intake reads the flag itself); this says why.
    static func only(_ route: Route) -> Route {
        var route = route
        let next = route.handler
        route.handler = { request, context in
            if context.companyAdministrationWithdrawn { throw notAdministrator }
            return try next(request, context)
        }
        return route
    }
}
