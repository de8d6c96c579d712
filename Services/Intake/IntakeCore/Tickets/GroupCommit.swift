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
    /// Where the writer thread's time went, in nanoseconds (a batch cycle seen from the writer):
    /// waiting for work with nothing queued,
    public var idleNanoseconds: UInt64 = 0
    /// waiting in the gather window for opens on their way,
    public var gatherNanoseconds: UInt64 = 0
    /// running the batches' transactions up to `COMMIT` (reads, the opens, the batch's rows),
    public var transactionNanoseconds: UInt64 = 0
    /// their `COMMIT`s (the WAL writes on SQLite; the round trip on PostgreSQL),
    public var commitNanoseconds: UInt64 = 0
    /// answering on the writer thread (encoding the responses, the sends).
    public var answerNanoseconds: UInt64 = 0
    /// Times an arriving open woke the waiting writer (a cross-thread wake-up each; at one call
    /// in flight per client, one per batch).
    public var wakeUps = 0

    public init() {}
}

/// Group commit for ticket opens: opens that arrive while another batch is being written are run
/// together in the next transaction, each inside its own savepoint, and all are acknowledged
/// after that transaction's single `COMMIT`.
///
/// One writer thread (started with the first open, ended after a second without work) runs the
/// batches. A batch is whatever queued while the previous one was being written (at most
/// `maxBatch`), plus, when opens are concurrent, what arrives during a short gather window: the
/// writer waits up to `gatherMicroseconds` for as many opens as were in the group commit when the
/// previous batch ended (the concurrency it saw), so batches do not stay at 1–2 opens when every
/// thread is busy on a saturated machine. An open alone (the previous batch had one open and
/// nothing waits) runs at once, in a transaction of its own and without a savepoint. Callers
/// either wait (``run(_:)``) or are called back (``submit(_:isCancelled:completion:)``, which the
/// `OpenTicket` RPC handler uses: no RPC worker thread waits for a batch, and responses are sent
/// by the writer as soon as the batch committed).
///
/// Why: SQLite has one writer and writes every page a transaction changed to the WAL at its
/// commit; an open changes about ten pages (the ticket row and its indexes, the code counter, the
/// outbox rows and theirs), mostly the same pages as the opens around it (ids are time-ordered,
/// ``IntakeContext/newID()``). One commit for many opens writes those pages once, and the WAL
/// fills (and is checkpointed, with its `fsync`) that much less often. The opens of a batch run on
/// an ``OpenBatch``, which does once per batch what each open would repeat: the code counter is
/// read and written once (the opens are numbered in memory), the new tickets' rows and their
/// outbox rows go out in multi-row `INSERT`s before `COMMIT`, and an open gets a savepoint only
/// when it is about to write something itself. On PostgreSQL a batch runs on one connection: the
/// first reads of all its opens go out in one round trip, then the deferred rows with `COMMIT`
/// (and the `RELEASE` of the last savepoint, ``SQLExecutor/executeDeferred(_:)``) in another: two
/// round trips per batch for opens without files or e-mail.
///
/// On SQLite the writer also keeps the double-submission memory (``RecentSubmissions``) in step:
/// caught up at the start of each batch, given the batch's tickets once it committed; and it tells
/// the ``WALCheckpointer`` how many opens it committed, so checkpoints run on another thread. When
/// opens already wait for the next batch, a batch's answers are sent by a responder thread while
/// the writer starts that batch.
///
/// Each open keeps its own outcome: an open that throws rolls back to its savepoint, if it set one,
/// and gives back what it took in memory (nothing of it is stored, no code number is consumed) and
/// only its caller sees the error. Errors that call for
/// retrying the whole transaction (busy, serialization, broken connection) propagate, and
/// `Database.write` runs the batch again from the start; an error that ends the transaction fails
/// every open of the batch (none of them is acknowledged, none is stored).
///
/// Jobs of different kinds share one writer: each job's output type is its own (a ticket open
/// answers an `OpenTicketResponse`, an upload an `AttachmentRef`), so uploads and opens commit
/// together (``IntakeContext/uploadCommits``).
final class GroupCommit: @unchecked Sendable {
    typealias Body = @Sendable (any SQLExecutor) throws -> any Sendable
    typealias Completion = @Sendable (Result<any Sendable, any Error>) -> Void
    /// A query the open will run first, which a PostgreSQL batch sends for all its opens at once.
    typealias Read = OpenBatch.Read

    private final class Job: @unchecked Sendable {
        let body: Body
        let completion: Completion
        let reads: [Read]
        /// Whether the caller gave up before the open started (its RPC deadline passed or it cancelled).
        let isCancelled: (@Sendable () -> Bool)?
        // Only touched by the writer thread.
        var attempt: Result<any Sendable, any Error>?

