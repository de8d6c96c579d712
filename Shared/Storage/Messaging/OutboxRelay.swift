import Foundation
import Synchronization

/// Publishes the events of a database's ``Outbox`` by calling `deliver` for each, on a thread of
/// its own, at least once and in per-key order (or, created with `deliverBatch:`, calls per
/// destination carrying that destination's events of the round, several keys each).
///
/// Each round claims up to ``RelayConfiguration/batchSize`` events by writing one lease row for
/// them (`storage_outbox_leases`: owner, end of the lease, the claimed seqs), delivers them
/// outside any transaction (each key's events in sequence order, up to
/// ``RelayConfiguration/deliveryConcurrency`` keys at once), then deletes the delivered events,
/// schedules failed ones for a retry with exponential backoff and jitter, and ends the lease
/// (the polling thread deletes a fully delivered round's events in its next claim's
/// transaction instead of a transaction of their own). A destination found
/// unreachable (``RelayConfiguration/isUnreachable``) rests until its first deferred event is due:
/// rounds meanwhile neither claim nor rewrite its waiting events.
///
/// Guarantees:
/// - **Per-key order.** Only keys whose oldest pending event is neither leased nor waiting for a
///   retry are claimed, and always as a prefix of that key's events; after a failure the rest of
///   that key's batch is not delivered. So an event is never delivered before an earlier event of
///   the same key has been delivered.
/// - **Several relays, one database.** Relays in other processes (same or different `name`) share
///   the outbox safely: claims are serialized (PostgreSQL advisory lock, SQLite write lock) and
///   leased events are skipped, so no event is delivered by two relays at once while its lease
///   holds. A relay that dies loses its lease after ``RelayConfiguration/leaseDuration``.
/// - **At least once.** State lives only in the database. An event delivered just before a crash,
///   a lost acknowledgement or an expired lease is delivered again: consumers must deduplicate on
///   ``OutboxEvent/id`` (see ``Inbox``). A failing event is retried forever and holds back its key.
///
/// ```swift
/// let relay = OutboxRelay(database: db, name: "intake-relay") { event in
///     try bus.publish(event.type, key: event.key, payload: event.payload)   // throws → retried
/// }
/// relay.start()
/// defer { relay.stop() }
/// ```
///
/// `@unchecked Sendable`: the run state is guarded by `condition`, batches by `batchLock`,
/// counters are atomic and everything else is immutable.
public final class OutboxRelay: @unchecked Sendable {
    /// The lease owner written on claimed events: `name` plus the instance's name, or a UUID.
    public let owner: String
    private let database: any Database
    private let configuration: RelayConfiguration
    private let deliver: Delivery
    private let onError: (@Sendable (any Error) -> Void)?

    private let condition = NSCondition()
    private var isThreadRunning = false  // guarded by condition
    private var stopRequested = false  // guarded by condition
    private var wakeRequested = false  // guarded by condition
    /// A ``nudge()`` since the current round began (guarded by condition).
    private var nudged = false
    /// The thread sleeps the idle poll interval (guarded by condition).
    private var idle = false
    private var thread: Thread?  // guarded by condition
    private let batchLock = NSLock()
    /// Destinations found unreachable, with the earliest time one of their deferred events is
    /// due again: until then rounds do not claim their events at all (guarded by `batchLock`).
    private var resting: [String: Int64] = [:]
    private let delivered = Atomic<Int>(0)
    /// The threads delivering a round's calls beside the polling thread.
    private let workers = Workers()
    /// Events this relay deleted since its last `VACUUM` (PostgreSQL), and when that was (guarded by `batchLock`).
    private var deletedSinceVacuum = 0
    /// Events the polling thread delivered in its last round whose rows it has not deleted yet:
    /// the next round's claim deletes them in its own transaction (guarded by `batchLock`).
    private var undeleted: [Int64] = []
    /// The end of the lease this relay's row in `storage_outbox_leases` holds, nil when it has
    /// none (guarded by `batchLock`).
    private var leaseToken: Int64?
    private var lastVacuumAt: Int64 = 0
    private let failed = Atomic<Int>(0)

    /// Advisory-lock key serializing claims on PostgreSQL ("OCORRELY").
    static let claimLockKey: Int64 = 0x4F43_4F52_5245_4C59

    deinit { workers.end() }

    /// Creates a stopped relay.
    /// - Parameters:
    ///   - database: The database holding the outbox.
    ///   - name: Identifies the relay in leases and logs, e.g. `"intake-relay"`.
    ///   - instance: The process's stable name among the instances sharing the database (see
    ///     `ServiceConfiguration.instanceID`). When given, the relay takes back at start the events
    ///     it leased before a crash, instead of leaving them to wait for their lease to expire.
    ///     Two running relays must never share it. `nil`: a random name, leases always expire.
    ///   - configuration: Batch size, polling, backoff and lease tuning.
    ///   - onError: Called with database errors of the polling loop (the loop backs off and
    ///     continues, or ends when the database was closed); delivery failures are recorded on
    ///     the event instead.
    ///   - deliver: Publishes one event; throwing schedules a retry. Called from the relay's
    ///     thread or from worker threads, for several keys at once (one event at a time per key),
    ///     so it must be thread-safe.
    public init(database: any Database, name: String, instance: String? = nil, configuration: RelayConfiguration = RelayConfiguration(),
                onError: (@Sendable (any Error) -> Void)? = nil,
                deliver: @escaping @Sendable (OutboxEvent) throws -> Void) {
        self.database = database
        self.owner = "\(name)/\(instance ?? UUID().uuidString)"
        self.configuration = configuration
        self.onError = onError
        self.deliver = .oneByOne(deliver)
    }

