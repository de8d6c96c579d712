import Foundation
import Storage
import Testing
import TestSupport

/// The configuration puts and the article update change only the fields a body names
/// (``MergedUpdate``), as the customer directory's updates do (``DirectoryUpdateRouteTests``): each
/// route gets a partial body, the fields it leaves out keep their value, and a field sent empty
/// (`""`, `0`, `false`, `[]`) is cleared.
@Suite("Configuration updates through the gateway keep the fields left out", .serialized)
struct PartialUpdateRouteTests {
    /// The answer of `path`, checked to be `status`.
    static func ok(_ gateway: GatewayHarness, _ method: String, _ path: String, _ json: [String: Any]? = nil, bearer: String, status: Int = 200,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let response = try gateway.request(method, path, json: json, bearer: bearer)
        #expect(response.status == status, "\(method) \(path): \(response.text)", sourceLocation: sourceLocation)
        return response.json
    }

    /// The item of a list answer whose `field` is `value`.
    static func item(_ list: [String: Any], _ items: String, _ field: String, _ value: String) -> [String: Any] {
        (list[items] as? [[String: Any]] ?? []).first { $0[field] as? String == value } ?? [:]
    }

    @Test("workflow's agents, groups, routing rules and versions: a partial put keeps the rest, an empty value clears", arguments: TestEngines.all)
    func workflowDirectory(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let admin = try TicketFlowTests.seed(gateway).admin

        // The seeded agent A-ana (Ana, ana@suporte.example, level 1, active), given a role and a chefe first.
        _ = try Self.ok(gateway, "POST", "/v1/agents", ["agent": ["id": "A-chefe", "name": "Chefe", "is_chefe": true, "active": true]], bearer: admin)
        _ = try Self.ok(gateway, "POST", "/v1/agents", ["agent": ["id": "A-ana", "chefe_agent_id": "A-chefe", "role": "agent"]], bearer: admin)
        _ = try Self.ok(gateway, "POST", "/v1/agents", ["agent": ["id": "A-ana", "max_access_level": 3]], bearer: admin)
        var agent = try Self.ok(gateway, "GET", "/v1/agents/A-ana", bearer: admin)
        #expect(agent["max_access_level"] as? Int == 3)
        #expect(agent["name"] as? String == "Ana" && agent["email"] as? String == "ana@suporte.example", "\(agent)")
        #expect(agent["active"] as? Bool == true && agent["chefe_agent_id"] as? String == "A-chefe" && agent["role"] as? String == "agent")
        #expect(agent["group_ids"] as? [String] == ["n1"], "membership is not the put's business: \(agent)")
        _ = try Self.ok(gateway, "POST", "/v1/agents", ["agent": ["id": "A-ana", "chefe_agent_id": "", "active": false]], bearer: admin)
        agent = try Self.ok(gateway, "GET", "/v1/agents/A-ana", bearer: admin)
        #expect((agent["chefe_agent_id"] as? String ?? "").isEmpty && (agent["active"] as? Bool ?? false) == false, "\(agent)")
        #expect(agent["max_access_level"] as? Int == 3 && agent["name"] as? String == "Ana")
        // A new agent is still created from its body alone; one without a name still refused.
        _ = try Self.ok(gateway, "POST", "/v1/agents", ["agent": ["id": "A-novo", "name": "Novo", "active": true]], bearer: admin)
        _ = try Self.ok(gateway, "POST", "/v1/agents", ["agent": ["id": "A-sem-nome", "email": "x@suporte.example"]], bearer: admin, status: 400)
        let notRecord = try gateway.request("POST", "/v1/agents", json: ["agent": "A-ana"], bearer: admin)
        #expect(notRecord.status == 400 && notRecord.text.contains("\"agent\""), "a record that is not an object is refused naming it: \(notRecord.text)")

        // Groups: renamed alone stays active; deactivated alone keeps its name.
        _ = try Self.ok(gateway, "POST", "/v1/groups", ["group": ["id": "n1", "name": "Nível 1 — fiscal"]], bearer: admin)
        var groups = try Self.ok(gateway, "GET", "/v1/groups?include_inactive=true", bearer: admin)
        #expect(Self.item(groups, "groups", "id", "n1")["active"] as? Bool == true, "\(groups)")
        _ = try Self.ok(gateway, "POST", "/v1/groups", ["group": ["id": "n2", "name": "Nível 2", "active": true]], bearer: admin)
        _ = try Self.ok(gateway, "POST", "/v1/groups", ["group": ["id": "n2", "active": false]], bearer: admin)
        groups = try Self.ok(gateway, "GET", "/v1/groups?include_inactive=true", bearer: admin)
        #expect(Self.item(groups, "groups", "id", "n2")["name"] as? String == "Nível 2")
        #expect(Self.item(groups, "groups", "id", "n2")["active"] as? Bool != true)

        // Routing rules: narrowed to a product alone keeps its position and group; the product cleared again.
        _ = try Self.ok(gateway, "POST", "/v1/routing-rules", ["rule": ["id": "default", "product": "ERP"]], bearer: admin)
        var rule = Self.item(try Self.ok(gateway, "GET", "/v1/routing-rules", bearer: admin), "rules", "id", "default")
        #expect(rule["position"] as? Int == 100 && rule["group_id"] as? String == "n1" && rule["product"] as? String == "ERP", "\(rule)")
        _ = try Self.ok(gateway, "POST", "/v1/routing-rules", ["rule": ["id": "default", "product": ""]], bearer: admin)
        rule = Self.item(try Self.ok(gateway, "GET", "/v1/routing-rules", bearer: admin), "rules", "id", "default")
        #expect((rule["product"] as? String ?? "").isEmpty && rule["group_id"] as? String == "n1", "\(rule)")

        // Versions: the date moved alone keeps the name.
        let version = try Self.ok(gateway, "POST", "/v1/versions", ["version": ["name": "12.1.2410", "target_date_ms": 1_790_000_000_000]], bearer: admin)
        let versionID = try #require(version["id"] as? String)
        _ = try Self.ok(gateway, "POST", "/v1/versions", ["version": ["id": versionID, "target_date_ms": 1_800_000_000_000]], bearer: admin)
        let stored = Self.item(try Self.ok(gateway, "GET", "/v1/versions", bearer: admin), "versions", "id", versionID)
        #expect(stored["name"] as? String == "12.1.2410" && stored["target_date_ms"] as? Int == 1_800_000_000_000, "\(stored)")
    }

