import Foundation
import Storage
import Testing
import TestSupport

@Suite("Idempotency keys")
struct IdempotencyTests {
    static let schema = [Migration.table(version: 1, name: "create_tickets", "CREATE TABLE tickets (id TEXT PRIMARY KEY, title TEXT NOT NULL)")]

    /// Opens a ticket once per idempotency key; returns the response bytes.
    static func openTicket(_ db: any Database, key: String, title: String, bodyRuns: Locked<Int>? = nil,
                           beforeEffect: @escaping () -> Void = {}) throws -> IdempotentResult {
        try db.write { tx throws in
            try IdempotencyStore.run(tx, scope: "intake.v1.OpenTicket", key: key, requestFingerprint: Array(title.utf8)) {
                bodyRuns?.withLock { $0 += 1 }
                beforeEffect()
                let id = "T-\(UUID().uuidString.prefix(8))"
                try tx.execute("INSERT INTO tickets (id, title) VALUES (?, ?)", [.text(id), .text(title)])
                return Array("opened \(id)".utf8)
            }
        }
    }

    @Test("a retry with the same key replays the stored response without repeating the effect", arguments: TestEngines.all)
    func replay(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        let runs = Locked(0)
        let first = try Self.openTicket(db, key: "k-1", title: "Sem rede no 3º andar", bodyRuns: runs)
        let second = try Self.openTicket(db, key: "k-1", title: "Sem rede no 3º andar", bodyRuns: runs)
        #expect(!first.replayed && second.replayed)
        #expect(first.response == second.response)
        #expect(runs.current == 1)
        let other = try Self.openTicket(db, key: "k-2", title: "Sem rede no 3º andar", bodyRuns: runs)
        #expect(!other.replayed && other.response != first.response)
        let otherScope = try db.write { tx throws in
            try IdempotencyStore.run(tx, scope: "intake.v1.CloseTicket", key: "k-1", requestFingerprint: [1]) { [9] }
        }
        #expect(otherScope == IdempotentResult(response: [9], replayed: false), "keys are per scope")
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM tickets") } == 2)
    }

    @Test("the same key with a different request is refused", arguments: TestEngines.all)
    func mismatch(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        _ = try Self.openTicket(db, key: "k", title: "one")
        expectStorageError(.idempotencyMismatch) { try Self.openTicket(db, key: "k", title: "two") }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM tickets") } == 1)
    }

    @Test("a failed call stores nothing, so its retry runs again", arguments: TestEngines.all)
    func failureIsNotStored(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        #expect(throws: InjectedFailure.self) {
            try db.write { tx throws in
                try IdempotencyStore.run(tx, scope: "s", key: "k", requestFingerprint: [1]) { throw InjectedFailure() }
            }
        }
        let retry = try db.write { tx in try IdempotencyStore.run(tx, scope: "s", key: "k", requestFingerprint: [1]) { [7] } }
        #expect(retry == IdempotentResult(response: [7], replayed: false))
    }

    @Test("concurrent first use of one key: one effect, identical responses", arguments: TestEngines.all)
    func concurrentFirstUse(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine, poolSize: 4).open(migrations: Self.schema)
        defer { db.close() }
        let barrier = Barrier(parties: 2)
        let runs = Locked(0)
        let results = Locked<[IdempotentResult]>([])
        try onThreads(2) { _ throws in
            barrier.arriveAndWait()
            // The winner holds its transaction open a while so that the other one collides with it.
            let result = try Self.openTicket(db, key: "same", title: "t", bodyRuns: runs,
                                             beforeEffect: { Thread.sleep(forTimeInterval: 0.2) })
            results.withLock { $0.append(result) }
        }
        let both = results.current
        #expect(both.count == 2)
        #expect(Set(both.map(\.response)).count == 1, "both callers get the first response")
        #expect(both.filter(\.replayed).count == 1)
        #expect(runs.current == 1)
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM tickets") } == 1)
    }

    @Test("old keys expire", arguments: TestEngines.all)
    func pruning(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        _ = try Self.openTicket(db, key: "old", title: "t")
        let removed = try db.write { try IdempotencyStore.prune($0, retention: .seconds(3600), now: Date(timeIntervalSinceNow: 7200)) }
        #expect(removed == 1)
        let kept = try db.write { try IdempotencyStore.prune($0, retention: .seconds(3600)) }
        #expect(kept == 0)
        #expect(try Self.openTicket(db, key: "old", title: "t").replayed == false, "an expired key runs again")
    }
}

