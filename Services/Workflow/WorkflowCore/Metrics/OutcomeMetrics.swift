import Foundation
import Messages
import Storage

/// Finished tickets by how they ended (the report's `by_outcome`): "finished" counts denied and
/// cancelled tickets too, so the report says which.
///
/// Kept as the report's other figures are, so a month's report reads a few hundred rows:
/// - without a filter (administrators, services), the finishings of the period by the day they
///   happened: the rollups' dimension `outcome` (`wf_metric_daily` / `wf_metric_monthly`, key =
///   the outcome), which only finishings add to (``MetricsRecorder/keys(_:outcome:)``); its
///   `finished` sums add up to the totals' `finished`.
/// - with a filter, or for a viewer held to a level, the cohort (tickets opened in the period,
///   matching, that the viewer may see) finished now, by their outcome: whole months from
///   `wf_metric_cohort_outcome` (per group × opening month × product × access level × outcome,
///   kept by every metrics event as ``CohortCounters``' rows are), the rest from the tickets'
///   facts (`wf_metric_tickets.outcome`), through the same ``MetricsQuery/cohortPlan(from:to:filter:)``
///   as the totals, so the rows add up to the cohort's `finished`.
extension MetricsQuery {
    /// Migration 194: the tickets' outcome column and the cohort outcome counters with their
    /// indexes (as migration 190's and 192's). Filled for tickets finished before it by
    /// ``outcomeBackfill`` (195, which needs the ticket core's `tickets`).
    public static let outcomeMigration = Migration(version: 194, name: "time_metric_outcomes", sql: """
        ALTER TABLE wf_metric_tickets ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
        CREATE TABLE wf_metric_cohort_outcome (
            group_id TEXT NOT NULL,
            month INTEGER NOT NULL,
            product TEXT NOT NULL,
            access_level INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            shard INTEGER NOT NULL,
            finished BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (group_id, month, product, access_level, outcome, shard)
        );
        CREATE INDEX wf_metric_cohort_outcome_product ON wf_metric_cohort_outcome (product, month);
        CREATE INDEX wf_metric_cohort_outcome_month ON wf_metric_cohort_outcome (month, access_level);
        """)

    /// Migration 195 (the ticket core's list: it reads `tickets`): the outcome of the tickets
    /// finished before migration 194, their cohort outcome rows, and the rollup rows of dimension
    /// `outcome` — each ticket by its latest finishing, on its local day in São Paulo (UTC−3, the
    /// default calendar's zone, without daylight saving since 2019). A ticket finished, reopened
    /// and finished again before the upgrade counts its earlier finishings in `finished` only.
    /// The rows are rebuilt from the facts (any written since migration 194 replaced), so the
    /// counters match the facts whatever ran in between.
    public static let outcomeBackfill: Migration = {
        let day = "(t.finished_at - 10800000) / 86400000"
        func statements(_ month: (String) -> String) -> String {
            """
            UPDATE wf_metric_tickets SET outcome = COALESCE((SELECT k.outcome FROM tickets k WHERE k.id = wf_metric_tickets.ticket_id), '')
            WHERE is_open = 0 AND outcome = '';
            DELETE FROM wf_metric_cohort_outcome;
            DELETE FROM wf_metric_daily WHERE dim = 'outcome';
            DELETE FROM wf_metric_monthly WHERE dim = 'outcome';
            INSERT INTO wf_metric_cohort_outcome (group_id, month, product, access_level, outcome, shard, finished)
            SELECT x.group_id, x.month, x.product, x.access_level, x.outcome, 0, COUNT(*)
            FROM (SELECT t.group_id AS group_id, \(month("t.opened_day")) AS month, t.product AS product, t.access_level AS access_level,
                         t.outcome AS outcome FROM wf_metric_tickets t WHERE t.is_open = 0) AS x
            GROUP BY x.group_id, x.month, x.product, x.access_level, x.outcome;
            INSERT INTO wf_metric_daily (dim, day, key, shard, finished)
            SELECT 'outcome', x.day, x.outcome, 0, COUNT(*)
            FROM (SELECT \(day) AS day, t.outcome AS outcome FROM wf_metric_tickets t WHERE t.is_open = 0 AND t.finished_at IS NOT NULL) AS x
            GROUP BY x.day, x.outcome;
            INSERT INTO wf_metric_monthly (dim, month, key, shard, finished)
            SELECT 'outcome', x.month, x.outcome, 0, COUNT(*)
            FROM (SELECT \(month(day)) AS month, t.outcome AS outcome FROM wf_metric_tickets t WHERE t.is_open = 0 AND t.finished_at IS NOT NULL) AS x
            GROUP BY x.month, x.outcome;
            """
        }
        return Migration(version: 195, name: "time_metric_outcomes_backfill",
                         sqlite: statements { day in
                             """
                             (CAST(strftime('%Y', (\(day)) * 86400, 'unixepoch') AS INTEGER) * 12
                              + CAST(strftime('%m', (\(day)) * 86400, 'unixepoch') AS INTEGER) - 1)
                             """
                         },
                         postgres: statements { day in
                             """
                             CAST(EXTRACT(YEAR FROM DATE '1970-01-01' + CAST(\(day) AS INTEGER)) * 12
                                  + EXTRACT(MONTH FROM DATE '1970-01-01' + CAST(\(day) AS INTEGER)) - 1 AS INTEGER)
                             """
                         })
    }()

    /// The finishings of days `[from, to)` by outcome (the rollups' dimension `outcome`), most
    /// first, then by key.
    public static func outcomes(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay) throws -> [(outcome: String, finished: Int64)] {
        let source = source(dim: "outcome", from: from, to: to)
        return try tx.query("""
            SELECT key, SUM(finished) AS finished FROM (\(source.sql)) AS r GROUP BY key HAVING SUM(finished) > 0
            """, source.params).map { (try $0.text("key"), try $0.int("finished")) }.sorted(by: outcomeOrder)
    }

    /// The tickets opened in `[from, to)` that match `filter` and are finished now, by outcome
    /// (most first, then by key): the cohort of ``cohortTotals(_:from:to:filter:)``.
    public static func cohortOutcomes(_ tx: any SQLExecutor, from: LocalDay, to: LocalDay, filter: MetricsFilter) throws
        -> [(outcome: String, finished: Int64)] {
        let plan = cohortPlan(from: from, to: to, filter: filter)
        var parts: [String] = [], params: [SQLValue] = []
        if let counters = plan.counters {
            parts.append("SELECT c.outcome AS outcome, c.finished AS finished FROM wf_metric_cohort_outcome c WHERE \(counters.sql)")
            params += counters.params
        }
        for scan in plan.scans {
            parts.append("SELECT t.outcome AS outcome, COUNT(*) AS finished FROM wf_metric_tickets t WHERE \(scan.sql) AND t.is_open = 0 GROUP BY t.outcome")
            params += scan.params
        }
        return try tx.query("""
            SELECT outcome, SUM(finished) AS finished FROM (\(parts.joined(separator: "\nUNION ALL\n"))) AS r
            GROUP BY outcome HAVING SUM(finished) > 0
            """, params).map { (try $0.text("outcome"), try $0.int("finished")) }.sorted(by: outcomeOrder)
    }

    private static func outcomeOrder(_ a: (outcome: String, finished: Int64), _ b: (outcome: String, finished: Int64)) -> Bool {
        (b.finished, a.outcome) < (a.finished, b.outcome)
    }
}
