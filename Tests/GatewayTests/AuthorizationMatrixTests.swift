import Foundation
import GatewayCore
import Storage
import Testing
import TestSupport

/// Every route of the gateway, called by every kind of caller it must refuse
/// (``AuthorizationPolicy``), against a deployment with two customer companies: Alfa (A), whose
/// ticket, attachment, discussion, contacts and sign-ins fill the path parameters, and Beta (B),
/// whose customers try them.
@Suite("Authorization matrix: every route of the HTTP API against every caller it must refuse", .serialized)
struct AuthorizationMatrixTests {
    /// Texts of A's objects that no caller outside A may ever read.
    static let secrets = ["Segredo industrial Alfa", "anexo-secreto-alfa", "nota-interna-alfa", "resposta-publica-alfa", "replica-alfa",
                          "Alfa Segredos", "contato.alfa@", "gestora.alfa@", "Procedimento interno Alfa", "solicitante.alfa@"]

    /// What A's ticket says: an agent below its access level (1) may read none of it.
    static let ticketSecrets = ["Segredo industrial Alfa", "anexo-secreto-alfa", "nota-interna-alfa", "resposta-publica-alfa", "replica-alfa"]

    /// Query strings that make a route look for A's objects (searches, lookups).
    static let queries = ["/v1/tickets/search": "q=Segredo", "/v1/knowledge/search": "q=Procedimento%20interno",
                          "/v1/knowledge/suggest": "subject=Procedimento%20interno", "/v1/knowledge/articles": "state=PUBLISHED",
                          "/v1/customers": "q=Alfa", "/v1/organizations": "name_prefix=Alfa", "/v1/tickets": "stage=", "/v1/deliveries": "recipient=contato.alfa%40alfa.example"]

    /// What one call answered, for the report of failures.
    struct Finding: CustomStringConvertible {
        var caller: String
        var route: String
        var status: Int
        var problem: String
        var body: String
        var description: String { "\(route) as \(caller): \(status) — \(problem) — \(body.prefix(200))" }
    }

