import Foundation
import Messages
import Observability
import ServiceKit
import Storage
import Synchronization

/// Sends due deliveries: a coordinator thread finds them per lane (channel × destination host)
/// and hands them to that lane's threads, so a slow SMTP relay or a dead webhook endpoint delays
/// only its own deliveries and never the intake of events. Transient failures are retried with
/// exponential backoff and jitter; after the last attempt a delivery is `dead` until an operator
/// retries it.
///
/// A delivery is marked `sending` (attempt counted) before the network call and given its outcome
/// after. A crash in between leaves it `sending`: at start-up such rows go back to `queued` and
/// their `resends` counter is increased, since the peer may already have it. The resend carries
/// the same bytes and Message-ID, so receivers can de-duplicate.
public final class DeliveryDispatcher: BackgroundService, @unchecked Sendable {
    let database: any Database
    let settings: NotificationSettings
    let logger: Logger
    let publisher: EventPublisher
    private let condition = NSCondition()
    // Guarded by condition.
    private var running = false
    private var woken = false
    private var lanes: [String: SendLane] = [:]
    private var inFlight: Set<String> = []
    private var coordinatorDone = DispatchGroup()
    private let acceptedSends = Atomic<Int>(0)

    init(database: any Database, settings: NotificationSettings, logger: Logger, publisher: EventPublisher) {
        self.database = database
        self.settings = settings
        self.logger = logger
        self.publisher = publisher
    }

    public func start() {
        do {
            let recovered = try database.write { tx in
                try tx.execute("""
                    UPDATE notification_deliveries SET state = 'queued', resends = resends + 1, next_attempt_at = ?
                    WHERE state = 'sending'
                    """, [.timestamp(Date())])
            }
            if recovered > 0 {
                logger.warning("deliveries interrupted mid-send will be sent again with the same Message-ID",
                               ["notification.resends": String(recovered)])
            }
        } catch {
            logger.error("recovering interrupted deliveries failed: \(error)")
        }
        condition.lock()
        running = true
        condition.unlock()
        coordinatorDone.enter()
        let thread = Thread { [self] in
            self.coordinate()
            self.coordinatorDone.leave()
        }
        thread.name = "notify dispatcher"
        thread.start()
    }

    public func stop() {
        condition.lock()
        let wasRunning = running
        running = false
        condition.broadcast()
        condition.unlock()
        guard wasRunning else { return }
        coordinatorDone.wait()
        let all = condition.withLock { Array(lanes.values) }
        for lane in all { lane.stop() }
    }

    /// Looks for due deliveries now (called after events were applied or an RPC queued mail).
    public func wake() {
        condition.lock()
        woken = true
        condition.signal()
        condition.unlock()
    }

    private func coordinate() {
        while true {
            condition.lock()
            if !running { condition.unlock(); return }
            woken = false
            condition.unlock()
            do { try dispatchDue() } catch { logger.error("dispatcher poll failed: \(error)") }
            condition.lock()
            if running && !woken {
                _ = condition.wait(until: Date().addingTimeInterval(Double(settings.pollIntervalMilliseconds) / 1000))
            }
            condition.unlock()
        }
    }

    private func dispatchDue() throws {
        let now = Date()
        let lanesDue = try database.read { tx in
            try tx.query("""
                SELECT lane FROM notification_deliveries WHERE state = 'queued' AND next_attempt_at <= ? GROUP BY lane
                """, [.timestamp(now)]).map { try $0.text("lane") }
        }
        for laneName in lanesDue {
            let lane = lane(named: laneName)
            // Keep a lane's queue short: a stuck lane is not refilled, and never crowds out others.
            let room = settings.laneConcurrency * 64 - lane.pending
            guard room > 0 else { continue }
            let ids = try database.read { tx in
                try tx.query("""
                    SELECT id FROM notification_deliveries WHERE state = 'queued' AND lane = ? AND next_attempt_at <= ?
                    ORDER BY next_attempt_at, created_at LIMIT ?
                    """, [.text(laneName), .timestamp(now), .integer(Int64(room + settings.laneConcurrency * 64))]).map { try $0.text("id") }
            }
            let fresh = condition.withLock { () -> [String] in
                let fresh = ids.filter { !inFlight.contains($0) }.prefix(room)
                inFlight.formUnion(fresh)
                return Array(fresh)
            }
            lane.enqueue(fresh)
        }
    }

