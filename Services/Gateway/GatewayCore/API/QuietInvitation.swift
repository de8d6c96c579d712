import Foundation

/// A company's administrator inviting an address that already has a sign-in **outside their
/// company** (another company's contact, a representative, support) must not learn so: a 409
/// there told them whether the address had an account anywhere in the deployment.
///
/// Such an invitation is answered exactly as a fresh one (201, the same body: a `user` that is
/// `invited`, with a token when `GATEWAY_EXPOSE_TOKENS` shows tokens — a random one that opens
/// nothing), after the same work (the same intake checks and contact, one insert, the company's
/// name from intake and one e-mail to notification); nothing is made that could link or take over
/// the account (no sign-in, no link: the existing account stays as it was), and the address's
/// owner gets notification's `invitation_notice` instead ("someone at company X tried to invite
/// this address; you already have an account…", with the portal's sign-in page).
///
/// **Decision:** the company's list (`GET /v1/users`) shows it as it would a real invitation,
/// pending for good (no one accepts it): a `gateway_quiet_invitations` row (migration 7, one per
/// company and address). Its administrator manages it as a pending invitation — resend (200, the
/// notice again, never a link), disable and enable (204) — and inviting the address or its
/// contact again is the same 409 a real pending invitation gives (`email` taken, `contact_id`
/// `has_sign_in`); its contact deactivated, it reads disabled by the contact (``listed(organizationID:context:)``).
/// Support (administrators) neither sees nor gets these: their invitations and `POST /v1/users`
/// keep the precise 409.
///
/// What the administrator is entitled to know stays: an address of a sign-in **of their own
/// company** is 409 `email` `taken` (they list those sign-ins anyway), and a contact that has a
/// sign-in is 409 `contact_id` `has_sign_in`.
enum QuietInvitation {
    /// The sign-in outside `organizationID` that has `email`, when a company administrator's
    /// invitation of it is to be quiet; nil when the address is free.
    /// - Throws: ``CredentialStore/emailTaken`` when a sign-in of the company, or one of its
    ///   quiet invitations, has the address.
    static func owner(email: String, organizationID: String, context: RequestContext) throws -> User? {
        let store = context.gateway.store
        // Her own quiet invitation first: the address is then "taken" as by the real invitation
        // it stands for (not answered again, nor 409 on its contact).
        if try store.hasQuietInvitation(email: email, organizationID: organizationID) { throw CredentialStore.emailTaken }
        if let (user, _) = try store.userWithHash(email: email) {
            guard user.organizationID != organizationID else { throw CredentialStore.emailTaken }
            return user
        }
        return nil
    }

    /// Answers the invitation of `owner`'s address as a fresh one, records what stands for it in
    /// the company's list and tells the owner (once, not on a retry with the same key).
    static func invite(_ request: HTTPRequest, owner: User, displayName: String, contactID: String?, organizationID: String,
                       context: RequestContext) throws -> HTTPResponse {
        var made = false
        let response = try context.once(request) { tx in
            let user = try context.gateway.store.createQuietInvitation(tx, organizationID: organizationID, email: owner.email,
                                                                       displayName: displayName, contactID: contactID,
                                                                       invitedBy: context.user?.id)
            made = true
            return .json(body(user, context: context), status: 201)
        }
        if made { notify(owner, organizationID: organizationID, context: context) }
        return response
    }

    /// The company's quiet invitations as its list shows them: one whose contact intake has
    /// inactive (or no longer has) reads `disabled` by the `contact`, as the sign-in it stands for
    /// would (``ContactSignIns``), and `invited` again once the contact is active — asked of intake
    /// as the list is read (one call, only when there are any; unanswered: as stored).
    static func listed(organizationID: String, context: RequestContext) throws -> [User] {
        let rows = try context.gateway.store.quietInvitations(organizationID: organizationID)
        let contacts = rows.compactMap(\.contactID)
        guard !contacts.isEmpty,
              let states = try? context.gateway.linkedPeople.states(of: .organization(organizationID), only: contacts) else { return rows }
        return rows.map { row in
            guard let contact = row.contactID, states[contact] != true, row.status != "disabled" else { return row }
            var shown = row
            shown.status = "disabled"
            shown.disabledBy = .contact
            return shown
        }
    }

    /// The quiet invitation a company's administrator names in `/v1/users/{id}/…`; nil for
    /// anyone else, or an id that is none of their company's.
    static func managed(_ request: HTTPRequest, _ context: RequestContext) throws -> User? {
        let principal = try context.requirePrincipal()
        guard !principal.administrator, AdminRoutes.companyAdministrator(principal, context) else { return nil }
        return try context.gateway.store.quietInvitation(id: request.parameter("id"), organizationID: principal.organizationID)
    }

    /// `POST /v1/users/{id}/disable|enable|resend-invitation` of a quiet invitation, answered as
    /// for a pending invitation: disable and enable 204; resend 200 with the `user` (409
    /// `INVITATION_NOT_PENDING` when disabled) and the notice to the address's owner again.
    static func manage(_ action: String, _ quiet: User, _ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        if let replay = try context.replay(request) { return replay }
        let store = context.gateway.store
        switch action {
        case "disable", "enable":
            return try context.once(request) { tx in
                try store.setQuietInvitation(tx, id: quiet.id, disabled: action == "disable")
                return .noContent
            }
        default:
            guard quiet.status == "invited" else { throw AdminRoutes.invitationNotPending }
            var sent = false
            let response = try context.once(request) { _ in
                sent = true
                return .json(body(quiet, context: context))
            }
            if sent, let (owner, _) = try store.userWithHash(email: quiet.email) {
                notify(owner, organizationID: quiet.organizationID ?? "", context: context)
            }
            return response
        }
    }

    /// The body a fresh invitation answers: the `user`, and a token when tokens are shown (a
    /// random one here: no link exists).
    private static func body(_ user: User, context: RequestContext) -> [String: Any] {
        var body: [String: Any] = ["user": AuthRoutes.userJSON(user)]
        if context.gateway.configuration.exposeTokens { body["token"] = Tokens.random(32) }
        return body
    }

    /// notification's `invitation_notice` to `owner`: the inviting company's name and the
    /// portal's sign-in page (no one-time link), in the owner's language.
    static func notify(_ owner: User, organizationID: String, context: RequestContext) {
        let gateway = context.gateway
        Mailer.deliver(gateway: gateway, to: owner, purpose: "invitation_notice", link: "\(gateway.configuration.publicURL)/portal/",
                       expiresAtMs: CredentialStore.now(), organizationName: Mailer.organizationName(organizationID, context: context),
                       context: context)
    }
}