    @Test("calendars, SLA and inactivity policies: a partial put keeps the rest, an empty value clears", arguments: TestEngines.all)
    func workflowTime(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let admin = try TicketFlowTests.seed(gateway).admin
        try WorkflowTimeRoutesTests.configureSLA(gateway, admin: admin)

        // The calendar renamed alone keeps its zone and week; its national holidays turned off by saying false.
        _ = try Self.ok(gateway, "POST", "/v1/calendars", ["calendar": ["id": "24x7", "national_holidays": true]], bearer: admin)
        _ = try Self.ok(gateway, "POST", "/v1/calendars", ["calendar": ["id": "24x7", "name": "Plantão"]], bearer: admin)
        var calendar = try Self.ok(gateway, "GET", "/v1/calendars/24x7", bearer: admin)["calendar"] as? [String: Any] ?? [:]
        #expect(calendar["name"] as? String == "Plantão" && calendar["time_zone"] as? String == "America/Sao_Paulo", "\(calendar)")
        #expect((calendar["weekly"] as? [Any])?.count == 7 && calendar["national_holidays"] as? Bool == true, "\(calendar)")
        _ = try Self.ok(gateway, "POST", "/v1/calendars", ["calendar": ["id": "24x7", "national_holidays": false]], bearer: admin)
        calendar = try Self.ok(gateway, "GET", "/v1/calendars/24x7", bearer: admin)["calendar"] as? [String: Any] ?? [:]
        #expect(calendar["national_holidays"] as? Bool != true && calendar["name"] as? String == "Plantão", "\(calendar)")

        // The SLA policy of every plan (named by plan and priority): resolution changed alone keeps
        // the other targets and the calendar; the calendar cleared (the default one) by "".
        _ = try Self.ok(gateway, "POST", "/v1/sla-policies", ["policy": ["plan": "*", "resolution_minutes": 300]], bearer: admin)
        var policy = Self.item(try Self.ok(gateway, "GET", "/v1/sla-policies", bearer: admin), "policies", "plan", "*")
        #expect(policy["resolution_minutes"] as? Int == 300 && policy["first_response_minutes"] as? Int == 60, "\(policy)")
        #expect(policy["next_response_minutes"] as? Int == 120 && policy["warning_percent"] as? Int == 80 && policy["calendar_id"] as? String == "24x7")
        _ = try Self.ok(gateway, "POST", "/v1/sla-policies", ["policy": ["plan": "*", "calendar_id": ""]], bearer: admin)
        policy = Self.item(try Self.ok(gateway, "GET", "/v1/sla-policies", bearer: admin), "policies", "plan", "*")
        #expect((policy["calendar_id"] as? String ?? "").isEmpty && policy["resolution_minutes"] as? Int == 300, "\(policy)")

        // An inactivity policy: its days changed alone keep its stages and outcome; business days turned off by false.
        _ = try Self.ok(gateway, "POST", "/v1/inactivity-policies", ["policy": [
            "id": "resolvido-3", "stage": "resolvido", "days": 3, "business_days": true, "to_stage": "fechado", "outcome": "resolvida",
            "active": true]], bearer: admin)
        _ = try Self.ok(gateway, "POST", "/v1/inactivity-policies", ["policy": ["id": "resolvido-3", "days": 5]], bearer: admin)
        var inactivity = Self.item(try Self.ok(gateway, "GET", "/v1/inactivity-policies", bearer: admin), "policies", "id", "resolvido-3")
        #expect(inactivity["days"] as? Int == 5 && inactivity["stage"] as? String == "resolvido" && inactivity["to_stage"] as? String == "fechado", "\(inactivity)")
        #expect(inactivity["outcome"] as? String == "resolvida" && inactivity["active"] as? Bool == true && inactivity["business_days"] as? Bool == true)
        _ = try Self.ok(gateway, "POST", "/v1/inactivity-policies", ["policy": ["id": "resolvido-3", "business_days": false]], bearer: admin)
        inactivity = Self.item(try Self.ok(gateway, "GET", "/v1/inactivity-policies", bearer: admin), "policies", "id", "resolvido-3")
        #expect(inactivity["business_days"] as? Bool != true && inactivity["days"] as? Int == 5, "\(inactivity)")
    }

