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

/// A ticket's replies are listed in commit order: each takes the next place of its ticket
/// (`ticket_messages.seq`, migration 28) under the ticket row's lock, whatever its creation time
/// and id say.
@Suite("Replies listed in commit order across intake processes", .serialized)
struct ReplyOrderTests {
    static func reply(_ harness: IntakeHarness, _ ticketID: String, _ text: String, as options: CallOptions) throws -> IntakeV1.TicketMessage {
        var request = IntakeV1.ReplyRequest()
        request.ticket = ticketID
        request.text = text
        return try #require(try harness.client.call(IntakeV1.Intake.reply, request, options: options).message)
    }

    static func sequences(_ harness: IntakeHarness, _ ticketID: String) throws -> [String: Int64] {
        try harness.database.read { tx in
            try tx.query("SELECT id, seq FROM ticket_messages WHERE ticket_id = ?", [.text(ticketID)]).reduce(into: [String: Int64]()) {
                $0[try $1.text("id")] = try $1.int("seq")
            }
        }
    }

    /// Two intake instances on one database (a second SQLite process shares the file), and a
    /// ticket Maria opened through the first: the instances, the ticket and Maria's options.
    static func twoInstances(_ engine: DatabaseEngine) throws -> (IntakeHarness, IntakeHarness, IntakeV1.Ticket, CallOptions) {
        let first = try IntakeHarness(engine)
        let second = try IntakeHarness(engine, databaseURL: first.environment["INTAKE_DATABASE_URL"],
                                       dataDirectory: first.directory.path, secret: first.secretText)
        let acme = try first.organization("Acme", taxID: "11222333000181")
        let maria = first.options(IntakeHarness.customer(try first.contact(acme, "Maria", email: "maria@acme.example")))
        let ticket = try #require(try first.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        return (first, second, ticket, maria)
    }

    @Test("two intake instances on one database reply in turn; with every reply forced into one millisecond and ids in the reverse of commit order (as two processes' ids in one millisecond may be), GetTicket still lists them in commit order",
          arguments: TestEngines.all)
    func twoInstancesOneMillisecond(engine: DatabaseEngine) throws {
        let (first, second, ticket, maria) = try Self.twoInstances(engine)
        var committed: [String] = []
        for index in 0..<6 {
            let harness = index % 2 == 0 ? first : second
            committed.append(try Self.reply(harness, ticket.id, "Resposta \(index)", as: maria).text)
        }
        // One millisecond for all, and ids counting down: creation time and id now say the
        // reverse of the order they were committed in.
        try first.database.write { tx in
            let ids = try tx.query("SELECT id FROM ticket_messages WHERE ticket_id = ? ORDER BY seq", [.text(ticket.id)]).map { try $0.text("id") }
            for (index, id) in ids.enumerated() {
                try tx.execute("UPDATE ticket_messages SET created_at = 1764460800000, id = ? WHERE id = ?",
                               [.text("m-\(99 - index)"), .text(id)])
            }
        }
        for harness in [first, second] {
            #expect(try harness.getTicket(ticket.id, as: maria).messages.map(\.text) == committed)
        }
        #expect(try Self.sequences(first, ticket.id).values.sorted() == Array(1...6))
        #expect(try first.database.read { try $0.scalar("SELECT last_message_seq FROM tickets WHERE id = ?", [.text(ticket.id)]).integerValue } == 6)
    }

