import Foundation
import RPC
import RPCTransport
import Storage

/// Group commit for ticket opens on SQLite: opens that arrive while another batch is being
/// written are run together in the next transaction, each inside its own savepoint.
///
/// SQLite has one writer and writes every changed page to the WAL at each commit; an open touches
/// about ten pages (the ticket row and its indexes, the code counter, two outbox rows), mostly the
/// same pages as the opens around it. One commit for many opens writes those pages once.
///
/// Each open keeps its own outcome: an open that throws rolls back to its savepoint (nothing of it
/// is stored, no code number is consumed) and only its caller sees the error. Errors that call for
/// retrying the whole transaction (busy, serialization, broken connection) propagate, and
/// `Database.write` runs the batch again from the start.
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

    init(database: any Database, maxBatch: Int = 64) {
        self.database = database
        self.maxBatch = maxBatch
    }

    /// Runs `body` in a shared write transaction and returns its own result.
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
            lock.unlock()
            let outcomes = execute(batch)
            lock.lock()
            for (member, outcome) in zip(batch, outcomes) { member.result = outcome }
            leading = false
            lock.broadcast()
        }
        let result = job.result!
        lock.unlock()
        return try result.get()
    }

    private func execute(_ batch: [Job]) -> [Result<Output, any Error>] {
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
