import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Two real `notification` executables over one database (one SQLite file, or one PostgreSQL
/// database): claims in batches (SKIP LOCKED on PostgreSQL) with renewed leases.
@Suite("Notification: two instances over one database", .serialized)
struct ScaleOutTests {
    /// The delivery lease. It is the mechanism under test (the survivor takes a killed instance's
    /// claims over when their leases run out), so it stays a time, not a gate. It is renewed every
    /// third of it: a live instance whose coordinator is starved on a loaded machine for longer
    /// than two thirds of it loses its claims to the other one, which then sends them again and
    /// breaks "every message once". 2 s left only 1.3 s of such slack; 6 s leaves 4 s, at the
    /// price of about 4 s more waiting after the kill (the take-over wait below allows 40 s).
    static let leaseMilliseconds = 6_000

    final class Instances: @unchecked Sendable {
        let data: TemporaryDirectory
        let databaseURL: String?
        let secretText = "notification-scale-secret-0123456789"
        var secret: DeploymentSecret { DeploymentSecret(bytes: Array(secretText.utf8)) }

        init(engine: DatabaseEngine) throws {
            data = try TemporaryDirectory(prefix: "notification-scale")
            databaseURL = engine == .postgres ? try PostgresTestServer.shared().createDatabase() : nil
        }

        func start(smtpPort: Int) throws -> ServiceProcess {
            var environment = [
                "OCORRENCIAS_DATA_DIR": data.path, "OCORRENCIAS_SECRET": secretText,
                "NOTIFICATION_SMTP_URL": "smtp://127.0.0.1:\(smtpPort)", "NOTIFICATION_MAIL_DOMAIN": "suporte.example",
                "NOTIFICATION_POLL_MS": "50", "NOTIFICATION_LEASE_MS": String(ScaleOutTests.leaseMilliseconds),
                "NOTIFICATION_CLAIM_BATCH": "4",
                "WORKFLOW_ADDRESSES": "127.0.0.1:1",
            ]
            if let databaseURL { environment["NOTIFICATION_DATABASE_URL"] = databaseURL }
            return try ServiceProcess(name: "notification", environment: environment)
        }

        func client(_ process: ServiceProcess) -> RPCClient {
            RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: process.port)], secret: secret))
        }

        /// The shared database, opened by the test to see who sent what.
        func database() throws -> any Database {
            try openDatabase(DatabaseConfiguration(url: databaseURL, sqlitePath: "\(data.path)/notification.sqlite"), migrations: [])
        }

        func stats(_ client: RPCClient) throws -> NotificationV1.GetStatsResponse {
            try client.call(NotificationV1.Notification.getStats, NotificationV1.GetStatsRequest(),
                            options: CallOptions(timeoutMilliseconds: 10_000,
                                                 metadata: PrincipalSigner(secret: secret).metadata(for: NotificationHarness.administrator())))
        }
    }

    static func deliver(_ client: RPCClient, _ events: [IntakeV1.TicketOpened], ids: [String]) throws {
        var request = EventsV1.DeliverEventsRequest()
        request.events = zip(events, ids).map { Events.envelope($0, id: $1, key: $0.ticketID) }
        _ = try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 20_000))
    }

    /// Message-IDs of the mails the sink stored, read from the files (one per accepted message).
    static func messageIDs(_ directory: String) -> [String] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".eml") }
        return files.compactMap { name in
            guard let text = try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8) else { return nil }
            return text.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("message-id:") }
        }
    }

    @Test("Both instances send, every message reaches the sink exactly once; after one is killed mid-send the other finishes its work",
          arguments: TestEngines.all)
    func twoDispatchers(engine: DatabaseEngine) throws {
        let mail = try TemporaryDirectory(prefix: "sink")
        // A slow sink (40 ms per message) keeps claims in flight long enough to kill one holder mid-send.
        let sink = try PythonPeer.smtp(directory: mail.path, extra: ["--delay-ms", "40"])
        let instances = try Instances(engine: engine)
        let a = try instances.start(smtpPort: sink.port)
        let b = try instances.start(smtpPort: sink.port)
        defer { a.stop(); b.stop() }
        let clientA = instances.client(a), clientB = instances.client(b)
        defer { clientA.close(); clientB.close() }

        // Phase 1: events split over both instances, each also redelivered to the other one.
        let first = (0..<40).map { Events.opened(ticketID: "t-scale-\($0)") }
        let firstIDs = first.map { "ev-\($0.ticketID)" }
        for start in stride(from: 0, to: first.count, by: 10) {
            let events = Array(first[start..<start + 10]), ids = Array(firstIDs[start..<start + 10])
            try Self.deliver(start % 20 == 0 ? clientA : clientB, events, ids: ids)
            try Self.deliver(start % 20 == 0 ? clientB : clientA, events, ids: ids)
        }
        #expect(waitFor(30) { (try? instances.stats(clientA).sent) == 40 })
        usleep(300_000)
        let phase1 = Self.messageIDs(mail.path)
        #expect(phase1.count == 40, "every message once: \(phase1.count) received")
        #expect(Set(phase1).count == 40)
        let database = try instances.database()
        defer { database.close() }
        let senders = try database.read { tx in
            try tx.query("SELECT claimed_by, COUNT(*) AS n FROM notification_deliveries GROUP BY claimed_by", [])
                .map { (try $0.text("claimed_by"), try $0.int("n")) }
        }
        #expect(senders.count == 2 && senders.allSatisfy { $0.1 > 0 }, "both instances sent: \(senders)")

        // Phase 2: a backlog given to A, which is killed (SIGKILL) while sends are in flight.
        let second = (0..<60).map { Events.opened(ticketID: "t-kill-\($0)") }
        try Self.deliver(clientA, second, ids: second.map { "ev-\($0.ticketID)" })
        #expect(waitFor(20) { Self.messageIDs(mail.path).count >= 50 })
        kill(a.process.processIdentifier, SIGKILL)
        a.process.waitUntilExit()
        let killedAt = Date()
        let inFlight = try database.read { tx in
            try tx.scalar("SELECT COUNT(*) FROM notification_deliveries WHERE state = 'sending' AND claimed_by = ?",
                          [.text("127.0.0.1:\(a.port)")])
        }
        print("\(engine): A killed with \(inFlight) deliveries claimed")

        // B takes over A's claims once their leases (6 s) expire, and finishes everything.
        #expect(waitFor(40) {
            guard let stats = try? instances.stats(clientB) else { return false }
            return stats.sent == 100 && stats.queued == 0 && stats.sending == 0
        })
        print("\(engine): all sent \(Date().timeIntervalSince(killedAt)) s after the kill")
        usleep(300_000)
        let received = Self.messageIDs(mail.path)
        let stats = try instances.stats(clientB)
        #expect(Set(received).count == 100, "no message lost: \(Set(received).count) distinct Message-IDs")
        // The only duplicates are messages A handed to the sink and died before recording,
        // resent with the same Message-ID and counted.
        #expect(received.count - 100 <= Int(stats.resends), "duplicates \(received.count - 100), resends \(stats.resends)")
        #expect(stats.failed == 0 && stats.dead == 0)
    }
}
