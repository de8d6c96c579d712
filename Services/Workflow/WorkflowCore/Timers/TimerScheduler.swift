import Foundation
import ServiceKit
import Storage
import Synchronization

/// Fires durable timers (``TimerStore``) when they are due, exactly once, on a thread of its own.
///
/// Each round claims up to ``Configuration/batchSize`` due timers by writing a lease on them
/// (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so instances sharing one database claim disjoint rows;
/// SQLite: the single writer serializes claims). Then each timer fires in its own transaction:
/// `UPDATE … SET state = 'fired' WHERE id = ? AND state = 'pending' AND lease_owner = me` and the
/// handler's effects (state changes, outbox events) commit together. A timer whose lease expired
/// and was claimed by another instance no longer matches, so it fires once even then. A handler
/// that throws rolls back; the timer is released and retried after ``Configuration/retryDelay``.
/// A process that dies mid-round loses nothing: its leases expire and another instance (or the
/// same one after restart) claims the timers again.
///
/// ```swift
/// let scheduler = TimerScheduler(database: db, name: "workflow")
/// scheduler.on("sla") { timer, tx, now in try sla.fire(timer, tx, now: now) }
/// runtime.addBackground(scheduler)
/// ```
public final class TimerScheduler: BackgroundService, @unchecked Sendable {
    /// Polling and lease tuning; every duration can be short in tests.
    public struct Configuration: Sendable {
        /// How long the thread sleeps when nothing is due (it also wakes on ``wake()``).
        public var pollInterval: Duration = .seconds(1)
        /// Timers claimed per round.
        public var batchSize: Int = 50
        /// How long a claim is exclusive; a dead instance's timers are claimed again after it.
        public var leaseDuration: Duration = .seconds(30)
        /// Delay before a timer whose handler threw is tried again.
        public var retryDelay: Duration = .seconds(10)
        /// Fired and cancelled timers older than this are deleted (checked about once a minute).
        public var retention: Duration = .seconds(7 * 86_400)

        public init() {}
    }

    /// Fires one timer inside the transaction that marks it fired.
    public typealias Handler = @Sendable (TimerRecord, any SQLExecutor, Int64) throws -> Void
    /// Runs at the start of every round, before the claim, with the database and the round's time
    /// (it opens its own transactions, if any).
    public typealias RoundTask = @Sendable (any Database, Int64) throws -> Void

    /// Identifies this instance in leases.
    public let owner: String
    private let database: any Database
    private let configuration: Configuration
    private let clock: @Sendable () -> Int64
    private let onError: (@Sendable (TimerRecord?, any Error) -> Void)?
    private let handlers = Mutex<[String: Handler]>([:])
    private let roundTasks = Mutex<[RoundTask]>([])
    private let fired = Atomic<Int>(0)
    private let condition = NSCondition()
    private var running = false  // guarded by condition
    private var stopRequested = false  // guarded by condition
    private var wakeRequested = false  // guarded by condition
    private var lastPrune: Int64 = 0  // used by the scheduler thread only

    /// - Parameters:
    ///   - onError: told about handler failures (with the timer) and failed rounds (without).
    ///   - clock: the current time in epoch milliseconds (tests pass a simulated clock).
    public init(database: any Database, name: String, configuration: Configuration = Configuration(),
                onError: (@Sendable (TimerRecord?, any Error) -> Void)? = nil,
                clock: @escaping @Sendable () -> Int64 = currentMillis) {
        self.database = database
        self.owner = "\(name)/\(UUID().uuidString.prefix(8))"
        self.configuration = configuration
        self.onError = onError
        self.clock = clock
    }

    /// Registers the handler of timers of `kind`. Register before ``start()``.
    public func on(_ kind: String, _ handler: @escaping Handler) {
        handlers.withLock { $0[kind] = handler }
    }

    /// Adds a task run at the start of every round (e.g. re-planning countdowns a concurrent
    /// edit missed). Keep it cheap: it runs about every ``Configuration/pollInterval``. Add before ``start()``.
    public func everyRound(_ task: @escaping RoundTask) {
        roundTasks.withLock { $0.append(task) }
    }

    /// Timers fired by this instance.
    public var firedCount: Int { fired.load(ordering: .relaxed) }

    // MARK: One round (also called directly by tests with a simulated clock)

    /// Claims the due timers and fires them. - Returns: how many this call fired.
    @discardableResult
    public func runOnce() throws -> Int {
        try runRoundTasks()
        let claimed = try claim()
        var count = 0
        for timer in claimed {
            if try fire(timer) { count += 1 }
        }
        return count
    }

