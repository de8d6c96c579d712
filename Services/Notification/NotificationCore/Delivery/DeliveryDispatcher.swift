import Foundation
import Messages
import Observability
import ServiceKit
import Storage
import Synchronization

/// Sends due deliveries. A coordinator thread claims them in batches per lane (channel ×
/// destination host) and hands them to that lane's threads, so a slow SMTP relay or a dead webhook
/// endpoint delays only its own deliveries and never the intake of events; a recorder thread
/// writes the outcomes, many per transaction. Transient failures are retried with exponential
/// backoff and jitter; after the last attempt a delivery is `dead` until an operator retries it.
///
/// Several instances may share one database (see ``DeliveryClaims``): a claim marks rows
/// `sending` with `claimed_by` this instance and a lease in `claimed_until`, renewed while the
/// rows are held; a row whose lease expired (its holder died, froze or lost the database) is put
/// back to `queued` by any instance, with `resends + 1`, since the peer may already have the
/// message. The resend carries the same bytes and Message-ID, so receivers can de-duplicate.
/// At start-up an instance also takes back the rows it left `sending` before it stopped.
public final class DeliveryDispatcher: BackgroundService, @unchecked Sendable {
    let database: any Database
    let settings: NotificationSettings
    let logger: Logger
    let publisher: EventPublisher
    let secrets: SecretBox
    /// The webhooks sends are signed with, read at most a second before (``forgetWebhooks()``
    /// after a change made here).
    private let webhooks = WebhookCache()
    /// The relay's sender, made once (its option profile is kept by the lanes' handles).
    private let smtp: SMTPSender
    private let condition = NSCondition()
    // Guarded by condition.
    private var running = false
    private var woken = false
    /// Whether rows may wait `queued` beyond what the lanes hold: set by ``wake()`` and by a
    /// claim that filled its room, cleared when a pass of the coordinator starts. A lane that
    /// drains asks for a refill only then (with claims at insert, lanes drain after every
    /// message, and a pass per message found nothing).
    private var backlogPossible = true
    private var lanes: [String: SendLane] = [:]
    private var held = false
    /// Set when a claim was skipped because ``NotificationSettings/recordBacklog`` results
    /// wait for the recorder; the recorder wakes the coordinator when it has caught up.
    private var waitingForRecorder = false
    /// Ids claimed by this instance and not yet recorded or released (their leases are renewed).
    private var holding: Set<String> = []
    private var coordinatorDone = DispatchGroup()
    private var recorder: OutcomeRecorder?
    private let acceptedSends = Atomic<Int>(0)
    /// Until when every lease this instance holds is known to be valid (last renewal + lease),
    /// in ms since 1970.
    private let renewedUntil = Atomic<Int64>(0)
    /// This instance's name in `claimed_by` (its RPC address: stable across restarts).
    let instanceID: String
    // Coordinator thread only.
    private var lastTakeOver = Date.distantPast
    private var lastRenewal = Date.distantPast

    /// How long a claim is held without renewal before another instance may take it over.
    var lease: TimeInterval { Double(settings.leaseMilliseconds) / 1000 }

    init(database: any Database, settings: NotificationSettings, logger: Logger, publisher: EventPublisher, secrets: SecretBox,
         instanceID: String = "") {
        self.database = database
        self.secrets = secrets
        self.settings = settings
        self.logger = logger
        self.publisher = publisher
        self.instanceID = instanceID
        smtp = SMTPSender(settings: settings)
    }

    /// Takes back expired claims (and, at start-up, this instance's own).
    private func takeOver(startingUp: Bool) {
        do {
            let recovered = try database.write { tx in
                try DeliveryClaims.takeOver(tx, instance: startingUp ? instanceID : nil, now: Date())
            }
            if recovered > 0 {
                logger.warning("deliveries interrupted mid-send will be sent again with the same Message-ID",
                               ["notification.resends": String(recovered)])
            }
        } catch {
            logger.error("taking back interrupted deliveries failed: \(error)")
        }
    }

