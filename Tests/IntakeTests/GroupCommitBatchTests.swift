import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

@Suite("Group commit: batches of opens", .serialized)
struct GroupCommitBatchTests {
    @Test("opens queued behind a running batch commit together: the invalid one alone gets its field error, one idempotency key gives one ticket within and across batches, codes stay consecutive",
          arguments: TestEngines.all)
    func queuedOpensCommitTogether(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<6).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        @Sendable func open(_ index: Int, _ request: IntakeV1.OpenTicketRequest, key: String? = nil) throws -> IntakeV1.Ticket {
            try #require(try harness.client.call(IntakeV1.Intake.openTicket, request,
                                                 options: harness.options(IntakeHarness.customer(contacts[index]), key: key)).ticket)
        }
        let first = try open(0, IntakeHarness.request(acme, subject: "Primeiro"))
        let year = first.code.prefix(4)

        // Hold the write path (SQLite: the writer; PostgreSQL: this year's code counter row), so the
        // first open to arrive waits inside its transaction while the others queue behind it.
        let held = HeldWriter(harness.database, ticketYear: year)

        // Seven opens at once: index 1 is invalid (no product); two carry the same idempotency key.
        let keyed = IntakeHarness.request(acme, subject: "Com chave")
        let calls: [(contact: Int, request: IntakeV1.OpenTicketRequest, key: String?)] = [
            (0, keyed, "chave-1"), (0, keyed, "chave-1"),
            (1, { var bad = IntakeHarness.request(acme, subject: "Sem produto"); bad.product = ""; return bad }(), nil),
            (2, IntakeHarness.request(acme, subject: "Dois"), nil), (3, IntakeHarness.request(acme, subject: "Três"), nil),
            (4, IntakeHarness.request(acme, subject: "Quatro"), nil), (5, IntakeHarness.request(acme, subject: "Cinco"), nil),
        ]
        let outcomes = ConcurrentCalls(calls.count) { index in try open(calls[index].contact, calls[index].request, key: calls[index].key) }
        // Every call has reached the group commit (one waits in the running batch, the rest queue;
        // on PostgreSQL an invalid open alone in the first batch fails before the counter's lock).
        let limit = Date().addingTimeInterval(20)
        while Date() < limit {
            let stats = try #require(harness.intake.openCommitStatistics)
            if stats.queued + stats.running + outcomes.finished >= calls.count { break }
            usleep(10_000)
        }
        let waiting = try #require(harness.intake.openCommitStatistics)
        #expect(waiting.queued + waiting.running + outcomes.finished == calls.count)
        held.release()
        let results = outcomes.wait()

        let stats = try #require(harness.intake.openCommitStatistics)
        #expect(stats.largestBatch >= 2 && stats.largestBatch >= waiting.queued, "the queued opens ran as one batch: \(stats)")
        guard case .failure(let invalid) = results[2] else {
            Issue.record("the open without a product succeeded")
            return
        }
        #expect(invalid.code == .invalidArgument && invalid.violations.map(\.field) == ["product"])
        let tickets = results.filter { $0.key != 2 }.compactMap { try? $0.value.get() }
        #expect(tickets.count == 6, "every valid open succeeded: \(results)")
        let byKey = [results[0], results[1]].compactMap { try? $0?.get() }
        #expect(byKey.count == 2 && byKey[0].id == byKey[1].id, "one idempotency key, one ticket")
        #expect(Set(tickets.map(\.id)).count == 5)
        let numbers = Set(tickets.map(\.code) + [first.code]).compactMap { Int($0.split(separator: "-").last ?? "") }.sorted()
        #expect(numbers == Array(1...6), "unique, consecutive codes; the rejected open took none")
        #expect(try harness.count("tickets") == 6)
        #expect(try harness.events(IntakeV1.TicketOpened.self).count == 6)

        // The same key in a later batch: the same ticket again, nothing new stored.
        let retried = try open(0, keyed, key: "chave-1")
        #expect(retried.id == byKey.first?.id && retried.code == byKey.first?.code)
        #expect(try harness.count("tickets") == 6)
    }

    @Test("uploads queued behind a running write commit together; one onto an unknown ticket fails alone and stores nothing; the others read back byte-exact",
          arguments: TestEngines.all)
    func queuedUploadsCommitTogether(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        _ = try harness.upload(randomBytes(100, seed: 40), as: maria)

        // Hold the write path (SQLite: the writer; PostgreSQL: inserts into contents), so the first
        // upload to arrive waits inside its transaction while the others queue behind it.
        let held = HeldWriter(harness.database) { tx in try tx.execute("LOCK TABLE contents IN SHARE MODE") }

        let files = (0..<6).map { randomBytes(1_000 + $0, seed: UInt64(41 + $0)) }
        // Index 3 goes onto a ticket that does not exist.
        let outcomes = ConcurrentCalls(files.count) { index in
            try harness.upload(files[index], name: "f\(index).png", as: maria, ticketID: index == 3 ? "00000000-0000-7000-8000-000000000000" : "")
        }
        let limit = Date().addingTimeInterval(20)
        while Date() < limit {
            let stats = try #require(harness.intake.uploadCommitStatistics)
            if stats.queued + stats.running >= files.count { break }
            usleep(10_000)
        }
        held.release()
        let results = outcomes.wait()

        let stats = try #require(harness.intake.uploadCommitStatistics)
        #expect(stats.largestBatch >= 2, "the queued uploads ran together: \(stats)")
        guard case .failure(let unknownTicket) = results[3] else {
            Issue.record("the upload onto an unknown ticket succeeded")
            return
        }
        #expect(unknownTicket.code == .notFound)
        for index in files.indices where index != 3 {
            let ref = try #require(try? results[index]?.get(), "upload \(index): \(String(describing: results[index]))")
            #expect(try harness.download(ref.id, as: maria, chunk: 700) == files[index])
        }
        #expect(try harness.count("attachments") == 6, "the first upload and five of the six")
        #expect(try harness.count("contents") == 6)
    }

    @Test("every open the real process acknowledged from its batches is there after kill -9", arguments: TestEngines.all)
    func acknowledgedOpensSurviveKill(engine: DatabaseEngine) throws {
        let intake = try KillableIntake(engine)
        let (organization, staff) = (intake.organization, intake.staff)

        // Eight clients open tickets until the process is killed; keep what was acknowledged.
        let opened = intake.openUntilKilled { index, round in
            IntakeHarness.request(organization, subject: "Assunto \(index)-\(round)")
        }.map(\.ticket)
        #expect(opened.count >= 200)
        #expect(Set(opened.map(\.code)).count == opened.count, "codes unique")

        try intake.restart()
        let after = intake.client()
        defer { after.close() }
        var missing: [String] = []
        for ticket in opened {
            var get = IntakeV1.GetTicketRequest()
            get.ticket = ticket.id
            guard let read = try? after.call(IntakeV1.Intake.getTicket, get, options: staff), read.code == ticket.code else {
                missing.append(ticket.code)
                continue
            }
        }
        #expect(missing.isEmpty, "acknowledged but lost after kill -9: \(missing.prefix(10))")
    }
    @Test("with a gather window, concurrent opens wait for each other and share transactions (a rejected one still stores nothing, codes stay gap-free); opens one after the other never share one",
          arguments: TestEngines.all)
    func gatheredBatches(engine: DatabaseEngine) throws {
        // A long window (50 ms), so batching does not depend on how busy the machine is.
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true",
                                                              "INTAKE_GROUP_COMMIT_GATHER_MICROSECONDS": "50000"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<8).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }

        // One after the other: each open alone in its transaction, whatever the window.
        for round in 0..<3 {
            _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Sozinho \(round)"),
                                        options: harness.options(IntakeHarness.customer(contacts[0])))
        }
        let alone = try #require(harness.intake.openCommitStatistics)
        #expect(alone.opens == 3 && alone.batches == 3 && alone.largestBatch == 1)

        // Eight callers at once, five rounds each; every fourth open of the odd callers is invalid.
        let outcomes = Mutex<[Int: Result<String, RPCError>]>([:])
        let group = DispatchGroup()
        for index in 0..<8 {
            group.enter()
            Thread {
                defer { group.leave() }
                for round in 0..<5 {
                    var request = IntakeHarness.request(acme, subject: "Junto \(index)-\(round)")
                    if index % 2 == 1 && round % 4 == 0 { request.product = "" }
                    do {
                        let response = try harness.client.call(IntakeV1.Intake.openTicket, request,
                                                               options: harness.options(IntakeHarness.customer(contacts[index])))
                        outcomes.withLock { $0[index * 100 + round] = .success(response.ticket?.code ?? "") }
                    } catch let error as RPCError {
                        outcomes.withLock { $0[index * 100 + round] = .failure(error) }
                    } catch {
                        outcomes.withLock { $0[index * 100 + round] = .failure(RPCError(.unknown, "\(error)")) }
                    }
                }
            }.start()
        }
        group.wait()
        let stats = try #require(harness.intake.openCommitStatistics)
        let concurrent = (opens: stats.opens - alone.opens, batches: stats.batches - alone.batches)
        #expect(concurrent.opens == 40)
        #expect(concurrent.batches < 40 && stats.largestBatch >= 2, "concurrent opens shared transactions: \(stats)")
        let all = outcomes.withLock { $0 }
        let failures = all.values.compactMap { if case .failure(let error) = $0 { return error } else { return nil } }
        let codes = all.values.compactMap { if case .success(let code) = $0 { return code } else { return nil } }
        #expect(failures.count == 8 && failures.allSatisfy { $0.code == .invalidArgument && $0.violations.map(\.field) == ["product"] })
        #expect(codes.compactMap { Int($0.split(separator: "-").last ?? "") }.sorted() == Array(4...35), "consecutive after the three alone, no gaps")
        #expect(try harness.count("tickets") == 35)
        #expect(try harness.events(IntakeV1.TicketOpened.self).count == 35)
    }

    @Test("batch numbering: opens that fail after taking their number give it back with their savepoint; numbers stay consecutive and the counter is written once with the batch",
          arguments: TestEngines.all)
    func batchNumbering(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: IntakeService.migrations)
        defer { db.close() }
        try db.write { tx in try tx.execute("INSERT INTO counters (name, last_value) VALUES (?, ?)", [.text("ticket-test"), .integer(41)]) }
        let commits = GroupCommit(database: db, gatherMicroseconds: 100_000)
        let outcomes = Mutex<[Int: Result<Int64, RPCError>]>([:])
        let group = DispatchGroup()
        // The first open runs alone and is held until the next seven have queued behind it (a fixed
        // 300 ms was not always enough on a loaded machine), so they form one batch.
        let gate = DispatchSemaphore(value: 0)
        group.enter()
        commits.submit({ _ in gate.wait(); return 0 }) { _ in group.leave() }
        let limit = Date().addingTimeInterval(10)
        while commits.statistics.running < 1 && Date() < limit { usleep(2_000) }
        for index in 1...7 {
            group.enter()
            let read: GroupCommit.Read = .counter("ticket-test")
            commits.submit({ tx in
                guard let batch = tx as? OpenBatch, try batch.numbers("ticket-test") else { throw RPCError(.internal, "not batched") }
                let number = batch.nextNumber("ticket-test")
                try tx.execute("INSERT INTO counters (name, last_value) VALUES (?, ?)", [.text("probe-\(index)"), .integer(number)])
                if index % 3 == 0 { throw RPCError(.invalidArgument, "fails after taking \(number)") }
                return number
            }, reads: [read]) { result in
                outcomes.withLock { $0[index] = result.mapError { $0 as? RPCError ?? RPCError(.unknown, "\($0)") } }
                group.leave()
            }
        }
        gate.signal()
        group.wait()
        let results = outcomes.withLock { $0 }
        let numbers = (1...7).compactMap { try? results[$0]?.get() }
        #expect(numbers == [42, 43, 44, 45, 46], "consecutive in order, the failed opens' numbers reused: \(results)")
        #expect((1...7).filter { if case .failure(let error) = results[$0] { return error.code == .invalidArgument } else { return false } } == [3, 6])
        #expect(commits.statistics.largestBatch == 7)
        let stored = try db.read { tx in
            try tx.query("SELECT name, last_value FROM counters WHERE name LIKE 'probe-%' OR name = 'ticket-test' ORDER BY name").map {
                "\(try $0.text("name"))=\(try $0.int("last_value"))"
            }
        }
        #expect(stored == ["probe-1=42", "probe-2=43", "probe-4=44", "probe-5=45", "probe-7=46", "ticket-test=46"])
    }

    @Test("after a batch of concurrent opens the writer sleeps until as many opens queued again (one wake-up for the next batch, not one for its first open and one for its last); fewer than that still run once the gather window passed",
          arguments: TestEngines.all)
    func nextBatchWakesTheWriterOnce(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: IntakeService.migrations)
        defer { db.close() }
        // A 10 s window: the bound below (8 s) tells "started by its fourth open" from "waited
        // out the window" with room for a loaded machine.
        let commits = GroupCommit(database: db, gatherMicroseconds: 10_000_000)
        @Sendable func submitRound(_ count: Int, spacing: UInt32 = 0) -> DispatchGroup {
            let group = DispatchGroup()
            for _ in 0..<count {
                group.enter()
                commits.submit({ _ in 0 }) { _ in group.leave() }
                if spacing > 0 { usleep(spacing) }
            }
            return group
        }
        // A slow open alone with three queued behind it (so four are expected next), then a
        // fourth: a batch of four, and the writer expects four again. The slow open is held until
        // the three have queued (a fixed 200 ms was not always enough on a loaded machine).
        let held = DispatchGroup(), gate = DispatchSemaphore(value: 0)
        held.enter()
        commits.submit({ _ in gate.wait(); return 0 }) { _ in held.leave() }
        let limit = Date().addingTimeInterval(10)
        while commits.statistics.running < 1 && Date() < limit { usleep(2_000) }
        let first = submitRound(3)
        gate.signal()
        held.wait()
        let fourth = submitRound(1)
        first.wait()
        fourth.wait()
        #expect(commits.statistics.largestBatch == 4)

        // The next four arrive one by one, 20 ms apart: one batch, one wake-up (by the fourth).
        let before = commits.statistics
        let started = Date()
        submitRound(4, spacing: 20_000).wait()
        let after = commits.statistics
        #expect(after.batches == before.batches + 1 && after.opens == before.opens + 4, "one batch of four: \(after)")
        #expect(after.wakeUps == before.wakeUps + 1, "woken once, by the last of the four: \(before) → \(after)")
        #expect(Date().timeIntervalSince(started) < 8, "the batch started with its fourth open, not at the end of the window")

        // Two opens where four are expected: they run together once the window (from the first) passed.
        let short = GroupCommit(database: db, gatherMicroseconds: 300_000)
        let shortHeld = DispatchGroup(), shortGate = DispatchSemaphore(value: 0)
        shortHeld.enter()
        short.submit({ _ in shortGate.wait(); return 0 }) { _ in shortHeld.leave() }
        while short.statistics.running < 1 && Date() < limit { usleep(2_000) }
        let queued = DispatchGroup()
        for _ in 0..<4 {
            queued.enter()
            short.submit({ _ in 0 }) { _ in queued.leave() }
        }
        shortGate.signal()
        shortHeld.wait()
        queued.wait()
        let pair = DispatchGroup()
        for _ in 0..<2 {
            pair.enter()
            short.submit({ _ in 0 }) { _ in pair.leave() }
        }
        #expect(pair.wait(timeout: .now() + 10) == .success, "fewer opens than expected are not left waiting")
        #expect(short.statistics.batches == 3 && short.statistics.opens == 7)
    }

    @Test("callers with one open in flight each (8 × 1, each next open submitted from the previous one's answer by a thread of the caller's): every open answered, and no wake-up of the writer lost (it never waits out its window for opens already queued)",
          arguments: TestEngines.all)
    func closedLoopLosesNoWakeUp(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: IntakeService.migrations)
        defer { db.close() }
        // A window longer than the opens below may take, even on a loaded machine: a lost
        // wake-up would stall them 30 s, past the 25 s they are given.
        let commits = GroupCommit(database: db, gatherMicroseconds: 30_000_000)
        let callers = 8, wanted = 800
        let answered = Atomic<Int>(0), failed = Atomic<Int>(0), stop = Atomic<Bool>(false)
        let done = DispatchGroup()
        // Each caller's next open is submitted from a thread of its own (as the RPC event loop
        // does), so the writer is asleep between batches and is woken for each.
        let threads = (0..<callers).map { DispatchQueue(label: "caller-\($0)") }
        @Sendable func open(_ caller: Int) {
            commits.submit({ _ in caller }) { result in
                if case .success = result { answered.add(1, ordering: .relaxed) } else { failed.add(1, ordering: .relaxed) }
                if stop.load(ordering: .relaxed) { done.leave() } else { threads[caller].async { open(caller) } }
            }
        }
        let started = Date()
        for caller in 0..<callers {
            done.enter()
            threads[caller].async { open(caller) }
        }
        while answered.load(ordering: .relaxed) < wanted && Date().timeIntervalSince(started) < 25 { usleep(1_000) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(answered.load(ordering: .relaxed) >= wanted, "\(answered.load(ordering: .relaxed)) opens answered in \(elapsed) s")
        #expect(elapsed < 25, "no batch waited out the window")
        // The callers stop; opens submitted alongside their last ones make up the batch the writer
        // expects (callers out of step would otherwise leave it short, rightly waiting the window).
        stop.store(true, ordering: .relaxed)
        let fillers = DispatchGroup()
        for _ in 0..<callers {
            fillers.enter()
            commits.submit({ _ in 0 }) { _ in fillers.leave() }
        }
        #expect(done.wait(timeout: .now() + 60) == .success && fillers.wait(timeout: .now() + 60) == .success)
        #expect(failed.load(ordering: .relaxed) == 0)
        #expect(commits.statistics.opens == answered.load(ordering: .relaxed) + callers)
    }
}

