import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// `UpdateWebhook` with a `url`: the address checked as at registration; deliveries not yet
/// delivered follow it, delivered ones keep the address they went to.
@Suite("Notification: a webhook's URL edited", .serialized)
struct WebhookURLEditTests {
    static let secret = "receiver-secret-0123456789abcdef"

    static func update(_ harness: NotificationHarness, id: String, url: String, kinds: [String] = ["TicketOpened"],
                       as principal: AuthV1.Principal = NotificationHarness.administrator()) throws -> NotificationV1.Webhook? {
        var request = NotificationV1.UpdateWebhookRequest()
        request.id = id
        request.url = url
        request.eventKinds = kinds
        return try harness.client.call(NotificationV1.Notification.updateWebhook, request, options: harness.options(principal)).webhook
    }

    /// The tickets of the requests `receiver` verified (its secret signed them).
    static func received(_ receiver: PythonPeer, in directory: TemporaryDirectory) -> [String] {
        receiver.files("json").compactMap { name -> String? in
            guard let data = FileManager.default.contents(atPath: "\(directory.path)/\(name)"),
                  let record = try? JSONSerialization.jsonObject(with: data) as? [String: Any], record["verified"] as? Bool == true
            else { return nil }
            return (record["body"] as? [String: Any])?["ticket_id"] as? String
        }.sorted()
    }

