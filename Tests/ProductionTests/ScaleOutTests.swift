import Foundation
import LoadDriverKit
import Messages
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

@Suite("Production: two instances of workflow and of notification on one PostgreSQL database each", .serialized)
struct ScaleOutTests {
    @Test("calls and event deliveries spread over both instances; nothing delivered twice or skipped; losing one instance of each keeps the system working")
    func twoInstances() throws {
        guard PostgresTestServer.isEnabled else { return }
        let cluster = try Cluster(engine: .postgres, instances: ["workflow": 2, "notification": 2])
        defer { cluster.stop() }
        let callers = Callers(cluster.deployment)
        defer { callers.close() }
        let cast = try Cast.setUp(callers, tag: "S")
        var journey = Journey(callers: callers, cast: cast)
        journey.stepTimeout = 45
        let run = LoadRun(journey: journey, rate: 4, seconds: 10, maxInFlight: 100, tag: "S")
        let outcome = Mutex<(RunState, RunFigures)?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            let result = run.run()
            outcome.withLock { $0 = result }
            finished.signal()
        }
        thread.start()
        // Half-way, one instance of each scaled service dies for good.
        Thread.sleep(forTimeInterval: 5)
        let workflowCallsBefore = (0..<2).map { cluster.log("workflow", $0).components(separatedBy: "ocorrencias.workflow.v1.Workflow/").count - 1 }
        let deliveriesBefore = (0..<2).map { cluster.log("notification", $0).components(separatedBy: "EventSink/Deliver").count - 1 }
        cluster.kill("workflow", 1)
        cluster.kill("notification", 1)
        #expect(finished.wait(timeout: .now() + 180) == .success)
        let (state, figures) = try #require(outcome.withLock { $0 })

        #expect(workflowCallsBefore.allSatisfy { $0 > 0 }, "workflow calls per instance: \(workflowCallsBefore)")
        #expect(deliveriesBefore.allSatisfy { $0 > 0 }, "event deliveries per notification instance: \(deliveriesBefore)")
        #expect(figures.opened >= 30, "\(figures)")
        #expect(state.records.allSatisfy { $0.step == .finished }, "\(state.records.filter { $0.step != .finished })")

        let report = Verifier(callers: callers, cast: cast, databases: cluster.databases, mailDirectory: cluster.sink.directory)
            .verify(state.records)
        #expect(report.ok, "\(report)")
        #expect(report.lost == 0 && report.duplicated == 0, "\(report)")
        #expect(report.expectedMails == state.records.count * 5)
    }
}

extension ScaleOutTests {
    @Test("a delivery left mid-send by a notification instance that died for good is taken over by the other instance once its lease expires, with the same Message-ID")
    func deadInstanceLeaseTakeover() throws {
        guard PostgresTestServer.isEnabled else { return }
        let directory = try TemporaryDirectory(prefix: "lease")
        let sink = try SMTPSink(directory: "\(directory.path)/mail")
        let secretText = "lease-secret-\(UUID().uuidString)"
        let database = try PostgresTestServer.shared().createDatabase()
        func environment(_ name: String, crash: Bool) -> [String: String] {
            ["OCORRENCIAS_DATA_DIR": "\(directory.path)/\(name)", "OCORRENCIAS_SECRET": secretText,
             "NOTIFICATION_DATABASE_URL": database, "NOTIFICATION_SMTP_URL": "smtp://127.0.0.1:\(sink.port)",
             "NOTIFICATION_MAIL_DOMAIN": "suporte.example", "NOTIFICATION_POLL_MS": "50",
             "NOTIFICATION_CONNECT_TIMEOUT_MS": "1000", "NOTIFICATION_SEND_TIMEOUT_MS": "2000", "NOTIFICATION_LEASE_MS": "3000",
             "NOTIFICATION_CRASH_AFTER_ACCEPTED": crash ? "1" : "0", "WORKFLOW_ADDRESSES": "127.0.0.1:9"]
        }
        // The survivor runs (its start-up recovery is behind it), then is frozen with SIGSTOP while
        // the doomed instance receives the event, sends it and dies before recording it; thawed,
        // only the lease can give the delivery back to it.
        let survivor = try ServiceProcess(name: "notification", environment: environment("a", crash: false))
        defer { survivor.stop() }
        kill(survivor.process.processIdentifier, SIGSTOP)
        let doomed = try ServiceProcess(name: "notification", environment: environment("b", crash: true))
        let secret = DeploymentSecret(bytes: Array(secretText.utf8))
        let client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: doomed.port)], secret: secret))
        defer { client.close() }
        var opened = IntakeV1.TicketOpened()
        opened.ticketID = "lease-1"
        opened.code = "2026-000777"
        opened.contact = CommonV1.PersonRef()
        opened.contact?.id = "c-1"
        opened.contact?.name = "Maria"
        opened.contact?.email = "maria@cliente.example"
        opened.subject = "Lease"
        var envelope = EventsV1.EventEnvelope()
        envelope.id = "lease-event-1"
        envelope.type = IntakeV1.TicketOpened.protoName
        envelope.key = opened.ticketID
        envelope.source = "intake"
        envelope.payload = opened.serializedBytes()
        var request = EventsV1.DeliverEventsRequest()
        request.events = [envelope]
        _ = try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 10_000))
        func mails() -> [SinkMail] { SinkMail.all(in: sink.directory) }
        _ = waitFor(15) { !doomed.process.isRunning }
        #expect(!doomed.process.isRunning && doomed.process.terminationStatus == 70, "the crash hook ended the doomed instance")
        #expect(mails().count == 1)
        let thawed = Date()
        kill(survivor.process.processIdentifier, SIGCONT)
        _ = waitFor(30) { mails().count >= 2 }
        print("lease takeover after \(Date().timeIntervalSince(thawed)) s")
        let stats = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: survivor.port)], secret: secret))
        defer { stats.close() }
        let admin = CallOptions(timeoutMilliseconds: 5_000, metadata: PrincipalSigner(secret: secret).metadata(for: Cast.administrator))
        #expect(mails().count == 2, "the survivor resent the delivery after the lease expired")
        #expect(Set(mails().map(\.messageID)).count == 1, "same Message-ID")
        // The sink has the message before the survivor records the outcome (outcomes are written
        // in batches): wait for the record.
        var answer = NotificationV1.GetStatsResponse()
        _ = try waitFor(10) {
            answer = try stats.call(NotificationV1.Notification.getStats, NotificationV1.GetStatsRequest(), options: admin)
            return answer.sending == 0
        }
        #expect(answer.sent == 1 && answer.resends == 1 && answer.sending == 0 && answer.queued == 0, "\(answer)")
    }
}
