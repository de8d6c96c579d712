import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

extension IntakeHarness {
    /// A customer reply to `ticket` carrying `files` (and naming `uploads`).
    func reply(_ ticket: String, text: String = "", files: [IntakeV1.OpenTicketFile], uploads: [String] = [],
               as options: CallOptions) throws -> IntakeV1.TicketMessage {
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket
        reply.text = text
        reply.attachmentIDs = uploads
        reply.files = files
        return try #require(try client.call(IntakeV1.Intake.reply, reply, options: options).message)
    }
}

@Suite("Replying with files inside the reply", .serialized)
struct ReplyWithFilesTests {
    @Test("a reply carrying its files stores them on the ticket and the message: listed by the answer, GetTicket and CustomerReplied alike, downloaded byte-exact",
          arguments: TestEngines.all)
    func repliesCarryTheirFiles(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        let screenshot = randomBytes(4_096, seed: 1)
        let atLimit = randomBytes(256 << 10, seed: 2)  // exactly INTAKE_INLINE_CONTENT_BYTES
        // No text: the files are the reply.
        let message = try harness.reply(ticket.code, files: [openFile("C:\\Users\\maria\\tela.png", screenshot),
                                                             openFile("log.txt", atLimit, type: ""),
                                                             openFile("vazio.txt", [], type: "text/plain")], as: maria)
        #expect(message.attachments.map(\.fileName) == ["tela.png", "log.txt", "vazio.txt"])
        #expect(message.attachments.map(\.contentType) == ["image/png", "application/octet-stream", "text/plain"])
        #expect(message.attachments.map(\.sha256) == [sha256Hex(screenshot), sha256Hex(atLimit), sha256Hex([])])

        let read = try harness.getTicket(ticket.id, as: maria)
        #expect(read.messages.count == 1 && read.messages.first?.attachments == message.attachments, "GetTicket lists them on the message")
        #expect(read.attachments.isEmpty, "the open's own files stay apart from the reply's")
        let event = try #require(try harness.events(IntakeV1.CustomerReplied.self).first)
        #expect(event.attachments == message.attachments && event.messageID == message.id, "CustomerReplied carries them like uploaded ones")
        for (ref, bytes) in zip(message.attachments, [screenshot, atLimit, []]) {
            #expect(try harness.download(ref.id, as: maria) == bytes)
        }
        let rows = try harness.database.read { tx in
            try tx.query("SELECT ticket_id, message_id, organization_id FROM attachments").map {
                [try $0.text("ticket_id"), try $0.text("message_id"), try $0.text("organization_id")]
            }
        }
        #expect(rows.count == 3 && rows.allSatisfy { $0 == [ticket.id, message.id, acme.id] }, "the same columns as a linked upload")
        #expect(try harness.database.read { try $0.scalar("SELECT attachment_bytes FROM tickets").integerValue } == 4_096 + (256 << 10))
        #expect(harness.storedFiles().filter { !$0.hasPrefix("tmp/") }.isEmpty, "small contents live in their rows")

        // Another organization's customer sees none of them.
        let other = try harness.organization("Outra", taxID: "04252011000110")
        let joao = harness.options(IntakeHarness.customer(try harness.contact(other, "João", email: "joao@outra.example")))
        #expect(rpcError { _ = try harness.download(message.attachments[0].id, as: joao) }?.code == .notFound)
    }

