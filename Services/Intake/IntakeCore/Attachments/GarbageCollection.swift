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

extension PeriodicSweep {
    /// Runs ``IntakeContext/collectGarbage(pendingOlderThanMilliseconds:batchSize:)`` every
    /// `INTAKE_GC_INTERVAL_SECONDS`, round after round while a backlog remains.
    static func garbageCollector(intake: IntakeContext, logger: Logger) -> PeriodicSweep {
        let settings = intake.settings
        return PeriodicSweep(name: "intake-gc", failureMessage: "garbage collection failed; trying again next time",
                             interval: settings.garbageCollectionIntervalSeconds, logger: logger) {
            let round = try intake.collectGarbage(pendingOlderThanMilliseconds: settings.pendingUploadMaxAgeMilliseconds,
                                                  batchSize: settings.garbageCollectionBatchSize)
            if round.attachments > 0 || round.contents > 0 {
                logger.info("garbage collected", ["attachments": String(round.attachments), "contents": String(round.contents)])
            }
            return round.attachments >= settings.garbageCollectionBatchSize || round.contents >= settings.garbageCollectionBatchSize
        }
    }
}
