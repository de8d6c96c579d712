import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit

/// An administrator works tickets as a workflow agent: the first one, made by `gateway
/// create-admin` (which runs where workflow may not be up yet, and used to need `--agent-id`
/// naming an agent nobody could have created before there was an administrator), gets its agent
/// record at its first sign-in. Before, an operator following the README had an administrator
/// that configured everything but took tickets as an agent workflow did not know: a holder without
/// a name, to whom no e-mail went.
///
/// The record's id is the sign-in's own id (`U-…`), the id its principal carried already, so
/// tickets it took before are its agent's. Made as the gateway (a service principal), with the
/// sign-in's name, e-mail and access level, as a chefe; an existing record of that id is kept as it is. When
/// workflow does not answer the sign-in goes on without it and the next one tries again.
enum AdministratorAgent {
    /// `user` as it signs in: linked to its agent record when it is an administrator without one
    /// (the record made in workflow first, when missing); `user` unchanged otherwise, or when
    /// workflow or the database failed (logged).
    static func linked(_ user: User, gateway: Gateway) -> User {
        guard user.role == .administrator, user.agentID == nil else { return user }
        let agentID = user.id
        let options = callOptions(gateway)
        let workflow = gateway.runtime.client(for: "workflow")
        do {
            var lookup = WorkflowV1.GetAgentRequest()
            lookup.agentID = agentID
            do {
                _ = try workflow.call(WorkflowV1.Workflow.getAgent, lookup, options: options)
            } catch let error as RPCError where error.code == .notFound {
                var agent = WorkflowV1.Agent()
                agent.id = agentID
                agent.name = user.displayName
                agent.email = user.email
                agent.maxAccessLevel = Int32(clamping: user.accessLevel)
                agent.active = true
                // An administrator is a chefe (as the gateway signs it): workflow's record must say
                // so, since the directory is authoritative for the flag of the agents it knows.
                agent.isChefe = true
                var put = WorkflowV1.PutAgentRequest()
                put.agent = agent
                _ = try workflow.call(WorkflowV1.Workflow.putAgent, put, options: options)
            }
            try gateway.store.linkAgent(userID: user.id, agentID: agentID)
            gateway.runtime.logger.notice("administrator linked to its workflow agent", ["user.id": user.id, "agent.id": agentID])
            var linked = user
            linked.agentID = agentID
            return linked
        } catch {
            gateway.runtime.logger.warning("administrator's workflow agent not made; tried again at its next sign-in: \(error)",
                                           ["user.id": user.id])
            return user
        }
    }

    /// Workflow calls made as the gateway (a service principal), 3 s each.
    static func callOptions(_ gateway: Gateway) -> CallOptions {
        CallOptions(timeoutMilliseconds: 3_000, metadata: gateway.signer.metadata(for: PrincipalSigner.service("gateway")))
    }
}
