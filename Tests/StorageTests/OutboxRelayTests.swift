import Foundation
@testable import Storage
import Testing
import TestSupport

@Suite("Outbox relay")
struct OutboxRelayTests {
    static func enqueue(_ db: any Database, _ events: [(id: String, key: String)], createdAt: Date = Date()) throws {
        try db.write { tx throws in
            for event in events {
                try Outbox.enqueue(tx, OutboxEvent(id: event.id, type: "ocorrencias.test.v1.Event", key: event.key,
                                                   payload: Array(event.id.utf8), createdAt: createdAt))
            }
        }
    }

    @Test("a failed event holds back later events of its key only, then all go out in order", arguments: TestEngines.all)
    func failureBlocksOnlyItsKey(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try Self.enqueue(db, [("a1", "a"), ("b1", "b"), ("a2", "a"), ("a3", "a"), ("b2", "b")],
                         createdAt: Date(timeIntervalSinceNow: -2))
        let delivered = Locked<[String]>([])
        let failOnce = Locked<Set<String>>(["a1"])
        let relay = OutboxRelay(database: db, name: "test",
                                configuration: RelayConfiguration(backoffBase: .seconds(2), backoffMax: .seconds(2))) { event in
            if failOnce.withLock({ $0.remove(event.id) }) != nil { throw InjectedFailure() }
            delivered.withLock { $0.append(event.id) }
        }
        #expect(try relay.pending() == 5)
        #expect(try relay.lag() >= .seconds(1))
        #expect(try relay.runOnce() == 2)
        #expect(delivered.current == ["b1", "b2"])
        #expect(try relay.runOnce() == 0, "key a waits for its backoff")
        // What Stats/Outbox reports: a1..a3 pending, a1 retrying, the oldest about 2 s old.
        let stats = try db.read { try Outbox.stats($0) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(stats.pending == 3 && stats.retrying == 1)
        #expect((stats.oldestCreatedAt ?? now) <= now - 1_900)
        #expect(try db.read { try $0.scalar("SELECT last_error FROM storage_outbox WHERE event_id = 'a1'") } == "injected failure")
        Thread.sleep(forTimeInterval: 2.05)  // past a1's backoff (1-2 s: long enough that a loaded machine's checks above fit in it)
        #expect(try relay.runOnce() == 3)
        #expect(delivered.current == ["b1", "b2", "a1", "a2", "a3"])
        #expect(try relay.pending() == 0)
        let empty = try db.read { try Outbox.stats($0) }
        #expect(empty.pending == 0 && empty.oldestCreatedAt == nil && empty.retrying == 0)
        #expect(relay.deliveredCount == 5 && relay.failedCount == 1)
    }

    @Test("keys are delivered side by side, up to deliveryConcurrency at once, each key in order; 1 means one at a time",
          arguments: TestEngines.all)
    func keysInParallel(engine: DatabaseEngine) throws {
        for concurrency in [8, 1] {
            let db = try ScratchDatabase(engine).open()
            defer { db.close() }
            let events = (0..<12).flatMap { key in (0..<3).map { (id: "k\(key)-\($0)", key: "k\(key)") } }
            try Self.enqueue(db, events)
            let delivered = Locked<[String]>([])
            let inFlight = Locked<(now: Int, most: Int)>((0, 0))
            let relay = OutboxRelay(database: db, name: "test", configuration: RelayConfiguration(deliveryConcurrency: concurrency)) { event in
                inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                Thread.sleep(forTimeInterval: 0.01)   // a delivery is an RPC: it waits on the network
                delivered.withLock { $0.append(event.id) }
                inFlight.withLock { $0.now -= 1 }
            }
            #expect(try relay.runOnce() == 36)
            let order = delivered.current
            for key in 0..<12 {
                #expect(order.filter { $0.hasPrefix("k\(key)-") } == ["k\(key)-0", "k\(key)-1", "k\(key)-2"], "per-key order")
            }
            if concurrency == 1 {
                #expect(inFlight.current.most == 1)
            } else {
                #expect(inFlight.current.most > 1 && inFlight.current.most <= concurrency, "\(inFlight.current.most) at once")
            }
            #expect(try relay.pending() == 0)
        }
    }

    @Test("an unreachable destination costs one call per round and gets its backlog within unreachableBackoffMax once back",
          arguments: TestEngines.all)
    func unreachableDestinationRetriesSoon(engine: DatabaseEngine) throws {
        struct Unreachable: Error {}
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try Self.enqueue(db, [("d1", "down|t1"), ("d2", "down|t2"), ("d3", "down|t3"), ("u1", "up|t1"), ("p1", "poison|t1")])
        let isDown = Locked<Bool>(true)
        let callsToDown = Locked<Int>(0)
        let delivered = Locked<[String]>([])
        let configuration = RelayConfiguration(backoffBase: .milliseconds(500), backoffMax: .seconds(60), deliveryConcurrency: 1,
                                               unreachableBackoffMax: .milliseconds(300),
                                               isUnreachable: { $0 is Unreachable })
        let relay = OutboxRelay(database: db, name: "test", configuration: configuration) { event in
            if event.key.hasPrefix("poison|") { throw InjectedFailure() }
            if event.key.hasPrefix("down|") {
                callsToDown.withLock { $0 += 1 }
                if isDown.current { throw Unreachable() }
            }
            delivered.withLock { $0.append(event.id) }
        }
        #expect(try relay.runOnce() == 1)
        #expect(delivered.current == ["u1"])
        #expect(callsToDown.current == 1, "the other keys of a destination found unreachable are deferred without a call")
        #expect(relay.failedCount == 2, "the unreachable call and the poison event; deferred events are not failures")
        // Even after many failures an unreachable destination is tried again within the short cap,
        // while an ordinary failure keeps backing off towards backoffMax.
        try db.write { tx in
            try tx.execute("UPDATE storage_outbox SET attempts = 10", [])
            try tx.execute("UPDATE storage_outbox SET next_attempt_at = 0 WHERE event_id = 'p1'", [])
        }
        Thread.sleep(forTimeInterval: 0.35)
        #expect(try relay.runOnce() == 0)
        #expect(callsToDown.current == 2)
        let poisonRetry = try db.read { try $0.scalar("SELECT next_attempt_at FROM storage_outbox WHERE event_id = 'p1'") }
        guard case .integer(let poisonRetryAt) = poisonRetry else { Issue.record("next_attempt_at is \(poisonRetry)"); return }
        #expect(poisonRetryAt > Int64(Date().timeIntervalSince1970 * 1000) + 20_000)
        isDown.withLock { $0 = false }
        Thread.sleep(forTimeInterval: 0.35)
        #expect(try relay.runOnce() == 3)
        #expect(delivered.current == ["u1", "d1", "d2", "d3"])
        #expect(try relay.pending() == 1, "only the poison event is left")
    }

    @Test("an unreachable destination rests: its waiting events are neither claimed nor rewritten until the first is due",
          arguments: TestEngines.all)
    func unreachableDestinationRests(engine: DatabaseEngine) throws {
        struct Unreachable: Error {}
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try Self.enqueue(db, (1...6).map { ("d\($0)", "down|t\($0)") } + (1...3).map { ("u\($0)", "up|t\($0)") })
        let isDown = Locked<Bool>(true)
        let callsToDown = Locked<Int>(0)
        let delivered = Locked<[String]>([])
        // The rest lasts 1-2 s (jittered): the three rounds below fit in it on a loaded machine too.
        let configuration = RelayConfiguration(batchSize: 2, deliveryConcurrency: 1, unreachableBackoffMax: .seconds(2),
                                               isUnreachable: { $0 is Unreachable })
        let relay = OutboxRelay(database: db, name: "test", configuration: configuration) { event in
            if event.key.hasPrefix("down|") {
                callsToDown.withLock { $0 += 1 }
                if isDown.current { throw Unreachable() }
            }
            delivered.withLock { $0.append(event.id) }
        }
        #expect(try relay.runOnce() == 0, "d1 fails as unreachable, d2 is deferred")
        #expect(callsToDown.current == 1)
        // While "down" rests the rounds go to the other destination only.
        #expect(try relay.runOnce() == 2)
        #expect(try relay.runOnce() == 1)
        #expect(try relay.runOnce() == 0)
        #expect(delivered.current == ["u1", "u2", "u3"])
        #expect(callsToDown.current == 1, "no call to the resting destination")
        let untouched = try db.read { tx in
            try tx.scalar("""
                SELECT COUNT(*) FROM storage_outbox
                WHERE event_key LIKE 'down|%' AND attempts = 0 AND last_error IS NULL AND lease_owner IS NULL AND next_attempt_at = 0
                """)
        }
        #expect(untouched == 4, "d3 to d6 were never claimed nor written")
        // Due again: one more failing call, then, back up, the backlog goes out in order.
        Thread.sleep(forTimeInterval: 2.05)
        #expect(try relay.runOnce() == 0)
        #expect(callsToDown.current == 2)
        isDown.withLock { $0 = false }
        Thread.sleep(forTimeInterval: 2.05)
        while try relay.runOnce() > 0 {}
        #expect(delivered.current == ["u1", "u2", "u3", "d1", "d2", "d3", "d4", "d5", "d6"])
        #expect(try relay.pending() == 0)
    }

    @Test("while a destination rests behind a backlog of hundreds, the others' events go out in key order, found through the destination index",
          arguments: TestEngines.all)
    func othersPassARestingBacklog(engine: DatabaseEngine) throws {
        struct Unreachable: Error {}
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        // The resting destination's backlog is the front of the outbox; two live destinations'
        // events come after it, several per key.
        try Self.enqueue(db, (1...600).map { ("d\($0)", "down|t\($0 % 50)") })
        let later = (1...30).map { ("u\($0)", "up|t\($0 % 4)") } + (1...20).map { ("g\($0)", "gateway|t\($0 % 3)") }
        try Self.enqueue(db, later)
        let isDown = Locked<Bool>(true)
        let delivered = Locked<[String]>([])
        let configuration = RelayConfiguration(batchSize: 8, deliveryConcurrency: 1, unreachableBackoffMax: .seconds(2),
                                               isUnreachable: { $0 is Unreachable })
        let relay = OutboxRelay(database: db, name: "test", configuration: configuration) { event in
            if event.key.hasPrefix("down|"), isDown.current { throw Unreachable() }
            delivered.withLock { $0.append(event.id) }
        }
        #expect(try relay.runOnce() == 0, "the backlog's first call fails: down rests")
        while try relay.runOnce() > 0 {}
        let sent = delivered.current
        #expect(Set(sent) == Set(later.map(\.0)), "every live event went out, none of the resting backlog")
        // Per key, in the order enqueued.
        for key in Set(later.map(\.1)) {
            let expected = later.filter { $0.1 == key }.map(\.0)
            #expect(sent.filter { id in expected.contains(id) } == expected, "\(key)")
        }
        // The claim's statements while a destination rests read the destination index.
        for sql in [OutboxRelay.destinationsSQL(engine), OutboxRelay.destinationWindowsSQL(engine, count: 2)] {
            let params: [SQLValue] = sql.contains("?") ? [.text("up"), 16, .text("gateway"), 16] : []
            let plan = try OutboxPlans.plan(db, engine, sql, params)
            #expect(plan.contains("storage_outbox_destination_seq"), "\(sql)\n\(plan)")
        }
        // Back up: the backlog goes out in key order too.
        isDown.withLock { $0 = false }
        Thread.sleep(forTimeInterval: 2.05)
        while try relay.runOnce() > 0 {}
        #expect(try relay.pending() == 0)
        let backlog = delivered.current.filter { $0.hasPrefix("d") }
        #expect(backlog.count == 600)
        for key in 0..<50 {
            let expected = (1...600).filter { $0 % 50 == key }.map { "d\($0)" }
            #expect(backlog.filter { id in expected.contains(id) } == expected, "down|t\(key)")
        }
    }

    @Test("one call enqueues thousands of events of as many keys (more than a statement takes), in order",
          arguments: TestEngines.all)
    func enqueueThousands(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        // 7,000 events: 35,000 parameters in one INSERT (SQLite takes 32,766) and 7,000 advisory
        // locks in one select list (PostgreSQL takes 1,664).
        let events = (0..<7_000).map { OutboxEvent(id: "e\($0)", type: "t", key: "workflow|T\($0)", payload: [1]) }
        try db.write { tx in try Outbox.enqueue(tx, events) }
        let stored = try db.read { tx in try tx.query("SELECT event_id FROM storage_outbox ORDER BY seq", []).map { try $0.text("event_id") } }
        #expect(stored == events.map(\.id))
    }

    @Test("a duplicate event id is a unique violation", arguments: TestEngines.all)
    func duplicateEventID(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try Self.enqueue(db, [("same", "k")])
        expectStorageError(.uniqueViolation) { try Self.enqueue(db, [("same", "k")]) }
        #expect(throws: InjectedFailure.self) {
            try db.write { tx throws in
                try Outbox.enqueue(tx, OutboxEvent(type: "t", key: "k", payload: []))
                throw InjectedFailure()
            }
        }
        #expect(try db.read { try Outbox.pendingCount($0) } == 1, "an event rolls back with its transaction")
    }

