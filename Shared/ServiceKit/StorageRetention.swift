import Foundation
import Observability
import Storage

/// Forgets, on a timer, what every service's shared tables keep only for a while: idempotency
/// keys (`storage_idempotency`: a retry within the retention gets the first answer, a later one
/// runs again) and the inbox (`storage_inbox`: an event redelivered within the retention is
/// recognised). Without it both tables grew by a row for every keyed call and every event a
/// service took in, for ever (an open's row holds its whole answer).
///
/// Started by ``ServiceMain`` for every service. Rows go in batches of their own transactions,
/// so a long backlog never holds the writer; several instances on one database may prune at once
/// (each batch deletes what is still there).
///
/// | environment | default | meaning |
/// |---|---|---|
/// | `OCORRENCIAS_IDEMPOTENCY_RETENTION_HOURS` | 168 (7 days) | idempotency keys older than this are forgotten; 0 keeps them |
/// | `OCORRENCIAS_INBOX_RETENTION_DAYS` | 30 | inbox entries older than this are forgotten; 0 keeps them |
public final class StorageRetention: BackgroundService, @unchecked Sendable {
    /// How long each table keeps its rows (0: for ever) and how often the timer runs.
    public struct Settings: Sendable, Equatable {
        public var idempotencySeconds: Int = 7 * 86_400
        public var inboxSeconds: Int = 30 * 86_400
        public var intervalSeconds: Double = 3_600
        public var batch: Int = 1_000

        public init() {}

        /// The retentions from the environment.
        /// - Throws: ``ConfigurationError`` for a value that is not a whole number in range.
        public init(environment: [String: String]) throws {
            let settings = EnvironmentSettings(environment)
            if let hours = try settings.integer("OCORRENCIAS_IDEMPOTENCY_RETENTION_HOURS", in: 0...(24 * 3_650)) {
                idempotencySeconds = hours * 3_600
            }
            if let days = try settings.integer("OCORRENCIAS_INBOX_RETENTION_DAYS", in: 0...3_650) {
                inboxSeconds = days * 86_400
            }
        }
    }

    /// What one pass removed.
    public struct Removed: Sendable, Equatable {
        public var idempotencyKeys = 0
        public var inboxEntries = 0

        public init(idempotencyKeys: Int = 0, inboxEntries: Int = 0) {
            self.idempotencyKeys = idempotencyKeys
            self.inboxEntries = inboxEntries
        }
    }

    let database: any Database
    let settings: Settings
    let logger: Logger
    private let timer = BackgroundLoop(name: "storage retention")

    public init(database: any Database, settings: Settings, logger: Logger) {
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    /// One pass: removes every row older than its table's retention, `settings.batch` rows per
    /// transaction.
    @discardableResult
    public static func prune(_ database: any Database, settings: Settings, now: Date = Date()) throws -> Removed {
        var removed = Removed()
        if settings.idempotencySeconds > 0 {
            let cutoff = now.addingTimeInterval(-Double(settings.idempotencySeconds))
            removed.idempotencyKeys = try database.deleteInBatches(of: settings.batch) { tx, limit in
                try IdempotencyStore.prune(tx, olderThan: cutoff, limit: limit)
            }
        }
        if settings.inboxSeconds > 0 {
            let cutoff = now.addingTimeInterval(-Double(settings.inboxSeconds))
            removed.inboxEntries = try database.deleteInBatches(of: settings.batch) { tx, limit in
                try Inbox.prune(tx, olderThan: cutoff, limit: limit)
            }
        }
        return removed
    }

    public func start() {
        guard settings.idempotencySeconds > 0 || settings.inboxSeconds > 0 else { return }
        timer.start(every: settings.intervalSeconds) { [self] in
            do {
                let removed = try Self.prune(database, settings: settings)
                if removed != Removed() {
                    logger.info("storage retention", ["storage.idempotency_removed": String(removed.idempotencyKeys),
                                                       "storage.inbox_removed": String(removed.inboxEntries)])
                }
            } catch {
                logger.error("storage retention failed: \(error)")
            }
        }
    }

    public func stop() { timer.stop() }
}
