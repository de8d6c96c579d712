import Foundation
import Storage
import Synchronization

/// What metrics attribute a ticket to.
public struct TicketDimensions: Sendable, Hashable, Codable {
    public var organizationID = ""
    /// `ocorrencias.common.v1.Category` number.
    public var category: Int32 = 0
    public var product = ""
    public var module = ""
    public var priority: Int32 = 0
    public var plan = ""
    public var groupID = ""
    public var agentID = ""
    /// The ticket's confidentiality level: exports list only tickets the caller may see.
    public var accessLevel: Int32 = 0

    public init(organizationID: String = "", category: Int32 = 0, product: String = "", module: String = "", priority: Int32 = 0,
                plan: String = "", groupID: String = "", agentID: String = "", accessLevel: Int32 = 0) {
        self.accessLevel = accessLevel
        self.organizationID = organizationID
        self.category = category
        self.product = product
        self.module = module
        self.priority = priority
        self.plan = plan
        self.groupID = groupID
        self.agentID = agentID
    }
}

/// A fact metrics are updated with, as it happens.
public enum MetricsEvent: Sendable, Hashable {
    case opened(TicketDimensions, stage: String)
    /// The ticket entered `stage`; final stages finish it (`outcome`: how it ended, the ticket's
    /// `outcome` key), leaving one reopens it.
    case stageChanged(String, outcome: String = "")
    /// The first public answer: wall time since opening and business time (pauses excluded).
    case firstResponse(wallMillis: Int64, businessMillis: Int64, met: Bool)
    /// The ticket finished: wall and business time to resolution, and whether its SLA was met.
    case resolved(wallMillis: Int64, businessMillis: Int64, met: Bool)
    case transferred(pingPong: Bool, groupID: String, agentID: String)
    /// Category, product, module, priority, plan or holder changed.
    case reclassified(TicketDimensions)
    case surveyAnswered(score: Int32)
}

/// Keeps the metrics fact tables up to date, one event at a time, so a report never scans
/// ticket history.
///
/// - `wf_metric_tickets`: one row per ticket (dimensions, current stage, first response and
///   resolution times, SLA met, transfers, ping-pong, reopens, survey score), for exports.
/// - `wf_metric_backlog`: open tickets per stage and opening day, so the backlog by stage and age
///   reads a few thousand rows however many tickets are open.
/// - `wf_metric_stage_time`: wall and business time (of ``calendar``) per ticket and stage.
/// - `wf_metric_daily` and `wf_metric_monthly`: per dimension (all, category, product, module,
///   group) × local day (or month) × value: sums and counts of everything above. A report reads
///   whole months from the monthly table and the ragged ends from the daily one, so a month's
///   report reads a few hundred rows whatever the number of tickets.
/// - `wf_metric_daily_stage`: per day × stage: time spent in the stage by tickets leaving it.
/// - `wf_metric_cohort` and `wf_metric_cohort_stage`: per opening month × current group ×
///   product × …: the sums of the tickets' facts, for filtered reports (``CohortCounters``); each
///   event moves the ticket's share (``cohortChange(_:ticketID:from:to:stay:into:)``).
///
/// Days are local days of `calendar`'s time zone (São Paulo by default).
public struct MetricsRecorder: Sendable {
    public var finalStages: Set<String>
    /// Open stages where a ticket stands solved, its resolution clock stopped, until the customer
    /// accepts or rejects the solution (TOTVS Resolvido): leaving one back to work is a
    /// reopening, as leaving a final stage is (``isReopening(from:wasOpen:to:)``).
    public var solvedStages: Set<String>
    public var calendar: BusinessCalendar

    public init(finalStages: Set<String> = ["finalizado", "cancelado", "fechado"], solvedStages: Set<String> = ["resolvido"],
                calendar: BusinessCalendar = .default) {
        self.finalStages = finalStages
        self.solvedStages = solvedStages.subtracting(finalStages)
        self.calendar = calendar
    }

    /// Whether a move from `previous` (open or not) to `stage` reopens the ticket: it goes back to
    /// work from where it stood finished (a final stage) or solved (``solvedStages``: the
    /// customer rejected the solution, or wrote back, in TOTVS Resolvido). A move into a final or
    /// solved stage (Resolvido → Fechado, Finalizado → Resolvido) reopens nothing: the ticket
    /// still stands solved.
    func isReopening(from previous: String, wasOpen: Bool, to stage: String) -> Bool {
        guard !finalStages.contains(stage), !solvedStages.contains(stage) else { return false }
        return !wasOpen || solvedStages.contains(previous)
    }