    /// What a batch delivery (``init(database:name:instance:configuration:onError:deliverBatch:)``)
    /// reports: the events it did **not** deliver, by index in the batch, with the error. For each
    /// key only its first failure counts: the key's later events in the batch count as not
    /// delivered (and are claimed again), whatever the map says about them.
    public typealias BatchFailures = [Int: any Error]

    /// Creates a stopped relay that delivers a round's events **per destination**: calls of
    /// `deliverBatch` with the claimed events whose key names that destination (the part before
    /// the first `|`), several keys interleaved in sequence order, instead of one call per event.
    /// A destination's events are split by key into up to ``RelayConfiguration/deliveryConcurrency``
    /// calls of at least ``RelayConfiguration/minimumCallSize`` events (one call when fewer);
    /// all calls of a round are made side by side, up to ``RelayConfiguration/deliveryConcurrency``.
    ///
    /// `deliverBatch` must keep per-key order: once an event of a key fails, it must not deliver
    /// that key's later events of the batch, and it returns the failure (``BatchFailures``); the
    /// other keys' events may go on. Throwing means nothing was delivered: every key's first
    /// event of the batch is scheduled for a retry with that error (an unreachable destination
    /// then rests as with ``init(database:name:instance:configuration:onError:deliver:)``).
    /// Events it did deliver before a throw or a lost answer are delivered again later (at least
    /// once: consumers deduplicate).
    public init(database: any Database, name: String, instance: String? = nil, configuration: RelayConfiguration = RelayConfiguration(),
                onError: (@Sendable (any Error) -> Void)? = nil,
                deliverBatch: @escaping @Sendable (_ destination: String, _ events: [OutboxEvent]) throws -> BatchFailures) {
        self.database = database
        self.owner = "\(name)/\(instance ?? UUID().uuidString)"
        self.configuration = configuration
        self.onError = onError
        self.deliver = .perDestination(deliverBatch)
    }

    private enum Delivery {
        case oneByOne(@Sendable (OutboxEvent) throws -> Void)
        case perDestination(@Sendable (String, [OutboxEvent]) throws -> BatchFailures)
    }

