import Foundation
import Observability
import ServiceKit
import Storage

/// Deletes finished deliveries (`sent`, `failed`, `discarded`, `bounced`) older than the retention, in
/// batches of their own transactions, on a timer. Dead letters stay until an operator retries or
/// discards them; queued and in-flight rows are never touched. Safe with several instances: each
/// batch deletes what is still there.
final class DeliveryPruner: BackgroundService, @unchecked Sendable {
    let database: any Database
    let settings: NotificationSettings
    let logger: Logger
    private let timer = BackgroundLoop(name: "notify pruner")

    init(database: any Database, settings: NotificationSettings, logger: Logger) {
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    /// One pass: deletes finished rows created before `now − retention`.
    /// - Returns: how many rows were deleted.
    @discardableResult
    static func prune(_ database: any Database, retentionMilliseconds: Int64, batch: Int, now: Date = Date()) throws -> Int {
        guard retentionMilliseconds > 0 else { return 0 }
        let cutoff = now.addingTimeInterval(-Double(retentionMilliseconds) / 1000)
        return try database.deleteInBatches(of: batch) { tx, batch in
            // Rows chosen (and locked on PostgreSQL, so a concurrent replay cannot requeue
            // one whose message is being deleted), then their messages, then the rows.
            let lock = tx.engine == .postgres ? " FOR UPDATE" : ""
            let ids = try tx.query("""
                SELECT id FROM notification_deliveries
                WHERE created_at < ? AND state IN ('sent', 'failed', 'discarded', 'bounced') LIMIT ?\(lock)
                """, [.timestamp(cutoff), .integer(Int64(batch))]).map { try $0.text("id") }
            guard !ids.isEmpty else { return 0 }
            try PayloadChunks.delete(tx, ids: ids)
            var deleted = 0
            try StatementBatches.forEach(ids) { chunk, marks in
                deleted += try tx.execute("DELETE FROM notification_deliveries WHERE id IN (\(marks))", chunk.map(SQLValue.text))
            }
            return deleted
        }
    }

    func start() {
        guard settings.retentionMilliseconds > 0 else { return }
        timer.start(every: Double(settings.pruneIntervalMilliseconds) / 1000) { [self] in
            do {
                let deleted = try Self.prune(database, retentionMilliseconds: settings.retentionMilliseconds, batch: settings.pruneBatch)
                if deleted > 0 { logger.info("delivery log pruned", ["notification.deleted": String(deleted)]) }
            } catch {
                logger.error("pruning the delivery log failed: \(error)")
            }
        }
    }

    func stop() { timer.stop() }
}