    public func start() {
        takeOver(startingUp: true)
        // Up to 256 results per transaction, lingering up to 50 ms for half of that: at ~3,000
        // sends/s a transaction then carries ~130 results instead of ~60 (20 ms), and the
        // recorder's CPU per result fell by about a quarter in the benchmark. A result waits at
        // most that long before it is durable (and counts as done); when the lanes go idle it
        // waits at most 20 ms, so a trickle of events is not delayed much and its results
        // (one send at a time at ~1,000 events/s) still share transactions (~10–20 each).
        let recorder = OutcomeRecorder(maxBatch: 256, linger: 0.05, idleLinger: 0.02, write: { [weak self] batch in self?.write(batch) ?? false },
                                       abandon: { [weak self] batch in self?.forget(batch.map(\.0.id)) },
                                       written: { [weak self] in self?.recorderCaughtUp() })
        condition.lock()
        running = true
        self.recorder = recorder
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
        var unsent: [(ClaimedDelivery, ClaimResult)] = []
        for lane in all { unsent += lane.stop().map { ($0, .released) } }
        let recorder = condition.withLock { self.recorder }
        recorder?.add(unsent)
        recorder?.stop()
    }

    /// Stops claiming new deliveries (claims in hand are sent); for the benchmark, which
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
        backlogPossible = true
        condition.signal()
        condition.unlock()
    }

    /// A lane drained below its low water: the coordinator looks for more when some may wait.
    private func refill() {
        condition.lock()
        if backlogPossible {
            woken = true
            condition.signal()
        }
        condition.unlock()
    }

    private func coordinate() {
        while true {
            condition.lock()
            if !running { condition.unlock(); return }
            woken = false
            backlogPossible = false
            let isHeld = held
            condition.unlock()
            let now = Date()
            if now.timeIntervalSince(lastRenewal) >= lease / 3 {
                lastRenewal = now
                renewLeases(now: now)
            }
            if !isHeld && now.timeIntervalSince(lastTakeOver) >= min(1, lease / 4) {
                lastTakeOver = now
                takeOver(startingUp: false)
            }
            if !isHeld {
                do { try dispatchDue() } catch {
                    condition.withLock { backlogPossible = true }
                    logger.error("dispatcher poll failed: \(error)")
                }
            }
            if Self.timing.measuring.load(ordering: .relaxed) { Self.timing.coordinatorCPU.store(ThreadCPU.nanoseconds(), ordering: .relaxed) }
            condition.lock()
            if running && !woken {
                let wait = min(Double(settings.pollIntervalMilliseconds) / 1000, lease / 3)
                _ = condition.wait(until: Date().addingTimeInterval(wait))
            }
            condition.unlock()
        }
    }

    private func renewLeases(now: Date) {
        let ids = condition.withLock { Array(holding) }
        let until = now.addingTimeInterval(lease)
        do {
            if !ids.isEmpty {
                try database.write { tx in try DeliveryClaims.renew(tx, ids: ids, instance: instanceID, until: until) }
            }
            renewedUntil.store(Int64(until.timeIntervalSince1970 * 1000), ordering: .relaxed)
        } catch {
            logger.error("renewing delivery leases failed: \(error)")
        }
    }

    /// Whether `claimed` is still surely this instance's: its lease (as claimed or last renewed)
    /// has more than a margin left. Otherwise another instance may have taken it over.
    func leaseHolds(_ claimed: ClaimedDelivery, now: Date = Date()) -> Bool {
        let renewed = Date(timeIntervalSince1970: Double(renewedUntil.load(ordering: .relaxed)) / 1000)
        let margin = min(1, lease / 10)
        return max(claimed.leaseEnd, renewed).timeIntervalSince(now) > margin
    }

    /// How many more deliveries may be claimed before the results waiting for the recorder
    /// reach ``NotificationSettings/recordBacklog`` (what lanes already hold is sent anyway).
    private func recordRoom() -> Int {
        let room = settings.recordBacklog - (condition.withLock { recorder }?.backlog ?? 0)
        condition.withLock {
            waitingForRecorder = room <= 0
            if room <= 0 { backlogPossible = true }
        }
        return room
    }

    /// The recorder wrote a batch: claims skipped for its backlog resume once half of it is
    /// written.
    private func recorderCaughtUp() {
        guard condition.withLock({ waitingForRecorder }), let recorder = condition.withLock({ self.recorder }),
              recorder.backlog <= settings.recordBacklog / 2 else { return }
        condition.withLock { waitingForRecorder = false }
        wake()
    }

    private func dispatchDue() throws {
        let now = Date()
        // Which lanes have due deliveries and the first claim of each, in one transaction (one
        // BEGIN/COMMIT per wake-up instead of a read and then a write).
        var rooms: [(SendLane, String, Int)] = []
        let first = try database.write { tx -> [(SendLane, String, Int, [ClaimedDelivery])] in
            var claims: [(SendLane, String, Int, [ClaimedDelivery])] = []
            for laneName in try DeliveryClaims.lanesDue(tx, now: now) {
                let lane = lane(named: laneName)
                let room = min(settings.claimBatch, laneDepth - lane.pending, recordRoom())
                guard room > 0 else {
                    // A full lane with rows waiting: it asks for them when it drains (or the
                    // recorder, when it was its backlog).
                    condition.withLock { backlogPossible = true }
                    continue
                }
                let t0 = DispatchTime.now().uptimeNanoseconds
                let claimed = try DeliveryClaims.claim(tx, lane: laneName, instance: instanceID, limit: room, now: now, lease: lease)
                Self.timing.claim.add(Int(DispatchTime.now().uptimeNanoseconds - t0), ordering: .relaxed)
                claims.append((lane, laneName, room, claimed))
            }
            return claims
        }
        var stopping = false
        for (lane, laneName, room, claimed) in first {
            // When stopping, every batch is released (hand does it), none is left behind.
            if !hand(claimed, to: lane) { stopping = true }
            if claimed.count == room { rooms.append((lane, laneName, room)) }
        }
        if !rooms.isEmpty { condition.withLock { backlogPossible = true } }
        if stopping { return }
        for (lane, laneName, _) in rooms {
            // Keep a lane's queue bounded: a stuck lane is not refilled, and never crowds out
            // others; deep enough that its threads never wait for a claim (which may wait for
            // the recorder's transaction on SQLite's single writer).
            while true {
                let room = min(settings.claimBatch, laneDepth - lane.pending, recordRoom())
                guard room > 0 else { break }
                let t0 = DispatchTime.now().uptimeNanoseconds
                let claimed = try database.write { tx in
                    try DeliveryClaims.claim(tx, lane: laneName, instance: instanceID, limit: room, now: now, lease: lease)
                }
                Self.timing.claim.add(Int(DispatchTime.now().uptimeNanoseconds - t0), ordering: .relaxed)
                guard hand(claimed, to: lane) else { return }
                if claimed.count < room { break }
            }
        }
    }

    /// A fresh ``InsertClaims`` for one write transaction of the event consumer: a new row is
    /// claimed at insert while this instance is sending (not stopping, not held), its lane
    /// holds fewer than half its depth (counting what the transaction already claimed) and the
    /// recorder is not at its backlog limit (a row left `queued` wakes the coordinator, which
    /// claims it when there is room).
    func insertClaims() -> InsertClaims {
        InsertClaims(instance: instanceID, leaseEnd: Date().addingTimeInterval(lease)) { [self] laneName, already in
            guard let recorder = condition.withLock({ running && !held && !waitingForRecorder ? self.recorder : nil }),
                  recorder.backlog + already < settings.recordBacklog else { return false }
            return lane(named: laneName).pending + already < laneDepth / 2
        }
    }

    /// After the transaction of `claims` committed: its claimed deliveries go to their lanes;
    /// the coordinator is woken when the transaction left rows `queued`.
    func committed(_ claims: InsertClaims) {
        var order: [String] = []
        var byLane: [String: [ClaimedDelivery]] = [:]
        for (laneName, delivery) in claims.claimed {
            if byLane[laneName] == nil { order.append(laneName) }
            byLane[laneName, default: []].append(delivery)
        }
        for laneName in order {
            _ = hand(byLane[laneName] ?? [], to: lane(named: laneName))
        }
        if !claims.claimed.isEmpty { Self.timing.claimedAtInsert.add(claims.claimed.count, ordering: .relaxed) }
        if claims.leftQueued { wake() }
    }

    /// Records `claimed` as held and queues it on `lane`. - Returns: false when stopping (the
    /// claims are released instead).
    private func hand(_ claimed: [ClaimedDelivery], to lane: SendLane) -> Bool {
        guard !claimed.isEmpty else { return true }
        let stillRunning = condition.withLock { () -> Bool in
            holding.formUnion(claimed.map(\.id))
            return running
        }
        guard stillRunning else {
            recorder?.add(claimed.map { ($0, .released) })
            return false
        }
        lane.enqueue(claimed)
        return true
    }

    /// The most claimed deliveries a lane holds (queued in memory or being sent).
    var laneDepth: Int { max(2 * settings.claimBatch, settings.laneConcurrency * 64) }

    private func lane(named name: String) -> SendLane {
        condition.withLock {
            if let lane = lanes[name] { return lane }
            let recorder = self.recorder
            let lane = SendLane(name: name, concurrency: settings.laneConcurrency, lowWater: laneDepth / 2,
                                refill: { [weak self] in self?.refill() }, idle: { recorder?.flush() },
                                start: { [self] claimed, curl in self.start(claimed, curl: curl) },
                                finish: { [self] claimed, outcome, nanoseconds in self.finish(claimed, outcome, nanoseconds: nanoseconds) })
            lanes[name] = lane
            return lane
        }
    }

    /// Time spent per phase of sending in nanoseconds (claim, send, record) and count, for the benchmark.
    package static let timing = PhaseTiming()

    /// A webhook was rotated, removed or re-sealed by this instance: the next sends read it again.
    func forgetWebhooks() {
        webhooks.forget()
    }

    /// Sets up the send of one claimed delivery on `curl` (run by its lane).
    private func start(_ claimed: ClaimedDelivery, curl: CurlEasy) -> LaneStart {
        guard leaseHolds(claimed) else {
            // Frozen or cut off from the database for too long: another instance may own it now.
            recorder?.add(claimed, .released)
            return .released
        }
        switch claimed.channel {
        case DeliveryChannel.email.rawValue:
            // A message not loaded with the claim is read a piece at a time while libcurl uploads.
            let upload = claimed.payloadBytes > 0 ? ChunkedUpload(database: database, deliveryID: claimed.id) : nil
            return .transfer(smtp.prepare(curl, from: settings.fromAddress, recipients: claimed.envelopeTo,
                                          message: upload == nil ? claimed.payload : [],
                                          size: upload == nil ? nil : claimed.payloadBytes, more: upload?.nextPiece))
        default:
            // The webhook as it is now, not as it was when claimed: a rotation committed since
            // (one `immediately` revokes a leaked secret) applies to this send (``WebhookCache``).
            let webhook: WebhookRecord?
            do { webhook = try webhooks.webhook(claimed.webhookID, in: database) } catch {
                return .finished(.transient("\(error)"))
            }
            guard let webhook, webhook.active else { return .finished(.permanent("webhook removido / webhook removed")) }
            // Its URL changed since this row was planned or retargeted (claimed before the edit,
            // or a replay of one delivered before it): not sent to the old address, queued again
            // for the new one, the attempt not counted.
            guard webhook.url == claimed.target else {
                recorder?.add(claimed, .moved(to: webhook.url))
                return .released
            }
            let signing: [String]
            do {
                // Within a rotation's overlap the previous secret signs too.
                signing = try webhook.sealedSigningSecrets(nowMs: Int64(Date().timeIntervalSince1970 * 1000)).map(secrets.open)
            } catch {
                // Another instance's key, or a damaged row: retried (and visible) rather than lost.
                return .finished(.transient("\(error)"))
            }
            // A body not loaded with the claim is read whole now: it is signed as a whole.
            var body = claimed.payload
            if claimed.payloadBytes > 0 {
                do { body = try PayloadChunks.readAll(database, deliveryID: claimed.id) } catch { return .finished(.transient("\(error)")) }
                guard body.count == claimed.payloadBytes else {
                    return .finished(.transient("corpo armazenado incompleto / stored body incomplete (\(body.count) of \(claimed.payloadBytes) bytes)"))
                }
            }
            return .transfer(WebhookSender(settings: settings).prepare(curl, url: claimed.target, secrets: signing, deliveryID: claimed.id,
                                                                       eventKind: claimed.eventKind, body: body))
        }
    }

    /// A delivery's send ended (its lane's thread): the result goes to the recorder.
    private func finish(_ claimed: ClaimedDelivery, _ outcome: SendOutcome, nanoseconds: Int) {
        if claimed.channel == DeliveryChannel.email.rawValue, case .accepted = outcome.main, settings.crashAfterAcceptedSends > 0,
           acceptedSends.add(1, ordering: .relaxed).newValue == settings.crashAfterAcceptedSends {
            // Test hook: die in the window between the server's acceptance and our record.
            logger.critical("crash hook: exiting after an accepted send", ["notification.delivery": claimed.id])
            _exit(70)
        }
        Self.timing.send.add(nanoseconds, ordering: .relaxed)
        if Self.timing.recording.load(ordering: .relaxed) { Self.timing.samples.withLock { $0.append(nanoseconds) } }
        Self.timing.count.add(1, ordering: .relaxed)
        recorder?.add(claimed, .sent(outcome, at: Date()))
    }

    /// Stops renewing the leases of `ids` (their results could not be written).
    private func forget(_ ids: [String]) {
        condition.withLock { holding.subtract(ids) }
        logger.error("delivery results not written; the deliveries will be taken over when their leases expire",
                     ["notification.deliveries": String(ids.count)])
    }

    /// Writes a batch of results in one transaction (the recorder's thread).
    /// - Returns: false when the transaction failed (the recorder tries again).
    private func write(_ batch: [(ClaimedDelivery, ClaimResult)]) -> Bool {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let measuring = Self.timing.measuring.load(ordering: .relaxed)
        let cpu0 = measuring ? ThreadCPU.nanoseconds() : 0
        defer { if measuring { Self.timing.recorderCPU.add(ThreadCPU.nanoseconds() - cpu0, ordering: .relaxed) } }
        let written: [(ClaimedDelivery, (DeliveryState, String)?)]
        do {
            written = try database.write { tx in
                var sends: [(ClaimedDelivery, SendOutcome, Date)] = []
                var released: [(ClaimedDelivery, (DeliveryState, String)?)] = []
                for (claimed, result) in batch {
                    switch result {
                    case .released:
                        try DeliveryClaims.release(tx, claimed, instance: instanceID)
                        released.append((claimed, nil))
                    case .moved(let url):
                        try DeliveryClaims.release(tx, claimed, instance: instanceID, movedTo: url)
                        released.append((claimed, nil))
                    case .sent(let outcome, let at):
                        sends.append((claimed, outcome, at))
                    }
                }
                return try DeliveryClaims.recordAll(tx, sends, instance: instanceID, retry: settings.retry, publisher: publisher)
                    + released
            }
        } catch {
            logger.error("delivery bookkeeping failed: \(error)", ["notification.deliveries": String(batch.count)])
            return false
        }
        condition.withLock { holding.subtract(batch.map(\.0.id)) }
        Self.timing.noteRecorded(written.count)
        for (claimed, result) in written {
            guard let (state, answer) = result else { continue }
            if state == .queued || state == .dead {
                logger.info("delivery attempt failed", ["notification.delivery": claimed.id, "notification.state": state.rawValue,
                                                        "notification.answer": answer])
            }
        }
        Self.timing.record.add(Int(DispatchTime.now().uptimeNanoseconds - t0), ordering: .relaxed)
        return true
    }
}

