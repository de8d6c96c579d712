import Foundation
import Storage
import Testing
import TestSupport

/// A kind's several audience rules over HTTP (`/v1/notification-rules/{kind}/entries`), through
/// the real gateway and services.
@Suite("Notification rules of a kind and webhooks over HTTP: added, edited, removed", .serialized)
struct NotificationRuleRoutesTests {
    @Test("An administrator adds a rule (201, with its id; the kind keeps the default's), edits it and removes it; a bad address, a rule naming nobody and an unknown kind are 400 naming the field; an unknown id is 404; agents get 403",
          arguments: TestEngines.all)
    func rulesOfAKind(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let admin = seeded.admin
        func field(_ response: GatewayHarness.Response) -> String? {
            ((response.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first?["field"] as? String
        }
        func entries(_ json: [String: Any]) -> [[String: Any]] { (json["rule"] as? [String: Any])?["entries"] as? [[String: Any]] ?? [] }

        let added = try gateway.request("POST", "/v1/notification-rules/SolutionGiven/entries",
                                        json: ["entry": ["audiences": ["chefe"], "addresses": ["fiscal@suporte.example"],
                                                         "filter": ["priorities": ["URGENTE"]]]], bearer: admin)
        #expect(added.status == 201, "\(added.text)")
        let id = try #require((added.json["entry"] as? [String: Any])?["id"] as? String)
        #expect(entries(added.json).compactMap { $0["audiences"] as? [String] } == [["customer"], ["chefe"]], "\(added.text)")

        let edited = try gateway.request("POST", "/v1/notification-rules/SolutionGiven/entries/\(id)",
                                         json: ["entry": ["addresses": ["diretoria@suporte.example"]]], bearer: admin)
        #expect(edited.status == 200, "\(edited.text)")
        #expect(entries(edited.json).last?["addresses"] as? [String] == ["diretoria@suporte.example"] && entries(edited.json).last?["filter"] == nil,
                "\(edited.text)")

        let badAddress = try gateway.request("POST", "/v1/notification-rules/SolutionGiven/entries",
                                             json: ["entry": ["addresses": ["diretoria@@suporte"]]], bearer: admin)
        #expect(badAddress.status == 400 && field(badAddress) == "entry.addresses[0]" && badAddress.text.contains("Endereço de e-mail inválido"),
                "\(badAddress.text)")
        let nobody = try gateway.request("POST", "/v1/notification-rules/SolutionGiven/entries", json: ["entry": [:] as [String: Any]], bearer: admin)
        #expect(nobody.status == 400 && field(nobody) == "entry.audiences", "\(nobody.text)")
        let unknownKind = try gateway.request("POST", "/v1/notification-rules/TicketExploded/entries", json: ["entry": ["audiences": ["holder"]]], bearer: admin)
        #expect(unknownKind.status == 400 && field(unknownKind) == "event_kind", "\(unknownKind.text)")
        #expect(try gateway.request("DELETE", "/v1/notification-rules/SolutionGiven/entries/rule-nope", bearer: admin).status == 404)
        #expect(try gateway.request("POST", "/v1/notification-rules/SolutionGiven/entries", json: ["entry": ["audiences": ["holder"]]],
                                    bearer: seeded.ana).status == 403)
        #expect(try gateway.request("DELETE", "/v1/notification-rules/SolutionGiven/entries/\(id)", bearer: seeded.ana).status == 403)

        let removed = try gateway.request("DELETE", "/v1/notification-rules/SolutionGiven/entries/\(id)", bearer: admin)
        #expect(removed.status == 200 && entries(removed.json).compactMap { $0["audiences"] as? [String] } == [["customer"]], "\(removed.text)")
        let listed = try gateway.request("GET", "/v1/notification-rules", bearer: admin).json
        let changes = (listed["recent_changes"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
        #expect(changes == ["rule_removed", "rule_updated", "rule_added"], "\(changes)")
    }

    @Test("An administrator edits a webhook's kinds and filter (POST /v1/webhooks/{id}); an unknown kind is 400 naming the field, an unknown id 404, agents 403",
          arguments: TestEngines.all)
    func webhookEdited(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let admin = seeded.admin
        func field(_ response: GatewayHarness.Response) -> String? {
            ((response.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first?["field"] as? String
        }
        let registered = try gateway.request("POST", "/v1/webhooks", json: ["url": "https://hooks.example/ocorrencias", "event_kinds": ["TicketOpened"]],
                                             bearer: admin)
        #expect(registered.status == 201, "\(registered.text)")
        let id = try #require((registered.json["webhook"] as? [String: Any])?["id"] as? String)
        let edited = try gateway.request("POST", "/v1/webhooks/\(id)", json: ["event_kinds": ["*"], "filter": ["priorities": ["URGENTE"]]], bearer: admin)
        let webhook = edited.json["webhook"] as? [String: Any]
        #expect(edited.status == 200 && webhook?["event_kinds"] as? [String] == ["*"]
                && (webhook?["filter"] as? [String: Any])?["priorities"] as? [String] == ["URGENTE"]
                && webhook?["url"] as? String == "https://hooks.example/ocorrencias", "\(edited.text)")
        let badKind = try gateway.request("POST", "/v1/webhooks/\(id)", json: ["event_kinds": ["TicketExploded"]], bearer: admin)
        #expect(badKind.status == 400 && field(badKind) == "event_kinds[0]", "\(badKind.text)")
        #expect(try gateway.request("POST", "/v1/webhooks/no-such-hook", json: ["event_kinds": ["*"]], bearer: admin).status == 404)
        #expect(try gateway.request("POST", "/v1/webhooks/\(id)", json: ["event_kinds": ["TicketOpened"]], bearer: seeded.ana).status == 403)
        let listed = try gateway.request("GET", "/v1/webhooks", bearer: admin).json["webhooks"] as? [[String: Any]] ?? []
        #expect(listed.count == 1 && listed.first?["event_kinds"] as? [String] == ["*"], "\(listed)")
    }
}
