import Foundation

/// A company's administrator manages the company's contacts, not its administrators: they do
/// not deactivate or delete their own contact, nor the contact of another of the company's
/// administrators (a `customer_admin` sign-in). Either would end that administrator's sign-in
/// (sign-ins follow their contact, ``ContactSignIns``): a departing administrator could lock the
/// others out, or the last one the company has could lock the company out of its own
/// management, and only support could undo it. `POST /v1/users/{id}/disable` already refused
/// both (a company's administrator manages `customer_contact` sign-ins only); intake's contact
/// routes did not. Intake refuses the same (its contact's `admin` flag, and the caller's own
/// contact); the gateway also knows which contacts have an administrator's sign-in. Staff may.
enum CompanyAdministrators {
    /// `route` (an intake contact route naming the contact as `{id}`), refused with 403 for a
    /// company's administrator when `removes(request)` says the request would deactivate or
    /// delete a contact that must stay.
    static func guarding(_ route: Route, removes: @escaping @Sendable (HTTPRequest) -> Bool) -> Route {
        var route = route
        let next = route.handler
        route.handler = { request, context in
            if let principal = context.principal, principal.kind == .customer, principal.organizationAdmin, removes(request) {
                let contactID = request.parameter("id")
                if contactID == principal.id {
                    throw APIError(status: 403, code: "PERMISSION_DENIED",
                                   pt: "Você não pode desativar o seu próprio contato; peça ao suporte.",
                                   en: "You cannot deactivate your own contact; ask support.")
                }
                let person = LinkedContact(contactID: contactID, owner: .organization(principal.organizationID))
                if try context.gateway.store.hasCompanyAdministratorSignIn(person) {
                    throw APIError(status: 403, code: "PERMISSION_DENIED",
                                   pt: "Só o suporte desativa um administrador da empresa.",
                                   en: "Only support deactivates a company's administrator.")
                }
            }
            return try next(request, context)
        }
        return route
    }

    /// Whether an update's JSON body sets `active` to false (absent: unchanged).
    static func updateDeactivates(_ request: HTTPRequest) -> Bool {
        ((try? request.jsonObject())?["active"] as? Bool) == false
    }

    /// Whether `SetContactActive`'s body asks for an inactive contact (an absent `active` is
    /// false, as intake reads it).
    static func setsInactive(_ request: HTTPRequest) -> Bool {
        ((try? request.jsonObject())?["active"] as? Bool) != true
    }
}
