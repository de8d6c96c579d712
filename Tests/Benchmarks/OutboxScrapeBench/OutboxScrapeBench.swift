import CSQLite
import Foundation
import Storage
import TestSupport

/// Builds the backlog and times the scrape's reads (see `main.swift`).
struct OutboxScrapeBench {
    let sizes: [Int]
    let engines: [DatabaseEngine]
    let runs: Int

    /// The resting destination (its backlog is the front of the outbox) and the live ones.
    static let resting = "notification"
    static let live = ["workflow", "gateway", "knowledge"]
    /// Rows of each live destination waiting behind the backlog (a round's worth).
    static let liveRows = 150
    /// Rows of the resting destination that failed at least once (its keys' heads).
    static let retryingRows = 40
    /// Bytes of each row's payload (a ticket event's order of size).
    static let payloadBytes = 300

    init(arguments: [String]) {
        func option(_ name: String) -> String? {
            arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        sizes = (option("--rows") ?? "1000000,5000000").split(separator: ",").compactMap { Int($0) }.sorted()
        engines = switch option("--engine") ?? "both" {
        case "sqlite": [.sqlite]
        case "postgres": [.postgres]
        default: [.sqlite, .postgres]
        }
        runs = max(1, option("--runs").flatMap(Int.init) ?? 5)
    }

    func run() throws {
        print("outbox-scrape-bench: backlog sizes \(sizes), \(runs) runs each; \(Self.resting) resting, \(Self.live) live (\(Self.liveRows) rows each)")
        for engine in engines {
            let scratch = try ScratchDatabase(engine, poolSize: 2)
            let db = try scratch.open()
            defer { db.close() }
            var loaded = 0
            for size in sizes {
                let started = ContinuousClock.now
                try grow(db, engine, from: loaded, to: size - Self.liveRows * Self.live.count)
                loaded = size - Self.liveRows * Self.live.count
                try refreshLive(db, engine)
                try settle(db, scratch)
                let total = try db.read { try Outbox.pendingCount($0) }
                print("\n\(engine) backlog \(total) rows (loaded in \(Self.seconds(ContinuousClock.now - started)) s); load average \(Self.loadAverage())")
                for measurement in Self.measurements(db) {
                    var times: [Double] = []
                    var answer = ""
                    for _ in 0..<runs {
                        let start = ContinuousClock.now
                        answer = try measurement.body()
                        times.append(Self.milliseconds(ContinuousClock.now - start))
                    }
                    let sorted = times.sorted()
                    print(String(format: "  %-46@ first %9.2f ms  median %9.2f ms  max %9.2f ms   → %@",
                                 measurement.name as NSString, times[0], sorted[sorted.count / 2], sorted.last!, answer as NSString))
                }
                try claimRounds(db)
            }
        }
    }

    /// The reads timed: what `/metrics` asks each service (`Stats/Outbox` → `Outbox.stats`), the
    /// relay's metric accessors, and the watch streams' per-subscriber lag (each batch, for comparison).
    static func measurements(_ db: any Database) -> [(name: String, body: () throws -> String)] {
        let relay = OutboxRelay(database: db, name: "bench") { _ in }
        var list: [(name: String, body: () throws -> String)] = [
            ("Outbox.stats (Stats/Outbox, /metrics)", {
                let stats = try db.read { try Outbox.stats($0) }
                let destinations = stats.destinations.map { "\($0.name) \($0.pending)" }.joined(separator: ", ")
                return "pending \(stats.pendingIsExact ? "" : "≥ ")\(stats.pending), retrying \(stats.retrying), "
                    + "oldest \(stats.oldestCreatedAt.map { "\(Self.nowMillis() - $0) ms ago" } ?? "none"); \(destinations)"
            }),
            ("OutboxRelay.lag()", { "\(try relay.lag())" }),
            ("OutboxRelay.pending()", { "\(try relay.pending())" }),
        ]
        for destination in [resting] + live {
            list.append(("Outbox.oldestCreatedAt(\(destination))", {
                "\(try db.read { try Outbox.oldestCreatedAt($0, destination: destination) }.map { "\(Self.nowMillis() - $0) ms ago" } ?? "none")"
            }))
        }
        return list
    }

    /// The relay's rounds while the resting destination's backlog waits (for comparison; not a
    /// scrape): the first round finds notification unreachable and rests it (10 minutes), then
    /// each timed round claims, delivers and deletes 30 fresh live rows (10 per live destination,
    /// enqueued before it) past the backlog. Rounds 1–5 and 21–30 apart: PostgreSQL may plan a
    /// prepared statement generically from its sixth run on a connection.
    func claimRounds(_ db: any Database) throws {
        struct Down: Error {}
        let configuration = RelayConfiguration(batchSize: 400, backoffBase: .seconds(300), backoffMax: .seconds(600),
                                               unreachableBackoffMax: .seconds(600), isUnreachable: { $0 is Down })
        let relay = OutboxRelay(database: db, name: "bench-claim", configuration: configuration) { event in
            if event.key.hasPrefix(Self.resting + "|") { throw Down() }
        }
        _ = try relay.runOnce()
        while try relay.runOnce() > 0 {}
        var times: [Double] = []
        var delivered = 0
        for round in 0..<30 {
            try db.write { tx in
                try Outbox.enqueue(tx, Self.live.flatMap { destination in
                    (0..<10).map { OutboxEvent(type: "t", key: "\(destination)|R\(round)-\($0 % 3)", payload: [1]) }
                })
            }
            let start = ContinuousClock.now
            delivered += try relay.runOnce()
            times.append(Self.milliseconds(ContinuousClock.now - start))
        }
        func median(_ values: ArraySlice<Double>) -> Double { values.sorted()[values.count / 2] }
        print(String(format: "  %-46@ rounds 1-5 median %9.2f ms  rounds 21-30 median %9.2f ms  max %9.2f ms   → %d delivered",
                     "OutboxRelay.runOnce() (notification resting)" as NSString, median(times[0..<5]), median(times[20...]),
                     times.max()!, delivered))
    }

    /// Adds resting-destination rows `from..<to` (seq order = creation order; 2 h of outage spread
    /// over the final size), in transactions of 250,000 rows.
    func grow(_ db: any Database, _ engine: DatabaseEngine, from: Int, to: Int) throws {
        let now = Self.nowMillis()
        let step: Int64 = max(1, 7_200_000 / Int64(sizes.last!))
        let payload = engine == .postgres ? "decode(repeat('ab', \(Self.payloadBytes)), 'hex')" : "randomblob(\(Self.payloadBytes))"
        var start = from
        while start < to {
            let end = min(to, start + 250_000)
            let createdAt = "\(now - 7_200_000) + i * \(step)"
            let attempts = "CASE WHEN i < \(Self.retryingRows) THEN 1 ELSE 0 END"
            let columns = "(event_id, event_type, event_key, payload, created_at, attempts, next_attempt_at)"
            let select = "'bench-' || i, 'ocorrencias.intake.v1.TicketOpened', '\(Self.resting)|T' || (i % 40000), \(payload), \(createdAt), \(attempts), 0"
            let sql = engine == .postgres
                ? "INSERT INTO storage_outbox \(columns) SELECT \(select) FROM generate_series(\(start), \(end - 1)) AS i"
                : "WITH RECURSIVE n(i) AS (SELECT \(start) UNION ALL SELECT i + 1 FROM n WHERE i < \(end - 1)) INSERT INTO storage_outbox \(columns) SELECT \(select) FROM n"
            try db.write { tx in _ = try tx.execute(sql, []) }
            start = end
        }
    }

    /// The live destinations' rows: the newest, behind the backlog (replaced at each size).
    func refreshLive(_ db: any Database, _ engine: DatabaseEngine) throws {
        try db.write { tx in
            for destination in Self.live {
                _ = try tx.execute("DELETE FROM storage_outbox WHERE \(engine == .postgres ? "strpos" : "instr")(event_key, ?) = 1", [.text(destination + "|")])
                try Outbox.enqueue(tx, (0..<Self.liveRows).map {
                    OutboxEvent(type: "ocorrencias.intake.v1.TicketOpened", key: "\(destination)|L\($0 % 20)", payload: [UInt8](repeating: 1, count: Self.payloadBytes))
                })
            }
        }
    }

    /// PostgreSQL: `VACUUM ANALYZE`, the state autovacuum leaves an insert-only backlog in
    /// (visibility map set, statistics current). SQLite: a checkpoint, so reads come from the file.
    func settle(_ db: any Database, _ scratch: ScratchDatabase) throws {
        if scratch.engine == .postgres, let url = scratch.configuration.url {
            try PostgresAdmin.execute(url: url, "VACUUM ANALYZE storage_outbox")
        } else {
            // Outside any transaction, so on a connection of its own.
            var handle: OpaquePointer?
            guard sqlite3_open(scratch.configuration.sqlitePath, &handle) == SQLITE_OK else { throw BenchError("cannot open the SQLite file") }
            defer { sqlite3_close(handle) }
            let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
            guard rc == SQLITE_OK else { throw BenchError("checkpoint: \(String(cString: sqlite3_errmsg(handle)))") }
        }
    }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func seconds(_ duration: Duration) -> String { String(format: "%.1f", milliseconds(duration) / 1000) }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
