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
/// Each content row counts the attachment rows naming it (`contents.ref_count`, kept by the
/// transactions that insert attachments, ``IntakeContext/storeContents(_:_:)``, and by this
/// collector, the only one that deletes them). A count instead of an index on
/// `attachments (sha256)`: content hashes are random, so that index took a write in a random
/// leaf page for every attachment; the count sits in the content's own row, which the
/// attachment's transaction writes or reads anyway.
///
/// Safe against a concurrent upload of the same content: a content row is deleted only in a
/// transaction where its count is 0 (an upload's increment and this delete are serialized on
/// the row), and its file is unlinked inside that transaction, before the commit. An upload
/// re-checks, in the transaction that records its attachment, that the content is still there
/// (``IntakeContext/addReferences(_:_:_:restoring:sizeBytes:)``), so a ticket never points at
/// removed content.
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
            let released = try tx.query("DELETE FROM attachments WHERE id IN (\(marks)) AND ticket_id IS NULL RETURNING sha256", ids)
            var references: [String: Int64] = [:]
            for row in released { references[try row.text("sha256"), default: 0] += 1 }
            for (sha, count) in references.sorted(by: { $0.key < $1.key }) {
                try tx.execute("UPDATE contents SET ref_count = ref_count - ? WHERE sha256 = ?", [.integer(count), .text(sha)])
            }
            return released.count
        }
        let orphans = try database.read { tx in
            try tx.query("SELECT sha256 FROM contents WHERE ref_count <= 0 ORDER BY sha256 LIMIT ?",
                         [.integer(Int64(batchSize))]).map { try $0.text("sha256") }
        }
        for sha in orphans {
            let removed = try database.write { tx in
                // Again in the delete: an upload may have counted itself on it since the SELECT.
                let deleted = try tx.execute("DELETE FROM contents WHERE sha256 = ? AND ref_count <= 0", [.text(sha)])
                if deleted > 0 { try contents.remove(sha) }
                return deleted > 0
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
