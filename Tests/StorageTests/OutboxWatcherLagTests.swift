import Foundation
@testable import Storage
import Testing
import TestSupport

@Suite("Outbox: oldest undelivered event of one subscriber (the gateway's feed lag)")
struct OutboxWatcherLagTests {
    @Test("only the destination's keys count (not a longer name's); LIKE wildcards are literal; nil when none wait", arguments: TestEngines.all)
    func oldestByPrefix(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        #expect(try db.read { try Outbox.oldestCreatedAt($0, destination: "gateway") } == nil)
        let old = Date(timeIntervalSinceNow: -30), recent = Date(timeIntervalSinceNow: -2)
        try db.write { tx in
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "workflow|T1", payload: [1], createdAt: old))
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "gatewayX|T1", payload: [1], createdAt: old))
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "gateway|T1", payload: [1], createdAt: recent))
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "a_b|T1", payload: [1], createdAt: old))
        }
        let oldest = try #require(try db.read { try Outbox.oldestCreatedAt($0, destination: "gateway") })
        #expect(abs(oldest - Int64(recent.timeIntervalSince1970 * 1000)) < 5)
        #expect(try db.read { try Outbox.oldestCreatedAt($0, destination: "a%b") } == nil)
        #expect(try db.read { try Outbox.oldestCreatedAt($0, destination: "a_b") } != nil)
        #expect(try db.read { try Outbox.oldestCreatedAt($0, destination: "axb") } == nil)
    }

    @Test("a subscriber's oldest row behind hundreds of other destinations' rows is found",
          arguments: TestEngines.all)
    func oldestBehindManyRows(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        let created = Date(timeIntervalSinceNow: -5)
        for count in [15, 16, 17, 79, 80, 81, 600] {
            try db.write { tx in
                try tx.execute("DELETE FROM storage_outbox")
                try Outbox.enqueue(tx, (0..<count).map { OutboxEvent(type: "t", key: "workflow|T\($0)", payload: [1]) })
                try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "gateway|T1", payload: [1], createdAt: created))
            }
            let oldest = try #require(try db.read { try Outbox.oldestCreatedAt($0, destination: "gateway") }, "behind \(count) rows")
            #expect(abs(oldest - Int64(created.timeIntervalSince1970 * 1000)) < 5)
            #expect(try db.read { try Outbox.oldestCreatedAt($0, destination: "notification") } == nil)
        }
    }

    @Test("the lag is one probe of the destination index, not a read of the rows ahead (a stopped subscriber's backlog)",
          arguments: TestEngines.all)
    func lagReadsTheIndex(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try db.write { tx in
            try Outbox.enqueue(tx, (0..<2_000).map { OutboxEvent(type: "t", key: "notification|T\($0)", payload: [1]) })
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "gateway|T1", payload: [1]))
        }
        #expect(try db.read { try Outbox.oldestCreatedAt($0, destination: "gateway") } != nil)
        // PostgreSQL's generic plan is pinned by OutboxStatsTests.plannedForTheDestination.
        let plan = try OutboxPlans.plan(db, engine, Outbox.oldestOfDestinationSQL(engine), [.text("gateway")])
        #expect(plan.contains("storage_outbox_destination_seq"), "\(plan)")
    }
}

/// Query plans of the outbox's statements, for tests that pin which index they use.
enum OutboxPlans {
    /// `EXPLAIN` of `sql` (PostgreSQL after `ANALYZE`, so that it plans with the table's real size).
    static func plan(_ db: any Database, _ engine: DatabaseEngine, _ sql: String, _ params: [SQLValue]) throws -> String {
        if engine == .postgres {
            try db.write { tx in _ = try tx.execute("ANALYZE storage_outbox") }
            return try db.read { tx in try tx.query("EXPLAIN " + sql, params).map { try $0.text("QUERY PLAN") }.joined(separator: "\n") }
        }
        return try db.read { tx in try tx.query("EXPLAIN QUERY PLAN " + sql, params).map { try $0.text("detail") }.joined(separator: "\n") }
    }

}
