import Foundation
import Messages
import RPCTransport
import Storage
import Testing
import TestSupport

/// A member of the team's sign-in follows their workflow agent, as a customer's follows their
/// intake contact: an inactive agent's sessions end and it cannot sign in (before, workflow
/// refused its ticket work while intake's customer directory and knowledge's internal articles
/// still answered it, for the rest of its session or token).
@Suite("Sign-ins follow workflow's agents", .serialized)
struct AgentSignInTests {
    @Test("Ana's agent deactivated by POST /v1/agents ends her sessions and her sign-in is 403 AGENT_INACTIVE (disabled_by agent); reactivated she signs in; deactivated on workflow's own port, her next sign-in is refused and ends her sessions, reactivated there she signs in again; an administrator cannot deactivate their own agent (422)", arguments: TestEngines.all)
    func followTheAgent(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let (admin, ana, password) = (seeded.admin, seeded.ana, seeded.password)
        func signIn() throws -> GatewayHarness.Response {
            try gateway.request("POST", "/v1/auth/tokens", json: ["email": "ana@suporte.example", "password": password])
        }
        func anaUser() throws -> [String: Any] {
            (try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? [])
                .first { $0["email"] as? String == "ana@suporte.example" } ?? [:]
        }
        #expect(try gateway.request("GET", "/v1/me", bearer: ana).status == 200)

        // Through the gateway: at once.
        setup.ok(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-ana", "active": false]], bearer: admin))
        #expect(try gateway.request("GET", "/v1/me", bearer: ana).status == 401)
        let refused = try signIn()
        #expect(refused.status == 403 && refused.errorCode == "AGENT_INACTIVE", "\(refused.text)")
        #expect(try anaUser()["status"] as? String == "disabled" && anaUser()["disabled_by"] as? String == "agent")
        setup.ok(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-ana", "active": true]], bearer: admin))
        let back = try gateway.token("ana@suporte.example", password)

        // On workflow's own port (an integration): her next sign-in finds out, and ends her sessions.
        let workflow = gateway.direct("workflow", as: GatewayHarness.administrator)
        defer { workflow.client.close() }
        func setActive(_ active: Bool) throws {
            var lookup = WorkflowV1.GetAgentRequest()
            lookup.agentID = "A-ana"
            var agent = try workflow.client.call(WorkflowV1.Workflow.getAgent, lookup, options: workflow.options)
            agent.active = active
            var put = WorkflowV1.PutAgentRequest()
            put.agent = agent
            _ = try workflow.client.call(WorkflowV1.Workflow.putAgent, put, options: workflow.options)
        }
        try setActive(false)
        #expect(try signIn().errorCode == "AGENT_INACTIVE")
        #expect(try gateway.request("GET", "/v1/me", bearer: back).status == 401)
        try setActive(true)
        #expect(try signIn().status == 201)

        // One's own agent stays active.
        let adminAgent = try #require((try gateway.request("GET", "/v1/me", bearer: admin).json["user"] as? [String: Any])?["agent_id"] as? String)
        let own = try gateway.request("POST", "/v1/agents", json: ["agent": ["id": adminAgent, "active": false]], bearer: admin)
        #expect(own.status == 422, "\(own.text)")
        #expect(try gateway.request("GET", "/v1/me", bearer: admin).status == 200)
    }
}

extension AgentSignInTests {
    @Test("an agent deactivated on workflow's own port loses an open session within GATEWAY_ACCESS_RECHECK_MS without signing in again: the request that learns it is 403 AGENT_INACTIVE, her sign-in is disabled (disabled_by agent) and the session ends (401); reactivated there, she signs in and her new session works", arguments: TestEngines.all)
    func sessionsFollowTheAgent(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine, gatewayEnvironment: ["GATEWAY_ACCESS_RECHECK_MS": "1500"])
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let (admin, ana, password) = (seeded.admin, seeded.ana, seeded.password)
        let workflow = gateway.direct("workflow", as: GatewayHarness.administrator)
        defer { workflow.client.close() }
        func setActive(_ active: Bool) throws {
            var lookup = WorkflowV1.GetAgentRequest()
            lookup.agentID = "A-ana"
            var agent = try workflow.client.call(WorkflowV1.Workflow.getAgent, lookup, options: workflow.options)
            agent.active = active
            var put = WorkflowV1.PutAgentRequest()
            put.agent = agent
            _ = try workflow.client.call(WorkflowV1.Workflow.putAgent, put, options: workflow.options)
        }
        // Intake's customer directory answers her (workflow alone would refuse her ticket work).
        setup.ok(try gateway.request("GET", "/v1/customers?q=Acme", bearer: ana))

        try setActive(false)
        let started = Date()
        var learnt: GatewayHarness.Response?
        #expect(try waitFor(10) {
            let answer = try gateway.request("GET", "/v1/customers?q=Acme", bearer: ana)
            if answer.status != 200 { learnt = answer }
            return answer.status != 200
        })
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 1.5 + 2, "within the re-check interval (\(elapsed) s)")
        #expect(learnt?.status == 403 && learnt?.errorCode == "AGENT_INACTIVE", "\(learnt?.text ?? "")")
        #expect(try gateway.request("GET", "/v1/me", bearer: ana).status == 401, "her sessions ended")
        let user = (try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? [])
            .first { $0["email"] as? String == "ana@suporte.example" } ?? [:]
        #expect(user["status"] as? String == "disabled" && user["disabled_by"] as? String == "agent", "\(user)")

        try setActive(true)
        let back = try gateway.token("ana@suporte.example", password)
        setup.ok(try gateway.request("GET", "/v1/tickets?stage=", bearer: back))
    }
}
