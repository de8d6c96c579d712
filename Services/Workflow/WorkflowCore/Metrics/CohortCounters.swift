import Foundation
import Storage
import Synchronization

/// Counters of the filtered report's cohorts (issue 7, dashboard filters): per **opening month**
/// × current group × product × module × category × access level, the sums that
/// ``MetricsQuery/cohortTotals(_:from:to:filter:)`` used to add up from every matching ticket's
/// facts; and per opening month × group × product × access level × stage, the tickets' completed
/// stays (``MetricsQuery/cohortStageTime(_:from:to:filter:)``).
///
/// A ticket's **share** (``CohortShare``) is what it adds to its row now: opened 1, finished when
/// closed, its reopenings, first response and resolution (the latest, as its fact row keeps it),
/// transfers, ping-pongs and survey score. Every event that changes the fact row changes the
/// share in the same transaction: the difference is added to the ticket's row, or, when the event
/// moves it to another row (a transfer to another group, a corrected product, module, category or
/// access level), the old share leaves the old row and the new one enters the new row, with its
/// stays. So a row's sums are always exactly those of the tickets that the scan of
/// `wf_metric_tickets` would find with that group, product, … today — the counters answer the
/// same question, in a few hundred rows per month instead of one row per ticket.
///
/// Keyed by month, not day: at a day's granularity a group's month has about as many rows as
/// tickets (48 modules × 5 categories × 3 levels per group and day), so the ragged days of a
/// period that is not whole months are read from the tickets (``MetricsQuery/cohortPlan(from:to:filter:)``).
/// PostgreSQL rows are sharded like the rollups' (migration 151); SQLite writes shard 0.
public enum CohortCounters {
    /// Migration 190: the two tables, the product filter's indexes, and the backfill from the
    /// ticket facts already recorded (the month of `opened_day`, a day number since 1970-01-01).
    public static let migration: Migration = {
        let counters = MetricsRecorder.Counter.allCases.map { "\($0.rawValue) BIGINT NOT NULL DEFAULT 0" }.joined(separator: ",\n    ")
        let tables = """
            CREATE TABLE wf_metric_cohort (
                group_id TEXT NOT NULL,
                month INTEGER NOT NULL,
                product TEXT NOT NULL,
                module TEXT NOT NULL,
                category INTEGER NOT NULL,
                access_level INTEGER NOT NULL,
                shard INTEGER NOT NULL,
                \(counters),
                PRIMARY KEY (group_id, month, product, module, category, access_level, shard)
            );
            CREATE INDEX wf_metric_cohort_product ON wf_metric_cohort (product, month);
            CREATE TABLE wf_metric_cohort_stage (
                group_id TEXT NOT NULL,
                month INTEGER NOT NULL,
                product TEXT NOT NULL,
                access_level INTEGER NOT NULL,
                stage TEXT NOT NULL,
                shard INTEGER NOT NULL,
                exits BIGINT NOT NULL DEFAULT 0,
                wall_ms BIGINT NOT NULL DEFAULT 0,
                business_ms BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (group_id, month, product, access_level, stage, shard)
            );
            CREATE INDEX wf_metric_cohort_stage_product ON wf_metric_cohort_stage (product, month);

            """
        func backfill(_ month: String) -> String {
            """
            INSERT INTO wf_metric_cohort (group_id, month, product, module, category, access_level, shard, \(MetricsQuery.counters))
            SELECT t.group_id, \(month), t.product, t.module, t.category, t.access_level, 0,
                   COUNT(*), SUM(1 - t.is_open), SUM(t.reopens),
                   COUNT(t.first_response_wall_ms), COALESCE(SUM(t.first_response_wall_ms), 0),
                   COALESCE(SUM(t.first_response_business_ms), 0), COALESCE(SUM(t.first_response_met), 0),
                   COUNT(t.resolution_wall_ms), COALESCE(SUM(t.resolution_wall_ms), 0),
                   COALESCE(SUM(t.resolution_business_ms), 0), COALESCE(SUM(t.resolution_met), 0),
                   SUM(t.transfers), SUM(t.ping_pongs), COUNT(t.survey_score), COALESCE(SUM(t.survey_score), 0)
            FROM wf_metric_tickets t GROUP BY t.group_id, \(month), t.product, t.module, t.category, t.access_level;
            INSERT INTO wf_metric_cohort_stage (group_id, month, product, access_level, stage, shard, exits, wall_ms, business_ms)
            SELECT t.group_id, \(month), t.product, t.access_level, s.stage, 0, SUM(s.entries), SUM(s.wall_ms), SUM(s.business_ms)
            FROM wf_metric_tickets t JOIN wf_metric_stage_time s ON s.ticket_id = t.ticket_id
            GROUP BY t.group_id, \(month), t.product, t.access_level, s.stage;
            """
        }
        return Migration(version: 190, name: "time_metric_cohorts",
                         sqlite: tables + backfill("""
                             (CAST(strftime('%Y', t.opened_day * 86400, 'unixepoch') AS INTEGER) * 12
                              + CAST(strftime('%m', t.opened_day * 86400, 'unixepoch') AS INTEGER) - 1)
                             """),
                         postgres: tables + backfill("""
                             CAST(EXTRACT(YEAR FROM DATE '1970-01-01' + t.opened_day) * 12
                                  + EXTRACT(MONTH FROM DATE '1970-01-01' + t.opened_day) - 1 AS INTEGER)
                             """))
    }()

