import Messages
import RPC
import Storage

extension TimeAPI {
    /// Checks that `caller` may see ticket `ticketID` in the time API's ticket routes (its SLA,
    /// its survey), from the ticket's metrics row (organization, level, holder; staff see a ticket without one):
    /// customers of its organization (a representative's person: an organization it represents);
    /// agents and integrations at or above its level, or holding it; administrators and services.
    /// - Throws: `NOT_FOUND` otherwise, as for a ticket that does not exist (nothing is told).
    func requireVisibleTicket(_ tx: any SQLExecutor, _ ticketID: String, _ caller: AuthV1.Principal) throws {
        let notFound = RPCError(.notFound, "ocorrência não encontrada / ticket not found")
        if caller.administrator || caller.kind == .service { return }
        guard let row = try tx.queryOne("SELECT organization_id, access_level, agent_id FROM wf_metric_tickets WHERE ticket_id = ?",
                                        [.text(ticketID)]) else {
            // Staff: a ticket without its metrics row (recorded at the opening) has no level to hold against them.
            if caller.kind == .customer { throw notFound }
            return
        }
        if caller.kind == .customer {
            let organization = try row.text("organization_id")
            let visible = caller.representativeID.isEmpty
                ? !caller.organizationID.isEmpty && caller.organizationID == organization
                : caller.representedOrganizationIDs.contains(organization)
            guard visible, !organization.isEmpty else { throw notFound }
            return
        }
        let level = try row.optionalInt("access_level") ?? 0
        guard level <= Int64(caller.accessLevel) || (row.optionalText("agent_id") ?? "") == caller.id else { throw notFound }
    }
}
