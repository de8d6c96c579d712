import Foundation
@testable import Storage
import Testing
import TestSupport

/// `Outbox.stats` (what `Stats/Outbox` and the gateway's `/metrics` report) and the relay's lag:
/// right figures across destinations, and a cost bounded whatever the backlog.
@Suite("Outbox: the metrics' figures")
struct OutboxStatsTests {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Rows of a destination, `count` of them over `keys` keys, created `age` ago.
    static func events(_ destination: String, _ count: Int, keys: Int, age: TimeInterval) -> [OutboxEvent] {
        let created = Date(timeIntervalSinceNow: -age)
        return (0..<count).map { OutboxEvent(type: "t", key: "\(destination)|T\($0 % keys)", payload: [1], createdAt: created) }
    }

    @Test("a backlog across destinations with one resting: exact counts below the limit, at least the limit above it, oldest per destination",
          arguments: TestEngines.all)
    func figuresAcrossDestinations(engine: DatabaseEngine) throws {
        struct Unreachable: Error {}
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        #expect(try db.read { try Outbox.stats($0) } == .empty())
        // The resting destination's backlog first, then live destinations' rows and a key that
        // names no destination (its own).
        try db.write { tx in
            try Outbox.enqueue(tx, Self.events("notification", 300, keys: 7, age: 60))
            try Outbox.enqueue(tx, Self.events("workflow", 20, keys: 3, age: 10))
            try Outbox.enqueue(tx, Self.events("gateway", 5, keys: 2, age: 5))
            try Outbox.enqueue(tx, [OutboxEvent(type: "t", key: "solo", payload: [1], createdAt: Date(timeIntervalSinceNow: -1)),
                                    OutboxEvent(type: "t", key: "solo", payload: [1])])
        }
        let before = try db.read { try Outbox.stats($0) }
        #expect(before.pending == 327 && before.pendingIsExact && before.retrying == 0 && before.destinationsComplete)
        #expect(before.destinations.map(\.name) == ["gateway", "notification", "solo", "workflow"])
        #expect(before.destinations.map(\.pending) == [5, 300, 2, 20])
        let oldest = try #require(before.oldestCreatedAt)
        #expect(abs(oldest - (Self.now() - 60_000)) < 2_000, "the backlog's first row")
        let ages = before.destinations.map { (Self.now() - $0.oldestCreatedAt + 500) / 1_000 }
        #expect(ages == [5, 60, 1, 10], "each destination's oldest row")

        // notification is down: the relay delivers the others and notification rests.
        let relay = OutboxRelay(database: db, name: "stats",
                                configuration: RelayConfiguration(batchSize: 50, deliveryConcurrency: 1, unreachableBackoffMax: .seconds(30),
                                                                  isUnreachable: { $0 is Unreachable })) { event in
            if event.key.hasPrefix("notification|") { throw Unreachable() }
        }
        #expect(try relay.runOnce() == 0, "the backlog's first call fails: notification rests")
        while try relay.runOnce() > 0 {}
        let resting = try db.read { try Outbox.stats($0) }
        let failed = try db.read { tx in Int(try tx.queryOne("SELECT COUNT(*) AS n FROM storage_outbox WHERE attempts > 0")?.int("n") ?? 0) }
        #expect(failed > 0, "the resting destination's failed rows")
        #expect(resting.pending == 300 && resting.retrying == failed && resting.pendingIsExact && resting.retryingIsExact)
        #expect(resting.destinations.map(\.name) == ["notification"] && resting.destinations.first?.pending == 300)
        #expect(resting.oldestCreatedAt == oldest)
        #expect(try relay.lag() >= .seconds(59) && relay.lag() < .seconds(70), "the relay's lag is the oldest row's age")

        // Counting stops at the limit: "at least" that many.
        let capped = try db.read { try Outbox.stats($0, countLimit: 100) }
        #expect(capped.pending == 100 && !capped.pendingIsExact && capped.destinations.first?.pending == 100)
        #expect(capped.retrying == min(failed, 100) && capped.oldestCreatedAt == oldest)

        // Drained: nothing left, no lag.
        try db.write { tx in _ = try tx.execute("DELETE FROM storage_outbox", []) }
        #expect(try db.read { try Outbox.stats($0) } == .empty())
        #expect(try relay.lag() == .zero)
    }

