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
        // The writer thread's time, in microseconds (docs/BENCHMARKS-intake.md reads a batch cycle from it).
        fields["idle_us"] = String(stats.idleNanoseconds / 1_000)
        fields["gather_us"] = String(stats.gatherNanoseconds / 1_000)
        fields["transaction_us"] = String(stats.transactionNanoseconds / 1_000)
        fields["commit_us"] = String(stats.commitNanoseconds / 1_000)
        fields["answer_us"] = String(stats.answerNanoseconds / 1_000)
        fields["wake_ups"] = String(stats.wakeUps)
        if let checkpoints = intake.checkpointStatistics {
            fields["checkpoints"] = String(checkpoints.checkpoints)
            fields["largest_wal_frames"] = String(checkpoints.largestWAL)
        }
        logger.notice("group commit", fields)
    }
}
