import Foundation
import Messages

/// Users and API keys, for administrators (and customer administrators for their company's users).
enum AdminRoutes {
    /// Whether the caller is a company's administrator signed in as a person: an API key made
    /// with the `customer_admin` role names no contact, and manages no people (as intake refuses
    /// it the company's contacts, and the gateway its invitations). The principal says so only
    /// while the sign-in's contact has intake's `admin` flag (``CompanyAdministratorAccess``); one
    /// whose flag was taken is refused with ``CompanyAdministratorAccess/refusal(_:)``.
    static func companyAdministrator(_ principal: AuthV1.Principal, _ context: RequestContext) -> Bool {
        principal.organizationAdmin && context.user != nil
    }

    /// The user a disable or enable names, if the caller manages it: administrators any user, a
    /// company's administrator the contacts of their own company (404 unknown, 403 otherwise).
    static func managedUser(_ request: HTTPRequest, _ context: RequestContext) throws -> User {
        let principal = try context.requirePrincipal()
        guard let user = try context.gateway.store.user(id: request.parameter("id")) else { throw APIError.notFound }
        guard principal.administrator
            || (companyAdministrator(principal, context) && user.organizationID == principal.organizationID && user.role == .customerContact) else {
            throw principal.administrator ? APIError.forbidden : CompanyAdministratorAccess.refusal(context)
        }
        return user
    }

    /// 403: a company's administrator enabling a sign-in support disabled.
    static let disabledBySupport = APIError(status: 403, code: "DISABLED_BY_SUPPORT",
                                            pt: "Este acesso foi desativado pelo suporte; só o suporte pode reativá-lo.",
                                            en: "This sign-in was disabled by support; only support can enable it again.")

    /// 409: no pending invitation to resend.
    static let invitationNotPending = APIError(
        status: 409, code: "INVITATION_NOT_PENDING",
        pt: "Não há convite pendente: esta pessoa já definiu a senha (ou o acesso está desativado). Para uma senha esquecida, use \"Esqueci minha senha\".",
        en: "No pending invitation: this person already set a password (or the sign-in is disabled). For a forgotten password, use \"Forgot my password\".")

    /// A pending invitation sent again: a new one-time link (7 days), the earlier ones no longer
    /// valid, and the e-mail once more (after the commit, not on a retry with the same key).
    /// Administrators any user, a company's administrator its contacts. 409 when the person
    /// already chose a password (or the sign-in is disabled): there is no invitation to resend.
    static func resendInvitation(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        if let quiet = try QuietInvitation.managed(request, context) { return try QuietInvitation.manage("resend", quiet, request, context) }
        // Who may resend is decided before a retry is answered: the stored answer may hold the link's token.
        let user = try managedUser(request, context)
        if let replay = try context.replay(request) { return replay }
        let hasPassword = try context.gateway.store.userWithHash(email: user.email)?.1 != nil
        guard user.status == "invited", !hasPassword else { throw invitationNotPending }
        var token: String?
        let response = try context.once(request) { tx in
            let renewed = try context.gateway.store.renewInvitationToken(tx, userID: user.id, lifetimeSeconds: 7 * 24 * 3600)
            token = renewed
            var body: [String: Any] = ["user": AuthRoutes.userJSON(user)]
            if context.gateway.configuration.exposeTokens { body["token"] = renewed }
            return .json(body)
        }
        if let token { Mailer.sendInvitation(gateway: context.gateway, to: user, token: token, context: context) }
        return response
    }

