import Foundation
import Messages
import RPC
import Storage

/// What a role of the directory may be: its name and the permissions it may hold, and deleting a
/// role nobody holds.
extension StaffDirectory {
    /// Workflow's own named permissions, each checked somewhere in workflow:
    /// - `directory.manage`: agents, groups, membership, roles and transfer destinations
    ///   (``StaffDirectory``, `DirectoryAPI`).
    /// - `routing.manage`: routing rules, category access levels, advance-step sequences.
    /// - `product.decide`: accept or deny in Análise produto, versions and the development backlog.
    /// - `tickets.transfer_any`: transfer (repasse) to any agent or group (``mayTransfer(_:_:to:)``).
    /// - `tickets.act_any`: act on tickets of any group while nobody holds them, and on tickets
    ///   held by others (`TicketLifecycle.requireCanAct`).
    /// - `tickets.link_customer`: change a held ticket's contact or representative
    ///   (``Actor/mayLinkCustomers(_:)``).
    public static let namedPermissions = ["directory.manage", "routing.manage", "product.decide",
                                          "tickets.transfer_any", "tickets.act_any", "tickets.link_customer"]

    /// Role names no role may take: administrators hold every permission, and the gateway (not a
    /// role of workflow's directory) makes someone an administrator.
    static let reservedRoleNames: Set<String> = ["administrator", "administrador"]

    /// The longest role name.
    static let maxRoleNameLength = 64

    /// Every permission a role may hold: ``namedPermissions``, then those the stored flows' moves
    /// require (a vendor's flow may guard a move with a permission of its own), sorted.
    public static func knownPermissions(_ tx: any SQLExecutor) throws -> [String] {
        let flows = try tx.query("SELECT DISTINCT permission FROM flow_transitions WHERE permission <> ''", [])
            .map { $0.s("permission") }.filter { !namedPermissions.contains($0) }.sorted()
        return namedPermissions + flows
    }

    /// - Throws: `INVALID_ARGUMENT` naming `role.name` (missing, too long, spaces around it,
    ///   control characters, or a reserved name) and `role.permissions` (each unknown permission).
    static func checkRole(_ tx: any SQLExecutor, _ role: WorkflowV1.Role) throws {
        var violations: [FieldViolation] = []
        let name = role.name
        if name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            violations.append(FieldViolation(field: "role.name", reason: "required", pt: "Informe o nome.", en: "Give the name."))
        } else if let long = FieldViolation.length(of: name, "role.name", limit: maxRoleNameLength) {
            violations.append(long)
        } else if name != name.trimmingCharacters(in: .whitespacesAndNewlines) || name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) {
            violations.append(FieldViolation(field: "role.name", reason: "invalid_format", pt: "Sem espaços nas pontas nem caracteres de controle.",
                                             en: "No spaces around it and no control characters."))
        } else if reservedRoleNames.contains(name.lowercased()) {
            violations.append(FieldViolation(field: "role.name", reason: "reserved",
                                             pt: "Administradores já têm todas as permissões; quem é administrador se define na equipe do portal, não por um papel.",
                                             en: "Administrators already hold every permission; who is one is set on the portal's team page, not by a role."))
        }
        let accepted = Set(try knownPermissions(tx) + Actor.linkCustomersPermissions)
        let unknown = Set(role.permissions).subtracting(accepted).sorted()
        for permission in unknown {
            violations.append(FieldViolation(field: "role.permissions", reason: "unknown",
                                             pt: "Permissão desconhecida: \(permission).", en: "Unknown permission: \(permission)."))
        }
        guard violations.isEmpty else { throw RPCError(.invalidArgument, "papel inválido / invalid role", violations: violations) }
    }

    /// Deletes the role `name` and its permissions.
    /// - Throws: `NOT_FOUND` for a role not stored; `FAILED_PRECONDITION` naming the agents
    ///   (active or not) who hold it, field `role.name`, reason `in_use`.
    public static func deleteRole(_ tx: any SQLExecutor, name: String) throws {
        guard try tx.queryOne("SELECT 1 AS x FROM roles WHERE name = ?", [.text(name)]) != nil else {
            throw RPCError(.notFound, "papel não encontrado / role not found")
        }
        let holders = try tx.query("SELECT name, id FROM agents WHERE role = ? ORDER BY name, id", [.text(name)])
            .map { $0.s("name").isEmpty ? $0.s("id") : $0.s("name") }
        if !holders.isEmpty {
            let list = holders.joined(separator: ", ")
            throw RPCError(.failedPrecondition, "o papel está em uso por \(list) / the role is held by \(list)", violations: [
                FieldViolation(field: "role.name", reason: "in_use", pt: "Em uso por \(list); mude o papel dessas pessoas antes.",
                               en: "Held by \(list); change their role first.")])
        }
        try tx.execute("DELETE FROM role_permissions WHERE role = ?", [.text(name)])
        try tx.execute("DELETE FROM roles WHERE name = ?", [.text(name)])
    }
}