    @Test("too large, too many, too much together, over the ticket's total and bad names are field violations and store nothing: no message, no attachment, no content, no event",
          arguments: TestEngines.all)
    func refusedRepliesStoreNothing(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_INLINE_CONTENT_BYTES": "1000", "INTAKE_OPEN_FILES_MAX_COUNT": "3",
                                                              "INTAKE_OPEN_FILES_MAX_BYTES": "2500", "INTAKE_MAX_TICKET_BYTES": "2000"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        func refused(_ files: [IntakeV1.OpenTicketFile], text: String = "Segue.") -> [String: String] {
            let error = rpcError { _ = try harness.reply(ticket.id, text: text, files: files, as: maria) }
            #expect(error?.code == .invalidArgument)
            return Dictionary((error?.violations ?? []).map { ($0.field, $0.reason) }, uniquingKeysWith: { first, _ in first })
        }
        #expect(refused([openFile("a.png", randomBytes(1_000, seed: 1)), openFile("b.png", randomBytes(1_001, seed: 2))])
                == ["files[1].data": "file_too_large"])
        #expect(refused((0..<4).map { openFile("f\($0).txt", randomBytes(10, seed: UInt64($0))) }) == ["files": "too_many_files"])
        let tooMuch = refused((0..<3).map { openFile("f\($0).txt", randomBytes(900, seed: UInt64($0))) })
        #expect(tooMuch["files"] == "files_too_large" || tooMuch["files"] == "ticket_too_large")
        #expect(refused([openFile("a", randomBytes(900, seed: 5)), openFile("b", randomBytes(900, seed: 6)), openFile("c", randomBytes(300, seed: 7))])
                == ["files": "ticket_too_large"], "the ticket's total counts the reply's files")
        #expect(refused([openFile("ok.txt", [1]), openFile("  ", [2]), openFile("pasta/\u{7}\t", [3])])
                == ["files[1].file_name": "required", "files[2].file_name": "required"])
        #expect(refused([openFile(String(repeating: "n", count: 256), [1]), openFile("x", [2], type: String(repeating: "t", count: 256))])
                == ["files[0].file_name": "too_long", "files[1].content_type": "too_long"])
        #expect(refused([openFile("a.png", randomBytes(1_001, seed: 3))], text: String(repeating: "x", count: 100_001))
                == ["text": "too_long", "files[0].data": "file_too_large"], "reported with the request's other violations")
        #expect(try harness.count("ticket_messages") == 0 && harness.count("attachments") == 0 && harness.count("contents") == 0)
        #expect(try harness.events(IntakeV1.CustomerReplied.self).isEmpty)
        #expect(try harness.database.read { try $0.scalar("SELECT attachment_bytes FROM tickets").integerValue } == 0)

        // A cancelled ticket takes no reply: its files are not stored either.
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = ticket.id
        _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: maria)
        #expect(rpcError { _ = try harness.reply(ticket.id, files: [openFile("a.txt", [1, 2, 3])], as: maria) }?.code == .failedPrecondition)
        #expect(try harness.count("ticket_messages") == 0 && harness.count("attachments") == 0 && harness.count("contents") == 0)
    }

    @Test("uploaded files named in attachment_ids and files inside the reply go on one message, uploaded ones first; an id cannot be used twice",
          arguments: TestEngines.all)
    func mixingUploadsAndFiles(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        let large = randomBytes(600 << 10, seed: 9)  // above the inline limit: uploaded, kept as a file
        let uploaded = try harness.upload(large, name: "video.mp4", as: maria)
        // Recorded "later" than the reply: GetTicket still lists it first, as the reply answered.
        try harness.database.write { try $0.execute("UPDATE attachments SET created_at = created_at + 60000 WHERE id = ?", [.text(uploaded.id)]) }
        let a = randomBytes(2_000, seed: 10), b = randomBytes(3_000, seed: 11)
        let message = try harness.reply(ticket.id, text: "Seguem o vídeo e os logs.", files: [openFile("a.txt", a), openFile("b.txt", b)],
                                        uploads: [uploaded.id], as: maria)
        #expect(message.attachments.map(\.fileName) == ["video.mp4", "a.txt", "b.txt"])
        #expect(try harness.getTicket(ticket.id, as: maria).messages.first?.attachments == message.attachments)
        #expect(try harness.events(IntakeV1.CustomerReplied.self).first?.attachments == message.attachments)
        for (ref, bytes) in zip(message.attachments, [large, a, b]) { #expect(try harness.download(ref.id, as: maria) == bytes) }
        #expect(try harness.count("attachments WHERE message_id = '\(message.id)'") == 3)
        #expect(try harness.database.read { try $0.scalar("SELECT attachment_bytes FROM tickets").integerValue }
                == Int64(large.count + a.count + b.count))

        // The uploaded id is used: a second reply naming it is refused and stores none of its files.
        let error = rpcError { _ = try harness.reply(ticket.id, text: "De novo", files: [openFile("c.txt", randomBytes(100, seed: 12))],
                                                     uploads: [uploaded.id], as: maria) }
        #expect(error?.code == .invalidArgument && error?.violations.map(\.field) == ["attachment_ids[0]"])
        #expect(try harness.count("ticket_messages") == 1 && harness.count("attachments") == 3 && harness.count("contents") == 3)
    }
}
