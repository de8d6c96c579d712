import Foundation
import Messages
import Observability
import RPC
import RPCTransport
@testable import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

/// Concurrent deliveries into a batched consumer on SQLite share transactions
/// (``DeliveryGroupCommit``): each call still gets its own answer, a redelivered event is applied
/// once, and a failing event only affects its own call.
@Suite("Event consumer: concurrent deliveries grouped into one transaction")
struct DeliveryGroupCommitTests {
    // MARK: The combiner alone

    /// The groups `group` was given.
    final class Seen: Sendable {
        let groups = Mutex<[[Int]]>([])
        var all: [[Int]] { groups.withLock { $0 } }
    }

    /// Runs `calls` requests (their numbers) on as many threads: call 0 first, held inside its
    /// `alone` until the others have queued behind it; returns each call's answer.
    static func runConcurrently(_ groups: DeliveryGroupCommit<Int, String>, calls: Int, events: Int = 1,
                                failGroupsWith failing: Int? = nil, seen: Seen) -> [Int: Result<String, any Error>] {
        let answers = Mutex<[Int: Result<String, any Error>]>([:])
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        func start(_ call: Int) {
            done.enter()
            Thread {
                let answer = Result {
                    try groups.run(call, events: events, group: { requests in
                        seen.groups.withLock { $0.append(requests) }
                        if let failing, requests.contains(failing) { throw RPCError(.aborted, "not yet") }
                        return requests.map { "group:\($0)" }
                    }, alone: { request in
                        if request == 0 {
                            entered.signal()
                            release.wait()
                        }
                        if request == failing { throw RPCError(.aborted, "not yet") }
                        return "alone:\(request)"
                    })
                }
                answers.withLock { $0[call] = answer }
                done.leave()
            }.start()
        }
        start(0)
        entered.wait()
        for call in 1..<calls { start(call) }
        // Once the others have queued behind call 0 (not after a fixed pause, which a loaded
        // machine's thread starts can outlast), let it finish.
        let queued = waitFor(30) { groups.waitingCount >= calls - 1 }
        #expect(queued, "\(groups.waitingCount) of \(calls - 1) calls queued behind the first")
        release.signal()
        done.wait()
        return answers.withLock { $0 }
    }

    @Test("calls that queue behind a running one are applied together, each answered with its own result")
    func callsQueuedBehindOneRunTogether() throws {
        let groups = DeliveryGroupCommit<Int, String>()
        let seen = Seen()
        let answers = Self.runConcurrently(groups, calls: 6, seen: seen)
        #expect(answers.count == 6)
        for (call, answer) in answers {
            let text = try answer.get()
            #expect(text == "alone:\(call)" || text == "group:\(call)")
        }
        // Call 0 ran alone; the five that queued behind it ran in one group, in arrival order.
        #expect(try answers[0]?.get() == "alone:0")
        #expect(seen.all.map { $0.sorted() } == [[1, 2, 3, 4, 5]])
        #expect(groups.counts == .init(groups: 1, groupedCalls: 5, failedGroups: 0))
    }

    @Test("a group that fails as a whole: each of its calls runs alone, only the failing one fails")
    func failedGroupRunsEachAlone() throws {
        let groups = DeliveryGroupCommit<Int, String>()
        let seen = Seen()
        let answers = Self.runConcurrently(groups, calls: 5, failGroupsWith: 3, seen: seen)
        for (call, answer) in answers {
            if call == 3 {
                #expect(throws: RPCError.self) { try answer.get() }
            } else {
                #expect(try answer.get() == "alone:\(call)")
            }
        }
        #expect(seen.all.map { $0.sorted() } == [[1, 2, 3, 4]])
        #expect(groups.counts == .init(groups: 1, groupedCalls: 4, failedGroups: 1))
    }

    @Test("a group holds at most maxEvents events; the calls left over form the next group")
    func groupsStayWithinMaxEvents() throws {
        let groups = DeliveryGroupCommit<Int, String>(maxEvents: 20)
        let seen = Seen()
        let answers = Self.runConcurrently(groups, calls: 7, events: 10, seen: seen)
        for (call, answer) in answers {
            let text = try answer.get()
            #expect(text == "alone:\(call)" || text == "group:\(call)")
        }
        // Calls 1–6 (10 events each) queued behind call 0: three groups of two.
        #expect(seen.all.map(\.count) == [2, 2, 2])
        #expect(seen.all.flatMap { $0 }.sorted() == [1, 2, 3, 4, 5, 6])
    }

