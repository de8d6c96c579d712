import Foundation
import Messages
@testable import NotificationCore
import RPC
import Storage
import Testing
import TestSupport

/// Deliveries claimed by the transaction that inserts them (``InsertClaims``, ``ClaimingDatabase``).
@Suite("Notification: deliveries claimed at insert", .serialized)
struct ClaimAtInsertTests {
    @Test("Sent once, attempt 1, straight from the event's transaction; a rolled-back transaction (a batch applied again one event at a time) sends nothing; no resends",
          arguments: TestEngines.all)
    func claimedAtInsert(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let claimed0 = DeliveryDispatcher.timing.claimedAtInsert.load(ordering: .relaxed)
        // The batch's transaction claims `before`'s delivery, then the reply (holder unknown)
        // aborts it: nothing of it is handed to a lane. Applied again one event at a time,
        // `before` is claimed again and sent once; `after` is not applied.
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t-claim-unknown-holder"
        reply.text = "Alguma novidade?"
        let before = Events.opened(ticketID: "t-claim-before"), after = Events.opened(ticketID: "t-claim-after")
        #expect(throws: RPCError.self) {
            try harness.deliver([Events.envelope(before, key: before.ticketID), Events.envelope(reply, key: reply.ticketID),
                                 Events.envelope(after, key: after.ticketID)])
        }
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-claim-before").first?.state) == "sent" })
        usleep(300_000)
        #expect(sink.files("eml").count == 1)
        let sent = try #require(try harness.deliveries(ticketID: "t-claim-before").first)
        #expect(sent.attempts == 1 && sent.resends == 0)
        #expect(try harness.deliveries(ticketID: "t-claim-after").isEmpty)

        // A batch of events: each delivery sent once, at its first attempt; the same batch again
        // is all duplicates and sends nothing.
        let opened = (1...20).map { Events.opened(ticketID: "t-claim-\($0)") }
        let envelopes = opened.map { Events.envelope($0, key: $0.ticketID) }
        #expect(try harness.deliver(envelopes).accepted == 20)
        #expect(try harness.deliver(envelopes).duplicates == 20)
        #expect(waitFor(15) { sink.files("eml").count == 21 })
        #expect(waitFor(15) { (try? harness.stats().sent) == 21 })
        usleep(300_000)
        #expect(sink.files("eml").count == 21)
        // Every one of them went to its lane from the event's transaction (other tests running
        // meanwhile only add to the count).
        #expect(DeliveryDispatcher.timing.claimedAtInsert.load(ordering: .relaxed) - claimed0 >= 21)
        let stats = try harness.stats()
        #expect(stats.resends == 0 && stats.queued == 0 && stats.sending == 0)
        for event in opened {
            let rows = try harness.deliveries(ticketID: event.ticketID)
            #expect(rows.count == 1 && rows.first?.attempts == 1 && rows.first?.state == "sent")
        }
    }

    @Test("In a delivery of several events, a delivery whose row already exists (an older row of the same event, recipient and channel) is neither written again nor sent; the others are, once",
          arguments: TestEngines.all)
    func existingRowNotSentAgain(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let opened = (1...4).map { Events.opened(ticketID: "t-existing-\($0)") }
        let envelopes = opened.map { Events.envelope($0, key: $0.ticketID) }
        // The second event's e-mail was recorded (and sent) by an earlier run whose inbox entry is gone.
        try harness.database.write { tx in
            _ = try DeliveryStore.insert(tx, NewDelivery(
                id: "older-row", eventID: envelopes[1].id, recipient: EmailAddress.normalized("jose@cliente.example"), channel: .email,
                eventKind: "TicketOpened", ticketID: opened[1].ticketID, lane: "email|older", messageID: "older@example",
                subject: "older", payload: Array("older".utf8), state: .sent))
        }
        #expect(try harness.deliver(envelopes).accepted == 4)
        #expect(waitFor(15) { sink.files("eml").count == 3 })
        #expect(waitFor(15) { (try? harness.stats().sent) == 4 })
        usleep(300_000)
        #expect(sink.files("eml").count == 3)
        let older = try harness.deliveries(ticketID: opened[1].ticketID)
        #expect(older.map(\.id) == ["older-row"] && older.first?.subject == "older" && older.first?.attempts == 0)
        for index in [0, 2, 3] {
            let rows = try harness.deliveries(ticketID: opened[index].ticketID)
            #expect(rows.count == 1 && rows.first?.state == "sent" && rows.first?.attempts == 1)
        }
    }
}