    @Test("keys that name no destination of their own: at most destinationLimit destinations are listed, and the list says it is partial",
          arguments: TestEngines.all)
    func destinationsAreBounded(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        let count = Outbox.destinationLimit + 8
        try db.write { tx in try Outbox.enqueue(tx, (0..<count).map { OutboxEvent(type: "t", key: String(format: "k%03d", $0), payload: [1]) }) }
        let stats = try db.read { try Outbox.stats($0) }
        #expect(stats.pending == count && !stats.destinationsComplete)
        #expect(stats.destinations.map(\.name) == (0..<Outbox.destinationLimit).map { String(format: "k%03d", $0) })
    }

    /// Every statement a scrape runs (``Outbox/stats(_:countLimit:)``, ``OutboxRelay/lag()``), with parameters.
    static func scrapeStatements(_ engine: DatabaseEngine, limit: Int) -> [(sql: String, params: [SQLValue])] {
        [
            (Outbox.totalsSQL(limit: limit), []),
            (OutboxRelay.destinationsSQL(engine, limit: Outbox.destinationLimit + 1), []),
            (Outbox.destinationStatsSQL(engine, count: 2, limit: limit), ["notification", "notification", "notification",
                                                                           "workflow", "workflow", "workflow"]),
            ("SELECT created_at FROM storage_outbox ORDER BY seq LIMIT 1", []),
        ]
    }

    /// A backlog of `resting` notification rows (ten of them failed once) and 30 workflow rows behind it.
    static func backlog(_ db: any Database, resting: Int) throws {
        try db.write { tx in
            try Outbox.enqueue(tx, Self.events("notification", resting, keys: 40, age: 60))
            try Outbox.enqueue(tx, Self.events("workflow", 30, keys: 3, age: 1))
            try tx.execute("UPDATE storage_outbox SET attempts = 1 WHERE seq IN (SELECT seq FROM storage_outbox ORDER BY seq LIMIT 10)", [])
        }
    }