@Suite("Group commit: checkpoints off the writer")
struct BackgroundCheckpointTests {
    @Test("SQLite: committed opens are copied into the database file by background checkpoints, and every acknowledged open is there; PostgreSQL has none",
          arguments: TestEngines.all)
    func checkpointsInTheBackground(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true", "INTAKE_SQLITE_CHECKPOINT_EVERY_OPENS": "3"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contact = try harness.contact(acme, "Pessoa", email: "p@acme.example")
        var codes: [String] = []
        func openThree(_ round: Int) throws {
            for index in 0..<3 {
                let response = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Chamado \(round)-\(index)"),
                                                       options: harness.options(IntakeHarness.customer(contact)))
                codes.append(try #require(response.ticket).code)
            }
        }
        guard engine == .sqlite else {
            try openThree(0)
            #expect(harness.intake.checkpointStatistics == nil)
            return
        }
        // A checkpoint runs on its own thread after every third open: wait for each.
        for round in 1...3 {
            try openThree(round)
            let deadline = Date().addingTimeInterval(10)
            while (harness.intake.checkpointStatistics?.checkpoints ?? 0) < round && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        }
        let statistics = try #require(harness.intake.checkpointStatistics)
        #expect(statistics.checkpoints >= 3)
        #expect(statistics.largestWAL > 0)
        // Every acknowledged ticket is stored, read through another connection.
        let stored = try harness.database.read { tx in try tx.query("SELECT code FROM tickets ORDER BY code", []).map { try $0.text("code") } }
        #expect(stored == codes.sorted())
    }
}

/// Calls started together, each on a thread of its own, with their outcomes by index.
final class ConcurrentCalls<Output: Sendable>: Sendable {
    private let group = DispatchGroup()
    private let outcomes = Mutex<[Int: Result<Output, RPCError>]>([:])

    init(_ count: Int, _ call: @escaping @Sendable (Int) throws -> Output) {
        for index in 0..<count {
            group.enter()
            Thread { [self] in
                defer { group.leave() }
                let outcome: Result<Output, RPCError>
                do { outcome = .success(try call(index)) } catch let error as RPCError { outcome = .failure(error) } catch {
                    outcome = .failure(RPCError(.unknown, "\(error)"))
                }
                outcomes.withLock { $0[index] = outcome }
            }.start()
        }
    }

    /// How many calls have returned so far.
    var finished: Int { outcomes.withLock { $0.count } }

    /// Waits for every call; their outcomes by index.
    func wait() -> [Int: Result<Output, RPCError>] {
        group.wait()
        return outcomes.withLock { $0 }
    }
}
