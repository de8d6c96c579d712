import Foundation
@testable import NotificationCore
import Storage
import Testing
import TestSupport

/// The webhooks sends are signed with are read at most a second before the send, and read
/// again at once after a change made by this instance.
@Suite("Notification: the webhooks a dispatcher signs with", .serialized)
struct WebhookCacheTests {
    @Test("a kept record serves sends until it is older than the freshness or forgotten (a change made by this instance)")
    func freshnessAndForget() throws {
        let harness = try NotificationHarness(engine: .sqlite, settings: NotificationHarness.settings(smtpPort: try FreePort.next()))
        let webhook = try WebhookAndConfidentialityTests.register(harness, url: "http://127.0.0.1:9/hook",
                                                                   secret: "first-secret-0123456789", kinds: ["TicketOpened"])
        let database = harness.database
        func rotate(to sealed: String) throws {
            #expect(try database.write { try WebhookStore.setSecret($0, id: webhook.id, sealed: sealed, previousUntil: 0) })
        }
        let cache = WebhookCache(freshness: 60)
        let start = Date()
        let first = try #require(try cache.webhook(webhook.id, in: database, now: start))
        try rotate(to: "sealed-second")
        // Within the freshness, another instance's change is not seen yet...
        #expect(try cache.webhook(webhook.id, in: database, now: start.addingTimeInterval(59))?.sealedSecret == first.sealedSecret)
        // ...and is once the record is older than it.
        #expect(try cache.webhook(webhook.id, in: database, now: start.addingTimeInterval(61))?.sealedSecret == "sealed-second")
        // A change made here is seen by the next send at once.
        try rotate(to: "sealed-third")
        cache.forget()
        #expect(try cache.webhook(webhook.id, in: database, now: start.addingTimeInterval(62))?.sealedSecret == "sealed-third")
        // Removed: nil, read again after the forget.
        #expect(try database.write { try WebhookStore.deactivate($0, id: webhook.id) })
        cache.forget()
        #expect(try cache.webhook(webhook.id, in: database, now: start.addingTimeInterval(63))?.active == false)
        #expect(try cache.webhook("no-such-webhook", in: database) == nil)
    }
}