    @Test("a scrape reads the indexes, not the table: no sequential scan, each figure from its index", arguments: TestEngines.all)
    func scrapeReadsTheIndexes(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try Self.backlog(db, resting: 3_000)
        let plans = try Self.scrapeStatements(engine, limit: 1_000).map { try OutboxPlans.plan(db, engine, $0.sql, $0.params) }
        for plan in plans {
            #expect(!plan.contains("Seq Scan"), "\(plan)")
            // SQLite: a scan in rowid (seq) order shows as `SCAN storage_outbox`; that it stops at
            // the LIMIT is pinned by `scrapeCostIsBounded`. No other full scan, no sort.
            #expect(!plan.contains("TEMP B-TREE") && !plan.contains("Sort"), "\(plan)")
        }
        #expect(plans[0].contains("storage_outbox_retrying"), "failed rows from migration 12's partial index\n\(plans[0])")
        #expect(plans[1].contains("storage_outbox_destination_seq") && plans[2].contains("storage_outbox_destination_seq"),
                "destinations from migration 11's index\n\(plans[1])\n\(plans[2])")
    }

    /// The work one run of `sql` does: SQLite's virtual-machine steps, PostgreSQL's buffers
    /// touched (shared hit + read of the plan's top node, `EXPLAIN (ANALYZE, BUFFERS)`).
    static func work(_ db: any Database, _ engine: DatabaseEngine, _ sql: String, _ params: [SQLValue]) throws -> Int {
        if engine == .sqlite {
            return try db.read { tx in try #require(tx as? SQLiteConnection).virtualMachineSteps(sql, params) }
        }
        let lines = try db.read { tx in
            try tx.query("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) " + sql, params).map { try $0.text("QUERY PLAN") }
        }
        // Every node's buffers (a node's include its children's: a sum that grows with the work),
        // not the planner's.
        let execution = lines.prefix { !$0.hasPrefix("Planning") }.filter { $0.contains("Buffers:") }
        return execution.reduce(0) { total, line in
            ["hit=", "read="].reduce(total) { sum, label in
                guard let range = line.range(of: label) else { return sum }
                return sum + (Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0)
            }
        }
    }

    @Test("a scrape's work does not grow with the backlog (counting stops at the limit)", arguments: TestEngines.all)
    func scrapeCostIsBounded(engine: DatabaseEngine) throws {
        var costs: [[Int]] = []
        for resting in [3_000, 30_000] {
            // A database each: no dead rows of the smaller backlog in front of the larger one.
            let db = try ScratchDatabase(engine).open()
            defer { db.close() }
            try Self.backlog(db, resting: resting)
            if engine == .postgres { try db.write { tx in _ = try tx.execute("ANALYZE storage_outbox", []) } }
            costs.append(try Self.scrapeStatements(engine, limit: 1_000).map { try Self.work(db, engine, $0.sql, $0.params) })
            let stats = try db.read { try Outbox.stats($0, countLimit: 1_000) }
            #expect(stats.pending == 1_000 && !stats.pendingIsExact && stats.retrying == 10)
        }
        for (index, (small, large)) in zip(costs[0], costs[1]).enumerated() {
            // Ten times the rows: the same work, give or take an index level.
            #expect(large <= small + small / 4 + 8, "statement \(index): \(small) at 3,000 rows, \(large) at 30,000: \(Self.scrapeStatements(engine, limit: 1_000)[index].sql)")
        }
    }

    /// Rows PostgreSQL read from the outbox so far in the current transaction (heap rows fetched
    /// through indexes and read by sequential scans).
    static func rowsRead(_ tx: any SQLExecutor) throws -> Int {
        Int(try tx.queryOne("""
            SELECT COALESCE(idx_tup_fetch, 0) + COALESCE(seq_tup_read, 0) AS n FROM pg_stat_xact_user_tables WHERE relname = 'storage_outbox'
            """)?.int("n") ?? 0)
    }

    @Test("after many calls (when PostgreSQL would switch to a generic plan) a live destination's lag and figures read its own rows, not the resting backlog",
          arguments: TestEngines.all)
    func plannedForTheDestination(engine: DatabaseEngine) throws {
        // One connection, so that every call reuses its prepared statements.
        let db = try ScratchDatabase(engine, poolSize: 1).open()
        defer { db.close() }
        // 100,000 resting rows (from about this size on the generic plan walks the primary key), one live row behind.
        try db.write { tx in
            if engine == .postgres {
                try tx.execute("""
                    INSERT INTO storage_outbox (event_id, event_type, event_key, payload, created_at)
                    SELECT 'r' || i, 't', 'notification|T' || (i % 40), '\\x01'::bytea, i FROM generate_series(1, 100000) AS i
                    """, [])
            } else {
                try tx.execute("""
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
                    INSERT INTO storage_outbox (event_id, event_type, event_key, payload, created_at)
                    SELECT 'r' || i, 't', 'notification|T' || (i % 40), X'01', i FROM n
                    """, [])
            }
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "gateway|T1", payload: [1]))
        }
        if engine == .postgres { try db.write { tx in _ = try tx.execute("ANALYZE storage_outbox", []) } }
        for _ in 0..<8 {
            #expect(try db.read { try Outbox.oldestCreatedAt($0, destination: "notification") } == 1)
            #expect(try db.read { try Outbox.stats($0, countLimit: 100) }.destinations.map(\.pending) == [1, 100])
        }
        // Counted from within the transaction: the view also holds counts not yet reported.
        func reading<T>(_ body: (any SQLExecutor) throws -> T) throws -> (T, Int) {
            try db.read { tx in
                let before = engine == .postgres ? try Self.rowsRead(tx) : 0
                let result = try body(tx)
                return (result, engine == .postgres ? try Self.rowsRead(tx) - before : 0)
            }
        }
        let lag = try reading { try Outbox.oldestCreatedAt($0, destination: "gateway") }
        #expect(lag.0 != nil && lag.1 < 10_000, "rows read for the live destination's lag (the backlog: 100,000): \(lag.1)")
        let stats = try reading { try Outbox.stats($0, countLimit: 100) }
        #expect(stats.0.destinations.map(\.name) == ["gateway", "notification"] && stats.1 < 10_000, "rows read for the scrape (the backlog: 100,000): \(stats.1)")
    }
}
