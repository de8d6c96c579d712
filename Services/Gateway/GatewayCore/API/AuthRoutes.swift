import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit

/// Sign-in, sessions, tokens, password changes and resets, invitations.
enum AuthRoutes {
    struct Credentials: Decodable {
        var email: String
        var password: String
    }

    static func register(in router: inout Router) {
        router.add("POST", "/v1/auth/login", access: .anonymous) { request, context in
            let gateway = context.gateway
            let user = try signIn(request, gateway: gateway)
            let (token, session) = try gateway.store.createSession(user: user, kind: "cookie", lifetimeSeconds: gateway.configuration.sessionSeconds,
                                                                   clientAddress: request.clientAddress)
            var response = HTTPResponse.json(["user": userJSON(user), "csrf_token": session.csrfToken, "expires_at": session.expiresAt])
            response.headers += gateway.sessionCookies(token: token, csrf: session.csrfToken, maxAge: gateway.configuration.sessionSeconds)
            return response
        }
        router.add("POST", "/v1/auth/tokens", access: .anonymous) { request, context in
            let gateway = context.gateway
            let user = try signIn(request, gateway: gateway)
            let (token, session) = try gateway.store.createSession(user: user, kind: "bearer", lifetimeSeconds: gateway.configuration.tokenSeconds,
                                                                   clientAddress: request.clientAddress)
            return .json(["token": token, "token_type": "Bearer", "expires_at": session.expiresAt, "user": userJSON(user)], status: 201)
        }
        router.add("POST", "/v1/auth/logout") { request, context in
            // `?everywhere=true`: every session and token of the user (a lost laptop's CLI token,
            // a browser left signed in), without changing the password.
            if request.query["everywhere"] == "true", let user = context.user {
                try context.gateway.store.endSessions(userID: user.id)
            } else if let session = context.session {
                try context.gateway.store.deleteSession(tokenHash: session.tokenHash)
            }
            var response = HTTPResponse.noContent
            response.headers += context.gateway.clearedCookies()
            return response
        }
        router.add("GET", "/v1/me") { _, context in
            let principal = try context.requirePrincipal()
            var body: [String: Any] = ["principal": principalJSON(principal)]
            // The role acted with: a `customer_admin` whose contact lost intake's `admin` flag is
            // a `customer_contact` (``CompanyAdministratorAccess``), and says why.
            if var user = context.effectiveUser.map(userJSON) {
                if context.companyAdministrationWithdrawn { user["company_administrator_withdrawn"] = true }
                body["user"] = user
            }
            if let session = context.session, session.kind == "cookie" { body["csrf_token"] = session.csrfToken }
            return .json(body)
        }
        router.add("POST", "/v1/me/password") { request, context in
            struct Change: Decodable { var current_password: String; var new_password: String }
            let change = try request.decode(Change.self)
            guard let user = context.user else { throw APIError.forbidden }
            // Guesses of the current password (a stolen session learning the password that
            // outlives it) count with the sign-ins of the same e-mail and address.
            let attempt = try admitAttempt(email: SignInAddress.normalized(user.email), request, gateway: context.gateway)
            guard let (_, hash) = try context.gateway.store.userWithHash(email: user.email), let hash,
                  context.gateway.hasher.verify(change.current_password, against: hash) else {
                throw APIError(status: 403, code: "WRONG_PASSWORD", pt: "Senha atual incorreta.", en: "Current password is wrong.")
            }
            try context.gateway.throttle.succeeded(attempt)
            try context.gateway.policy.check(change.new_password, email: user.email)
            try context.gateway.store.setPassword(userID: user.id, hash: try context.gateway.hasher.hash(change.new_password))
            var response = HTTPResponse.noContent
            response.headers += context.gateway.clearedCookies()
            return response
        }
        router.add("POST", "/v1/auth/password-reset", access: .anonymous) { request, context in
            struct Ask: Decodable { var email: String }
            let ask = try request.decode(Ask.self)
            var body: [String: Any] = ["status": "sent_if_registered"]
            if let (user, _) = try context.gateway.store.userWithHash(email: ask.email), user.status != "disabled" {
                // At most ``CredentialStore/outstandingResetLimit`` unused links at once: past it
                // nothing is made nor sent (no mailbox flooded at the per-IP rate).
                if context.gateway.configuration.exposeTokens {
                    if let token = try context.gateway.store.createResetToken(userID: user.id) {
                        Mailer.send(gateway: context.gateway, to: user, purpose: "password_reset", token: token, context: context)
                        body["token"] = token
                    }
                } else {
                    // The link is made and mailed after the answer: a registered address must not
                    // answer later than an unknown one (a write and notification's call would say
                    // which addresses exist).
                    Mailer.queue.async {
                        do {
                            guard let token = try context.gateway.store.createResetToken(userID: user.id) else { return }
                            Mailer.send(gateway: context.gateway, to: user, purpose: "password_reset", token: token, context: context)
                        } catch {
                            context.gateway.runtime.logger.warning("password reset link not made: \(error)",
                                                                   ["user.id": user.id, "request.id": context.requestID])
                        }
                    }
                }
            }
            // The same answer, in the same time, whether or not the address is registered.
            return .json(body, status: 202)
        }
        router.add("POST", "/v1/auth/password-reset/confirm", access: .anonymous) { request, context in
            try confirm(request, context: context)
        }
        router.add("POST", "/v1/invitations/accept", access: .anonymous) { request, context in
            try confirm(request, context: context)
        }
        router.add("POST", "/v1/invitations") { request, context in
            struct Invite: Decodable {
                var email: String
                var display_name: String
                var contact_id: String?
                var role: String?
                var organization_id: String?
                var agent_id: String?
                var access_level: Int?
                var phone: String?
                var representative_id: String?
            }
            // Who may invite at all is decided before the request is read.
            let principal = try context.requirePrincipal()
            guard principal.administrator || AdminRoutes.companyAdministrator(principal, context) else {
                throw CompanyAdministratorAccess.refusal(context)
            }
            // A retry is answered before the checks its first call's user would now fail (e-mail taken).
            if let replay = try context.replay(request) { return replay }
            let invite = try request.decode(Invite.self)
            try SignInAddress.check(invite.email)
            let role: Role
            let organization: String?
            if principal.administrator {
                role = invite.role.flatMap(Role.init(rawValue:)) ?? .customerContact
                organization = invite.organization_id
                if role.isCustomer && (organization ?? "").isEmpty {
                    throw APIError.invalid("organization_id", "required", pt: "Informe a organização.", en: "Organization is required.")
                }
            } else if AdminRoutes.companyAdministrator(principal, context) {
                // A customer's administrator invites authorized contacts of their own company only.
                if let asked = invite.role, asked != Role.customerContact.rawValue { throw APIError.forbidden }
                role = .customerContact
                organization = principal.organizationID
            } else {
                throw APIError.forbidden
            }
            // A company's administrator inviting an address that has a sign-in outside their company
            // is answered as for a fresh invitation (``QuietInvitation``): whether it has one is
            // not theirs to know. One of their own company's is the 409 support gets.
            let owner = try principal.administrator ? nil : QuietInvitation.owner(email: invite.email, organizationID: organization ?? "",
                                                                                context: context)
            // A customer signs in as a contact of the organization (``InvitedContact``); an address
            // already taken is refused before intake is asked to add a contact.
            var contactID = invite.contact_id
            if role.isCustomer, let organization {
                contactID = try InvitedContact.resolve(contactID: invite.contact_id, email: invite.email, displayName: invite.display_name,
                                                       phone: invite.phone, organizationID: organization, role: role,
                                                       addressChecked: !principal.administrator, context: context)
                if let owner {
                    return try QuietInvitation.invite(request, owner: owner, displayName: invite.display_name, contactID: contactID,
                                                      organizationID: organization, context: context)
                }
            } else if role == .representative {
                // A representative's person, as for POST /v1/users.
                try RepresentativePerson.check(contactID: invite.contact_id, representativeID: invite.representative_id, context: context)
            }
            let representative = role == .representative
            // Only an administrator gives a sign-in staff fields; a company's administrator's
            // invitation carries none (an agent id would make the contact that agent if the user
            // were ever made staff).
            let agentID = principal.administrator ? invite.agent_id : nil
            let accessLevel = principal.administrator ? invite.access_level ?? 0 : 0
            // The user and its link's token in one transaction with the key; the answer (which
            // may show the token) is stored sealed, and the e-mail goes once, after the commit.
            var invitation: (User, String)?
            let response = try context.once(request) { tx in
                let user = try context.gateway.store.createUser(tx, email: invite.email, displayName: invite.display_name, role: role,
                                                                contactID: contactID, agentID: agentID,
                                                                organizationID: representative ? nil : organization,
                                                                representativeID: representative ? invite.representative_id : nil,
                                                                accessLevel: accessLevel, passwordHash: nil, invitedBy: context.user?.id)
                let token = try context.gateway.store.createPasswordToken(tx, userID: user.id, purpose: "invite", lifetimeSeconds: 7 * 24 * 3600)
                invitation = (user, token)
                var body: [String: Any] = ["user": userJSON(user)]
                if context.gateway.configuration.exposeTokens { body["token"] = token }
                return .json(body, status: 201)
            }
            if let (user, token) = invitation {
                Mailer.sendInvitation(gateway: context.gateway, to: user, token: token, context: context)
            }
            return response
        }
    }

