import Foundation
import Storage
import Testing
import TestSupport

/// `Idempotency-Key` on the POST routes made to honour it (docs/GATEWAY.md, "Idempotency-Key"),
/// through the gateway to the real services, on both engines (the gateway's database and the
/// four services' on PostgreSQL for `.postgres`): the same key twice gets the same status and
/// body and makes one effect (counted with the list route); the same key with another body is
/// 422 `FAILED_PRECONDITION`; answers holding a secret are stored sealed.
@Suite("Idempotency-Key: a retry gets the first answer and makes no second effect", .serialized)
struct IdempotentRetryTests {
    /// What the cases need made first (without keys).
    struct Seed {
        var organization = ""
        var article = ""
        var webhook = ""
        var staff = ""
        // IdempotentRetryConfigurationTests' (TicketFlowTests.seed's people and what they made).
        var admin = ""
        var maria = ""
        var ticket = ""
        var queueItems: [String] = []
        var delivery = ""
        var survey = ""
    }

    /// One route: its name (`POST <template>`, as in the route table), the path for the seed,
    /// two different valid bodies, the expected status, and the list route (path, array field)
    /// whose length counts the effect, when it has one.
    struct Case {
        var route: String
        var path: (Seed) -> String
        var first: [String: Any]
        var other: [String: Any]
        var status: Int
        /// A route whose answer's array (or number; `a.b` reaches into objects) counts the effect.
        var count: (path: String, items: String)?
        /// The answer's field holding a secret that must not be stored in clear.
        var secret: String?
        /// How many items the first call adds to the list (nil: not known, a preset's policies).
        var adds: Int? = 1
        /// A route reading what a put changes: between the first call and its retry, `other` is
        /// sent without a key, and after the retry this reads as it did then (the retry did not
        /// put `first` back).
        var state: String? = nil
        /// Where `other` goes for the 422 check when the request lives in the path (nil: `path`).
        var otherPath: ((Seed) -> String)? = nil
        /// Who calls (nil: the administrator, `admin`).
        var caller: ((Seed) -> String)? = nil
    }

    /// Working hours Monday to Friday, 8:00–18:00.
    static var week: [[String: Any]] { (1...5).map { ["weekday": $0, "intervals": [["start_minute": 480, "end_minute": 1080]]] } }

    static var cases: [Case] { [
        Case(route: "POST /v1/api-keys", path: { _ in "/v1/api-keys" }, first: ["name": "ERP", "role": "agent", "access_level": 1],
             other: ["name": "ERP 2", "role": "agent"], status: 201, count: ("/v1/api-keys", "api_keys"), secret: "key"),
        Case(route: "POST /v1/users", path: { _ in "/v1/users" },
             first: ["email": "nova@example.com", "display_name": "Nova", "role": "agent", "password": "Us3r-Passw0rd!x"],
             other: ["email": "outra@example.com", "display_name": "Outra", "role": "agent", "password": "Us3r-Passw0rd!x"],
             status: 201, count: ("/v1/users", "users")),
        Case(route: "POST /v1/invitations", path: { _ in "/v1/invitations" },
             first: ["email": "convite@example.com", "display_name": "Convidada", "role": "agent"],
             other: ["email": "convite2@example.com", "display_name": "Outra", "role": "agent"],
             status: 201, count: ("/v1/users", "users"), secret: "token"),
        Case(route: "POST /v1/users/{id}", path: { "/v1/users/\($0.staff)" }, first: ["display_name": "Bia Souza"],
             other: ["display_name": "Beatriz"], status: 200),
        Case(route: "POST /v1/users/{id}/disable", path: { "/v1/users/\($0.staff)/disable" }, first: [:], other: ["note": "x"], status: 204),
        Case(route: "POST /v1/users/{id}/enable", path: { "/v1/users/\($0.staff)/enable" }, first: [:], other: ["note": "x"], status: 204),
        Case(route: "POST /v1/webhooks", path: { _ in "/v1/webhooks" },
             first: ["url": "https://hooks.example/um", "event_kinds": ["TicketOpened"]],
             other: ["url": "https://hooks.example/dois", "event_kinds": ["TicketOpened"]],
             status: 201, count: ("/v1/webhooks", "webhooks"), secret: "secret"),
        Case(route: "POST /v1/webhooks/{id}/secret", path: { "/v1/webhooks/\($0.webhook)/secret" }, first: [:], other: ["immediately": true],
             status: 200, secret: "secret"),
        Case(route: "POST /v1/email-suppressions", path: { _ in "/v1/email-suppressions" }, first: ["address": "saiu@example.com"],
             other: ["address": "outro@example.com"], status: 201, count: ("/v1/email-suppressions", "suppressions")),
        Case(route: "POST /v1/subscriptions", path: { _ in "/v1/subscriptions" },
             first: ["subscription": ["person": "admin@example.com", "event_kind": "TicketOpened", "enabled": false]],
             other: ["subscription": ["person": "admin@example.com", "event_kind": "TicketOpened", "enabled": true]], status: 200),
        Case(route: "POST /v1/calendars", path: { _ in "/v1/calendars" },
             first: ["calendar": ["id": "cal-retry", "name": "Retry", "time_zone": "America/Sao_Paulo", "weekly": week]],
             other: ["calendar": ["id": "cal-retry", "name": "Outro", "time_zone": "America/Sao_Paulo", "weekly": week]],
             status: 200, count: ("/v1/calendars", "calendars")),
        Case(route: "POST /v1/sla-policies", path: { _ in "/v1/sla-policies" },
             first: ["policy": ["plan": "ouro", "priority": "ALTA", "first_response_minutes": 60, "resolution_minutes": 480]],
             other: ["policy": ["plan": "ouro", "priority": "ALTA", "first_response_minutes": 60, "resolution_minutes": 960]],
             status: 200, count: ("/v1/sla-policies", "policies")),
        Case(route: "POST /v1/inactivity-policies/presets", path: { _ in "/v1/inactivity-policies/presets" }, first: ["preset": "padrao"],
             other: ["preset": "totvs"], status: 200, count: ("/v1/inactivity-policies", "policies"), adds: nil),
        Case(route: "POST /v1/channels", path: { _ in "/v1/channels" }, first: ["key": "fax", "label_pt": "Fax", "active": true],
             other: ["key": "fax", "label_pt": "Telefax", "active": true], status: 200, count: ("/v1/channels?include_inactive=true", "entries")),
        Case(route: "POST /v1/organizations/{id}", path: { "/v1/organizations/\($0.organization)" }, first: ["name": "Alfa Comércio"],
             other: ["name": "Alfa Indústria"], status: 200),
        Case(route: "POST /v1/knowledge/synonyms", path: { _ in "/v1/knowledge/synonyms" }, first: ["group": ["terms": ["nf", "nota fiscal"]]],
             other: ["group": ["terms": ["os", "ordem de serviço"]]], status: 200, count: ("/v1/knowledge/synonyms", "groups")),
        Case(route: "POST /v1/knowledge/articles/{id}", path: { "/v1/knowledge/articles/\($0.article)" }, first: ["title": "Como emitir a NF-e"],
             other: ["title": "Como cancelar a NF-e"], status: 200),
        Case(route: "POST /v1/knowledge/articles/{id}/votes", path: { "/v1/knowledge/articles/\($0.article)/votes" }, first: ["helpful": true],
             other: ["helpful": false], status: 200),
    ] }