    /// Events delivered by this relay since it was created.
    public var deliveredCount: Int { delivered.load(ordering: .relaxed) }
    /// Deliveries by this relay that threw, since it was created.
    public var failedCount: Int { failed.load(ordering: .relaxed) }
    /// Whether the polling thread is sleeping the idle poll interval now, having found nothing
    /// (tests wait for it instead of sleeping).
    public var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return idle
    }

    // MARK: Lifecycle

    /// Starts the polling thread. Does nothing when it is already running.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !isThreadRunning else { return }
        isThreadRunning = true
        stopRequested = false
        let thread = Thread { [self] in
            self.loop()
            self.condition.lock()
            self.isThreadRunning = false
            self.thread = nil
            self.condition.broadcast()
            self.condition.unlock()
        }
        thread.name = "outbox-relay"
        self.thread = thread
        thread.start()
    }

    /// Stops the polling thread and waits until it has finished its current delivery and released
    /// its unfinished claims. Does nothing when it is not running. Called from `deliver` itself it
    /// only requests the stop.
    public func stop() {
        condition.lock()
        defer { condition.unlock() }
        guard isThreadRunning else { return }
        stopRequested = true
        condition.broadcast()
        guard Thread.current !== thread else { return }
        while isThreadRunning { condition.wait() }
    }

    /// Ends the current poll wait now, e.g. right after a transaction enqueued events.
    public func wake() {
        condition.lock()
        wakeRequested = true
        condition.broadcast()
        condition.unlock()
    }

    /// Events were just committed: ends the **idle** poll wait now (a relay that found nothing
    /// sleeps ``RelayConfiguration/pollInterval``, 200 ms by default), and a nudge during a round
    /// makes the relay look again right after it instead of sleeping. Unlike ``wake()`` it never
    /// cuts the short pause between busy rounds (``RelayConfiguration/roundInterval``), which
    /// gathers what is published meanwhile into few calls, so nudging after every commit costs no
    /// batching under load; it only takes the poll interval out of a quiet service's latency.
    public func nudge() {
        condition.lock()
        nudged = true
        if idle { condition.broadcast() }
        condition.unlock()
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopRequested
    }

    private func loop() {
        var consecutiveErrors = 0
        var leasesReleased = false
        while !isStopping {
            if !leasesReleased {
                // What this owner leased before a crash is not being delivered by anyone.
                do {
                    try releaseLeases()
                    leasesReleased = true
                } catch let error as StorageError where error.kind == .closed {
                    onError?(error)
                    return
                } catch {
                    onError?(error)
                }
            }
            var pause: Int64
            var idlePause = false
            condition.lock()
            nudged = false
            condition.unlock()
            do {
                let started = EpochMillis.now()
                let count = try runRound(deferringDeletes: true)
                consecutiveErrors = 0
                // After a round that found events, the next starts `roundInterval` after this one
                // did: what is published meanwhile goes out together (in few calls per destination).
                pause = count > 0 ? max(0, configuration.roundInterval.wholeMilliseconds - (EpochMillis.now() - started))
                    : configuration.pollInterval.wholeMilliseconds
                idlePause = count == 0
            } catch let error as StorageError where error.kind == .closed {
                onError?(error)
                return  // the database is gone; nothing more can be delivered
            } catch {
                consecutiveErrors += 1
                onError?(error)
                // The database is restarting or unreachable: poll again soon, it is one query.
                pause = configuration.backoffMillis(afterAttempts: consecutiveErrors, unreachable: true)
            }
            condition.lock()
            let deadline = Date(timeIntervalSinceNow: Double(pause) / 1000)
            idle = idlePause
            while pause > 0 && !stopRequested && !wakeRequested && !(idlePause && nudged) {
                if !condition.wait(until: deadline) { break }
            }
            idle = false
            wakeRequested = false
            condition.unlock()
        }
        // The last round's delivered events, still leased by this relay.
        do { try deletePending() } catch { onError?(error) }
    }

    // MARK: One round

    /// Claims one batch, delivers it and records the outcome; what the thread does each round.
    /// Useful on its own in tests and tools.
    /// - Returns: The number of events delivered.
    /// - Throws: ``StorageError`` when claiming or recording fails (delivered events whose outcome
    ///   could not be recorded are delivered again later).
    @discardableResult
    public func runOnce() throws -> Int {
        try runRound(deferringDeletes: false)
    }

    /// One round. - Parameter deferringDeletes: When every claimed event was delivered, leave
    ///   their rows (still leased by this relay) for the next round's claim to delete in its own
    ///   transaction: a busy relay then writes one transaction per round instead of two (on
    ///   SQLite one commit of the outbox's pages instead of two; on PostgreSQL a round trip and
    ///   a commit less). The polling thread does that; ``runOnce()`` settles at once.
    private func runRound(deferringDeletes: Bool) throws -> Int {
        batchLock.lock()
        defer { batchLock.unlock() }
        let claimedAt = EpochMillis.now()
        let lease = max(1, configuration.leaseDuration.wholeMilliseconds)
        resting = resting.filter { $0.value > claimedAt }
        let batch = try claim(now: claimedAt, lockedUntil: claimedAt + lease, skipping: resting.keys.sorted())
        guard !batch.isEmpty else { return 0 }

        let deliveryDeadline = claimedAt + lease * 8 / 10
        let outcome = Mutex<RoundOutcome>(RoundOutcome())
        let jobs: [@Sendable () -> Void]
        switch deliver {
        case .oneByOne(let deliver):
            jobs = Self.groups(batch) { $0.event.key }.map { group in
                { [self] in deliverOneByOne(group, deadline: deliveryDeadline, outcome: outcome, deliver: deliver) }
            }
        case .perDestination(let deliverBatch):
            let destinations = Self.groups(batch) { Self.destination(of: $0.event.key) }
            jobs = destinations.flatMap { Self.split($0, parts: configuration.deliveryConcurrency, minimum: configuration.minimumCallSize) }.map { part in
                { [self] in deliverPerDestination(part, deadline: deliveryDeadline, outcome: outcome, deliverBatch: deliverBatch) }
            }
        }
        run(jobs, threads: min(configuration.deliveryConcurrency, jobs.count))
        let (deliveredSeqs, failures) = outcome.withLock { ($0.delivered, $0.failures) }
        if deferringDeletes && failures.isEmpty && deliveredSeqs.count == batch.count {
            undeleted = deliveredSeqs
            delivered.add(deliveredSeqs.count, ordering: .relaxed)
            vacuumIfDue(deleted: 0)
            return deliveredSeqs.count
        }
        // An unreachable destination rests until its first deferred event is due: the rounds in
        // between neither claim nor rewrite any of its waiting events (a backlog of thousands
        // used to be leased and written back every round, for one failing call).
        // The rest (a failed key's later events, a round cut short) is free again with the lease.
        resting.merge(try settle(delivered: deliveredSeqs, failures: failures)) { $1 }
        delivered.add(deliveredSeqs.count, ordering: .relaxed)
        failed.add(failures.count { $0.attempted }, ordering: .relaxed)
        vacuumIfDue(deleted: deliveredSeqs.count)
        return deliveredSeqs.count
    }

    /// Deletes the rows of the events the last round delivered (``runRound(deferringDeletes:)``)
    /// unless a claim did already.
    private func deletePending() throws {
        batchLock.lock()
        defer { batchLock.unlock() }
        guard !undeleted.isEmpty else { return }
        try database.write { tx in
            try deleteUndeleted(tx)
            try tx.execute("DELETE FROM storage_outbox_leases WHERE owner = ?", [.text(owner)])
        }
        finishDeletes()
        leaseToken = nil
    }

    /// Deletes the rows of ``undeleted`` in `tx`. They were delivered, so they go whoever
    /// holds them now (a relay that took them over after this one's lease expired delivers
    /// them again at most: at least once).
    private func deleteUndeleted(_ tx: any SQLExecutor) throws {
        guard !undeleted.isEmpty else { return }
        try tx.execute("DELETE FROM storage_outbox WHERE \(Self.seqList(tx.engine))", [.text(undeleted.map(String.init).joined(separator: ","))])
    }

    /// After the transaction that ran ``deleteUndeleted(_:)`` committed (the deletes count
    /// towards the next `VACUUM`, run at the end of a round).
    private func finishDeletes() {
        deletedSinceVacuum += undeleted.count
        undeleted = []
    }

    /// PostgreSQL: vacuums the outbox once enough delivered rows were deleted since the last time
    /// (``RelayConfiguration/vacuumAfterDeletes``), so that claims and scans do not walk past
    /// them (and the relays' lease rows, a new version each round). `SKIP_LOCKED`: when another
    /// relay is vacuuming it already, nothing is done. A
    /// failure is reported to `onError` and the round's outcome stands.
    private func vacuumIfDue(deleted: Int) {
        guard configuration.vacuumAfterDeletes > 0, let postgres = database as? PostgresDatabase else { return }
        deletedSinceVacuum += deleted
        let now = EpochMillis.now()
        guard deletedSinceVacuum >= configuration.vacuumAfterDeletes, now - lastVacuumAt >= 1_000 else { return }
        deletedSinceVacuum = 0
        lastVacuumAt = now
        do {
            try postgres.executeOutsideTransaction("VACUUM (SKIP_LOCKED) storage_outbox, storage_outbox_leases")
        } catch {
            onError?(error)
        }
    }

    /// `items` grouped by `key`, each group in the items' order, groups in order of first appearance.
    private static func groups<Key: Hashable>(_ items: [ClaimedEvent], by key: (ClaimedEvent) -> Key) -> [[ClaimedEvent]] {
        var index: [Key: Int] = [:]
        var groups: [[ClaimedEvent]] = []
        for item in items {
            let k = key(item)
            if let at = index[k] {
                groups[at].append(item)
            } else {
                index[k] = groups.count
                groups.append([item])
            }
        }
        return groups
    }

    /// One destination's events split by key into up to `parts` calls of about `minimum` events
    /// or more each (a key's events all in one part, in order), so a busy destination's events
    /// are applied by several consumer transactions side by side instead of one after the other.
    private static func split(_ events: [ClaimedEvent], parts: Int, minimum: Int) -> [[ClaimedEvent]] {
        let count = max(1, min(parts, events.count / max(1, minimum)))
        guard count > 1 else { return [events] }
        var part: [String: Int] = [:]
        var result = Array(repeating: [ClaimedEvent](), count: count)
        for item in events {
            let index = part[item.event.key] ?? {
                // Keys go to the part with the fewest events so far.
                let least = result.indices.min { result[$0].count < result[$1].count } ?? 0
                part[item.event.key] = least
                return least
            }()
            result[index].append(item)
        }
        return result.filter { !$0.isEmpty }
    }

    /// Runs `jobs` on up to `threads` threads (the caller's included) and waits for all of them.
    private func run(_ jobs: [@Sendable () -> Void], threads: Int) {
        if threads <= 1 {
            for job in jobs { job() }
            return
        }
        workers.run(jobs, helpers: threads - 1)
    }

    /// Threads of the relay's own that help the polling thread deliver a round's calls side by
    /// side, kept between rounds (they used to be created for each round and exit after it:
    /// hundreds of thread creations a second on a busy outbox). Threads and not Dispatch:
    /// deliveries block on the network, and Dispatch's shared pool is only as wide as the CPU
    /// count and is also Swift concurrency's pool on Linux, so `concurrentPerform` ran them one
    /// at a time whenever that pool was busy. Idle helpers wait on a condition; they end when the
    /// relay is released.
    ///
    /// `@unchecked Sendable`: every property is guarded by `condition`.
    private final class Workers: @unchecked Sendable {
        private let condition = NSCondition()
        private var jobs: [@Sendable () -> Void] = []
        private var next = 0
        /// Jobs of the current round not finished yet.
        private var unfinished = 0
        private var helpers = 0
        private var ended = false

        /// Runs `jobs` on the calling thread and up to `helpers` helper threads; returns when all are done.
        func run(_ jobs: [@Sendable () -> Void], helpers wanted: Int) {
            condition.lock()
            self.jobs = jobs
            next = 0
            unfinished = jobs.count
            while helpers < wanted {
                helpers += 1
                let thread = Thread { [self] in helperLoop() }
                thread.name = "outbox-delivery"
                thread.start()
            }
            // Wake only as many helpers as there are jobs beyond the caller's first.
            for _ in 0..<min(wanted, jobs.count - 1) { condition.signal() }
            while let job = takeLocked() {
                condition.unlock()
                job()
                condition.lock()
                unfinished -= 1
            }
            while unfinished > 0 { condition.wait() }
            self.jobs = []
            condition.unlock()
        }

        /// The next job of the round (called with `condition` locked).
        private func takeLocked() -> (@Sendable () -> Void)? {
            guard next < jobs.count else { return nil }
            defer { next += 1 }
            return jobs[next]
        }

        private func helperLoop() {
            condition.lock()
            while !ended {
                guard let job = takeLocked() else {
                    condition.wait()
                    continue
                }
                condition.unlock()
                job()
                condition.lock()
                unfinished -= 1
                if unfinished == 0 { condition.broadcast() }
            }
            condition.unlock()
        }

        /// Ends the helpers once they are idle.
        func end() {
            condition.lock()
            ended = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Delivers one key's events in order, stopping at its first failure (the rest of that key
    /// waits for the failed event's retry). A key whose destination failed as unreachable earlier
    /// in the round is deferred without a call.
    private func deliverOneByOne(_ group: [ClaimedEvent], deadline: Int64, outcome: borrowing Mutex<RoundOutcome>,
                                 deliver: @Sendable (OutboxEvent) throws -> Void) {
        guard let first = group.first else { return }
        let destination = Self.destination(of: first.event.key)
        for item in group {
            if isStopping || EpochMillis.now() > deadline { return }
            if let reason = outcome.withLock({ $0.unreachable[destination] }) {
                outcome.withLock {
                    $0.failures.append(Failure(seq: item.seq, attempts: item.attempts, error: reason, unreachable: true, attempted: false,
                                               destination: String(destination)))
                }
                return
            }
            do {
                try deliver(item.event)
                outcome.withLock { $0.delivered.append(item.seq) }
            } catch {
                record(error, of: item, destination: destination, in: outcome)
                return
            }
        }
    }

    /// Delivers one destination's events (several keys, in sequence order) in one call, then
    /// sorts them into delivered, failed (the first failure of a key) and released (a failed
    /// key's later events).
    private func deliverPerDestination(_ group: [ClaimedEvent], deadline: Int64, outcome: borrowing Mutex<RoundOutcome>,
                                       deliverBatch: @Sendable (String, [OutboxEvent]) throws -> BatchFailures) {
        guard let first = group.first, !isStopping, EpochMillis.now() <= deadline else { return }
        let destination = Self.destination(of: first.event.key)
        let failures: BatchFailures
        do {
            failures = try deliverBatch(String(destination), group.map(\.event))
        } catch {
            // Nothing counts as delivered: each key's first event carries the failure.
            var seen = Set<String>()
            for item in group where seen.insert(item.event.key).inserted {
                record(error, of: item, destination: destination, in: outcome)
            }
            return
        }
        var failedKeys = Set<String>()
        var delivered: [Int64] = []
        for (index, item) in group.enumerated() {
            if failedKeys.contains(item.event.key) { continue }
            if let error = failures[index] {
                failedKeys.insert(item.event.key)
                record(error, of: item, destination: destination, in: outcome)
            } else {
                delivered.append(item.seq)
            }
        }
        outcome.withLock { $0.delivered += delivered }
    }

    /// Records a failed delivery of `item` (marking its destination unreachable for the round
    /// when the error says so).
    private func record(_ error: any Error, of item: ClaimedEvent, destination: Substring, in outcome: borrowing Mutex<RoundOutcome>) {
        let unreachable = configuration.isUnreachable?(error) ?? false
        let reason = String(String(describing: error).prefix(1000))
        outcome.withLock {
            $0.failures.append(Failure(seq: item.seq, attempts: item.attempts + 1, error: reason, unreachable: unreachable,
                                       attempted: true, destination: String(destination)))
            if unreachable { $0.unreachable[destination] = reason }
        }
    }

    /// A delivery that failed, or was deferred because its destination was unreachable.
    private struct Failure {
        var seq: Int64
        /// The event's attempts after this round (a deferred event keeps its count).
        var attempts: Int
        var error: String
        var unreachable: Bool
        /// False when the event was deferred without a call.
        var attempted: Bool
        /// The destination its key names (``destination(of:)``).
        var destination: String
    }

    /// What the workers of one round found, under one lock.
    private struct RoundOutcome {
        var delivered: [Int64] = []
        var failures: [Failure] = []
        /// Destinations that failed as unreachable this round, with the error.
        var unreachable: [Substring: String] = [:]
    }

    /// The destination an event's key names: the part before the first `|`, or the whole key.
    static func destination(of key: String) -> Substring {
        key.firstIndex(of: "|").map { key[..<$0] } ?? Substring(key)
    }

    private struct ClaimedEvent: Sendable {
        var seq: Int64
        var attempts: Int
        var event: OutboxEvent
    }

    /// Claims up to ``RelayConfiguration/batchSize`` events: a prefix of each claimable key's
    /// events, in `seq` order.
    ///
    /// It reads the oldest rows of the outbox in `seq` order — a window of twice the batch size,
    /// four times larger while it holds fewer claimable events than a batch and more rows remain —
    /// and picks the events here: since the window starts at the oldest row, the first row of a
    /// key in it is that key's oldest event, whose lease (another relay's lease row, or its own
    /// `locked_until` written by a relay of an older version) and retry time say whether the key
    /// is claimable. Then it reads the picked rows by primary key and writes this relay's lease
    /// row (the claimed rows are not rewritten). Each window is one statement, so
    /// one snapshot: a key's later event is never seen without its earlier ones (per-key order
    /// is commit order, ``Outbox/enqueue(_:_:)``). The cost is the rows read, about twice the
    /// batch when the oldest keys are claimable, whatever the size of the backlog behind them.
    /// (It used to be one `UPDATE … WHERE seq IN (SELECT … ORDER BY seq LIMIT …)` that looked up
    /// each row's key head with a correlated `MIN(seq)`; with a backlog of 30,000 rows
    /// PostgreSQL planned it as a hash join over the whole table, computing the head of every
    /// row: ≈ 37 ms a claim in the end-to-end benchmark, 1.6 s on a loaded machine.)
    ///
    /// While destinations rest, their waiting events are the oldest rows (the others' are
    /// delivered and deleted), so a window in `seq` order would read the whole resting backlog
    /// before the first other row, every round: with notification down during ticket opens, intake
    /// spent ≈ 570 µs per open instead of ≈ 170 and workflow got its tickets 18 s late
    /// (docs/BENCHMARKS-gateway.md). Then the window is read per destination instead, through the
    /// index of storage migration 11 (destination, seq): the destinations present (one index
    /// probe each), and for each one not resting the oldest rows of its own — a window of that
    /// destination's rows, so each key's first row in it is still the key's oldest event (a key
    /// names one destination). The cost is again about the rows claimed, whatever the backlog.
    ///
    /// - Parameter skipping: Destinations resting after being found unreachable: none of their
    ///   events is claimed (nor rewritten) this round.
    private func claim(now: Int64, lockedUntil: Int64, skipping: [String]) throws -> [ClaimedEvent] {
        let batchSize = configuration.batchSize
        let owner = self.owner
        let hadLease = leaseToken != nil
        var leased = false
        let claimed = try database.write { tx -> [ClaimedEvent] in
            leased = false
            // While destinations rest, the windows below name a destination each: on PostgreSQL a
            // generic plan (which it may pick after five rounds) would walk the primary key past
            // the resting backlog instead of the destination index (768 ms against 0.13 ms a
            // window at 1,000,000 resting rows; docs/STORAGE.md). Sent with the first statement.
            if !skipping.isEmpty { try Outbox.planForValues(tx) }
            let windowSQL = "SELECT seq, event_key, next_attempt_at, locked_until FROM storage_outbox WHERE seq > 0 ORDER BY seq LIMIT ?"
            let firstWindow = max(64, batchSize * 2)
            var window = firstWindow
            // One round trip on PostgreSQL (pipelined, executed in order): the previous round's
            // delivered events (so their keys are free in the window), the claim lock, the other
            // relays' lease rows and the first window, read after the lock was granted.
            var first: [(sql: String, params: [SQLValue])] = []
            if !undeleted.isEmpty {
                first.append(("DELETE FROM storage_outbox WHERE \(Self.seqList(tx.engine))", [.text(undeleted.map(String.init).joined(separator: ","))]))
            }
            if tx.engine == .postgres { first.append(("SELECT pg_advisory_xact_lock(\(Self.claimLockKey))", [])) }
            first.append(("SELECT owner, locked_until, seqs FROM storage_outbox_leases", []))
            // Nothing resting: the oldest rows. Else the destinations present, whose windows follow.
            first.append(skipping.isEmpty ? (windowSQL, [SQLValue(window)]) : (Self.destinationsSQL(tx.engine), []))
            let results = try tx.queryPipelined(first)
            // The other relays' claims (one row each); expired ones are dropped.
            var held = Set<Int64>()
            var expired = false
            for row in results[results.count - 2] where try row.text("owner") != owner {
                if try row.int("locked_until") < now {
                    expired = true
                } else {
                    try Self.forEachSeq(in: row.text("seqs")) { held.insert($0) }
                }
            }
            if expired {
                try tx.execute("DELETE FROM storage_outbox_leases WHERE locked_until < ? AND owner <> ?", [.integer(now), .text(owner)])
            }
            let restingNow = Set(skipping)
            let awake = skipping.isEmpty ? [] : try results[results.count - 1].map { try $0.text("name") }.filter { !restingNow.contains($0) }
            // One window, or one per destination not resting; `complete` when it read every row
            // it could (no window came back full).
            func read(_ window: Int) throws -> (rows: [Row], complete: Bool) {
                if skipping.isEmpty {
                    let rows = window == firstWindow ? results[results.count - 1] : try tx.query(windowSQL, [SQLValue(window)])
                    return (rows, rows.count < window)
                }
                guard !awake.isEmpty else { return ([], true) }
                let rows = try tx.query(Self.destinationWindowsSQL(tx.engine, count: awake.count),
                                        awake.flatMap { [SQLValue.text($0), SQLValue(window)] })
                let ordered = try rows.map { (seq: try $0.int("seq"), row: $0) }.sorted { $0.seq < $1.seq }.map { $0.row }
                var perDestination: [Substring: Int] = [:]
                for row in ordered { perDestination[Self.destination(of: try row.text("event_key")), default: 0] += 1 }
                return (ordered, perDestination.values.allSatisfy { $0 < window })
            }
            var (rows, complete) = try read(window)
            var picked: [Int64]
            while true {
                picked = try Self.pick(rows, now: now, limit: batchSize, held: held)
                if picked.count >= batchSize || complete { break }
                window *= 4
                (rows, complete) = try read(window)
            }
            guard !picked.isEmpty else {
                if hadLease { try tx.execute("DELETE FROM storage_outbox_leases WHERE owner = ?", [.text(owner)]) }
                return []
            }
            // The picked rows, by primary key (their seqs as one parameter: one statement text
            // whatever their number), and this relay's lease on them: one row, whatever their
            // number; one round trip on PostgreSQL. No other relay claimed them since the window
            // was read: claims are serialized (advisory lock, SQLite's write lock).
            let claimedRows = try tx.queryPipelined([
                ("""
                 SELECT seq, attempts, event_id, event_type, event_key, payload, created_at FROM storage_outbox
                 WHERE \(Self.seqList(tx.engine))
                 """, [.text(picked.map(String.init).joined(separator: ","))]),
                ("""
                 INSERT INTO storage_outbox_leases (owner, locked_until, seqs) VALUES (?, ?, ?)
                 ON CONFLICT (owner) DO UPDATE SET locked_until = excluded.locked_until, seqs = excluded.seqs
                 """, [.text(owner), .integer(lockedUntil), .text(Self.ranges(picked))]),
            ])[0]
            leased = true
            return try claimedRows.map { row in
                ClaimedEvent(
                    seq: try row.int("seq"), attempts: Int(try row.int("attempts")),
                    event: OutboxEvent(id: try row.text("event_id"), type: try row.text("event_type"), key: try row.text("event_key"),
                                       payload: try row.blob("payload"), createdAt: try row.date("created_at")))
            }.sorted { $0.seq < $1.seq }
        }
        finishDeletes()
        leaseToken = leased ? lockedUntil : nil
        return claimed
    }

    /// An event key's destination in SQL (the part before the first `|`, or the whole key): the
    /// expression of storage migration 11's index, written the same way so the engines use it.
    static func destinationExpression(_ engine: DatabaseEngine) -> String {
        engine == .postgres ? "substr(event_key, 1, strpos(event_key || '|', '|') - 1)"
            : "substr(event_key, 1, instr(event_key || '|', '|') - 1)"
    }

    /// The destinations with events in the outbox by name (column `name`), one index probe each:
    /// a loose index scan over migration 11's index; with `limit`, the first `limit` of them only
    /// (the metrics, which must not probe once per key when keys name no destination of their own).
    static func destinationsSQL(_ engine: DatabaseEngine, limit: Int? = nil) -> String {
        let destination = destinationExpression(engine)
        let bounded = limit.map { " AND destinations.n < \(max(1, $0))" } ?? ""
        return """
            WITH RECURSIVE destinations(name, n) AS (
                SELECT (SELECT \(destination) FROM storage_outbox ORDER BY \(destination) LIMIT 1), 1
                UNION ALL
                SELECT (SELECT \(destination) FROM storage_outbox WHERE \(destination) > destinations.name
                        ORDER BY \(destination) LIMIT 1), destinations.n + 1
                FROM destinations WHERE destinations.name IS NOT NULL\(bounded))
            SELECT name FROM destinations WHERE name IS NOT NULL
            """
    }

    /// The oldest rows of each of `count` destinations (parameters: a destination, then the
    /// window's size, for each), through migration 11's index; in no particular order.
    static func destinationWindowsSQL(_ engine: DatabaseEngine, count: Int) -> String {
        let destination = destinationExpression(engine)
        return (0..<count).map { index in
            """
            SELECT * FROM (SELECT seq, event_key, next_attempt_at, locked_until FROM storage_outbox
                           WHERE \(destination) = ? ORDER BY seq LIMIT ?) AS window\(index)
            """
        }.joined(separator: " UNION ALL ")
    }

    /// `seqs` (ascending) as ranges: `"4-9,12,15-17"`.
    static func ranges(_ seqs: [Int64]) -> String {
        var text = ""
        var index = 0
        while index < seqs.count {
            var last = index
            while last + 1 < seqs.count && seqs[last + 1] == seqs[last] + 1 { last += 1 }
            if !text.isEmpty { text += "," }
            text += last == index ? "\(seqs[index])" : "\(seqs[index])-\(seqs[last])"
            index = last + 1
        }
        return text
    }

    /// Calls `body` with every seq of a ``ranges(_:)`` text.
    static func forEachSeq(in ranges: String, _ body: (Int64) -> Void) throws {
        for part in ranges.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1)
            guard let first = bounds.first.flatMap({ Int64($0) }), let last = bounds.count == 2 ? Int64(bounds[1]) : first, first <= last else {
                throw StorageError(.other, "malformed outbox lease: \(ranges.prefix(100))")
            }
            for seq in first...last { body(seq) }
        }
    }

    /// The condition "`seq` is one of the numbers of a comma-separated list given as one `?`".
    static func seqList(_ engine: DatabaseEngine) -> String {
        engine == .postgres ? "seq = ANY(string_to_array(?, ',')::bigint[])" : "seq IN (SELECT value FROM json_each('[' || ? || ']'))"
    }

    /// The seqs to claim among `rows` (the oldest rows of the outbox, in `seq` order): the rows of
    /// the keys whose first row in the window is neither claimed by another relay (in `held`, or
    /// its own `locked_until` not passed: a relay of an older version) nor waiting for a retry
    /// (`next_attempt_at` in the future), in order, at most `limit`.
    static func pick(_ rows: [Row], now: Int64, limit: Int, held: Set<Int64> = []) throws -> [Int64] {
        var claimable: [String: Bool] = [:]
        var picked: [Int64] = []
        for row in rows {
            let key = try row.text("event_key")
            let open: Bool
            if let known = claimable[key] {
                open = known
            } else {
                let lockedUntil = try row.optionalInt("locked_until")
                open = try (lockedUntil ?? Int64.min) < now && row.int("next_attempt_at") <= now && !held.contains(row.int("seq"))
                claimable[key] = open
            }
            guard open else { continue }
            picked.append(try row.int("seq"))
            if picked.count >= limit { break }
        }
        return picked
    }

    /// Records a round's outcome and ends the round's lease (what was neither delivered nor
    /// failed is claimable again). - Returns: for each destination that failed as unreachable,
    /// the earliest retry time given to one of its events.
    private func settle(delivered: [Int64], failures: [Failure]) throws -> [String: Int64] {
        let owner = SQLValue.text(owner)
        let token = leaseToken
        var resting: [String: Int64] = [:]
        try database.write { tx in
            resting = [:]
            // One statement for the delivered events, with their seqs as one parameter: one
            // statement text whatever their number (a list of `?` per event made a new statement
            // for every round size, prepared each time and crowding the statement cache).
            if !delivered.isEmpty {
                try tx.execute("DELETE FROM storage_outbox WHERE \(Self.seqList(tx.engine))", [.text(delivered.map(String.init).joined(separator: ","))])
            }
            // Failures are recorded only while this relay's lease holds: once it expired, the
            // events belong to whichever relay took them over.
            let held = try !failures.isEmpty && token != nil
                && tx.queryOne("SELECT locked_until FROM storage_outbox_leases WHERE owner = ?", [owner])?.int("locked_until") == token
            for failure in failures {
                let retryAt = EpochMillis.now() + configuration.backoffMillis(afterAttempts: max(1, failure.attempts),
                                                                               unreachable: failure.unreachable)
                if held {
                    try tx.execute("""
                        UPDATE storage_outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE seq = ?
                        """, [SQLValue(failure.attempts), .integer(retryAt), .text(failure.error), .integer(failure.seq)])
                }
                if failure.unreachable { resting[failure.destination] = min(resting[failure.destination] ?? retryAt, retryAt) }
            }
            // The lease ends with the round: what was neither delivered nor failed is free again.
            if token != nil {
                try tx.execute("DELETE FROM storage_outbox_leases WHERE owner = ?", [owner])
            }
        }
        leaseToken = nil
        return resting
    }

    /// Releases every event leased under this relay's owner name, e.g. by this instance before
    /// it was killed (its row in `storage_outbox_leases`, and rows leased one by one by an older
    /// version). Only safe while no other relay runs under the same owner name.
    public func releaseLeases() throws {
        try database.write { tx in
            try tx.execute("DELETE FROM storage_outbox_leases WHERE owner = ?", [.text(owner)])
            try tx.execute("UPDATE storage_outbox SET lease_owner = NULL, locked_until = NULL WHERE lease_owner = ?", [.text(owner)])
        }
    }

    // MARK: Metrics

    /// The number of events not delivered yet (by any relay), exact: it counts every row (a read
    /// of the whole primary key), so it is for tests and tools; metrics use ``Outbox/stats(_:countLimit:)``,
    /// which stops counting at a limit.
    public func pending() throws -> Int {
        try database.read { try Outbox.pendingCount($0) }
    }

    /// The age of the oldest undelivered event (the first enqueued one still waiting:
    /// ``Outbox/oldestCreatedAt(_:)``, one probe of the primary key), or zero when the outbox is
    /// empty: how far publishing is behind. (Until 2026-12-02 it was `MIN(created_at)`, a read of
    /// the whole table.)
    public func lag() throws -> Duration {
        let oldest = try database.read { try Outbox.oldestCreatedAt($0) }
        guard let oldest else { return .zero }
        return .milliseconds(max(0, EpochMillis.now() - oldest))
    }
}