    // MARK: Gather window

    /// Starts `calls` requests (their numbers) `spacing` apart on as many threads, each of
    /// `events` events; returns each call's answer and the groups `group` was given.
    static func runSpaced(_ groups: DeliveryGroupCommit<Int, String>, calls: Int, events: Int = 1, spacing: useconds_t,
                          seen: Seen) -> [Int: String] {
        let answers = Mutex<[Int: String]>([:])
        let done = DispatchGroup()
        for call in 0..<calls {
            done.enter()
            Thread {
                let answer = try? groups.run(call, events: events, group: { requests in
                    seen.groups.withLock { $0.append(requests) }
                    return requests.map { "group:\($0)" }
                }, alone: { request in
                    seen.groups.withLock { $0.append([request]) }
                    return "alone:\(request)"
                })
                answers.withLock { $0[call] = answer }
                done.leave()
            }.start()
            usleep(spacing)
        }
        done.wait()
        return answers.withLock { $0 }
    }

    @Test("with a gather window, calls arriving one after the other within it are applied together")
    func gatherWindowCollectsCallsThatArriveLater() throws {
        // Four calls 20 ms apart: without a window each runs alone; with a 10 s window (and a
        // target of 4 events) the first waits for the other three and runs them as one group.
        let without = Seen()
        let plain = Self.runSpaced(DeliveryGroupCommit<Int, String>(), calls: 4, spacing: 20_000, seen: without)
        #expect(plain == [0: "alone:0", 1: "alone:1", 2: "alone:2", 3: "alone:3"])
        #expect(without.all == [[0], [1], [2], [3]])

        let with = Seen()
        let groups = DeliveryGroupCommit<Int, String>(gather: 10, gatherEvents: 4)
        let started = Date()
        let gathered = Self.runSpaced(groups, calls: 4, spacing: 20_000, seen: with)
        #expect(gathered == [0: "group:0", 1: "group:1", 2: "group:2", 3: "group:3"])
        #expect(with.all == [[0, 1, 2, 3]])
        // The group ran when it reached its target, not at the end of the window (a window far
        // longer than a loaded machine's delays, so the bound cannot be missed by them).
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(groups.counts == .init(groups: 1, groupedCalls: 4, failedGroups: 0))
    }

    @Test("a gathering leader waits no longer than its window, then runs what it has")
    func gatherWindowIsBounded() throws {
        let seen = Seen()
        let groups = DeliveryGroupCommit<Int, String>(gather: 0.1, gatherEvents: 64)
        let started = Date()
        let answers = Self.runSpaced(groups, calls: 1, spacing: 0, seen: seen)
        let waited = Date().timeIntervalSince(started)
        #expect(answers == [0: "alone:0"])
        #expect(waited >= 0.09 && waited < 5, "waited \(waited) s")
        // A call as large as the target does not wait (for a window long enough that no delay of
        // a loaded machine is mistaken for waiting).
        let patient = DeliveryGroupCommit<Int, String>(gather: 10, gatherEvents: 64)
        let large = Date()
        _ = try patient.run(7, events: 64, group: { $0.map { "group:\($0)" } }, alone: { "alone:\($0)" })
        #expect(Date().timeIntervalSince(large) < 5)
    }

    // MARK: Through EventSink/Deliver on SQLite

    /// A batched consumer (``ConsumerTransactionWrapperTests/start(_:batched:refused:slow:directory:)``)
    /// whose event 1 takes 300 ms, so that the calls started after it queue behind it.
    static func start(_ engine: DatabaseEngine, refused: Set<Int64>, gather: TimeInterval = 0, directory: String) throws -> ServiceHost {
        try ConsumerTransactionWrapperTests.start(engine, batched: true, refused: refused, slow: [1], gather: gather, directory: directory)
    }

    /// Delivers each list of events in its own call, all calls at once (the first one started
    /// slightly ahead), and returns the answers in the lists' order.
    static func deliverConcurrently(_ host: ServiceHost, _ calls: [[EventsV1.EventEnvelope]]) throws -> [EventsV1.DeliverEventsResponse] {
        let answers = Mutex<[Int: Result<EventsV1.DeliverEventsResponse, any Error>]>([:])
        let done = DispatchGroup()
        for (index, events) in calls.enumerated() {
            done.enter()
            Thread {
                let answer = Result { try ConsumerTransactionWrapperTests.deliver(host, events, partial: true) }
                answers.withLock { $0[index] = answer }
                done.leave()
            }.start()
            if index == 0 { usleep(50_000) }
        }
        done.wait()
        let all = answers.withLock { $0 }
        return try (0..<calls.count).map { try all[$0]!.get() }
    }

