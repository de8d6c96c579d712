import Foundation
import RPC
import RPCTransport
import Storage

/// What ``GroupCommit`` has done so far (for tests and the benchmark).
public struct GroupCommitStatistics: Sendable, Equatable {
    /// Transactions committed or attempted for batches.
    public var batches = 0
    /// Opens run in those batches.
    public var opens = 0
    /// The largest batch.
    public var largestBatch = 0
    /// Opens waiting for the next batch right now.
    public var queued = 0
    /// Opens in the batch being written right now.
    public var running = 0

    public init() {}
}

/// Group commit for ticket opens: opens that arrive while another batch is being written are run
/// together in the next transaction, each inside its own savepoint, and all are acknowledged
/// after that transaction's single `COMMIT`.
///
/// There is no timer: a batch is whatever queued while the previous one was being written (at
/// most `maxBatch`), so an open alone runs at once, in a transaction of its own and without a
/// savepoint. The writer is whichever waiting caller finds no batch running ("leader"); the others
/// sleep until their result is set.
///
/// Why: SQLite has one writer and writes every page a transaction changed to the WAL at its
/// commit; an open changes about ten pages (the ticket row and its indexes, the code counter, the
/// outbox rows and theirs), mostly the same pages as the opens around it (ids are time-ordered,
/// ``IntakeContext/newID()``). One commit for many opens writes those pages once, and the WAL
/// fills (and is checkpointed, with its `fsync`) that much less often.
///
/// Each open keeps its own outcome: an open that throws rolls back to its savepoint (nothing of it
/// is stored, no code number is consumed) and only its caller sees the error. Errors that call for
/// retrying the whole transaction (busy, serialization, broken connection) propagate, and
/// `Database.write` runs the batch again from the start; an error that ends the transaction fails
/// every open of the batch (none of them is acknowledged, none is stored).
final class GroupCommit<Output: Sendable>: @unchecked Sendable {
    typealias Body = @Sendable (any SQLExecutor) throws -> Output

    private final class Job: @unchecked Sendable {
        let body: Body
        // Written by the leader, read by the owner after it is woken; both under `mutex`.
        var result: Result<Output, any Error>?
        var attempt: Result<Output, any Error>?
        /// Set (under `mutex`) when this queued job is to lead the next batch.
        var leads = false
        /// This job's own wake-up, so a finished batch wakes its members and the next leader only
        /// (not every queued open).
        let wake = Wakeup()

        init(_ body: @escaping Body) { self.body = body }
    }

    private let database: any Database
    private let maxBatch: Int
    private let gatherNanoseconds: UInt64
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    // Guarded by mutex.
    private var queue: [Job] = []
    private var leading = false
    private var gatherer: Job?
    /// Opens in the group commit (running and queued) when the last batch ended: the concurrency
    /// a gathering leader waits for.
    private var concurrency = 1
    private var stats = GroupCommitStatistics()

    /// - Parameters:
    ///   - maxBatch: The most opens in one transaction.
    ///   - gatherMicroseconds: How long a leader may wait for as many opens as were in the group
    ///     commit at the end of the previous batch before it starts (0: never waits). Only when
    ///     opens are concurrent: an open alone never waits.
    init(database: any Database, maxBatch: Int = 64, gatherMicroseconds: Int = 0) {
        self.database = database
        self.maxBatch = max(1, maxBatch)
        self.gatherNanoseconds = UInt64(max(0, gatherMicroseconds)) * 1_000
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    var statistics: GroupCommitStatistics {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var current = stats
        current.queued = queue.count
        return current
    }

    /// Runs `body` in a shared write transaction and returns its own result once that
    /// transaction committed.
    func run(_ body: @escaping Body) throws -> Output {
        let job = Job(body)
        pthread_mutex_lock(mutex)
        queue.append(job)
        if leading {
            if let gatherer, queue.count >= min(maxBatch, concurrency) { gatherer.wake.signal() }
            while job.result == nil && !job.leads { job.wake.wait(mutex) }
        }
        if job.result == nil {
            // Leader: either nobody was writing, or the previous leader handed over to this job.
            leading = true
            if gatherNanoseconds > 0 && concurrency > 1 && queue.count < min(maxBatch, concurrency) {
                let deadline = MonotonicClock.nanoseconds() + gatherNanoseconds
                gatherer = job
                while queue.count < min(maxBatch, concurrency) && job.wake.wait(mutex, untilUptimeNanoseconds: deadline) {}
                gatherer = nil
            }
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            stats.batches += 1
            stats.opens += batch.count
            stats.largestBatch = max(stats.largestBatch, batch.count)
            stats.running = batch.count
            pthread_mutex_unlock(mutex)
            let outcomes = execute(batch)
            pthread_mutex_lock(mutex)
            for (member, outcome) in zip(batch, outcomes) {
                member.result = outcome
                if member !== job { member.wake.signal() }
            }
            stats.running = 0
            concurrency = batch.count + queue.count
            if let next = queue.first {
                next.leads = true
                next.wake.signal()
            } else {
                leading = false
            }
        }
        let result = job.result!
        pthread_mutex_unlock(mutex)
        return try result.get()
    }

    private func execute(_ batch: [Job]) -> [Result<Output, any Error>] {
        if batch.count == 1 {
            // Alone: its own transaction is its savepoint.
            return [Result { try database.write { tx in try batch[0].body(tx) } }]
        }
        do {
            try database.write { tx in
                for (index, job) in batch.enumerated() {
                    // SAVEPOINT and RELEASE travel with the next statement on PostgreSQL (one round
                    // trip less each); the last RELEASE goes with COMMIT.
                    let name = "open_\(index)"
                    try tx.executeDeferred("SAVEPOINT \(name)")
                    do {
                        job.attempt = .success(try job.body(tx))
                        try tx.executeDeferred("RELEASE \(name)")
                    } catch let error as StorageError where Self.retriesTransaction(error) {
                        throw error
                    } catch {
                        try tx.execute("ROLLBACK TO \(name)")
                        try tx.executeDeferred("RELEASE \(name)")
                        job.attempt = .failure(error)
                    }
                }
            }
            return batch.map { $0.attempt ?? .failure(RPCError(.internal, "open not run")) }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }

    static func retriesTransaction(_ error: StorageError) -> Bool {
        [.busy, .serialization, .connection, .commitOutcomeUnknown, .closed].contains(error.kind)
    }
}

/// A condition variable on the monotonic clock, used with ``GroupCommit``'s mutex.
private final class Wakeup: @unchecked Sendable {
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    func signal() { pthread_cond_signal(condition) }

    func wait(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) { pthread_cond_wait(condition, mutex) }

    /// - Returns: false when `deadline` (monotonic nanoseconds) passed.
    func wait(_ mutex: UnsafeMutablePointer<pthread_mutex_t>, untilUptimeNanoseconds deadline: UInt64) -> Bool {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &time) == 0
    }
}
