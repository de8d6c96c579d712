import Foundation
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage

extension IntakeContext {
    /// What one round of ``purgeResolvedMail(olderThanMilliseconds:batchSize:)`` removed.
    public struct PurgedMail: Sendable, Equatable {
        /// Quarantined messages (reprocessed or discarded) removed with their raw bytes.
        public var messages = 0
        /// Finished answers (sent, failed, cancelled) no held message refers to any more.
        public var bounces = 0
    }

    /// One round: at most `batchSize` quarantined messages resolved (reprocessed or discarded)
    /// before the cutoff, then at most `batchSize` finished bounces older than the cutoff that no
    /// quarantine row refers to. Held messages and pending bounces are never removed.
    /// - Throws: ``StorageError``.
    public func purgeResolvedMail(olderThanMilliseconds age: Int64, batchSize: Int) throws -> PurgedMail {
        let cutoff = Self.now() - age
        /// In one transaction: the ids `select` finds (before the cutoff, at most `batchSize`),
        /// then `delete(marks)` with `marks` the placeholders for them; the rows removed.
        func purge(_ select: String, delete: (String) -> String) throws -> Int {
            try database.write { tx in
                let ids = try tx.query(select, [.integer(cutoff), .integer(Int64(batchSize))]).map { SQLValue.text(try $0.text("id")) }
                guard !ids.isEmpty else { return 0 }
                return try tx.execute(delete(Array(repeating: "?", count: ids.count).joined(separator: ", ")), ids)
            }
        }
        var purged = PurgedMail()
        purged.messages = try purge("""
            SELECT id FROM mail_quarantine WHERE status IN (2, 3) AND resolved_at < ? ORDER BY resolved_at, id LIMIT ?
            """) { "DELETE FROM mail_quarantine WHERE id IN (\($0)) AND status IN (2, 3)" }
        purged.bounces = try purge("""
            SELECT id FROM mail_bounces b WHERE status IN ('sent', 'failed', 'cancelled') AND finished_at < ?
            AND NOT EXISTS (SELECT 1 FROM mail_quarantine q WHERE q.bounce_id = b.id) ORDER BY finished_at, id LIMIT ?
            """) { """
            DELETE FROM mail_bounces WHERE id IN (\($0)) AND NOT EXISTS (SELECT 1 FROM mail_quarantine q WHERE q.bounce_id = mail_bounces.id)
            """ }
        return purged
    }
}

/// Removes resolved quarantined mail (and finished bounces) after `INTAKE_MAIL_RETENTION_DAYS`
/// (default 90; 0 keeps them), every `INTAKE_GC_INTERVAL_SECONDS`.
enum MailRetention {
    /// The retention in `environment` (milliseconds), 0 when turned off.
    /// - Throws: ``ConfigurationError`` for a malformed value.
    static func retention(_ environment: [String: String]) throws -> Int64 {
        guard let text = environment["INTAKE_MAIL_RETENTION_DAYS"], !text.isEmpty else { return 90 * 86_400_000 }
        guard let days = Double(text), days >= 0, days.isFinite else { throw ConfigurationError("INTAKE_MAIL_RETENTION_DAYS inválido / invalid: '\(text)'") }
        return Int64(days * 86_400_000)
    }

    /// The background sweep purging what is older than `retentionMilliseconds`.
    static func sweep(intake: IntakeContext, retentionMilliseconds: Int64, logger: Logger) -> PeriodicSweep {
        let batch = intake.settings.garbageCollectionBatchSize
        return PeriodicSweep(name: "intake-mail-retention", failureMessage: "mail retention failed; trying again next time",
                             interval: intake.settings.garbageCollectionIntervalSeconds, logger: logger) {
            let round = try intake.purgeResolvedMail(olderThanMilliseconds: retentionMilliseconds, batchSize: batch)
            if round.messages > 0 || round.bounces > 0 {
                logger.info("resolved mail purged", ["messages": String(round.messages), "bounces": String(round.bounces)])
            }
            return round.messages >= batch || round.bounces >= batch
        }
    }
}
