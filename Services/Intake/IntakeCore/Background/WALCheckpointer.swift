import Dispatch
import Storage
import Synchronization

/// Copies SQLite's write-ahead log into the database file off the group commit's writer thread.
///
/// SQLite checkpoints automatically on the connection that commits, once the WAL has grown past
/// `wal_autocheckpoint` pages: the committing thread then reads those pages back from the WAL,
/// writes them into the database file and `fdatasync`s both. For intake that thread is the group
/// commit's single writer, which every open waits for; the checkpoint was ≈ 15 % of its time
/// (docs/BENCHMARKS-intake.md, seventh pass). With this, the writer tells the checkpointer how many
/// opens each batch committed, and every `everyOpens` opens a `PRAGMA wal_checkpoint(PASSIVE)`
/// runs on a reader connection, on another thread (another core), while the writer goes on with
/// the next batch (a passive checkpoint never blocks writers or readers; SQLite allows one at a
/// time). The writer's own automatic checkpoint stays, at a larger interval (`IntakeService`'s
/// database tuning), for the writes that do not go through the group commit and for when this one
/// falls behind.
///
/// Durability is unchanged: a transaction is in the WAL when its `COMMIT` returns, whoever copies
/// it into the database file later (`synchronous=NORMAL`, as before).
public final class WALCheckpointer: @unchecked Sendable {
    /// What the checkpointer has done (for tests and the benchmark).
    public struct Statistics: Sendable, Equatable {
        /// Checkpoints run.
        public var checkpoints = 0
        /// The largest WAL a checkpoint found, in frames (pages): the WAL starts over only once a
        /// checkpoint copied all of it before the writer's next transaction.
        public var largestWAL = 0
    }

    private let database: any Database
    private let everyOpens: Int
    private let queue = DispatchQueue(label: "intake-wal-checkpoint")
    private struct State {
        var pendingOpens = 0
        var running = false
        var statistics = Statistics()
    }
    private let state = Mutex(State())

    /// - Parameter everyOpens: Committed opens between two checkpoints (an open writes two to
    ///   three WAL pages, so the default is about the 4,000 pages of the writer's former interval).
    init(database: any Database, everyOpens: Int = 1_500) {
        self.database = database
        self.everyOpens = max(1, everyOpens)
    }

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// The writer committed a batch of `opens` opens: starts a checkpoint when enough have
    /// accumulated and none is running. Returns at once.
    func committed(opens: Int) {
        let start = state.withLock { state -> Bool in
            state.pendingOpens += opens
            guard state.pendingOpens >= everyOpens, !state.running else { return false }
            state.pendingOpens = 0
            state.running = true
            return true
        }
        guard start else { return }
        queue.async { [self] in
            let (runs, largest) = checkpoint()
            state.withLock {
                $0.running = false
                $0.statistics.checkpoints += runs
                $0.statistics.largestWAL = max($0.statistics.largestWAL, largest)
            }
        }
    }

    /// Runs passive checkpoints until one copied the whole WAL (then the writer starts the WAL
    /// over at its next transaction instead of growing it), at most three: frames committed while
    /// one runs are left for the next. Errors are left to the next round (and to the writer's own
    /// automatic checkpoint).
    func checkpoint() -> (runs: Int, largestWAL: Int) {
        var runs = 0, largest = 0
        for _ in 0..<3 {
            guard let row = try? database.read({ try $0.queryOne("PRAGMA wal_checkpoint(PASSIVE)", []) }),
                  row.values.count >= 3, case .integer(let log) = row[1], case .integer(let done) = row[2] else { break }
            runs += 1
            largest = max(largest, Int(log))
            if done >= log { break }
        }
        return (runs, largest)
    }
}
