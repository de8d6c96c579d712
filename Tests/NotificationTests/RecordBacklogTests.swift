import Foundation
@testable import NotificationCore
import Storage
import Testing
import TestSupport

/// When the database records outcomes slower than the relay accepts messages, sending waits for
/// the recorder instead of the results piling up in memory (and as rows left `sending`).
@Suite("Notification: sending waits for a recorder that fell behind (PostgreSQL)", .enabled(if: PostgresTestServer.isEnabled))
struct RecordBacklogTests {
    static func message(_ index: Int) -> [UInt8] {
        Array(("From: suporte@suporte.example\r\nTo: jose@cliente.example\r\nMessage-ID: <held-\(index)@suporte.example>\r\n"
            + "Subject: Assunto \(index)\r\n\r\nmensagem \(index)\r\n").utf8)
    }

    @Test("With the recorder's commits blocked, at most the record backlog and a lane's depth are sent; once unblocked every message goes out exactly once")
    func sendingWaitsForTheRecorder() throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        defer { sink.stop() }
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.claimBatch = 32
        settings.laneConcurrency = 2
        settings.recordBacklog = 64
        let harness = try NotificationHarness(engine: .postgres, settings: settings)
        let database = harness.database

        // Every recorded e-mail adds an `EmailSent` row to the outbox: with the outbox locked,
        // the recorder's transactions wait at their commit, as behind a slow statement.
        let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), holderDone = DispatchSemaphore(value: 0)
        Thread {
            _ = try? database.write { tx in
                _ = try tx.execute("LOCK TABLE storage_outbox IN EXCLUSIVE MODE", [])
                locked.signal()
                _ = release.wait(timeout: .now() + 120)
            }
            holderDone.signal()
        }.start()
        var released = false
        defer {
            if !released { release.signal() }
            holderDone.wait()
        }
        #expect(locked.wait(timeout: .now() + 10) == .success)

        let total = 1_000
        let lane = "email|" + DeliveryPlanner.host(of: settings.smtpURL)
        try database.write { tx in
            let now = Date()
            _ = try DeliveryStore.insertAll(tx, (0..<total).map { index in
                (delivery: NewDelivery(id: String(format: "held-%05d", index), eventID: "e-\(index)", recipient: "jose@cliente.example",
                                       channel: .email, eventKind: "TicketOpened", ticketID: "t-\(index)", lane: lane,
                                       envelopeTo: ["jose@cliente.example"], messageID: "held-\(index)@suporte.example",
                                       subject: "Assunto \(index)", payload: Self.message(index)),
                 now: now)
            })
        }

        // Sending stops at the limit: the results in the recorder's queue (64), what the lane
        // held when it was reached (its depth, 128) and one claim in progress (32).
        let limit = settings.recordBacklog + max(2 * settings.claimBatch, settings.laneConcurrency * 64) + settings.claimBatch
        #expect(waitFor(20) { sink.files("eml").count >= settings.recordBacklog })
        var previous = -1
        #expect(waitFor(30) {
            let now = sink.files("eml").count
            defer { previous = now }
            Thread.sleep(forTimeInterval: 0.5)
            return now == previous
        })
        let sentWhileBlocked = sink.files("eml").count
        #expect(sentWhileBlocked <= limit, "sent while the recorder was blocked: \(sentWhileBlocked)")
        let queued = try database.read { tx in
            try tx.query("SELECT count(*) AS n FROM notification_deliveries WHERE state = 'queued'", [])[0].int("n")
        }
        #expect(queued >= Int64(total - limit))

        release.signal()
        released = true
        #expect(waitFor(60) {
            (try? database.read { tx in
                try tx.query("SELECT count(*) AS n FROM notification_deliveries WHERE state = 'sent'", [])[0].int("n")
            }) == Int64(total)
        })
        #expect(waitFor(20) { sink.files("eml").count >= total })
        let messageIDs = try ReceivedMail.all(in: mailDirectory.path).compactMap { $0.headers["Message-ID"] }
        #expect(messageIDs.count == total)
        #expect(Set(messageIDs).count == total, "a message was sent twice")
    }
}
