import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Synchronization
import Testing
import TestSupport

/// The double-submission check across everything that can have opened the first ticket: another
/// process on the same database, a process started after it, a ticket opened with files, a
/// concurrent batch. On SQLite it is answered from memory (``RecentSubmissions``), on PostgreSQL
/// by an index; the behaviour is the same.
@Suite("Double submissions across instances, restarts and batches", .serialized)
struct DoubleSubmissionTests {
    @Test("a submission repeated on another instance of the same database, or after a restart, returns the first ticket; a different text or contact does not",
          arguments: TestEngines.all)
    func acrossInstancesAndRestarts(engine: DatabaseEngine) throws {
        let first = try IntakeHarness(engine)
        let databaseURL = first.environment["INTAKE_DATABASE_URL"]
        let directory = first.directory.path, secret = first.secretText
        let acme = try first.organization("Acme", taxID: "11222333000181")
        let maria = try first.contact(acme, "Maria", email: "maria@acme.example")
        let joao = try first.contact(acme, "João", email: "joao@acme.example")
        // Older tickets of the contact, then the one that will be repeated.
        for index in 0..<3 {
            _ = try first.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Antes \(index)"),
                                       options: first.options(IntakeHarness.customer(maria)))
        }
        let original = try first.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Repetido"),
                                              options: first.options(IntakeHarness.customer(maria)))
        #expect(!original.duplicate)

        // A second instance on the same database, started after the first ticket.
        let second = try IntakeHarness(engine, databaseURL: databaseURL, dataDirectory: directory, secret: secret)
        let repeated = try second.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Repetido"),
                                              options: second.options(IntakeHarness.customer(maria)))
        #expect(repeated.duplicate && repeated.ticket?.id == original.ticket?.id)
        // A ticket the first instance opens now is seen by the second's next check (already running).
        let later = try first.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Depois"),
                                           options: first.options(IntakeHarness.customer(maria)))
        let laterAgain = try second.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Depois"),
                                                options: second.options(IntakeHarness.customer(maria)))
        #expect(laterAgain.duplicate && laterAgain.ticket?.id == later.ticket?.id)
        // Not a double submission: another text, or the same text from another contact.
        let other = try second.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Repetido, mas outro"),
                                           options: second.options(IntakeHarness.customer(maria)))
        #expect(!other.duplicate)
        let otherContact = try second.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Repetido"),
                                                  options: second.options(IntakeHarness.customer(joao)))
        #expect(!otherContact.duplicate)

        // A new instance (as after a restart: nothing in memory yet) knows the window's tickets.
        // (The first instance stays up: its directory holds the SQLite file.)
        let third = try IntakeHarness(engine, databaseURL: databaseURL, dataDirectory: directory, secret: secret)
        let afterRestart = try third.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Repetido"),
                                                 options: third.options(IntakeHarness.customer(maria)))
        #expect(afterRestart.duplicate && afterRestart.ticket?.id == original.ticket?.id)
        #expect(try third.count("tickets") == 7)
    }

    @Test("the subject is compared as it is stored, trimmed: the same subject with a space or a line break around it (a double click after an edit) returns the first ticket; another text does not",
          arguments: TestEngines.all)
    func subjectComparedAsStored(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let asMaria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let first = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Erro na NF-e"),
                                                         options: asMaria).ticket)
        for subject in ["Erro na NF-e ", " Erro na NF-e", "Erro na NF-e\n"] {
            let again = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: subject), options: asMaria)
            #expect(again.duplicate && again.ticket?.id == first.id, "\(subject.debugDescription)")
        }
        let other = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Erro na NF-e", text: "Outro texto."),
                                            options: asMaria)
        #expect(!other.duplicate)
        #expect(try harness.count("tickets") == 2)
    }

    @Test("a cancelled ticket is no first: the same submission after the customer cancelled it opens a new ticket, which the next repeat returns; also from SQLite's memory over its capacity",
          arguments: TestEngines.all, ["", "1"])
    func cancelledIsNoFirst(engine: DatabaseEngine, capacity: String) throws {
        let harness = try IntakeHarness(engine, environment: capacity.isEmpty ? [:] : ["INTAKE_SQLITE_RECENT_SUBMISSIONS_MAX": capacity])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let asMaria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let first = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: asMaria).ticket)
        // Other tickets after it (so a capacity of 1 has evicted the first from memory).
        for index in 0..<3 {
            _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Outro \(index)"), options: asMaria)
        }
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = first.id
        cancel.reason = "Aberto por engano"
        _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: asMaria)
        let second = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: asMaria)
        #expect(!second.duplicate && second.ticket?.id != first.id && second.ticket?.status == "open")
        let third = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: asMaria)
        #expect(third.duplicate && third.ticket?.id == second.ticket?.id)
        #expect(try harness.count("tickets") == 5)
    }

    @Test("a ticket opened with a file counts as the first for the same text sent again without one, alone or in a batch",
          arguments: TestEngines.all)
    func ticketWithFileIsTheFirst(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<4).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        // Four opens with a file at once (a batch on the group commit's writer), then the same
        // texts without files, again at once.
        let firsts = Mutex<[Int: String]>([:])
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let options = harness.options(IntakeHarness.customer(contacts[index]))
            guard let file = try? harness.upload(Array("conteúdo \(index)".utf8), as: options) else { return }
            var request = IntakeHarness.request(acme, subject: "Com arquivo \(index)")
            request.attachmentIDs = [file.id]
            let response = try? harness.client.call(IntakeV1.Intake.openTicket, request, options: options)
            firsts.withLock { $0[index] = response?.ticket?.id }
        }
        let again = Mutex<[Int: IntakeV1.OpenTicketResponse]>([:])
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let response = try? harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Com arquivo \(index)"),
                                                    options: harness.options(IntakeHarness.customer(contacts[index])))
            again.withLock { $0[index] = response }
        }
        let opened = firsts.withLock { $0 }, repeated = again.withLock { $0 }
        for index in 0..<4 {
            #expect(opened[index] != nil)
            #expect(repeated[index]?.duplicate == true && repeated[index]?.ticket?.id == opened[index])
        }
        #expect(try harness.count("tickets") == 4)
    }

    @Test("SQLite: the double-submission index is gone and the check's memory holds the window's tickets")
    func sqliteMemory() throws {
        let harness = try IntakeHarness(.sqlite)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        for index in 0..<5 {
            _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Chamado \(index)"),
                                        options: harness.options(IntakeHarness.customer(maria)))
        }
        let indexes = try harness.database.read { tx in
            try tx.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets'").map { try $0.text("name") }
        }
        #expect(!indexes.contains("tickets_duplicates"))
        // The last open's own ticket is read by the next transaction's catch-up.
        _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Chamado 0"),
                                    options: harness.options(IntakeHarness.customer(maria)))
        #expect(harness.intake.recentSubmissions?.count == 5)
    }

    @Test("SQLite's memory over its capacity keeps the oldest out of memory and still finds every double submission (read from the table), alone and in batches",
          arguments: TestEngines.all)
    func cappedMemory(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_SQLITE_RECENT_SUBMISSIONS_MAX": "3"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<2).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        @Sendable func open(_ index: Int, subject: String? = nil) throws -> IntakeV1.OpenTicketResponse {
            try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: subject ?? "Chamado \(index)"),
                                    options: harness.options(IntakeHarness.customer(contacts[index % 2])))
        }
        let firsts = try (0..<10).map { try #require(try open($0).ticket).id }
        // Each one again, oldest first: every one is the first ticket's double submission.
        for index in 0..<10 {
            let again = try open(index)
            #expect(again.duplicate && again.ticket?.id == firsts[index], "submission \(index)")
        }
        if engine == .sqlite {
            let recent = try #require(harness.intake.recentSubmissions)
            #expect(recent.count <= 4 && recent.evicted >= 6, "held \(recent.count), evicted \(recent.evicted)")
        }
        // At once (batches of the group commit): still every one.
        let outcomes = ConcurrentCalls(10) { index in try open(index) }
        for (index, outcome) in outcomes.wait() {
            guard case .success(let again) = outcome else {
                Issue.record("submission \(index) failed: \(outcome)")
                continue
            }
            #expect(again.duplicate && again.ticket?.id == firsts[index], "submission \(index) at once")
        }
        // Another contact or another text is a new ticket.
        let other = try open(1, subject: "Chamado 0")
        #expect(!other.duplicate)
        #expect(try harness.count("tickets") == 11)
    }
}
