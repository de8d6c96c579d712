import Foundation
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage

/// Removing what no ticket will ever use: uploads never attached to a ticket once they are older
/// than ``IntakeSettings/pendingUploadMaxAgeMilliseconds``, then stored contents no attachment
/// refers to any more (rows and files).
///
/// Safe against a concurrent upload of the same content: a content row is deleted only in a
/// transaction where no attachment refers to it (the foreign key makes the delete fail
/// otherwise), and its file is unlinked inside that transaction, before the commit. An upload
/// re-checks, in the transaction that records its attachment, that the file is still there
/// (``IntakeContext/upload(first:next:caller:)``), so a ticket never points at a removed file.
extension IntakeContext {
    /// What one round of ``collectGarbage(pendingOlderThanMilliseconds:batchSize:)`` removed.
    public struct CollectedGarbage: Sendable, Equatable {
        /// Pending uploads (attachment rows on no ticket) removed.
        public var attachments = 0
        /// Contents (rows and files) removed.
        public var contents = 0
    }

    /// One round: at most `batchSize` old pending uploads, then at most `batchSize` contents
    /// no attachment refers to. Call again until both counts are 0 to clear a backlog.
    /// - Throws: ``StorageError``.
    public func collectGarbage(pendingOlderThanMilliseconds age: Int64, batchSize: Int) throws -> CollectedGarbage {
        var collected = CollectedGarbage()
        let cutoff = Self.now() - age
        collected.attachments = try database.write { tx in
            let ids = try tx.query("""
                SELECT id FROM attachments WHERE ticket_id IS NULL AND created_at < ? ORDER BY created_at, id LIMIT ?
                """, [.integer(cutoff), .integer(Int64(batchSize))]).map { SQLValue.text(try $0.text("id")) }
            guard !ids.isEmpty else { return 0 }
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            // `ticket_id IS NULL` again: an open may have taken one of them since the SELECT.
            return try tx.execute("DELETE FROM attachments WHERE id IN (\(marks)) AND ticket_id IS NULL", ids)
        }
        let orphans = try database.read { tx in
            try tx.query("""
                SELECT sha256 FROM contents c WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = c.sha256)
                ORDER BY sha256 LIMIT ?
                """, [.integer(Int64(batchSize))]).map { try $0.text("sha256") }
        }
        for sha in orphans {
            let removed: Bool
            do {
                removed = try database.write { tx in
                    let deleted = try tx.execute("""
                        DELETE FROM contents WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = ?)
                        """, [.text(sha), .text(sha)])
                    if deleted > 0 { try contents.remove(sha) }
                    return deleted > 0
                }
            } catch let error as StorageError where error.kind == .constraint {
                removed = false  // an upload referred to it meanwhile: it stays
            }
            if removed { collected.contents += 1 }
        }
        return collected
    }
}

/// Runs ``IntakeContext/collectGarbage(pendingOlderThanMilliseconds:batchSize:)`` every
/// `INTAKE_GC_INTERVAL_SECONDS`, round after round while a backlog remains, on its own thread.
final class GarbageCollector: BackgroundService, @unchecked Sendable {
    let intake: IntakeContext
    let logger: Logger
    private let lock = ConditionLock()
    // Guarded by lock.
    private var stopping = false
    private var thread: Thread?
    private var finished = false

    init(intake: IntakeContext, logger: Logger) {
        self.intake = intake
        self.logger = logger
    }

    func start() {
        let settings = intake.settings
        let thread = Thread { [self] in
            while !sleep(settings.garbageCollectionIntervalSeconds) {
                do {
                    var rounds = 0
                    while rounds < 1_000 && !lock.withLock({ stopping }) {
                        let round = try intake.collectGarbage(pendingOlderThanMilliseconds: settings.pendingUploadMaxAgeMilliseconds,
                                                              batchSize: settings.garbageCollectionBatchSize)
                        rounds += 1
                        if round.attachments > 0 || round.contents > 0 {
                            logger.info("garbage collected", ["attachments": String(round.attachments), "contents": String(round.contents)])
                        }
                        if round.attachments < settings.garbageCollectionBatchSize && round.contents < settings.garbageCollectionBatchSize {
                            break
                        }
                    }
                } catch {
                    logger.warning("garbage collection failed; trying again next time", ["error": "\(error)"])
                }
            }
            lock.withLock {
                finished = true
                lock.broadcast()
            }
        }
        thread.name = "intake-gc"
        lock.withLock { self.thread = thread }
        thread.start()
    }

    /// Waits `seconds` or until stopped; returns whether it was stopped.
    private func sleep(_ seconds: Double) -> Bool {
        let deadline = MonotonicClock.nanoseconds() + UInt64(seconds * 1e9)
        return lock.withLock { () -> Bool in
            while !stopping && MonotonicClock.nanoseconds() < deadline {
                _ = lock.wait(untilUptimeNanoseconds: deadline)
            }
            return stopping
        }
    }

    func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
            while thread != nil && !finished { _ = lock.wait() }
        }
    }
}