    private func lane(named name: String) -> SendLane {
        condition.withLock {
            if let lane = lanes[name] { return lane }
            let lane = SendLane(name: name, concurrency: settings.laneConcurrency) { [self] id, curl in
                self.process(id: id, curl: curl)
            }
            lanes[name] = lane
            return lane
        }
    }

    /// Claims, sends and records one delivery.
    func process(id: String, curl: CurlEasy) {
        defer { _ = condition.withLock { inFlight.remove(id) } }
        struct Claimed {
            var channel: String, payload: [UInt8], envelopeTo: [String], target: String, eventKind: String
            var attempts: Int, webhook: WebhookRecord?
        }
        let claimed: Claimed?
        do {
            claimed = try database.write { tx -> Claimed? in
                guard try tx.execute("""
                    UPDATE notification_deliveries SET state = 'sending', attempts = attempts + 1
                    WHERE id = ? AND state = 'queued' AND next_attempt_at <= ?
                    """, [.text(id), .timestamp(Date())]) == 1,
                      let row = try tx.queryOne("""
                        SELECT channel, payload, envelope_to, target, event_kind, attempts, webhook_id FROM notification_deliveries WHERE id = ?
                        """, [.text(id)]) else { return nil }
                let webhookID = try row.text("webhook_id")
                return Claimed(channel: try row.text("channel"), payload: try row.blob("payload"),
                               envelopeTo: try row.text("envelope_to").split(separator: "\n").map(String.init),
                               target: try row.text("target"), eventKind: try row.text("event_kind"),
                               attempts: Int(try row.int("attempts")),
                               webhook: webhookID.isEmpty ? nil : try WebhookStore.find(tx, id: webhookID))
            }
        } catch {
            logger.error("claiming delivery failed: \(error)", ["notification.delivery": id])
            return
        }
        guard let claimed else { return }
        let outcome: SendOutcome
        switch claimed.channel {
        case DeliveryChannel.email.rawValue:
            outcome = SMTPSender(settings: settings).send(curl, from: settings.fromAddress, recipients: claimed.envelopeTo,
                                                          message: claimed.payload)
            if case .accepted = outcome, settings.crashAfterAcceptedSends > 0,
               acceptedSends.add(1, ordering: .relaxed).newValue == settings.crashAfterAcceptedSends {
                // Test hook: die in the window between the server's acceptance and our record.
                logger.critical("crash hook: exiting after an accepted send", ["notification.delivery": id])
                _exit(70)
            }
        default:
            if let webhook = claimed.webhook, webhook.active {
                outcome = WebhookSender(settings: settings).send(curl, url: claimed.target, secret: webhook.secret, deliveryID: id,
                                                                 eventKind: claimed.eventKind, body: claimed.payload)
            } else {
                outcome = .permanent("webhook removido / webhook removed")
            }
        }
        record(id: id, attempts: claimed.attempts, outcome: outcome)
    }

    private func record(id: String, attempts: Int, outcome: SendOutcome) {
        let now = Date()
        let (state, answer, next): (DeliveryState, String, Date) = switch outcome {
        case .accepted(let answer): (.sent, answer, now)
        case .permanent(let answer): (.failed, answer, now)
        case .transient(let answer):
            attempts >= settings.retry.maxAttempts
                ? (.dead, answer, now)
                : (.queued, answer, now.addingTimeInterval(Double(settings.retry.delayMilliseconds(afterAttempts: attempts)) / 1000))
        }
        do {
            try database.write { tx in
                try tx.execute("""
                    UPDATE notification_deliveries SET state = ?, last_answer = ?, next_attempt_at = ?,
                        sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END
                    WHERE id = ? AND state = 'sending'
                    """, [.text(state.rawValue), .text(String(answer.prefix(1000))), .timestamp(next), .text(state.rawValue),
                          .timestamp(now), .text(id)])
                if state != .queued, let event = try DeliveryStore.emailSent(tx, id: id) {
                    try publisher.publish(tx, event: event, key: event.ticketID)
                }
            }
        } catch {
            logger.error("recording delivery outcome failed: \(error)", ["notification.delivery": id])
        }
        if state == .queued || state == .dead {
            logger.info("delivery attempt failed", ["notification.delivery": id, "notification.state": state.rawValue,
                                                    "notification.answer": answer])
        }
    }
}

extension NSCondition {
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
