import Foundation
import Testing
import TestSupport

@Suite("The roles and access page (roles, transfer destinations, category levels) in a real headless browser", .serialized)
struct AccessPagesTests {
    /// A JSON number (workflow's int32 fields) as an Int; absent is 0, as proto3 JSON leaves zeros out.
    static func int(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? (value as? String).flatMap { Int($0) } ?? 0 }

    @Test("an administrator creates and edits a role (the administrator's name refused first, storing nothing), gives it to an agent, gives another agent two transfer destinations, cannot delete a role in use, sets a category's starting level; refused saves keep what is stored; agents get no page and a 403")
    func administratorConfiguresAccess() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        // Besides Ana in Nível 1: Bruno and Carla, and a second group.
        for (id, name) in [("A-bruno", "Bruno"), ("A-carla", "Carla")] {
            let put = try gateway.request("POST", "/v1/agents", json: ["agent": ["id": id, "name": name, "email": "\(name.lowercased())@suporte.example",
                                                                               "max_access_level": 2, "active": true]], bearer: seeded.admin)
            #expect(put.status == 200, "\(put.text)")
        }
        #expect(try gateway.request("POST", "/v1/groups", json: ["group": ["id": "n2", "name": "Nível 2", "active": true]], bearer: seeded.admin).status == 200)
        let result = try PortalBrowser.run("access_page.py", gateway, environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))

        // What the page did is stored in workflow: exactly one new role with three permissions,
        // held by Bruno; Ana's two destinations; Estratégica at level 2, the rest at the default.
        func roles() throws -> [String: [String]] {
            let listed = try gateway.request("GET", "/v1/roles", bearer: seeded.admin)
            let entries = (listed.json["roles"] as? [[String: Any]]) ?? []
            return Dictionary(uniqueKeysWithValues: entries.map { ($0["name"] as? String ?? "?", $0["permissions"] as? [String] ?? []) })
        }
        let expected = ["tickets.act_any", "tickets.link_customer", "tickets.transfer_any"]
        #expect(try roles() == ["triagem": expected])
        let bruno = try gateway.request("GET", "/v1/agents/A-bruno", bearer: seeded.admin).json
        #expect(bruno["role"] as? String == "triagem" && bruno["permissions"] as? [String] == expected, "\(bruno)")
        #expect(bruno["name"] as? String == "Bruno" && Self.int(bruno["max_access_level"]) == 2 && bruno["active"] as? Bool == true, "\(bruno)")
        func destinations(_ agent: String) throws -> [String] {
            let json = try gateway.request("GET", "/v1/agents/\(agent)", bearer: seeded.admin).json
            return ((json["transfer_destinations"] as? [[String: Any]]) ?? []).map { "\($0["agent_id"] as? String ?? "")|\($0["group_id"] as? String ?? "")" }
        }
        #expect(try destinations("A-ana") == ["|n2", "A-carla|"])
        #expect(try gateway.request("GET", "/v1/agents/A-ana", bearer: seeded.admin).json["role"] as? String ?? "" == "")
        func levels() throws -> [String: Int] {
            let entries = (try gateway.request("GET", "/v1/category-access-levels", bearer: seeded.admin).json["levels"] as? [[String: Any]]) ?? []
            return Dictionary(uniqueKeysWithValues: entries.map { ($0["category"] as? String ?? "?", Self.int($0["access_level"])) })
        }
        #expect(try levels() == ["PROBLEMA": 0, "DUVIDA": 0, "EXIGENCIA_FISCAL": 0, "NECESSIDADE": 0, "SUGESTAO_MELHORIA": 0, "ESTRATEGICA": 2])

        // Refused saves through the API (an unknown permission, an agent not in the directory,
        // a negative level) answer 400 naming the field and change nothing.
        let unknown = try gateway.request("POST", "/v1/roles", json: ["role": ["name": "triagem", "permissions": ["tickets.act_any", "tudo"]]], bearer: seeded.admin)
        #expect(unknown.status == 400 && unknown.text.contains("role.permissions"), "\(unknown.text)")
        let stranger = try gateway.request("POST", "/v1/agents/A-ana/transfer-destinations", json: ["destinations": [["agent_id": "A-ninguem"]]], bearer: seeded.admin)
        #expect(stranger.status == 400 && stranger.text.contains("destinations[0].agent_id"), "\(stranger.text)")
        let negative = try gateway.request("POST", "/v1/category-access-levels", json: ["category": "ESTRATEGICA", "access_level": -1], bearer: seeded.admin)
        #expect(negative.status == 400 && negative.text.contains("access_level"), "\(negative.text)")
        // A role in use is not deleted (422 naming Bruno).
        let inUse = try gateway.request("DELETE", "/v1/roles/triagem", bearer: seeded.admin)
        #expect(inUse.status == 422 && inUse.text.contains("Bruno"), "\(inUse.text)")
        #expect(try roles() == ["triagem": expected])
        #expect(try destinations("A-ana") == ["|n2", "A-carla|"])
        #expect(try levels()["ESTRATEGICA"] == 2)

        // A non-administrator (Ana, an agent) is refused by workflow on every change; customers
        // do not even read the configuration.
        for (method, path, body) in [("POST", "/v1/roles", ["role": ["name": "minha", "permissions": ["tickets.transfer_any"]]] as [String: Any]),
                                     ("DELETE", "/v1/roles/triagem", [:]),
                                     ("POST", "/v1/agents/A-ana/transfer-destinations", ["destinations": [["agent_id": "*"]]]),
                                     ("POST", "/v1/category-access-levels", ["category": "ESTRATEGICA", "access_level": 0])] {
            let refused = try gateway.request(method, path, json: method == "DELETE" ? nil : body, bearer: seeded.ana)
            #expect(refused.status == 403, "\(method) \(path): \(refused.text)")
        }
        #expect(try gateway.request("GET", "/v1/category-access-levels", bearer: seeded.maria).status == 403)
        #expect(try gateway.request("GET", "/v1/roles", bearer: seeded.maria).status == 403)
        #expect(try roles() == ["triagem": expected])
        #expect(try destinations("A-ana") == ["|n2", "A-carla|"])
        #expect(try levels()["ESTRATEGICA"] == 2)

        // With nobody holding it (Bruno's role cleared by "": a put changes only the fields it
        // names), the role is deleted; an empty list puts Ana back on the default.
        #expect(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-bruno", "role": ""]], bearer: seeded.admin).status == 200)
        #expect(try gateway.request("DELETE", "/v1/roles/triagem", bearer: seeded.admin).status == 200)
        #expect(try roles().isEmpty)
        #expect(try gateway.request("POST", "/v1/agents/A-ana/transfer-destinations", json: ["destinations": [[String: Any]]()], bearer: seeded.admin).status == 200)
        #expect(try destinations("A-ana").isEmpty)
    }
}
