import Foundation
import Testing
import TestSupport

@Suite("The administrators' pages (team, integrations, catalogs) in a real headless browser", .serialized)
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

    @Test("an administrator adds a channel, creates a required choice field for a product (refused first without choices, storing nothing), deactivates another, edits the support-policy texts; the customer's Nova ocorrência shows them; agents get no catalog page")
    func administratorManagesTheCatalog() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let result = try PortalBrowser.run("catalog_page.py", gateway, environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)",
            "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))

        // Channels: the new one active with its labels, Skype inactive, the built-in ones marked.
        let channels = try #require(try gateway.request("GET", "/v1/channels?include_inactive=true", bearer: seeded.admin)
            .json["entries"] as? [[String: Any]])
        let byKey = Dictionary(uniqueKeysWithValues: channels.map { ($0["key"] as? String ?? "?", $0) })
        #expect(byKey["0800"]?["label_pt"] as? String == "Telefone 0800" && byKey["0800"]?["label_en"] as? String == "Toll-free line", "\(channels)")
        #expect(byKey["0800"]?["active"] as? Bool == true && byKey["0800"]?["built_in"] as? Bool == false)
        #expect(byKey["skype"]?["active"] as? Bool == false && byKey["portal"]?["built_in"] as? Bool == true, "\(channels)")

        // Custom fields: exactly the two saved on the page (the refused save stored nothing).
        let fields = try #require(try gateway.request("GET", "/v1/custom-fields?include_inactive=true", bearer: seeded.admin)
            .json["fields"] as? [[String: Any]])
        #expect(fields.map { $0["key"] as? String ?? "?" }.sorted() == ["modulo_contratado", "numero_do_pedido"], "\(fields)")
        let module = try #require(fields.first { $0["key"] as? String == "modulo_contratado" })
        #expect(module["kind"] as? String == "FIELD_CHOICE" && module["product"] as? String == "ERP" && module["required"] as? Bool == true)
        #expect(module["choices"] as? [String] == ["Fiscal", "Folha de pagamento", "Estoque"] && module["active"] as? Bool == true, "\(module)")
        #expect(module["label_pt"] as? String == "Módulo contratado" && module["label_en"] as? String == "Contracted module", "\(module)")
        #expect(module["category"] as? String == "CATEGORY_UNSPECIFIED", "\(module)")
        #expect(fields.first { $0["key"] as? String == "numero_do_pedido" }?["active"] as? Bool == false, "\(fields)")

        // The support policy as edited, the texts not touched kept.
        let policy = try gateway.request("GET", "/v1/support-policy", bearer: seeded.maria).json
        func text(_ list: String, _ field: String, _ value: String) -> String? {
            ((policy[list] as? [[String: Any]])?.first { $0[field] as? String == value })?["text_pt"] as? String
        }
        #expect(text("priorities", "priority", "URGENTE") == "Operação parada: abra aqui e ligue também para o 0800.", "\(policy)")
        #expect(text("categories", "category", "PROBLEMA") == "Erro em algo que funcionava antes da última atualização.", "\(policy)")
        #expect(text("priorities", "priority", "BAIXA") == "Dúvida ou ajuste sem impacto na operação.", "\(policy)")
        #expect(policy["writing_tips_pt"] as? String == "Inclua o número da nota fiscal e a mensagem de erro completa.")
        #expect((policy["categories"] as? [Any])?.count == 6 && (policy["priorities"] as? [Any])?.count == 4)

        // The required field now applies to ERP tickets; the new channel is accepted.
        let without = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Sem o módulo", "request": "Falta o campo.", "category": "PROBLEMA", "product": "ERP",
            "organization_id": seeded.organizationID], bearer: seeded.maria)
        #expect(without.status == 400, "\(without.text)")
        #expect(((without.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.map { $0["field"] as? String ?? "?" }
            == ["custom_fields.modulo_contratado"], "\(without.text)")
        // A customer opens through the portal only (`not_for_customers`); the team logs the call
        // on the new channel for her.
        var call: [String: Any] = [
            "subject": "Liguei no 0800", "request": "Registro do que combinamos por telefone.", "category": "DUVIDA", "product": "ERP",
            "organization_id": seeded.organizationID, "channel": "0800",
            "custom_fields": [["key": "modulo_contratado", "value": "Estoque"]]]
        let byCustomer = try gateway.request("POST", "/v1/tickets", json: call, bearer: seeded.maria)
        #expect(byCustomer.status == 400 && byCustomer.text.contains("not_for_customers"), "\(byCustomer.text)")
        let contacts = try gateway.request("GET", "/v1/organizations/\(seeded.organizationID)/contacts", bearer: seeded.admin)
        call["contact_id"] = try #require(((contacts.json["contacts"] as? [[String: Any]])?.first { $0["name"] as? String == "Maria" })?["id"] as? String,
                                          "\(contacts.text)")
        let registered = try gateway.request("POST", "/v1/tickets", json: call, bearer: seeded.admin)
        #expect(registered.status == 201, "\(registered.text)")
        // Agents cannot change the catalog through the API either; the built-in portal channel
        // cannot be deactivated even by an administrator.
        #expect(try gateway.request("POST", "/v1/channels", json: ["key": "fax", "label_pt": "Fax", "active": true], bearer: seeded.ana).status == 403)
        let portal = try gateway.request("POST", "/v1/channels", json: ["key": "portal", "label_pt": "Portal", "active": false], bearer: seeded.admin)
        #expect(portal.status == 400 && portal.text.contains("built_in"), "\(portal.text)")
    }
}
