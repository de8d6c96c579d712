import Foundation
import Storage
import Testing
import TestSupport

@Suite("Outbox: oldest undelivered event of one subscriber (the gateway's feed lag)")
struct OutboxWatcherLagTests {
    @Test("only keys with the prefix count; LIKE wildcards in the prefix are literal; nil when none wait", arguments: TestEngines.all)
    func oldestByPrefix(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        #expect(try db.read { try Outbox.oldestCreatedAt($0, keyPrefix: "gateway|") } == nil)
        let old = Date(timeIntervalSinceNow: -30), recent = Date(timeIntervalSinceNow: -2)
        try db.write { tx in
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "workflow|T1", payload: [1], createdAt: old))
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "gatewayX|T1", payload: [1], createdAt: old))
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "gateway|T1", payload: [1], createdAt: recent))
            try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "a_b|T1", payload: [1], createdAt: old))
        }
        let oldest = try #require(try db.read { try Outbox.oldestCreatedAt($0, keyPrefix: "gateway|") })
        #expect(abs(oldest - Int64(recent.timeIntervalSince1970 * 1000)) < 5)
        #expect(try db.read { try Outbox.oldestCreatedAt($0, keyPrefix: "a%b|") } == nil)
        #expect(try db.read { try Outbox.oldestCreatedAt($0, keyPrefix: "a_b|") } != nil)
        #expect(try db.read { try Outbox.oldestCreatedAt($0, keyPrefix: "axb|") } == nil)
    }

    @Test("a subscriber's oldest row behind hundreds of other rows is found (pages of 16, 64, then 256 rows)",
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
            let oldest = try #require(try db.read { try Outbox.oldestCreatedAt($0, keyPrefix: "gateway|") }, "behind \(count) rows")
            #expect(abs(oldest - Int64(created.timeIntervalSince1970 * 1000)) < 5)
            #expect(try db.read { try Outbox.oldestCreatedAt($0, keyPrefix: "notification|") } == nil)
        }
    }
}
