import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit

/// The agent record the gateway made for an administrator (``AdministratorAgent``, id = the
/// sign-in's own) follows the sign-in's later changes: its access level, display name and role
/// (`POST /v1/users/{id}`) and whether it is active (`POST /v1/users/{id}/disable`, `/enable`).
/// Before, workflow kept the level of the first sign-in and held the agent to the lower of the
/// two, so a raised level did nothing in workflow, and a disabled administrator stayed an active
/// agent there (routed to, offered as a transfer destination); until 2026-12 it also kept the
/// first name (history lines, holder names and e-mails said the old one, since workflow takes an
/// agent's name from its record) and the chefe flag of an administrator demoted to agent (the
/// directory being authoritative for it, the former administrator kept a chefe's rights there).
///
/// Workflow is changed first (`GetAgent`, then `PutAgent` with only those fields changed: its
/// e-mail, groups, workflow role and chefe link stay as workflow has them; the chefe flag
/// follows the gateway role — chefes and administrators are chefes), then the gateway's own change is
/// committed. When workflow does not answer, the route refuses with 503
/// `AGENT_NOT_UPDATED` and changes nothing in the gateway: the caller tries again. (A gateway
/// write failing after workflow's leaves workflow ahead; the retry writes the same values.) A
/// record workflow no longer has is not made again here; an agent record linked by hand
/// (`agent_id` naming another id) is workflow's to manage (`POST /v1/agents`), as before.
extension AdministratorAgent {
    /// Whether `user`'s agent record is the one the gateway made for it.
    static func owns(_ user: User) -> Bool {
        user.agentID != nil && user.agentID == user.id
    }

    /// Brings `user`'s gateway-made agent record to `accessLevel`, `displayName`, `role` (its chefe
    /// flag) and `active` (each `nil`: unchanged), before the gateway commits the same change.
    /// Nothing for other users, nor when the record already says so.
    /// - Throws: 503 `AGENT_NOT_UPDATED` when workflow does not answer or refuses.
    static func follow(_ user: User, accessLevel: Int? = nil, displayName: String? = nil, role: Role? = nil, active: Bool? = nil,
                       gateway: Gateway) throws {
        guard owns(user), let agentID = user.agentID else { return }
        let options = callOptions(gateway)
        let workflow = gateway.runtime.client(for: "workflow")
        do {
            var lookup = WorkflowV1.GetAgentRequest()
            lookup.agentID = agentID
            var agent: WorkflowV1.Agent
            do {
                agent = try workflow.call(WorkflowV1.Workflow.getAgent, lookup, options: options)
            } catch let error as RPCError where error.code == .notFound {
                gateway.runtime.logger.warning("administrator's workflow agent missing; not made again", ["user.id": user.id, "agent.id": agentID])
                return
            }
            var changed = agent
            changed.maxAccessLevel = accessLevel.map { Int32(clamping: $0) } ?? agent.maxAccessLevel
            changed.active = active ?? agent.active
            changed.name = displayName ?? agent.name
            changed.isChefe = role.map { $0 == .chefe || $0 == .administrator } ?? agent.isChefe
            guard changed != agent else { return }
            var put = WorkflowV1.PutAgentRequest()
            put.agent = changed
            _ = try workflow.call(WorkflowV1.Workflow.putAgent, put, options: options)
            gateway.runtime.logger.notice("administrator's workflow agent updated",
                                          ["user.id": user.id, "agent.id": agentID, "access_level": String(changed.maxAccessLevel),
                                           "active": String(changed.active), "chefe": String(changed.isChefe)])
        } catch {
            gateway.runtime.logger.warning("administrator's workflow agent not updated; change refused: \(error)", ["user.id": user.id])
            throw notUpdated
        }
    }

    /// 503: the change needs workflow's agent record changed too, and workflow did not answer.
    static let notUpdated = APIError(
        status: 503, code: "AGENT_NOT_UPDATED",
        pt: "Não foi possível atualizar o registro de atendente desta pessoa no workflow; nada foi alterado. Tente novamente em instantes.",
        en: "This person's agent record in workflow could not be updated; nothing was changed. Try again shortly.",
        headers: [("Retry-After", "1")])
}