    /// Checks e-mail and password with throttling; the same time and answer for unknown e-mails.
    /// A body not sent as `application/json` never gets here (``JSONBodies``: 415 before the
    /// route runs, so before the attempt is counted): an HTML form of another site can send
    /// JSON-looking text (`enctype="text/plain"`) but not that type, so it cannot sign the browser
    /// in to an account of the attacker's (login CSRF).
    static func signIn(_ request: HTTPRequest, gateway: Gateway) throws -> User {
        let credentials = try request.decode(Credentials.self)
        let email = SignInAddress.normalized(credentials.email)
        // Counted before the password is checked, so concurrent guesses cannot pass together.
        let attempt = try admitAttempt(email: email, request, gateway: gateway)
        let found = try gateway.store.userWithHash(email: email)
        let hash = found?.1 ?? dummy
        let matches = gateway.hasher.verify(credentials.password, against: hash)
        guard let (user, stored) = found, stored != nil, matches, user.status != "invited" else {
            throw invalidCredentials
        }
        // The status, and for customers and representatives their intake person, decide the rest.
        let admitted: User
        do {
            admitted = try ContactSignIns.admit(user, gateway: gateway)
        } catch let refusal as APIError where refusal.status != 401 {
            // The password was right (the answer says so): not a guess to count.
            try gateway.throttle.succeeded(attempt)
            throw refusal
        }
        try gateway.throttle.succeeded(attempt)
        // The first administrator's agent record, made where `create-admin` could not.
        return AdministratorAgent.linked(admitted, gateway: gateway)
    }