    /// A row of `wf_metric_cohort` (without its shard).
    struct Key: Hashable, Comparable {
        var groupID: String
        var month: Int64
        var product: String
        var module: String
        var category: Int64
        var accessLevel: Int64

        static func < (a: Key, b: Key) -> Bool {
            (a.groupID, a.month, a.product, a.module, a.category, a.accessLevel) < (b.groupID, b.month, b.product, b.module, b.category, b.accessLevel)
        }

        /// The row of `wf_metric_cohort_stage` of this key's tickets and `stage`.
        func stage(_ stage: String) -> StageKey {
            StageKey(groupID: groupID, month: month, product: product, accessLevel: accessLevel, stage: stage)
        }

        var values: [SQLValue] {
            [.text(groupID), .integer(month), .text(product), .text(module), .integer(category), .integer(accessLevel)]
        }
    }

    /// A row of `wf_metric_cohort_outcome` (without its shard): the finished tickets of a
    /// group × opening month × product × access level that ended with `outcome` (migration 194).
    struct OutcomeKey: Hashable, Comparable {
        var groupID: String
        var month: Int64
        var product: String
        var accessLevel: Int64
        var outcome: String

        static func < (a: OutcomeKey, b: OutcomeKey) -> Bool {
            (a.groupID, a.month, a.product, a.accessLevel, a.outcome) < (b.groupID, b.month, b.product, b.accessLevel, b.outcome)
        }

        var values: [SQLValue] { [.text(groupID), .integer(month), .text(product), .integer(accessLevel), .text(outcome)] }
    }

    /// A row of `wf_metric_cohort_stage` (without its shard).
    struct StageKey: Hashable, Comparable {
        var groupID: String
        var month: Int64
        var product: String
        var accessLevel: Int64
        var stage: String

        static func < (a: StageKey, b: StageKey) -> Bool {
            (a.groupID, a.month, a.product, a.accessLevel, a.stage) < (b.groupID, b.month, b.product, b.accessLevel, b.stage)
        }

        var values: [SQLValue] { [.text(groupID), .integer(month), .text(product), .integer(accessLevel), .text(stage)] }
    }

    /// The opening month (year × 12 + month − 1, as `wf_metric_monthly`) of a local day number.
    static func month(ofDay day: Int64) -> Int64 {
        let local = LocalDay(dayNumber: Int(day))
        return Int64(local.year * 12 + local.month - 1)
    }

    /// The key of a ticket opened on local day `openedDay` with dimensions `d`.
    static func key(openedDay: Int64, _ d: TicketDimensions) -> Key {
        Key(groupID: d.groupID, month: month(ofDay: openedDay), product: d.product, module: d.module,
            category: Int64(d.category), accessLevel: Int64(d.accessLevel))
    }

    /// Upserts adding `deltas` (every counter, in ``MetricsRecorder/Counter`` order) to `rows`,
    /// in key order, one statement per row (a handful of texts, each prepared once); then the
    /// stage rows and the outcome rows (finished tickets) likewise.
    static func statements(_ rows: [(Key, [Int64])], _ stages: [(StageKey, [Int64])], outcomes: [(OutcomeKey, Int64)] = [],
                           shard: SQLValue) -> WriteBatch {
        var batch = WriteBatch()
        for (key, deltas) in rows.sorted(by: { $0.0 < $1.0 }) where deltas.contains(where: { $0 != 0 }) {
            batch.add(upsert, key.values + [shard] + deltas.map { .integer($0) })
        }
        for (key, deltas) in stages.sorted(by: { $0.0 < $1.0 }) where deltas.contains(where: { $0 != 0 }) {
            batch.add(stageUpsert, key.values + [shard] + deltas.map { .integer($0) })
        }
        for (key, delta) in outcomes.sorted(by: { $0.0 < $1.0 }) where delta != 0 {
            batch.add(outcomeUpsert, key.values + [shard, .integer(delta)])
        }
        return batch
    }

    private static let keyColumns = "group_id, month, product, module, category, access_level, shard"
    private static let stageKeyColumns = "group_id, month, product, access_level, stage, shard"

