/// What waits in an outbox, as the metrics report it (``Outbox/stats(_:countLimit:)``): read with
/// a bounded number of index probes and rows, whatever the backlog.
///
/// Counts stop at ``countLimit``: below it they are exact, at it they mean "at least that many"
/// (``pendingIsExact``). The oldest event is the first enqueued one still waiting (lowest `seq`),
/// whose creation time is the earliest up to the time between creating an event and enqueueing it.
public struct OutboxStats: Sendable, Hashable {
    /// Undelivered rows (one per subscriber of each event), counted up to ``countLimit``.
    public var pending: Int
    /// Undelivered rows that failed at least once (`attempts > 0`), counted up to ``countLimit``.
    public var retrying: Int
    /// The creation time (epoch milliseconds) of the oldest undelivered event, nil when empty.
    public var oldestCreatedAt: Int64?
    /// Each destination with undelivered rows (the part of the key before the first `|`, or the
    /// whole key), by name, at most ``Outbox/destinationLimit`` of them.
    public var destinations: [Destination]
    /// Whether ``destinations`` names every destination present (false: there were more than
    /// ``Outbox/destinationLimit``, the first ones by name are listed).
    public var destinationsComplete: Bool
    /// Where counting stopped.
    public var countLimit: Int

    /// Whether ``pending`` is the exact number (false: at least that many).
    public var pendingIsExact: Bool { pending < countLimit }
    /// Whether ``retrying`` is the exact number (false: at least that many).
    public var retryingIsExact: Bool { retrying < countLimit }

    /// One destination's undelivered rows.
    public struct Destination: Sendable, Hashable {
        /// The destination (a subscriber's name in ServiceKit's keys).
        public var name: String
        /// Its undelivered rows, counted up to the stats' ``OutboxStats/countLimit``.
        public var pending: Int
        /// The creation time (epoch milliseconds) of its oldest undelivered event.
        public var oldestCreatedAt: Int64

        public init(name: String, pending: Int, oldestCreatedAt: Int64) {
            self.name = name
            self.pending = pending
            self.oldestCreatedAt = oldestCreatedAt
        }
    }

    /// An empty outbox's figures.
    public static func empty(countLimit: Int = Outbox.countLimit) -> OutboxStats {
        OutboxStats(pending: 0, retrying: 0, oldestCreatedAt: nil, destinations: [], destinationsComplete: true, countLimit: countLimit)
    }

    public init(pending: Int, retrying: Int, oldestCreatedAt: Int64?, destinations: [Destination], destinationsComplete: Bool, countLimit: Int) {
        self.pending = pending
        self.retrying = retrying
        self.oldestCreatedAt = oldestCreatedAt
        self.destinations = destinations
        self.destinationsComplete = destinationsComplete
        self.countLimit = countLimit
    }
}

extension Outbox {
    /// Where ``stats(_:countLimit:)`` stops counting by default: reading 10,000 index entries
    /// takes a few milliseconds on either engine (docs/STORAGE.md, "What the outbox's metrics cost").
    public static let countLimit = 10_000
    /// The most destinations ``stats(_:countLimit:)`` lists (one index probe each to find them).
    public static let destinationLimit = 32

    /// What waits in the outbox, for metrics: every figure is read through an index, with at most
    /// `countLimit` rows counted per figure (so at most `countLimit × (2 + destinations)` index
    /// entries read, and a few probes), instead of the whole table. Two round trips on PostgreSQL,
    /// whose plans are made for the values asked (``planForValues(_:)``, for the rest of the
    /// caller's transaction).
    ///
    /// Until 2026-12-02 this was `COUNT(*)`, `MIN(created_at)` and a `SUM` over the whole table:
    /// during a subscriber's outage a scrape read the whole backlog (and on SQLite held a read
    /// snapshot meanwhile, which keeps the WAL from being checkpointed past it).
    public static func stats(_ executor: any SQLExecutor, countLimit: Int = countLimit) throws -> OutboxStats {
        let limit = max(1, countLimit)
        try planForValues(executor)
        let totals = try executor.queryPipelined([
            (totalsSQL(limit: limit), []),
            (OutboxRelay.destinationsSQL(executor.engine, limit: destinationLimit + 1), []),
        ])
        guard let row = totals[0].first else { return .empty(countLimit: limit) }
        let names = try totals[1].map { try $0.text("name") }
        let listed = Array(names.prefix(destinationLimit))
        var destinations: [OutboxStats.Destination] = []
        if !listed.isEmpty {
            let rows = try executor.query(destinationStatsSQL(executor.engine, count: listed.count, limit: limit),
                                          listed.flatMap { [SQLValue.text($0), .text($0), .text($0)] })
            // Rows enqueued for a destination between the two statements (PostgreSQL: another
            // snapshot) are counted; one whose rows were all delivered meanwhile is left out.
            destinations = try rows.compactMap { row in
                guard let oldest = try row.optionalInt("oldest") else { return nil }
                return OutboxStats.Destination(name: try row.text("name"), pending: Int(try row.int("pending")), oldestCreatedAt: oldest)
            }.sorted { $0.name < $1.name }
        }
        return OutboxStats(pending: Int(try row.int("pending")), retrying: Int(try row.int("retrying")),
                           oldestCreatedAt: try row.optionalInt("oldest"), destinations: destinations,
                           destinationsComplete: names.count <= destinationLimit, countLimit: limit)
    }

    /// The creation time (epoch milliseconds) of the oldest undelivered event (the first enqueued,
    /// lowest `seq`; one probe of the primary key), nil when the outbox is empty.
    public static func oldestCreatedAt(_ executor: any SQLExecutor) throws -> Int64? {
        try executor.queryOne("SELECT created_at FROM storage_outbox ORDER BY seq LIMIT 1")?.int("created_at")
    }

    /// The whole outbox's figures: rows counted in `seq` order up to `limit` (the primary key),
    /// failed rows up to `limit` (storage migration 12's partial index, which holds only them),
    /// and the first row's creation time (one probe). The limit is written in the statement, not
    /// bound: PostgreSQL's generic plan of a bound `LIMIT` assumes a tenth of the table.
    static func totalsSQL(limit: Int) -> String {
        """
        SELECT (SELECT COUNT(*) FROM (SELECT seq FROM storage_outbox ORDER BY seq LIMIT \(limit)) AS waiting) AS pending,
               (SELECT COUNT(*) FROM (SELECT seq FROM storage_outbox WHERE attempts > 0 ORDER BY seq LIMIT \(limit)) AS failed) AS retrying,
               (SELECT created_at FROM storage_outbox ORDER BY seq LIMIT 1) AS oldest
        """
    }

    /// For each of `count` destinations (parameters, for each: the name three times): its rows
    /// counted up to `limit` and its first row's creation time, through storage migration 11's
    /// index (destination, seq). Run after ``Outbox/planForValues(_:)``: PostgreSQL's generic
    /// plan of it walked the primary key past a resting backlog to count a live destination's rows.
    static func destinationStatsSQL(_ engine: DatabaseEngine, count: Int, limit: Int) -> String {
        let destination = OutboxRelay.destinationExpression(engine)
        let one = """
            SELECT CAST(? AS TEXT) AS name,
                   (SELECT COUNT(*) FROM (SELECT seq FROM storage_outbox WHERE \(destination) = ?
                                          ORDER BY seq LIMIT \(limit)) AS waiting) AS pending,
                   (SELECT created_at FROM storage_outbox WHERE \(destination) = ? ORDER BY seq LIMIT 1) AS oldest
            """
        return Array(repeating: one, count: count).joined(separator: " UNION ALL ")
    }
}
