import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Dead letters listed, retried and discarded over RPC; finished rows pruned after the retention.
@Suite("Notification: dead letters and delivery log retention", .serialized)
struct RetentionTests {
    static func rowStates(_ harness: NotificationHarness) throws -> [String: String] {
        try harness.database.read { tx in
            Dictionary(uniqueKeysWithValues: try tx.query("SELECT ticket_id, state FROM notification_deliveries", []).map {
                (try $0.text("ticket_id"), try $0.text("state"))
            })
        }
    }

    @Test("Dead letters: paged list, discard, retry; pruning deletes old sent, failed and discarded rows and keeps dead letters",
          arguments: TestEngines.all)
    func deadLettersAndPruning(engine: DatabaseEngine) throws {
        let port = try FreePort.next()
        let mail = try TemporaryDirectory(prefix: "sink")
        var sink: PythonPeer? = try PythonPeer.smtp(directory: mail.path, port: port)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: port))
        let admin = harness.options(NotificationHarness.administrator())
        let sent = Events.opened(ticketID: "t-old-sent")
        try harness.deliver([Events.envelope(sent, key: sent.ticketID)])
        #expect(waitFor(15) { (try? Self.rowStates(harness)["t-old-sent"]) == "sent" })
        // A contact without any address: a visible `failed` row.
        let failed = Events.opened(ticketID: "t-old-failed", contactEmail: "", organizationEmail: "")
        try harness.deliver([Events.envelope(failed, key: failed.ticketID)])
        // SIGKILL: aiosmtpd's orderly stop waits for libcurl's kept connection.
        if let process = sink?.process { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        sink = nil
        let dead = (1...3).map { Events.opened(ticketID: "t-dead-\($0)") }
        try harness.deliver(dead.map { Events.envelope($0, key: $0.ticketID) })
        #expect(waitFor(20) { (try? harness.stats().dead) == 3 })

        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.listDeadLetters, NotificationV1.ListDeadLettersRequest(),
                                        options: harness.options(NotificationHarness.agent()))
        }
        var page = NotificationV1.ListDeadLettersRequest()
        page.limit = 2
        let first = try harness.client.call(NotificationV1.Notification.listDeadLetters, page, options: admin)
        #expect(first.deliveries.count == 2 && first.total == 3 && !first.nextPageToken.isEmpty)
        page.pageToken = first.nextPageToken
        let second = try harness.client.call(NotificationV1.Notification.listDeadLetters, page, options: admin)
        #expect(second.deliveries.count == 1 && second.nextPageToken.isEmpty)
        let letters = first.deliveries + second.deliveries
        #expect(Set(letters.map(\.ticketID)) == ["t-dead-1", "t-dead-2", "t-dead-3"])
        #expect(letters.allSatisfy { $0.state == "dead" && $0.attempts == 4 && !$0.serverAnswer.isEmpty })
        let byTicket = Dictionary(uniqueKeysWithValues: letters.map { ($0.ticketID, $0.id) })

        // Discard needs ids or `all`.
        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.discardDeadLetters, NotificationV1.DiscardDeadLettersRequest(), options: admin)
        }
        var discard = NotificationV1.DiscardDeadLettersRequest()
        discard.deliveryIDs = [byTicket["t-dead-1"]!]
        discard.reason = "cliente saiu / customer left"
        #expect(try harness.client.call(NotificationV1.Notification.discardDeadLetters, discard, options: admin).discarded == 1)
        let discarded = try #require(try harness.deliveries(ticketID: "t-dead-1").first)
        #expect(discarded.state == "discarded" && discarded.serverAnswer.contains("customer left"))

        // Retry one once the server is back.
        sink = try PythonPeer.smtp(directory: mail.path, port: port)
        var retry = NotificationV1.RetryDeadLettersRequest()
        retry.deliveryIDs = [byTicket["t-dead-2"]!]
        #expect(try harness.client.call(NotificationV1.Notification.retryDeadLetters, retry, options: admin).requeued == 1)
        #expect(waitFor(15) { (try? Self.rowStates(harness)["t-dead-2"]) == "sent" })
        #expect(try harness.stats().dead == 1)

        // A day later, with a one-hour retention: everything finished goes, the dead letter stays,
        // and the stored messages go with their rows (the failed row had none).
        let pieces = { try harness.database.read { tx in try tx.scalar("SELECT COUNT(*) FROM notification_payload_chunks", []) } }
        #expect(try pieces() == .integer(4))
        let deleted = try DeliveryPruner.prune(harness.database, retentionMilliseconds: 3_600_000, batch: 2,
                                               now: Date().addingTimeInterval(86_400))
        #expect(deleted == 4)
        #expect(try Self.rowStates(harness) == ["t-dead-3": "dead"])
        let deadID = try #require(try harness.deliveries(ticketID: "t-dead-3").first?.id)
        #expect(try pieces() == .integer(1))
        #expect(try PayloadChunks.readAll(harness.database, deliveryID: deadID).count > 1_000, "the dead letter keeps its message")
        // Nothing younger than the retention is touched.
        let young = Events.opened(ticketID: "t-young")
        try harness.deliver([Events.envelope(young, key: young.ticketID)])
        #expect(waitFor(15) { (try? Self.rowStates(harness)["t-young"]) == "sent" })
        #expect(try DeliveryPruner.prune(harness.database, retentionMilliseconds: 3_600_000, batch: 2) == 0)
        // Discarding everything left.
        discard.deliveryIDs = []
        discard.all = true
        #expect(try harness.client.call(NotificationV1.Notification.discardDeadLetters, discard, options: admin).discarded == 1)
        #expect(try harness.stats().dead == 0 && harness.stats().discarded == 1)
    }

    @Test("The pruning timer deletes sent rows once they pass the retention", arguments: TestEngines.all)
    func timer(engine: DatabaseEngine) throws {
        let mail = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mail.path)
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.retentionMilliseconds = 1_000
        settings.pruneIntervalMilliseconds = 200
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let event = Events.opened(ticketID: "t-prune")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { sink.files("eml").count == 1 })
        #expect(waitFor(15) { (try? Self.rowStates(harness).isEmpty) == true })
    }
}