    @Test("concurrent calls: every event applied once, each call told its own counts, fewer transactions than calls on SQLite",
          arguments: TestEngines.all)
    func concurrentCallsShareTransactions(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        let host = try Self.start(engine, refused: [], directory: directory.path)
        defer { host.stop() }
        let envelope = ConsumerTransactionWrapperTests.envelope
        // Eight calls of three events; call 7 repeats call 6's events (a redelivery racing the first).
        var calls = (0..<7).map { call in (1...3).map { envelope(call * 3 + $0, "ticket-\(call)") } }
        calls.append(calls[6])
        let answers = try Self.deliverConcurrently(host, calls)
        #expect(answers.count == 8)
        #expect(answers.prefix(6).allSatisfy { $0.accepted == 3 && $0.duplicates == 0 && $0.failures.isEmpty })
        #expect(answers[6].accepted + answers[7].accepted == 3)
        #expect(answers[6].duplicates + answers[7].duplicates == 3)
        let applied = try host.runtime.database.read { tx in try tx.query("SELECT seq FROM applied ORDER BY seq", []).map { try $0.int("seq") } }
        #expect(applied == (1...21).map(Int64.init))
        let transactions = try ConsumerTransactionWrapperTests.wrapped(host).filter { $0 > 0 }
        #expect(transactions.reduce(0, +) == 21, "every event's handler ran once in a committed transaction")
        if engine == .sqlite {
            #expect(transactions.count < 7, "\(transactions.count) transactions for 8 calls")
        }
    }

    @Test("a failing event in one of several concurrent calls: the others are applied, only its call reports it (with a gather window too)",
          arguments: TestEngines.all, [0, 0.05])
    func failureStaysInItsCall(engine: DatabaseEngine, gather: TimeInterval) throws {
        let directory = try TemporaryDirectory()
        let host = try Self.start(engine, refused: [11], gather: gather, directory: directory.path)
        defer { host.stop() }
        let envelope = ConsumerTransactionWrapperTests.envelope
        let calls = (0..<5).map { call in (1...3).map { envelope(call * 3 + $0, "ticket-\(call)") } }
        let answers = try Self.deliverConcurrently(host, calls)
        for (index, answer) in answers.enumerated() {
            if index == 3 {
                // Events 10, 11, 12 of one key: 10 applied, 11 refused (index 1 of its call), 12
                // held back behind it, as when the call arrives alone.
                #expect(answer.accepted == 1)
                #expect(answer.failures.map(\.index) == [1])
            } else {
                #expect(answer.accepted == 3 && answer.failures.isEmpty)
            }
        }
        let applied = try host.runtime.database.read { tx in try tx.query("SELECT seq FROM applied ORDER BY seq", []).map { try $0.int("seq") } }
        #expect(applied == (1...15).filter { $0 != 11 && $0 != 12 }.map(Int64.init))
    }

    @Test("with a gather window: concurrent calls share transactions on PostgreSQL too, each answered with its own counts",
          arguments: TestEngines.all)
    func gatherWindowGroupsOnEveryEngine(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        let host = try Self.start(engine, refused: [], gather: 0.05, directory: directory.path)
        defer { host.stop() }
        let envelope = ConsumerTransactionWrapperTests.envelope
        let calls = (0..<6).map { call in (1...3).map { envelope(call * 3 + $0, "ticket-\(call)") } }
        let answers = try Self.deliverConcurrently(host, calls)
        #expect(answers.allSatisfy { $0.accepted == 3 && $0.duplicates == 0 && $0.failures.isEmpty })
        let applied = try host.runtime.database.read { tx in try tx.query("SELECT seq FROM applied ORDER BY seq", []).map { try $0.int("seq") } }
        #expect(applied == (1...18).map(Int64.init))
        let transactions = try ConsumerTransactionWrapperTests.wrapped(host).filter { $0 > 0 }
        #expect(transactions.reduce(0, +) == 18, "every event's handler ran once in a committed transaction")
        // Call 0 (its first event takes 300 ms) gathers nobody within 50 ms; the five calls that
        // queue behind it are applied together, on PostgreSQL as on SQLite.
        #expect(transactions.count < 6, "\(transactions.count) transactions for 6 calls")
    }
}
