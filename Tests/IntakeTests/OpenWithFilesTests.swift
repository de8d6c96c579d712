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

/// A file carried inside `OpenTicketRequest.files`.
func openFile(_ name: String, _ bytes: [UInt8], type: String = "image/png") -> IntakeV1.OpenTicketFile {
    var file = IntakeV1.OpenTicketFile()
    file.fileName = name
    file.contentType = type
    file.data = bytes
    return file
}

extension IntakeHarness {
    func getTicket(_ id: String, as options: CallOptions) throws -> IntakeV1.Ticket {
        var get = IntakeV1.GetTicketRequest()
        get.ticket = id
        return try client.call(IntakeV1.Intake.getTicket, get, options: options)
    }

    /// Nothing of a refused open is stored: no ticket, no attachment, no content, no event.
    func expectNothingStored(_ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let counts = try ["tickets", "attachments", "contents"].map { try count($0) }
        #expect(counts == [0, 0, 0], comment, sourceLocation: sourceLocation)
        #expect(try events(IntakeV1.TicketOpened.self).isEmpty, comment, sourceLocation: sourceLocation)
    }
}

@Suite("Opening with files inside the open", .serialized)
struct OpenWithFilesTests {
    @Test("an open carrying its files stores them with the ticket: listed by the answer, GetTicket and TicketOpened alike, downloaded byte-exact, each content stored once in its row",
          arguments: TestEngines.all)
    func opensCarryTheirFiles(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let screenshot = randomBytes(4_096, seed: 1)
        let atLimit = randomBytes(256 << 10, seed: 2)  // exactly INTAKE_INLINE_CONTENT_BYTES
        var request = IntakeHarness.request(acme)
        request.files = [openFile("C:\\Users\\maria\\tela.png", screenshot), openFile("log.txt", atLimit, type: ""),
                         openFile("vazio.txt", [], type: "text/plain")]
        let opened = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: maria).ticket)
        #expect(opened.attachments.map(\.fileName) == ["tela.png", "log.txt", "vazio.txt"])
        #expect(opened.attachments.map(\.contentType) == ["image/png", "application/octet-stream", "text/plain"])
        #expect(opened.attachments.map(\.sizeBytes) == [4_096, 256 << 10, 0])
        #expect(opened.attachments.map(\.sha256) == [sha256Hex(screenshot), sha256Hex(atLimit), sha256Hex([])])

        let read = try harness.getTicket(opened.id, as: maria)
        #expect(read.attachments == opened.attachments, "GetTicket lists them as the open answered")
        let event = try #require(try harness.events(IntakeV1.TicketOpened.self).first)
        #expect(event.attachments == opened.attachments, "TicketOpened carries them like uploaded ones")
        for (ref, bytes) in zip(opened.attachments, [screenshot, atLimit, []]) {
            #expect(try harness.download(ref.id, as: maria) == bytes)
        }
        #expect(try harness.database.read { try $0.scalar("SELECT attachment_bytes FROM tickets").integerValue } == 4_096 + (256 << 10))
        #expect(harness.storedFiles().filter { !$0.hasPrefix("tmp/") }.isEmpty, "small contents live in their rows")

        // The same bytes again (in another open, and uploaded): one content, several attachments.
        var again = IntakeHarness.request(acme, subject: "Outra coisa")
        again.files = [openFile("tela-de-novo.png", screenshot)]
        let second = try #require(try harness.client.call(IntakeV1.Intake.openTicket, again, options: maria).ticket)
        let uploaded = try harness.upload(screenshot, as: maria)
        #expect(second.attachments.first?.sha256 == uploaded.sha256)
        #expect(try harness.count("contents") == 3 && harness.count("attachments") == 5)
        #expect(try harness.download(try #require(second.attachments.first).id, as: maria) == screenshot)

        // Another organization's customer sees none of them.
        let other = try harness.organization("Outra", taxID: "04252011000110")
        let joao = harness.options(IntakeHarness.customer(try harness.contact(other, "João", email: "joao@outra.example")))
        #expect(rpcError { _ = try harness.download(opened.attachments[0].id, as: joao) }?.code == .notFound)
    }

    @Test("too large, too many, too much together and bad names are field violations (with the request's other ones) and store nothing",
          arguments: TestEngines.all)
    func refusedFilesStoreNothing(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_INLINE_CONTENT_BYTES": "1000", "INTAKE_OPEN_FILES_MAX_COUNT": "3",
                                                              "INTAKE_OPEN_FILES_MAX_BYTES": "2500"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        func refused(_ files: [IntakeV1.OpenTicketFile], product: String = "ERP") -> [String: String] {
            var request = IntakeHarness.request(acme)
            request.product = product
            request.files = files
            let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: maria) }
            #expect(error?.code == .invalidArgument)
            return Dictionary((error?.violations ?? []).map { ($0.field, $0.reason) }, uniquingKeysWith: { first, _ in first })
        }
        #expect(refused([openFile("a.png", randomBytes(1_000, seed: 1)), openFile("b.png", randomBytes(1_001, seed: 2))])
                == ["files[1].data": "file_too_large"])
        #expect(refused((0..<4).map { openFile("f\($0).txt", randomBytes(10, seed: UInt64($0))) }) == ["files": "too_many_files"])
        #expect(refused((0..<3).map { openFile("f\($0).txt", randomBytes(900, seed: UInt64($0))) }) == ["files": "files_too_large"])
        #expect(refused([openFile("ok.txt", [1]), openFile("  ", [2]), openFile("pasta/\u{7}\t", [3])])
                == ["files[1].file_name": "required", "files[2].file_name": "required"])
        #expect(refused([openFile(String(repeating: "n", count: 256), [1]), openFile("x", [2], type: String(repeating: "t", count: 256))])
                == ["files[0].file_name": "too_long", "files[1].content_type": "too_long"])
        #expect(refused([openFile("a.png", randomBytes(1_001, seed: 3))], product: "")
                == ["product": "required", "files[0].data": "file_too_large"], "reported with the request's other violations")
        try harness.expectNothingStored("a refused open stores nothing")

        // The ticket's total counts the open's files (the violation on `files`).
        let small = try IntakeHarness(engine, environment: ["INTAKE_MAX_TICKET_BYTES": "1500"])
        let beta = try small.organization("Beta", taxID: "11222333000181")
        let ana = small.options(IntakeHarness.customer(try small.contact(beta, "Ana", email: "ana@beta.example")))
        var request = IntakeHarness.request(beta)
        request.files = [openFile("a", randomBytes(800, seed: 5)), openFile("b", randomBytes(800, seed: 6))]
        let error = rpcError { _ = try small.client.call(IntakeV1.Intake.openTicket, request, options: ana) }
        #expect(error?.violations.map(\.field) == ["files"] && error?.violations.first?.reason == "ticket_too_large")
        try small.expectNothingStored("over the ticket's total")
    }

    @Test("uploaded files named in attachment_ids and files inside the open go on one ticket, uploaded ones first; an id cannot be used twice",
          arguments: TestEngines.all)
    func mixingUploadsAndFiles(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let large = randomBytes(600 << 10, seed: 9)  // above the inline limit: uploaded, kept as a file
        let uploaded = try harness.upload(large, name: "video.mp4", as: maria)
        // Recorded "later" than the open (as when upload and open fall in one millisecond, or a
        // clock steps back): GetTicket still lists it first, as the open answered.
        try harness.database.write { try $0.execute("UPDATE attachments SET created_at = created_at + 60000 WHERE id = ?", [.text(uploaded.id)]) }
        let a = randomBytes(2_000, seed: 10), b = randomBytes(3_000, seed: 11)
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = [uploaded.id]
        request.files = [openFile("a.txt", a), openFile("b.txt", b)]
        let opened = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: maria).ticket)
        #expect(opened.attachments.map(\.fileName) == ["video.mp4", "a.txt", "b.txt"])
        #expect(try harness.getTicket(opened.id, as: maria).attachments == opened.attachments)
        #expect(try harness.events(IntakeV1.TicketOpened.self).first?.attachments == opened.attachments)
        for (ref, bytes) in zip(opened.attachments, [large, a, b]) { #expect(try harness.download(ref.id, as: maria) == bytes) }
        #expect(try harness.database.read { try $0.scalar("SELECT attachment_bytes FROM tickets").integerValue }
                == Int64(large.count + a.count + b.count))

        // The uploaded id is used: a second open naming it is refused and stores none of its files.
        var reused = IntakeHarness.request(acme, subject: "De novo")
        reused.attachmentIDs = [uploaded.id]
        reused.files = [openFile("c.txt", randomBytes(100, seed: 12))]
        let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, reused, options: maria) }
        #expect(error?.code == .invalidArgument && error?.violations.map(\.field) == ["attachment_ids[0]"])
        #expect(try harness.count("tickets") == 1 && harness.count("attachments") == 3 && harness.count("contents") == 3)
    }

    @Test("an idempotency key covers the files (a retry gives the same ticket, other bytes under the key are refused); identical opens with files are not double submissions",
          arguments: TestEngines.all)
    func idempotencyAndDoubleSubmission(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contact = try harness.contact(acme, "Maria", email: "maria@acme.example")
        var request = IntakeHarness.request(acme)
        request.files = [openFile("a.txt", randomBytes(500, seed: 20))]
        let keyed = harness.options(IntakeHarness.customer(contact), key: "abrir-1")
        let first = try harness.client.call(IntakeV1.Intake.openTicket, request, options: keyed)
        let retry = try harness.client.call(IntakeV1.Intake.openTicket, request, options: keyed)
        #expect(retry == first, "the same answer byte for byte")
        #expect(try harness.count("tickets") == 1 && harness.count("attachments") == 1)
        var changed = request
        changed.files[0].data[0] ^= 0xFF
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, changed, options: keyed) }?.code == .failedPrecondition,
                "the file's bytes are part of the request the key stands for")

        // Without a key, the same submission with files twice is two tickets (as with attachment_ids).
        let plain = harness.options(IntakeHarness.customer(contact))
        let one = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: plain).ticket)
        let two = try harness.client.call(IntakeV1.Intake.openTicket, request, options: plain)
        #expect(!two.duplicate && two.ticket?.id != one.id)
        #expect(try harness.count("tickets") == 3 && harness.count("attachments") == 3 && harness.count("contents") == 1)
    }

    @Test("an idempotency key retried with the same files uploaded again (new ids, as a multipart form's retry) is the same open, reply and added files: the first answer, nothing stored twice; another file under the key is refused",
          arguments: TestEngines.all)
    func idempotencyOverReuploadedFiles(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contact = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(contact))
        let video = randomBytes(300_000, seed: 31)
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = [try harness.upload(video, name: "gravacao.webm", as: asMaria).id]
        let keyed = harness.options(IntakeHarness.customer(contact), key: "form-1")
        let first = try harness.client.call(IntakeV1.Intake.openTicket, request, options: keyed)
        // The form sent again: the file is uploaded again, under a new id.
        var retried = request
        retried.attachmentIDs = [try harness.upload(video, name: "gravacao.webm", as: asMaria).id]
        #expect(retried.attachmentIDs != request.attachmentIDs)
        #expect(try harness.client.call(IntakeV1.Intake.openTicket, retried, options: keyed) == first, "the first answer byte for byte")
        #expect(try harness.count("tickets") == 1 && harness.count("attachments WHERE ticket_id IS NOT NULL") == 1)
        // Another file (other bytes, or the same bytes under another name) is another request.
        var other = request
        other.attachmentIDs = [try harness.upload(randomBytes(300_000, seed: 32), name: "gravacao.webm", as: asMaria).id]
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, other, options: keyed) }?.code == .failedPrecondition)
        other.attachmentIDs = [try harness.upload(video, name: "outra.webm", as: asMaria).id]
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, other, options: keyed) }?.code == .failedPrecondition)

        // A reply retried the same way.
        let ticketID = try #require(first.ticket?.id)
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticketID
        reply.text = "Segue o vídeo."
        reply.attachmentIDs = [try harness.upload(video, name: "resposta.webm", as: asMaria).id]
        let replyKey = harness.options(IntakeHarness.customer(contact), key: "reply-1")
        let answered = try harness.client.call(IntakeV1.Intake.reply, reply, options: replyKey)
        reply.attachmentIDs = [try harness.upload(video, name: "resposta.webm", as: asMaria).id]
        #expect(try harness.client.call(IntakeV1.Intake.reply, reply, options: replyKey) == answered)
        #expect(try harness.count("ticket_messages") == 1 && harness.count("attachments WHERE ticket_id IS NOT NULL") == 2)

        // Staff adding files (the gateway's discussion route) retried the same way.
        var add = IntakeV1.AddFilesRequest()
        add.ticket = ticketID
        add.`internal` = true
        add.attachmentIDs = [try harness.upload(video, name: "interno.webm", as: harness.staff).id]
        let addKey = harness.options(IntakeHarness.agent(), key: "add-1")
        let added = try harness.client.call(IntakeV1.Intake.addFiles, add, options: addKey)
        add.attachmentIDs = [try harness.upload(video, name: "interno.webm", as: harness.staff).id]
        #expect(try harness.client.call(IntakeV1.Intake.addFiles, add, options: addKey) == added)
        #expect(try harness.count("attachments WHERE ticket_id IS NOT NULL") == 3)
    }

    @Test("opens with files queued into one batch: the one failing validation and the one failing on a row after storing its files store nothing, the others keep their files, also a content the failed ones carried",
          arguments: TestEngines.all)
    func failingOpenInSharedBatch(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<5).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        let first = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Primeiro"),
                                                         options: harness.options(IntakeHarness.customer(contacts[0]))).ticket)
        let year = first.code.prefix(4)
        // An attachment row named boom.bin is refused: that open fails after its ticket and
        // contents rows were written, inside the batch's transaction.
        try harness.database.write { tx in
            if tx.engine == .postgres {
                try tx.execute("CREATE FUNCTION refuse_file() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''recusado''; END'")
                try tx.execute("""
                    CREATE TRIGGER refuse_file BEFORE INSERT ON attachments FOR EACH ROW
                    WHEN (NEW.file_name = 'boom.bin') EXECUTE FUNCTION refuse_file()
                    """)
            } else {
                try tx.execute("""
                    CREATE TRIGGER refuse_file BEFORE INSERT ON attachments
                    WHEN NEW.file_name = 'boom.bin' BEGIN SELECT RAISE(ABORT, 'recusado'); END
                    """)
            }
        }

        // Index 4 also names an upload and carries an e-mail Message-ID: such an open writes its
        // rows itself, in its savepoint (the others hand theirs to the batch, OpenBatch.deferTicket).
        let uploadedBytes = randomBytes(500, seed: 98)
        // (It comes as intake's mail channel, a service: a customer may not name the e-mail channel.)
        let upload = try harness.upload(uploadedBytes, as: harness.mailChannel)
        // A content whose row lost its bytes (as only damage could leave it): an open carrying it
        // puts them back.
        let damaged = randomBytes(700, seed: 97)
        _ = try harness.upload(damaged, as: harness.options(IntakeHarness.customer(contacts[1])))
        try harness.database.write { try $0.execute("UPDATE contents SET data = NULL WHERE sha256 = ?", [.text(sha256Hex(damaged))]) }
        #expect(try !harness.contentStored(sha256Hex(damaged)))

        let held = HeldWriter(harness.database, ticketYear: year)

        let shared = randomBytes(3_000, seed: 30)
        let contents = (0..<5).map { randomBytes(1_000 + $0, seed: UInt64(31 + $0)) }
        // Index 2 is invalid (no product), index 4 fails on its last file's row; both carry the
        // content index 3 also carries.
        let requests = (0..<5).map { index -> IntakeV1.OpenTicketRequest in
            var request = IntakeHarness.request(acme, subject: "Lote \(index)")
            if index == 2 { request.product = "" }
            request.files = [openFile("own-\(index).bin", contents[index])]
            if index >= 2 { request.files.append(openFile("shared.bin", shared)) }
            if index == 0 { request.files.append(openFile("ja-enviado.bin", uploadedBytes)) }  // a content stored before
            if index == 1 { request.files.append(openFile("reparado.bin", damaged)) }
            if index == 4 {
                request.files.append(openFile("boom.bin", randomBytes(10, seed: 99)))
                request.attachmentIDs = [upload.id]
                request.channel = "email"
                request.emailMessageID = "<lote-4@acme.example>"
                request.contactID = contacts[4].id
            }
            return request
        }
        let outcomes = ConcurrentCalls(requests.count) { index in
            try #require(try harness.client.call(IntakeV1.Intake.openTicket, requests[index],
                                                 options: index == 4 ? harness.mailChannel : harness.options(IntakeHarness.customer(contacts[index]))).ticket)
        }
        let limit = Date().addingTimeInterval(20)
        while Date() < limit {
            let stats = try #require(harness.intake.openCommitStatistics)
            if stats.queued + stats.running + outcomes.finished >= requests.count { break }
            usleep(10_000)
        }
        held.release()
        let results = outcomes.wait()
        let stats = try #require(harness.intake.openCommitStatistics)
        #expect(stats.largestBatch >= 2, "the queued opens shared a batch: \(stats)")
        guard case .failure(let invalid) = results[2] else {
            Issue.record("the open without a product succeeded")
            return
        }
        #expect(invalid.code == .invalidArgument && invalid.violations.map(\.field) == ["product"])
        guard case .failure? = results[4] else {
            Issue.record("the open whose file row is refused succeeded")
            return
        }
        let asStaff = harness.staff
        for index in [0, 1, 3] {
            guard case .success(let ticket)? = results[index] else {
                Issue.record("open \(index) failed: \(String(describing: results[index]))")
                continue
            }
            let read = try harness.getTicket(ticket.id, as: asStaff)
            #expect(read.attachments == ticket.attachments)
            let expected = [contents[index], [uploadedBytes, damaged, [], shared][index]]
            #expect(try read.attachments.map { try harness.download($0.id, as: asStaff) } == expected)
        }
        #expect(try harness.count("tickets") == 4 && harness.count("attachments") == 8 && harness.count("contents") == 6,
                "index 4's upload stays pending, on no ticket")
        #expect(try harness.database.read { try $0.scalar("SELECT COUNT(*) FROM attachments WHERE ticket_id IS NULL").integerValue } == 2)
        #expect(try harness.contentStored(sha256Hex(damaged)), "the damaged content has its bytes in its row again")
        #expect(try harness.database.read {
            try $0.scalar("SELECT COUNT(*) FROM attachments WHERE file_name IN ('own-2.bin', 'own-4.bin')").integerValue } == 0)
        #expect(try harness.database.read {
            try $0.scalar("SELECT COUNT(*) FROM tickets WHERE contact_id IN (?, ?)", [.text(contacts[2].id), .text(contacts[4].id)]).integerValue } == 0)
        #expect(try harness.events(IntakeV1.TicketOpened.self).count == 4)
        #expect(try harness.referenceCountMismatches() == [], "rolled-back opens leave no count behind")
    }

    @Test("every open with files the real process acknowledged is there after kill -9, its files byte-exact", arguments: TestEngines.all)
    func acknowledgedOpensWithFilesSurviveKill(engine: DatabaseEngine) throws {
        let intake = try KillableIntake(engine)
        let (organization, staff) = (intake.organization, intake.staff)
        @Sendable func bytes(_ index: Int, _ round: Int, _ file: Int) -> [UInt8] {
            randomBytes(2_000 + 37 * file + round % 50, seed: UInt64(index * 1_000_000 + round * 10 + file))
        }

        // Eight clients open tickets with one or two files until the process is killed.
        let opened = intake.openUntilKilled { index, round in
            var request = IntakeHarness.request(organization, subject: "Assunto \(index)-\(round)")
            request.files = (0..<(1 + round % 2)).map { openFile("f\($0).bin", bytes(index, round, $0)) }
            return request
        }
        #expect(opened.count >= 100)

        try intake.restart()
        let after = intake.client()
        defer { after.close() }
        var missing: [String] = []
        for (ticket, index, round) in opened {
            var get = IntakeV1.GetTicketRequest()
            get.ticket = ticket.id
            guard let read = try? after.call(IntakeV1.Intake.getTicket, get, options: staff), read.code == ticket.code,
                  read.attachments == ticket.attachments else {
                missing.append(ticket.code)
                continue
            }
            for (file, ref) in read.attachments.enumerated() {
                var download = IntakeV1.DownloadAttachmentRequest()
                download.attachmentID = ref.id
                let stream = try after.serverStream(IntakeV1.Intake.downloadAttachment, download, options: staff)
                var content: [UInt8] = []
                while let part = try stream.receive() { content += part.data }
                if content != bytes(index, round, file) { missing.append("\(ticket.code) file \(file)") }
            }
        }
        #expect(missing.isEmpty, "acknowledged but lost or changed after kill -9: \(missing.prefix(10))")
    }
}
