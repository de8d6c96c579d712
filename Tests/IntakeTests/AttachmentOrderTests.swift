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
    /// Uploads `count` small files as `options`, then records them all in one millisecond (as
    /// uploads finishing together are): their ids, in the reverse of id order, so the order a
    /// listing by creation time and id would give is exactly the wrong one.
    func uploadsInOneMillisecond(_ count: Int, prefix: String, as options: CallOptions) throws -> [CommonV1.AttachmentRef] {
        var refs: [CommonV1.AttachmentRef] = []
        for index in 0..<count {
            refs.append(try upload(randomBytes(100 + index, seed: UInt64(index + 1) * 7), name: "\(prefix)\(index).bin", as: options))
        }
        let marks = Array(repeating: "?", count: refs.count).joined(separator: ", ")
        try database.write { tx in
            try tx.execute("UPDATE attachments SET created_at = ? WHERE id IN (\(marks))",
                           [.integer(IntakeContext.now())] + refs.map { .text($0.id) })
        }
        return refs.sorted { $0.id > $1.id }
    }

    /// The `position` column of these attachments, in the order given.
    func positions(_ refs: [CommonV1.AttachmentRef]) throws -> [Int64] {
        try refs.map { ref in
            try database.read { try $0.scalar("SELECT position FROM attachments WHERE id = ?", [.text(ref.id)]).integerValue }
        }
    }
}

/// Calls `call` with positions that are not one distinct place per file of a call naming two
/// uploads and carrying three files (too few, too many, repeated, past the last place): each is
/// INVALID_ARGUMENT on `file_positions` alone.
func refusesBadPositions(_ call: ([UInt32]) throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    for bad: [UInt32] in [[0, 2], [0, 2, 4, 1], [0, 0, 4], [0, 2, 5]] {
        let error = rpcError { try call(bad) }
        #expect(error?.code == .invalidArgument && error?.violations.map(\.field) == ["file_positions"], "\(bad): \(String(describing: error))",
                sourceLocation: sourceLocation)
    }
}

