import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit

/// A member of the team (agent, knowledge editor, chefe) signs in as a workflow agent, so that
/// agent's state in workflow decides whether the sign-in works, as a customer's intake contact
/// decides theirs (``ContactSignIns``). Workflow refuses an inactive agent's ticket work, but
/// before this its sign-in lived on: intake's customer directory (every company's contacts) and
/// knowledge's internal articles still answered it, for the rest of a session (8 hours) or a
/// token (30 days).
///
/// - `POST /v1/agents` that deactivates an agent disables, at once, the sign-ins linked to it
///   *because of the agent* (`disabled_by = 'agent'`) and ends their sessions on every instance;
///   one that reactivates it enables only those (``following(_:)``). Deactivating one's own agent
///   there is refused (422), as disabling one's own sign-in is.
/// - every password sign-in of such a member asks workflow (``admit(_:gateway:)``), which covers
///   a change made on workflow's own port (an integration): 403 `AGENT_INACTIVE`, and the answer
///   is applied to the stored sign-ins either way. Workflow unreachable: an active sign-in goes on
///   (as staff sign in without intake), one disabled because of its agent stays refused.
/// - every request of an open session asks too (``stillActive(_:gateway:)``), through
///   ``Gateway/agentStates``: an answer is reused for `GATEWAY_ACCESS_RECHECK_MS` (30 s), so an
///   agent deactivated on workflow's own port (which publishes no agent events) loses its
///   sessions within that time: the request that learns it is 403 `AGENT_INACTIVE`, its sign-ins
///   are disabled because of the agent and their sessions end (401 after).
///
/// Administrators are not followed: their sign-in is disabled and enabled by
/// `POST /v1/users/{id}/disable|enable`, which changes their agent record too
/// (``AdministratorAgent``), and an inactive record must not lock the last one out.
enum AgentSignIns {
    /// The roles whose sign-in follows its workflow agent.
    static let followed: Set<Role> = [.agent, .knowledgeEditor, .chefe]

    /// 403: the workflow agent the login signs in as is inactive.
    static let inactive = APIError(status: 403, code: "AGENT_INACTIVE",
                                   pt: "Seu cadastro de agente está inativo; fale com um administrador.",
                                   en: "Your agent record is inactive; ask an administrator.")

    /// A staff login whose password matched, as it may sign in now (see the type's notes).
    /// - Throws: ``inactive``; 401 (as a wrong password) for a user disabled by an
    ///   administrator, or not yet active.
    static func admit(_ user: User, gateway: Gateway) throws -> User {
        let invalid = AuthRoutes.invalidCredentials
        guard followed.contains(user.role), let agentID = user.agentID, !agentID.isEmpty else {
            guard user.status == "active" else { throw invalid }
            return user
        }
        guard user.status == "active" || (user.status == "disabled" && user.disabledBy == .agent) else { throw invalid }
        let active: Bool
        do {
            active = try isActive(agentID, gateway: gateway)
        } catch {
            gateway.runtime.logger.warning("sign-in: workflow did not say whether the agent is active: \(error)",
                                           ["user.id": user.id, "agent.id": agentID])
            guard user.status == "active" else { throw invalid }
            return user
        }
        gateway.agentStates.note(agentID, active: active)
        try gateway.store.followAgent(agentID, active: active)
        guard active else { throw inactive }
        guard let current = try gateway.store.user(id: user.id), current.status == "active" else { throw invalid }
        return current
    }

    /// An open session's member of the team, as it may go on: workflow's answer (cached, see
    /// the type's notes) for its agent. An inactive agent's sign-ins are disabled because of it
    /// and their sessions end. Workflow unreachable with nothing known: it goes on (as at sign-in).
    /// - Throws: ``inactive``.
    static func stillActive(_ user: User, gateway: Gateway) throws {
        // `clients` holds the services with addresses, resolved once at start: reading the
        // configuration's endpoints here parsed the environment on every request (≈ 10 µs).
        guard followed.contains(user.role), let agentID = user.agentID, !agentID.isEmpty,
              gateway.clients["workflow"] != nil else { return }
        let active: Bool
        do {
            active = try gateway.agentStates.isActive(agentID) { try isActive($0, gateway: gateway) }
        } catch {
            gateway.runtime.logger.warning("request: workflow did not say whether the agent is active: \(error)",
                                           ["user.id": user.id, "agent.id": agentID])
            return
        }
        guard !active else { return }
        let ended = try gateway.store.followAgent(agentID, active: false)
        if !ended.isEmpty {
            gateway.runtime.logger.info("sign-ins disabled: their workflow agent is inactive", ["agent.id": agentID, "users": ended.joined(separator: ",")])
        }
        throw inactive
    }

    /// Whether workflow's agent `agentID` is active (an agent workflow does not know is not
    /// inactive: workflow then acts on the signed principal alone).
    static func isActive(_ agentID: String, gateway: Gateway) throws -> Bool {
        var lookup = WorkflowV1.GetAgentRequest()
        lookup.agentID = agentID
        do {
            return try gateway.runtime.client(for: "workflow").call(WorkflowV1.Workflow.getAgent, lookup,
                                                                    options: AdministratorAgent.callOptions(gateway)).active
        } catch let error as RPCError where error.code == .notFound {
            return true
        }
    }

    /// `route` (`POST /v1/agents`), refusing to deactivate the caller's own agent, and followed
    /// by the sign-ins of the agent it changed.
    static func following(_ route: Route) -> Route {
        var route = route
        let putAgent = route.handler
        route.handler = { request, context in
            let asked = (try? request.jsonObject())?["agent"] as? [String: Any]
            if let own = context.user?.agentID, asked?["id"] as? String == own, asked?["active"] as? Bool == false {
                throw APIError(status: 422, code: "FAILED_PRECONDITION", pt: "Você não pode desativar o seu próprio agente.",
                               en: "You cannot deactivate your own agent.")
            }
            let response = try putAgent(request, context)
            guard (200..<300).contains(response.status),
                  let agent = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any],
                  let id = agent["id"] as? String else { return response }
            let active = agent["active"] as? Bool ?? false
            context.gateway.agentStates.note(id, active: active)
            try context.gateway.store.followAgent(id, active: active)
            return response
        }
        return route
    }
}

extension CredentialStore {
    /// Blocks or unblocks the sign-ins of the team linked to workflow's agent `agentID`
    /// (``AgentSignIns/followed`` roles) because of the agent (``follow(_:_:because:active:)``).
    @discardableResult
    public func followAgent(_ agentID: String, active: Bool) throws -> [String] {
        let roles = AgentSignIns.followed.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
        return try follow("agent_id = ? AND role IN (\(roles))", [.text(agentID)], because: .agent, active: active)
    }
}
