import Foundation
import Storage
import Testing
import TestSupport

/// The gateway's own stored answers (``RequestContext/once(_:_:)``, ``RequestContext/replay(_:)``)
/// are given back only to a caller the route still allows: its authorisation runs before the
/// stored answer is looked up, on a retry as on a first call.
@Suite("Gateway: a stored answer replays only while the route still allows the caller")
struct ReplayAuthorizationTests {
    @Test("an administrator's invitation, resent invitation and API key replay to her retries; demoted to agent, each retry with the same key is 403 without the token or key; disabled, 401",
          arguments: TestEngines.all)
    func replaysAuthorizeAgain(engine: DatabaseEngine) throws {
        let gateway = try GatewayHarness(engine: engine)
        let admin = try gateway.adminToken()
        let email = "bia@suporte.example"
        let password = "Us3r-Passw0rd!x"
        var bia = try gateway.createUser(admin: admin, email: email, role: "administrator", password: password)
        let users = try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? []
        let biaID = try #require(users.first { $0["email"] as? String == email }?["id"] as? String)

        // Three stored answers of hers, each holding a secret (the harness shows invitation tokens).
        let invited = try gateway.request("POST", "/v1/invitations", json: ["email": "novo@suporte.example", "display_name": "Novo", "role": "agent"],
                                          headers: ["Idempotency-Key": "convite"], bearer: bia)
        #expect(invited.status == 201, "\(invited.text)")
        let invitedID = try #require((invited.json["user"] as? [String: Any])?["id"] as? String)
        let calls: [(path: String, json: [String: Any]?, key: String)] = [
            ("/v1/invitations", ["email": "novo@suporte.example", "display_name": "Novo", "role": "agent"], "convite"),
            ("/v1/users/\(invitedID)/resend-invitation", nil, "reenvio"),
            ("/v1/api-keys", ["name": "Integração da Bia", "role": "agent"], "chave"),
        ]
        func send(_ call: (path: String, json: [String: Any]?, key: String), as bearer: String) throws -> GatewayHarness.Response {
            try gateway.request("POST", call.path, json: call.json, headers: ["Idempotency-Key": call.key], bearer: bearer)
        }
        var firsts: [String: GatewayHarness.Response] = ["/v1/invitations": invited]
        for call in calls.dropFirst() {
            let first = try send(call, as: bia)
            #expect([200, 201].contains(first.status), "\(call.path): \(first.text)")
            firsts[call.path] = first
        }
        let secrets = [invited.json["token"] as? String, firsts[calls[1].path]?.json["token"] as? String,
                       firsts[calls[2].path]?.json["key"] as? String].compactMap { $0 }
        #expect(secrets.count == 3)

        // Still an administrator: every retry is the first answer.
        for call in calls {
            let retried = try send(call, as: bia)
            #expect(retried.status == firsts[call.path]?.status && retried.body == firsts[call.path]?.body, "\(call.path): \(retried.text)")
        }

        // Demoted to agent (her sessions end; she signs in again): each retry is refused as a first
        // call of hers would be, and gives back none of the secrets.
        let demoted = try gateway.request("POST", "/v1/users/\(biaID)", json: ["role": "agent"], bearer: admin)
        #expect(demoted.status == 200, "\(demoted.text)")
        bia = try gateway.token(email, password)
        for call in calls {
            let retried = try send(call, as: bia)
            #expect(retried.status == 403, "\(call.path): \(retried.status) \(retried.text)")
            #expect(!secrets.contains { retried.text.contains($0) }, "\(call.path): \(retried.text)")
        }

        // Disabled: no retry of hers is answered at all.
        #expect(try gateway.request("POST", "/v1/users/\(biaID)/disable", bearer: admin).status == 204)
        for call in calls {
            #expect(try send(call, as: bia).status == 401, "\(call.path)")
        }
    }
}