    @Test("A webhook moved to another receiver: a delivery waiting for a retry and a dead one (retried) go to the new URL, a delivered one keeps its record (and a replay of it goes to the new URL), new events go there; same secret; the old receiver gets nothing more",
          arguments: TestEngines.all)
    func pendingDeliveriesFollowTheURL(engine: DatabaseEngine) throws {
        let oldHooks = try TemporaryDirectory(prefix: "hooks-old"), newHooks = try TemporaryDirectory(prefix: "hooks-new")
        let old = try PythonPeer.webhook(directory: oldHooks.path, secret: Self.secret)
        defer { old.stop() }
        let new = try PythonPeer.webhook(directory: newHooks.path, secret: Self.secret)
        defer { new.stop() }
        var settings = NotificationHarness.settings(smtpPort: 1)
        // A failed attempt waits long enough for the edit to come first.
        settings.retry = RetryPolicy(maxAttempts: 20, baseMilliseconds: 1_500, maxMilliseconds: 1_500)
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let admin = harness.options(NotificationHarness.administrator())
        let hook = try TicketFilterTests.register(harness, url: old.url, kinds: ["TicketOpened"])
        func delivery(_ ticketID: String) throws -> NotificationV1.Delivery? {
            try harness.deliveries(recipient: "webhook:\(hook.id)").first { $0.ticketID == ticketID }
        }

        // Delivered to the old receiver.
        #expect(try harness.deliver([TicketFilterTests.opened("t-sent", code: "2026-000951")]).accepted == 1)
        #expect(try waitFor(20) { try delivery("t-sent")?.state == "sent" })
        #expect(Self.received(old, in: oldHooks) == ["t-sent"])
        #expect(try delivery("t-sent")?.target == old.url)

        // The old receiver is gone: two deliveries fail and wait for a retry; one is then dead.
        old.stop()
        #expect(try harness.deliver([TicketFilterTests.opened("t-retry", code: "2026-000952"),
                                     TicketFilterTests.opened("t-dead", code: "2026-000953")]).accepted == 2)
        #expect(try waitFor(20) {
            try ["t-retry", "t-dead"].allSatisfy { let row = try delivery($0); return row?.state == "queued" && row?.attempts == 1 }
        }, "both failed once")
        let deadID = try #require(try delivery("t-dead")?.id)
        #expect(try harness.database.write {
            try $0.execute("UPDATE notification_deliveries SET state = 'dead' WHERE id = ? AND state = 'queued'", [.text(deadID)])
        } == 1)

        let edited = try Self.update(harness, id: hook.id, url: new.url)
        #expect(edited?.url == new.url && edited?.id == hook.id && edited?.eventKinds == ["TicketOpened"], "\(String(describing: edited))")
        #expect(try harness.client.call(NotificationV1.Notification.listWebhooks, NotificationV1.ListWebhooksRequest(), options: admin)
            .webhooks.map(\.url) == [new.url])

        // The retry goes to the new receiver, signed with the same secret.
        #expect(try waitFor(20) { try delivery("t-retry")?.state == "sent" })
        #expect(Self.received(new, in: newHooks) == ["t-retry"])
        #expect(try delivery("t-retry")?.target == new.url)
        // The dead one now names the new URL and goes there when retried.
        #expect(try delivery("t-dead")?.state == "dead" && delivery("t-dead")?.target == new.url)
        var retry = NotificationV1.RetryDeadLettersRequest()
        retry.deliveryIDs = [deadID]
        #expect(try harness.client.call(NotificationV1.Notification.retryDeadLetters, retry, options: admin).requeued == 1)
        #expect(try waitFor(20) { try delivery("t-dead")?.state == "sent" })
        // The delivered one keeps where it went.
        #expect(try delivery("t-sent")?.target == old.url && delivery("t-sent")?.state == "sent")

        // New events go to the new URL; a replay of one delivered before the edit goes there too
        // (claimed for the old address, put back for the new one: no attempt counted).
        #expect(try harness.deliver([TicketFilterTests.opened("t-after", code: "2026-000954")]).accepted == 1)
        var replay = NotificationV1.ReplayDeliveryRequest()
        replay.deliveryID = try #require(try delivery("t-sent")?.id)
        _ = try harness.client.call(NotificationV1.Notification.replayDelivery, replay, options: admin)
        let expected = ["t-after", "t-dead", "t-retry", "t-sent"]
        #expect(waitFor(20) { Self.received(new, in: newHooks) == expected })
        #expect(Self.received(new, in: newHooks) == expected)
        #expect(try waitFor(10) { try delivery("t-sent")?.state == "sent" && delivery("t-sent")?.target == new.url })
        #expect(try delivery("t-sent")?.attempts == 1, "the attempt put back is not counted")
        #expect(Self.received(old, in: oldHooks) == ["t-sent"], "the old receiver got nothing after the edit")
    }

    @Test("A webhook's new URL is checked as at registration (scheme, length, blocked networks, localhost): refusals name `url` with the reason and change nothing; an empty URL keeps it; agents are refused",
          arguments: TestEngines.all)
    func newURLChecked(engine: DatabaseEngine) throws {
        var settings = NotificationHarness.settings(smtpPort: 1)
        settings.webhookBlockedNetworks = .standard
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let hook = try TicketFilterTests.register(harness, url: "https://hooks.example/ocorrencias", kinds: ["TicketOpened"])
        func refusal(_ url: String, as principal: AuthV1.Principal = NotificationHarness.administrator())
            -> (code: RPCStatusCode?, field: String?, reason: String?) {
            let error = SuppressionTests.rpcError { _ = try Self.update(harness, id: hook.id, url: url, as: principal) }
            return (error?.code, error?.violations.first?.field, error?.violations.first?.reason)
        }
        for url in ["ftp://hooks.example/x", "https://", "not a url"] {
            let refused = refusal(url)
            #expect(refused.code == .invalidArgument && refused.field == "url", "\(url): \(refused)")
        }
        let long = refusal("https://hooks.example/" + String(repeating: "a", count: 2_100))
        #expect(long.field == "url" && long.reason == "too_long", "\(long)")
        for url in ["http://127.0.0.1:7101/", "http://[::1]/x", "http://169.254.169.254/latest", "http://localhost/x", "http://api.localhost/x",
                    "http://2130706433/", "http://0x7f.0.0.1/"] {
            let refused = refusal(url)
            #expect(refused.field == "url" && refused.reason == "blocked_network", "\(url): \(refused)")
        }
        #expect(refusal("https://erp.example/hooks", as: NotificationHarness.agent()).code == .permissionDenied)
        let listed = try harness.client.call(NotificationV1.Notification.listWebhooks, NotificationV1.ListWebhooksRequest(),
                                             options: harness.options(NotificationHarness.administrator())).webhooks
        #expect(listed.map(\.url) == ["https://hooks.example/ocorrencias"], "the refusals changed nothing")
        // A private network stays allowed (on-premises receivers); no URL keeps the one it has.
        #expect(try Self.update(harness, id: hook.id, url: "http://10.1.2.3:8080/hooks")?.url == "http://10.1.2.3:8080/hooks")
        #expect(try Self.update(harness, id: hook.id, url: "", kinds: ["*"])?.url == "http://10.1.2.3:8080/hooks")
    }
}