    @Test("several events enqueued with one call are delivered per key in the order given", arguments: TestEngines.all)
    func batchEnqueue(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try db.write { tx throws in
            try Outbox.enqueue(tx, [("x1", "x"), ("y1", "y"), ("x2", "x"), ("z1", "z"), ("x3", "x")].map {
                OutboxEvent(id: $0.0, type: "ocorrencias.test.v1.Event", key: $0.1, payload: Array($0.0.utf8))
            })
            try Outbox.enqueue(tx, [OutboxEvent]())
            // A key created in this transaction: no lock needed, same rows.
            try Outbox.enqueue(tx, [OutboxEvent(id: "n1", type: "ocorrencias.test.v1.Event", key: "new", payload: Array("n1".utf8))],
                               keysAreNew: true)
        }
        let delivered = Locked<[String]>([])
        let relay = OutboxRelay(database: db, name: "test") { event in
            #expect(event.payload == Array(event.id.utf8))
            delivered.withLock { $0.append(event.id) }
        }
        #expect(try relay.runOnce() == 6)
        #expect(delivered.current.filter { $0.hasPrefix("x") } == ["x1", "x2", "x3"])
        #expect(Set(delivered.current) == ["x1", "x2", "x3", "y1", "z1", "n1"])
        expectStorageError(.uniqueViolation) {
            try db.write { tx throws in
                try Outbox.enqueue(tx, [OutboxEvent(id: "new", type: "t", key: "k", payload: []),
                                        OutboxEvent(id: "new", type: "t", key: "k", payload: [])])
            }
        }
        #expect(try db.read { try Outbox.pendingCount($0) } == 0, "a failed batch stores none of its events")
    }

