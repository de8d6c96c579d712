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

/// What a group-commit batch does once for all its opens (``OpenBatch``): the ticket and outbox
/// rows of plain opens written together before `COMMIT`, the counter written once, savepoints only
/// for opens that write something themselves; every open's own outcome kept.
@Suite("Group commit: rows written once per batch", .serialized)
struct OpenBatchTests {
    /// One call of a batch.
    struct Call: Sendable {
        var options: CallOptions
        var request: IntakeV1.OpenTicketRequest
    }

    /// Runs `calls` as one batch: the write path is held (SQLite: the writer; PostgreSQL: this
    /// year's code counter row, which must exist: open a ticket before) while a first open waits
    /// alone in its transaction, the calls queue behind it, and all of them run together once it
    /// is released.
    static func oneBatch(_ harness: IntakeHarness, first: Call, _ calls: [Call]) throws
        -> (first: Result<IntakeV1.OpenTicketResponse, RPCError>, results: [Int: Result<IntakeV1.OpenTicketResponse, RPCError>],
            largestBatch: Int) {
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).year!
        let held = HeldWriter(harness.database, ticketYear: year)
        let outcomes = Mutex<[Int: Result<IntakeV1.OpenTicketResponse, RPCError>]>([:])
        let group = DispatchGroup()
        func start(_ index: Int, _ call: Call) {
            group.enter()
            Thread {
                defer { group.leave() }
                let result: Result<IntakeV1.OpenTicketResponse, RPCError>
                do {
                    result = .success(try harness.client.call(IntakeV1.Intake.openTicket, call.request, options: call.options))
                } catch let error as RPCError {
                    result = .failure(error)
                } catch {
                    result = .failure(RPCError(.unknown, "\(error)"))
                }
                outcomes.withLock { $0[index] = result }
            }.start()
        }
        // The first open runs alone and waits for the held write path; the others queue behind it.
        start(-1, first)
        let limit = Date().addingTimeInterval(20)
        while Date() < limit, (harness.intake.openCommitStatistics?.running ?? 0) < 1 { usleep(5_000) }
        for (index, call) in calls.enumerated() { start(index, call) }
        while Date() < limit, (harness.intake.openCommitStatistics?.queued ?? 0) < calls.count { usleep(5_000) }
        #expect(harness.intake.openCommitStatistics?.queued == calls.count, "every call queued behind the first")
        held.release()
        group.wait()
        var results = outcomes.withLock { $0 }
        let firstResult = results.removeValue(forKey: -1)!
        return (firstResult, results, harness.intake.openCommitStatistics?.largestBatch ?? 0)
    }

    /// The outbox rows waiting for workflow and notification (never delivered here).
    static func outboxRows(_ harness: IntakeHarness) throws -> Int64 {
        try harness.database.read {
            try $0.scalar("SELECT COUNT(*) FROM storage_outbox WHERE event_key LIKE 'workflow|%' OR event_key LIKE 'notification|%'")
        }.integerValue
    }

    @Test("one batch of mixed opens: double submissions (of a ticket stored before or opened earlier in the batch) and a repeated e-mail give the first ticket, files, keys and a rejected open keep their own outcome, codes stay consecutive, one outbox row per subscriber",
          arguments: TestEngines.all)
    func mixedBatch(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<7).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        func customer(_ index: Int, key: String? = nil) -> CallOptions { harness.options(IntakeHarness.customer(contacts[index]), key: key) }
        let file = try harness.upload(Array("conteúdo do anexo".utf8), name: "log.txt", as: customer(2))
        var email = IntakeHarness.request(acme, subject: "Pelo e-mail")
        email.contactID = contacts[1].id
        email.channel = "email"
        email.emailMessageID = "<lote-1@acme.example>"
        var withFile = IntakeHarness.request(acme, subject: "Com anexo")
        withFile.attachmentIDs = [file.id]
        var invalid = IntakeHarness.request(acme, subject: "Sem produto")
        invalid.product = ""
        let calls = [
            Call(options: customer(0), request: IntakeHarness.request(acme, subject: "Igual")),     // 0
            Call(options: customer(0), request: IntakeHarness.request(acme, subject: "Igual")),     // 1: double submission of 0
            Call(options: harness.staff, request: email),                                         // 2
            Call(options: harness.staff, request: email),                                         // 3: the same e-mail again
            Call(options: customer(2), request: withFile),                                        // 4
            Call(options: customer(3), request: IntakeHarness.request(acme, subject: "Três")),      // 5
            Call(options: customer(4), request: invalid),                                         // 6: rejected
            Call(options: customer(5, key: "chave-lote"), request: IntakeHarness.request(acme, subject: "Com chave")),  // 7
            Call(options: customer(5, key: "chave-lote"), request: IntakeHarness.request(acme, subject: "Com chave")),  // 8: same key
            Call(options: customer(6), request: IntakeHarness.request(acme, subject: "Antes")),    // 9: double submission of `earlier`
        ]
        let earlier = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Antes"),
                                                           options: customer(6)).ticket)
        let run = try Self.oneBatch(harness, first: Call(options: customer(6), request: IntakeHarness.request(acme, subject: "Primeiro")), calls)
        #expect(run.largestBatch == calls.count, "the queued calls ran as one batch")
        let first = try #require(try? run.first.get().ticket)
        func response(_ index: Int) -> IntakeV1.OpenTicketResponse? { try? run.results[index]?.get() }

        // Each pair: one ticket; the double submission and the repeated e-mail say so.
        let pairs = [(0, 1), (2, 3), (7, 8)]
        for (a, b) in pairs {
            let left = try #require(response(a)?.ticket), right = try #require(response(b)?.ticket)
            #expect(left == right, "calls \(a) and \(b) answer the same ticket")
        }
        #expect([response(0), response(1)].compactMap { $0 }.filter(\.duplicate).count == 1)
        #expect([response(2), response(3)].compactMap { $0 }.filter(\.duplicate).count == 1)
        #expect(response(4)?.ticket?.attachments.map(\.id) == [file.id])
        #expect(response(9)?.duplicate == true && response(9)?.ticket?.id == earlier.id, "a ticket stored before the batch is found")
        guard case .failure(let rejected)? = run.results[6] else {
            Issue.record("the open without a product succeeded")
            return
        }
        #expect(rejected.code == .invalidArgument && rejected.violations.map(\.field) == ["product"])

        // Seven tickets with consecutive codes; the rejected open took no number.
        let tickets = [earlier, first] + [0, 2, 4, 5, 7].compactMap { response($0)?.ticket }
        #expect(tickets.count == 7 && Set(tickets.map(\.id)).count == 7)
        let numbers = tickets.compactMap { Int($0.code.split(separator: "-").last ?? "") }.sorted()
        #expect(numbers == Array(1...7), "unique, consecutive codes: \(tickets.map(\.code))")
        #expect(try harness.count("tickets") == 7)
        let year = first.code.prefix(4)
        let counter = try harness.database.read { try $0.scalar("SELECT last_value FROM counters WHERE name = ?", [.text("ticket-\(year)")]) }
        #expect(counter.integerValue == 7, "the counter was written with the batch")

        // What was stored is what was answered: each ticket as GetTicket reads it, one TicketOpened
        // per ticket with its code, and one outbox row per subscriber (workflow and notification, which
        // are unreachable here; the gateway's rows go to the event feed and leave the outbox).
        for ticket in tickets {
            var reference = IntakeV1.GetTicketRequest()
            reference.ticket = ticket.id
            let stored = try harness.client.call(IntakeV1.Intake.getTicket, reference, options: harness.staff)
            #expect(stored.code == ticket.code && stored.subject == ticket.subject && stored.contact == ticket.contact)
            #expect(stored.attachments.map(\.id) == ticket.attachments.map(\.id))
        }
        let opened = try harness.events(IntakeV1.TicketOpened.self)
        #expect(Dictionary(uniqueKeysWithValues: opened.map { ($0.ticketID, $0.code) }) ==
                Dictionary(uniqueKeysWithValues: tickets.map { ($0.id, $0.code) }))
        #expect(try Self.outboxRows(harness) == 14)
        #expect(try harness.database.read { try $0.scalar("SELECT COUNT(*) FROM tickets WHERE email_message_id = ?",
                                                          [.text(email.emailMessageID)]) }.integerValue == 1)
    }

    @Test("one batch of opens naming uploads: each ticket gets its uploads in the order named, then its own files, rows written with the batch; a second open naming an upload already taken in the batch is refused; a rejected open leaves its upload pending",
          arguments: TestEngines.all)
    func batchLinksUploads(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<4).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        func customer(_ index: Int) -> CallOptions { harness.options(IntakeHarness.customer(contacts[index])) }
        let bytes = (0..<5).map { Array("anexo \($0) ".utf8) + randomBytes(300 + $0, seed: UInt64(70 + $0)) }
        let a = try harness.upload(bytes[0], name: "a.txt", as: customer(0))
        let b = try harness.upload(bytes[1], name: "b.txt", as: customer(0))
        let c = try harness.upload(bytes[2], name: "c.txt", as: customer(1))
        let d = try harness.upload(bytes[3], name: "d.txt", as: customer(2))
        var twoAndOwn = IntakeHarness.request(acme, subject: "Dois anexos e um arquivo")
        twoAndOwn.attachmentIDs = [b.id, a.id]
        var own = IntakeV1.OpenTicketFile()
        own.fileName = "proprio.txt"
        own.data = bytes[4]
        twoAndOwn.files = [own]
        var first = IntakeHarness.request(acme, subject: "Com c")
        first.attachmentIDs = [c.id]
        var again = IntakeHarness.request(acme, subject: "Com c de novo")
        again.attachmentIDs = [c.id]
        var rejected = IntakeHarness.request(acme, subject: "Sem produto")
        rejected.product = ""
        rejected.attachmentIDs = [d.id]
        let calls = [
            Call(options: customer(0), request: twoAndOwn),  // 0
            Call(options: customer(1), request: first),      // 1
            Call(options: customer(1), request: again),      // 2: c again; whichever of 1 and 2 runs second is refused
            Call(options: customer(2), request: rejected),   // 3: rejected, d stays pending
        ]
        _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Antes"), options: customer(3))
        let run = try Self.oneBatch(harness, first: Call(options: customer(3), request: IntakeHarness.request(acme, subject: "Primeiro")), calls)
        #expect(run.largestBatch == calls.count, "the queued calls ran as one batch")
        func response(_ index: Int) -> IntakeV1.Ticket? { try? run.results[index]?.get().ticket }

        let withFiles = try #require(response(0))
        #expect(withFiles.attachments.map(\.id).prefix(2) == [b.id, a.id] && withFiles.attachments.count == 3)
        // Calls 1 and 2 both name c (queued in whichever order their threads got there): the first
        // to run takes it, the other is refused.
        let winners = [1, 2].filter { response($0) != nil }
        #expect(winners.count == 1, "one of the two opens naming c took it: \(run.results)")
        guard let winner = winners.first, case .failure(let taken)? = run.results[3 - winner] else {
            Issue.record("a second open took an upload already on a ticket, or neither did")
            return
        }
        #expect(response(winner)?.attachments.map(\.id) == [c.id])
        #expect(taken.code == .invalidArgument && taken.violations.map(\.field) == ["attachment_ids[0]"])
        guard case .failure(let invalid)? = run.results[3] else {
            Issue.record("the open without a product succeeded")
            return
        }
        #expect(invalid.code == .invalidArgument && invalid.violations.map(\.field) == ["product"])

        // Stored as answered: GetTicket lists the files by position, each readable byte-exact.
        for ticket in [withFiles, try #require(response(winner))] {
            var reference = IntakeV1.GetTicketRequest()
            reference.ticket = ticket.id
            let stored = try harness.client.call(IntakeV1.Intake.getTicket, reference, options: harness.staff)
            #expect(stored.attachments.map(\.id) == ticket.attachments.map(\.id))
        }
        #expect(try harness.download(b.id, as: customer(0)) == bytes[1])
        #expect(try harness.download(withFiles.attachments[2].id, as: customer(0)) == bytes[4])
        let bytesOnTicket = try harness.database.read { try $0.scalar("SELECT attachment_bytes FROM tickets WHERE id = ?", [.text(withFiles.id)]) }
        #expect(bytesOnTicket.integerValue == Int64(bytes[0].count + bytes[1].count + bytes[4].count))
        #expect(try harness.referenceCountMismatches().isEmpty)

        // The rejected open's upload is still pending: a later open takes it.
        var later = IntakeHarness.request(acme, subject: "Depois com d")
        later.attachmentIDs = [d.id]
        let taker = try harness.client.call(IntakeV1.Intake.openTicket, later, options: customer(2))
        #expect(taker.ticket?.attachments.map(\.id) == [d.id])
    }

    @Test("a failure writing a batch's rows fails every open of that batch and stores none of them; the next opens continue the codes without a gap",
          arguments: TestEngines.all)
    func failedFlushStoresNothing(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<4).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        func customer(_ index: Int) -> CallOptions { harness.options(IntakeHarness.customer(contacts[index])) }
        // A trigger refuses the tickets of contact 3, which are written with the batch's rows.
        try harness.database.write { tx in
            if tx.engine == .postgres {
                try tx.execute("CREATE FUNCTION refuse_ticket() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''recusado''; END'")
                try tx.execute("""
                    CREATE TRIGGER refuse_ticket BEFORE INSERT ON tickets FOR EACH ROW
                    WHEN (NEW.contact_id = '\(contacts[3].id)') EXECUTE FUNCTION refuse_ticket()
                    """)
            } else {
                try tx.execute("""
                    CREATE TRIGGER refuse_ticket BEFORE INSERT ON tickets
                    WHEN NEW.contact_id = '\(contacts[3].id)' BEGIN SELECT RAISE(ABORT, 'recusado'); END
                    """)
            }
        }
        let calls = [1, 2, 3].map { Call(options: customer($0), request: IntakeHarness.request(acme, subject: "Lote \($0)")) }
        _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Antes"), options: customer(0))
        let run = try Self.oneBatch(harness, first: Call(options: customer(0), request: IntakeHarness.request(acme, subject: "Primeiro")), calls)
        #expect(run.largestBatch == calls.count)
        let first = try #require(try? run.first.get().ticket)
        #expect(run.results.count == 3 && run.results.values.allSatisfy { if case .failure = $0 { true } else { false } },
                "no open of the failed batch is acknowledged: \(run.results)")
        #expect(try harness.count("tickets") == 2)
        #expect(try Self.outboxRows(harness) == 4)

        // The next opens number on from the first ticket.
        let next = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Depois"), options: customer(1))
        #expect(Int(next.ticket?.code.split(separator: "-").last ?? "") == Int(first.code.split(separator: "-").last ?? "")! + 1)
    }

    @Test("the double-submission hash is SHA-256 of subject, NUL and text, as stored by earlier versions")
    func submissionHashUnchanged() {
        var request = IntakeV1.OpenTicketRequest()
        request.subject = "Nota fiscal não transmite"
        request.request = "Ao transmitir a NF-e a rotina FIS001 devolve erro 539.\nçãõ 🙂"
        #expect(IntakeContext.submissionHash(request) ==
                Digest.hex(Digest.sha256(Array("\(request.subject)\u{0}\(request.request)".utf8))))
    }
}
