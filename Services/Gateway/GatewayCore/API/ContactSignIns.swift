import Foundation

/// A customer signs in as one of its organization's intake contacts, so the contact's state
/// decides whether the sign-in works: `POST /v1/contacts/{id}/active` sets the contact in intake
/// (which checks the caller may) and then blocks the contact's gateway sign-ins when it is
/// deactivated (their sessions end at once, on every instance within the revocation interval) or
/// unblocks them when it is reactivated. Without it, a deactivated contact kept reading its
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
            try context.gateway.store.followContact(id, organizationID: organizationID, active: contact["active"] as? Bool ?? false)
            return response
        }
        return route
    }
}
