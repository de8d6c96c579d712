import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

extension IntakeHarness {
    /// Uploads `bytes` in chunks over the client-streaming RPC; with `trailing`, the size and
    /// SHA-256 come in a last message of their own (as the gateway sends them); with `whole`,
    /// the call goes in one write (`RPCClient.call(_:requests:)`).
    func upload(_ bytes: [UInt8], name: String = "tela.png", chunk: Int = 256 << 10, as options: CallOptions,
                ticketID: String = "", sha: String? = nil, size: Int64? = nil, trailing: Bool = false,
                internal: Bool = false, whole: Bool = false) throws -> CommonV1.AttachmentRef {
        var first = IntakeV1.UploadAttachmentRequest()
        first.fileName = name
        first.contentType = "image/png"
        if !trailing {
            first.sizeBytes = size ?? Int64(bytes.count)
            first.sha256 = sha ?? sha256Hex(bytes)
        }
        first.ticketID = ticketID
        first.`internal` = `internal`
        first.data = Array(bytes.prefix(chunk))
        var messages = [first]
        var offset = first.data.count
        while offset < bytes.count {
            var next = IntakeV1.UploadAttachmentRequest()
            next.data = Array(bytes[offset..<min(offset + chunk, bytes.count)])
            messages.append(next)
            offset += next.data.count
        }
        if trailing {
            var last = IntakeV1.UploadAttachmentRequest()
            last.sizeBytes = size ?? Int64(bytes.count)
            last.sha256 = sha ?? sha256Hex(bytes)
            messages.append(last)
        }
        if whole { return try client.call(IntakeV1.Intake.uploadAttachment, requests: messages, options: options) }
        let call = try client.streamingCall(IntakeV1.Intake.uploadAttachment, options: options)
        for message in messages { try call.send(message) }
        return try call.finish()
    }

    func download(_ id: String, as options: CallOptions, chunk: Int32 = 300_000) throws -> [UInt8] {
        var request = IntakeV1.DownloadAttachmentRequest()
        request.attachmentID = id
        request.chunkBytes = chunk
        let stream = try client.serverStream(IntakeV1.Intake.downloadAttachment, request, options: options)
        var bytes: [UInt8] = []
        while let part = try stream.receive() {
            #expect(part.offset == Int64(bytes.count))
            bytes += part.data
        }
        return bytes
    }

    /// Whether a content is readable where intake keeps it: in its `contents` row or as a file.
    func contentStored(_ sha256: String) throws -> Bool {
        try database.read { tx in try intake.contentIsStored(tx, sha256) }
    }

    func storedFiles() -> [String] {
        let root = intake.contents.root
        let enumerator = FileManager.default.enumerator(atPath: root)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(root)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files
    }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        for index in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            buffer[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        initialized = count
    }
}

