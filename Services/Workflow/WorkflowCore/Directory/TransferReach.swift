import Messages
import Storage

/// Where an agent may transfer (repasse) tickets: the one rule both a transfer's check
/// (``StaffDirectory/mayTransfer(_:_:to:)``) and the listing of destinations
/// (``StaffDirectory/transferDestinations(_:for:ticket:)``) apply, so the portal never offers a
/// destination workflow would refuse.
///
/// Administrators and holders of `tickets.transfer_any` reach everyone. Others reach the
/// destinations listed for them (an agent, a group — and that group's members — or `"*"` for
/// any agent or group) and, besides, the groups they belong to and those groups' members.
struct TransferReach: Sendable {
    /// Administrators and `tickets.transfer_any`.
    var anywhere: Bool
    /// Listed agent ids (`"*"`: any agent).
    var listedAgents: Set<String>
    /// Listed group ids (`"*"`: any group, and any agent).
    var listedGroups: Set<String>
    /// The groups the agent belongs to.
    var ownGroups: Set<String>

    /// Loads `actor`'s reach.
    static func of(_ actor: Actor, _ tx: any SQLExecutor) throws -> TransferReach {
        if actor.has("tickets.transfer_any") {
            return TransferReach(anywhere: true, listedAgents: [], listedGroups: [], ownGroups: [])
        }
        var reach = TransferReach(anywhere: false, listedAgents: [], listedGroups: [], ownGroups: [])
        for row in try tx.query("SELECT dest_agent_id, dest_group_id FROM transfer_destinations WHERE agent_id = ?", [.text(actor.id)]) {
            let agent = row.s("dest_agent_id"), group = row.s("dest_group_id")
            if !agent.isEmpty { reach.listedAgents.insert(agent) }
            if !group.isEmpty { reach.listedGroups.insert(group) }
        }
        reach.ownGroups = Set(try tx.query("SELECT group_id FROM group_members WHERE agent_id = ?", [.text(actor.id)]).map { $0.s("group_id") })
        return reach
    }

    /// Whether the group `id` may receive a transfer.
    func allowsGroup(_ id: String) -> Bool {
        anywhere || listedGroups.contains("*") || listedGroups.contains(id) || ownGroups.contains(id)
    }

    /// Whether the agent `id`, member of `groups`, may receive a transfer.
    func allowsAgent(_ id: String, memberOf groups: Set<String>) -> Bool {
        anywhere || listedAgents.contains("*") || listedAgents.contains(id) || listedGroups.contains("*")
            || !listedGroups.isDisjoint(with: groups) || !ownGroups.isDisjoint(with: groups)
    }
}

extension StaffDirectory {
    /// Whether `actor` may transfer to `destination` (``TransferReach``).
    public static func mayTransfer(_ tx: any SQLExecutor, _ actor: Actor, to destination: HolderRef) throws -> Bool {
        let reach = try TransferReach.of(actor, tx)
        if destination.agentID.isEmpty { return reach.allowsGroup(destination.groupID) }
        let groups = Set(try tx.query("SELECT group_id FROM group_members WHERE agent_id = ?", [.text(destination.agentID)]).map { $0.s("group_id") })
        return reach.allowsAgent(destination.agentID, memberOf: groups)
    }

    /// The active agents (other than `actor`) and active groups `actor` may transfer to
    /// (``TransferReach``), by name. With `ticket`, only those that may receive it, by the rule
    /// a repasse or devolver checks (``HandoffDestination``: no agent below its access level
    /// unless `actor` is an administrator), so the portal offers no destination the call refuses.
    public static func transferDestinations(_ tx: any SQLExecutor, for actor: Actor,
                                     ticket: TicketRecord? = nil) throws -> WorkflowV1.ListTransferDestinationsResponse {
        let reach = try TransferReach.of(actor, tx)
        var response = WorkflowV1.ListTransferDestinationsResponse()
        response.anywhere = reach.anywhere
        response.groups = try listGroups(tx, includeInactive: false)
            .filter { reach.allowsGroup($0.id) && HandoffDestination.acceptsGroup(active: $0.active) }
        response.agents = try listAgents(tx, WorkflowV1.ListAgentsRequest()).filter { agent in
            guard agent.id != actor.id && reach.allowsAgent(agent.id, memberOf: Set(agent.groupIDs)) else { return false }
            guard let ticket else { return agent.active }
            return HandoffDestination.agentRefusal(active: agent.active, maxAccessLevel: Int64(agent.maxAccessLevel), for: ticket, by: actor) == nil
        }
        return response
    }
}
