import Storage

/// The metric counter deltas of one transaction, added up and written once at its end instead
/// of once per event (``MetricsRecorder/summingCounters(_:_:)``).
///
/// A delivery of N events that each open a ticket of the same day adds to the same 11 counter
/// rows N times; summed, the delivery writes each row once. The sums are written in the same
/// transaction as the events, so a crash or a rollback keeps all of them or none, exactly as the
/// events' other effects and inbox entries. Only additive counters go through it (the daily and
/// monthly sums and the opened tickets' backlog rows); nothing reads those rows inside the
/// transaction that writes them.
final class CounterSums: @unchecked Sendable {
    // Used only by the thread running the transaction (``MetricsRecorder/summingCounters(_:_:)``).

    /// A row of `wf_metric_daily` (period: local day number) or `wf_metric_monthly` (period:
    /// year × 12 + month − 1).
    struct Row: Hashable, Comparable {
        var dim: String
        var period: Int64
        var key: String

        static func < (a: Row, b: Row) -> Bool { (a.dim, a.period, a.key) < (b.dim, b.period, b.key) }
    }

    /// A row of `wf_metric_backlog`.
    struct BacklogRow: Hashable, Comparable {
        var stage: String
        var openedDay: Int64

        static func < (a: BacklogRow, b: BacklogRow) -> Bool { (a.stage, a.openedDay) < (b.stage, b.openedDay) }
    }

    /// Each row's sums, in the order of ``MetricsRecorder/Counter/allCases`` (arrays, not
    /// dictionaries keyed by the counter: the counter's hash is its name's).
    private(set) var daily: [Row: [Int64]] = [:]
    private(set) var monthly: [Row: [Int64]] = [:]
    private(set) var backlog: [BacklogRow: Int64] = [:]
    /// Rows of `wf_metric_cohort` and `wf_metric_cohort_stage` (``CohortCounters``).
    private(set) var cohort: [CohortCounters.Key: [Int64]] = [:]
    private(set) var cohortStage: [CohortCounters.StageKey: [Int64]] = [:]
    /// Rows of `wf_metric_cohort_outcome`: finished tickets per outcome.
    private(set) var cohortOutcome: [CohortCounters.OutcomeKey: Int64] = [:]

    var isEmpty: Bool { daily.isEmpty && monthly.isEmpty && backlog.isEmpty && cohort.isEmpty && cohortStage.isEmpty && cohortOutcome.isEmpty }

    /// PostgreSQL: whether an opening of this transaction already wrote its counters in its own
    /// statement (``MetricsRecorder/openingWrites(_:ticketID:_:stage:at:into:)``).
    var inlineOpeningWritten = false

    private static let counters = MetricsRecorder.Counter.allCases
    private static let zeros = [Int64](repeating: 0, count: counters.count)

    func add(_ keys: [(String, String)], day: Int64, month: Int64, _ deltas: [MetricsRecorder.Counter: Int64]) {
        var vector = Self.zeros
        for (counter, delta) in deltas {
            // Enum cases compared, not hashed.
            if let position = Self.counters.firstIndex(of: counter) { vector[position] += delta }
        }
        for (dim, key) in keys {
            Self.accumulate(vector, into: &daily[Row(dim: dim, period: day, key: key), default: Self.zeros])
            Self.accumulate(vector, into: &monthly[Row(dim: dim, period: month, key: key), default: Self.zeros])
        }
    }

    private static func accumulate(_ vector: [Int64], into sums: inout [Int64]) {
        for position in vector.indices where vector[position] != 0 { sums[position] += vector[position] }
    }

    func addBacklog(stage: String, openedDay: Int64, _ delta: Int64) {
        backlog[BacklogRow(stage: stage, openedDay: openedDay), default: 0] += delta
    }

    /// Adds cohort rows' deltas (every counter) and cohort stage rows' (exits, wall, business).
    func addCohort(_ rows: [(CohortCounters.Key, [Int64])], _ stages: [(CohortCounters.StageKey, [Int64])],
                   outcomes: [(CohortCounters.OutcomeKey, Int64)] = []) {
        for (key, deltas) in rows { Self.accumulate(deltas, into: &cohort[key, default: Self.zeros]) }
        for (key, deltas) in stages { Self.accumulate(deltas, into: &cohortStage[key, default: [0, 0, 0]]) }
        for (key, delta) in outcomes { cohortOutcome[key, default: 0] += delta }
    }

    /// The upserts that apply the sums: per table, rows grouped by the counters they change and
    /// sent in chunks of 16, 8, 4, 2 and 1 rows (a handful of statement texts, each prepared once
    /// per connection), in a fixed row order (the PostgreSQL row locks are taken in the same
    /// order by every transaction on a shard). Rows whose deltas add up to zero are skipped.
    func statements(sharded: Bool, shard: SQLValue) -> WriteBatch {
        var batch = WriteBatch()
        for (index, table) in [daily, monthly].enumerated() {
            // Rows by the set of counters they change (a bit per counter), with those sums.
            var groups: [UInt32: [(Row, [Int64])]] = [:]
            for row in table.keys.sorted() {
                let sums = table[row]!
                var changed: UInt32 = 0
                for position in sums.indices where sums[position] != 0 { changed |= 1 << UInt32(position) }
                guard changed != 0 else { continue }
                groups[changed, default: []].append((row, sums.filter { $0 != 0 }))
            }
            // Groups in the order of their counters' names (joined by commas), as always.
            let ordered = groups.keys.map { changed -> (UInt32, [String]) in
                (changed, Self.counters.indices.filter { changed & (1 << UInt32($0)) != 0 }.map { Self.counters[$0].rawValue })
            }.sorted { $0.1.joined(separator: ",") < $1.1.joined(separator: ",") }
            for (changed, counters) in ordered {
                var rows = groups[changed]![...]
                while !rows.isEmpty {
                    let size = [16, 8, 4, 2, 1].first { $0 <= rows.count }!
                    let chunk = rows.prefix(size)
                    rows = rows.dropFirst(size)
                    let sql = MetricsRecorder.counterSQL(MetricsRecorder.CounterShape(counters: counters, rows: size,
                                                                                      backlog: false, condition: nil, sharded: sharded))
                    var params: [SQLValue] = []
                    params.reserveCapacity(size * (4 + counters.count))
                    for (row, values) in chunk {
                        params += [.text(row.dim), .integer(row.period), .text(row.key), shard]
                        for value in values { params.append(.integer(value)) }
                    }
                    batch.add(sql[index], params)
                }
            }
        }
        let cohortBatch = CohortCounters.statements(cohort.map { ($0.key, $0.value) }, cohortStage.map { ($0.key, $0.value) },
                                                    outcomes: cohortOutcome.map { ($0.key, $0.value) }, shard: shard)
        for statement in cohortBatch.statements { batch.add(statement.sql, statement.params) }
        for row in backlog.keys.sorted() where backlog[row]! != 0 {
            let conflict = sharded ? ", shard" : ""
            batch.add("""
                INSERT INTO wf_metric_backlog (stage, opened_day, shard, open_count) VALUES (?, ?, ?, ?)
                ON CONFLICT (stage, opened_day\(conflict)) DO UPDATE SET open_count = wf_metric_backlog.open_count + excluded.open_count
                """, [.text(row.stage), .integer(row.openedDay), shard, .integer(backlog[row]!)])
        }
        return batch
    }
}