    @Test("a claim is one lease row, the claimed outbox rows are not rewritten; another relay skips the held keys until the round ends",
          arguments: TestEngines.all)
    func leaseRow(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let dbA = try scratch.open(), dbB = try scratch.open()
        defer { dbA.close(); dbB.close() }
        try Self.enqueue(dbA, [("e1", "k"), ("x1", "x"), ("x2", "x")])
        let stuck = DispatchSemaphore(value: 0), entered = DispatchSemaphore(value: 0)
        let deliveredByA = Locked<[String]>([])
        let relayA = OutboxRelay(database: dbA, name: "a", configuration: RelayConfiguration(batchSize: 2)) { event in
            if event.id == "e1" {
                entered.signal()
                stuck.wait()
            }
            deliveredByA.withLock { $0.append(event.id) }
        }
        let deliveredByB = Locked<[String]>([])
        let relayB = OutboxRelay(database: dbB, name: "b") { event in deliveredByB.withLock { $0.append(event.id) } }
        let finishedA = DispatchSemaphore(value: 0)
        Thread {
            _ = try? relayA.runOnce()
            finishedA.signal()
        }.start()
        entered.wait()
        // A holds e1 and x1 (batch of 2): one lease row naming them; the rows themselves are untouched.
        let leases = try dbB.read { try $0.query("SELECT owner, seqs FROM storage_outbox_leases", []) }
        #expect(leases.count == 1)
        #expect(try leases.first?.text("owner") == relayA.owner)
        #expect(try dbB.read { try $0.scalar("SELECT COUNT(*) FROM storage_outbox WHERE lease_owner IS NOT NULL OR locked_until IS NOT NULL") }
             == 0)
        try Self.enqueue(dbB, [("e2", "k"), ("j1", "j")])
        #expect(try relayB.runOnce() == 1, "k and x are held by A (x2 waits behind x1); j is free")
        #expect(deliveredByB.current == ["j1"])
        stuck.signal()
        finishedA.wait()
        #expect(deliveredByA.current.sorted() == ["e1", "x1"])
        #expect(try dbB.read { try $0.scalar("SELECT COUNT(*) FROM storage_outbox_leases") } == 0, "the lease ends with the round")
        #expect(try relayB.runOnce() == 2)
        // x2 and e2 have different keys: delivered side by side, in either order.
        #expect(deliveredByB.current.first == "j1" && deliveredByB.current.dropFirst().sorted() == ["e2", "x2"], "\(deliveredByB.current)")
        #expect(try relayB.pending() == 0)
    }

    @Test("a relay that dies mid-batch loses its lease and another relay takes over", arguments: TestEngines.all)
    func leaseExpiry(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let dbA = try scratch.open(), dbB = try scratch.open()
        defer { dbA.close(); dbB.close() }
        try Self.enqueue(dbA, [("e1", "k"), ("e2", "k"), ("e3", "k")])
        // 3 s: B's first round must come while A's lease holds, also on a loaded machine.
        let lease = RelayConfiguration(leaseDuration: .seconds(3))
        let stuck = DispatchSemaphore(value: 0)
        let entered = DispatchSemaphore(value: 0)
        let relayA = OutboxRelay(database: dbA, name: "a", configuration: lease) { _ in
            entered.signal()
            stuck.wait()  // hangs like a crashed process
        }
        let deliveredByB = Locked<[String]>([])
        let relayB = OutboxRelay(database: dbB, name: "b", configuration: lease) { event in
            deliveredByB.withLock { $0.append(event.id) }
        }
        let finishedA = DispatchSemaphore(value: 0)
        Thread {
            _ = try? relayA.runOnce()
            finishedA.signal()
        }.start()
        entered.wait()
        #expect(try relayB.runOnce() == 0, "the key is leased by A")
        Thread.sleep(forTimeInterval: 3.1)
        #expect(try relayB.runOnce() == 3, "A's lease expired")
        #expect(deliveredByB.current == ["e1", "e2", "e3"])
        stuck.signal()
        finishedA.wait()
        #expect(try relayB.pending() == 0)
    }

    @Test("an instance restarted under the same instance name takes back its leases at once; other owners' leases hold",
          arguments: TestEngines.all)
    func restartedInstanceTakesBackItsLeases(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let dbA = try scratch.open(), dbB = try scratch.open()
        defer { dbA.close(); dbB.close() }
        try Self.enqueue(dbA, [("e1", "k"), ("e2", "k"), ("o1", "other")])
        let lease = RelayConfiguration(leaseDuration: .seconds(60))
        // Leases left by a crashed incarnation of "intake-1" and by a live instance "intake-2".
        try dbA.write { tx in
            try tx.execute("UPDATE storage_outbox SET lease_owner = 'events/intake-1', locked_until = ? WHERE event_key = 'k'",
                           [.integer(Int64(Date().timeIntervalSince1970 * 1000) + 60_000)])
            try tx.execute("UPDATE storage_outbox SET lease_owner = 'events/intake-2', locked_until = ? WHERE event_key = 'other'",
                           [.integer(Int64(Date().timeIntervalSince1970 * 1000) + 60_000)])
        }
        let delivered = Locked<[String]>([])
        let restarted = OutboxRelay(database: dbB, name: "events", instance: "intake-1", configuration: lease) { event in
            delivered.withLock { $0.append(event.id) }
        }
        #expect(restarted.owner == "events/intake-1")
        #expect(try restarted.runOnce() == 0, "runOnce alone does not take anything back")
        restarted.start()
        defer { restarted.stop() }
        let deadline = Date().addingTimeInterval(10)
        while delivered.current.count < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(delivered.current == ["e1", "e2"], "its own leases were released when it started")
        // The delivered rows go with the thread's next claim (a round later).
        while try restarted.pending() > 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(try restarted.pending() == 1, "the live instance's lease still holds")
    }

    @Test("start, wake and stop drive the relay thread", arguments: TestEngines.all)
    func threadLifecycle(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        let delivered = Locked(0)
        let relay = OutboxRelay(database: db, name: "lifecycle", configuration: RelayConfiguration(pollInterval: .seconds(30))) { _ in
            delivered.withLock { $0 += 1 }
        }
        relay.start()
        relay.start()  // idempotent
        Thread.sleep(forTimeInterval: 0.05)  // the first poll found nothing; now it sleeps 30 s
        try Self.enqueue(db, [("x", "k")])
        relay.wake()
        let deadline = Date(timeIntervalSinceNow: 20)
        while delivered.current == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        let stopStarted = Date()
        relay.stop()
        #expect(Date().timeIntervalSince(stopStarted) < 10, "stop interrupts the 30 s poll wait")
        relay.stop()
        #expect(delivered.current == 1)
    }

    @Test("nudge ends the idle poll wait: a commit's events go out at once, not 30 s later; without it they wait",
          arguments: TestEngines.all)
    func nudgeEndsTheIdleWait(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        let delivered = Locked(0)
        let relay = OutboxRelay(database: db, name: "nudged", configuration: RelayConfiguration(pollInterval: .seconds(30))) { _ in
            delivered.withLock { $0 += 1 }
        }
        relay.start()
        defer { relay.stop() }
        // Each event is committed while the relay sleeps its 30 s poll wait (waited for, not a
        // fixed pause: a loaded machine's relay may still be in its first or follow-up round).
        for expected in 1...3 {
            try #require(waitFor(10) { relay.isIdle }, "the relay never went idle")
            try Self.enqueue(db, [("n\(expected)", "k")])
            let started = Date()
            relay.nudge()
            let deadline = Date(timeIntervalSinceNow: 15)
            while delivered.current < expected && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
            #expect(delivered.current == expected && Date().timeIntervalSince(started) < 15, "event \(expected) went out on the nudge, not after 30 s")
        }
        // Not nudged, once the relay is idle again (a round after a busy one looks once more):
        // the event waits for the poll interval.
        try #require(waitFor(10) { relay.isIdle }, "the relay never went idle")
        try Self.enqueue(db, [("quiet", "k")])
        Thread.sleep(forTimeInterval: 0.3)
        #expect(delivered.current == 3)
    }

    @Test("the polling thread deletes a round's delivered rows in the next round's claim: the same key's next event is not held by them, and stop leaves no delivered row behind",
          arguments: TestEngines.all)
    func deliveredRowsDeletedByTheNextClaim(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        let delivered = Locked<[String]>([])
        // A lease far longer than the test: an event held by its key's delivered-but-undeleted
        // row would wait for it.
        let relay = OutboxRelay(database: db, name: "deferred",
                                configuration: RelayConfiguration(pollInterval: .milliseconds(20), leaseDuration: .seconds(120),
                                                                  roundInterval: .milliseconds(1))) { event in
            delivered.withLock { $0.append(event.id) }
        }
        relay.start()
        defer { relay.stop() }
        func waitFor(_ count: Int) {
            let deadline = Date(timeIntervalSinceNow: 10)
            while delivered.current.count < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        }
        for round in 1...5 {
            try Self.enqueue(db, [("k-\(round)", "k"), ("j-\(round)", "j")])
            relay.wake()
            waitFor(2 * round)
            #expect(delivered.current.count == 2 * round, "round \(round) went out at once")
        }
        #expect(delivered.current.filter { $0.hasPrefix("k-") } == (1...5).map { "k-\($0)" })
        #expect(delivered.current.filter { $0.hasPrefix("j-") } == (1...5).map { "j-\($0)" })
        // Idle: the claim after the last busy round deleted its rows.
        let deadline = Date(timeIntervalSinceNow: 5)
        while try relay.pending() > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(try relay.pending() == 0)
        // Stopped right after a delivery: stop deletes the rows the next claim would have.
        try Self.enqueue(db, [("k-6", "k")])
        relay.wake()
        waitFor(11)
        relay.stop()
        #expect(delivered.current.count == 11)
        #expect(try relay.pending() == 0, "no delivered row left leased")
        #expect(relay.deliveredCount == 11)
    }

    @Test("a busy relay vacuums its outbox on PostgreSQL once it deleted vacuumAfterDeletes events; the claims go on in order",
          arguments: TestEngines.all)
    func vacuumsAfterDeletes(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        // Keys of three events each, enqueued key by key, so a claim's batch ends inside a key.
        try Self.enqueue(db, (0..<40).flatMap { key in (0..<3).map { (id: "k\(key)-\($0)", key: "k\(key)") } })
        let delivered = Locked<[String]>([])
        let relay = OutboxRelay(database: db, name: "vacuum",
                                configuration: RelayConfiguration(batchSize: 50, deliveryConcurrency: 1, vacuumAfterDeletes: 40)) { event in
            delivered.withLock { $0.append(event.id) }
        }
        let vacuums = {
            try db.read { tx in
                try tx.queryOne("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'storage_outbox'")?.int("vacuum_count") ?? 0
            }
        }
        if engine == .postgres {
            let options = try db.read { try $0.scalar("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'storage_outbox'") }
            #expect(options == .null, "full pages (storage migration 10): nothing updates outbox rows but a failed delivery")
        }
        let before = engine == .postgres ? try vacuums() : 0
        #expect(try relay.runOnce() == 50)
        if engine == .postgres { #expect(try vacuums() == before + 1, "50 deletes ≥ 40: vacuumed") }
        #expect(try relay.runOnce() == 50)
        if engine == .postgres { #expect(try vacuums() == before + 1, "at most one vacuum a second") }
        #expect(try relay.runOnce() == 20)
        #expect(try relay.pending() == 0)
        #expect(delivered.current == (0..<40).flatMap { key in (0..<3).map { "k\(key)-\($0)" } }, "in enqueue order")
    }

    @Test("keys behind more held events than the claim's first window are still claimed; the held key follows in order once due",
          arguments: TestEngines.all)
    func claimLooksPastHeldKeys(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        // 150 events of one key, then 3 other keys interleaved with 30 more of it; the first
        // window of a claim of 10 is 64 rows.
        try Self.enqueue(db, (0..<150).map { (id: "h\($0)", key: "held") })
        try Self.enqueue(db, (0..<30).flatMap { i in [(id: "h\(150 + i)", key: "held"), (id: "o\(i)", key: "other\(i % 3)")] })
        let future = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
        try db.write { tx in _ = try tx.execute("UPDATE storage_outbox SET next_attempt_at = ?, attempts = 1 WHERE event_id = 'h0'", [.integer(future)]) }
        let delivered = Locked<[String]>([])
        let relay = OutboxRelay(database: db, name: "window", configuration: RelayConfiguration(batchSize: 10, deliveryConcurrency: 1)) { event in
            delivered.withLock { $0.append(event.id) }
        }
        #expect(try relay.runOnce() == 10)
        #expect(try relay.runOnce() == 10)
        #expect(try relay.runOnce() == 10)
        #expect(try relay.runOnce() == 0, "only the held key is left")
        let others = delivered.current
        #expect(Set(others) == Set((0..<30).map { "o\($0)" }), "the other keys, none of the held key")
        for key in 0..<3 {
            #expect(others.filter { Int($0.dropFirst())! % 3 == key } == (0..<30).filter { $0 % 3 == key }.map { "o\($0)" }, "per-key order")
        }
        try db.write { tx in _ = try tx.execute("UPDATE storage_outbox SET next_attempt_at = 0 WHERE event_id = 'h0'", []) }
        while try relay.runOnce() > 0 {}
        #expect(delivered.current == others + (0..<180).map { "h\($0)" })
        #expect(try relay.pending() == 0)
    }
}