    /// Migration 199: the instant a ticket's resolution was counted (the finish that recorded it),
    /// so the rollups can withdraw it from that day when the ticket reopens or is resolved again
    /// (one resolution per ticket, its last). Backfilled with the finish of the finished tickets
    /// that hold a resolution; a ticket reopened before it keeps its earlier resolution in the
    /// rollups (its day is not known).
    static let resolvedAtMigration = Migration(version: 199, name: "time_metric_resolved_at", sql: """
        ALTER TABLE wf_metric_tickets ADD COLUMN resolved_at BIGINT;
        UPDATE wf_metric_tickets SET resolved_at = finished_at WHERE resolution_wall_ms IS NOT NULL AND finished_at IS NOT NULL AND is_open = 0;
        """)

    /// Migration 202: the category, product, module and group a ticket's resolution was counted
    /// under in the rollups (the dimensions at its finish; a resolution is never moved), so a
    /// reopening withdraws it from there even when the finished ticket was reclassified since.
    /// Backfilled with the ticket's current dimensions (the best known).
    static let resolvedDimensionsMigration = Migration(version: 202, name: "time_metric_resolved_dimensions", sql: """
        ALTER TABLE wf_metric_tickets ADD COLUMN resolved_category INTEGER;
        ALTER TABLE wf_metric_tickets ADD COLUMN resolved_product TEXT;
        ALTER TABLE wf_metric_tickets ADD COLUMN resolved_module TEXT;
        ALTER TABLE wf_metric_tickets ADD COLUMN resolved_group TEXT;
        UPDATE wf_metric_tickets SET resolved_category = category, resolved_product = product, resolved_module = module,
            resolved_group = group_id WHERE resolved_at IS NOT NULL;
        """)

    /// The DDL of a counter table of migration 150: per dimension (`'all'`, `'category'`,
    /// `'product'`, `'module'` or `'group'`) × `period` × key, the sums and counts each event adds
    /// to, so a month's report reads a few thousand rows at most. `wf_metric_daily` counts local
    /// days; `wf_metric_monthly` the same sums per calendar month (year * 12 + month - 1), where
    /// whole months are read.
    ///
    /// - Important: Part of a shipped migration: its columns are fixed here, not derived from
    ///   ``Counter`` (a new counter needs a new migration).
    private static func counterTable(_ table: String, period: String) -> String {
        """
        CREATE TABLE \(table) (
            dim TEXT NOT NULL,
            \(period) INTEGER NOT NULL,
            key TEXT NOT NULL,
            opened BIGINT NOT NULL DEFAULT 0,
            finished BIGINT NOT NULL DEFAULT 0,
            reopened BIGINT NOT NULL DEFAULT 0,
            fr_count BIGINT NOT NULL DEFAULT 0,
            fr_wall_ms BIGINT NOT NULL DEFAULT 0,
            fr_business_ms BIGINT NOT NULL DEFAULT 0,
            fr_met BIGINT NOT NULL DEFAULT 0,
            res_count BIGINT NOT NULL DEFAULT 0,
            res_wall_ms BIGINT NOT NULL DEFAULT 0,
            res_business_ms BIGINT NOT NULL DEFAULT 0,
            res_met BIGINT NOT NULL DEFAULT 0,
            transfers BIGINT NOT NULL DEFAULT 0,
            ping_pongs BIGINT NOT NULL DEFAULT 0,
            survey_count BIGINT NOT NULL DEFAULT 0,
            survey_sum BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (dim, \(period), key)
        );
        """
    }