    /// Calls every route as every caller it must refuse; the findings (nothing when the policy holds).
    static func findings(_ gateway: GatewayHarness, _ callers: Callers, _ objects: Objects) throws -> [Finding] {
        var findings: [Finding] = []
        let routes = Gateway.makeRouter().routes
        for route in routes {
            let name = route.name
            guard let policy = AuthorizationPolicy.table[name] else {
                findings.append(Finding(caller: "-", route: name, status: 0, problem: "no entry in AuthorizationPolicy.table", body: ""))
                continue
            }
            let path = path(route.template, objects) + (queries[route.template].map { "?" + $0 } ?? "")
            let unsafe = !["GET", "HEAD"].contains(route.method)
            let carriesIDs = route.template.contains("{")
            func call(_ caller: String, bearer: String? = nil, headers: [String: String] = [:]) throws -> GatewayHarness.Response {
                let body: Data? = route.method == "POST" ? Data(route.template == "/v1/attachments" ? "x".utf8 : "{}".utf8) : nil
                var headers = headers
                if body != nil { headers["Content-Type"] = route.template == "/v1/attachments" ? "text/plain" : "application/json" }
                let response = try gateway.request(route.method, path, body: body, headers: headers, bearer: bearer, conform: OpenAPISpec.shared.operations[name] != nil)
                if response.status >= 500 {
                    findings.append(Finding(caller: caller, route: name, status: response.status, problem: "server error", body: response.text))
                }
                return response
            }
            func expect(_ caller: String, _ response: GatewayHarness.Response, _ allowed: Set<Int>, _ what: String) {
                if !allowed.contains(response.status) {
                    findings.append(Finding(caller: caller, route: name, status: response.status, problem: "expected \(what)", body: response.text))
                }
            }
            func noSecrets(_ caller: String, _ response: GatewayHarness.Response) {
                let text = response.text
                if let leaked = secrets.first(where: { text.contains($0) }) {
                    findings.append(Finding(caller: caller, route: name, status: response.status, problem: "leaks \(leaked)", body: text))
                }
                if !carriesIDs, text.contains(objects.ticketA) {
                    findings.append(Finding(caller: caller, route: name, status: response.status, problem: "leaks A's ticket id", body: text))
                }
            }
            // Without credentials.
            let anonymous = try call("anonymous")
            if policy == .everyone { noSecrets("anonymous", anonymous) } else { expect("anonymous", anonymous, [401], "401") }
            guard policy != .everyone else { continue }
            // A portal session without (or with a wrong) CSRF token on an unsafe method.
            if unsafe {
                let none = try call("cookie without CSRF", headers: callers.cookieA.cookieOnly)
                expect("cookie without CSRF", none, [403], "403 CSRF_TOKEN_MISMATCH")
                if none.status == 403 && none.errorCode != "CSRF_TOKEN_MISMATCH" {
                    findings.append(Finding(caller: "cookie without CSRF", route: name, status: 403, problem: "not CSRF_TOKEN_MISMATCH", body: none.text))
                }
                let wrong = try call("cookie with a wrong CSRF token", headers: ["Cookie": callers.cookieA.cookie, "X-CSRF-Token": "x" + callers.cookieA.csrf])
                expect("cookie with a wrong CSRF token", wrong, [403], "403")
            }
            // Logging out ends the caller's token: its refusals above are what matters.
            if name == "POST /v1/auth/logout" { continue }
            let refused: Set<Int> = carriesIDs ? [403, 404] : [403]
            // B's customers with A's ids.
            for (caller, token) in [("B's contact", callers.contactB), ("B's company administrator", callers.adminB),
                                    ("B's representative", callers.representativeB)] {
                let response = try call(caller, bearer: token)
                noSecrets(caller, response)
                switch policy {
                case .signedIn where route.template.contains("{id}"):
                    // A's internal article (read, versions, votes): customers may not reach it.
                    expect(caller, response, [403, 404], "403 or 404")
                case .everyone, .signedIn: break
                case .companyAdmin where !carriesIDs && caller == "B's company administrator": break  // its own company's
                case .ticketParty, .companyAdmin, .directory: expect(caller, response, [403, 404], "403 or 404")
                case .staff, .work, .editor, .admin: expect(caller, response, refused, "403")
                }
            }
            // A's plain contact on staff and administration routes; on what it may read, never an
            // internal entry of its ticket nor an internal article.
            if [.companyAdmin, .directory, .staff, .work, .editor, .admin].contains(policy) {
                expect("A's contact", try call("A's contact", bearer: callers.contactA), [403], "403")
            } else if !unsafe {
                let response = try call("A's contact", bearer: callers.contactA)
                if let leaked = ["nota-interna-alfa", "Procedimento interno Alfa"].first(where: { response.text.contains($0) }) {
                    findings.append(Finding(caller: "A's contact", route: name, status: response.status, problem: "leaks \(leaked)", body: response.text))
                }
            }
            // Staff on administration and knowledge-writing routes.
            if [.companyAdmin, .editor, .admin].contains(policy) {
                expect("agent", try call("agent", bearer: callers.agent), refused, "403")
                expect("chefe", try call("chefe", bearer: callers.chefe), refused, "403")
            }
            // The agent below A's ticket's level: none of its content, and no change to it.
            let onTicket = route.template.hasPrefix("/v1/tickets/{id}") || route.template.hasPrefix("/v1/attachments/{id}")
            if !unsafe || onTicket {
                let response = try call("agent below the ticket's level", bearer: callers.agent)
                if let leaked = ticketSecrets.first(where: { response.text.contains($0) }) {
                    findings.append(Finding(caller: "agent below the ticket's level", route: name, status: response.status, problem: "leaks \(leaked)",
                                            body: response.text))
                }
                if onTicket && (unsafe || route.template == "/v1/attachments/{id}") && (200..<300).contains(response.status) {
                    findings.append(Finding(caller: "agent below the ticket's level", route: name, status: response.status,
                                            problem: "acts on a ticket it cannot see", body: response.text))
                }
            }
            // The read-only integration key beyond `tickets.read`.
            // It reads what staff read, but changes no ticket and nothing of intake's directory.
            let keyWrites = unsafe && ([.directory, .staff, .ticketParty].contains(policy) || route.template.hasPrefix("/v1/tickets"))
            if [.companyAdmin, .work, .editor, .admin].contains(policy) || keyWrites {
                expect("read-only key", try call("read-only key", bearer: callers.key), refused, "403")
            }
        }
        return findings
    }

