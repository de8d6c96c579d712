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
        // Written by the leader, read by the owner after `done` is set; both under `lock`.
        var result: Result<Output, any Error>?
        var attempt: Result<Output, any Error>?

        init(_ body: @escaping Body) { self.body = body }
    }

    private let database: any Database
    private let maxBatch: Int
    private let lock = ConditionLock()
    // Guarded by lock.
    private var queue: [Job] = []
    private var leading = false
    private var stats = GroupCommitStatistics()

    init(database: any Database, maxBatch: Int = 64) {
        self.database = database
        self.maxBatch = max(1, maxBatch)
    }

    var statistics: GroupCommitStatistics {
        lock.lock()
        defer { lock.unlock() }
        var current = stats
        current.queued = queue.count
        return current
    }

    /// Runs `body` in a shared write transaction and returns its own result once that
    /// transaction committed.
    func run(_ body: @escaping Body) throws -> Output {
        let job = Job(body)
        lock.lock()
        queue.append(job)
        while job.result == nil {
            if leading {
                lock.wait()
                continue
            }
            leading = true
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            stats.batches += 1
            stats.opens += batch.count
            stats.largestBatch = max(stats.largestBatch, batch.count)
            stats.running = batch.count
            lock.unlock()
            let outcomes = execute(batch)
            lock.lock()
            for (member, outcome) in zip(batch, outcomes) { member.result = outcome }
            stats.running = 0
            leading = false
            lock.broadcast()
        }
        let result = job.result!
        lock.unlock()
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
                    let name = "open_\(index)"
                    try tx.execute("SAVEPOINT \(name)")
                    do {
                        job.attempt = .success(try job.body(tx))
                        try tx.execute("RELEASE \(name)")
                    } catch let error as StorageError where Self.retriesTransaction(error) {
                        throw error
                    } catch {
                        try tx.execute("ROLLBACK TO \(name)")
                        try tx.execute("RELEASE \(name)")
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