    static let upsert: String = {
        let counters = MetricsRecorder.Counter.allCases.map(\.rawValue)
        return """
            INSERT INTO wf_metric_cohort (\(keyColumns), \(counters.joined(separator: ", ")))
            VALUES (\(Array(repeating: "?", count: 7 + counters.count).joined(separator: ", ")))
            ON CONFLICT (\(keyColumns)) DO UPDATE SET \(counters.map { "\($0) = wf_metric_cohort.\($0) + excluded.\($0)" }.joined(separator: ", "))
            """
    }()

    private static let outcomeKeyColumns = "group_id, month, product, access_level, outcome, shard"

    static let outcomeUpsert = """
        INSERT INTO wf_metric_cohort_outcome (\(outcomeKeyColumns), finished) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (\(outcomeKeyColumns)) DO UPDATE SET finished = wf_metric_cohort_outcome.finished + excluded.finished
        """

    static let stageUpsert = """
        INSERT INTO wf_metric_cohort_stage (\(stageKeyColumns), exits, wall_ms, business_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (\(stageKeyColumns)) DO UPDATE SET exits = wf_metric_cohort_stage.exits + excluded.exits,
            wall_ms = wf_metric_cohort_stage.wall_ms + excluded.wall_ms, business_ms = wf_metric_cohort_stage.business_ms + excluded.business_ms
        """

    /// Adds a ticket's recorded stays (`wf_metric_stage_time`), times the sign (−1 or 1), to the
    /// stage rows of a key: parameters group, month, product, access level, shard, sign, ticket.
    static let stayMove = """
        INSERT INTO wf_metric_cohort_stage (\(stageKeyColumns), exits, wall_ms, business_ms)
        SELECT CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), s.stage, CAST(? AS BIGINT),
               s.entries * m.sign, s.wall_ms * m.sign, s.business_ms * m.sign
        FROM wf_metric_stage_time s, (SELECT CAST(? AS BIGINT) AS sign) AS m WHERE s.ticket_id = ?
        ON CONFLICT (\(stageKeyColumns)) DO UPDATE SET exits = wf_metric_cohort_stage.exits + excluded.exits,
            wall_ms = wf_metric_cohort_stage.wall_ms + excluded.wall_ms, business_ms = wf_metric_cohort_stage.business_ms + excluded.business_ms
        """

    /// An opening's row: `opened` + 1 only. With `condition` (PostgreSQL, inside a guarded
    /// statement) the row is inserted only when the condition holds (typed placeholders).
    static func openingSQL(condition: String?) -> String {
        if let condition {
            return """
                INSERT INTO wf_metric_cohort (\(keyColumns), opened)
                SELECT * FROM (VALUES (CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT),
                                       CAST(? AS BIGINT), CAST(? AS BIGINT))) AS v WHERE \(condition)
                ON CONFLICT (\(keyColumns)) DO UPDATE SET opened = wf_metric_cohort.opened + excluded.opened
                """
        }
        return """
            INSERT INTO wf_metric_cohort (\(keyColumns), opened) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (\(keyColumns)) DO UPDATE SET opened = wf_metric_cohort.opened + excluded.opened
            """
    }
}

/// What one ticket adds to its cohort row (``CohortCounters``), read from its `wf_metric_tickets`
/// row and changed as the events change that row.
struct CohortShare: Equatable {
    var openedDay: Int64
    var dimensions: TicketDimensions
    var isOpen: Bool
    var reopens: Int64
    var firstResponse: (wall: Int64, business: Int64, met: Int64)?
    var resolution: (wall: Int64, business: Int64, met: Int64)?
    var transfers: Int64
    var pingPongs: Int64
    var survey: Int64?
    /// How it ended, while finished (`wf_metric_tickets.outcome`, migration 194).
    var outcome: String

    init(fact row: Row, dimensions: TicketDimensions) throws {
        openedDay = try row.int("opened_day")
        self.dimensions = dimensions
        isOpen = try row.bool("is_open")
        reopens = try row.int("reopens")
        if let wall = try row.optionalInt("first_response_wall_ms") {
            firstResponse = (wall, try row.optionalInt("first_response_business_ms") ?? 0, try row.optionalInt("first_response_met") ?? 0)
        }
        if let wall = try row.optionalInt("resolution_wall_ms") {
            resolution = (wall, try row.optionalInt("resolution_business_ms") ?? 0, try row.optionalInt("resolution_met") ?? 0)
        }
        transfers = try row.int("transfers")
        pingPongs = try row.int("ping_pongs")
        survey = try row.optionalInt("survey_score")
        outcome = row.optionalText("outcome") ?? ""
    }

