import Foundation
@testable import GatewayCore
import Storage
import Testing
import TestSupport

/// Every API key names the person behind it (`created_by`), so a disabled maker stops it: a key
/// made with a key records the person behind the making key; keys made before that was recorded
/// are found for review and make no keys.
@Suite("API keys: the maker chain, and keys with no recorded maker", .serialized)
struct APIKeyMakerTests {
    @Test("""
          a key made with a key (and one made with that) records the person behind the making key, and stops when that person \
          is disabled; a key with no recorded maker is listed by GET /v1/api-keys?maker=unknown while not revoked and may not \
          make keys (403 API_KEY_MAKER_UNKNOWN); another filter value is 400
          """, arguments: TestEngines.all)
    func makerChain(engine: DatabaseEngine) throws {
        let gateway = try GatewayHarness(engine: engine)
        let admin = try gateway.adminToken()
        let rosa = try gateway.createUser(admin: admin, email: "rosa@suporte.example", role: "administrator", accessLevel: 3)
        let rosaID = try #require(((try gateway.request("GET", "/v1/me", bearer: rosa)).json["user"] as? [String: Any])?["id"] as? String)
        func key(_ name: String, by bearer: String) throws -> (key: String, record: [String: Any]) {
            let created = try gateway.request("POST", "/v1/api-keys", json: ["name": name, "role": "administrator", "access_level": 3], bearer: bearer)
            #expect(created.status == 201, "\(created.text)")
            return (try #require(created.json["key"] as? String), created.json["api_key"] as? [String: Any] ?? [:])
        }
        let rosas = try key("rosa", by: rosa)
        let chained = try key("made with rosa's key", by: rosas.key)
        let chainedTwice = try key("made with that", by: chained.key)
        for made in [rosas, chained, chainedTwice] { #expect(made.record["created_by"] as? String == rosaID, "\(made.record)") }

        // Disabling Rosa stops every key down her chain; enabling her restores them.
        #expect(try gateway.request("POST", "/v1/users/\(rosaID)/disable", bearer: admin).status == 204)
        for made in [rosas, chained, chainedTwice] {
            let refused = try gateway.request("GET", "/v1/me", bearer: made.key)
            #expect(refused.status == 401 && refused.errorCode == "API_KEY_CREATOR_DISABLED", "\(refused.text)")
        }
        #expect(try gateway.request("POST", "/v1/users/\(rosaID)/enable", bearer: admin).status == 204)
        #expect(try gateway.request("GET", "/v1/me", bearer: chainedTwice.key).status == 200)

        // A key from before makers were recorded along the chain (made with a key: no maker).
        let database = try openDatabase(.fromEnvironment(service: "gateway", dataDirectory: gateway.directory.path, environment: gateway.environment),
                                        migrations: [])
        defer { database.close() }
        let legacy = try CredentialStore(database: database, revocationCheckMilliseconds: 0)
            .createAPIKey(name: "antiga", role: .administrator, organizationID: nil, accessLevel: 3, permissions: [], createdBy: nil)
        let unknown = try gateway.request("GET", "/v1/api-keys?maker=unknown", bearer: admin)
        #expect(unknown.status == 200, "\(unknown.text)")
        #expect((unknown.json["api_keys"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } == [legacy.record.id], "\(unknown.text)")
        #expect((try gateway.request("GET", "/v1/api-keys", bearer: admin).json["api_keys"] as? [[String: Any]] ?? []).count == 4)
        #expect(try gateway.request("GET", "/v1/me", bearer: legacy.key).status == 200, "it keeps working until revoked")
        let making = try gateway.request("POST", "/v1/api-keys", json: ["name": "nova", "role": "agent"], bearer: legacy.key)
        #expect(making.status == 403 && making.errorCode == "API_KEY_MAKER_UNKNOWN", "\(making.text)")
        #expect(making.text.contains("não tem criador registrado") && making.text.contains("no recorded maker"), "\(making.text)")
        let invalid = try gateway.request("GET", "/v1/api-keys?maker=someone", bearer: admin)
        #expect(invalid.status == 400 && invalid.text.contains("\"maker\""), "\(invalid.text)")

        #expect(try gateway.request("DELETE", "/v1/api-keys/\(legacy.record.id)", bearer: admin).status == 204)
        #expect((try gateway.request("GET", "/v1/api-keys?maker=unknown", bearer: admin).json["api_keys"] as? [[String: Any]])?.isEmpty == true)
    }
}
