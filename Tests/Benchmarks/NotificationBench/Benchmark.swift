import Foundation
import Messages
import NotificationCore
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import TestSupport

enum NotificationBenchmark {
    nonisolated(unsafe) static var sinkPID: Int32 = 0
    static let secretText = "notification-bench-secret-0123456789"

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))]
    }

    static func envelope<E: ProtoMessage>(_ event: E, key: String, at ms: Int64) -> EventsV1.EventEnvelope {
        var envelope = EventsV1.EventEnvelope()
        envelope.id = UUID().uuidString
        envelope.type = E.protoName
        envelope.key = key
        envelope.source = "workflow"
        envelope.occurredAtMs = ms
        envelope.payload = event.serializedBytes()
        return envelope
    }

    static func opened(_ i: Int, run: String) -> IntakeV1.TicketOpened {
        var event = IntakeV1.TicketOpened()
        event.ticketID = "\(run)-\(i)"
        event.code = String(format: "2026-%06d", i)
        var contact = CommonV1.PersonRef()
        contact.id = "c-\(i % 50)"
        contact.name = "José Conceição"
        contact.email = "cliente\(i % 50)@cliente.example"
        event.contact = contact
        event.subject = "Nota fiscal não é emitida"
        event.request = "A rotina de emissão falha com erro 500 desde a atualização."
        return event
    }

    static func stageChanged(_ i: Int, run: String) -> WorkflowV1.StageChanged {
        var event = WorkflowV1.StageChanged()
        var summary = WorkflowV1.TicketSummary()
        summary.ticketID = "\(run)-\(i)"
        summary.code = String(format: "2026-%06d", i)
        summary.stageName = "Em atendimento"
        event.ticket = summary
        event.fromStage = "aberta"
        event.toStage = "em_atendimento"
        return event
    }

    /// A sent message's bytes as stored: its piece in `notification_payload_chunks`, or the row's
    /// `payload` (rows written before messages were stored apart).
    static func storedMessage(_ database: any Database, channel: String) throws -> [UInt8] {
        try database.read { tx in
            let row = try tx.queryOne("""
                SELECT d.payload AS payload, (SELECT c.data FROM notification_payload_chunks c WHERE c.delivery_id = d.id AND c.seq = 0) AS piece
                FROM notification_deliveries d WHERE d.channel = ? AND d.state = 'sent' LIMIT 1
                """, [.text(channel)])!
            if case .blob(let piece) = row["piece"] { return piece }
            return try row.blob("payload")
        }
    }

    static func sentCount(_ database: any Database, channel: String, prefix: String) throws -> Int {
        Int(try database.read { tx in
            try tx.scalar("SELECT COUNT(*) FROM notification_deliveries WHERE channel = ? AND state = 'sent' AND ticket_id LIKE ?",
                          [.text(channel), .text(prefix + "-%")])
        }.description) ?? 0
    }

    static func lags(_ database: any Database, channel: String, prefix: String, occurred: [String: Int64]) throws -> [Double] {
        try database.read { tx in
            try tx.query("SELECT ticket_id, sent_at FROM notification_deliveries WHERE channel = ? AND state = 'sent' AND ticket_id LIKE ?",
                         [.text(channel), .text(prefix + "-%")])
        }.compactMap { row -> Double? in
            guard let at = occurred[try row.text("ticket_id")], let sent = try row.optionalInt("sent_at") else { return nil }
            return Double(sent - at)
        }.sorted()
    }

    /// Intake, then sending alone: with the sender held, delivers `count` events one per call (as
    /// the outbox relay does); then resumes the sender and times the backlog's delivery.
    /// - Returns: (events taken per second, deliveries per second).
    static func backlog(client: RPCClient, database: any Database, dispatcher: DeliveryDispatcher, count: Int, channel: String,
                        prefix: String, make: (Int) -> EventsV1.EventEnvelope) throws -> (Double, Double) {
        dispatcher.hold()
        let start = Date()
        let intakeCPU0 = ProcessCPU.own()
        for i in 0..<count {
            var request = EventsV1.DeliverEventsRequest()
            request.events = [make(i)]
            _ = try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 30_000))
        }
        let intake = Double(count) / Date().timeIntervalSince(start)
        print(String(format: "  (%@ intake: CPU per event %.0f µs, whole process: the service and the benchmark's RPC client)", channel,
                     (ProcessCPU.own() - intakeCPU0) / Double(count) * 1e6))
        let sending = Date()
        let cpu0 = ProcessCPU.own(), sink0 = ProcessCPU.of(sinkPID)
        let connections0 = CurlEasy.newConnections.load(ordering: .relaxed)
        DeliveryDispatcher.timing.samples.withLock { $0.removeAll() }
        DeliveryDispatcher.timing.recording.store(true, ordering: .relaxed)
        let recorded0 = DeliveryDispatcher.timing.recorded.load(ordering: .relaxed)
        let t0 = DeliveryDispatcher.timing
        let (coordinator0, recorder0, lanes0) = (t0.coordinatorCPU.load(ordering: .relaxed), t0.recorderCPU.load(ordering: .relaxed),
                                                 t0.laneCPU.load(ordering: .relaxed))
        dispatcher.resume()
        // Progress from the dispatcher's in-memory count of written results, waited on (a query
        // every 2 ms cost this process ~10–30 µs per message, counted as the pipeline's, and a
        // 1 ms poll of the count a few), then the table confirms: nothing of this phase left to
        // send (retries, if any, are waited for there).
        _ = DeliveryDispatcher.timing.waitRecorded(atLeast: recorded0 + count, until: sending.addingTimeInterval(300))
        while try database.read({ try $0.scalar("SELECT COUNT(*) FROM notification_deliveries WHERE state IN ('queued', 'sending')") }) != .integer(0) {
            usleep(2_000)
            if Date().timeIntervalSince(sending) > 300 { print("timeout waiting for \(channel)"); break }
        }
        let ours = (ProcessCPU.own() - cpu0) / Double(count) * 1e6
        let perMessage = { (ns: Int) in Double(ns) / Double(count) / 1000 }
        let coordinator = perMessage(t0.coordinatorCPU.load(ordering: .relaxed) - coordinator0)
        let recorderCPU = perMessage(t0.recorderCPU.load(ordering: .relaxed) - recorder0)
        let lanes = perMessage(t0.laneCPU.load(ordering: .relaxed) - lanes0)
        print(String(format: "  (%@ sending: CPU per message: ours %.0f µs (send threads %.0f, claims %.0f, recorder %.0f, rest %.0f), SMTP sink process %.0f µs; %d new connections)", channel,
                     ours, lanes, coordinator, recorderCPU, ours - lanes - coordinator - recorderCPU,
                     (ProcessCPU.of(sinkPID) - sink0) / Double(count) * 1e6,
                     CurlEasy.newConnections.load(ordering: .relaxed) - connections0))
        DeliveryDispatcher.timing.recording.store(false, ordering: .relaxed)
        let samples = DeliveryDispatcher.timing.samples.withLock { $0.sorted() }.map { Double($0) / 1000 }
        print(String(format: "  (%@ send durations: p50 %.0f µs, p90 %.0f µs, p99 %.0f µs, max %.0f µs)", channel,
                     percentile(samples, 0.5), percentile(samples, 0.9), percentile(samples, 0.99), samples.last ?? 0))
        let t = DeliveryDispatcher.timing
        let n = max(1, t.count.exchange(0, ordering: .relaxed))
        print(String(format: "  (%@ per message in the pipeline: send %.0f µs; batched claim %.0f µs and outcome recording %.0f µs, off the send threads)",
                     channel, Double(t.send.exchange(0, ordering: .relaxed)) / Double(n) / 1000,
                     Double(t.claim.exchange(0, ordering: .relaxed)) / Double(n) / 1000, Double(t.record.exchange(0, ordering: .relaxed)) / Double(n) / 1000))
        return (intake, Double(count) / Date().timeIntervalSince(sending))
    }

    /// Delivers one event at a time at `rate`/s; returns the sorted lags in ms.
    static func paced(client: RPCClient, database: any Database, count: Int, rate: Double, channel: String, prefix: String,
                      make: (Int, Int64) -> EventsV1.EventEnvelope) throws -> [Double] {
        var occurred: [String: Int64] = [:]
        let start = Date()
        for i in 0..<count {
            let due = start.addingTimeInterval(Double(i) / rate)
            let wait = due.timeIntervalSinceNow
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
            let ms = Int64(Date().timeIntervalSince1970 * 1000)
            occurred["\(prefix)-\(i)"] = ms
            var request = EventsV1.DeliverEventsRequest()
            request.events = [make(i, ms)]
            _ = try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 30_000))
        }
        let limit = Date().addingTimeInterval(60)
        while try sentCount(database, channel: channel, prefix: prefix) < count && Date() < limit { usleep(50_000) }
        return try lags(database, channel: channel, prefix: prefix, occurred: occurred)
    }

    static func run(arguments: [String]) {
        let count = arguments.count > 1 ? Int(arguments[1]) ?? 2_000 : 2_000
        let rate = arguments.count > 2 ? Double(arguments[2]) ?? 100 : 100
        let concurrency = arguments.count > 3 ? Int(arguments[3]) ?? 2 : 2
        do {
            DeliveryDispatcher.timing.measuring.store(true, ordering: .relaxed)
            let sink = try BenchPeer(script: "smtp_sink.py", arguments: [])
            sinkPID = sink.process.processIdentifier
            let hookSecret = "bench-webhook-secret-0123456789"
            let receiver = try BenchPeer(script: "webhook_receiver.py", arguments: ["--secret", hookSecret])
            defer { sink.stop(); receiver.stop() }
            let data = NSTemporaryDirectory() + "notification-bench-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: data) }
            var settings = NotificationSettings()
            settings.smtpURL = "smtp://127.0.0.1:\(sink.port)"
            settings.mailDomain = "suporte.example"
            settings.laneConcurrency = concurrency
            // The benchmark's webhook receiver listens on 127.0.0.1, blocked by default.
            settings.webhookBlockedNetworks = .none
            // For A/B runs of the claim size without a rebuild.
            if let batch = ProcessInfo.processInfo.environment["NOTIFICATION_CLAIM_BATCH"].flatMap(Int.init), batch > 0 {
                settings.claimBatch = batch
            }
            let port = try BenchPeer.freePort()
            // Workflow's side of `EmailSent`: a socket that accepts connections and never answers
            // (a workflow too busy to take events), so `EmailSent` rows wait in the outbox and the
            // relay spends next to nothing; the minimal sender publishes nothing either. (Pointing
            // it at a closed port, as before, made the relay retry connections all along, ~1 s
            // of CPU per 4,000 events in a profile; an in-process event sink adds its own RPC
            // server's CPU to ours.)
            let silent = try BenchPeer.silentListener()
            defer { close(silent.fd) }
            let workflowPort = silent.port
            let configuration = try ServiceConfiguration(serviceName: "notification", arguments: ["bench"], environment: [
                "OCORRENCIAS_DATA_DIR": data, "OCORRENCIAS_SECRET": secretText, "NOTIFICATION_PORT": String(port),
                "WORKFLOW_ADDRESSES": "127.0.0.1:\(workflowPort)",
            ].merging(ProcessInfo.processInfo.environment.filter { $0.key == "NOTIFICATION_DATABASE_URL" }) { $1 })
            nonisolated(unsafe) var captured: DeliveryDispatcher?
            // The executable's database defaults (BENCH_UNTUNED=1: SQLite's own, for A/B runs).
            let untuned = ProcessInfo.processInfo.environment["BENCH_UNTUNED"] == "1"
            let host = try ServiceMain.start(configuration: configuration, migrations: NotificationService.migrations,
                                             logger: Logger(service: "notification", level: .critical),
                                             databaseTuning: untuned ? { $0 } : NotificationService.databaseTuning) { runtime, router in
                captured = try NotificationService.registerReturningDispatcher(runtime: runtime, router: &router, settings: settings,
                                                                               rules: .defaults)
            }
            let dispatcher = captured!
            defer { host.stop() }
            let secret = DeploymentSecret(bytes: Array(secretText.utf8))
            let client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], secret: secret))
            defer { client.close() }
            let database = host.runtime.database
            var admin = AuthV1.Principal()
            admin.kind = .service
            admin.administrator = true
            var register = NotificationV1.RegisterWebhookRequest()
            register.url = "http://127.0.0.1:\(receiver.port)/hook"
            register.secret = hookSecret
            register.eventKinds = ["StageChanged"]
            _ = try client.call(NotificationV1.Notification.registerWebhook, register,
                                options: CallOptions(metadata: PrincipalSigner(secret: secret).metadata(for: admin)))
            print("notification-bench (\(database.engine == .postgres ? "PostgreSQL" : "SQLite")): \(count) deliveries per phase, paced phases at \(Int(rate))/s, lane concurrency \(settings.laneConcurrency), claims of up to \(settings.claimBatch), database \(untuned ? "untuned" : "tuned as the executable")")

            // Three interleaved rounds of pipeline then minimal sender per channel, so load from
            // other processes hits both alike; the best of each is reported (and every round).
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let smtp = SMTPSender(settings: settings)
            let webhook = WebhookSender(settings: settings)
            let hookURL = register.url
            var mail: [(intake: Double, rate: Double, ceiling: Double)] = []
            var hook: [(intake: Double, rate: Double, ceiling: Double)] = []
            var messageSize = 0, bodySize = 0
            for round in 0..<3 {
                let (mailIntake, mailRate) = try backlog(client: client, database: database, dispatcher: dispatcher, count: count,
                                                         channel: "email", prefix: "mail\(round)") {
                    envelope(opened($0, run: "mail\(round)"), key: "mail\(round)-\($0)", at: now)
                }
                let message = try storedMessage(database, channel: "email")
                messageSize = message.count
                let cpu0 = ProcessCPU.own(), sink0 = ProcessCPU.of(sinkPID)
                let connections0 = CurlEasy.newConnections.load(ordering: .relaxed)
                timedParallelCPU.store(0, ordering: .relaxed)
                let mailCeiling = Double(count) / timedParallel(count: count, threads: settings.laneConcurrency, makeState: { CurlEasy() }) { curl, _ in
                    _ = smtp.send(curl, from: "suporte@suporte.example", recipients: ["cliente1@cliente.example"], message: message)
                }
                print(String(format: "  (minimal sender: CPU per message: ours %.0f µs (send threads %.0f), SMTP sink process %.0f µs; %d new connections)",
                             (ProcessCPU.own() - cpu0) / Double(count) * 1e6, Double(timedParallelCPU.exchange(0, ordering: .relaxed)) / Double(count) / 1000, (ProcessCPU.of(sinkPID) - sink0) / Double(count) * 1e6,
                             CurlEasy.newConnections.load(ordering: .relaxed) - connections0))
                mail.append((mailIntake, mailRate, mailCeiling))
                let (hookIntake, hookRate) = try backlog(client: client, database: database, dispatcher: dispatcher, count: count,
                                                         channel: "webhook", prefix: "hook\(round)") {
                    envelope(stageChanged($0, run: "hook\(round)"), key: "hook\(round)-\($0)", at: now)
                }
                let body = try storedMessage(database, channel: "webhook")
                bodySize = body.count
                let hookCeiling = Double(count) / timedParallel(count: count, threads: settings.laneConcurrency, makeState: { CurlEasy() }) { curl, i in
                    _ = webhook.send(curl, url: hookURL, secrets: [hookSecret], deliveryID: "ceiling-\(i)", eventKind: "StageChanged", body: body)
                }
                hook.append((hookIntake, hookRate, hookCeiling))
                print(String(format: "  round %d: e-mail intake %5.0f/s sending %5.0f/s ceiling %5.0f/s | webhook intake %5.0f/s sending %5.0f/s ceiling %5.0f/s",
                             round + 1, mailIntake, mailRate, mailCeiling, hookIntake, hookRate, hookCeiling))
            }
            let bestMail = (mail.map(\.intake).max()!, mail.map(\.rate).max()!, mail.map(\.ceiling).max()!)
            let bestHook = (hook.map(\.intake).max()!, hook.map(\.rate).max()!, hook.map(\.ceiling).max()!)
            print(String(format: "e-mail   intake %6.0f events/s (one per call); sending %6.0f/s vs sink ceiling (minimal libcurl sender) %6.0f/s: ratio %.2f  (message %d bytes, best of 3)",
                         bestMail.0, bestMail.1, bestMail.2, bestMail.1 / bestMail.2, messageSize))
            print(String(format: "webhook  intake %6.0f events/s (one per call); sending %6.0f/s vs receiver ceiling (minimal libcurl sender) %6.0f/s: ratio %.2f  (body %d bytes, best of 3)",
                         bestHook.0, bestHook.1, bestHook.2, bestHook.1 / bestHook.2, bodySize))

            // Lag at a steady rate.
            let pacedCount = min(count, Int(rate * 10))
            let mailLags = try paced(client: client, database: database, count: pacedCount, rate: rate, channel: "email", prefix: "lagmail") { i, ms in
                envelope(opened(i, run: "lagmail"), key: "lagmail-\(i)", at: ms)
            }
            print(String(format: "e-mail   lag event→accepted by sink at %.0f/s: p50 %.1f ms  p95 %.1f ms  max %.1f ms  (n=%d)",
                         rate, percentile(mailLags, 0.5), percentile(mailLags, 0.95), mailLags.last ?? Double.nan, mailLags.count))
            let hookLags = try paced(client: client, database: database, count: pacedCount, rate: rate, channel: "webhook", prefix: "laghook") { i, ms in
                envelope(stageChanged(i, run: "laghook"), key: "laghook-\(i)", at: ms)
            }
            print(String(format: "webhook  lag event→answered by receiver at %.0f/s: p50 %.1f ms  p95 %.1f ms  max %.1f ms  (n=%d)",
                         rate, percentile(hookLags, 0.5), percentile(hookLags, 0.95), hookLags.last ?? Double.nan, hookLags.count))
        } catch {
            print("notification-bench failed: \(error)")
            exit(1)
        }
    }
}
