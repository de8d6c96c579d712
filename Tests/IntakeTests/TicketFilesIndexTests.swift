import Foundation
@testable import IntakeCore
import Messages
import RPC
import Storage
import Testing
import TestSupport

/// Migration 30: `attachments_ticket` keeps only files on a ticket (`WHERE ticket_id IS NOT NULL`).
@Suite("The index of a ticket's files (migration 30)")
struct TicketFilesIndexTests {
    @Test("after migration 30 the index of a ticket's files leaves pending uploads out; an upload stored before it is still linked by an open, once, and the ticket from before lists its file",
          arguments: TestEngines.all)
    func upgradeKeepsPendingUploadsLinkable(engine: DatabaseEngine) throws {
        let older = try OlderDatabase(engine, before: 30, prefix: "intake-ticket-files")
        let onTicket: [UInt8] = Array("antigo".utf8), pending: [UInt8] = Array("pendente".utf8)
        let snapshot = OlderDatabase.ticketSnapshot(id: "t1", code: "2025-000001")
        try older.database.write { tx in
            try OlderDatabase.insertAcme(tx)
            try tx.execute("""
                INSERT INTO tickets (id, code, organization_id, contact_id, status, opened_at, submission_hash, attachment_bytes, snapshot)
                VALUES ('t1', '2025-000001', 'o1', 'c1', 'open', 50, 'h', ?, ?)
                """, [.integer(Int64(onTicket.count)), .blob(snapshot.serializedBytes())])
            for bytes in [onTicket, pending] {
                try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data, ref_count) VALUES (?, ?, 0, ?, 1)",
                               [.text(sha256Hex(bytes)), .integer(Int64(bytes.count)), .blob(bytes)])
            }
            // A file on the ticket, and Maria's upload on no ticket yet, as version 29 stored them.
            try tx.execute("""
                INSERT INTO attachments (id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, ticket_id, created_at)
                VALUES ('f1', ?, 'antigo.txt', 'text/plain', ?, 'c1', 'o1', 't1', 60),
                       ('p1', ?, 'pendente.txt', 'text/plain', ?, 'c1', 'o1', NULL, 70)
                """, [.text(sha256Hex(onTicket)), .integer(Int64(onTicket.count)), .text(sha256Hex(pending)), .integer(Int64(pending.count))])
        }
        let harness = try older.harness()
        let definition = try harness.database.read { tx in
            try tx.queryOne(engine == .sqlite ? "SELECT sql AS definition FROM sqlite_master WHERE type = 'index' AND name = 'attachments_ticket'"
                                              : "SELECT indexdef AS definition FROM pg_indexes WHERE indexname = 'attachments_ticket'")?
                .text("definition")
        }
        #expect(definition?.contains("ticket_id IS NOT NULL") == true, "\(definition ?? "no index")")
        let staff = harness.staff
        #expect(try harness.getTicket("t1", as: staff).attachments.map(\.id) == ["f1"], "read through the partial index")

        let maria = try #require(try harness.database.read { try DirectoryStore.contacts($0, email: "maria@acme.example") }.first)
        let options = harness.options(IntakeHarness.customer(maria))
        var acme = IntakeV1.Organization()
        acme.id = "o1"
        var request = IntakeHarness.request(acme)
        request.attachmentIDs = ["p1"]
        let opened = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: options).ticket)
        #expect(opened.attachments.map(\.id) == ["p1"])
        #expect(try harness.getTicket(opened.id, as: staff).attachments.map(\.id) == ["p1"])
        #expect(try harness.download("p1", as: options) == pending)

        // Linked once: a second open naming it is refused and stores nothing.
        var again = IntakeHarness.request(acme, subject: "Outra vez")
        again.attachmentIDs = ["p1"]
        let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, again, options: options) }
        #expect(error?.code == .invalidArgument && error?.violations.map(\.field) == ["attachment_ids[0]"])
        #expect(try harness.count("tickets") == 2)
        #expect(try harness.getTicket("t1", as: staff).attachments.map(\.id) == ["f1"])
        #expect(try harness.referenceCountMismatches() == [])
    }
}
