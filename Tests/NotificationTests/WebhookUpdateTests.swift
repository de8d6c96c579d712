import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// `UpdateWebhook`: what an active webhook receives (kinds, filter, level, internal entries)
/// changed in place; its URL and secret stay.
@Suite("Notification: a webhook's kinds and filter edited", .serialized)
struct WebhookUpdateTests {
    static func update(_ harness: NotificationHarness, id: String, kinds: [String], filter: NotificationV1.TicketFilter? = nil,
                       level: Int32 = 0, as principal: AuthV1.Principal = NotificationHarness.administrator()) throws -> NotificationV1.Webhook? {
        var request = NotificationV1.UpdateWebhookRequest()
        request.id = id
        request.eventKinds = kinds
        request.filter = filter
        request.accessLevel = level
        return try harness.client.call(NotificationV1.Notification.updateWebhook, request, options: harness.options(principal)).webhook
    }

    @Test("A webhook registered for Exigência fiscal openings, edited to every kind of Urgente tickets: the next events follow the edit, signed with the same secret to the same URL; refusals name the field; unknown or removed ids are NOT_FOUND; agents are refused",
          arguments: TestEngines.all)
    func editedFilterApplies(engine: DatabaseEngine) throws {
        let hooks = try TemporaryDirectory(prefix: "hooks")
        let receiver = try PythonPeer.webhook(directory: hooks.path, secret: "receiver-secret-0123456789abcdef")
        defer { receiver.stop() }
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        let hook = try TicketFilterTests.register(harness, url: receiver.url, kinds: ["TicketOpened"],
                                                  filter: TicketFilterTests.filter(categories: [.exigenciaFiscal]))
        func rows() throws -> [String] { try harness.deliveries(recipient: "webhook:\(hook.id)").map(\.ticketID).sorted() }

        #expect(try harness.deliver([TicketFilterTests.opened("t-fiscal", code: "2026-000901", category: .exigenciaFiscal),
                                     TicketFilterTests.opened("t-urgent", code: "2026-000902", priority: .urgente)]).accepted == 2)
        #expect(try rows() == ["t-fiscal"])

        let edited = try Self.update(harness, id: hook.id, kinds: ["*"], filter: TicketFilterTests.filter(priorities: [.urgente]), level: 1)
        #expect(edited?.eventKinds == ["*"] && edited?.filter?.priorities == [.urgente] && edited?.filter?.categories == []
                && edited?.accessLevel == 1 && edited?.url == receiver.url && edited?.id == hook.id, "\(String(describing: edited))")
        let listed = try harness.client.call(NotificationV1.Notification.listWebhooks, NotificationV1.ListWebhooksRequest(),
                                             options: harness.options(NotificationHarness.administrator())).webhooks
        #expect(listed.map(\.id) == [hook.id] && listed.first?.filter?.priorities == [.urgente])

        #expect(try harness.deliver([TicketFilterTests.opened("t-fiscal-2", code: "2026-000903", category: .exigenciaFiscal),
                                     TicketFilterTests.opened("t-urgent-2", code: "2026-000904", priority: .urgente),
                                     TicketFilterTests.breach("t-urgent-3", code: "2026-000905", priority: .urgente)]).accepted == 3)
        #expect(try rows() == ["t-fiscal", "t-urgent-2", "t-urgent-3"], "the edit applies to the next events: Urgente tickets, every kind")
        // Same URL, same secret: the receiver verifies every request.
        #expect(waitFor(20) { receiver.files("json").count == 3 })
        let verified = try receiver.files("json").map { name -> Bool in
            let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(hooks.path)/\(name)"))) as? [String: Any]
            return record?["verified"] as? Bool == true
        }
        #expect(verified == [true, true, true], "\(verified)")

        func refusal(_ call: () throws -> Void) -> (code: RPCStatusCode?, field: String?) {
            let error = SuppressionTests.rpcError(call)
            return (error?.code, error?.violations.first?.field)
        }
        let kind = refusal { _ = try Self.update(harness, id: hook.id, kinds: ["TicketOpened", "ticketopened"]) }
        #expect(kind.code == .invalidArgument && kind.field == "event_kinds[1]", "\(kind)")
        let none = refusal { _ = try Self.update(harness, id: hook.id, kinds: []) }
        #expect(none.code == .invalidArgument && none.field == "event_kinds", "\(none)")
        let filter = refusal { _ = try Self.update(harness, id: hook.id, kinds: ["*"], filter: TicketFilterTests.filter(products: [" "])) }
        #expect(filter.field == "filter.products[0]", "\(filter)")
        #expect(refusal { _ = try Self.update(harness, id: "", kinds: ["*"]) }.field == "id")
        #expect(refusal { _ = try Self.update(harness, id: "no-such-hook", kinds: ["*"]) }.code == .notFound)
        #expect(refusal { _ = try Self.update(harness, id: hook.id, kinds: ["TicketOpened"], as: NotificationHarness.agent()) }.code == .permissionDenied)
        #expect(try harness.client.call(NotificationV1.Notification.listWebhooks, NotificationV1.ListWebhooksRequest(),
                                        options: harness.options(NotificationHarness.administrator())).webhooks.first?.eventKinds == ["*"],
                "the refusals changed nothing")
        var remove = NotificationV1.RemoveWebhookRequest()
        remove.id = hook.id
        _ = try harness.client.call(NotificationV1.Notification.removeWebhook, remove, options: harness.options(NotificationHarness.administrator()))
        #expect(refusal { _ = try Self.update(harness, id: hook.id, kinds: ["*"]) }.code == .notFound, "a removed webhook is not edited back to life")
    }
}