    @Test("intake's custom fields, channels, origins and support policy; notification's templates; knowledge's articles", arguments: TestEngines.all)
    func catalogAndContent(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let admin = try TicketFlowTests.seed(gateway).admin

        // A custom field relabelled alone stays required with its choices and category; "required"
        // turned off by false, the category cleared (every category, as the portal sends it).
        _ = try Self.ok(gateway, "POST", "/v1/custom-fields", ["key": "ambiente", "label_pt": "Ambiente", "label_en": "Environment",
                                                               "kind": "FIELD_CHOICE", "choices": ["produção", "homologação"], "required": true,
                                                               "category": "PROBLEMA",
                                                               "active": true, "position": 2], bearer: admin)
        _ = try Self.ok(gateway, "POST", "/v1/custom-fields", ["key": "ambiente", "label_en": "Environment (server)"], bearer: admin)
        var field = Self.item(try Self.ok(gateway, "GET", "/v1/custom-fields?include_inactive=true", bearer: admin), "fields", "key", "ambiente")
        #expect(field["label_en"] as? String == "Environment (server)" && field["label_pt"] as? String == "Ambiente", "\(field)")
        #expect(field["kind"] as? String == "FIELD_CHOICE" && field["choices"] as? [String] == ["produção", "homologação"])
        #expect(field["required"] as? Bool == true && field["active"] as? Bool == true && field["position"] as? Int == 2)
        #expect(field["category"] as? String == "PROBLEMA", "\(field)")
        _ = try Self.ok(gateway, "POST", "/v1/custom-fields", ["key": "ambiente", "required": false, "category": "CATEGORY_UNSPECIFIED"], bearer: admin)
        field = Self.item(try Self.ok(gateway, "GET", "/v1/custom-fields?include_inactive=true", bearer: admin), "fields", "key", "ambiente")
        #expect(field["required"] as? Bool != true && field["choices"] as? [String] == ["produção", "homologação"], "\(field)")
        #expect((field["category"] as? String ?? "CATEGORY_UNSPECIFIED") == "CATEGORY_UNSPECIFIED", "\(field)")

        // Channels and origins: moved alone keep their labels, kind and activity; deactivated by false.
        for path in ["/v1/channels", "/v1/origins"] {
            var entry: [String: Any] = ["key": "parceiro", "label_pt": "Parceiro", "label_en": "Partner", "active": true, "position": 3]
            if path == "/v1/origins" { entry["origin_kind"] = "INTERNAL" }
            _ = try Self.ok(gateway, "POST", path, entry, bearer: admin)
            _ = try Self.ok(gateway, "POST", path, ["key": "parceiro", "position": 9], bearer: admin)
            entry = Self.item(try Self.ok(gateway, "GET", "\(path)?include_inactive=true", bearer: admin), "entries", "key", "parceiro")
            #expect(entry["position"] as? Int == 9 && entry["label_pt"] as? String == "Parceiro" && entry["label_en"] as? String == "Partner", "\(path): \(entry)")
            #expect(entry["active"] as? Bool == true, "\(path): \(entry)")
            if path == "/v1/origins" { #expect(entry["origin_kind"] as? String == "INTERNAL", "\(entry)") }
            _ = try Self.ok(gateway, "POST", path, ["key": "parceiro", "active": false], bearer: admin)
            entry = Self.item(try Self.ok(gateway, "GET", "\(path)?include_inactive=true", bearer: admin), "entries", "key", "parceiro")
            #expect(entry["active"] as? Bool != true && entry["label_en"] as? String == "Partner" && entry["position"] as? Int == 9, "\(path): \(entry)")
        }

        // The support policy (one record): the English tips given alone keep the priorities and the Portuguese tips.
        let before = try Self.ok(gateway, "GET", "/v1/support-policy", bearer: admin)
        _ = try Self.ok(gateway, "POST", "/v1/support-policy", ["writing_tips_pt": "Descreva o erro."], bearer: admin)
        _ = try Self.ok(gateway, "POST", "/v1/support-policy", ["writing_tips_en": "Describe the error."], bearer: admin)
        var policy = try Self.ok(gateway, "GET", "/v1/support-policy", bearer: admin)
        #expect(policy["writing_tips_pt"] as? String == "Descreva o erro." && policy["writing_tips_en"] as? String == "Describe the error.", "\(policy)")
        #expect((policy["priorities"] as? [Any])?.count == (before["priorities"] as? [Any])?.count, "\(policy)")
        // The English tips cleared: intake's own rule for an empty one applies (the Portuguese tips).
        _ = try Self.ok(gateway, "POST", "/v1/support-policy", ["writing_tips_en": ""], bearer: admin)
        policy = try Self.ok(gateway, "GET", "/v1/support-policy", bearer: admin)
        #expect(policy["writing_tips_en"] as? String == "Descreva o erro." && policy["writing_tips_pt"] as? String == "Descreva o erro.", "\(policy)")

        // A template's subject changed alone keeps the text it had (the built-in one).
        let builtIn = try Self.ok(gateway, "GET", "/v1/templates/TicketOpened?locale=en", bearer: admin)["message_template"] as? [String: Any] ?? [:]
        let text = try #require(builtIn["text"] as? String)
        _ = try Self.ok(gateway, "POST", "/v1/templates", ["message_template": ["event_kind": "TicketOpened", "locale": "en",
                                                                                 "subject": "We got your ticket"]], bearer: admin)
        let template = try Self.ok(gateway, "GET", "/v1/templates/TicketOpened?locale=en", bearer: admin)["message_template"] as? [String: Any] ?? [:]
        #expect(template["subject"] as? String == "We got your ticket" && template["text"] as? String == text, "\(template)")
        #expect(template["customized"] as? Bool == true)

        // An article retitled alone keeps its body, product, tags and state (a new version); its tags cleared by [].
        let article = try Self.ok(gateway, "POST", "/v1/knowledge/articles", [
            "kind": "FAQ", "title": "Boleto sem registro", "body_markdown": "Confira a carteira no banco.", "product": "ERP",
            "module": "Financeiro", "tags": ["boleto", "banco"], "visibility": "VISIBILITY_CUSTOMERS", "state": "PUBLISHED"], bearer: admin, status: 201)
        let id = try #require(article["id"] as? String)
        _ = try Self.ok(gateway, "POST", "/v1/knowledge/articles/\(id)", ["title": "Boleto devolvido sem registro"], bearer: admin)
        var stored = try Self.ok(gateway, "GET", "/v1/knowledge/articles/\(id)", bearer: admin)
        #expect(stored["title"] as? String == "Boleto devolvido sem registro" && stored["body_markdown"] as? String == "Confira a carteira no banco.", "\(stored)")
        #expect(stored["product"] as? String == "ERP" && stored["module"] as? String == "Financeiro" && stored["tags"] as? [String] == ["boleto", "banco"])
        #expect(stored["state"] as? String == "PUBLISHED" && stored["visibility"] as? String == "VISIBILITY_CUSTOMERS" && stored["version"] as? Int == 2)
        _ = try Self.ok(gateway, "POST", "/v1/knowledge/articles/\(id)", ["tags": []], bearer: admin)
        stored = try Self.ok(gateway, "GET", "/v1/knowledge/articles/\(id)", bearer: admin)
        #expect((stored["tags"] as? [String] ?? ["?"]).isEmpty && stored["title"] as? String == "Boleto devolvido sem registro", "\(stored)")
        // An editor's stale version is still refused, and an unknown article is still 404.
        let stale = try gateway.request("POST", "/v1/knowledge/articles/\(id)", json: ["expected_version": 1, "title": "Velho"], bearer: admin)
        #expect(stale.status >= 400 && stale.status < 500 && stale.status != 404, "\(stale.text)")
        #expect(try gateway.request("POST", "/v1/knowledge/articles/nope", json: ["title": "X"], bearer: admin).status == 404)
    }
}
