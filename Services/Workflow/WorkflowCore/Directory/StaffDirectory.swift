import Foundation
import Messages
import RPC
import Storage

/// The staff directory: agents, groups, membership, who supervises whom, roles and the
/// destinations each agent may transfer tickets to.
public enum StaffDirectory {
    /// Longest id (an agent's, a group's), name and e-mail address the directory keeps.
    public static let maxIDLength = 100
    public static let maxNameLength = 200
    public static let maxEmailLength = 320

    // MARK: Agents

    public static func putAgent(_ tx: any SQLExecutor, _ agent: WorkflowV1.Agent, at: Int64) throws -> WorkflowV1.Agent {
        var violations: [FieldViolation] = []
        if agent.id.isEmpty { violations.append(FieldViolation(field: "agent.id", reason: "required", pt: "Informe o id.", en: "Give the id.")) }
        if agent.name.trimmingCharacters(in: .whitespaces).isEmpty {
            violations.append(FieldViolation(field: "agent.name", reason: "required", pt: "Informe o nome.", en: "Give the name."))
        }
        // Limits: a name of 200,000 characters was stored and sent with every ticket that named its holder.
        violations += [FieldViolation.length(of: agent.id, "agent.id", limit: maxIDLength),
                       FieldViolation.length(of: agent.name, "agent.name", limit: maxNameLength),
                       FieldViolation.length(of: agent.email, "agent.email", limit: maxEmailLength),
                       FieldViolation.length(of: agent.role, "agent.role", limit: maxIDLength)].compactMap { $0 }
        if agent.maxAccessLevel < 0 {
            violations.append(FieldViolation(field: "agent.max_access_level", reason: "negative", pt: "Nível negativo.", en: "Negative level."))
        }
        if agent.chefeAgentID == agent.id && !agent.id.isEmpty {
            violations.append(FieldViolation(field: "agent.chefe_agent_id", reason: "self", pt: "Um agente não supervisiona a si mesmo.",
                                             en: "An agent cannot supervise themself."))
        }
        guard violations.isEmpty else { throw RPCError(.invalidArgument, "agente inválido / invalid agent", violations: violations) }
        if !agent.chefeAgentID.isEmpty, try tx.queryOne("SELECT 1 AS x FROM agents WHERE id = ?", [.text(agent.chefeAgentID)]) == nil {
            throw RPCError(.failedPrecondition, "chefe não cadastrado / chefe not in the directory")
        }
        let values: [SQLValue] = [.text(agent.name), .text(agent.email), .integer(Int64(agent.maxAccessLevel)), SQLValue(agent.active),
                                  agent.chefeAgentID.isEmpty ? .null : .text(agent.chefeAgentID), SQLValue(agent.isChefe), .text(agent.role)]
        let updated = try tx.execute("""
            UPDATE agents SET name = ?, email = ?, max_access_level = ?, active = ?, chefe_agent_id = ?, is_chefe = ?, role = ?, updated_at = ?
            WHERE id = ?
            """, values + [.integer(at), .text(agent.id)])
        if updated == 0 {
            try tx.execute("""
                INSERT INTO agents (name, email, max_access_level, active, chefe_agent_id, is_chefe, role, created_at, updated_at, id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, values + [.integer(at), .integer(at), .text(agent.id)])
        }
        return try Self.agent(tx, agent.id)
    }

    public static func agent(_ tx: any SQLExecutor, _ id: String) throws -> WorkflowV1.Agent {
        guard let row = try tx.queryOne("SELECT * FROM agents WHERE id = ?", [.text(id)]) else {
            throw RPCError(.notFound, "agente não encontrado / agent not found")
        }
        return try agent(tx, row)
    }

    static func agent(_ tx: any SQLExecutor, _ row: Row) throws -> WorkflowV1.Agent {
        var agent = WorkflowV1.Agent()
        agent.id = row.s("id")
        agent.name = row.s("name")
        agent.email = row.s("email")
        agent.maxAccessLevel = Int32(row.i("max_access_level"))
        agent.active = row.i("active") != 0
        agent.chefeAgentID = row.s("chefe_agent_id")
        agent.isChefe = row.i("is_chefe") != 0
        agent.role = row.s("role")
        agent.groupIDs = try tx.query("SELECT group_id FROM group_members WHERE agent_id = ? ORDER BY group_id", [.text(agent.id)]).map { $0.s("group_id") }
        agent.permissions = try tx.query("SELECT permission FROM role_permissions WHERE role = ? ORDER BY permission", [.text(agent.role)]).map { $0.s("permission") }
        agent.transferDestinations = try tx.query("SELECT dest_agent_id, dest_group_id FROM transfer_destinations WHERE agent_id = ? ORDER BY dest_agent_id, dest_group_id",
                                                  [.text(agent.id)]).map {
            var destination = WorkflowV1.Destination()
            destination.agentID = $0.s("dest_agent_id")
            destination.groupID = $0.s("dest_group_id")
            return destination
        }
        return agent
    }

    public static func listAgents(_ tx: any SQLExecutor, _ request: WorkflowV1.ListAgentsRequest) throws -> [WorkflowV1.Agent] {
        var sql = "SELECT a.* FROM agents a WHERE 1 = 1"
        var params: [SQLValue] = []
        if !request.includeInactive { sql += " AND a.active = 1" }
        if !request.groupID.isEmpty {
            sql += " AND a.id IN (SELECT agent_id FROM group_members WHERE group_id = ?)"
            params.append(.text(request.groupID))
        }
        if !request.chefeAgentID.isEmpty {
            sql += " AND a.chefe_agent_id = ?"
            params.append(.text(request.chefeAgentID))
        }
        return try tx.query(sql + " ORDER BY a.name, a.id", params).map { try agent(tx, $0) }
    }

    // MARK: Groups

    public static func putGroup(_ tx: any SQLExecutor, _ group: WorkflowV1.Group, at: Int64) throws -> WorkflowV1.Group {
        guard !group.id.isEmpty, !group.name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RPCError(.invalidArgument, "grupo inválido / invalid group", violations: [
                FieldViolation(field: "group", reason: "required", pt: "Informe id e nome.", en: "Give the id and the name.")])
        }
        let long = [FieldViolation.length(of: group.id, "group.id", limit: maxIDLength),
                    FieldViolation.length(of: group.name, "group.name", limit: maxNameLength)].compactMap { $0 }
        guard long.isEmpty else { throw RPCError(.invalidArgument, "grupo inválido / invalid group", violations: long) }
        if !group.active {
            // New tickets would be routed to a group nobody works: the rules change first.
            let positions = try tx.query("SELECT position FROM routing_rules WHERE group_id = ? ORDER BY position", [.text(group.id)])
                .map { String($0.i("position")) }
            if !positions.isEmpty {
                let list = positions.joined(separator: ", ")
                throw RPCError(.failedPrecondition, "as regras de roteamento \(list) mandam ocorrências para este grupo; mude-as antes de desativá-lo / routing rules \(list) send tickets to this group; change them before deactivating it",
                               violations: [FieldViolation(field: "group.active", reason: "routed_to",
                                                           pt: "Regras de roteamento na ordem \(list) usam este grupo.",
                                                           en: "Routing rules at position \(list) use this group.")])
            }
        }
        let updated = try tx.execute("UPDATE staff_groups SET name = ?, active = ?, updated_at = ? WHERE id = ?",
                                     [.text(group.name), SQLValue(group.active), .integer(at), .text(group.id)])
        if updated == 0 {
            try tx.execute("INSERT INTO staff_groups (id, name, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                           [.text(group.id), .text(group.name), SQLValue(group.active), .integer(at), .integer(at)])
        }
        return try self.group(tx, group.id)
    }

    public static func group(_ tx: any SQLExecutor, _ id: String) throws -> WorkflowV1.Group {
        guard let row = try tx.queryOne("SELECT * FROM staff_groups WHERE id = ?", [.text(id)]) else {
            throw RPCError(.notFound, "grupo não encontrado / group not found")
        }
        var group = WorkflowV1.Group()
        group.id = row.s("id")
        group.name = row.s("name")
        group.active = row.i("active") != 0
        group.agentIDs = try tx.query("SELECT agent_id FROM group_members WHERE group_id = ? ORDER BY agent_id", [.text(id)]).map { $0.s("agent_id") }
        return group
    }

    public static func listGroups(_ tx: any SQLExecutor, includeInactive: Bool) throws -> [WorkflowV1.Group] {
        try tx.query("SELECT id FROM staff_groups" + (includeInactive ? "" : " WHERE active = 1") + " ORDER BY name, id").map { try group(tx, $0.s("id")) }
    }

    public static func setMembership(_ tx: any SQLExecutor, groupID: String, agentID: String, member: Bool, at: Int64) throws -> WorkflowV1.Group {
        _ = try group(tx, groupID)
        _ = try agent(tx, agentID)
        try tx.execute("DELETE FROM group_members WHERE group_id = ? AND agent_id = ?", [.text(groupID), .text(agentID)])
        if member {
            try tx.execute("INSERT INTO group_members (group_id, agent_id, added_at) VALUES (?, ?, ?)", [.text(groupID), .text(agentID), .integer(at)])
        }
        return try group(tx, groupID)
    }

    // MARK: Roles and destinations

    /// Stores `role` with exactly its permissions (see ``checkRole(_:_:)``: refused whole otherwise).
    public static func putRole(_ tx: any SQLExecutor, _ role: WorkflowV1.Role, at: Int64) throws -> WorkflowV1.Role {
        try checkRole(tx, role)
        try tx.execute("DELETE FROM role_permissions WHERE role = ?", [.text(role.name)])
        if try tx.queryOne("SELECT 1 AS x FROM roles WHERE name = ?", [.text(role.name)]) == nil {
            try tx.execute("INSERT INTO roles (name, created_at) VALUES (?, ?)", [.text(role.name), .integer(at)])
        }
        for permission in Set(role.permissions) {
            try tx.execute("INSERT INTO role_permissions (role, permission) VALUES (?, ?)", [.text(role.name), .text(permission)])
        }
        var stored = WorkflowV1.Role()
        stored.name = role.name
        stored.permissions = Set(role.permissions).sorted()
        return stored
    }

    public static func listRoles(_ tx: any SQLExecutor) throws -> [WorkflowV1.Role] {
        try tx.query("SELECT name FROM roles ORDER BY name").map { row in
            var role = WorkflowV1.Role()
            role.name = row.s("name")
            role.permissions = try tx.query("SELECT permission FROM role_permissions WHERE role = ? ORDER BY permission", [.text(role.name)]).map { $0.s("permission") }
            return role
        }
    }

    public static func setDestinations(_ tx: any SQLExecutor, agentID: String, _ destinations: [WorkflowV1.Destination]) throws -> WorkflowV1.Agent {
        _ = try agent(tx, agentID)
        try checkDestinations(tx, destinations)
        try tx.execute("DELETE FROM transfer_destinations WHERE agent_id = ?", [.text(agentID)])
        var seen = Set<String>()
        for destination in destinations where seen.insert(destination.agentID + "|" + destination.groupID).inserted {
            guard !(destination.agentID.isEmpty && destination.groupID.isEmpty) else { continue }
            try tx.execute("INSERT INTO transfer_destinations (agent_id, dest_agent_id, dest_group_id) VALUES (?, ?, ?)",
                           [.text(agentID), .text(destination.agentID), .text(destination.groupID)])
        }
        return try agent(tx, agentID)
    }
}