@Suite("Attachments", .serialized)
struct AttachmentTests {
    @Test("a 5 MiB file larger than a frame streams in chunks, is stored once per content and reads back byte-exact", arguments: TestEngines.all)
    func uploadDedupeDownload(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let content = randomBytes(5 << 20, seed: 7)
        let first = try harness.upload(content, name: "gravação.mp4", as: asMaria)
        let second = try harness.upload(content, name: "copia.mp4", as: asMaria)
        #expect(first.sha256 == sha256Hex(content) && first.sizeBytes == Int64(content.count))
        #expect(first.id != second.id)
        #expect(harness.storedFiles().filter { !$0.hasPrefix("tmp/") } == ["\(first.sha256.prefix(2))/\(first.sha256.dropFirst(2).prefix(2))/\(first.sha256)"],
                "one file for one content")
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = [first.id, second.id]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket)
        #expect(ticket.attachments.map(\.id) == [first.id, second.id])
        #expect(try harness.events(IntakeV1.TicketOpened.self).first?.attachments.count == 2)
        #expect(try harness.download(first.id, as: asMaria) == content)
        // Staff read it too; an empty file works.
        #expect(try harness.download(second.id, as: harness.staff) == content)
        let empty = try harness.upload([], name: "vazio.txt", as: asMaria)
        #expect(try harness.download(empty.id, as: asMaria) == [])
        // An attachment is used once.
        var reuse = IntakeHarness.request(acme, subject: "Outro")
        reuse.attachmentIDs = [first.id]
        let reused = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, reuse, options: asMaria) }
        #expect(reused?.violations.map(\.field) == ["attachment_ids[0]"])
    }

    @Test("files up to the inline limit are kept in their database row: no file, stored once, read back byte-exact; larger ones go to files",
          arguments: TestEngines.all)
    func inlineContents(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_INLINE_CONTENT_BYTES": "5000"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let atLimit = randomBytes(5000, seed: 21)
        let overLimit = randomBytes(5001, seed: 22)
        let small = try harness.upload(atLimit, name: "print.png", as: asMaria)
        let copy = try harness.upload(atLimit, name: "print-de-novo.png", as: asMaria)
        #expect(harness.storedFiles().isEmpty, "no file for a content at the limit")
        #expect(try harness.count("contents") == 1, "stored once per content")
        let stored = try harness.database.read { tx in try tx.queryOne("SELECT data FROM contents WHERE sha256 = ?", [.text(small.sha256)]) }
        #expect(try stored?.optionalBlob("data") == atLimit)
        let large = try harness.upload(overLimit, name: "log.txt", as: asMaria)
        #expect(harness.storedFiles() == ["\(large.sha256.prefix(2))/\(large.sha256.dropFirst(2).prefix(2))/\(large.sha256)"])
        // Read back in chunks smaller than the content, before and after being put on a ticket.
        #expect(try harness.download(small.id, as: asMaria, chunk: 1024) == atLimit)
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = [small.id, copy.id, large.id]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket)
        #expect(ticket.attachments.map(\.sha256) == [small.sha256, small.sha256, large.sha256])
        #expect(try harness.download(copy.id, as: harness.staff, chunk: 999) == atLimit)
        #expect(try harness.download(large.id, as: asMaria, chunk: 1024) == overLimit)
        // A small upload with a wrong hash leaves nothing either.
        let badHash = rpcError { _ = try harness.upload(randomBytes(100, seed: 23), as: asMaria, sha: String(repeating: "ef", count: 32)) }
        #expect(badHash?.code == .invalidArgument && badHash?.violations.first?.reason == "sha256_mismatch")
        #expect(try harness.count("contents") == 2 && harness.count("attachments") == 3)
    }

    @Test("an upload sent whole in one write (received on the event loop when small and for no ticket) is stored, checked and refused like any other",
          arguments: TestEngines.all)
    func wholeUploads(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let small = randomBytes(4096, seed: 31)
        let ref = try harness.upload(small, name: "print.png", as: asMaria, whole: true)
        #expect(ref.sha256 == sha256Hex(small) && ref.sizeBytes == 4096)
        #expect(try harness.download(ref.id, as: asMaria, chunk: 1000) == small)
        // Trailing description, several chunks, the same content again: one content row.
        let again = try harness.upload(small, name: "de-novo.png", chunk: 1000, as: asMaria, trailing: true, whole: true)
        #expect(try harness.count("contents") == 1 && harness.count("attachments") == 2)
        // Larger than what runs on the loop: a worker receives it, the same way.
        let larger = randomBytes(100_000, seed: 32)
        let big = try harness.upload(larger, as: asMaria, whole: true)
        #expect(try harness.download(big.id, as: asMaria) == larger)
        // Refusals leave nothing.
        let badHash = rpcError { _ = try harness.upload(randomBytes(100, seed: 33), as: asMaria, sha: String(repeating: "ab", count: 32), whole: true) }
        #expect(badHash?.code == .invalidArgument && badHash?.violations.first?.reason == "sha256_mismatch")
        let badSize = rpcError { _ = try harness.upload(randomBytes(100, seed: 34), as: asMaria, size: 99, whole: true) }
        #expect(badSize?.code == .invalidArgument && badSize?.violations.first?.reason == "size_mismatch")
        let internalByCustomer = rpcError { _ = try harness.upload(randomBytes(100, seed: 35), as: asMaria, internal: true, whole: true) }
        #expect(internalByCustomer?.code == .invalidArgument)
        let unsigned = rpcError { _ = try harness.client.call(IntakeV1.Intake.uploadAttachment, requests: [IntakeV1.UploadAttachmentRequest()]) }
        #expect(unsigned?.code == .unauthenticated)
        #expect(try harness.count("contents") == 2 && harness.count("attachments") == 3)
        // For a ticket (its access is read first): a worker receives it and puts it on the ticket.
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = [ref.id, again.id]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket)
        let added = try harness.upload(randomBytes(2000, seed: 36), as: asMaria, ticketID: ticket.id, whole: true)
        #expect(try harness.download(added.id, as: asMaria) == randomBytes(2000, seed: 36))
        #expect(try harness.count("attachments") == 4)
    }

    @Test("a wrong hash, a wrong size or a file over the limit is refused and leaves nothing", arguments: TestEngines.all)
    func refusedUploads(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_MAX_FILE_BYTES": String(1 << 20)])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let content = randomBytes(600_000, seed: 1)
        let badHash = rpcError { _ = try harness.upload(content, as: asMaria, sha: String(repeating: "ab", count: 32)) }
        #expect(badHash?.code == .invalidArgument && badHash?.violations.first?.reason == "sha256_mismatch")
        let badSize = rpcError { _ = try harness.upload(content, as: asMaria, size: 10) }
        #expect(badSize?.code == .invalidArgument && badSize?.violations.first?.reason == "size_mismatch")
        let tooBig = randomBytes((1 << 20) + 1, seed: 2)
        let refused = rpcError { _ = try harness.upload(tooBig, as: asMaria, size: 1000) }
        #expect(refused?.code == .resourceExhausted)
        let announcedTooBig = rpcError { _ = try harness.upload(tooBig, as: asMaria) }
        #expect(announcedTooBig?.code == .resourceExhausted)
        #expect(harness.storedFiles().isEmpty)
        #expect(try harness.count("attachments") == 0)
    }

    @Test("size and SHA-256 may come in the last message: checked like announced ones, refusals leave nothing", arguments: TestEngines.all)
    func trailingDescription(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_MAX_FILE_BYTES": String(1 << 20)])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let content = randomBytes(600_000, seed: 4)
        let badHash = rpcError { _ = try harness.upload(content, as: asMaria, sha: String(repeating: "cd", count: 32), trailing: true) }
        #expect(badHash?.code == .invalidArgument && badHash?.violations.first?.reason == "sha256_mismatch")
        let badSize = rpcError { _ = try harness.upload(content, as: asMaria, size: 12, trailing: true) }
        #expect(badSize?.code == .invalidArgument && badSize?.violations.first?.reason == "size_mismatch")
        let noHash = rpcError { _ = try harness.upload(content, as: asMaria, sha: "", trailing: true) }
        #expect(noHash?.code == .invalidArgument && noHash?.violations.first?.field == "sha256")
        let tooBig = rpcError { _ = try harness.upload(randomBytes((1 << 20) + 1, seed: 5), as: asMaria, trailing: true) }
        #expect(tooBig?.code == .resourceExhausted)
        #expect(harness.storedFiles().isEmpty)
        #expect(try harness.count("attachments") == 0)
        let stored = try harness.upload(content, as: asMaria, trailing: true)
        #expect(stored.sizeBytes == Int64(content.count) && stored.sha256 == sha256Hex(content))
        #expect(try harness.download(stored.id, as: asMaria) == content)
    }

    @Test("an upload cut off midway leaves no file and no attachment", arguments: TestEngines.all)
    func cutOffUpload(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let content = randomBytes(2 << 20, seed: 3)
        let call = try harness.client.streamingCall(IntakeV1.Intake.uploadAttachment, options: harness.options(IntakeHarness.customer(maria)))
        var first = IntakeV1.UploadAttachmentRequest()
        first.fileName = "cortado.bin"
        first.sizeBytes = Int64(content.count)
        first.sha256 = sha256Hex(content)
        first.data = Array(content.prefix(512 << 10))
        try call.send(first)
        var next = IntakeV1.UploadAttachmentRequest()
        next.data = Array(content[(512 << 10)..<(1 << 20)])
        try call.send(next)
        // Wait until the server has started writing, then cut the call.
        let limit = Date().addingTimeInterval(20)
        while harness.intake.contents.pendingUploads().isEmpty && Date() < limit { usleep(5_000) }
        call.cancel()
        let drained = Date().addingTimeInterval(10)
        while !harness.intake.contents.pendingUploads().isEmpty && Date() < drained { usleep(10_000) }
        #expect(harness.intake.contents.pendingUploads().isEmpty, "temporary file removed")
        #expect(harness.storedFiles().isEmpty)
        #expect(try harness.count("attachments") == 0)
        #expect(try harness.count("contents") == 0)
    }

    @Test("files added to an existing ticket raise AttachmentAdded; the per-ticket limit holds", arguments: TestEngines.all)
    func addToTicket(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_MAX_TICKET_BYTES": "1000000"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: asMaria).ticket)
        let added = try harness.upload(randomBytes(600_000, seed: 4), name: "log.txt", as: asMaria, ticketID: ticket.id)
        let events = try harness.events(IntakeV1.AttachmentAdded.self)
        #expect(events.map { $0.attachment?.id } == [added.id])
        #expect(events.first?.code == ticket.code && events.first?.by?.id == maria.id)
        let over = rpcError { _ = try harness.upload(randomBytes(600_000, seed: 5), name: "log2.txt", as: asMaria, ticketID: ticket.id) }
        #expect(over?.violations.first?.reason == "ticket_too_large")
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.id
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: asMaria).attachments.map(\.id) == [added.id])
    }
}
