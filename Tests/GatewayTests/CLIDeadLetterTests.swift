import Foundation
import Storage
import Testing
import TestSupport

/// The dead-letter commands docs/NOTIFICATION.md gives operators ("Dead letters from the command
/// line"), run as written: `ocorre call notification/…` through the gateway's RPC port with an
/// administrator's API key, against a deployment whose SMTP relay is down and then back.
@Suite("ocorre: dead letters listed, retried and discarded from the command line", .serialized)
struct CLIDeadLetterTests {
    /// A JSON answer of `ocorre call … --json`.
    static func object(_ text: String) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:]
    }

    /// A proto3 JSON integer: int64 is written as a string, int32 as a number, zero left out.
    static func integer(_ value: Any?) -> Int {
        if let number = value as? NSNumber { return number.intValue }
        if let text = value as? String, let number = Int(text) { return number }
        return 0
    }

    @Test("with the relay down every e-mail ends dead; ListDeadLetters pages them with the total, RetryDeadLetters by id sends one once the relay is back, DiscardDeadLetters keeps the reason; an agent's key is refused")
    func deadLetters() throws {
        let relayPort = try FreePort.next()
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: [
            "NOTIFICATION_SMTP_URL": "smtp://127.0.0.1:\(relayPort)",
            "NOTIFICATION_MAX_ATTEMPTS": "2",
            "NOTIFICATION_BACKOFF_BASE_MS": "50",
            "NOTIFICATION_BACKOFF_MAX_MS": "100",
        ])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let config = deployment.gateway.directory.path + "/ocorre.json"
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "ops", "role": "administrator"], bearer: seeded.admin)
        #expect(created.status == 201, "\(created.text)")
        let key = try #require(created.json["key"] as? String)
        func call(_ method: String, _ json: String, key: String = key) throws -> (status: Int32, output: String, error: String) {
            try CLITests.ocorre(["call", "notification/\(method)", json, "--json"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        }

        // Three opens: each acknowledgement e-mail to Maria fails twice against the closed port.
        for subject in ["Pedido não grava", "Nota fiscal rejeitada", "Boleto duplicado"] {
            _ = try ReplyFilesTests.openTicket(gateway, seeded, subject: subject)
        }
        var stats: [String: Any] = [:]
        #expect(waitFor(60) {
            stats = Self.object((try? call("GetStats", "{}"))?.output ?? "")
            return Self.integer(stats["dead"]) >= 3 && Self.integer(stats["queued"]) == 0 && Self.integer(stats["sending"]) == 0
        }, "\(stats)")
        let dead = Self.integer(stats["dead"])

        // Paged as documented: the first page of two names the total and a token for the rest.
        let first = try call("ListDeadLetters", #"{"limit": 2}"#)
        #expect(first.status == 0, "\(first.error)")
        let firstPage = Self.object(first.output)
        let firstLetters = try #require(firstPage["deliveries"] as? [[String: Any]], "\(first.output)")
        #expect(firstLetters.count == 2)
        #expect(Self.integer(firstPage["total"]) == dead)
        #expect(firstLetters.allSatisfy { $0["state"] as? String == "dead" && Self.integer($0["attempts"]) == 2 }, "\(firstLetters)")
        let token = try #require(firstPage["next_page_token"] as? String)
        let rest = Self.object(try call("ListDeadLetters", #"{"limit": 1000, "page_token": "\#(token)"}"#).output)
        let restLetters = (rest["deliveries"] as? [[String: Any]]) ?? []
        #expect(restLetters.count == dead - 2)
        let ids = (firstLetters + restLetters).compactMap { $0["id"] as? String }
        #expect(Set(ids).count == dead)

        // An agent's key reaches no dead letters (administrators only).
        let agentKeyCreated = try gateway.request("POST", "/v1/api-keys", json: ["name": "erp-cliente", "role": "agent", "access_level": 1],
                                              bearer: seeded.admin)
        #expect(agentKeyCreated.status == 201, "\(agentKeyCreated.text)")
        let agentKey = try #require(agentKeyCreated.json["key"] as? String)
        let refused = try call("ListDeadLetters", "{}", key: agentKey)
        // With --json a failed call prints its error as JSON on stdout (no deliveries), the text on stderr.
        let refusedError = Self.object(refused.output)["error"] as? [String: Any]
        #expect(refused.status != 0 && refusedError?["code"] as? String == "PERMISSION_DENIED", "\(refused.output)")
        #expect(refused.error.contains("PERMISSION_DENIED") || refused.error.lowercased().contains("permiss"), "\(refused.error)")

        // The relay comes back; one dead letter retried by id is sent, and only that one.
        let sink = try SMTPSink(port: relayPort)
        let retried = Self.object(try call("RetryDeadLetters", #"{"delivery_ids": ["\#(ids[0])"]}"#).output)
        #expect(Self.integer(retried["requeued"]) == 1, "\(retried)")
        #expect(waitFor(30) { Self.integer(Self.object((try? call("GetStats", "{}"))?.output ?? "")["sent"]) == 1 })
        #expect(waitFor(10) { sink.messages().count == 1 })

        // Another discarded with the operator's reason: no longer a dead letter, never sent.
        let discarded = Self.object(try call("DiscardDeadLetters", #"{"delivery_ids": ["\#(ids[1])"], "reason": "endereço extinto"}"#).output)
        #expect(Self.integer(discarded["discarded"]) == 1, "\(discarded)")
        let kept = Self.object(try call("ListDeliveries", #"{"state": "discarded"}"#).output)
        let discardedRows = (kept["deliveries"] as? [[String: Any]]) ?? []
        #expect(discardedRows.map { $0["id"] as? String } == [ids[1]])
        #expect((discardedRows.first?["server_answer"] as? String)?.contains("endereço extinto") == true, "\(discardedRows)")
        let after = Self.object(try call("ListDeadLetters", #"{"limit": 1000}"#).output)
        let left = ((after["deliveries"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        #expect(Set(left) == Set(ids.dropFirst(2)))
        #expect(Self.integer(after["total"]) == dead - 2)
        let final = Self.object(try call("GetStats", "{}").output)
        #expect(Self.integer(final["discarded"]) == 1 && Self.integer(final["sent"]) == 1, "\(final)")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(sink.messages().count == 1, "the discarded letter is never sent")
    }
}
