import Foundation
@testable import GatewayCore
import Storage
import Testing
import TestSupport

/// Requests a careless or hostile client sends, answered as clear JSON errors.
@Suite("Bad input answered as clear errors", .serialized)
struct BadInputTests {
    /// The first of an error answer's `details`.
    static func detail(_ response: GatewayHarness.Response) -> [String: Any] {
        ((response.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first ?? [:]
    }

    @Test("a JSON body under the HTTP limit but over one call's frame limit is 413 PAYLOAD_TOO_LARGE (not a 429 rate limit) and leaves intake's connection, and the next open, working; a wrong type or an out-of-range number names its field with the Portuguese and English texts apart, and stores nothing")
    func oversizedAndMistyped() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let subject = String(repeating: "a", count: 5 << 20)
        let big = try gateway.request("POST", "/v1/tickets", json: ["subject": subject, "request": "x", "category": "DUVIDA", "priority": "BAIXA"],
                                      bearer: seeded.maria)
        #expect(big.status == 413 && big.errorCode == "PAYLOAD_TOO_LARGE", "\(big.status) \(big.text.prefix(300))")
        // The limit passed is one call's frame (4 MiB by default), stated.
        LimitsTests.expectLimit(big, 4 << 20, "4 MiB", reason: "request_too_large")
        let open = try gateway.request("POST", "/v1/tickets", json: ["subject": "Depois do grande", "request": "x", "category": "DUVIDA",
                                                                     "priority": "BAIXA", "product": "ERP"], bearer: seeded.maria)
        #expect(open.status == 201, "\(open.text)")

        let typed = try gateway.request("POST", "/v1/organizations", json: ["name": 123, "kind": "ORGANIZATION_CUSTOMER"], bearer: seeded.admin)
        #expect(typed.status == 400 && Self.detail(typed)["field"] as? String == "name", "\(typed.text)")
        #expect(Self.detail(typed)["message"] as? String == "esperava texto" && Self.detail(typed)["message_en"] as? String == "expected a string",
                "\(typed.text)")
        let wrapped = try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "z", "name": "Z", "max_access_level": 99_999_999_999]],
                                          bearer: seeded.admin)
        #expect(wrapped.status == 400 && Self.detail(wrapped)["field"] as? String == "agent.max_access_level", "\(wrapped.text)")
        #expect(try gateway.request("GET", "/v1/agents/z", bearer: seeded.admin).status == 404, "nothing stored")
    }

    @Test("every list route reads its size the same way: a negative limit or page size is 400 naming the parameter (it was taken as the default on most routes and refused on one), 0 is the default, a huge one is capped")
    func pageSizes() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let routes = ["/v1/tickets?page_size=", "/v1/tickets/search?q=nota&limit=", "/v1/backlog?page_size=", "/v1/deliveries?limit=",
                      "/v1/email-suppressions?limit=", "/v1/customers?q=a&limit=", "/v1/organizations?page_size=",
                      "/v1/mail-quarantine?page_size=", "/v1/knowledge/articles?limit="]
        for route in routes {
            let field = String(route.split(separator: "?")[1].split(separator: "&").last!.dropLast())
            let negative = try gateway.request("GET", route + "-1", bearer: seeded.admin)
            #expect(negative.status == 400 && Self.detail(negative)["field"] as? String == field, "\(route)-1: \(negative.status) \(negative.text.prefix(300))")
            #expect((Self.detail(negative)["message_en"] as? String)?.isEmpty == false, "\(route)-1: \(negative.text.prefix(300))")
            for size in ["0", "1", "99999999"] {
                let answer = try gateway.request("GET", route + size, bearer: seeded.admin)
                #expect(answer.status == 200, "\(route)\(size): \(answer.status) \(answer.text.prefix(300))")
            }
        }
    }

    @Test("the gateway's own routes: an API key's unknown role is refused (not read as agent), an access level outside 0…2147483647 is refused for keys and sign-ins, and a missing or mistyped field has a message in both languages")
    func ownRoutes() throws {
        let gateway = try GatewayHarness(engine: .sqlite)
        let admin = try gateway.adminToken()
        let role = try gateway.request("POST", "/v1/api-keys", json: ["name": "erp", "role": "superuser"], bearer: admin)
        #expect(role.status == 400 && Self.detail(role)["field"] as? String == "role", "\(role.text)")
        let level = try gateway.request("POST", "/v1/api-keys", json: ["name": "erp", "access_level": 99_999_999_999], bearer: admin)
        #expect(level.status == 400 && Self.detail(level)["field"] as? String == "access_level", "\(level.text)")
        let negative = try gateway.request("POST", "/v1/users", json: ["email": "ana@vendor.example", "display_name": "Ana", "role": "agent",
                                                                       "password": "Agente-Fiscal-2026!", "access_level": -1], bearer: admin)
        #expect(negative.status == 400 && Self.detail(negative)["field"] as? String == "access_level", "\(negative.text)")
        #expect(try gateway.request("GET", "/v1/api-keys", bearer: admin).json["api_keys"].flatMap { $0 as? [Any] }?.isEmpty == true)
        let typed = try gateway.request("POST", "/v1/api-keys", json: ["name": 5], bearer: admin)
        #expect(typed.status == 400 && Self.detail(typed)["field"] as? String == "name" && Self.detail(typed)["reason"] as? String == "invalid_type")
        #expect(Self.detail(typed)["message"] is String && Self.detail(typed)["message_en"] is String, "\(typed.text)")
        let missing = try gateway.request("POST", "/v1/users", json: ["email": "x@vendor.example"], bearer: admin)
        #expect(Self.detail(missing)["reason"] as? String == "required" && Self.detail(missing)["message_en"] as? String == "Required field.", "\(missing.text)")
        #expect(try gateway.request("POST", "/v1/api-keys", json: ["name": "erp", "role": "agent", "access_level": 3], bearer: admin).status == 201)
    }

    @Test("a ticket whose texts pass the frame limit answers 500 RESPONSE_TOO_LARGE, saying so in both languages without a bogus field detail, and leaves the gateway's connection to intake working for the next calls")
    func oversizedAnswer() throws {
        let limit = ["OCORRENCIAS_RPC_MAX_FRAME_BYTES": String(512 << 10)]
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: limit, gatewayEnvironment: limit)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        // Pages of replies keep within a third of the frame, but a page holds at least one reply:
        // a request and a reply of 95,000 three-byte characters each (570 KB) pass 512 KiB.
        let text = String(repeating: "€", count: 95_000)
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Logs colados", "request": text, "category": "PROBLEMA", "priority": "NORMAL",
            "product": "ERP", "module": "Vendas", "organization_id": seeded.organizationID], bearer: seeded.maria)
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.status) \(opened.text.prefix(300))")
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/replies", json: ["text": text], bearer: seeded.maria).status == 201)
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria, conform: false)
        #expect(view.status == 500 && view.errorCode == "RESPONSE_TOO_LARGE", "\(view.status) \(view.text.prefix(400))")
        let error = try #require(view.json["error"] as? [String: Any])
        #expect((error["details"] as? [Any])?.isEmpty == true, "the marker is not a field: \(view.text)")
        #expect((error["message"] as? String)?.contains("OCORRENCIAS_RPC_MAX_FRAME_BYTES") == true && error["message_en"] as? String != error["message"] as? String)
        // The connection was not dropped: other calls to intake answer at once.
        #expect(try gateway.request("GET", "/v1/file-limits", bearer: seeded.maria).status == 200)
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/replies", json: ["text": "curta"], bearer: seeded.maria).status == 201)
    }

    @Test("an error about a query argument names the argument the caller sent, not the request message's field (filter.priorities[0], query, version_id); a malformed number or switch in the query is 400 naming it instead of being taken as 0 or false")
    func queryArgumentNames() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        // Argument → the field the error must name (each was named by the proto's field before).
        let cases: [(String, String)] = [
            ("/v1/tickets?priority=NOPE", "priority"), ("/v1/tickets?category=ALTA,NOPE", "category"),
            ("/v1/tickets?mine=1", "mine"), ("/v1/tickets?open_only=yes", "open_only"),
            ("/v1/tickets/search?q=nota&mode=NOPE", "mode"), ("/v1/backlog?version=v1&page_size=x", "page_size"),
            ("/v1/reports/metrics.csv?from_ms=ontem", "from_ms"), ("/v1/reports/metrics.csv?to_ms=1e3", "to_ms"),
            ("/v1/time-totals?from_ms=abc", "from_ms"),
            // Workflow's period check names the day that is wrong (a bad to_day was refused on from_day).
            ("/v1/reports/metrics?from_day=2026-01-01&to_day=ontem", "to_day"), ("/v1/reports/metrics?from_day=ontem&to_day=2026-01-02", "from_day"),
            ("/v1/reports/metrics?from_day=2026-02-01&to_day=2026-01-01", "to_day"),
            // A stage no flow has was an empty list ("no tickets there"); now refused, naming `stage`.
            ("/v1/tickets?stage=em_atendimento,nova", "stage"), ("/v1/tickets/search?q=nota&stage=nova", "stage"),
            ("/v1/tickets/export.csv?stage=nova", "stage")]
        for (route, field) in cases {
            let answer = try gateway.request("GET", route, bearer: seeded.admin)
            #expect(answer.status == 400 && Self.detail(answer)["field"] as? String == field, "\(route): \(answer.status) \(answer.text.prefix(300))")
            #expect((Self.detail(answer)["message"] as? String)?.isEmpty == false && (Self.detail(answer)["message_en"] as? String)?.isEmpty == false,
                    "\(route): \(answer.text.prefix(300))")
            #expect(!answer.text.contains("filter."), "\(route): \(answer.text.prefix(300))")
        }
        // A customer's list maps `stage` to another message's field (public stage keys): the same name comes back.
        let customer = try gateway.request("GET", "/v1/tickets?page_size=-1", bearer: seeded.maria)
        #expect(customer.status == 400 && Self.detail(customer)["field"] as? String == "page_size", "\(customer.text)")
        let customerStage = try gateway.request("GET", "/v1/tickets?stage=diagnostico_tecnico", bearer: seeded.maria)
        #expect(customerStage.status == 400 && Self.detail(customerStage)["field"] as? String == "stage", "\(customerStage.text)")
        #expect((Self.detail(customerStage)["message_en"] as? String)?.contains("em_atendimento") == true, "the known keys are listed: \(customerStage.text)")
        for (route, token) in [("/v1/tickets?stage=em_atendimento,diagnostico_tecnico", seeded.admin), ("/v1/tickets?stage=em_atendimento", seeded.maria),
                               ("/v1/tickets/export.csv?stage=finalizado", seeded.admin)] {
            #expect(try gateway.request("GET", route, bearer: token).status == 200, "\(route)")
        }
        // A body field keeps its name on a route that reads a body.
        let body = try gateway.request("POST", "/v1/organizations", json: ["name": 5], bearer: seeded.admin)
        #expect(Self.detail(body)["field"] as? String == "name", "\(body.text)")
        #expect(try gateway.request("GET", "/v1/tickets?mine=true&open_only=false&newest_first=true", bearer: seeded.admin).status == 200)
    }

    @Test("a JSON body that names a member twice in one object (top level, nested, in a multipart form's JSON field) is 400 INVALID_JSON naming it and stores nothing, on the direct reader's routes and on the others; one that does not is taken")
    func duplicateKeys() throws {
        func duplicate(_ text: String) -> String? { JSONDuplicateKeys.first(in: Array(text.utf8)) }
        #expect(duplicate(#"{"a": {"b": 1, "b": 2}}"#) == "a.b")
        #expect(duplicate(#"{"a": 1, "\u0061": 2}"#) == "a")
        #expect(duplicate(#"{"files": [{"n": "x"}, {"n": "y", "n": "z"}]}"#) == "files[1].n")
        #expect(duplicate(#"{"a": "b,\"a\": 1", "b": [1, 2, {"a": 1}], "c": {"a": 2}}"#) == nil)
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let twice = Data(#"{"name": "Primeira", "kind": "ORGANIZATION_CUSTOMER", "name": "Segunda"}"#.utf8)
        let organization = try gateway.request("POST", "/v1/organizations", body: twice, headers: ["Content-Type": "application/json"], bearer: seeded.admin)
        #expect(organization.status == 400 && organization.errorCode == "INVALID_JSON" && Self.detail(organization)["field"] as? String == "name",
                "\(organization.status) \(organization.text)")
        #expect(Self.detail(organization)["reason"] as? String == "duplicate_key" && Self.detail(organization)["message_en"] is String)
        let listed = try gateway.request("GET", "/v1/organizations?name_prefix=Segunda", bearer: seeded.admin)
        #expect(!listed.text.contains("Segunda") && !listed.text.contains("Primeira"), "nothing stored: \(listed.text)")
        let nested = Data(#"{"agent": {"id": "A-dup", "name": "Um", "name": "Dois"}}"#.utf8)
        let agent = try gateway.request("POST", "/v1/agents", body: nested, headers: ["Content-Type": "application/json"], bearer: seeded.admin)
        #expect(agent.status == 400 && Self.detail(agent)["field"] as? String == "agent.name", "\(agent.text)")
        #expect(try gateway.request("GET", "/v1/agents/A-dup", bearer: seeded.admin).status == 404, "nothing stored")
        // The gateway's own routes (Decodable bodies) too.
        let key = Data(#"{"name": "erp", "role": "agent", "role": "administrator"}"#.utf8)
        let made = try gateway.request("POST", "/v1/api-keys", body: key, headers: ["Content-Type": "application/json"], bearer: seeded.admin)
        #expect(made.status == 400 && Self.detail(made)["field"] as? String == "role", "\(made.text)")
        let once = Data(#"{"name": "Terceira", "kind": "ORGANIZATION_CUSTOMER", "tax_id": "11444777000161"}"#.utf8)
        #expect(try gateway.request("POST", "/v1/organizations", body: once, headers: ["Content-Type": "application/json"], bearer: seeded.admin).status == 201)
    }

    @Test("a text over its limit is 400 too_long naming the field and stores nothing: an agent's and a group's name, a sign-in's display name, an API key's name (refused as missing before), a discussion entry (3,000,000 characters were stored), a transfer's and a time entry's note, a solution, a routing rule's product, a channel's label, a webhook's address, a template's subject")
    func longTexts() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let long = String(repeating: "x", count: 201)
        func expectTooLong(_ answer: GatewayHarness.Response, _ field: String, reason: String = "too_long", sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(answer.status == 400 && Self.detail(answer)["field"] as? String == field && Self.detail(answer)["reason"] as? String == reason,
                    "\(answer.status) \(answer.text.prefix(300))", sourceLocation: sourceLocation)
            #expect((Self.detail(answer)["message"] as? String)?.isEmpty == false && (Self.detail(answer)["message_en"] as? String)?.isEmpty == false,
                    sourceLocation: sourceLocation)
        }
        expectTooLong(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-longo", "name": long, "active": true]], bearer: seeded.admin), "agent.name")
        #expect(try gateway.request("GET", "/v1/agents/A-longo", bearer: seeded.admin).status == 404, "nothing stored")
        expectTooLong(try gateway.request("POST", "/v1/groups", json: ["group": ["id": "g-longo", "name": long, "active": true]], bearer: seeded.admin), "group.name")
        #expect(try !gateway.request("GET", "/v1/groups", bearer: seeded.admin).text.contains("g-longo"), "nothing stored")
        expectTooLong(try gateway.request("POST", "/v1/users", json: ["email": "longo@suporte.example", "display_name": long, "role": "agent",
                                                                     "password": "Agente-Fiscal-2026!"], bearer: seeded.admin), "display_name", reason: "invalid_value")
        #expect(try !gateway.request("GET", "/v1/users", bearer: seeded.admin).text.contains("longo@suporte.example"), "nothing stored")
        expectTooLong(try gateway.request("POST", "/v1/api-keys", json: ["name": long], bearer: seeded.admin), "name")
        let blank = try gateway.request("POST", "/v1/api-keys", json: ["name": "  "], bearer: seeded.admin)
        #expect(blank.status == 400 && Self.detail(blank)["reason"] as? String == "required", "\(blank.text)")

        let opened = try gateway.request("POST", "/v1/tickets", json: ["subject": "Texto longo", "request": "x", "category": "DUVIDA", "priority": "BAIXA",
                                                                       "product": "ERP"], bearer: seeded.maria)
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.admin).json["workflow"] is [String: Any] })
        let huge = String(repeating: "d", count: 100_001)
        expectTooLong(try gateway.request("POST", "/v1/tickets/\(ticketID)/discussion", json: ["text": huge], bearer: seeded.admin), "text")
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.admin)
        #expect(!view.text.contains("ddddddddddddddddddddddddd"), "nothing stored")
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/discussion", json: ["text": String(repeating: "d", count: 100_000)],
                                    bearer: seeded.admin).status == 201)

        // The other free texts of workflow's writes, and intake's and notification's configuration.
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/take", json: [:], bearer: seeded.admin).status == 200)
        let note = String(repeating: "n", count: 4_001)
        expectTooLong(try gateway.request("POST", "/v1/tickets/\(ticketID)/transfer", json: ["to_group_id": "n1", "note": note], bearer: seeded.admin), "note")
        expectTooLong(try gateway.request("POST", "/v1/tickets/\(ticketID)/time-entries", json: ["minutes": 5, "note": note], bearer: seeded.admin), "note")
        expectTooLong(try gateway.request("POST", "/v1/tickets/\(ticketID)/solution", json: ["text": String(repeating: "s", count: 100_001)],
                                          bearer: seeded.admin), "text")
        let after = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.admin)
        #expect(!after.text.contains("nnnnnnnnnnnnnnnnnnnn") && !after.text.contains("ssssssssssssssssssss"), "nothing stored")
        expectTooLong(try gateway.request("POST", "/v1/routing-rules", json: ["rule": ["id": "r-longa", "position": 7, "group_id": "n1", "product": long]],
                                          bearer: seeded.admin), "rule.product")
        #expect(try !gateway.request("GET", "/v1/routing-rules", bearer: seeded.admin).text.contains("r-longa"), "nothing stored")
        expectTooLong(try gateway.request("POST", "/v1/channels", json: ["key": "longo", "label_pt": long], bearer: seeded.admin), "label_pt")
        #expect(try !gateway.request("GET", "/v1/channels?include_inactive=true", bearer: seeded.admin).text.contains("longo"), "nothing stored")
        expectTooLong(try gateway.request("POST", "/v1/webhooks", json: ["url": "https://erp.example/" + String(repeating: "w", count: 2_048),
                                                                         "event_kinds": ["TicketOpened"]], bearer: seeded.admin), "url")
        expectTooLong(try gateway.request("POST", "/v1/templates", json: ["message_template": ["event_kind": "TicketOpened", "locale": "pt-BR",
                                                                                               "subject": String(repeating: "t", count: 999), "text": "t"]],
                                          bearer: seeded.admin), "message_template.subject")
    }
}
