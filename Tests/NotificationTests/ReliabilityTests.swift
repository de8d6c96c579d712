import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Retries, dead letters, isolation between lanes, and the resend window, against real peers.
@Suite("Notification: retries, dead letters, isolation, crash window", .serialized)
struct ReliabilityTests {
    @Test("An SMTP server answering 451 twice: retried with backoff, delivered once on the third attempt", arguments: TestEngines.all)
    func transientSMTPFailures(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, failFirst: 2)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let event = Events.opened(ticketID: "t-451")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-451").first?.state) == "sent" })
        let log = try harness.deliveries(ticketID: "t-451")
        #expect(log.first?.attempts == 3)
        #expect(log.first?.serverAnswer.hasPrefix("250") == true)
        usleep(200_000)
        #expect(sink.files("eml").count == 1)
        // One EmailSent, for the final outcome (the retried attempts publish nothing), under an
        // event id of UUID form.
        let envelopes = try harness.emailSentEnvelopes()
        #expect(envelopes.count == 1)
        let sent = try envelopes.map { try NotificationV1.EmailSent(serializedBytes: $0.payload) }
        #expect(sent.map(\.outcome) == ["sent"] && sent.first?.ticketID == "t-451")
        #expect(envelopes.allSatisfy { UUID(uuidString: $0.id) != nil && $0.key == "t-451" && $0.source == "notification" })
    }

    @Test("""
          A relay refusing a recipient (550 5.1.1): failed at the first attempt with the relay's answer in the log and an \
          EmailSent failed, not retried; the other recipients of the event get theirs
          """, arguments: TestEngines.all)
    func refusedRecipient(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: ["--reject-rcpt", "chefe@"])
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        var breach = WorkflowV1.SLABreached()
        breach.ticket = Events.summary(ticketID: "t-550", code: "2026-000550")
        breach.target = .resolution
        breach.dueAtMs = 1_796_730_900_000
        try harness.deliver([Events.envelope(breach, key: "t-550")])
        #expect(waitFor(15) {
            Set((try? harness.deliveries(ticketID: "t-550").map(\.state)) ?? []) == ["sent", "failed"]
        })
        usleep(500_000)
        let log = try harness.deliveries(ticketID: "t-550")
        let refused = try #require(log.first { $0.recipient == "chefe@suporte.example" })
        #expect(refused.state == "failed" && refused.attempts == 1, "\(refused)")
        // The relay's reason, not the "221 Bye" that ended the session after it.
        #expect(refused.serverAnswer.hasPrefix("550 5.1.1 no such user"), "\(refused.serverAnswer)")
        #expect(log.first { $0.recipient == "ana@suporte.example" }?.state == "sent")
        #expect(sink.files("eml").count == 1)
        #expect(try harness.emailSentEvents().filter { $0.ticketID == "t-550" }.map(\.outcome).sorted() == ["failed", "sent"])
    }

    @Test("""
          A relay slower than NOTIFICATION_SEND_TIMEOUT_MS to answer a message: the attempt is retried with the same bytes \
          and Message-ID, so the copies a slow relay kept anyway share one Message-ID (why the default is 10 minutes)
          """, arguments: TestEngines.all)
    func relaySlowerThanTheTimeout(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: ["--answer-delay-ms", "1500"])
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.sendTimeoutMilliseconds = 600
        settings.retry = RetryPolicy(maxAttempts: 2, baseMilliseconds: 50, maxMilliseconds: 100)
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let event = Events.opened(ticketID: "t-slow")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-slow").first?.state) == "dead" })
        let row = try #require(try harness.deliveries(ticketID: "t-slow").first)
        #expect(row.attempts == 2 && row.serverAnswer.contains("(server response timeout)"), "\(row.serverAnswer)")
        // The relay had kept each copy when the service gave up on it: the second attempt went
        // on a new connection (libcurl kept the first one, still waiting for the relay's late
        // answer, and the retry timed out on it without reaching the relay).
        #expect(waitFor(5) { sink.files("eml").count == 2 }, "\(sink.files("eml"))")
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(Set(mails.compactMap { $0.headers["Message-ID"] }) == ["<\(row.messageID)>"])
        #expect(Set(mails.map(\.text)).count == 1)
    }

    @Test("With no SMTP server a delivery goes dead after N attempts; the operator's retry sends it once the server is back",
          arguments: TestEngines.all)
    func deadLetters(engine: DatabaseEngine) throws {
        let port = try FreePort.next()
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: port))
        let event = Events.opened(ticketID: "t-dead")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-dead").first?.state) == "dead" })
        let dead = try harness.deliveries(ticketID: "t-dead")
        #expect(dead.first?.attempts == 4)
        #expect(dead.first?.serverAnswer.isEmpty == false)
        #expect(try harness.emailSentEvents().contains { $0.ticketID == "t-dead" && $0.outcome == "dead" })
        // Only administrators may requeue.
        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.retryDeadLetters, NotificationV1.RetryDeadLettersRequest(),
                                        options: harness.options(NotificationHarness.agent()))
        }
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, port: port)
        let retried = try harness.client.call(NotificationV1.Notification.retryDeadLetters, NotificationV1.RetryDeadLettersRequest(),
                                              options: harness.options(NotificationHarness.administrator()))
        #expect(retried.requeued == 1)
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-dead").first?.state) == "sent" })
        #expect(waitFor(15) { sink.files("eml").count == 1 })
    }

    @Test("A webhook endpoint that never answers does not delay e-mail", arguments: TestEngines.all)
    func deadWebhookDoesNotDelayMail(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let blackHole = try BlackHole()
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        // The hung webhook's timeout is well above the time mail is given (which is generous for
        // a loaded machine): mail that waited for the webhook lane could not make it in time.
        settings.webhookTimeoutMilliseconds = 30_000
        let harness = try NotificationHarness(engine: engine, settings: settings)
        var register = NotificationV1.RegisterWebhookRequest()
        register.url = "http://127.0.0.1:\(blackHole.port)/hook"
        register.secret = "webhook-secret-0123456789"
        register.eventKinds = ["*"]
        _ = try harness.client.call(NotificationV1.Notification.registerWebhook, register, options: harness.options(NotificationHarness.administrator()))
        let started = Date()
        let events = (0..<6).map { Events.opened(ticketID: "t-iso-\($0)") }
        try harness.deliver(events.map { Events.envelope($0, key: $0.ticketID) })
        #expect(waitFor(20) { sink.files("eml").count == 6 })
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 20, "mail flowed while the webhook hung (\(elapsed) s)")
        let webhooks = try harness.deliveries().filter { $0.channel == "webhook" }
        #expect(webhooks.count == 6)
        #expect(webhooks.allSatisfy { $0.state != "sent" }, "the webhook lane is still stuck")
    }

    @Test("Crash after the SMTP server accepted and before the log was written: the real executable resends with the same Message-ID and counts it")
    func crashWindowResend() throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let data = try TemporaryDirectory(prefix: "notification-exe")
        let secretText = "notification-exe-secret-0123456789"
        let port = try FreePort.next()
        var environment = [
            "OCORRENCIAS_DATA_DIR": data.path, "OCORRENCIAS_SECRET": secretText, "OCORRENCIAS_LOG_LEVEL": "info",
            "NOTIFICATION_SMTP_URL": "smtp://127.0.0.1:\(sink.port)", "NOTIFICATION_MAIL_DOMAIN": "suporte.example",
            "NOTIFICATION_POLL_MS": "50", "NOTIFICATION_CRASH_AFTER_ACCEPTED": "1", "WORKFLOW_ADDRESSES": "127.0.0.1:1",
        ]
        let first = try ServiceProcess(name: "notification", environment: environment, port: port)
        let secret = DeploymentSecret(bytes: Array(secretText.utf8))
        let client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], secret: secret))
        defer { client.close() }
        let event = Events.opened(ticketID: "t-crash")
        var request = EventsV1.DeliverEventsRequest()
        request.events = [Events.envelope(event, key: event.ticketID)]
        let response = try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 10_000))
        #expect(response.accepted == 1)
        #expect(waitFor(15) { !first.process.isRunning }, "the crash hook ended the process")
        #expect(first.process.terminationStatus == 70)
        #expect(sink.files("eml").count == 1, "the server had accepted it")

        environment["NOTIFICATION_CRASH_AFTER_ACCEPTED"] = "0"
        let second = try ServiceProcess(name: "notification", environment: environment, port: port)
        defer { second.stop() }
        #expect(waitFor(15) { sink.files("eml").count == 2 })
        usleep(200_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.count == 2)
        #expect(Set(mails.compactMap { $0.headers["Message-ID"] }).count == 1, "same Message-ID: receivers de-duplicate")
        // The resend reads the message stored apart from the row: the very same bytes.
        let received = try sink.files("eml").map { try Data(contentsOf: URL(fileURLWithPath: mailDirectory.path + "/" + $0)) }
        #expect(received.count == 2 && received[0] == received[1] && received[0].count > 1_000, "byte-identical resend")
        let stats = try client.call(NotificationV1.Notification.getStats, NotificationV1.GetStatsRequest(),
                                    options: CallOptions(timeoutMilliseconds: 10_000,
                                                         metadata: PrincipalSigner(secret: secret).metadata(for: NotificationHarness.administrator())))
        #expect(stats.resends == 1)
        #expect(stats.sent == 1)
    }
}

/// A TCP port that accepts connections (the kernel completes them) and never answers.
final class BlackHole: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok, listen(fd, 64) == 0 else { throw TestSupportError("black hole socket failed") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