        init(_ body: @escaping Body, reads: [Read], isCancelled: (@Sendable () -> Bool)?, completion: @escaping Completion) {
            self.body = body
            self.reads = reads
            self.isCancelled = isCancelled
            self.completion = completion
        }
    }

    private let database: any Database
    private let maxBatch: Int
    private let gatherNanoseconds: UInt64
    /// Told how many opens each committed batch had (the background checkpointer).
    private let committed: (@Sendable (Int) -> Void)?
    /// SQLite's double-submission memory, caught up at the start of each batch and given the
    /// batch's tickets once it committed.
    private let recent: RecentSubmissions?
    /// The writer thread ends after this long without work (and starts again with the next open).
    private let idleNanoseconds: UInt64 = 1_000_000_000
    private let lock = ConditionLock()
    /// Sends a batch's answers while the writer runs the next batch (see ``writerLoop()``).
    private let responder = DispatchQueue(label: "intake-group-commit-answers")
    // Guarded by lock.
    private var queue: [Job] = []
    private var writerRunning = false
    /// How many queued opens wake the writer: 1 while it waits for work, the batch it is gathering
    /// while it gathers (so arrivals before that do not wake it one by one), 0 while it writes.
    private var wakeAt = 0
    /// Opens in the group commit (running and queued) when the last batch ended: the concurrency
    /// a gathering writer waits for.
    private var concurrency = 1
    private var stats = GroupCommitStatistics()
    /// When the first open of the queue was queued (monotonic nanoseconds; set when an open finds
    /// the queue empty, and by the writer when it starts a window for opens already queued).
    private var firstQueuedAt: UInt64 = 0
    /// When the running batch's transaction reached `COMMIT` (writer thread only; 0: not yet).
    private var lastCommitStart: UInt64 = 0

    /// - Parameters:
    ///   - maxBatch: The most opens in one transaction.
    ///   - gatherMicroseconds: How long the writer may wait for as many opens as were in the group
    ///     commit at the end of the previous batch before it starts one (0: never waits). Only when
    ///     opens are concurrent: an open alone never waits.
    ///   - committed: Called on the writer thread after each batch that committed, with its number
    ///     of opens (``WALCheckpointer/committed(opens:)``).
    ///   - recent: SQLite's double-submission memory (``RecentSubmissions``).
    init(database: any Database, maxBatch: Int = 64, gatherMicroseconds: Int = 0,
         committed: (@Sendable (Int) -> Void)? = nil, recent: RecentSubmissions? = nil) {
        self.database = database
        self.committed = committed
        self.recent = recent
        self.maxBatch = max(1, maxBatch)
        self.gatherNanoseconds = UInt64(max(0, gatherMicroseconds)) * 1_000
    }

    var statistics: GroupCommitStatistics {
        lock.withLock {
            var current = stats
            current.queued = queue.count
            return current
        }
    }

