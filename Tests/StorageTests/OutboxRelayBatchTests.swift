import Foundation
import Storage
import Testing
import TestSupport

/// The relay created with `deliverBatch:`: one call per destination and round.
@Suite("Outbox relay, per-destination batches")
struct OutboxRelayBatchTests {
    /// One recorded call: the destination and the ids of the events it carried.
    typealias Call = (destination: String, ids: [String])

    @Test("one call per destination carries its events of the round, several keys, each key in order", arguments: TestEngines.all)
    func oneCallPerDestination(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        let events = (0..<30).map { i in (id: "e\(i)", key: (i % 3 == 0 ? "workflow|" : "notification|") + "t\(i % 5)") }
        try OutboxRelayTests.enqueue(db, events)
        let calls = Locked<[Call]>([])
        let relay = OutboxRelay(database: db, name: "test", configuration: RelayConfiguration(minimumCallSize: 1_000)) { destination, batch in
            calls.withLock { $0.append((destination, batch.map(\.id))) }
            return [:]
        }
        #expect(try relay.runOnce() == 30)
        let made = calls.current.sorted { $0.destination < $1.destination }
        #expect(made.map(\.destination) == ["notification", "workflow"], "one call per destination")
        for call in made {
            let expected = events.filter { $0.key.hasPrefix(call.destination + "|") }.map(\.id)
            #expect(call.ids == expected, "every event of \(call.destination), in sequence order (so in order per key)")
        }
        #expect(try relay.pending() == 0)
        #expect(relay.deliveredCount == 30 && relay.failedCount == 0)
    }