    static let migrations: [Migration] = [
        Migration(version: 150, name: "time_metrics", sql: """
            CREATE TABLE wf_metric_tickets (
                ticket_id TEXT PRIMARY KEY,
                opened_at BIGINT NOT NULL,
                opened_day INTEGER NOT NULL,
                organization_id TEXT NOT NULL,
                category INTEGER NOT NULL,
                product TEXT NOT NULL,
                module TEXT NOT NULL,
                priority INTEGER NOT NULL,
                plan TEXT NOT NULL,
                group_id TEXT NOT NULL,
                agent_id TEXT NOT NULL,
                access_level INTEGER NOT NULL,
                stage TEXT NOT NULL,
                stage_entered_at BIGINT NOT NULL,
                is_open INTEGER NOT NULL,
                finished_at BIGINT,
                first_response_wall_ms BIGINT,
                first_response_business_ms BIGINT,
                first_response_met INTEGER,
                resolution_wall_ms BIGINT,
                resolution_business_ms BIGINT,
                resolution_met INTEGER,
                transfers INTEGER NOT NULL,
                ping_pongs INTEGER NOT NULL,
                reopens INTEGER NOT NULL,
                survey_score INTEGER
            );
            CREATE INDEX wf_metric_tickets_opened ON wf_metric_tickets (opened_at, ticket_id);
            CREATE TABLE wf_metric_stage_time (
                ticket_id TEXT NOT NULL,
                stage TEXT NOT NULL,
                wall_ms BIGINT NOT NULL,
                business_ms BIGINT NOT NULL,
                entries INTEGER NOT NULL,
                PRIMARY KEY (ticket_id, stage)
            );
            \(counterTable("wf_metric_daily", period: "day"))
            \(counterTable("wf_metric_monthly", period: "month"))
            CREATE TABLE wf_metric_backlog (
                stage TEXT NOT NULL,
                opened_day INTEGER NOT NULL,
                open_count BIGINT NOT NULL,
                PRIMARY KEY (stage, opened_day)
            );
            CREATE TABLE wf_metric_daily_stage (
                day INTEGER NOT NULL,
                stage TEXT NOT NULL,
                exits BIGINT NOT NULL,
                wall_ms BIGINT NOT NULL,
                business_ms BIGINT NOT NULL,
                PRIMARY KEY (day, stage)
            );
            """),
        // Every ticket event adds to the same few rows of the day; on PostgreSQL concurrent
        // transactions queued on their row locks (the end-to-end limit measured in
        // docs/BENCHMARKS-production.md). Each logical row becomes `shardCount` physical rows and
        // an event adds to one chosen at random; every query already sums rows. SQLite has one
        // writer at a time, so it keeps one row (shard 0).
        Migration(version: 151, name: "time_metric_shards", sqlite: """
            ALTER TABLE wf_metric_daily ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE wf_metric_monthly ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE wf_metric_backlog ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE wf_metric_daily_stage ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
            """, postgres: """
            ALTER TABLE wf_metric_daily ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE wf_metric_daily DROP CONSTRAINT wf_metric_daily_pkey;
            ALTER TABLE wf_metric_daily ADD PRIMARY KEY (dim, day, key, shard);
            ALTER TABLE wf_metric_monthly ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE wf_metric_monthly DROP CONSTRAINT wf_metric_monthly_pkey;
            ALTER TABLE wf_metric_monthly ADD PRIMARY KEY (dim, month, key, shard);
            ALTER TABLE wf_metric_backlog ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE wf_metric_backlog DROP CONSTRAINT wf_metric_backlog_pkey;
            ALTER TABLE wf_metric_backlog ADD PRIMARY KEY (stage, opened_day, shard);
            ALTER TABLE wf_metric_daily_stage ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE wf_metric_daily_stage DROP CONSTRAINT wf_metric_daily_stage_pkey;
            ALTER TABLE wf_metric_daily_stage ADD PRIMARY KEY (day, stage, shard);
            """),
    ]

    /// Physical rows per logical counter row on PostgreSQL (see migration 151).
    static let shardCount = 16

    /// The shard an event's counter updates go to, and the conflict columns that name it.
    ///
    /// The shard is the calling **thread's** (a transaction runs on one thread): transactions
    /// running side by side are on different threads, so on different shards, and one
    /// transaction applying several events (a batched delivery) locks one shard's rows, not up
    /// to sixteen — two such transactions on random shards per event waited on each other's rows
    /// and deadlocked. Two transactions on the same shard lock its rows in the same order (every
    /// counter statement's rows in one fixed order) and only wait for each other.
    private func shard(_ tx: any SQLExecutor) -> (value: SQLValue, conflict: String) {
        tx.engine == .postgres ? (.integer(Self.threadShard()), ", shard") : (.integer(0), "")
    }