    /// Runs `body` in a shared write transaction and returns its own result once that
    /// transaction committed (blocks the calling thread).
    func run<Output: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) throws -> Output, reads: [Read] = []) throws -> Output {
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox<Output>()
        submit(body, reads: reads) { result in
            outcome.result = result
            done.signal()
        }
        done.wait()
        return try outcome.result!.get()
    }

    /// Queues `body` for the writer thread and returns at once; `completion` runs on the writer
    /// thread once the batch's transaction committed (or failed), exactly once. An open whose
    /// `isCancelled` says so when its batch starts is not run (`DEADLINE_EXCEEDED`).
    /// - Parameter reads: Queries `body` runs first; in a batch on PostgreSQL those of all the
    ///   batch's opens go out in one round trip at its start, and `body` gets their results from
    ///   memory (``OpenBatch``).
    func submit<Output: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) throws -> Output, reads: [Read] = [],
                                  isCancelled: (@Sendable () -> Bool)? = nil,
                                  completion: @escaping @Sendable (Result<Output, any Error>) -> Void) {
        let job = Job({ tx in try body(tx) }, reads: reads, isCancelled: isCancelled,
                      completion: { result in completion(result.map { $0 as! Output }) })
        lock.lock()
        if queue.isEmpty { firstQueuedAt = MonotonicClock.nanoseconds() }
        queue.append(job)
        var wakesWriter = false
        if !writerRunning {
            writerRunning = true
            let thread = Thread { [self] in writerLoop() }
            thread.name = "intake-group-commit"
            thread.start()
        } else if wakeAt > 0 && queue.count >= wakeAt {
            wakesWriter = true
            // No second wake-up for the same batch (the writer takes the lock before it looks).
            wakeAt = 0
        }
        lock.unlock()
        // Signalled after the lock is released: a writer woken while this thread still held it
        // would run only to sleep again on the lock and be woken a second time by the unlock
        // (at one call in flight per client, once per batch, on the path every caller waits on).
        // The writer looks at the queue under the lock before it waits, so no open is missed.
        if wakesWriter { lock.signal() }
    }

    private func writerLoop() {
        lock.lock()
        while true {
            guard awaitBatch() else {
                writerRunning = false
                lock.unlock()
                return
            }
            let taken = Array(queue.prefix(maxBatch))
            queue.removeFirst(taken.count)
            stats.running = taken.count
            lock.unlock()
            var batch: [Job] = []
            batch.reserveCapacity(taken.count)
            for job in taken {
                if job.isCancelled?() == true {
                    job.completion(.failure(RPCError(.deadlineExceeded, "prazo esgotado antes do início / deadline passed before start")))
                } else {
                    batch.append(job)
                }
            }
            let executeStart = MonotonicClock.nanoseconds()
            lastCommitStart = 0
            let outcomes = batch.isEmpty ? [] : execute(batch)
            let executeEnd = MonotonicClock.nanoseconds()
            lock.lock()
            let commitStart = lastCommitStart > 0 ? lastCommitStart : executeEnd
            stats.transactionNanoseconds += commitStart - executeStart
            stats.commitNanoseconds += executeEnd - commitStart
            if !batch.isEmpty {
                stats.batches += 1
                stats.opens += batch.count
                stats.largestBatch = max(stats.largestBatch, batch.count)
            }
            stats.running = 0
            concurrency = taken.count + queue.count
            let moreWaiting = !queue.isEmpty
            lock.unlock()
            // Answered only now that the statistics say what was done; each RPC connection is
            // written once for all its responses of the batch. When opens are already waiting for
            // the next batch, the answers (encoding each response, the sends) are written by the
            // responder, on another core, while this thread starts that batch; otherwise here, at
            // once (no hand-off when the callers are all waiting for these answers).
            // The jobs of a large batch (each open's request, closures and result) are released
            // by the responder too: freeing them was ≈ 7 % of the writer's time at 8 × 8. A small
            // batch the writer releases itself (``releasedByWriterUpTo``).
            let retired = Retired(jobs: consume taken, answers: Answers(batch.map(\.completion), consume outcomes))
            batch = []
            if moreWaiting {
                responder.async { retired.answerAndRelease() }
                lock.lock()
            } else {
                let answerStart = MonotonicClock.nanoseconds()
                retired.answers?.send()
                retired.answers?.sent = true
                if retired.jobs.count <= Self.releasedByWriterUpTo {
                    // A small batch is released here: cheaper than waking the responder, whose
                    // hand-off (a wake-up on the other core, every batch) competed with the
                    // callers' next opens on the critical path when each caller has one call in
                    // flight (docs/BENCHMARKS-intake.md, ninth pass).
                    retired.answerAndRelease()
                } else {
                    responder.async { retired.answerAndRelease() }
                }
                lock.lock()
                stats.answerNanoseconds += MonotonicClock.nanoseconds() - answerStart
            }
        }
    }

    /// Waits (lock held) until the next batch may start: as many opens queued as were in the
    /// group commit when the last batch ended, or the gather window passed since the first of them
    /// queued. Returns false when nothing came for `idleNanoseconds` (the writer then ends).
    ///
    /// Opens that queued while the last batch was written get a window from now. With an empty
    /// queue, when the opens were concurrent, the writer sleeps until all the expected opens
    /// queued (so the callers of the last batch, who are sending their next opens, wake it once,
    /// not once for the first and again for the last: at one call in flight per client each
    /// batch's callers are exactly the next batch's); it looks once after a gather window, and
    /// if nothing came by then it waits for the first open as an idle writer does.
    private func awaitBatch() -> Bool {
        let target = min(maxBatch, concurrency)
        let gathers = gatherNanoseconds > 0 && target > 1
        let start = MonotonicClock.nanoseconds()
        if !queue.isEmpty {
            guard gathers && queue.count < target else { return true }
            firstQueuedAt = start
        }
        let idleDeadline = start + idleNanoseconds
        // Whether the writer waits for the first open only (after a window without any).
        var waitsForFirst = !gathers
        var gatherStart: UInt64?
        var now = start
        while true {
            if !queue.isEmpty && gatherStart == nil { gatherStart = max(start, firstQueuedAt) }
            if queue.count >= (gathers ? target : 1) { break }
            let deadline: UInt64
            if queue.isEmpty {
                if now >= idleDeadline {
                    wakeAt = 0
                    return false
                }
                deadline = waitsForFirst ? idleDeadline : min(idleDeadline, start + gatherNanoseconds)
            } else {
                deadline = firstQueuedAt + gatherNanoseconds
                if now >= deadline { break }
            }
            wakeAt = queue.isEmpty && waitsForFirst ? 1 : target
            if lock.wait(untilUptimeNanoseconds: deadline) {
                stats.wakeUps += 1
            } else if queue.isEmpty {
                waitsForFirst = true
            }
            now = MonotonicClock.nanoseconds()
        }
        wakeAt = 0
        let end = MonotonicClock.nanoseconds()
        // Idle until the first open queued (or, for an open alone, until the writer woke), then gathering.
        let gatheredFrom = gathers ? gatherStart ?? end : end
        stats.idleNanoseconds += gatheredFrom - start
        stats.gatherNanoseconds += end - gatheredFrom
        return true
    }

    /// A finished batch on its way out: answered (unless already), then its jobs and answers
    /// released, on the responder.
    private final class Retired: @unchecked Sendable {
        var jobs: [Job]
        var answers: Answers?

        init(jobs: [Job], answers: Answers) {
            self.jobs = jobs
            self.answers = answers
        }

        /// Sends the answers if nobody has yet (then forgets them), and releases everything.
        func answerAndRelease() {
            if answers?.sent == false { answers?.send() }
            answers = nil
            jobs = []
        }
    }

    private func execute(_ batch: [Job]) -> [Result<any Sendable, any Error>] {
        if batch.count == 1 {
            // Alone: its own transaction is its savepoint.
            let outcome = Result {
                try database.write { tx in
                    let output = try batch[0].body(tx)
                    lastCommitStart = MonotonicClock.nanoseconds()
                    return output
                }
            }
            if case .success = outcome { committed?(1) }
            return [outcome]
        }
        do {
            var recentToAdd: (opened: [RecentSubmissions.Opened], knownRowID: Int64)?
            try database.write { tx in
                // The reads of all opens at once (on PostgreSQL in one round trip, every contact row
                // locked before the code counter's row, as when the opens run one by one).
                let opens = batch.contains(where: { !$0.reads.isEmpty }) ? try OpenBatch.readingAhead(tx, batch.map(\.reads)) : OpenBatch(tx)
                // SQLite: the tickets committed since the last batch, for the double-submission checks.
                if let recent { try opens.mirror(recent, now: IntakeContext.now()) }
                for job in batch {
                    // An open's savepoint is set only before its first statement that could change
                    // something (OpenBatch); on PostgreSQL SAVEPOINT and RELEASE travel with the
                    // next statement, and the last RELEASE with COMMIT.
                    opens.beginOpen()
                    do {
                        job.attempt = .success(try job.body(opens))
                        try opens.endOpen()
                    } catch let error as StorageError where Self.retriesTransaction(error) {
                        throw error
                    } catch {
                        try opens.rollBackOpen(after: error)
                        job.attempt = .failure(error)
                    }
                }
                // The deferred ticket and outbox rows of all opens, and the code counter.
                try opens.finish()
                recentToAdd = opens.recentToAdd
                lastCommitStart = MonotonicClock.nanoseconds()
            }
            if let recent, let recentToAdd { recent.add(recentToAdd.opened, knownRowID: recentToAdd.knownRowID, now: IntakeContext.now()) }
            committed?(batch.count)
            return batch.map { $0.attempt ?? .failure(RPCError(.internal, "open not run")) }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }

    /// The largest batch the writer releases itself once it has answered it (a few µs per open,
    /// less than the responder's wake-up); larger ones are released by the responder, since at
    /// high concurrency the writer is the bottleneck (freeing 64 opens was ≈ 7 % of its time at
    /// 8 × 8).
    static var releasedByWriterUpTo: Int { 8 }

    static func retriesTransaction(_ error: StorageError) -> Bool {
        [.busy, .serialization, .connection, .commitOutcomeUnknown, .closed].contains(error.kind)
    }
}

/// A committed (or failed) batch's completions with their outcomes, sent together.
private struct Answers: @unchecked Sendable {
    let completions: [@Sendable (Result<any Sendable, any Error>) -> Void]
    let outcomes: [Result<any Sendable, any Error>]
    /// Whether ``send()`` ran (on the writer).
    var sent = false

    init(_ completions: [@Sendable (Result<any Sendable, any Error>) -> Void], _ outcomes: [Result<any Sendable, any Error>]) {
        self.completions = completions
        self.outcomes = outcomes
    }

    /// Calls every completion, each RPC connection written once for all of them.
    func send() {
        RPCResponses.flushingOnce {
            for (completion, outcome) in zip(completions, outcomes) { completion(outcome) }
        }
    }
}

/// Where a blocking ``GroupCommit/run(_:)`` receives its result (set before the semaphore is signalled).
private final class OutcomeBox<Output: Sendable>: @unchecked Sendable {
    var result: Result<Output, any Error>?
}