    /// One password check of `email` from the request's address, counted by the login
    /// throttle (a failure until ``LoginThrottle/succeeded(_:)``); 429 `LOGIN_THROTTLED` past it.
    static func admitAttempt(email: String, _ request: HTTPRequest, gateway: Gateway) throws -> LoginThrottle.Attempt {
        switch try gateway.throttle.begin(email: email, address: request.clientAddress) {
        case .allowed(let allowed):
            return allowed
        case .refused(let wait):
            throw APIError(status: 429, code: "LOGIN_THROTTLED", pt: "Muitas tentativas de entrada; aguarde e tente novamente.",
                           en: "Too many sign-in attempts; wait and try again.", headers: [("Retry-After", String(max(1, wait)))])
        }
    }

    /// 401: a wrong e-mail or password, and every refusal that must not say more (a disabled or
    /// invited user).
    static let invalidCredentials = APIError(status: 401, code: "INVALID_CREDENTIALS", pt: "E-mail ou senha incorretos.",
                                             en: "Wrong e-mail or password.")

    private static let dummy = PasswordHasher(environment: ProcessInfo.processInfo.environment).dummyHash()

    static func confirm(_ request: HTTPRequest, context: RequestContext) throws -> HTTPResponse {
        struct Confirm: Decodable { var token: String; var password: String }
        let confirm = try request.decode(Confirm.self)
        guard let user = try context.gateway.store.passwordTokenUser(confirm.token) else {
            throw APIError.invalid("token", "invalid_or_expired", pt: "Link inválido ou expirado.", en: "Invalid or expired link.")
        }
        try context.gateway.policy.check(confirm.password, email: user.email)
        guard try context.gateway.store.consumePasswordToken(confirm.token, newHash: try context.gateway.hasher.hash(confirm.password)) != nil else {
            throw APIError.invalid("token", "invalid_or_expired", pt: "Link inválido ou expirado.", en: "Invalid or expired link.")
        }
        return .noContent
    }

    static func userJSON(_ user: User) -> [String: Any] {
        var out: [String: Any] = ["id": user.id, "email": user.email, "display_name": user.displayName, "role": user.role.rawValue,
                                  "status": user.status, "locale": user.locale, "access_level": user.accessLevel]
        if let v = user.contactID { out["contact_id"] = v }
        if let v = user.agentID { out["agent_id"] = v }
        if let v = user.organizationID { out["organization_id"] = v }
        if let v = user.representativeID { out["representative_id"] = v }
        if let v = user.disabledBy, user.status == "disabled" { out["disabled_by"] = v.rawValue }
        return out
    }

