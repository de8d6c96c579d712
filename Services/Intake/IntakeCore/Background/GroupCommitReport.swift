import Observability
import ServiceKit

/// Logs what the group commit of ticket opens did (opens, transactions, largest batch) when the
/// process stops, at `notice` level: how many opens shared a commit is the figure that says
/// whether group commit pays under the load the process saw. The benchmark reads this line.
final class GroupCommitReport: BackgroundService, @unchecked Sendable {
    let intake: IntakeContext
    let logger: Logger

    init(intake: IntakeContext, logger: Logger) {
        self.intake = intake
        self.logger = logger
    }

    func start() {}

    func stop() {
        guard let stats = intake.openCommitStatistics, stats.batches > 0 else { return }
        var fields = ["opens": String(stats.opens), "transactions": String(stats.batches), "largest": String(stats.largestBatch)]
        if let checkpoints = intake.checkpointStatistics {
            fields["checkpoints"] = String(checkpoints.checkpoints)
            fields["largest_wal_frames"] = String(checkpoints.largestWAL)
        }
        logger.notice("group commit", fields)
    }
}
