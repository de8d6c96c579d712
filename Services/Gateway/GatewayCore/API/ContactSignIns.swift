import Foundation
import RPC

/// A customer signs in as one of its organization's intake contacts (a representative's person
/// as one of the representative's people), so that person's state in intake decides whether the
/// sign-in works. Three paths keep them in step (docs/GATEWAY.md, "Sign-ins follow intake"):
/// - `POST /v1/contacts/{id}/active` sets the contact in intake (which checks the caller may)
///   and then blocks or unblocks its sign-ins at once (``following(_:)``);
/// - any other change in intake (an integration on the public RPC port, an intake client)
///   reaches every instance as an event (``ContactSignInFollower``);
/// - every password sign-in asks intake (``admit(_:gateway:)``), which covers events
///   missed while no instance watched.
///
/// Blocking disables the sign-ins *because of the contact* and ends their sessions (on every
/// instance within the revocation interval); unblocking enables only those, never one an
/// administrator disabled by hand. Without this, a deactivated contact kept reading its
/// company's tickets through workflow, which trusts the signed organization.
enum ContactSignIns {
    /// `route` (the intake binding), followed by the sign-ins of the contact it changed.
    static func following(_ route: Route) -> Route {
        var route = route
        let setContact = route.handler
        route.handler = { request, context in
            let response = try setContact(request, context)
            guard (200..<300).contains(response.status),
                  let contact = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any],
                  let id = contact["id"] as? String, let organizationID = contact["organization_id"] as? String else { return response }
            try context.gateway.store.follow(LinkedContact(contactID: id, owner: .organization(organizationID)),
                                             active: contact["active"] as? Bool ?? false)
            return response
        }
        return route
    }

    /// 403: the person the login signs in as is inactive (or unknown) in intake.
    static let inactive = APIError(status: 403, code: "CONTACT_INACTIVE",
                                   pt: "Seu cadastro de contato está inativo; fale com o administrador da sua empresa ou com o suporte.",
                                   en: "Your contact record is inactive; ask your company's administrator or support.")

    /// 503: intake could not say whether the person is active; the sign-in is refused (fail closed).
    static let unverifiable = APIError(status: 503, code: "CONTACT_UNVERIFIED",
                                       pt: "Não foi possível confirmar seu cadastro agora; tente novamente em instantes.",
                                       en: "Your contact record cannot be checked right now; try again shortly.",
                                       headers: [("Retry-After", "5")])

    /// A login whose password matched, as it may sign in now: staff as their workflow agent
    /// allows (``AgentSignIns``); a customer or
    /// representative only while intake says its person is active. The answer is applied to the
    /// stored sign-ins (``CredentialStore/follow(_:active:)``), so a sign-in disabled because of
    /// its contact signs in again once the contact is active, even if that event was missed.
    /// - Throws: ``inactive`` (also for a customer or representative login that names no
    ///   person); ``unverifiable`` when intake does not answer; 401 for a user disabled by an
    ///   administrator or not yet active (the same answer as a wrong password).
    static func admit(_ user: User, gateway: Gateway) throws -> User {
        let invalid = AuthRoutes.invalidCredentials
        // Staff follow their workflow agent instead.
        guard user.signsInAsIntakePerson else { return try AgentSignIns.admit(user, gateway: gateway) }
        guard user.status == "active" || (user.status == "disabled" && user.disabledBy == .contact) else { throw invalid }
        guard let person = user.linkedContact else { throw inactive }
        // A customer of an inactive organization signs in no more (ORGANIZATION_INACTIVE).
        try OrganizationAccess.require(role: user.role, organizationID: user.organizationID, gateway: gateway)
        let active: Bool
        do {
            active = try gateway.linkedPeople.isActive(person)
        } catch let error as RPCError {
            gateway.runtime.logger.warning("sign-in refused: intake did not say whether the contact is active: \(error)",
                                           ["user.id": user.id, "contact.id": person.contactID])
            throw unverifiable
        }
        try gateway.store.follow(person, active: active)
        guard active else { throw inactive }
        guard let current = try gateway.store.user(id: user.id), current.status == "active" else { throw invalid }
        return current
    }
}
