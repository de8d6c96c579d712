import Foundation
import Testing
import TestSupport

@Suite("Gateway: an administrator changes a member of the team's name, role and access level")
struct StaffChangeTests {
    @Test("the change is stored and the member's next request acts with it; bad fields are named and change nothing; one's own administrator role stays; agents may not change anyone")
    func changesAMemberOfTheTeam() throws {
        let gateway = try GatewayHarness(engine: .sqlite)
        let admin = try gateway.adminToken()
        let carlos = try gateway.createUser(admin: admin, email: "carlos@suporte.example", role: "agent", agent: "A-carlos", accessLevel: 1)
        let users = try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? []
        let carlosID = try #require(users.first { $0["email"] as? String == "carlos@suporte.example" }?["id"] as? String)
        let myID = try #require((try gateway.request("GET", "/v1/me", bearer: admin).json["user"] as? [String: Any])?["id"] as? String)
        func principal(_ token: String) throws -> [String: Any] {
            try #require(try gateway.request("GET", "/v1/me", bearer: token).json["principal"] as? [String: Any])
        }
        #expect(try principal(carlos)["access_level"] as? Int == 1)

        // Each bad field named; the stored sign-in unchanged.
        let bad = try gateway.request("POST", "/v1/users/\(carlosID)", json: ["display_name": " ", "role": "customer_contact", "access_level": -1],
                                      bearer: admin)
        #expect(bad.status == 400 && bad.errorCode == "INVALID_ARGUMENT", "\(bad.text)")
        let fields = ((bad.json["error"] as? [String: Any])?["details"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
        #expect(Set(fields) == ["display_name", "role", "access_level"], "\(bad.text)")
        #expect(try principal(carlos)["access_level"] as? Int == 1)

        // A chefe at level 3: his open session acts with it on its next request.
        let changed = try gateway.request("POST", "/v1/users/\(carlosID)", json: ["display_name": "Carlos Souza", "role": "chefe", "access_level": 3],
                                          bearer: admin)
        #expect(changed.status == 200, "\(changed.text)")
        let user = try #require(changed.json["user"] as? [String: Any])
        #expect(user["role"] as? String == "chefe" && user["access_level"] as? Int == 3 && user["display_name"] as? String == "Carlos Souza")
        #expect(user["agent_id"] as? String == "A-carlos", "an agent id is kept")
        let now = try principal(carlos)
        #expect(now["access_level"] as? Int == 3 && now["chefe"] as? Bool == true, "\(now)")

        // An administrator without an agent record gets one id once; it is not replaced later.
        _ = try gateway.createUser(admin: admin, email: "bia@suporte.example", role: "knowledge_editor")
        let biaID = try #require((try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? [])
            .first { $0["email"] as? String == "bia@suporte.example" }?["id"] as? String)
        let made = try gateway.request("POST", "/v1/users/\(biaID)", json: ["role": "agent", "agent_id": "A-bia"], bearer: admin)
        #expect((made.json["user"] as? [String: Any])?["agent_id"] as? String == "A-bia", "\(made.text)")
        let again = try gateway.request("POST", "/v1/users/\(biaID)", json: ["agent_id": "A-outra"], bearer: admin)
        #expect((again.json["user"] as? [String: Any])?["agent_id"] as? String == "A-bia", "\(again.text)")

        // Not one's own administrator role; one's own name may change.
        let own = try gateway.request("POST", "/v1/users/\(myID)", json: ["role": "agent"], bearer: admin)
        #expect(own.status == 422 && own.errorCode == "FAILED_PRECONDITION", "\(own.text)")
        #expect(try principal(admin)["administrator"] as? Bool == true)
        #expect(try gateway.request("POST", "/v1/users/\(myID)", json: ["display_name": "Administração"], bearer: admin).status == 200)

        // Only administrators; an unknown user is 404.
        #expect(try gateway.request("POST", "/v1/users/\(biaID)", json: ["access_level": 9], bearer: carlos).status == 403)
        #expect(try gateway.request("POST", "/v1/users/U-nobody", json: ["access_level": 1], bearer: admin).status == 404)
    }
}