    /// A few things an administrator reads before and after the matrix: none of the refused
    /// writes may have changed them.
    static func snapshot(_ gateway: GatewayHarness, _ admin: String, _ objects: Objects) throws -> [String] {
        let paths = ["/v1/calendars", "/v1/webhooks", "/v1/api-keys", "/v1/groups?include_inactive=true", "/v1/roles",
                     "/v1/organizations/\(objects.organizationA)", "/v1/organizations/\(objects.organizationA)/contacts?include_inactive=true",
                     "/v1/knowledge/articles/\(objects.articleInternal)", "/v1/versions?include_delivered=true", "/v1/routing-rules",
                     "/v1/email-suppressions", "/v1/notification-rules"]
        var out = try paths.map { "\($0): \(try gateway.request("GET", $0, bearer: admin).text)" }
        let users = try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? []
        out.append("users: \(users.map { "\($0["email"] ?? "") \($0["status"] ?? "") \($0["role"] ?? "")" }.sorted())")
        let view = try gateway.request("GET", "/v1/tickets/\(objects.ticketA)", bearer: admin).json
        let intake = view["intake"] as? [String: Any] ?? [:]
        let ticket = intake["ticket"] as? [String: Any] ?? intake
        out.append("ticket: \(ticket["status"] ?? "") \(ticket["contact_id"] ?? "") \((ticket["messages"] as? [Any])?.count ?? -1)")
        let workflow = view["workflow"] as? [String: Any] ?? [:]
        let row = workflow["row"] as? [String: Any] ?? [:]
        out.append("workflow: \(row["stage"] ?? "-") \(row["status"] ?? "-") \(row["priority"] ?? "-") \(row["category"] ?? "-") \(row["access_level"] ?? "-") \((row["holder"] as? [String: Any])?["agent_id"] ?? "-") "
                   + "\(workflow["request"] ?? "-") \(workflow["solution"] ?? "-") \((workflow["discussion"] as? [[String: Any]])?.map { "\($0["kind"] ?? "") \($0["is_public"] ?? "") \($0["publishable"] ?? "")" } ?? [])")
        return out
    }

    @Test("every route refuses the callers its policy refuses, leaks none of A's data, never answers 5xx", arguments: TestEngines.all)
    func matrix(engine: DatabaseEngine) throws {
        // Some 1,500 requests from one address within a minute.
        let deployment = try ProxyTests.Deployment(engine: engine, gatewayEnvironment: ["GATEWAY_RATE_LIMIT_IP": "100000",
                                                                                       "GATEWAY_RATE_LIMIT_USER": "100000"])
        let gateway = deployment.gateway
        let (callers, objects) = try Self.seed(gateway)
        let before = try Self.snapshot(gateway, callers.admin, objects)
        let findings = try Self.findings(gateway, callers, objects) + Self.bodyFindings(gateway, callers, objects)
        for finding in findings { Issue.record("\(finding)") }
        let after = try Self.snapshot(gateway, callers.admin, objects)
        for (a, b) in zip(before, after) where a != b { Issue.record("changed by refused calls:\n before \(a)\n after  \(b)") }
        // The table has no entry for a route that no longer exists.
        let names = Set(Gateway.makeRouter().routes.map(\.name))
        #expect(Set(AuthorizationPolicy.table.keys).subtracting(names).sorted() == [])
    }
}