/// Nanoseconds spent per phase of sending, for the benchmark.
package final class PhaseTiming: Sendable {
    package let claim = Atomic<Int>(0)
    package let send = Atomic<Int>(0)
    package let record = Atomic<Int>(0)
    package let count = Atomic<Int>(0)
    /// Results written (sent, failed, requeued or released), ever; the benchmark waits on it
    /// instead of querying the table.
    package let recorded = Atomic<Int>(0)
    private let waiters = Atomic<Int>(0)
    private let recordedChanged = NSCondition()
    /// Individual send durations (ns) while ``recording`` is set.
    package let samples = Mutex<[Int]>([])
    package let recording = Atomic<Bool>(false)
    /// Whether threads read their CPU clocks (system calls) for the split below; the
    /// benchmark sets it.
    package let measuring = Atomic<Bool>(false)
    /// Deliveries handed to a lane by the transaction that inserted them (``InsertClaims``), ever.
    package let claimedAtInsert = Atomic<Int>(0)
    /// CPU time (ns) of the coordinator thread so far (claims, lease renewals, take-overs).
    package let coordinatorCPU = Atomic<Int>(0)
    /// CPU time (ns) spent writing results (the recorder thread's transactions).
    package let recorderCPU = Atomic<Int>(0)
    /// CPU time (ns) of the send threads in sends (and handing results over).
    package let laneCPU = Atomic<Int>(0)
}

extension PhaseTiming {
    func noteRecorded(_ count: Int) {
        recorded.add(count, ordering: .sequentiallyConsistent)
        if waiters.load(ordering: .sequentiallyConsistent) > 0 {
            recordedChanged.lock()
            recordedChanged.broadcast()
            recordedChanged.unlock()
        }
    }

    /// Waits until ``recorded`` reaches `target` or `deadline` passes (the benchmark, instead of
    /// polling). - Returns: whether it was reached.
    package func waitRecorded(atLeast target: Int, until deadline: Date) -> Bool {
        waiters.add(1, ordering: .sequentiallyConsistent)
        defer { waiters.subtract(1, ordering: .sequentiallyConsistent) }
        recordedChanged.lock()
        defer { recordedChanged.unlock() }
        while recorded.load(ordering: .sequentiallyConsistent) < target {
            if !recordedChanged.wait(until: deadline) { break }
        }
        return recorded.load(ordering: .sequentiallyConsistent) >= target
    }
}

/// The calling thread's CPU time.
package enum ThreadCPU {
    package static func nanoseconds() -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return spec.tv_sec * 1_000_000_000 + spec.tv_nsec
    }
}

extension NSCondition {
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
