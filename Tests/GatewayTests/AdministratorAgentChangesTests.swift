import Foundation
import Storage
import Testing
import TestSupport

/// The workflow agent record the gateway made for an administrator at its first sign-in
/// (``AdministratorAgent``) follows the sign-in's later changes in the gateway: its access level
/// (`POST /v1/users/{id}`) and its deactivation (`/disable`, `/enable`). Before, workflow kept the
/// first level (and holds an agent to the lower of its sign-in's and its record's) and a disabled
/// administrator stayed an active agent. When workflow does not answer the change is refused
/// (503 `AGENT_NOT_UPDATED`) and nothing changes in the gateway. Real services, both engines.
@Suite("Administrator's agent record follows the gateway")
struct AdministratorAgentChangesTests {
    static let secondEmail = "bia.admin@example.com"
    static let secondPassword = "Segund0-Adm1n!x"

    func agent(_ gateway: GatewayHarness, _ id: String, bearer: String) throws -> [String: Any] {
        let answer = try gateway.request("GET", "/v1/agents/\(id)", bearer: bearer)
        #expect(answer.status == 200, "\(answer.text)")
        return answer.json
    }

    func user(_ gateway: GatewayHarness, _ id: String, bearer: String) throws -> [String: Any]? {
        let users = try gateway.request("GET", "/v1/users", bearer: bearer).json["users"] as? [[String: Any]] ?? []
        return users.first { $0["id"] as? String == id }
    }

    /// A second administrator (level 2), created and signed in once (its agent record made); its id.
    func secondAdministrator(_ gateway: GatewayHarness, admin: String) throws -> String {
        let created = try gateway.request("POST", "/v1/users", json: [
            "email": Self.secondEmail, "display_name": "Bia Admin", "role": "administrator", "password": Self.secondPassword,
            "access_level": 2], bearer: admin)
        #expect(created.status == 201, "\(created.text)")
        let id = try #require((created.json["user"] as? [String: Any])?["id"] as? String)
        _ = try gateway.token(Self.secondEmail, Self.secondPassword)
        #expect(try agent(gateway, id, bearer: admin)["max_access_level"] as? Int == 2, "made at its first sign-in")
        return id
    }

    @Test("a level change reaches the administrator's agent record; disabling and enabling it deactivate and reactivate the agent",
          arguments: TestEngines.all)
    func levelAndActivityFollow(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let admin = try gateway.adminToken()
        let adminID = try #require((try gateway.request("GET", "/v1/me", bearer: admin).json["principal"] as? [String: Any])?["id"] as? String)
        #expect(try agent(gateway, adminID, bearer: admin)["id"] as? String == adminID, "linked at the first sign-in")

        // Its own level raised: workflow's record takes it (before, it kept the first one).
        let raised = try gateway.request("POST", "/v1/users/\(adminID)", json: ["access_level": 4], bearer: admin)
        #expect(raised.status == 200, "\(raised.text)")
        #expect(try agent(gateway, adminID, bearer: admin)["max_access_level"] as? Int == 4)
        // A change without a level keeps the record's level (its name follows: see nameAndRoleFollow).
        let renamed = try gateway.request("POST", "/v1/users/\(adminID)", json: ["display_name": "Ana Administradora"], bearer: admin)
        #expect(renamed.status == 200, "\(renamed.text)")
        let record = try agent(gateway, adminID, bearer: admin)
        #expect(record["max_access_level"] as? Int == 4 && record["is_chefe"] as? Bool == true && record["active"] as? Bool == true, "\(record)")

        // A second administrator signs in (its record made), is disabled, then enabled again.
        let secondID = try secondAdministrator(gateway, admin: admin)
        #expect(try gateway.request("POST", "/v1/users/\(secondID)/disable", bearer: admin).status == 204)
        #expect(try agent(gateway, secondID, bearer: admin)["active"] as? Bool == false, "a disabled administrator is no active agent")
        #expect(try gateway.request("POST", "/v1/users/\(secondID)/enable", bearer: admin).status == 204)
        #expect(try agent(gateway, secondID, bearer: admin)["active"] as? Bool == true)
        #expect(try user(gateway, secondID, bearer: admin)?["status"] as? String == "active")
    }