    static func == (a: CohortShare, b: CohortShare) -> Bool { a.key == b.key && a.counters == b.counters && a.outcomeKey == b.outcomeKey }

    var key: CohortCounters.Key { CohortCounters.key(openedDay: openedDay, dimensions) }

    /// The outcome row this ticket counts one finished ticket in; `nil` while open.
    var outcomeKey: CohortCounters.OutcomeKey? {
        guard !isOpen else { return nil }
        let key = self.key
        return CohortCounters.OutcomeKey(groupID: key.groupID, month: key.month, product: key.product, accessLevel: key.accessLevel, outcome: outcome)
    }

    /// The counters, in ``MetricsRecorder/Counter`` order.
    var counters: [Int64] {
        [1, isOpen ? 0 : 1, reopens,
         firstResponse == nil ? 0 : 1, firstResponse?.wall ?? 0, firstResponse?.business ?? 0, firstResponse?.met ?? 0,
         resolution == nil ? 0 : 1, resolution?.wall ?? 0, resolution?.business ?? 0, resolution?.met ?? 0,
         transfers, pingPongs, survey == nil ? 0 : 1, survey ?? 0]
    }
}

extension MetricsRecorder {
    /// Runs `update` (an event's change to the ticket's fact row) and the cohort writes of
    /// ``cohortChange(_:ticketID:from:to:stay:into:)`` together: one statement on PostgreSQL.
    func factUpdate(_ tx: any SQLExecutor, ticketID: String, _ update: String, _ params: [SQLValue],
                     from before: CohortShare, to after: CohortShare) throws {
        var batch = WriteBatch()
        batch.add(update, params)
        try cohortChange(tx, ticketID: ticketID, from: before, to: after, into: &batch)
        try batch.run(tx)
    }

    /// Moves a ticket's cohort share from `before` to `after` (an event's change to its fact row)
    /// and adds `stay` (a completed stay in a stage) to its stage row; when the event moved the
    /// ticket to another row, its recorded stays move with it. Into the transaction's sums inside
    /// ``summingCounters(_:_:)`` (the stays read here), else added to `batch`, which the caller
    /// runs with its own independent writes (one statement on PostgreSQL; the stays moved by
    /// ``CohortCounters/stayMove``, read by the database, not here).
    func cohortChange(_ tx: any SQLExecutor, ticketID: String, from before: CohortShare, to after: CohortShare,
                      stay: (stage: String, wall: Int64, business: Int64)? = nil, into batch: inout WriteBatch) throws {
        let old = before.key, new = after.key
        var rows: [(CohortCounters.Key, [Int64])] = []
        if old == new {
            let (a, b) = (before.counters, after.counters)
            if a != b { rows.append((new, zip(b, a).map { $0 - $1 })) }
        } else {
            rows.append((old, before.counters.map { -$0 }))
            rows.append((new, after.counters))
        }
        var stages: [(CohortCounters.StageKey, [Int64])] = []
        if let stay { stages.append((new.stage(stay.stage), [1, stay.wall, stay.business])) }
        let movesStays = old.stage("") != new.stage("")
        if movesStays, Self.pendingSums != nil {
            for row in try tx.query("SELECT stage, entries, wall_ms, business_ms FROM wf_metric_stage_time WHERE ticket_id = ?", [.text(ticketID)]) {
                let stage = try row.text("stage"), values = [try row.int("entries"), try row.int("wall_ms"), try row.int("business_ms")]
                stages.append((old.stage(stage), values.map { -$0 }))
                stages.append((new.stage(stage), values))
            }
        }
        // The finished ticket's outcome row: left when it reopens, moved with its group, product,
        // level or outcome.
        var outcomes: [(CohortCounters.OutcomeKey, Int64)] = []
        if before.outcomeKey != after.outcomeKey {
            if let old = before.outcomeKey { outcomes.append((old, -1)) }
            if let new = after.outcomeKey { outcomes.append((new, 1)) }
        }
        guard !rows.isEmpty || !stages.isEmpty || !outcomes.isEmpty else { return }
        if let sums = Self.pendingSums { return sums.addCohort(rows, stages, outcomes: outcomes) }
        let shard = SQLValue.integer(tx.engine == .postgres ? Self.threadShard() : 0)
        for statement in CohortCounters.statements(rows, stages, outcomes: outcomes, shard: shard).statements {
            batch.add(statement.sql, statement.params)
        }
        if movesStays {
            for (key, sign) in [(old, Int64(-1)), (new, 1)].sorted(by: { $0.0 < $1.0 }) {
                let row = key.stage("")
                batch.add(CohortCounters.stayMove, [.text(row.groupID), .integer(row.month), .text(row.product), .integer(row.accessLevel), shard,
                                                    .integer(sign), .text(ticketID)])
            }
        }
    }
}