    @Test("a failure reported for one event holds back its key's later events only; the other keys' events are settled",
          arguments: TestEngines.all)
    func reportedFailureHoldsBackItsKey(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try OutboxRelayTests.enqueue(db, [("a1", "w|a"), ("b1", "w|b"), ("a2", "w|a"), ("b2", "w|b"), ("a3", "w|a")])
        let applied = Locked<[String]>([])
        let failOnce = Locked<Set<String>>(["a2"])
        let relay = OutboxRelay(database: db, name: "test",
                                configuration: RelayConfiguration(backoffBase: .milliseconds(1_500), backoffMax: .milliseconds(1_500))) { _, batch in
            // What a consumer does: applies in order, and after a key's failure skips that key.
            var failures: OutboxRelay.BatchFailures = [:]
            var failedKeys = Set<String>()
            for (index, event) in batch.enumerated() where !failedKeys.contains(event.key) {
                if failOnce.withLock({ $0.remove(event.id) }) != nil {
                    failures[index] = InjectedFailure()
                    failedKeys.insert(event.key)
                } else {
                    applied.withLock { $0.append(event.id) }
                }
            }
            return failures
        }
        #expect(try relay.runOnce() == 3, "a1, b1, b2")
        #expect(applied.current == ["a1", "b1", "b2"])
        #expect(relay.failedCount == 1)
        #expect(try db.read { try $0.scalar("SELECT last_error FROM storage_outbox WHERE event_id = 'a2'") } == "injected failure")
        #expect(try db.read { try $0.scalar("SELECT attempts FROM storage_outbox WHERE event_id = 'a3'") } == 0,
                "a3 was not attempted: released, not failed")
        #expect(try relay.runOnce() == 0, "key a waits for a2's retry")
        Thread.sleep(forTimeInterval: 1.6)
        #expect(try relay.runOnce() == 2)
        #expect(applied.current == ["a1", "b1", "b2", "a2", "a3"])
        #expect(try relay.pending() == 0)
    }

    @Test("a failed call fails each key's first event; an unreachable destination rests while another is delivered",
          arguments: TestEngines.all)
    func failedCall(engine: DatabaseEngine) throws {
        struct Unreachable: Error {}
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        try OutboxRelayTests.enqueue(db, [("d1", "down|a"), ("u1", "up|a"), ("d2", "down|b"), ("d3", "down|a"), ("u2", "up|b")])
        let isDown = Locked<Bool>(true)
        let callsToDown = Locked<Int>(0)
        let applied = Locked<[String]>([])
        let relay = OutboxRelay(database: db, name: "test",
                                configuration: RelayConfiguration(backoffBase: .milliseconds(1_500), backoffMax: .milliseconds(1_500),
                                                                  unreachableBackoffMax: .milliseconds(1_500),
                                                                  isUnreachable: { $0 is Unreachable })) { destination, batch in
            if destination == "down" {
                callsToDown.withLock { $0 += 1 }
                if isDown.current { throw Unreachable() }
            }
            applied.withLock { $0 += batch.map(\.id) }
            return [:]
        }
        #expect(try relay.runOnce() == 2)
        #expect(applied.current == ["u1", "u2"])
        #expect(callsToDown.current == 1)
        let attempts = try db.read { tx in
            try tx.query("SELECT event_id, attempts FROM storage_outbox ORDER BY seq", []).map { "\(try $0.text("event_id")):\(try $0.int("attempts"))" }
        }
        #expect(attempts == ["d1:1", "d2:1", "d3:0"], "each key's first event failed once; d3 released")
        #expect(try relay.runOnce() == 0)
        #expect(callsToDown.current == 1, "resting: no call before the retry is due")
        isDown.withLock { $0 = false }
        Thread.sleep(forTimeInterval: 1.6)
        #expect(try relay.runOnce() == 3)
        #expect(applied.current == ["u1", "u2", "d1", "d2", "d3"])
        #expect(try relay.pending() == 0)
    }

    @Test("a busy outbox is claimed at most once per roundInterval: what is published meanwhile goes out in one call",
          arguments: TestEngines.all)
    func roundInterval(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        let calls = Locked<[[String]]>([])
        let relay = OutboxRelay(database: db, name: "test",
                                configuration: RelayConfiguration(pollInterval: .milliseconds(20), roundInterval: .milliseconds(2_000))) { _, batch in
            calls.withLock { $0.append(batch.map(\.id)) }
            return [:]
        }
        relay.start()
        defer { relay.stop() }
        try OutboxRelayTests.enqueue(db, [("first", "w|a")])
        let deadline = Date().addingTimeInterval(15)
        while calls.current.isEmpty && Date() < deadline { usleep(5_000) }
        // Five events published one by one within the interval that follows a round with events
        // (2 s: room for a loaded machine's five commits, ~100 ms when quiet).
        for i in 0..<5 {
            try OutboxRelayTests.enqueue(db, [("e\(i)", "w|k\(i % 2)")])
            usleep(20_000)
        }
        while calls.current.count < 2 && Date() < deadline { usleep(5_000) }
        #expect(calls.current == [["first"], ["e0", "e1", "e2", "e3", "e4"]])
        // The relay settles a call's events after the call returns: wait for that.
        #expect(try waitFor { try relay.pending() == 0 })
    }

    @Test("a busy destination's events are split by key into up to deliveryConcurrency calls of at least minimumCallSize, made side by side",
          arguments: TestEngines.all)
    func splitByKey(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        let events = (0..<40).map { i in (id: "e\(i)", key: "w|k\(i % 10)") }
        try OutboxRelayTests.enqueue(db, events)
        let calls = Locked<[[String]]>([])
        let inFlight = Locked<(now: Int, most: Int)>((0, 0))
        let relay = OutboxRelay(database: db, name: "test",
                                configuration: RelayConfiguration(deliveryConcurrency: 4, minimumCallSize: 8)) { _, batch in
            inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            Thread.sleep(forTimeInterval: 0.05)
            calls.withLock { $0.append(batch.map(\.id)) }
            inFlight.withLock { $0.now -= 1 }
            return [:]
        }
        #expect(try relay.runOnce() == 40)
        let made = calls.current
        #expect(made.count == 4, "40 events, 4 at most, 8 or more each: 4 calls")
        #expect(inFlight.current.most > 1)
        for key in 0..<10 {
            let holding = made.filter { call in call.contains { events[Int($0.dropFirst())!].key == "w|k\(key)" } }
            #expect(holding.count == 1, "key k\(key) in one call")
            let ids = holding.first?.filter { events[Int($0.dropFirst())!].key == "w|k\(key)" } ?? []
            #expect(ids == events.filter { $0.key == "w|k\(key)" }.map(\.id), "in order")
        }
        #expect(try relay.pending() == 0)
    }
}
