import Foundation
@testable import NotificationCore
import ServiceKit
import Storage
import Testing
import TestSupport

/// On PostgreSQL, the statements that end or extend claims must not read more rows as more
/// deliveries are claimed: under load thousands of sent deliveries wait `sending` for their
/// outcomes, and a statement whose cost grows with them lets that backlog grow further
/// (docs/BENCHMARKS-notification.md, "E-mails left behind on PostgreSQL").
@Suite("Notification: claims with thousands of deliveries in hand (PostgreSQL)", .enabled(if: PostgresTestServer.isEnabled))
struct ClaimBacklogTests {
    static let lane = "email|backlog"
    static let backlog = 3_000

    /// A database with `backlog` deliveries claimed by "me" (the statistics taken while they were
    /// still `queued`, as in a service whose table grew since its last analyze).
    static func claimedBacklog() throws -> (database: any Database, claimed: [ClaimedDelivery]) {
        let database = try ScratchDatabase(.postgres).open(migrations: NotificationService.migrations)
        let now = Date()
        try database.write { tx in
            let rows = (0..<backlog).map { index in
                (delivery: NewDelivery(id: String(format: "backlog-%05d", index), eventID: "e-\(index)", recipient: "jose@cliente.example",
                                       channel: .email, eventKind: "TicketOpened", ticketID: "t-\(index)", lane: lane,
                                       envelopeTo: ["jose@cliente.example"], messageID: "m-\(index)@suporte.example", subject: "Assunto",
                                       payload: Array("mensagem \(index)".utf8)), now: now)
            }
            _ = try DeliveryStore.insertAll(tx, rows)
        }
        try database.write { tx in _ = try tx.execute("ANALYZE notification_deliveries", []) }
        let claimed = try database.write { tx in
            try DeliveryClaims.claim(tx, lane: lane, instance: "me", limit: backlog, now: now.addingTimeInterval(1), lease: 60)
        }
        #expect(claimed.count == backlog)
        return (database, claimed)
    }

    /// `EXPLAIN (ANALYZE, FORMAT JSON)` of `statement`, run (and so applied) in a transaction:
    /// the rows the statement returned or changed, and the rows it read from
    /// `notification_deliveries` or discarded in a join (all loops).
    static func rowsRead(_ database: any Database, _ statement: (sql: String, params: [SQLValue])) throws -> (result: Int, read: Int) {
        let text = try database.write { tx in
            try tx.query("EXPLAIN (ANALYZE, FORMAT JSON) " + statement.sql, statement.params)[0].text("QUERY PLAN")
        }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        let top = try #require(json.first?["Plan"] as? [String: Any])
        var read = 0
        func visit(_ node: [String: Any]) {
            let loops = node["Actual Loops"] as? Int ?? 1
            if node["Relation Name"] as? String == "notification_deliveries", node["Node Type"] as? String != "ModifyTable" {
                read += (node["Actual Rows"] as? Int ?? 0) * loops
                read += (node["Rows Removed by Filter"] as? Int ?? 0) + (node["Rows Removed by Index Recheck"] as? Int ?? 0)
            }
            read += node["Rows Removed by Join Filter"] as? Int ?? 0
            for child in node["Plans"] as? [[String: Any]] ?? [] { visit(child) }
        }
        visit(top)
        return (top["Actual Rows"] as? Int ?? 0, read)
    }

    @Test("Recording 128 outcomes reads about 128 rows, with 3,000 deliveries claimed")
    func outcomesReadOnlyTheirRows() throws {
        let (database, claimed) = try Self.claimedBacklog()
        defer { database.close() }
        let at = Date()
        let decided = claimed.prefix(128).map { claimed in
            (claimed, DeliveryClaims.decide(claimed, outcome: .accepted("250 OK"), retry: RetryPolicy(), now: at), at)
        }
        let marks = Array(repeating: "?", count: decided.count).joined(separator: ", ")
        let (written, read) = try Self.rowsRead(database, DeliveryClaims.outcomeStatement(decided[...], marks: marks, instance: "me"))
        #expect(written == 128)
        // Before: a nested loop over every `sending` row of the instance against the 128 VALUES
        // read 3,000 rows and discarded ≈ 380,000 pairs.
        #expect(read <= 3 * 128, "rows read or discarded: \(read)")
        let states = try database.read { tx in
            try tx.query("SELECT state, count(*) AS n FROM notification_deliveries GROUP BY state ORDER BY state", [])
                .map { "\(try $0.text("state")) \(try $0.int("n"))" }
        }
        #expect(states == ["sending \(Self.backlog - 128)", "sent 128"])
    }

    @Test("Renewing 128 leases reads about 128 rows, with 3,000 deliveries claimed")
    func renewalReadsOnlyItsRows() throws {
        let (database, claimed) = try Self.claimedBacklog()
        defer { database.close() }
        let ids = claimed.suffix(128).map(\.id)
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let until = Date().addingTimeInterval(600)
        let statement = DeliveryClaims.renewStatement(ids[...], marks: marks, instance: "me", until: until, engine: .postgres)
        let (_, read) = try Self.rowsRead(database, statement)
        // Before: the due index's every `sending` entry (3,000) was read for 128 ids.
        #expect(read <= 4 * 128, "rows read or discarded: \(read)")
        let renewed = try database.read { tx in
            try tx.query("SELECT count(*) AS n FROM notification_deliveries WHERE claimed_until = ?", [.timestamp(until)])[0].int("n")
        }
        #expect(renewed == 128)
    }

    @Test("A lease renewal skips a row another transaction has locked (the recorder writing its outcome) instead of waiting for it")
    func renewalSkipsLockedRows() throws {
        let (database, claimed) = try Self.claimedBacklog()
        defer { database.close() }
        let ids = Array(claimed.prefix(4).map(\.id))
        let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), holderDone = DispatchSemaphore(value: 0)
        let holder = Thread {
            _ = try? database.write { tx in
                _ = try tx.query("SELECT id FROM notification_deliveries WHERE id = ? FOR UPDATE", [.text(ids[0])])
                locked.signal()
                _ = release.wait(timeout: .now() + 30)
            }
            holderDone.signal()
        }
        holder.start()
        defer {
            release.signal()
            holderDone.wait()
        }
        #expect(locked.wait(timeout: .now() + 10) == .success)
        let until = Date().addingTimeInterval(600)
        let renewed = try database.write { tx in
            // Before: the renewal waited for the lock (here it would fail after 5 s).
            _ = try tx.execute("SET LOCAL lock_timeout = '5s'", [])
            return try DeliveryClaims.renew(tx, ids: ids, instance: "me", until: until)
        }
        #expect(renewed == 3)
        let leases = try database.read { tx in
            try tx.query("SELECT id FROM notification_deliveries WHERE claimed_until = ? ORDER BY id", [.timestamp(until)]).map { try $0.text("id") }
        }
        #expect(leases == Array(ids.dropFirst()))
    }
}