@Suite("Inbox")
struct InboxTests {
    @Test("an event is claimed once per consumer, and old claims can be pruned", arguments: TestEngines.all)
    func claimAndPrune(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try db.write { tx throws in
            #expect(try Inbox.claim(tx, consumer: "notification", eventID: "e1"))
            #expect(try !Inbox.claim(tx, consumer: "notification", eventID: "e1"))
            #expect(try Inbox.claim(tx, consumer: "knowledge", eventID: "e1"))
            #expect(try Inbox.claim(tx, consumer: "notification", eventID: "e0", now: Date(timeIntervalSinceNow: -10 * 86_400)))
        }
        #expect(throws: InjectedFailure.self) {
            try db.write { tx throws in
                #expect(try Inbox.claim(tx, consumer: "notification", eventID: "e2"))
                throw InjectedFailure()
            }
        }
        try db.write { tx throws in
            #expect(try Inbox.claim(tx, consumer: "notification", eventID: "e2"), "a rolled-back claim does not count")
            #expect(try Inbox.prune(tx, retention: .seconds(7 * 86_400)) == 1)
            #expect(try Inbox.claim(tx, consumer: "notification", eventID: "e0"), "pruned entries are forgotten")
        }
    }

    @Test("a delivery's events are claimed with one statement: the new ids, an id given twice once, a rolled-back claim does not count",
          arguments: TestEngines.all)
    func claimMany(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try db.write { tx throws in
            #expect(try Inbox.claim(tx, consumer: "workflow", eventID: "e1"))
            #expect(try Inbox.claim(tx, consumer: "workflow", eventIDs: []) == [])
            #expect(try Inbox.claim(tx, consumer: "workflow", eventIDs: ["e1", "e2", "e3", "e2"]) == ["e2", "e3"])
            #expect(try Inbox.claim(tx, consumer: "notification", eventIDs: ["e1", "e2"]) == ["e1", "e2"], "per consumer")
        }
        #expect(throws: InjectedFailure.self) {
            try db.write { tx throws in
                #expect(try Inbox.claim(tx, consumer: "workflow", eventIDs: ["e4", "e5"]) == ["e4", "e5"])
                throw InjectedFailure()
            }
        }
        // Many ids (one statement took at most 300 before): every one claimed once.
        let many = (0..<650).map { "m\($0)" }
        try db.write { tx throws in
            #expect(try Inbox.claim(tx, consumer: "workflow", eventIDs: ["e4", "e5", "e1"]) == ["e4", "e5"])
            #expect(try Inbox.claim(tx, consumer: "workflow", eventIDs: many) == Set(many))
            #expect(try Inbox.claim(tx, consumer: "workflow", eventIDs: many + ["e6"]) == ["e6"])
            #expect(try !Inbox.claim(tx, consumer: "workflow", eventID: "m649"))
        }
        // The ids travel as one JSON parameter: quotes, backslashes, control characters and
        // non-ASCII text come back as given, and count as the ids claimed one by one.
        let odd = ["a\"b", "c\\d", "tab\there", "nl\n", "\u{1}x", "ação-✓", "e@notification|T-1", "[\"x\"]"]
        try db.write { tx throws in
            #expect(try Inbox.claim(tx, consumer: "knowledge", eventIDs: odd + [odd[0]]) == Set(odd))
            for id in odd { #expect(try !Inbox.claim(tx, consumer: "knowledge", eventID: id), "\(id) recorded as given") }
            #expect(try Inbox.claim(tx, consumer: "knowledge", eventIDs: odd) == [])
        }
    }

    @Test("concurrent deliveries of one event: exactly one claim wins", arguments: TestEngines.all)
    func concurrentClaims(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine, poolSize: 4).open()
        defer { db.close() }
        let wins = Locked(0)
        let barrier = Barrier(parties: 4)
        try onThreads(4) { _ throws in
            barrier.arriveAndWait()
            let won = try db.write { tx -> Bool in
                let claimed = try Inbox.claim(tx, consumer: "c", eventID: "e")
                Thread.sleep(forTimeInterval: 0.05)
                return claimed
            }
            if won { wins.withLock { $0 += 1 } }
        }
        #expect(wins.current == 1)
    }
}
