/// What an administrator may change on a member of the team's sign-in (`POST /v1/users/{id}`):
/// the name, the role among the staff roles and the access level; and, for a sign-in that has
/// none yet (an administrator made an agent), the id of its agent record in workflow.
struct StaffChange: Decodable {
    var display_name: String?
    var role: String?
    var access_level: Int?
    var agent_id: String?

    /// Staff roles a sign-in may move between; customers and representatives are tied to an
    /// intake person and keep their role.
    static let staffRoles: Set<Role> = [.agent, .chefe, .knowledgeEditor, .administrator]

    /// What is wrong with an access level given to a sign-in or an API key (the principal's
    /// `access_level` is an int32); nil when it is absent or fits.
    /// A sign-in's name: not blank, at most 200 characters (a new user's too: `POST /v1/users`
    /// stored a name of 200,000 characters).
    static func displayNameProblem(_ name: String?) -> APIError.Detail? {
        guard let name, name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 200 else { return nil }
        return .init(field: "display_name", reason: "invalid_value", pt: "Informe um nome de até 200 caracteres.",
                     en: "Give a name of up to 200 characters.")
    }

    static func accessLevelProblem(_ level: Int?) -> APIError.Detail? {
        guard let level, level < 0 || level > Int(Int32.max) else { return nil }
        return .init(field: "access_level", reason: "out_of_range", pt: "Nível entre 0 e 2147483647.", en: "Level between 0 and 2147483647.")
    }

    /// The role after the change, once every field is checked.
    /// - Throws: 422 for a customer's or representative's sign-in, or for taking away one's own
    ///   administrator role (nobody would be left to give it back); 400 naming each bad field.
    func validated(for user: User, own: Bool) throws -> Role {
        guard Self.staffRoles.contains(user.role) else {
            throw APIError(status: 422, code: "FAILED_PRECONDITION", pt: "Só os membros da equipe são alterados aqui.",
                           en: "Only members of the team are changed here.")
        }
        var details: [APIError.Detail] = []
        if let problem = Self.displayNameProblem(display_name) { details.append(problem) }
        let role = role.map { Role(rawValue: $0) } ?? user.role
        if role.map(Self.staffRoles.contains) != true {
            details.append(.init(field: "role", reason: "invalid_value", pt: "Papel da equipe desconhecido.", en: "Unknown staff role."))
        }
        if let problem = Self.accessLevelProblem(access_level) { details.append(problem) }
        if let agent = agent_id, agent.count > 64 {
            details.append(.init(field: "agent_id", reason: "too_long", pt: "Id de agente longo demais.", en: "Agent id too long."))
        }
        guard details.isEmpty, let role else {
            throw APIError(status: 400, code: "INVALID_ARGUMENT", pt: "Dados inválidos.", en: "Invalid data.", details: details)
        }
        if own && user.role == .administrator && role != .administrator {
            throw APIError(status: 422, code: "FAILED_PRECONDITION", pt: "Você não pode tirar o seu próprio papel de administrador.",
                           en: "You cannot take away your own administrator role.")
        }
        return role
    }
}