    /// Runs the ``everyRound(_:)`` tasks at the round's time.
    func runRoundTasks() throws {
        let now = clock()
        for task in roundTasks.withLock({ $0 }) { try task(database, now) }
    }

    /// Leases up to `batchSize` due timers to this instance.
    func claim() throws -> [TimerRecord] {
        let now = clock()
        let leaseUntil = now + configuration.leaseDuration.asMillis
        return try database.write { tx in
            let lock = tx.engine == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
            let rows = try tx.query("""
                SELECT id FROM wf_timers
                WHERE state = 'pending' AND due_at <= ? AND (lease_until IS NULL OR lease_until < ?)
                ORDER BY due_at LIMIT ?\(lock)
                """, [.integer(now), .integer(now), .integer(Int64(configuration.batchSize))])
            var claimed: [TimerRecord] = []
            for row in rows {
                let id = try row.text("id")
                try tx.execute("UPDATE wf_timers SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                               [.text(owner), .integer(leaseUntil), .text(id)])
                if let timer = try tx.queryOne("SELECT * FROM wf_timers WHERE id = ?", [.text(id)]) {
                    claimed.append(try TimerRecord(row: timer))
                }
            }
            return claimed
        }
    }

    /// Fires one claimed timer. - Returns: `false` when it was cancelled or claimed by another instance meanwhile.
    func fire(_ timer: TimerRecord) throws -> Bool {
        let handler = handlers.withLock { $0[timer.kind] }
        do {
            let didFire = try database.write { tx -> Bool in
                let now = clock()
                let changed = try tx.execute("""
                    UPDATE wf_timers SET state = 'fired', fired_at = ?, fired_by = ?, lease_until = NULL
                    WHERE id = ? AND state = 'pending' AND lease_owner = ?
                    """, [.integer(now), .text(owner), .text(timer.id), .text(owner)])
                guard changed == 1 else { return false }
                guard let handler else {
                    throw StorageError(.other, "no handler for timer kind \(timer.kind)")
                }
                try handler(timer, tx, now)
                return true
            }
            if didFire { fired.add(1, ordering: .relaxed) }
            return didFire
        } catch {
            onError?(timer, error)
            let retryAt = clock() + configuration.retryDelay.asMillis
            try database.write { tx in
                try tx.execute("""
                    UPDATE wf_timers SET lease_owner = NULL, lease_until = NULL, due_at = ?, last_error = ?
                    WHERE id = ? AND state = 'pending' AND lease_owner = ?
                    """, [.integer(retryAt), .text(String("\(error)".prefix(500))), .text(timer.id), .text(owner)])
            }
            return false
        }
    }

    // MARK: Thread

    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        stopRequested = false
        let thread = Thread { [self] in
            self.loop()
            self.condition.lock()
            self.running = false
            self.condition.broadcast()
            self.condition.unlock()
        }
        thread.name = "timer-scheduler"
        thread.start()
    }

    public func stop() {
        condition.lock()
        defer { condition.unlock() }
        guard running else { return }
        stopRequested = true
        condition.broadcast()
        while running { condition.wait() }
    }

    /// Ends the current wait now (e.g. after scheduling a timer due very soon).
    public func wake() {
        condition.lock()
        wakeRequested = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            let stopping = stopRequested
            condition.unlock()
            if stopping { return }
            var busy = false
            do {
                try runRoundTasks()
            } catch let error as StorageError where error.kind == .closed {
                return
            } catch {
                onError?(nil, error)  // the timers still fire
            }
            do {
                let claimed = try claim()
                for timer in claimed {
                    condition.lock()
                    let stop = stopRequested
                    condition.unlock()
                    if stop { break }  // unfired claims are picked up again when the lease expires
                    _ = try fire(timer)
                }
                busy = claimed.count == configuration.batchSize
                try pruneOccasionally()
            } catch let error as StorageError where error.kind == .closed {
                return
            } catch {
                onError?(nil, error)
            }
            if busy { continue }
            condition.lock()
            if !stopRequested && !wakeRequested {
                _ = condition.wait(until: Date().addingTimeInterval(configuration.pollInterval.asTimeInterval))
            }
            wakeRequested = false
            condition.unlock()
        }
    }

    private func pruneOccasionally() throws {
        let now = clock()
        guard now - lastPrune > 60_000 else { return }
        lastPrune = now
        try database.write { tx in _ = try TimerStore.prune(tx, createdBefore: now - configuration.retention.asMillis) }
    }
}

extension Duration {
    /// Whole milliseconds.
    var asMillis: Int64 {
        let parts = components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a `TimeInterval`.
    var asTimeInterval: TimeInterval {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