@Suite("A ticket's files are listed in the order the open or reply gave them", .serialized)
struct AttachmentOrderTests {
    @Test("uploads recorded in one millisecond and named in the reverse of id order, then files inside the open: the answer, GetTicket and TicketOpened list them as given; files added later come after them",
          arguments: TestEngines.all)
    func openKeepsTheGivenOrder(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let uploads = try harness.uploadsInOneMillisecond(8, prefix: "up", as: maria)
        // Named shuffled too: the order given is the order kept, whatever it is.
        let named = [uploads[3], uploads[0], uploads[7], uploads[5], uploads[1], uploads[6], uploads[2], uploads[4]]
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = named.map(\.id)
        request.files = [openFile("z.txt", [1, 2, 3]), openFile("a.txt", [4, 5])]
        let opened = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: maria).ticket)
        let expected = named.map(\.fileName) + ["z.txt", "a.txt"]
        #expect(opened.attachments.map(\.fileName) == expected, "the answer")
        #expect(try harness.getTicket(opened.id, as: maria).attachments == opened.attachments, "GetTicket")
        #expect(try harness.events(IntakeV1.TicketOpened.self).first?.attachments == opened.attachments, "TicketOpened")
        #expect(try harness.positions(opened.attachments) == Array(0..<10))

        // Files added to the ticket afterwards (AttachmentAdded) come after the open's, in the
        // order added, even recorded "earlier" than them.
        let later = try (0..<3).map { try harness.upload(randomBytes(50, seed: UInt64(90 + $0)), name: "later\($0).bin", as: maria, ticketID: opened.id) }
        try harness.database.write { tx in
            try tx.execute("UPDATE attachments SET created_at = 0 WHERE ticket_id = ?", [.text(opened.id)])
        }
        let read = try harness.getTicket(opened.id, as: maria)
        #expect(read.attachments.map(\.fileName) == expected + ["later0.bin", "later1.bin", "later2.bin"])
        #expect(try harness.events(IntakeV1.AttachmentAdded.self).map { $0.attachment?.id ?? "" } == later.map(\.id))
        #expect(try harness.positions(later) == [10, 11, 12])
    }

    @Test("file_positions places an open's own files among its uploads (small ones before, between and after two uploads of one millisecond): the answer, GetTicket, TicketOpened and the rows list them where placed, with and without group commit; positions that are not one distinct place per file are INVALID_ARGUMENT and store nothing",
          arguments: TestEngines.all, [true, false])
    func openPlacesItsFiles(engine: DatabaseEngine, groupCommit: Bool) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": groupCommit ? "true" : "false"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let uploads = try harness.uploadsInOneMillisecond(2, prefix: "grande", as: maria)
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = uploads.map(\.id)
        request.files = [openFile("a.txt", [1, 2, 3]), openFile("c.txt", [4, 5]), openFile("e.txt", [6])]

        // Not one distinct place per file below the number of files (5): refused, nothing stored.
        refusesBadPositions { bad in
            request.filePositions = bad
            _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: maria)
        }
        #expect(try harness.database.read { try $0.scalar("SELECT COUNT(*) AS n FROM tickets").integerValue } == 0)
        #expect(try harness.database.read { try $0.scalar("SELECT COUNT(*) AS n FROM attachments WHERE ticket_id IS NOT NULL").integerValue } == 0)

        request.filePositions = [0, 2, 4]
        let opened = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: maria).ticket)
        let expected = ["a.txt", uploads[0].fileName, "c.txt", uploads[1].fileName, "e.txt"]
        #expect(opened.attachments.map(\.fileName) == expected, "the answer")
        #expect(try harness.getTicket(opened.id, as: maria).attachments == opened.attachments, "GetTicket")
        #expect(try harness.events(IntakeV1.TicketOpened.self).first?.attachments == opened.attachments, "TicketOpened")
        #expect(try harness.positions(opened.attachments) == Array(0..<5))

        // Without positions: the uploads first, then the open's own files (as before the field).
        let more = try harness.uploadsInOneMillisecond(1, prefix: "outro", as: maria)
        var plain = IntakeHarness.request(acme, subject: "Sem posições")
        plain.attachmentIDs = more.map(\.id)
        plain.files = [openFile("b.txt", [7])]
        let unplaced = try #require(try harness.client.call(IntakeV1.Intake.openTicket, plain, options: maria).ticket)
        #expect(unplaced.attachments.map(\.fileName) == [more[0].fileName, "b.txt"])
    }

    @Test("an open in a group-commit batch with only its own files writes their positions with the batch's rows",
          arguments: TestEngines.all)
    func batchedOpenKeepsTheGivenOrder(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        var request = IntakeHarness.request(acme)
        request.files = (0..<6).map { openFile("f\(5 - $0).txt", randomBytes(10 + $0, seed: UInt64($0))) }
        let opened = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: maria).ticket)
        #expect(opened.attachments.map(\.fileName) == ["f5.txt", "f4.txt", "f3.txt", "f2.txt", "f1.txt", "f0.txt"])
        #expect(try harness.positions(opened.attachments) == Array(0..<6))
        // Ids in the reverse order (as two files given in one millisecond may have): still listed as given.
        try harness.database.write { tx in
            for (index, ref) in opened.attachments.enumerated() {
                try tx.execute("UPDATE attachments SET id = ? WHERE id = ?", [.text("z-\(9 - index)"), .text(ref.id)])
            }
        }
        #expect(try harness.getTicket(opened.id, as: maria).attachments.map(\.fileName) == opened.attachments.map(\.fileName))
    }

    @Test("an open naming 600 uploads of one millisecond (linked 256 per statement) lists them as named",
          arguments: TestEngines.all)
    func manyUploadsKeepTheGivenOrder(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contact = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let maria = harness.options(IntakeHarness.customer(contact))
        // Pending uploads as UploadAttachment leaves them, written directly (600 streams would only be slower).
        let ids = (0..<600).map { String(format: "u%04d", $0) }
        try harness.database.write { tx in
            try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data) VALUES (?, 1, 0, ?)", [.text(sha256Hex([1])), .blob([1])])
            for id in ids {
                try tx.execute("""
                    INSERT INTO attachments (id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, created_at)
                    VALUES (?, ?, ?, 'text/plain', 1, ?, ?, 5)
                    """, [.text(id), .text(sha256Hex([1])), .text("\(id).txt"), .text(contact.id), .text(acme.id)])
            }
        }
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = ids.reversed()
        let opened = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: maria).ticket)
        #expect(opened.attachments.map(\.id) == ids.reversed())
        #expect(try harness.getTicket(opened.id, as: maria).attachments.map(\.id) == ids.reversed())
        #expect(try harness.positions(opened.attachments) == Array(0..<600))
        #expect(try harness.database.read { try $0.scalar("SELECT attachment_bytes FROM tickets").integerValue } == 600)
    }

    @Test("a reply naming uploads recorded in one millisecond, then its own files: the answer, GetTicket and CustomerReplied list them as given",
          arguments: TestEngines.all)
    func replyKeepsTheGivenOrder(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        let first = try harness.reply(ticket.id, text: "Primeira", files: [openFile("um.txt", [1])], as: maria)
        let uploads = try harness.uploadsInOneMillisecond(6, prefix: "r", as: maria)
        let message = try harness.reply(ticket.id, text: "Seguem", files: [openFile("y.txt", [9]), openFile("b.txt", [8])],
                                        uploads: uploads.map(\.id), as: maria)
        let expected = uploads.map(\.fileName) + ["y.txt", "b.txt"]
        #expect(message.attachments.map(\.fileName) == expected, "the answer")
        let read = try harness.getTicket(ticket.id, as: maria)
        #expect(read.messages.first { $0.id == message.id }?.attachments == message.attachments, "GetTicket")
        #expect(read.messages.first { $0.id == first.id }?.attachments == first.attachments, "each message its own")
        #expect(read.attachments.isEmpty)
        #expect(try harness.events(IntakeV1.CustomerReplied.self).last?.attachments == message.attachments, "CustomerReplied")
        #expect(try harness.positions(message.attachments) == Array(0..<8))
    }

    @Test("file_positions places a reply's own files among its uploads (small ones before, between and after two uploads of one millisecond): the answer, GetTicket, CustomerReplied and the rows list them where placed; positions that are not one distinct place per file are INVALID_ARGUMENT and store nothing",
          arguments: TestEngines.all)
    func replyPlacesItsFiles(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        let uploads = try harness.uploadsInOneMillisecond(2, prefix: "grande", as: maria)
        var request = IntakeV1.ReplyRequest()
        request.ticket = ticket.id
        request.text = "Seguem"
        request.attachmentIDs = uploads.map(\.id)
        request.files = [openFile("a.txt", [1, 2, 3]), openFile("c.txt", [4, 5]), openFile("e.txt", [6])]

        // Not one distinct place per file below the number of files (5): refused, nothing stored.
        refusesBadPositions { bad in
            request.filePositions = bad
            _ = try harness.client.call(IntakeV1.Intake.reply, request, options: maria)
        }
        #expect(try harness.count("ticket_messages") == 0)
        #expect(try harness.count("attachments WHERE ticket_id IS NOT NULL") == 0)
        #expect(try harness.events(IntakeV1.CustomerReplied.self).isEmpty)

        request.filePositions = [0, 2, 4]
        let message = try #require(try harness.client.call(IntakeV1.Intake.reply, request, options: maria).message)
        let expected = ["a.txt", uploads[0].fileName, "c.txt", uploads[1].fileName, "e.txt"]
        #expect(message.attachments.map(\.fileName) == expected, "the answer")
        #expect(try harness.getTicket(ticket.id, as: maria).messages.first { $0.id == message.id }?.attachments == message.attachments, "GetTicket")
        #expect(try harness.events(IntakeV1.CustomerReplied.self).last?.attachments == message.attachments, "CustomerReplied")
        #expect(try harness.positions(message.attachments) == Array(0..<5))

        // Without positions: the uploads first, then the reply's own files (as before the field).
        let more = try harness.uploadsInOneMillisecond(1, prefix: "outro", as: maria)
        let unplaced = try harness.reply(ticket.id, text: "Sem posições", files: [openFile("b.txt", [7])], uploads: more.map(\.id), as: maria)
        #expect(unplaced.attachments.map(\.fileName) == [more[0].fileName, "b.txt"])
    }

    @Test("file_positions places an AddFiles call's own files among its uploads, all after the files the ticket has: the answer, GetTicket, AttachmentAdded and the rows list them where placed; positions that are not one distinct place per file are INVALID_ARGUMENT and store nothing",
          arguments: TestEngines.all)
    func addFilesPlacesItsFiles(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        var open = IntakeHarness.request(acme)
        open.files = [openFile("inicial.txt", [9])]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, open, options: maria).ticket)
        let uploads = try harness.uploadsInOneMillisecond(2, prefix: "grande", as: harness.staff)
        var request = IntakeV1.AddFilesRequest()
        request.ticket = ticket.id
        request.attachmentIDs = uploads.map(\.id)
        request.files = [openFile("a.txt", [1, 2, 3]), openFile("c.txt", [4, 5]), openFile("e.txt", [6])]

        refusesBadPositions { bad in
            request.filePositions = bad
            _ = try harness.client.call(IntakeV1.Intake.addFiles, request, options: harness.staff)
        }
        #expect(try harness.count("attachments WHERE ticket_id IS NOT NULL") == 1, "the open's file alone")
        #expect(try harness.events(IntakeV1.AttachmentAdded.self).isEmpty)

        request.filePositions = [0, 2, 4]
        let added = try harness.client.call(IntakeV1.Intake.addFiles, request, options: harness.staff).attachments
        let expected = ["a.txt", uploads[0].fileName, "c.txt", uploads[1].fileName, "e.txt"]
        #expect(added.map(\.fileName) == expected, "the answer")
        #expect(try harness.getTicket(ticket.id, as: maria).attachments.map(\.fileName) == ["inicial.txt"] + expected, "GetTicket")
        #expect(try harness.events(IntakeV1.AttachmentAdded.self).map { $0.attachment?.id ?? "" } == added.map(\.id), "AttachmentAdded")
        #expect(try harness.positions(added) == Array(1..<6))
    }

    @Test("attachments stored before positions existed (migration 22) keep the order they were listed in; files added afterwards come after them",
          arguments: TestEngines.all)
    func rowsFromBeforeKeepTheirOrder(engine: DatabaseEngine) throws {
        let older = try OlderDatabase(engine, before: 22, prefix: "intake-order")
        // A ticket with two files of its own and a reply with three, as version 21 stored them:
        // listed by creation time, then id.
        let snapshot = OlderDatabase.ticketSnapshot(id: "t1", code: "2026-000001")
        var reply = IntakeV1.TicketMessage()
        reply.id = "m1"
        reply.text = "Resposta antiga"
        let files: [(id: String, message: String, createdAt: Int64)] = [
            ("b", "", 100), ("a", "", 200), ("q", "m1", 300), ("p", "m1", 300), ("r", "m1", 250),
        ]
        try older.database.write { tx in
            try OlderDatabase.insertAcme(tx)
            try tx.execute("""
                INSERT INTO tickets (id, code, organization_id, contact_id, status, opened_at, submission_hash, snapshot)
                VALUES ('t1', '2026-000001', 'o1', 'c1', 'open', 50, 'h', ?)
                """, [.blob(snapshot.serializedBytes())])
            try tx.execute("INSERT INTO ticket_messages (id, ticket_id, created_at, snapshot) VALUES ('m1', 't1', 60, ?)",
                           [.blob(reply.serializedBytes())])
            try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data) VALUES ('s', 1, 0, ?)", [.blob([7])])
            for file in files {
                try tx.execute("""
                    INSERT INTO attachments (id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, ticket_id, message_id, created_at)
                    VALUES (?, 's', ?, 'text/plain', 1, 'c1', 'o1', 't1', ?, ?)
                    """, [.text(file.id), .text("\(file.id).txt"), .text(file.message), .integer(file.createdAt)])
            }
        }
        let harness = try older.harness()
        let agent = harness.staff
        let before = try harness.getTicket("t1", as: agent)
        #expect(before.attachments.map(\.id) == ["b", "a"])
        #expect(before.messages.first?.attachments.map(\.id) == ["r", "p", "q"])
        #expect(try harness.count("attachments WHERE position <> 0") == 0, "a constant default: no row rewritten")
        let added = try harness.upload([1, 2, 3], name: "novo.png", as: agent, ticketID: "t1")
        try harness.database.write { try $0.execute("UPDATE attachments SET created_at = 1 WHERE id = ?", [.text(added.id)]) }
        #expect(try harness.getTicket("t1", as: agent).attachments.map(\.id) == ["b", "a", added.id])
    }
}
