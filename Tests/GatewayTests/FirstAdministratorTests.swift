import Foundation
import Storage
import Testing
import TestSupport

/// A fresh deployment's first administrator, made as README.md says (`gateway create-admin
/// --email … --password-stdin`, no `--agent-id`), is a workflow agent once it signs in
/// (``AdministratorAgent``): before, it configured everything but took tickets as an agent
/// workflow did not know (a holder without a name, no e-mail to it), and `--agent-id` could only
/// name an agent nobody could have created yet.
@Suite("First administrator")
struct FirstAdministratorTests {
    @Test("every service started, create-admin without --agent-id, sign in: the administrator is workflow's agent of its own id, takes a customer's ticket and the ticket shows its name and e-mail, raises its access level as a chefe; signing in again makes no second agent",
          arguments: TestEngines.all)
    func readmeBootstrap(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let signedIn = try gateway.request("POST", "/v1/auth/tokens", json: ["email": GatewayHarness.adminEmail, "password": GatewayHarness.adminPassword])
        #expect(signedIn.status == 201, "\(signedIn.text)")
        let user = try #require(signedIn.json["user"] as? [String: Any], "\(signedIn.text)")
        let userID = try #require(user["id"] as? String)
        #expect(user["agent_id"] as? String == userID, "\(user)")
        let admin = try #require(signedIn.json["token"] as? String)
        let agent = try gateway.request("GET", "/v1/agents/\(userID)", bearer: admin)
        #expect(agent.status == 200, "\(agent.text)")
        #expect(agent.json["name"] as? String == "Ana Admin" && agent.json["email"] as? String == GatewayHarness.adminEmail, "\(agent.text)")
        #expect(agent.json["active"] as? Bool == true && agent.json["is_chefe"] as? Bool == true, "\(agent.text)")
        #expect(((try gateway.request("GET", "/v1/me", bearer: admin).json["principal"] as? [String: Any])?["id"] as? String) == userID)

        // The administrator works a customer's ticket (the seed signs in again: still one agent).
        let seeded = try TicketFlowTests.seed(gateway)
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Primeiro chamado", "request": "A nota fiscal não sai.", "category": "PROBLEMA", "priority": "NORMAL",
            "product": "ERP", "module": "Fiscal", "organization_id": seeded.organizationID], bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let ticket = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        #expect(try waitFor { try gateway.request("POST", "/v1/tickets/\(ticket)/take", json: [:], bearer: admin).status == 200 })
        let view = try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: admin)
        let holder = try #require(((view.json["workflow"] as? [String: Any])?["row"] as? [String: Any])?["holder"] as? [String: Any], "\(view.text)")
        #expect(holder["agent_id"] as? String == userID, "\(holder)")
        #expect(holder["agent_name"] as? String == "Ana Admin" && holder["agent_email"] as? String == GatewayHarness.adminEmail, "\(holder)")
        // Still a chefe with its agent record: it raises the ticket's access level (a chefe's change).
        let raised = try gateway.request("POST", "/v1/tickets/\(ticket)/access-level", json: ["access_level": 3, "reason": "diretoria"], bearer: admin)
        #expect(raised.status == 200, "\(raised.text)")
        let agents = try gateway.request("GET", "/v1/agents", bearer: admin).json["agents"] as? [[String: Any]] ?? []
        #expect(agents.filter { $0["email"] as? String == GatewayHarness.adminEmail }.count == 1, "\(agents)")
    }

    @Test("while workflow is down the administrator still signs in (no agent yet, a warning in the log); the first sign-in once workflow answers links it")
    func workflowDownAtFirstSignIn() throws {
        let workflowPort = try FreePort.next()
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["WORKFLOW_ADDRESSES": "127.0.0.1:\(workflowPort)"])
        let credentials = ["email": GatewayHarness.adminEmail, "password": GatewayHarness.adminPassword]
        let early = try gateway.request("POST", "/v1/auth/tokens", json: credentials)
        #expect(early.status == 201, "\(early.text)")
        let user = try #require(early.json["user"] as? [String: Any])
        #expect(user["agent_id"] == nil, "\(user)")
        // The warning is written by the gateway's process and read from its output: it may land just after the answer.
        #expect(try waitFor { gateway.process.log.contains("administrator's workflow agent not made") }, "\(gateway.process.log)")

        let workflow = try ServiceProcess(name: "workflow", environment: [
            "OCORRENCIAS_DATA_DIR": gateway.directory.path, "OCORRENCIAS_SECRET": gateway.secret], port: workflowPort)
        defer { workflow.stop() }
        #expect(try waitFor {
            (try gateway.request("POST", "/v1/auth/tokens", json: credentials).json["user"] as? [String: Any])?["agent_id"] as? String == user["id"] as? String
        })
    }
}
