import Foundation
@testable import IntakeCore
import Messages
import RPC
import Storage
import Testing
import TestSupport

/// `contents.ref_count`: the number of attachment rows naming a content, which garbage
/// collection trusts to delete a content only when nothing refers to it.
@Suite("Reference counts of stored contents", .serialized)
struct ContentReferenceCountTests {
    @Test("counts stay exact through uploads, opens and replies carrying files (shared contents, one batch), and collection",
          arguments: TestEngines.all)
    func countsStayExact(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let shared = randomBytes(3_000, seed: 1)

        // The same content uploaded twice, and once more inside an open together with a copy of itself.
        let first = try harness.upload(shared, name: "a.png", as: maria)
        let second = try harness.upload(shared, name: "b.png", as: maria)
        var open = IntakeHarness.request(acme)
        open.attachmentIDs = [first.id]
        open.files = [openFile("c.png", shared), openFile("d.png", shared), openFile("e.png", randomBytes(500, seed: 2))]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, open, options: maria).ticket)
        #expect(try harness.referenceCountMismatches() == [])
        #expect(try harness.database.read { try $0.scalar("SELECT ref_count FROM contents WHERE sha256 = ?", [.text(first.sha256)]).integerValue } == 4)

        // Eight concurrent opens (group commit batches) each carrying the shared content and one of its own.
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            var request = IntakeHarness.request(acme, subject: "Lote \(index)")
            request.files = [openFile("s\(index).png", shared), openFile("o\(index).png", randomBytes(700, seed: UInt64(100 + index)))]
            _ = try? harness.client.call(IntakeV1.Intake.openTicket, request, options: maria)
        }
        #expect(try harness.count("tickets") == 9)
        // A reply carrying the shared content and a new one.
        _ = try harness.reply(ticket.code, text: "mais", files: [openFile("r.png", shared), openFile("n.png", randomBytes(900, seed: 3))],
                              as: maria)
        #expect(try harness.referenceCountMismatches() == [])
        #expect(try harness.database.read { try $0.scalar("SELECT ref_count FROM contents WHERE sha256 = ?", [.text(first.sha256)]).integerValue } == 13)

        // Collection: the pending upload of the shared content goes, the content stays (12 left);
        // a pending upload of a content of its own goes with its content.
        let lonely = try harness.upload(randomBytes(1_500, seed: 4), name: "so.png", as: maria)
        let old = Int64(Date().timeIntervalSince1970 * 1000) - 2 * 86_400_000
        try harness.database.write { tx in
            try tx.execute("UPDATE attachments SET created_at = ? WHERE id IN (?, ?)", [.integer(old), .text(second.id), .text(lonely.id)])
        }
        let round = try harness.intake.collectGarbage(pendingOlderThanMilliseconds: 86_400_000, batchSize: 100)
        #expect(round == IntakeContext.CollectedGarbage(attachments: 2, contents: 1))
        #expect(try harness.referenceCountMismatches() == [])
        #expect(try harness.contentStored(sha256Hex(shared)))
        #expect(try !harness.contentStored(lonely.sha256))
        #expect(try harness.download(first.id, as: maria) == shared)
        // Nothing is left for another round.
        #expect(try harness.intake.collectGarbage(pendingOlderThanMilliseconds: 86_400_000, batchSize: 100) == IntakeContext.CollectedGarbage())
    }

    @Test("a content deleted between an open's INSERT and its count is written again from the bytes at hand",
          arguments: TestEngines.all)
    func countingRestoresARemovedRow(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let bytes = randomBytes(800, seed: 7)
        let sha = sha256Hex(bytes)
        let restored = try harness.database.write { tx in
            try harness.intake.addReferences(tx, sha, 2, restoring: bytes, sizeBytes: Int64(bytes.count))
        }
        #expect(restored)
        #expect(try harness.database.read { try $0.scalar("SELECT ref_count FROM contents WHERE sha256 = ?", [.text(sha)]).integerValue } == 2)
        #expect(try harness.contentStored(sha))
        // Without the bytes (a file upload) the caller is told, and nothing is written.
        let other = sha256Hex(randomBytes(900, seed: 8))
        #expect(try !harness.database.write { tx in try harness.intake.addReferences(tx, other, 1, restoring: nil, sizeBytes: 900) })
        #expect(try harness.count("contents") == 1)
    }

    @Test("migration 24 counts the attachments already stored, and drops the index and foreign key on attachments.sha256",
          arguments: TestEngines.all)
    func migrationCountsExistingAttachments(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let before = try scratch.open(migrations: IntakeService.migrations.filter { $0.version < 24 })
        try before.write { tx in
            for (sha, size) in [("aa", 10), ("bb", 20), ("cc", 30)] {
                try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data) VALUES (?, ?, 1, ?)",
                               [.text(sha), .integer(Int64(size)), .blob(Array(repeating: 1, count: size))])
            }
            for (id, sha) in [("A1", "aa"), ("A2", "aa"), ("A3", "bb")] {
                try tx.execute("""
                    INSERT INTO attachments (id, sha256, file_name, content_type, size_bytes, uploader_id, created_at)
                    VALUES (?, ?, 'f.png', 'image/png', 1, 'u', 5)
                    """, [.text(id), .text(sha)])
            }
        }
        let after = try scratch.open(migrations: IntakeService.migrations)
        let counts = try after.read { tx in
            try tx.query("SELECT sha256, ref_count FROM contents ORDER BY sha256").map { try "\($0.text("sha256"))=\($0.int("ref_count"))" }
        }
        #expect(counts == ["aa=2", "bb=1", "cc=0"])
        let attachments = try after.read { tx in try tx.query("SELECT id, sha256 FROM attachments ORDER BY id").map { try $0.text("id") } }
        #expect(attachments == ["A1", "A2", "A3"])
        let indexes = try after.read { tx in
            try tx.query(engine == .sqlite ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'attachments'"
                                           : "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'attachments'")
                .map { try $0.text("name") }
        }
        #expect(!indexes.contains("attachments_sha256"))
        #expect(indexes.contains("attachments_ticket") && indexes.contains("attachments_pending"))
        // No foreign key to contents any more: deleting an unreferenced content reads no attachment.
        let foreignKeys = try after.read { tx in
            try tx.query(engine == .sqlite ? "SELECT \"table\" AS parent FROM pragma_foreign_key_list('attachments')"
                                           : """
                                             SELECT confrelid::regclass::text AS parent FROM pg_constraint
                                             WHERE conrelid = 'attachments'::regclass AND contype = 'f'
                                             """).map { try $0.text("parent") }
        }
        #expect(foreignKeys == ["tickets"])
    }
}
