import Foundation
import Testing
import TestSupport

@Suite("The development page (backlog, versions, step sequences) in a real headless browser", .serialized)
struct BacklogPageTests {
    /// A JSON number (workflow's int32 and int64 fields) as an Int.
    static func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue ?? (value as? String).flatMap { Int($0) } }

    /// Opens a ticket as the customer and brings it, as the administrator, through `stages` (after taking it).
    static func ticket(_ gateway: GatewayHarness, _ seeded: TicketFlowTests.Seeded, subject: String, category: String,
                       stages: [String]) throws -> String {
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": subject, "request": "Detalhes de \(subject).", "category": category, "priority": "ALTA",
            "product": "ERP", "module": "Fiscal", "organization_id": seeded.organizationID], bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let id = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        #expect(try waitFor { try gateway.request("POST", "/v1/tickets/\(id)/take", json: [:], bearer: seeded.admin).status == 200 })
        for stage in stages {
            let moved = try gateway.request("POST", "/v1/tickets/\(id)/move", json: ["to_stage": stage], bearer: seeded.admin)
            #expect(moved.status == 200, "\(stage): \(moved.text)")
        }
        return id
    }

    /// A view's ticket fields (a protobuf map: a list of `{key, value}` in JSON).
    static func fields(_ view: [String: Any]) -> [String: String] {
        Dictionary(((view["fields"] as? [[String: Any]]) ?? []).map { ($0["key"] as? String ?? "?", $0["value"] as? String ?? "") }, uniquingKeysWith: { $1 })
    }

    /// Workflow's part of a ticket's view, as the administrator sees it.
    static func workflow(_ gateway: GatewayHarness, _ id: String, bearer: String) throws -> [String: Any] {
        (try gateway.request("GET", "/v1/tickets/\(id)", bearer: bearer).json["workflow"] as? [String: Any]) ?? [:]
    }

    @Test("DELETE /v1/versions/{id}: a version without items is deleted (200, the version as it was); one with a planned item is refused with 422 saying how many and kept; an unknown id is 404; an agent without product.decide and a customer get 403")
    func deleteVersionRoute() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let planned = try Self.ticket(gateway, seeded, subject: "Nova regra do SPED", category: "NECESSIDADE", stages: ["analise_produto", "para_desenvolver"])
        func put(_ name: String) throws -> String {
            let made = try gateway.request("POST", "/v1/versions", json: ["version": ["name": name, "target_date_ms": 1_800_000_000_000]], bearer: seeded.admin)
            #expect(made.status == 200, "\(made.text)")
            return try #require(made.json["id"] as? String, "\(made.text)")
        }
        let (empty, busy) = (try put("12.1.2601"), try put("12.1.2602"))
        let plan = try gateway.request("POST", "/v1/tickets/\(planned)/plan", json: ["version_id": busy], bearer: seeded.admin)
        #expect(plan.status == 200, "\(plan.text)")

        let refused = try gateway.request("DELETE", "/v1/versions/\(busy)", bearer: seeded.admin)
        #expect(refused.status == 422, "\(refused.text)")
        let error = (refused.json["error"] as? [String: Any]) ?? [:]
        #expect((error["message"] as? String)?.contains("1 item planejado") == true, "\(refused.text)")
        #expect((error["message_en"] as? String)?.contains("1 planned item") == true, "\(refused.text)")
        for bearer in [seeded.ana, seeded.maria] {
            let answer = try gateway.request("DELETE", "/v1/versions/\(empty)", bearer: bearer)
            #expect(answer.status == 403, "\(answer.text)")
        }
        let deleted = try gateway.request("DELETE", "/v1/versions/\(empty)", bearer: seeded.admin)
        #expect(deleted.status == 200 && (deleted.json["version"] as? [String: Any])?["name"] as? String == "12.1.2601", "\(deleted.text)")
        #expect(try gateway.request("DELETE", "/v1/versions/\(empty)", bearer: seeded.admin).status == 404)
        let left = (try gateway.request("GET", "/v1/versions", bearer: seeded.admin).json["versions"] as? [[String: Any]]) ?? []
        #expect(left.map { $0["id"] as? String ?? "?" } == [busy] && Self.int(left.first?["planned_items"]) == 1, "\(left)")
    }

    @Test("staff plan an item into a version made on the page (a version without a date refused first; a second one made and deleted from its row), make a step sequence (a step without a holder refused first), estimate another item, start the sequence on the first, advance it once its required field is filled (refused before) and deliver the version, which finishes the item; an agent reads without changing, a product manager (by workflow's role) gets the planning but not the sequences; a customer gets no link and 403 from every route")
    func developmentPage() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let planned = try Self.ticket(gateway, seeded, subject: "Nova regra do SPED", category: "NECESSIDADE", stages: ["analise_produto", "para_desenvolver"])
        let waiting = try Self.ticket(gateway, seeded, subject: "Relatório de margens", category: "PROBLEMA", stages: ["diagnostico_tecnico", "para_desenvolver"])
        let analysis = try Self.ticket(gateway, seeded, subject: "Exportar para planilha", category: "SUGESTAO_MELHORIA", stages: ["analise_produto"])
        let codes = try [planned, waiting, analysis].map { id in
            try #require(((Self.workflow(gateway, id, bearer: seeded.admin))["row"] as? [String: Any])?["code"] as? String)
        }
        // A product manager: an agent whose role in workflow's directory grants product.decide
        // (the gateway's principal does not carry it: the page asks workflow's directory).
        #expect(try gateway.request("POST", "/v1/roles", json: ["role": ["name": "produto", "permissions": ["product.decide"]]], bearer: seeded.admin).status == 200)
        let paulo = try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-paulo", "name": "Paulo", "email": "paulo@suporte.example",
                                                                              "max_access_level": 1, "active": true, "role": "produto"]], bearer: seeded.admin)
        #expect(paulo.status == 200, "\(paulo.text)")
        _ = try gateway.createUser(admin: seeded.admin, email: "paulo@suporte.example", role: "agent", password: seeded.password, agent: "A-paulo", accessLevel: 1)
        let result = try PortalBrowser.run("backlog_page.py", gateway, [codes[0], codes[1], codes[2]], environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)", "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)",
            "PORTAL_PRODUCT": "paulo@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK "))

        // Exactly the version made on the page (the refused save stored none), delivered.
        let versions = try #require(try gateway.request("GET", "/v1/versions?include_delivered=true", bearer: seeded.admin).json["versions"] as? [[String: Any]])
        #expect(versions.count == 1, "\(versions)")
        let version = try #require(versions.first)
        #expect(version["name"] as? String == "12.1.2501" && (Self.int(version["delivered_at_ms"]) ?? 0) > 0, "\(version)")
        let target = Date(timeIntervalSince1970: Double(Self.int(version["target_date_ms"]) ?? 0) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        #expect(calendar.dateComponents([.year, .month, .day], from: target) == DateComponents(year: 2027, month: 1, day: 29), "\(version)")
        #expect((try gateway.request("GET", "/v1/versions", bearer: seeded.admin).json["versions"] as? [Any])?.isEmpty == true)

        // Exactly the sequence made on the page (the refused save stored nothing).
        let sequences = try #require(try gateway.request("GET", "/v1/step-sequences", bearer: seeded.ana).json["sequences"] as? [[String: Any]])
        #expect(sequences.map { $0["ticket_type"] as? String ?? "?" } == ["melhoria-fiscal"], "\(sequences)")
        let steps = (sequences.first?["steps"] as? [[String: Any]]) ?? []
        #expect(steps.map { $0["name"] as? String ?? "?" } == ["Especificação", "Codificação"], "\(steps)")
        #expect(steps.first?["group_id"] as? String == "n1" && steps.first?["agent_id"] as? String == "", "\(steps)")
        #expect(steps.first?["required_fields"] as? [String] == ["documento"] && steps.last?["agent_id"] as? String == "A-ana", "\(steps)")

        // The planned item: advanced once (the refused advance changed nothing) with the field
        // given, then finished by the delivery, the customer told in which version.
        let item = try Self.workflow(gateway, planned, bearer: seeded.admin)
        let row = try #require(item["row"] as? [String: Any])
        #expect(row["stage"] as? String == "finalizado" && item["outcome"] as? String == "resolvida", "\(item)")
        #expect(item["version_name"] as? String == "12.1.2501" && item["ticket_type"] as? String == "melhoria-fiscal", "\(item)")
        #expect(Self.int(item["step_position"]) == 1 && item["step_name"] as? String == "Codificação", "\(item)")
        #expect(Self.fields(item)["documento"] == "EF-2025-14", "\(item)")
        #expect((row["holder"] as? [String: Any])?["agent_id"] as? String == "A-ana", "\(row)")
        let history = (try gateway.request("GET", "/v1/tickets/\(planned)/history", bearer: seeded.admin).json["entries"] as? [[String: Any]]) ?? []
        #expect(history.filter { $0["kind"] as? String == "step" }.map { $0["new_value"] as? String ?? "?" } == ["Especificação", "Codificação"], "\(history)")
        let customerView = try Self.workflow(gateway, planned, bearer: seeded.maria)
        #expect((customerView["public_note"] as? String)?.contains("Entregue na versão 12.1.2501") == true, "\(customerView)")
        // The other items are where they were: not planned, not delivered; the second with the
        // estimate and the promised date given on the page (the customer sees the date).
        let other = try Self.workflow(gateway, waiting, bearer: seeded.admin)
        #expect((other["row"] as? [String: Any])?["stage"] as? String == "para_desenvolver" && (other["version_id"] as? String ?? "") == "", "\(other)")
        #expect(Self.int(other["estimated_effort_hours"]) == 16, "\(other)")
        let promised = Date(timeIntervalSince1970: Double(Self.int(try Self.workflow(gateway, waiting, bearer: seeded.maria)["promised_delivery_ms"]) ?? 0) / 1000)
        #expect(calendar.dateComponents([.year, .month, .day], from: promised) == DateComponents(year: 2027, month: 3, day: 31), "\(promised)")
        #expect(((try Self.workflow(gateway, analysis, bearer: seeded.admin))["row"] as? [String: Any])?["stage"] as? String == "analise_produto")

        // Refused through the API too: an agent without product.decide or routing.manage, and a
        // customer everywhere; nothing stored.
        #expect(try gateway.request("POST", "/v1/versions", json: ["version": ["name": "X", "target_date_ms": 1_800_000_000_000]], bearer: seeded.ana).status == 403)
        #expect(try gateway.request("POST", "/v1/tickets/\(waiting)/plan", json: ["version_id": version["id"] as? String ?? ""], bearer: seeded.ana).status == 403)
        #expect(try gateway.request("POST", "/v1/step-sequences", json: ["ticket_type": "x", "steps": [["name": "A", "group_id": "n1"]]], bearer: seeded.ana).status == 403)
        let maria = seeded.maria
        for (method, path, body) in [("GET", "/v1/backlog", nil), ("GET", "/v1/backlog?stage=em_desenvolvimento", nil), ("GET", "/v1/versions", nil),
                                     ("GET", "/v1/step-sequences", nil), ("POST", "/v1/versions", ["version": ["name": "X", "target_date_ms": 1_800_000_000_000]]),
                                     ("POST", "/v1/tickets/\(waiting)/plan", ["version_id": version["id"] as? String ?? ""]),
                                     ("POST", "/v1/tickets/\(waiting)/development-plan", ["estimated_effort_hours": 8]),
                                     ("POST", "/v1/versions/\(version["id"] as? String ?? "")/deliver", [:]),
                                     ("POST", "/v1/step-sequences", ["ticket_type": "x", "steps": [["name": "A", "group_id": "n1"]]]),
                                     ("POST", "/v1/tickets/\(planned)/steps", ["ticket_type": "melhoria-fiscal"]),
                                     ("POST", "/v1/tickets/\(planned)/steps/advance", [:]),
                                     ("POST", "/v1/tickets/\(planned)/fields", ["fields": [["key": "documento", "value": "x"]]])] as [(String, String, [String: Any]?)] {
            let answer = try gateway.request(method, path, json: body, bearer: maria)
            #expect(answer.status == 403 || answer.status == 404, "\(method) \(path): \(answer.status) \(answer.text)")
        }
        #expect((try gateway.request("GET", "/v1/versions?include_delivered=true", bearer: seeded.admin).json["versions"] as? [Any])?.count == 1)
        #expect((try gateway.request("GET", "/v1/step-sequences", bearer: seeded.admin).json["sequences"] as? [Any])?.count == 1)
        let after = try Self.workflow(gateway, planned, bearer: seeded.admin)
        #expect(Self.fields(after)["documento"] == "EF-2025-14" && Self.int(after["step_position"]) == 1, "\(after)")
        #expect(((try Self.workflow(gateway, waiting, bearer: seeded.admin))["row"] as? [String: Any])?["stage"] as? String == "para_desenvolver")
    }
}