    /// Threads numbered in the order they first write counters (``threadShard()``).
    private static let threadsSeen = Atomic<Int>(0)
    /// Each thread's shard + 1 (0: none yet), in thread-local storage.
    private static let shardKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create")
        return key
    }()

    /// This thread's shard, stable for the thread's life: the threads take the shards in turn as
    /// they first write counters, so up to ``shardCount`` threads (an RPC server's 16 workers)
    /// each have a shard of their own. (A hash of the thread's identity put two of 8 busy
    /// workers on one shard most of the time, and each then waited for the other's commit:
    /// ≈ 1.4 ms of the counter statement's time per opening at 8 concurrent deliveries.)
    static func threadShard() -> Int64 {
        if let stored = pthread_getspecific(shardKey) { return Int64(Int(bitPattern: stored) - 1) }
        let shard = threadsSeen.add(1, ordering: .relaxed).oldValue % shardCount
        pthread_setspecific(shardKey, UnsafeRawPointer(bitPattern: shard + 1))
        return Int64(shard)
    }

    /// The counters of `wf_metric_daily` an event adds to.
    enum Counter: String, CaseIterable {
        case opened, finished, reopened
        case frCount = "fr_count", frWall = "fr_wall_ms", frBusiness = "fr_business_ms", frMet = "fr_met"
        case resCount = "res_count", resWall = "res_wall_ms", resBusiness = "res_business_ms", resMet = "res_met"
        case transfers, pingPongs = "ping_pongs", surveyCount = "survey_count", surveySum = "survey_sum"
    }

    private static let factColumns = """
        ticket_id, opened_at, opened_day, organization_id, category, product, module, priority, plan, group_id, agent_id, access_level,
        stage, stage_entered_at, is_open, transfers, ping_pongs, reopens
        """
    private static let insertFact = """
        INSERT INTO wf_metric_tickets (\(factColumns))
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, 0, 0) ON CONFLICT (ticket_id) DO NOTHING
        """

    func factParams(_ ticketID: String, _ d: TicketDimensions, stage: String, at: Int64) -> [SQLValue] {
        [.text(ticketID), .integer(at), .integer(Int64(day(at))), .text(d.organizationID), .integer(Int64(d.category)), .text(d.product),
         .text(d.module), .integer(Int64(d.priority)), .text(d.plan), .text(d.groupID), .text(d.agentID), .integer(Int64(d.accessLevel)),
         .text(stage), .integer(at)]
    }

    /// An opening's writes for one guarded statement (PostgreSQL): the fact row — the guard
    /// `fact`, which does nothing for a ticket already reported opened — and the daily, monthly
    /// and backlog counters only when it was inserted (a ticket opened twice counts once).
    /// Add them last: the shared counter rows then stay locked from there to the commit only.
    ///
    /// Inside ``summingCounters(_:_:)``, from the transaction's second opening on, the counters
    /// are not part of the statement: the returned closure, run with the guards that inserted,
    /// adds them to the transaction's sums when the fact row was new (the first opening's stay in
    /// its statement, so a delivery of one opening makes no extra round trip for the sums).
    func openingWrites(_ tx: any SQLExecutor, ticketID: String, _ d: TicketDimensions, stage: String, at: Int64,
                       into statement: inout GuardedWrites) -> ((Set<String>) -> Void)? {
        statement.guardInsert("fact", into: "wf_metric_tickets", columns: Self.factColumns,
                              values: factParams(ticketID, d, stage: stage, at: at) + [.integer(1), .integer(0), .integer(0), .integer(0)],
                              conflict: "ticket_id", returning: "ticket_id")
        // The transaction's first opening keeps its counters in its own statement (a delivery of
        // one opening costs no statement more); the next ones add to the sums.
        if let sums = Self.pendingSums, sums.inlineOpeningWritten {
            return { inserted in
                guard inserted.contains("fact") else { return }
                self.sum(into: sums, at: at, d, [.opened: 1], openedBacklog: (stage, self.day(at)))
            }
        }
        Self.pendingSums?.inlineOpeningWritten = true
        statement.add(counters(tx, at: at, d, [.opened: 1], openedBacklog: (stage, day(at)), onlyIf: "EXISTS (SELECT 1 FROM fact)"))
        return nil
    }

    /// The counter sums of the transaction running on this thread, inside ``summingCounters(_:_:)``.
    @TaskLocal static var pendingSums: CounterSums?

    /// Runs `body` (a transaction's work, e.g. a delivery's event handlers) adding up the metric
    /// counters it changes, then writes the sums in `tx`: each counter row once per transaction
    /// instead of once per event. Nested calls share the outer sums.
    public static func summingCounters(_ tx: any SQLExecutor, _ body: () throws -> Void) throws {
        if pendingSums != nil { return try body() }
        let sums = CounterSums()
        try $pendingSums.withValue(sums) { try body() }
        guard !sums.isEmpty else { return }
        let sharded = tx.engine == .postgres
        var batch = sums.statements(sharded: sharded, shard: .integer(sharded ? threadShard() : 0))
        try batch.run(tx)
    }

    /// Adds `deltas` (and an open ticket in the backlog of `openedBacklog`) to `sums`.
    private func sum(into sums: CounterSums, at: Int64, _ d: TicketDimensions, _ deltas: [Counter: Int64],
                     openedBacklog: (stage: String, openedDay: Int)? = nil, outcome: String? = nil) {
        let local = calendar.localDay(of: at)
        sums.add(Self.keys(d, outcome: outcome), day: Int64(local.dayNumber), month: Int64(local.year * 12 + local.month - 1), deltas)
        if let openedBacklog {
            sums.addBacklog(stage: openedBacklog.stage, openedDay: Int64(openedBacklog.openedDay), 1)
            // An opening: the ticket's cohort row counts it (``CohortCounters``).
            sums.addCohort([(CohortCounters.key(openedDay: Int64(openedBacklog.openedDay), d), [1] + Array(repeating: 0, count: Counter.allCases.count - 1))], [])
        }
    }

    /// Applies `event` of `ticketID` at `at` in the caller's transaction.
    public func onTicketEvent(_ tx: any SQLExecutor, ticketID: String, _ event: MetricsEvent, at: Int64) throws {
        if case .opened(let d, let stage) = event {
            guard tx.engine == .postgres else {
                if try tx.execute(Self.insertFact, factParams(ticketID, d, stage: stage, at: at)) > 0 {
                    try add(tx, at: at, d, [.opened: 1], openedBacklog: (stage, day(at)))
                }
                return
            }
            // One statement: the fact row, and the counters only when it was new.
            var statement = GuardedWrites()
            // Inside a delivery that already wrote an opening, the counters go to its sums.
            let addToSums = openingWrites(tx, ticketID: ticketID, d, stage: stage, at: at, into: &statement)
            let inserted = try statement.run(tx)
            addToSums?(inserted)
            return
        }
        guard let fact = try tx.queryOne("SELECT * FROM wf_metric_tickets WHERE ticket_id = ?", [.text(ticketID)]) else { return }
        let d = try dimensions(fact)
        // The ticket's cohort share before the event; each case changes `after` as it changes the fact row.
        let before = try CohortShare(fact: fact, dimensions: d)
        var after = before
        switch event {
        case .opened:
            return
        case .stageChanged(let stage, let outcome):
            let previous = try fact.text("stage")
            guard previous != stage else { return }
            let entered = try fact.int("stage_entered_at")
            let spent = max(0, at - entered)
            let business = calendar.businessMillis(from: entered, to: at)
            // The stay, its day's sums, the fact row and the cohort rows: independent writes, one
            // statement on PostgreSQL (``WriteBatch``).
            var batch = WriteBatch()
            batch.add("""
                INSERT INTO wf_metric_stage_time (ticket_id, stage, wall_ms, business_ms, entries) VALUES (?, ?, ?, ?, 1)
                ON CONFLICT (ticket_id, stage) DO UPDATE SET wall_ms = wf_metric_stage_time.wall_ms + excluded.wall_ms,
                                                            business_ms = wf_metric_stage_time.business_ms + excluded.business_ms,
                                                            entries = wf_metric_stage_time.entries + 1
                """, [.text(ticketID), .text(previous), .integer(spent), .integer(business)])
            let stageShard = shard(tx)
            batch.add("""
                INSERT INTO wf_metric_daily_stage (day, stage, shard, exits, wall_ms, business_ms) VALUES (?, ?, ?, 1, ?, ?)
                ON CONFLICT (day, stage\(stageShard.conflict)) DO UPDATE SET exits = wf_metric_daily_stage.exits + 1,
                                                       wall_ms = wf_metric_daily_stage.wall_ms + excluded.wall_ms,
                                                       business_ms = wf_metric_daily_stage.business_ms + excluded.business_ms
                """, [.integer(Int64(day(at))), .text(previous), stageShard.value, .integer(spent), .integer(business)])
            let wasOpen = try fact.bool("is_open"), isOpen = !finalStages.contains(stage)
            let reopening = isReopening(from: previous, wasOpen: wasOpen, to: stage)
            // How it ended while finished (migration 194); "" once open again.
            let ended = isOpen ? "" : outcome
            // A reopening withdraws the resolution the ticket had (one per ticket: its last).
            let withdrawn = reopening ? try withdrawResolution(tx, fact, d, from: &after) : false
            batch.add("""
                UPDATE wf_metric_tickets SET stage = ?, stage_entered_at = ?, is_open = ?, finished_at = ?, reopens = reopens + ?, outcome = ?\(
                    withdrawn ? Self.clearResolution : "")
                WHERE ticket_id = ?
                """, [.text(stage), .integer(at), .integer(isOpen ? 1 : 0), isOpen ? .null : .integer(at),
                      .integer(reopening ? 1 : 0), .text(ended), .text(ticketID)])
            after.isOpen = isOpen
            after.outcome = ended
            if reopening { after.reopens += 1 }
            try cohortChange(tx, ticketID: ticketID, from: before, to: after, stay: (previous, spent, business), into: &batch)
            try batch.run(tx)
            let openedDay = Int(try fact.int("opened_day"))
            if wasOpen { try backlog(tx, stage: previous, openedDay: openedDay, delta: -1) }
            if isOpen { try backlog(tx, stage: stage, openedDay: openedDay, delta: 1) }
            // A finishing also counts under its outcome (dimension `outcome`, the report's by_outcome).
            if wasOpen && !isOpen { try add(tx, at: at, d, [.finished: 1], outcome: ended) }
            if reopening { try add(tx, at: at, d, [.reopened: 1]) }
        case .firstResponse(let wall, let business, let met):
            guard fact["first_response_wall_ms"].isNull else { return }
            after.firstResponse = (wall, business, met ? 1 : 0)
            try factUpdate(tx, ticketID: ticketID, """
                UPDATE wf_metric_tickets SET first_response_wall_ms = ?, first_response_business_ms = ?, first_response_met = ? WHERE ticket_id = ?
                """, [.integer(wall), .integer(business), .integer(met ? 1 : 0), .text(ticketID)], from: before, to: after)
            try add(tx, at: at, d, [.frCount: 1, .frWall: wall, .frBusiness: business, .frMet: met ? 1 : 0])
        case .resolved(let wall, let business, let met):
            // One resolution per ticket, its last, counted on the day of the finish that recorded
            // it: a reopening withdraws it, and one still held (legacy rows, a move between final
            // stages) is withdrawn here before the new one counts.
            _ = try withdrawResolution(tx, fact, d, from: &after)
            after.resolution = (wall, business, met ? 1 : 0)
            try factUpdate(tx, ticketID: ticketID, """
                UPDATE wf_metric_tickets SET resolution_wall_ms = ?, resolution_business_ms = ?, resolution_met = ?, resolved_at = ?,
                    resolved_category = ?, resolved_product = ?, resolved_module = ?, resolved_group = ?
                WHERE ticket_id = ?
                """, [.integer(wall), .integer(business), .integer(met ? 1 : 0), .integer(at),
                      .integer(Int64(d.category)), .text(d.product), .text(d.module), .text(d.groupID), .text(ticketID)],
                from: before, to: after)
            try add(tx, at: at, d, [.resCount: 1, .resWall: wall, .resBusiness: business, .resMet: met ? 1 : 0])
        case .transferred(let pingPong, let group, let agent):
            after.transfers += 1
            after.pingPongs += pingPong ? 1 : 0
            after.dimensions.groupID = group
            after.dimensions.agentID = agent
            try factUpdate(tx, ticketID: ticketID, """
                UPDATE wf_metric_tickets SET transfers = transfers + 1, ping_pongs = ping_pongs + ?, group_id = ?, agent_id = ? WHERE ticket_id = ?
                """, [.integer(pingPong ? 1 : 0), .text(group), .text(agent), .text(ticketID)], from: before, to: after)
            try add(tx, at: at, d, [.transfers: 1, .pingPongs: pingPong ? 1 : 0])
        case .reclassified(let new):
            after.dimensions = new
            try factUpdate(tx, ticketID: ticketID, """
                UPDATE wf_metric_tickets SET organization_id = ?, category = ?, product = ?, module = ?, priority = ?, plan = ?,
                    group_id = ?, agent_id = ?, access_level = ? WHERE ticket_id = ?
                """, [.text(new.organizationID), .integer(Int64(new.category)), .text(new.product), .text(new.module),
                      .integer(Int64(new.priority)), .text(new.plan), .text(new.groupID), .text(new.agentID),
                      .integer(Int64(new.accessLevel)), .text(ticketID)], from: before, to: after)
            // Volume follows the classification: the opening moves to the new category/product/module.
            if (d.category, d.product, d.module, d.groupID) != (new.category, new.product, new.module, new.groupID) {
                let openedAt = try fact.int("opened_at")
                try add(tx, at: openedAt, d, [.opened: -1])
                try add(tx, at: openedAt, new, [.opened: 1])
            }
        case .surveyAnswered(let score):
            guard fact["survey_score"].isNull else { return }
            after.survey = Int64(score)
            try factUpdate(tx, ticketID: ticketID, "UPDATE wf_metric_tickets SET survey_score = ? WHERE ticket_id = ?", [.integer(Int64(score)), .text(ticketID)],
                           from: before, to: after)
            try add(tx, at: at, d, [.surveyCount: 1, .surveySum: Int64(score)])
        }
    }

    /// The assignments that clear a fact row's resolution (with ``withdrawResolution(_:_:_:from:)``).
    private static let clearResolution = """
        , resolution_wall_ms = NULL, resolution_business_ms = NULL, resolution_met = NULL, resolved_at = NULL, \
        resolved_category = NULL, resolved_product = NULL, resolved_module = NULL, resolved_group = NULL
        """

    /// Takes the resolution `fact` holds out of the rollups of the day it was counted on
    /// (`resolved_at`, migration 199), under the dimensions it was counted under (migration 202:
    /// a finished ticket may have been reclassified since; rows without them, the ticket's current
    /// `d`), and out of `share` (the cohort counters follow). A resolution counted before
    /// migration 199 on a ticket then open has no day and stays.
    /// - Returns: whether the fact row's resolution columns must be cleared (the caller's UPDATE).
    private func withdrawResolution(_ tx: any SQLExecutor, _ fact: Row, _ d: TicketDimensions, from share: inout CohortShare) throws -> Bool {
        guard case .integer(let resolvedAt) = fact["resolved_at"], let resolution = share.resolution else { return false }
        var counted = d
        if let category = try fact.optionalInt("resolved_category") {
            counted.category = Int32(category)
            (counted.product, counted.module, counted.groupID) = (try fact.text("resolved_product"), try fact.text("resolved_module"),
                                                                  try fact.text("resolved_group"))
        }
        try add(tx, at: resolvedAt, counted, [.resCount: -1, .resWall: -resolution.wall, .resBusiness: -resolution.business,
                                              .resMet: -resolution.met])
        share.resolution = nil
        return true
    }

    /// The local day number (days since 1970-01-01 in the calendar's zone) of `instant`.
    public func day(_ instant: Int64) -> Int { calendar.localDay(of: instant).dayNumber }

    private func dimensions(_ row: Row) throws -> TicketDimensions {
        TicketDimensions(organizationID: try row.text("organization_id"), category: Int32(try row.int("category")),
                         product: try row.text("product"), module: try row.text("module"), priority: Int32(try row.int("priority")),
                         plan: try row.text("plan"), groupID: try row.text("group_id"), agentID: try row.text("agent_id"),
                         accessLevel: Int32(try row.int("access_level")))
    }

    private func backlog(_ tx: any SQLExecutor, stage: String, openedDay: Int, delta: Int64) throws {
        // A shard may go below zero (a ticket counted in one shard, uncounted in another); only
        // the sum over shards is meaningful, so only rows at exactly zero are removed.
        let backlogShard = shard(tx)
        try tx.execute("""
            INSERT INTO wf_metric_backlog (stage, opened_day, shard, open_count) VALUES (?, ?, ?, ?)
            ON CONFLICT (stage, opened_day\(backlogShard.conflict)) DO UPDATE SET open_count = wf_metric_backlog.open_count + excluded.open_count
            """, [.text(stage), .integer(Int64(openedDay)), backlogShard.value, .integer(delta)])
        if delta < 0 {
            try tx.execute("DELETE FROM wf_metric_backlog WHERE stage = ? AND opened_day = ? AND shard = ? AND open_count = 0",
                           [.text(stage), .integer(Int64(openedDay)), backlogShard.value])
        }
    }

    /// Adds `deltas` to the daily and monthly rows of `d`'s dimensions (and, with
    /// `openedBacklog`, one open ticket to the backlog of that stage and opening day): on
    /// PostgreSQL in one statement (data-modifying CTEs), on SQLite one per table; into the
    /// pending sums instead when the caller collects them.
    /// Counts a new ticket opened at `at` in `stage`: the opened counters and the backlog.
    func addOpened(_ tx: any SQLExecutor, at: Int64, _ d: TicketDimensions, stage: String) throws {
        try add(tx, at: at, d, [.opened: 1], openedBacklog: (stage, day(at)))
    }

    /// With `outcome` (a finishing), the deltas also go to that outcome's row of dimension `outcome`.
    private func add(_ tx: any SQLExecutor, at: Int64, _ d: TicketDimensions, _ deltas: [Counter: Int64],
                     openedBacklog: (stage: String, openedDay: Int)? = nil, outcome: String? = nil) throws {
        if let sums = Self.pendingSums { return sum(into: sums, at: at, d, deltas, openedBacklog: openedBacklog, outcome: outcome) }
        var batch = counters(tx, at: at, d, deltas, openedBacklog: openedBacklog, outcome: outcome)
        try batch.run(tx)
    }

    /// The upserts of ``add(_:at:_:_:openedBacklog:)``. With `onlyIf` (PostgreSQL: an SQL
    /// condition, e.g. on a CTE of the same statement) each upsert inserts its rows only when the
    /// condition holds.
    private func counters(_ tx: any SQLExecutor, at: Int64, _ d: TicketDimensions, _ deltas: [Counter: Int64],
                          openedBacklog: (stage: String, openedDay: Int)? = nil, onlyIf condition: String? = nil,
                          outcome: String? = nil) -> WriteBatch {
        let counters = Counter.allCases.filter { deltas[$0] != nil }
        let keys = Self.keys(d, outcome: outcome)
        let sql = Self.counterSQL(CounterShape(counters: counters.map(\.rawValue), rows: keys.count, backlog: openedBacklog != nil,
                                               condition: condition, sharded: tx.engine == .postgres))
        let values: [SQLValue] = counters.map { .integer(deltas[$0]!) }
        let local = calendar.localDay(of: at)
        let periods: [SQLValue] = [.integer(Int64(local.dayNumber)), .integer(Int64(local.year * 12 + local.month - 1))]
        // One INSERT per period for all the dimensions' rows (they are distinct keys).
        let counterShard = shard(tx)
        var batch = WriteBatch()
        for (index, period) in periods.enumerated() {
            var params: [SQLValue] = []
            params.reserveCapacity(keys.count * (4 + values.count))
            for (dim, key) in keys {
                params += [.text(dim), period, .text(key), counterShard.value] + values
            }
            batch.add(sql[index], params)
        }
        if let openedBacklog {
            batch.add(sql[2], [.text(openedBacklog.stage), .integer(Int64(openedBacklog.openedDay)), counterShard.value, .integer(1)])
            // An opening: the ticket's cohort row counts it (``CohortCounters``).
            batch.add(sql[3], CohortCounters.key(openedDay: Int64(openedBacklog.openedDay), d).values + [counterShard.value, .integer(1)])
        }
        return batch
    }

    /// What the text of ``counters(_:at:_:_:openedBacklog:onlyIf:)``'s statements depends on.
    struct CounterShape: Hashable {
        var counters: [String]
        var rows: Int
        var backlog: Bool
        var condition: String?
        var sharded: Bool
    }

    /// Statement texts by shape (a handful), built once: daily, monthly, then the backlog's and
    /// the cohort's opening (``CohortCounters``).
    private static let counterStatements = Mutex<[CounterShape: [String]]>([:])

    static func counterSQL(_ shape: CounterShape) -> [String] {
        if let known = counterStatements.withLock({ $0[shape] }) { return known }
        let columns = shape.counters.joined(separator: ", ")
        let conflictShard = shape.sharded ? ", shard" : ""
        // Typed placeholders when the rows go through a SELECT (its VALUES would make them text).
        let text = shape.condition == nil ? "?" : "CAST(? AS TEXT)", number = shape.condition == nil ? "?" : "CAST(? AS BIGINT)"
        func rows(_ row: String, _ count: Int) -> String {
            let values = Array(repeating: "(\(row))", count: count).joined(separator: ", ")
            guard let condition = shape.condition else { return "VALUES \(values)" }
            return "SELECT * FROM (VALUES \(values)) AS v WHERE \(condition)"
        }
        let placeholders = shape.counters.map { _ in number }.joined(separator: ", ")
        func updates(_ table: String) -> String {
            shape.counters.map { "\($0) = \(table).\($0) + excluded.\($0)" }.joined(separator: ", ")
        }
        var statements = [("wf_metric_daily", "day"), ("wf_metric_monthly", "month")].map { table, column in
            """
            INSERT INTO \(table) (dim, \(column), key, shard, \(columns))
            \(rows("\(text), \(number), \(text), \(number), \(placeholders)", shape.rows))
            ON CONFLICT (dim, \(column), key\(conflictShard)) DO UPDATE SET \(updates(table))
            """
        }
        if shape.backlog {
            statements.append("""
                INSERT INTO wf_metric_backlog (stage, opened_day, shard, open_count) \(rows("\(text), \(number), \(number), \(number)", 1))
                ON CONFLICT (stage, opened_day\(conflictShard)) DO UPDATE SET open_count = wf_metric_backlog.open_count + excluded.open_count
                """)
            statements.append(CohortCounters.openingSQL(condition: shape.condition))
        }
        counterStatements.withLock { $0[shape] = statements }
        return statements
    }

    /// The rows of `wf_metric_daily` a ticket with `d` adds to; a finishing (`outcome` given) also
    /// adds to its outcome's row of dimension `outcome` (migration 194), which only finishings
    /// write (its `finished` sums are the report's by_outcome).
    static func keys(_ d: TicketDimensions, outcome: String? = nil) -> [(String, String)] {
        let keys = [("all", ""), ("category", String(d.category)), ("product", d.product), ("module", d.module), ("group", d.groupID)]
        guard let outcome else { return keys }
        return keys + [("outcome", outcome)]
    }
}
