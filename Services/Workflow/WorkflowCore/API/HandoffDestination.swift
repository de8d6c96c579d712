import Messages
import RPC
import Storage

/// Who may receive a ticket by repasse (`TransferTicket`) or devolver (`SendBack`): one check for
/// both, so a ticket is never handed to someone who may not hold it.
enum HandoffDestination {
    /// Refuses (`FAILED_PRECONDITION`, the violation on `agentField` or `groupField`) a destination
    /// agent that is missing, inactive or whose maximum access level is below the ticket's — the
    /// holder of a ticket sees it whatever its level, so handing a confidential ticket to an agent
    /// below it would show it to them — and a destination group that is missing or inactive (a
    /// queue nobody works). With `member`, the agent must belong to the group named with them.
    /// Administrators and services (`actor`) may hand a ticket to an agent below its level: a
    /// deliberate decision to show it to them (the level check is the others').
    static func check(_ tx: any SQLExecutor, _ ticket: TicketRecord, _ destination: HolderRef, member: Bool = false, by actor: Actor,
                      agentField: String, groupField: String) throws {
        if !destination.agentID.isEmpty {
            let agent = try tx.queryOne("SELECT active, max_access_level FROM agents WHERE id = ?", [.text(destination.agentID)])
            switch agentRefusal(active: (agent?.i("active") ?? 0) != 0, maxAccessLevel: agent?.i("max_access_level") ?? 0,
                                for: ticket, by: actor) {
            case nil: break
            case .inactive?:
                throw RPCError(.failedPrecondition, "agente de destino inexistente ou inativo / destination agent missing or inactive",
                               violations: [FieldViolation(field: agentField, reason: "inactive", pt: "Escolha um agente ativo.",
                                                           en: "Choose an active agent.")])
            case .belowAccessLevel?:
                throw RPCError(.failedPrecondition, """
                    o agente de destino não tem nível de acesso para esta ocorrência (nível \(ticket.accessLevel)) / \
                    the destination agent's access level is below this ticket's (level \(ticket.accessLevel))
                    """, violations: [FieldViolation(field: agentField, reason: "below_access_level",
                                                     pt: "Escolha um agente de nível \(ticket.accessLevel) ou mais, ou um grupo.",
                                                     en: "Choose an agent of level \(ticket.accessLevel) or more, or a group.")])
            }
        }
        guard !destination.groupID.isEmpty else { return }
        let group = try tx.queryOne("SELECT active FROM staff_groups WHERE id = ?", [.text(destination.groupID)])
        guard acceptsGroup(active: (group?.i("active") ?? 0) != 0) else {
            throw RPCError(.failedPrecondition, "grupo de destino inexistente ou inativo / destination group missing or inactive",
                           violations: [FieldViolation(field: groupField, reason: "inactive", pt: "Escolha um grupo ativo.",
                                                       en: "Choose an active group.")])
        }
        if member && !destination.agentID.isEmpty,
           try tx.queryOne("SELECT 1 AS x FROM group_members WHERE group_id = ? AND agent_id = ?",
                           [.text(destination.groupID), .text(destination.agentID)]) == nil {
            throw RPCError(.failedPrecondition, "o agente de destino não é membro do grupo / the destination agent is not a member of the group",
                           violations: [FieldViolation(field: groupField, reason: "not_a_member",
                                                       pt: "Escolha um grupo do agente, ou só o agente.",
                                                       en: "Choose one of the agent's groups, or the agent alone.")])
        }
    }

    /// Why an agent may not receive a ticket, as ``check(_:_:_:member:by:actor:agentField:groupField:)`` refuses it.
    enum AgentRefusal: Equatable { case inactive, belowAccessLevel }

    /// The rule for a destination agent, in one place for the check and for the destinations
    /// offered (``StaffDirectory/transferDestinations(_:for:ticket:)``): the agent must be active
    /// (a missing one counts as inactive) and reach the ticket's level, unless `actor` (who hands
    /// the ticket on) is an administrator or a service.
    static func agentRefusal(active: Bool, maxAccessLevel: Int64, for ticket: TicketRecord, by actor: Actor) -> AgentRefusal? {
        guard active else { return .inactive }
        guard maxAccessLevel >= Int64(ticket.accessLevel) || actor.isAdministrator || actor.kind == .service else { return .belowAccessLevel }
        return nil
    }

    /// The rule for a destination group (a missing one counts as inactive): only an active group
    /// receives tickets — a queue nobody works would hold them.
    static func acceptsGroup(active: Bool) -> Bool { active }
}