    @Test("two intake instances on one PostgreSQL database replying to one ticket at once: places 1…n without a gap or a repeat, each instance's replies in the order it made them, GetTicket in place order",
          arguments: [DatabaseEngine.postgres])
    func concurrentReplies(engine: DatabaseEngine) throws {
        let (first, second, ticket, maria) = try Self.twoInstances(engine)
        let perInstance = 15
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for (name, harness) in [("a", first), ("b", second)] {
            group.enter()
            Thread {
                defer { group.leave() }
                for index in 0..<perInstance {
                    do { _ = try Self.reply(harness, ticket.id, "\(name)\(index)", as: maria) } catch {
                        failures.withLock { $0.append("\(name)\(index): \(error)") }
                    }
                }
            }.start()
        }
        group.wait()
        #expect(failures.withLock { $0 }.isEmpty)
        let listed = try first.getTicket(ticket.id, as: maria).messages
        #expect(listed.count == 2 * perInstance)
        let places = try Self.sequences(first, ticket.id)
        #expect(listed.map { places[$0.id] ?? 0 } == Array(1...Int64(2 * perInstance)), "listed in place order, no gap, no repeat")
        for name in ["a", "b"] {
            #expect(listed.map(\.text).filter { $0.hasPrefix(name) } == (0..<perInstance).map { "\(name)\($0)" })
        }
    }

    @Test("messages stored before migration 28 are numbered in the order they were listed in (creation time, then id), the ticket's counter set; a reply after the upgrade comes last even with an older time",
          arguments: TestEngines.all)
    func rowsFromBefore(engine: DatabaseEngine) throws {
        let older = try OlderDatabase(engine, before: 28, prefix: "intake-reply-order")
        // (id, created_at): listed until now as m2, m1, m3 (time, then id), m4 on another ticket.
        let messages: [(id: String, ticket: String, createdAt: Int64)] = [("m3", "t1", 200), ("m1", "t1", 100), ("m2", "t1", 100), ("m4", "t2", 50)]
        try older.database.write { tx in
            try OlderDatabase.insertAcme(tx)
            for (id, code) in [("t1", "2026-000001"), ("t2", "2026-000002"), ("t3", "2026-000003")] {
                let ticket = OlderDatabase.ticketSnapshot(id: id, code: code)
                try tx.execute("""
                    INSERT INTO tickets (id, code, organization_id, contact_id, status, opened_at, submission_hash, snapshot)
                    VALUES (?, ?, 'o1', 'c1', 'open', 50, ?, ?)
                    """, [.text(id), .text(code), .text("h-\(id)"), .blob(ticket.serializedBytes())])
            }
            for message in messages {
                var reply = IntakeV1.TicketMessage()
                reply.id = message.id
                reply.text = "texto \(message.id)"
                try tx.execute("INSERT INTO ticket_messages (id, ticket_id, created_at, snapshot) VALUES (?, ?, ?, ?)",
                               [.text(message.id), .text(message.ticket), .integer(message.createdAt), .blob(reply.serializedBytes())])
            }
        }
        let harness = try older.harness()
        let agent = harness.staff
        #expect(try harness.getTicket("t1", as: agent).messages.map(\.id) == ["m1", "m2", "m3"])
        #expect(try Self.sequences(harness, "t1") == ["m1": 1, "m2": 2, "m3": 3])
        #expect(try Self.sequences(harness, "t2") == ["m4": 1])
        let counters = try harness.database.read { tx in
            try tx.query("SELECT id, last_message_seq FROM tickets ORDER BY id").map { "\(try $0.text("id"))=\(try $0.int("last_message_seq"))" }
        }
        #expect(counters == ["t1=3", "t2=1", "t3=0"])
        let maria = harness.options(IntakeHarness.customer(try #require(try harness.database.read { try DirectoryStore.contacts($0, email: "maria@acme.example") }.first)))
        let after = try Self.reply(harness, "t1", "Depois da atualização", as: maria)
        try harness.database.write { try $0.execute("UPDATE ticket_messages SET created_at = 0 WHERE id = ?", [.text(after.id)]) }
        #expect(try harness.getTicket("t1", as: agent).messages.map(\.id) == ["m1", "m2", "m3", after.id])
        #expect(try Self.sequences(harness, "t1")[after.id] == 4)
        #expect(try Self.reply(harness, "t3", "Primeira", as: maria).id.isEmpty == false)
        #expect(try Self.sequences(harness, "t3").values.sorted() == [1])
    }
}
