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
/// A delivery is marked `sending` (attempt counted, `claimed_by` this instance, a lease until
/// `next_attempt_at`) before the network call and given its outcome after. A crash in between
/// leaves it `sending`: at start-up this instance's own such rows go back to `queued`, and any
/// instance sharing the database takes back rows whose lease expired (their holder died and did
/// not come back); their `resends` counter is increased, since the peer may already have them.
/// The resend carries the same bytes and Message-ID, so receivers can de-duplicate.
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
    private var held = false
    private var coordinatorDone = DispatchGroup()
    private let acceptedSends = Atomic<Int>(0)
    /// This instance's name in `claimed_by` (its RPC address: stable across restarts).
    let instanceID: String
    private var lastLeaseCheck = Date.distantPast  // coordinator thread only

    /// How long a `sending` claim is held before another instance may take it back.
    var leaseSeconds: Double { Double(settings.connectTimeoutMilliseconds + settings.sendTimeoutMilliseconds) / 1000 + 5 }

    init(database: any Database, settings: NotificationSettings, logger: Logger, publisher: EventPublisher, instanceID: String = "") {
        self.database = database
        self.settings = settings
        self.logger = logger
        self.publisher = publisher
        self.instanceID = instanceID
    }

    /// Puts back to `queued` the `sending` rows this instance left behind, and any
    /// row whose lease expired.
    private func recoverInterrupted(ownToo: Bool) {
        do {
            let now = Date()
            let recovered = try database.write { tx in
                try tx.execute("""
                    UPDATE notification_deliveries SET state = 'queued', resends = resends + 1, next_attempt_at = ?
                    WHERE state = 'sending' AND ((? = 1 AND claimed_by IN (?, '')) OR next_attempt_at <= ?)
                    """, [.timestamp(now), .integer(ownToo ? 1 : 0), .text(instanceID), .timestamp(now)])
            }
            if recovered > 0 {
                logger.warning("deliveries interrupted mid-send will be sent again with the same Message-ID",
                               ["notification.resends": String(recovered)])
            }
        } catch {
            logger.error("recovering interrupted deliveries failed: \(error)")
        }
    }

    public func start() {
        recoverInterrupted(ownToo: true)
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

    /// Stops handing out new deliveries (sends in progress finish); for the benchmark, which
    /// measures sending alone on a backlog.
    package func hold() {
        condition.withLock { held = true }
    }

    /// Undoes ``hold()``.
    package func resume() {
        condition.withLock { held = false }
        wake()
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
            let isHeld = held
            condition.unlock()
            if !isHeld && Date().timeIntervalSince(lastLeaseCheck) > 5 {
                lastLeaseCheck = Date()
                recoverInterrupted(ownToo: false)
            }
            if !isHeld { do { try dispatchDue() } catch { logger.error("dispatcher poll failed: \(error)") } }
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
            let room = settings.laneConcurrency * 128 - lane.pending
            guard room > 0 else { continue }
            let ids = try database.read { tx in
                try tx.query("""
                    SELECT id FROM notification_deliveries WHERE state = 'queued' AND lane = ? AND next_attempt_at <= ?
                    ORDER BY next_attempt_at LIMIT ?
                    """, [.text(laneName), .timestamp(now), .integer(Int64(room + settings.laneConcurrency * 128))]).map { try $0.text("id") }
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
            let lane = SendLane(name: name, concurrency: settings.laneConcurrency, lowWater: settings.laneConcurrency * 16,
                                refill: { [weak self] in self?.wake() }) { [self] id, curl, tryNext in
                self.process(id: id, curl: curl, tryNext: tryNext)
            }
            lanes[name] = lane
            return lane
        }
    }

    /// Time spent per phase of sending in nanoseconds (claim, send, record) and count, for the benchmark.
    package static let timing = PhaseTiming()

    /// A delivery marked `sending`, with what sending and recording it need.
    struct Claimed {
        var id: String
        var channel: String
        var payload: [UInt8]
        var envelopeTo: [String]
        var copies: [String]
        var target: String
        var eventKind: String
        var ticketID: String
        var messageID: String
        var subject: String
        var attempts: Int
        var webhook: WebhookRecord?
    }

    /// What a send produced, to be written.
    struct Outcome {
        var claimed: Claimed
        var outcome: SendOutcome
    }

    /// Sends `id`, then whatever the lane has next: each transaction records the previous outcome
    /// and claims the next delivery together (one write per message), and the claim always
    /// commits before its send.
    func process(id: String, curl: CurlEasy, tryNext: () -> String?) {
        var current: Claimed? = transact(record: nil, claim: id)
        while true {
            guard let claimed = current else {
                // Nothing claimable (replayed or already handled): move on.
                guard let next = tryNext() else { return }
                current = transact(record: nil, claim: next)
                continue
            }
            let t1 = DispatchTime.now().uptimeNanoseconds
            let outcome = send(claimed, curl: curl)
            let t2 = DispatchTime.now().uptimeNanoseconds
            Self.timing.send.add(Int(t2 - t1), ordering: .relaxed)
            if Self.timing.recording.load(ordering: .relaxed) { Self.timing.samples.withLock { $0.append(Int(t2 - t1)) } }
            Self.timing.count.add(1, ordering: .relaxed)
            if let next = tryNext() {
                current = transact(record: Outcome(claimed: claimed, outcome: outcome), claim: next)
            } else {
                _ = transact(record: Outcome(claimed: claimed, outcome: outcome), claim: nil)
                return
            }
        }
    }

    private func send(_ claimed: Claimed, curl: CurlEasy) -> SendOutcome {
        switch claimed.channel {
        case DeliveryChannel.email.rawValue:
            let outcome = SMTPSender(settings: settings).send(curl, from: settings.fromAddress, recipients: claimed.envelopeTo,
                                                              message: claimed.payload)
            if case .accepted = outcome, settings.crashAfterAcceptedSends > 0,
               acceptedSends.add(1, ordering: .relaxed).newValue == settings.crashAfterAcceptedSends {
                // Test hook: die in the window between the server's acceptance and our record.
                logger.critical("crash hook: exiting after an accepted send", ["notification.delivery": claimed.id])
                _exit(70)
            }
            return outcome
        default:
            guard let webhook = claimed.webhook, webhook.active else { return .permanent("webhook removido / webhook removed") }
            return WebhookSender(settings: settings).send(curl, url: claimed.target, secret: webhook.secret, deliveryID: claimed.id,
                                                          eventKind: claimed.eventKind, body: claimed.payload)
        }
    }

    /// One write transaction: records `record` (if any) and claims `claim` (if any).
    /// - Returns: the claimed delivery, nil when it was not claimable.
    private func transact(record: Outcome?, claim: String?) -> Claimed? {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let now = Date()
        var written: (DeliveryState, String)?
        let claimed: Claimed?
        do {
            (claimed, written) = try database.write { tx -> (Claimed?, (DeliveryState, String)?) in
                var written: (DeliveryState, String)?
                if let record { written = try self.write(record, tx, now: now) }
                guard let claim else { return (nil, written) }
                return (try self.claim(claim, tx, now: now), written)
            }
        } catch {
            logger.error("delivery bookkeeping failed: \(error)", ["notification.delivery": claim ?? record?.claimed.id ?? ""])
            claimed = nil
        }
        if let record { _ = condition.withLock { inFlight.remove(record.claimed.id) } }
        if let claim, claimed == nil { _ = condition.withLock { inFlight.remove(claim) } }
        if let record, let (state, answer) = written, state == .queued || state == .dead {
            logger.info("delivery attempt failed", ["notification.delivery": record.claimed.id, "notification.state": state.rawValue,
                                                    "notification.answer": answer])
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        Self.timing.record.add(Int(t1 - t0), ordering: .relaxed)
        return claimed
    }

    private func claim(_ id: String, _ tx: any SQLExecutor, now: Date) throws -> Claimed? {
        guard try tx.execute("""
            UPDATE notification_deliveries SET state = 'sending', attempts = attempts + 1, claimed_by = ?, next_attempt_at = ?
            WHERE id = ? AND state = 'queued' AND next_attempt_at <= ?
            """, [.text(instanceID), .timestamp(now.addingTimeInterval(leaseSeconds)), .text(id), .timestamp(now)]) == 1,
              let row = try tx.queryOne("""
                SELECT channel, payload, envelope_to, copies, target, event_kind, ticket_id, message_id, subject, attempts, webhook_id
                FROM notification_deliveries WHERE id = ?
                """, [.text(id)]) else { return nil }
        let webhookID = try row.text("webhook_id")
        func lines(_ column: String) throws -> [String] { try row.text(column).split(separator: "\n").map(String.init) }
        return Claimed(id: id, channel: try row.text("channel"), payload: try row.blob("payload"), envelopeTo: try lines("envelope_to"),
                       copies: try lines("copies"), target: try row.text("target"), eventKind: try row.text("event_kind"),
                       ticketID: try row.text("ticket_id"), messageID: try row.text("message_id"), subject: try row.text("subject"),
                       attempts: Int(try row.int("attempts")),
                       webhook: webhookID.isEmpty ? nil : try WebhookStore.find(tx, id: webhookID))
    }

    private func write(_ record: Outcome, _ tx: any SQLExecutor, now: Date) throws -> (DeliveryState, String) {
        let claimed = record.claimed
        let (state, answer, next): (DeliveryState, String, Date) = switch record.outcome {
        case .accepted(let answer): (.sent, answer, now)
        case .permanent(let answer): (.failed, answer, now)
        case .transient(let answer):
            claimed.attempts >= settings.retry.maxAttempts
                ? (.dead, answer, now)
                : (.queued, answer, now.addingTimeInterval(Double(settings.retry.delayMilliseconds(afterAttempts: claimed.attempts)) / 1000))
        }
        let stored = String(answer.prefix(1000))
        try tx.execute("""
            UPDATE notification_deliveries SET state = ?, last_answer = ?, next_attempt_at = ?,
                sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END
            WHERE id = ? AND state = 'sending'
            """, [.text(state.rawValue), .text(stored), .timestamp(next), .text(state.rawValue), .timestamp(now), .text(claimed.id)])
        if state != .queued, claimed.channel == DeliveryChannel.email.rawValue, !claimed.ticketID.isEmpty {
            var event = NotificationV1.EmailSent()
            event.ticketID = claimed.ticketID
            event.messageID = "<\(claimed.messageID)>"
            event.eventKind = claimed.eventKind
            let copies = Set(claimed.copies)
            event.recipients = claimed.envelopeTo.filter { !copies.contains($0) }
            event.copies = claimed.copies.sorted()
            event.subject = claimed.subject
            event.outcome = state.rawValue
            event.serverAnswer = stored
            event.sentAtMs = Int64(now.timeIntervalSince1970 * 1000)
            try publisher.publish(tx, event: event, key: claimed.ticketID)
        }
        return (state, answer)
    }
}

/// Nanoseconds spent per phase of sending, for the benchmark.
package final class PhaseTiming: Sendable {
    package let claim = Atomic<Int>(0)
    package let send = Atomic<Int>(0)
    package let record = Atomic<Int>(0)
    package let count = Atomic<Int>(0)
    /// Individual send durations (ns) while ``recording`` is set.
    package let samples = Mutex<[Int]>([])
    package let recording = Atomic<Bool>(false)
}

extension NSCondition {
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
