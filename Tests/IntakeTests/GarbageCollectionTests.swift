import Foundation
import IntakeCore
import Messages
import RPC
import Storage
import Testing
import TestSupport

@Suite("Garbage collection of uploads", .serialized)
struct GarbageCollectionTests {
    /// Small contents in their database row (the default) or every content as a file.
    static let storage: [(name: String, inlineLimit: String)] = [("inline", "262144"), ("files", "0")]

    @Test("old uploads never attached and contents no longer referenced are removed in batches; the rest stays",
          arguments: TestEngines.all, [0, 1])
    func collects(engine: DatabaseEngine, storageIndex: Int) throws {
        let inFiles = Self.storage[storageIndex].name == "files"
        let harness = try IntakeHarness(engine, environment: ["INTAKE_INLINE_CONTENT_BYTES": Self.storage[storageIndex].inlineLimit])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example"))
        let shared = randomBytes(10_000, seed: 1)
        let onTicket = try harness.upload(shared, name: "anexada.png", as: harness.options(maria))
        let sameContentPending = try harness.upload(shared, name: "copia.png", as: harness.options(maria))
        let pending = try (0..<5).map { try harness.upload(randomBytes(3_000, seed: UInt64(10 + $0)), name: "p\($0).png",
                                                           as: harness.options(maria)) }
        let recent = try harness.upload(randomBytes(2_000, seed: 99), name: "recente.png", as: harness.options(maria))
        var open = IntakeHarness.request(acme)
        open.attachmentIDs = [onTicket.id]
        let ticket = try harness.client.call(IntakeV1.Intake.openTicket, open, options: harness.options(maria)).ticket!
        #expect(harness.storedFiles().count == (inFiles ? 7 : 0))

        // Everything but `recent` was uploaded "two days ago".
        let old = Int64(Date().timeIntervalSince1970 * 1000) - 2 * 86_400_000
        try harness.database.write { tx in
            try tx.execute("UPDATE attachments SET created_at = ? WHERE id <> ?", [.integer(old), .text(recent.id)])
        }
        let day: Int64 = 86_400_000
        // Batches of two: three rounds remove the six old pending uploads.
        var rounds: [IntakeContext.CollectedGarbage] = []
        repeat {
            rounds.append(try harness.intake.collectGarbage(pendingOlderThanMilliseconds: day, batchSize: 2))
        } while (rounds.last!.attachments > 0 || rounds.last!.contents > 0) && rounds.count < 10
        #expect(rounds.map(\.attachments).prefix(3) == [2, 2, 2])
        #expect(rounds.allSatisfy { $0.attachments <= 2 && $0.contents <= 2 })
        #expect(rounds.reduce(0) { $0 + $1.attachments } == 6)
        #expect(rounds.reduce(0) { $0 + $1.contents } == 5, "the five distinct pending contents; the shared one stays")

        let remaining = try harness.database.read { tx in
            try tx.query("SELECT id FROM attachments ORDER BY id").map { try $0.text("id") }
        }
        #expect(Set(remaining) == [onTicket.id, recent.id])
        #expect(try harness.count("contents") == 2)
        #expect(harness.storedFiles().count == (inFiles ? 2 : 0))
        #expect(try !harness.contentStored(pending[0].sha256))
        #expect(try harness.contentStored(sameContentPending.sha256))
        // What stays is intact: the ticket's file downloads byte-exact, the recent upload still attaches.
        #expect(try harness.download(onTicket.id, as: harness.options(maria)) == shared)
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket.code
        reply.text = "Segue mais um print."
        reply.attachmentIDs = [recent.id]
        _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: harness.options(maria))
        // A removed upload is gone for its owner too.
        open.attachmentIDs = [pending[1].id]
        open.subject = "Outro assunto"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, open, options: harness.options(maria)) }?
                    .violations.first?.field == "attachment_ids[0]")
        // The same content uploaded again after its removal is stored again.
        let again = try harness.upload(randomBytes(3_000, seed: 10), name: "de-novo.png", as: harness.options(maria))
        #expect(again.sha256 == pending[0].sha256)
        #expect(try harness.contentStored(again.sha256))
        #expect(try harness.referenceCountMismatches() == [])
    }

    @Test("the service collects on its own timer", arguments: TestEngines.all)
    func timer(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GC_INTERVAL_SECONDS": "0.2",
                                                              "INTAKE_PENDING_UPLOAD_MAX_AGE_SECONDS": "1"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example"))
        _ = try harness.upload(randomBytes(1_000, seed: 5), as: harness.options(maria))
        #expect(try harness.count("attachments") == 1)
        // The upload goes first, its content in the same or a later round.
        let deadline = Date().addingTimeInterval(30)
        while try harness.count("attachments") + harness.count("contents") > 0 || !harness.storedFiles().isEmpty, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(try harness.count("attachments") == 0)
        #expect(try harness.count("contents") == 0)
        #expect(harness.storedFiles().isEmpty)
    }
}
