import Foundation
import Storage
import Synchronization
import Testing
import TestSupport
@testable import WorkflowCore

/// A clock tests move by hand.
final class SimulatedClock: Sendable {
    private let value: Atomic<Int64>
    init(_ start: Int64) { value = Atomic(start) }
    var now: Int64 { value.load(ordering: .relaxed) }
    func set(_ instant: Int64) { value.store(instant, ordering: .relaxed) }
    func advance(millis: Int64) { value.add(millis, ordering: .relaxed) }
    var function: @Sendable () -> Int64 { { self.now } }
}

let timerLog = Migration(version: 900, name: "test_timer_log",
                         sql: "CREATE TABLE test_timer_log (timer_id TEXT NOT NULL, ticket_id TEXT NOT NULL, fired_by TEXT NOT NULL)")

func logHandler(_ name: String) -> TimerScheduler.Handler {
    { timer, tx, _ in
        try tx.execute("INSERT INTO test_timer_log (timer_id, ticket_id, fired_by) VALUES (?, ?, ?)",
                       [.text(timer.id), .text(timer.ticketID), .text(name)])
    }
}

@Suite struct TimerTests {
    /// Cancelling a ticket's timers (every stage change of a ticket that had one before) reads
    /// the ticket's pending timers through their index, not every pending timer: SQLite, without
    /// statistics, chose `wf_timers_due` (`state = 'pending'`) and the call cost 6 ms at 20,000
    /// pending timers. The timers of other tickets and kinds stay pending.
    @Test(arguments: TestEngines.all)
    func cancellingATicketsTimersReadsOnlyItsOwn(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        try database.write { tx in
            for ticket in ["A", "B"] {
                for kind in ["inactivity.action", "inactivity.reminder", "sla.first_response"] {
                    try TimerStore.schedule(tx, ticketID: ticket, kind: kind, dueAt: 1_000, payload: "{}", generation: 1, now: 0)
                }
            }
        }
        if engine == .sqlite {
            let plan = try database.read { tx in
                try tx.query("EXPLAIN QUERY PLAN " + TimerStore.cancelAllSQL(.sqlite), [.text("A"), .text("inactivity.%")]).map { try $0.text("detail") }
            }
            #expect(plan.contains { $0.contains("wf_timers_one_pending") }, "\(plan)")
        }
        try database.write { tx in try TimerStore.cancelAll(tx, ticketID: "A", kindPrefix: "inactivity.") }
        let pending = try database.read { tx in try (TimerStore.pending(tx, ticketID: "A") + TimerStore.pending(tx, ticketID: "B")).map { "\($0.ticketID):\($0.kind)" } }
        #expect(pending.sorted() == ["A:sla.first_response", "B:inactivity.action", "B:inactivity.reminder", "B:sla.first_response"])
        try database.write { tx in try TimerStore.cancelAll(tx, ticketID: "B") }
        #expect(try database.read { tx in try TimerStore.pending(tx, ticketID: "B") }.isEmpty)
    }

