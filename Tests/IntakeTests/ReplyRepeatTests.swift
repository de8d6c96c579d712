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

extension IntakeHarness {
    /// The e-mail channel as other services call intake (only a service may record a reply's Message-ID).
    var mailChannel: CallOptions {
        var principal = AuthV1.Principal()
        principal.kind = .service
        principal.id = "notification-mail"
        principal.displayName = "E-mail"
        return options(principal)
    }
}

@Suite("A repeated reply answers the stored one, files included", .serialized)
struct ReplyRepeatTests {
    @Test("the same e-mail reply taken in twice answers the stored message with its files, exactly as the first answer and GetTicket list them; nothing is stored twice",
          arguments: TestEngines.all)
    func repeatedEmailReplyCarriesItsFiles(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        var open = IntakeHarness.request(acme)
        open.contactID = try harness.contact(acme, "Maria", email: "maria@acme.example").id
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, open, options: harness.staff).ticket)
        let large = try harness.upload(randomBytes(300_000, seed: 3), name: "dump.bin", as: harness.mailChannel)
        var request = IntakeV1.ReplyRequest()
        request.ticket = ticket.id
        request.text = "Segue o dump."
        request.channel = "email"
        request.emailMessageID = "<r1@acme.example>"
        request.attachmentIDs = [large.id]
        request.files = [openFile("print.png", randomBytes(4_000, seed: 1)), openFile("log.txt", randomBytes(900, seed: 2), type: "text/plain")]
        let first = try #require(try harness.client.call(IntakeV1.Intake.reply, request, options: harness.mailChannel).message)
        #expect(first.attachments.map(\.fileName) == ["dump.bin", "print.png", "log.txt"])

        let again = try #require(try harness.client.call(IntakeV1.Intake.reply, request, options: harness.mailChannel).message)
        #expect(again == first, "the stored message, files included")
        #expect(try harness.getTicket(ticket.id, as: harness.staff).messages == [first])
        #expect(try harness.count("ticket_messages") == 1 && harness.count("attachments") == 3)
        #expect(try harness.events(IntakeV1.CustomerReplied.self).count == 1)
    }

    @Test("the same e-mail open taken in twice answers the ticket with its files as the first answer listed them (uploads of one millisecond named out of id order, then files)",
          arguments: TestEngines.all)
    func repeatedEmailOpenCarriesItsFiles(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let uploads = try harness.uploadsInOneMillisecond(4, prefix: "anexo", as: harness.mailChannel)
        var request = IntakeHarness.request(acme)
        request.contactID = try harness.contact(acme, "Maria", email: "maria@acme.example").id
        request.channel = "email"
        request.emailMessageID = "<abre@acme.example>"
        request.attachmentIDs = uploads.map(\.id)
        request.files = [openFile("print.png", randomBytes(3_000, seed: 8))]
        let first = try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.mailChannel)
        let ticket = try #require(first.ticket)
        #expect(!first.duplicate && ticket.attachments.map(\.fileName) == uploads.map(\.fileName) + ["print.png"])
        let again = try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.mailChannel)
        #expect(again.duplicate && again.ticket?.attachments == ticket.attachments)
        #expect(try harness.getTicket(ticket.id, as: harness.staff).attachments == ticket.attachments)
        #expect(try harness.count("tickets") == 1 && harness.count("attachments") == 5)
    }

    @Test("a reply arriving while another transaction stores the same e-mail (on PostgreSQL: the unique Message-ID conflicts at commit) answers that message with its files",
          arguments: TestEngines.all)
    func concurrentEmailReplyAnswersTheStoredOne(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        var open = IntakeHarness.request(acme)
        open.contactID = try harness.contact(acme, "Maria", email: "maria@acme.example").id
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, open, options: harness.staff).ticket)
        // The other process's reply: its message and its file, not committed yet.
        var stored = IntakeV1.TicketMessage()
        stored.id = "held-message"
        stored.text = "Segue."
        stored.channel = "email"
        let holding = DispatchSemaphore(value: 0), released = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let database = harness.database
        let ticketID = ticket.id
        let snapshot = stored.serializedBytes()
        Thread {
            try? database.write { tx in
                try tx.execute("INSERT INTO ticket_messages (id, ticket_id, created_at, email_message_id, snapshot) VALUES (?, ?, 1, '<r1@acme.example>', ?)",
                               [.text("held-message"), .text(ticketID), .blob(snapshot)])
                try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data) VALUES ('s', 1, 0, ?)", [.blob([7])])
                try tx.execute("""
                    INSERT INTO attachments (id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, ticket_id, message_id, created_at, position)
                    VALUES ('held-file', 's', 'held.txt', 'text/plain', 1, 'notification-mail', ?, ?, 'held-message', 1, 0)
                    """, [.text(acme.id), .text(ticketID)])
                holding.signal()
                released.wait()
            }
            done.signal()
        }.start()
        holding.wait()

        var request = IntakeV1.ReplyRequest()
        request.ticket = ticket.id
        request.text = "Segue."
        request.channel = "email"
        request.emailMessageID = "<r1@acme.example>"
        request.files = [openFile("print.png", randomBytes(4_000, seed: 1))]
        let answer = Mutex<Result<IntakeV1.ReplyResponse, any Error>?>(nil)
        let client = harness.client, options = harness.mailChannel, sent = request
        let replied = DispatchSemaphore(value: 0)
        Thread {
            let result = Result { try client.call(IntakeV1.Intake.reply, sent, options: options) }
            answer.withLock { $0 = result }
            replied.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.5)  // the reply is waiting (on PostgreSQL, on the Message-ID's index entry)
        released.signal()
        done.wait()
        replied.wait()
        let message = try #require(try answer.withLock { $0 }?.get().message)
        #expect(message.id == "held-message")
        #expect(message.attachments.map(\.id) == ["held-file"])
        #expect(try harness.getTicket(ticket.id, as: harness.staff).messages == [message])
        #expect(try harness.count("ticket_messages") == 1 && harness.count("attachments") == 1, "the reply's own file is not stored")
        #expect(try harness.events(IntakeV1.CustomerReplied.self).isEmpty)
    }

    @Test("a Reply retried with its idempotency key answers the first reply byte for byte and stores nothing; the same key with another reply is FAILED_PRECONDITION; keys are per caller",
          arguments: TestEngines.all)
    func retriedReplyWithAKey(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let mariaContact = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let joseContact = try harness.contact(acme, "José", email: "jose@acme.example")
        let maria = harness.options(IntakeHarness.customer(mariaContact), key: "reply-1")
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme),
                                                          options: harness.options(IntakeHarness.customer(mariaContact))).ticket)
        let upload = try harness.upload(randomBytes(2_000, seed: 4), name: "tela.png", as: harness.options(IntakeHarness.customer(mariaContact)))
        var request = IntakeV1.ReplyRequest()
        request.ticket = ticket.id
        request.text = "Segue a tela."
        request.attachmentIDs = [upload.id]
        request.files = [openFile("log.txt", randomBytes(500, seed: 5), type: "text/plain")]
        let first = try harness.client.call(IntakeV1.Intake.reply, request, options: maria)
        #expect(first.message?.attachments.map(\.fileName) == ["tela.png", "log.txt"])
        let retried = try harness.client.call(IntakeV1.Intake.reply, request, options: maria)
        #expect(retried.serializedBytes() == first.serializedBytes(), "the first answer, files included")
        #expect(try harness.count("ticket_messages") == 1 && harness.count("attachments") == 2 && harness.count("contents") == 2)
        #expect(try harness.events(IntakeV1.CustomerReplied.self).count == 1)

        var other = request
        other.attachmentIDs = []
        other.files = [openFile("log.txt", randomBytes(500, seed: 6), type: "text/plain")]
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, other, options: maria) }?.code == .failedPrecondition,
                "the same key with other bytes")
        #expect(try harness.count("ticket_messages") == 1 && harness.count("attachments") == 2)
        // Another caller's key of the same name is another key.
        let jose = harness.options(IntakeHarness.customer(joseContact), key: "reply-1")
        let josesReply = try harness.client.call(IntakeV1.Intake.reply, other, options: jose)
        #expect(josesReply.message?.id != first.message?.id)
        #expect(try harness.count("ticket_messages") == 2)
        let tooLong = harness.options(IntakeHarness.customer(mariaContact), key: String(repeating: "k", count: 201))
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, other, options: tooLong) }?.violations.map(\.field)
                == ["idempotency-key"])
        // A refused reply does not use up its key.
        var empty = IntakeV1.ReplyRequest()
        empty.ticket = ticket.id
        let fresh = harness.options(IntakeHarness.customer(mariaContact), key: "reply-2")
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, empty, options: fresh) }?.code == .invalidArgument)
        empty.text = "Agora com texto."
        #expect(try harness.client.call(IntakeV1.Intake.reply, empty, options: fresh).message?.text == "Agora com texto.")
        #expect(try harness.count("ticket_messages") == 3)
    }
}