    @Test("a name or role change reaches the administrator's agent record: its name, and its chefe flag when demoted or promoted",
          arguments: TestEngines.all)
    func nameAndRoleFollow(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let admin = try gateway.adminToken()
        let secondID = try secondAdministrator(gateway, admin: admin)
        #expect(try agent(gateway, secondID, bearer: admin)["name"] as? String == "Bia Admin")

        // Renamed: workflow's record (whose name the history, the holder and e-mails use) says the new one.
        // Before, it kept "Bia Admin" for good.
        let renamed = try gateway.request("POST", "/v1/users/\(secondID)", json: ["display_name": "Beatriz Lima"], bearer: admin)
        #expect(renamed.status == 200, "\(renamed.text)")
        var record = try agent(gateway, secondID, bearer: admin)
        #expect(record["name"] as? String == "Beatriz Lima" && record["max_access_level"] as? Int == 2, "\(record)")

        // Demoted to agent: no longer a chefe in workflow, whose directory is authoritative for the
        // flag (before, the former administrator kept a chefe's rights there).
        let demoted = try gateway.request("POST", "/v1/users/\(secondID)", json: ["role": "agent"], bearer: admin)
        #expect(demoted.status == 200, "\(demoted.text)")
        record = try agent(gateway, secondID, bearer: admin)
        #expect(record["is_chefe"] as? Bool != true && record["name"] as? String == "Beatriz Lima" && record["active"] as? Bool == true,
                "\(record)")
        // Made a chefe: a chefe again; the e-mail stays as workflow has it.
        #expect(try gateway.request("POST", "/v1/users/\(secondID)", json: ["role": "chefe"], bearer: admin).status == 200)
        record = try agent(gateway, secondID, bearer: admin)
        #expect(record["is_chefe"] as? Bool == true && record["email"] as? String == Self.secondEmail, "\(record)")

        // Workflow down: a rename is refused like a level change, and the gateway keeps the old name.
        let workflow = try #require(deployment.services.first { $0.name == "workflow" })
        _ = workflow.stop()
        let refused = try gateway.request("POST", "/v1/users/\(secondID)", json: ["display_name": "Outra"], bearer: admin)
        #expect(refused.status == 503 && (refused.json["error"] as? [String: Any])?["code"] as? String == "AGENT_NOT_UPDATED", "\(refused.text)")
        #expect(try user(gateway, secondID, bearer: admin)?["display_name"] as? String == "Beatriz Lima")
    }

    @Test("workflow down: the level change and the disable are refused with 503 AGENT_NOT_UPDATED and nothing changes in the gateway",
          arguments: TestEngines.all)
    func refusedWhileWorkflowIsDown(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let admin = try gateway.adminToken()
        let secondID = try secondAdministrator(gateway, admin: admin)

        let workflow = try #require(deployment.services.first { $0.name == "workflow" })
        _ = workflow.stop()
        let refused = try gateway.request("POST", "/v1/users/\(secondID)", json: ["access_level": 5], bearer: admin)
        #expect(refused.status == 503 && (refused.json["error"] as? [String: Any])?["code"] as? String == "AGENT_NOT_UPDATED", "\(refused.text)")
        #expect(((refused.json["error"] as? [String: Any])?["message"] as? String ?? "").contains("nada foi alterado"), "\(refused.text)")
        #expect(try user(gateway, secondID, bearer: admin)?["access_level"] as? Int == 2, "the gateway keeps the old level")
        let disable = try gateway.request("POST", "/v1/users/\(secondID)/disable", bearer: admin)
        #expect(disable.status == 503 && (disable.json["error"] as? [String: Any])?["code"] as? String == "AGENT_NOT_UPDATED", "\(disable.text)")
        #expect(try user(gateway, secondID, bearer: admin)?["status"] as? String == "active", "still active in the gateway")
        // A staff user without a gateway-made record needs no workflow: its change goes through.
        let agentUser = try gateway.request("POST", "/v1/users", json: [
            "email": "caio@example.com", "display_name": "Caio", "role": "agent", "password": Self.secondPassword,
            "agent_id": "caio", "access_level": 1], bearer: admin)
        let agentID = try #require((agentUser.json["user"] as? [String: Any])?["id"] as? String, "\(agentUser.text)")
        #expect(try gateway.request("POST", "/v1/users/\(agentID)", json: ["access_level": 3], bearer: admin).status == 200)
    }
}