    @Test(arguments: TestEngines.all)
    func firesDueTimersOnceWithTheirEffects(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all + [timerLog])
        defer { database.close() }
        let clock = SimulatedClock(1_000_000)
        let scheduler = TimerScheduler(database: database, name: "a", clock: clock.function)
        scheduler.on("test", logHandler("a"))
        try database.write { tx in
            try TimerStore.schedule(tx, ticketID: "t1", kind: "test", dueAt: 1_000_500)
            try TimerStore.schedule(tx, ticketID: "t2", kind: "test", dueAt: 1_002_000)
            // Replaces t3's first timer: only the second fires.
            try TimerStore.schedule(tx, ticketID: "t3", kind: "test", dueAt: 1_000_100)
            try TimerStore.schedule(tx, ticketID: "t3", kind: "test", dueAt: 1_001_000)
            try TimerStore.schedule(tx, ticketID: "t4", kind: "test", dueAt: 1_000_100)
            try TimerStore.cancel(tx, ticketID: "t4", kind: "test")
        }
        #expect(try scheduler.runOnce() == 0)
        clock.advance(millis: 600)
        #expect(try scheduler.runOnce() == 1)
        #expect(try scheduler.runOnce() == 0)
        clock.advance(millis: 5_000)
        #expect(try scheduler.runOnce() == 2)
        let fired = try database.read { tx in try tx.query("SELECT ticket_id FROM test_timer_log ORDER BY ticket_id").map { try $0.text("ticket_id") } }
        #expect(fired == ["t1", "t2", "t3"])
        #expect(try database.read { tx in try TimerStore.pending(tx, ticketID: "t3") }.isEmpty)
    }

    @Test(arguments: TestEngines.all)
    func aFailingHandlerRollsBackAndRetries(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all + [timerLog])
        defer { database.close() }
        let clock = SimulatedClock(1_000_000)
        var configuration = TimerScheduler.Configuration()
        configuration.retryDelay = .seconds(10)
        let scheduler = TimerScheduler(database: database, name: "a", configuration: configuration, clock: clock.function)
        let failures = Atomic<Int>(1)
        scheduler.on("test") { timer, tx, now in
            try logHandler("a")(timer, tx, now)
            if failures.subtract(1, ordering: .relaxed).oldValue > 0 { throw StorageError(.other, "boom") }
        }
        try database.write { tx in try TimerStore.schedule(tx, ticketID: "t1", kind: "test", dueAt: 1_000_000) }
        #expect(try scheduler.runOnce() == 0)
        #expect(try database.read { tx in try tx.scalar("SELECT COUNT(*) FROM test_timer_log") } == .integer(0))
        let pending = try #require(try database.read { tx in try TimerStore.pending(tx, ticketID: "t1", kind: "test") })
        #expect(pending.dueAt == 1_010_000)
        #expect(pending.attempts == 1)
        clock.advance(millis: 10_000)
        #expect(try scheduler.runOnce() == 1)
        #expect(try database.read { tx in try tx.scalar("SELECT COUNT(*) FROM test_timer_log") } == .integer(1))
    }

    /// Two instances on one database (two handles, as two processes would have) fire each of N
    /// timers exactly once; one instance "crashes" after claiming a batch and its timers are fired
    /// by the other after the lease expires; a restarted instance continues.
    @Test(arguments: TestEngines.all)
    func twoInstancesFireEachTimerExactlyOnceAcrossACrash(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let setup = try scratch.open(migrations: WorkflowTimeMigrations.all + [timerLog])
        defer { setup.close() }
        let count = 400
        let start = currentMillis()
        try setup.write { tx in
            for index in 0..<count {
                // Spread over about one second.
                try TimerStore.schedule(tx, ticketID: "ticket-\(index)", kind: "test", dueAt: start + Int64(index * 1000 / count))
            }
        }
        var configuration = TimerScheduler.Configuration()
        configuration.pollInterval = .milliseconds(20)
        configuration.batchSize = 20
        configuration.leaseDuration = .milliseconds(1500)

        // The crashed instance: claims a batch and never fires it.
        let crashedDB = try scratch.open()
        let crashed = TimerScheduler(database: crashedDB, name: "crashed", configuration: configuration)
        crashed.on("test", logHandler("crashed"))
        let stranded = try crashed.claim()
        #expect(!stranded.isEmpty)
        crashedDB.close()

        let dbA = try scratch.open()
        let dbB = try scratch.open()
        defer { dbA.close(); dbB.close() }
        let a = TimerScheduler(database: dbA, name: "a", configuration: configuration)
        let b = TimerScheduler(database: dbB, name: "b", configuration: configuration)
        a.on("test", logHandler("a"))
        b.on("test", logHandler("b"))
        a.start()
        b.start()
        // Restart a mid-way: stop it, then a new instance on a new handle takes its place.
        Thread.sleep(forTimeInterval: 0.3)
        a.stop()
        let dbA2 = try scratch.open()
        defer { dbA2.close() }
        let a2 = TimerScheduler(database: dbA2, name: "a2", configuration: configuration)
        a2.on("test", logHandler("a2"))
        a2.start()
        _ = try waitFor(30) { try setup.read { tx in try tx.scalar("SELECT COUNT(*) FROM test_timer_log") } == .integer(Int64(count)) }
        Thread.sleep(forTimeInterval: 0.2)  // anything extra would show up now
        a2.stop()
        b.stop()
        let total = try setup.read { tx in try tx.scalar("SELECT COUNT(*) FROM test_timer_log") }
        let distinct = try setup.read { tx in try tx.scalar("SELECT COUNT(DISTINCT timer_id) FROM test_timer_log") }
        #expect(total == .integer(Int64(count)))
        #expect(distinct == .integer(Int64(count)))
        #expect(a.firedCount + b.firedCount + a2.firedCount == count)
        #expect(b.firedCount > 0)
        // The stranded batch was fired by a live instance.
        let strandedFiredBy = try setup.read { tx in
            try tx.query("SELECT DISTINCT fired_by FROM test_timer_log WHERE timer_id = ?", [.text(stranded[0].id)]).map { try $0.text("fired_by") }
        }
        #expect(strandedFiredBy.count == 1 && strandedFiredBy[0] != "crashed")
        #expect(try setup.read { tx in try tx.scalar("SELECT COUNT(*) FROM wf_timers WHERE state = 'pending'") } == .integer(0))
    }
}