    @Test("same key twice: same status and body, one effect; same key, other body: 422; secrets sealed at rest", arguments: TestEngines.all)
    func retries(engine: DatabaseEngine) throws {
        var databases: [String: String] = [:]
        if engine == .postgres {
            for service in ["INTAKE", "WORKFLOW", "NOTIFICATION", "KNOWLEDGE"] {
                databases["\(service)_DATABASE_URL"] = try #require(try ScratchDatabase(.postgres).configuration.url)
            }
        }
        let deployment = try ProxyTests.Deployment(engine: engine, serviceEnvironment: databases)
        let gateway = deployment.gateway
        let admin = try gateway.adminToken()
        let seed = try Self.seed(gateway, admin: admin)

        let secrets = try Self.check(Self.cases, seed: seed, gateway: gateway, admin: admin)
        // Another caller's same key is another key: their own effect.
        let key = "shared-\(UUID().uuidString)"
        let other = try gateway.createUser(admin: admin, email: "outro.admin@example.com", role: "administrator")
        let mine = try gateway.request("POST", "/v1/knowledge/synonyms", json: ["group": ["terms": ["boleto", "fatura"]]], headers: ["Idempotency-Key": key], bearer: admin)
        let theirs = try gateway.request("POST", "/v1/knowledge/synonyms", json: ["group": ["terms": ["boleto", "fatura"]]], headers: ["Idempotency-Key": key], bearer: other)
        #expect(mine.status == 200 && theirs.status == 200, "\(mine.text) \(theirs.text)")
        #expect(mine.json["id"] as? String != theirs.json["id"] as? String, "one group each")

        // The stored answers (and fingerprints) never hold a secret in clear.
        #expect(secrets.count == 4)
        let gatewayDatabase = DatabaseConfiguration(url: gateway.environment["GATEWAY_DATABASE_URL"], sqlitePath: "\(gateway.directory.path)/gateway.sqlite")
        let notificationDatabase = DatabaseConfiguration(url: databases["NOTIFICATION_DATABASE_URL"], sqlitePath: "\(deployment.directory.path)/notification.sqlite")
        for configuration in [gatewayDatabase, notificationDatabase] {
            let database = try openDatabase(configuration, migrations: [])
            defer { database.close() }
            let rows = try database.read { try $0.query("SELECT fingerprint, response FROM storage_idempotency", []) }
            #expect(!rows.isEmpty)
            for row in rows {
                let stored = (try row.blob("fingerprint")) + ((try row.optionalBlob("response")) ?? [])
                for secret in secrets { #expect(!Self.contains(stored, Array(secret.utf8)), "a secret stored in clear") }
            }
        }
    }

    /// Each case with a fresh key: the first call, its retry (same status and body, no second
    /// effect), the same key with another body (422); the secrets answered.
    static func check(_ cases: [Case], seed: Seed, gateway: GatewayHarness, admin: String) throws -> [String] {
        var secrets: [String] = []
        for (index, item) in cases.enumerated() {
            let key = "retry-\(index)-\(UUID().uuidString)"
            let path = item.path(seed), bearer = item.caller?(seed) ?? admin
            let before = try item.count.map { try Self.count(gateway, $0, admin) }
            let first = try gateway.request("POST", path, json: item.first, headers: ["Idempotency-Key": key], bearer: bearer)
            #expect(first.status == item.status, "\(item.route): \(first.text)")
            let afterFirst = try item.count.map { try Self.count(gateway, $0, admin) }
            if let before, let afterFirst {
                #expect(item.adds.map { afterFirst == before + $0 } ?? true, "\(item.route): the first call's effect (\(before) → \(afterFirst))")
            }
            var between: GatewayHarness.Response?
            if let state = item.state {
                let changed = try gateway.request("POST", path, json: item.other, bearer: bearer)
                #expect(changed.status == item.status, "\(item.route), without a key: \(changed.text)")
                between = try gateway.request("GET", state, bearer: admin)
                #expect(between?.status == 200, "\(state): \(between?.text ?? "")")
            }
            let beforeRetry = try item.count.map { try Self.count(gateway, $0, admin) }
            let again = try gateway.request("POST", path, json: item.first, headers: ["Idempotency-Key": key], bearer: bearer)
            #expect(again.status == first.status, "\(item.route): \(again.text)")
            #expect(again.body == first.body, "\(item.route): the retry's answer differs:\n\(first.text)\n\(again.text)")
            if let beforeRetry { #expect(try Self.count(gateway, item.count!, admin) == beforeRetry, "\(item.route): no second effect") }
            if let state = item.state, let between {
                let now = try gateway.request("GET", state, bearer: admin)
                #expect(now.body == between.body, "\(item.route): the retry put its body again:\n\(between.text)\n\(now.text)")
            }
            let other = try gateway.request("POST", item.otherPath?(seed) ?? path, json: item.other, headers: ["Idempotency-Key": key], bearer: bearer)
            #expect(other.status == 422 && other.errorCode == "FAILED_PRECONDITION", "\(item.route): \(other.status) \(other.text)")
            if let field = item.secret {
                let secret = try #require(first.json[field] as? String, "\(item.route): \(first.text)")
                #expect(again.json[field] as? String == secret)
                secrets.append(secret)
            }
        }
        return secrets
    }

    static func seed(_ gateway: GatewayHarness, admin: String) throws -> Seed {
        var seed = Seed()
        let organization = try gateway.request("POST", "/v1/organizations", json: ["name": "Alfa", "tax_id": "11444777000161", "kind": "ORGANIZATION_CUSTOMER", "active": true],
                                               bearer: admin)
        seed.organization = try #require(organization.json["id"] as? String, "\(organization.text)")
        let article = try gateway.request("POST", "/v1/knowledge/articles", json: [
            "kind": "ARTICLE", "title": "Emissão de NF-e", "body_markdown": "Passo a passo.", "product": "ERP", "module": "Fiscal",
            "visibility": "VISIBILITY_AGENTS_ONLY", "state": "PUBLISHED"], bearer: admin)
        seed.article = try #require(article.json["id"] as? String, "\(article.text)")
        let webhook = try gateway.request("POST", "/v1/webhooks", json: ["url": "https://hooks.example/base", "event_kinds": ["TicketOpened"]],
                                          bearer: admin)
        seed.webhook = try #require((webhook.json["webhook"] as? [String: Any])?["id"] as? String, "\(webhook.text)")
        let staff = try gateway.request("POST", "/v1/users", json: ["email": "bia@example.com", "display_name": "Bia", "role": "agent",
                                                                    "password": "Us3r-Passw0rd!x"], bearer: admin)
        seed.staff = try #require((staff.json["user"] as? [String: Any])?["id"] as? String, "\(staff.text)")
        return seed
    }

    static func count(_ gateway: GatewayHarness, _ list: (path: String, items: String), _ admin: String) throws -> Int {
        let answer = try gateway.request("GET", list.path, bearer: admin)
        #expect(answer.status == 200, "\(list.path): \(answer.text)")
        var value: Any? = answer.json
        for name in list.items.split(separator: ".") { value = (value as? [String: Any])?[String(name)] }
        return (value as? [Any])?.count ?? (value as? NSNumber)?.intValue ?? 0
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        Data(haystack).range(of: Data(needle)) != nil
    }
}