    static func principalJSON(_ p: AuthV1.Principal) -> [String: Any] {
        let kind: String = switch p.kind {
        case .customer: "customer"
        case .agent: "agent"
        case .integration: "integration"
        case .service: "service"
        default: "unspecified"
        }
        return ["kind": kind, "id": p.id, "display_name": p.displayName, "organization_id": p.organizationID,
                "organization_admin": p.organizationAdmin, "access_level": Int(p.accessLevel), "chefe": p.chefe,
                "administrator": p.administrator, "permissions": p.permissions, "representative_id": p.representativeID,
                "represented_organization_ids": p.representedOrganizationIDs]
    }
}

/// Sends the e-mails the gateway needs (invitation, password reset) through notification's
/// `SendAccountEmail`, with the one-time link. A failure is logged, never shown to the caller
/// (the reset answer must not reveal whether the address exists).
enum Mailer {
    /// An invitation's e-mail: a customer's names the company it is for ("portal de suporte de
    /// Acme", purpose `invitation`); a representative's person's says what a representative does
    /// there (opens tickets for the customers represented; `representative_invitation`); staff's
    /// (agents, chefes, administrators: no customer company) is a `staff_invitation`, naming the
    /// support team. The last two name the deployment (its sender name).
    static func sendInvitation(gateway: Gateway, to user: User, token: String, context: RequestContext) {
        guard user.role.isCustomer, let organization = user.organizationID else {
            let purpose = user.role == .representative ? "representative_invitation" : "staff_invitation"
            send(gateway: gateway, to: user, purpose: purpose, token: token, context: context)
            return
        }
        send(gateway: gateway, to: user, purpose: "invitation", token: token, organizationName: organizationName(organization, context: context),
             context: context)
    }

    /// Where password-reset links are made and mailed after the answer, one at a time (a slow
    /// notification delays the e-mails, never the answers, and holds one thread).
    static let queue = DispatchQueue(label: "gateway-account-mail")

    /// `purpose`: `invitation`, `staff_invitation`, `representative_invitation` or `password_reset`
    /// (notification's kinds; `invitation_notice` goes through ``deliver(gateway:to:purpose:link:expiresAtMs:organizationName:context:)``).
    /// `organizationName`: the customer's company an invitation names (`{{organization_name}}`).
    static func send(gateway: Gateway, to user: User, purpose: String, token: String, organizationName: String = "", context: RequestContext) {
        let base = gateway.configuration.publicURL
        let invitation = purpose.hasSuffix("invitation")
        let path = invitation ? "/portal/convite" : "/portal/nova-senha"
        deliver(gateway: gateway, to: user, purpose: purpose, link: "\(base)\(path)#token=\(token)",
                expiresAtMs: CredentialStore.now() + (invitation ? 7 * 24 * 3_600_000 : 3_600_000),
                organizationName: organizationName, context: context)
    }

    /// The customer company `context`'s caller acts for, by name (empty when intake does not say).
    static func organizationName(_ organizationID: String, context: RequestContext) -> String {
        var lookup = IntakeV1.GetOrganizationRequest()
        lookup.organizationID = organizationID
        return (try? context.call("intake", IntakeV1.Intake.getOrganization, lookup))?.name ?? ""
    }

    /// Hands one account e-mail to notification: `link` is the one-time link (or, for an
    /// `invitation_notice`, the portal's sign-in page).
    static func deliver(gateway: Gateway, to user: User, purpose: String, link: String, expiresAtMs: Int64, organizationName: String,
                        context: RequestContext) {
        var request = NotificationV1.SendAccountEmailRequest()
        request.kind = purpose
        request.to = user.email
        request.name = user.displayName
        request.organizationName = organizationName
        request.link = link
        request.expiresAtMs = expiresAtMs
        request.locale = user.locale
        var options = CallOptions(timeoutMilliseconds: 5_000, metadata: gateway.signer.metadata(for: PrincipalSigner.service("gateway")))
        options.metadata[MetadataKey.requestID] = context.requestID
        do {
            _ = try gateway.forward(service: "notification", path: NotificationV1.Notification.sendAccountEmail.path,
                                    payload: request.serializedBytes(), options: options)
        } catch {
            gateway.runtime.logger.warning("account e-mail not queued: \(error)",
                                           ["mail.purpose": purpose, "user.id": user.id, "request.id": context.requestID])
        }
    }
}
