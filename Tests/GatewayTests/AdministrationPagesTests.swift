import Foundation
import Testing
import TestSupport

@Suite("The administrators' pages (team, integrations) in a real headless browser", .serialized)
struct AdministrationPagesTests {
    @Test("an administrator adds an agent to a group (a weak password refused first), creates a group, moves him into it and routes fiscal requirements to it, makes Ana a chefe and Carlos her agent at level 2, renames and deactivates a group (refused while a rule routes to it), blocks and reactivates a sign-in; agents get no team page")
    func administratorManagesTheTeam() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let result = try PortalBrowser.run("team_page.py", gateway, environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))

        // What the page did is stored: Carlos signs in as an agent of workflow's directory, in
        // group n1 with access level 1, and works the queue; Ana's sign-in is active again.
        let users = try #require(try gateway.request("GET", "/v1/users", bearer: seeded.admin).json["users"] as? [[String: Any]])
        let carlos = try #require(users.first { $0["email"] as? String == "carlos@suporte.example" }, "\(users)")
        #expect(carlos["role"] as? String == "agent" && carlos["status"] as? String == "active" && carlos["access_level"] as? Int == 2, "\(carlos)")
        let agentID = try #require(carlos["agent_id"] as? String)
        #expect(users.first { $0["email"] as? String == "ana@suporte.example" }?["status"] as? String == "active")
        let agent = try gateway.request("GET", "/v1/agents/\(agentID)", bearer: seeded.admin)
        #expect(agent.json["name"] as? String == "Carlos Souza" && agent.json["max_access_level"] as? Int == 2, "\(agent.text)")
        #expect(agent.json["chefe_agent_id"] as? String == "A-ana", "\(agent.text)")
        let ana = try gateway.request("GET", "/v1/agents/A-ana", bearer: seeded.admin)
        #expect(ana.json["is_chefe"] as? Bool == true && ana.json["name"] as? String == "Ana", "\(ana.text)")
        #expect(users.first { $0["email"] as? String == "ana@suporte.example" }?["role"] as? String == "chefe")
        // A customer's sign-in is not changed on the team's terms.
        let maria = try #require(users.first { $0["email"] as? String == "maria@acme.com.br" }?["id"] as? String)
        let customerChange = try gateway.request("POST", "/v1/users/\(maria)", json: ["access_level": 5], bearer: seeded.admin)
        #expect(customerChange.status == 422, "\(customerChange.text)")
        // Moved on the page from Nível 1 into a group created there.
        let groups = try #require(try gateway.request("GET", "/v1/groups", bearer: seeded.admin).json["groups"] as? [[String: Any]])
        let fiscal = try #require(groups.first { $0["name"] as? String == "Fiscal e Tributário" }, "\(groups)")
        #expect((fiscal["id"] as? String)?.hasPrefix("fiscal-e-tributario-") == true, "\(fiscal)")
        #expect(agent.json["group_ids"] as? [String] == [fiscal["id"] as? String ?? "?"], "\(agent.text)")
        #expect(groups.first { $0["id"] as? String == "n1" }?["agent_ids"] as? [String] == ["A-ana"], "\(groups)")
        let token = try gateway.token("carlos@suporte.example", "Ceu-Azul-Marinho-77")
        let me = try gateway.request("GET", "/v1/me", bearer: token).json["principal"] as? [String: Any]
        #expect(me?["kind"] as? String == "agent" && me?["id"] as? String == agentID && me?["access_level"] as? Int == 2, "\(String(describing: me))")
        // The renamed group is inactive: no longer listed by default, and no rule may route to it.
        #expect(!groups.contains { $0["name"] as? String == "Plantão" })
        let everyGroup = try #require(try gateway.request("GET", "/v1/groups?include_inactive=true", bearer: seeded.admin).json["groups"] as? [[String: Any]])
        let shift = try #require(everyGroup.first { $0["name"] as? String == "Plantão" }, "\(everyGroup)")
        #expect(shift["active"] as? Bool != true)
        let ruleToShift = try gateway.request("POST", "/v1/routing-rules", json: ["rule": ["position": 60, "group_id": shift["id"] as? String ?? "?"]],
                                              bearer: seeded.admin)
        #expect(ruleToShift.status == 400 && ruleToShift.text.contains("rule.group_id"), "\(ruleToShift.text)")
        #expect(try gateway.request("GET", "/v1/tickets?page_size=10", bearer: token).status == 200)
        // The rule added on the page routes a fiscal requirement on ERP/Fiscal to the new group;
        // a problem on another module still goes to Nível 1 by the default rule.
        func group(of ticket: String) throws -> String? {
            var found: String?
            _ = try waitFor {
                let view = try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: seeded.admin)
                let row = ((view.json["workflow"] as? [String: Any])?["row"] as? [String: Any])
                found = (row?["holder"] as? [String: Any])?["group_id"] as? String
                return found != nil
            }
            return found
        }
        let fiscalTicket = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Nova regra da NF-e", "request": "A SEFAZ exige o novo leiaute a partir do mês que vem.",
            "category": "EXIGENCIA_FISCAL", "priority": "NORMAL", "product": "ERP", "module": "Fiscal",
            "organization_id": seeded.organizationID], bearer: seeded.maria)
        #expect(fiscalTicket.status == 201, "\(fiscalTicket.text)")
        let fiscalID = try #require((fiscalTicket.json["ticket"] as? [String: Any])?["id"] as? String)
        #expect(try group(of: fiscalID) == fiscal["id"] as? String)
        #expect(try group(of: try ReplyFilesTests.openTicket(gateway, seeded)) == "n1")
        // Only one sign-in was created for Carlos (the refused attempt wrote nothing).
        #expect(users.filter { ($0["email"] as? String)?.hasPrefix("carlos") == true }.count == 1)
    }

    @Test("an administrator creates an API key on the integrations page (secret shown once, working as a bearer) and revokes it; agents get no page")
    func administratorManagesAPIKeys() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let result = try PortalBrowser.run("integrations_page.py", gateway, environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK "))
        let key = PortalBrowser.value(result.output)
        // Stored as chosen on the page, and revoked: the key no longer authenticates.
        let keys = try #require(try gateway.request("GET", "/v1/api-keys", bearer: seeded.admin).json["api_keys"] as? [[String: Any]])
        let record = try #require(keys.first { $0["name"] as? String == "ERP do cliente" }, "\(keys)")
        #expect(record["role"] as? String == "agent" && record["access_level"] as? Int == 1 && record["revoked_at"] as? Int != nil, "\(record)")
        #expect(key.hasPrefix("ocr_"))
        #expect(try gateway.request("GET", "/v1/tickets?page_size=1", bearer: key).status == 401)
    }
}