    static func register(in router: inout Router) {
        router.add("GET", "/v1/users") { _, context in
            let principal = try context.requirePrincipal()
            let users: [User]
            if principal.administrator {
                users = try context.gateway.store.users()
            } else if companyAdministrator(principal, context) {
                // The company's quiet invitations among them, as the real ones they stand for.
                users = try (context.gateway.store.users(organizationID: principal.organizationID)
                    + QuietInvitation.listed(organizationID: principal.organizationID, context: context)).sorted { $0.email < $1.email }
            } else {
                throw CompanyAdministratorAccess.refusal(context)
            }
            return .json(["users": users.map(AuthRoutes.userJSON)])
        }
        router.add("POST", "/v1/users") { request, context in
            try context.requireAdministrator()
            // A retry is answered before the checks its first call's user would now fail (e-mail taken).
            if let replay = try context.replay(request) { return replay }
            struct Create: Decodable {
                var email: String
                var display_name: String
                var role: String
                var password: String
                var contact_id: String?
                var agent_id: String?
                var organization_id: String?
                var representative_id: String?
                var access_level: Int?
            }
            let create = try request.decode(Create.self)
            try SignInAddress.check(create.email)
            guard let role = Role(rawValue: create.role) else {
                throw APIError.invalid("role", "invalid_value", pt: "Papel desconhecido.", en: "Unknown role.")
            }
            let problems = [StaffChange.accessLevelProblem(create.access_level), StaffChange.displayNameProblem(create.display_name)].compactMap { $0 }
            if !problems.isEmpty {
                throw APIError(status: 400, code: "INVALID_ARGUMENT", pt: "Dados inválidos.", en: "Invalid data.", details: problems)
            }
            if role.isCustomer && (create.organization_id ?? "").isEmpty {
                throw APIError.invalid("organization_id", "required", pt: "Informe a organização.", en: "Organization is required.")
            }
            try context.gateway.policy.check(create.password, email: create.email)
            // Customers and representatives sign in as an intake person, checked as for invitations.
            var contactID = create.contact_id
            if role.isCustomer, let organization = create.organization_id {
                contactID = try InvitedContact.resolve(contactID: create.contact_id, email: create.email, displayName: create.display_name,
                                                       phone: nil, organizationID: organization, role: role, context: context)
            } else if role == .representative {
                try RepresentativePerson.check(contactID: create.contact_id, representativeID: create.representative_id, context: context)
            }
            let hash = try context.gateway.hasher.hash(create.password)
            return try context.once(request) { tx in
                let user = try context.gateway.store.createUser(tx, email: create.email, displayName: create.display_name, role: role,
                                                                contactID: contactID, agentID: create.agent_id,
                                                                organizationID: role == .representative ? nil : create.organization_id,
                                                                representativeID: role == .representative ? create.representative_id : nil,
                                                                accessLevel: create.access_level ?? 0, passwordHash: hash)
                return .json(["user": AuthRoutes.userJSON(user)], status: 201)
            }
        }
        router.add("POST", "/v1/users/{id}") { request, context in
            try context.requireAdministrator()
            guard var user = try context.gateway.store.user(id: request.parameter("id")) else { throw APIError.notFound }
            let change = try request.decode(StaffChange.self)
            let role = try change.validated(for: user, own: user.id == context.user?.id)
            user.displayName = change.display_name.map { $0.trimmingCharacters(in: .whitespaces) } ?? user.displayName
            user.role = role
            user.accessLevel = change.access_level ?? user.accessLevel
            user.agentID = user.agentID ?? change.agent_id.flatMap { $0.isEmpty ? nil : $0 }
            let changed = user
            // The agent record the gateway made for an administrator takes the new level, name and
            // role first (503, nothing changed, when workflow fails).
            if change.access_level != nil || change.display_name != nil || change.role != nil {
                if let replay = try context.replay(request) { return replay }
                try AdministratorAgent.follow(changed, accessLevel: change.access_level.map { _ in changed.accessLevel },
                                              displayName: change.display_name.map { _ in changed.displayName },
                                              role: change.role.map { _ in role }, gateway: context.gateway)
            }
            let response = try context.once(request) { tx in
                try context.gateway.store.updateStaff(tx, userID: changed.id, displayName: changed.displayName, role: role,
                                                      accessLevel: changed.accessLevel, agentID: changed.agentID)
                return .json(["user": AuthRoutes.userJSON(changed)])
            }
            context.gateway.store.forgetSessions(userID: user.id)
            return response
        }
        router.add("POST", "/v1/users/{id}/disable") { request, context in
            if let quiet = try QuietInvitation.managed(request, context) { return try QuietInvitation.manage("disable", quiet, request, context) }
            let user = try managedUser(request, context)
            guard user.id != context.user?.id else {
                // Disabling yourself ends your own sessions: an administrator could lock everyone out.
                throw APIError(status: 422, code: "FAILED_PRECONDITION", pt: "Você não pode desativar a sua própria conta.",
                               en: "You cannot disable your own account.")
            }
            if let replay = try context.replay(request) { return replay }
            try AdministratorAgent.follow(user, active: false, gateway: context.gateway)
            let by: DisabledBy = try context.requirePrincipal().administrator ? .administrator : .company
            let response = try context.once(request) { tx in
                try context.gateway.store.setStatus(tx, userID: user.id, status: "disabled", by: by)
                return .noContent
            }
            context.gateway.store.forgetSessions(userID: user.id)
            return response
        }
        router.add("POST", "/v1/users/{id}/enable") { request, context in
            if let quiet = try QuietInvitation.managed(request, context) { return try QuietInvitation.manage("enable", quiet, request, context) }
            let user = try managedUser(request, context)
            if user.status == "disabled" {
                // Support's block binds the company: its administrator lifts only its own.
                if user.disabledBy == .administrator, try !context.requirePrincipal().administrator { throw disabledBySupport }
                if let replay = try context.replay(request) { return replay }
                try AdministratorAgent.follow(user, active: true, gateway: context.gateway)
            }
            let response = try context.once(request) { tx in
                try context.gateway.store.enable(tx, userID: user.id)
                return .noContent
            }
            context.gateway.store.forgetSessions(userID: user.id)
            return response
        }
        router.add("POST", "/v1/users/{id}/resend-invitation") { request, context in
            try resendInvitation(request, context)
        }
        router.add("GET", "/v1/api-keys") { request, context in
            try context.requireAdministrator()
            return .encoded(["api_keys": try APIKeyMakers.listed(request, context)])
        }
        router.add("POST", "/v1/api-keys") { request, context in
            try context.requireAdministrator()
            struct Create: Decodable {
                var name: String
                var role: String?
                var organization_id: String?
                var access_level: Int?
                var permissions: [String]?
            }
            let create = try request.decode(Create.self)
            guard !create.name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw APIError.invalid("name", "required", pt: "Informe um nome.", en: "Name is required.")
            }
            // A long name was refused as a missing one ("Informe um nome").
            guard create.name.count <= 100 else {
                throw APIError.invalid("name", "too_long", pt: "No máximo 100 caracteres.", en: "At most 100 characters.")
            }
            // An unknown role is refused, not read as `agent`: a key's permissions follow its role.
            guard let role = create.role.map(Role.init(rawValue:)) ?? .agent else {
                throw APIError.invalid("role", "invalid_value", pt: "Papel desconhecido.", en: "Unknown role.")
            }
            // A customer's key acts for its organization only (``APIKeyRecord/principal``); a
            // representative's would act for none (its organizations are asked per person).
            if role == .representative {
                throw APIError.invalid("role", "invalid_value", pt: "Chaves não podem ter o papel de representante.",
                                       en: "Keys cannot have the representative role.")
            }
            if role.isCustomer && (create.organization_id ?? "").isEmpty {
                throw APIError.invalid("organization_id", "required", pt: "Informe a organização.", en: "Organization is required.")
            }
            if let problem = StaffChange.accessLevelProblem(create.access_level) {
                throw APIError(status: 400, code: "INVALID_ARGUMENT", pt: "Dados inválidos.", en: "Invalid data.", details: [problem])
            }
            // The person behind the key: the signed-in maker, or the one behind the key it is made with.
            let maker = try APIKeyMakers.maker(context)
            // The key is in the answer: a retry gets it back from the sealed copy (no second key).
            return try context.once(request) { tx in
                let (key, record) = try context.gateway.store.createAPIKey(tx, name: create.name, role: role, organizationID: create.organization_id,
                                                                          accessLevel: create.access_level ?? 0,
                                                                          permissions: create.permissions ?? [], createdBy: maker)
                struct Created: Encodable { var key: String; var api_key: APIKeyRecord }
                return .encoded(Created(key: key, api_key: record), status: 201)
            }
        }
        router.add("DELETE", "/v1/api-keys/{id}") { request, context in
            try context.requireAdministrator()
            guard try context.gateway.store.revokeAPIKey(id: request.parameter("id")) else { throw APIError.notFound }
            return .noContent
        }
    }
}
