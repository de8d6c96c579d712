import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("Migration 23: SQLite's tickets rebuilt with a partial unique index on the e-mail Message-ID", .serialized)
struct TicketsRebuildTests {
    /// A database at migration 22 with three tickets (one opened by e-mail), replies on two of
    /// them (one by e-mail) and files on the tickets and a reply, written as version 22 stored them.
    static func olderDatabase(_ engine: DatabaseEngine, _ directory: TemporaryDirectory) throws -> String? {
        let url = engine == .postgres ? try PostgresTestServer.shared().createDatabase() : nil
        let configuration = url.map { DatabaseConfiguration(url: $0, sqlitePath: "") }
            ?? DatabaseConfiguration(sqlitePath: directory.path + "/intake.sqlite")
        let older = try openDatabase(configuration, migrations: IntakeService.migrations.filter { $0.version < 23 })
        defer { older.close() }
        try older.write { tx in
            try tx.execute("INSERT INTO organizations (id, code, name, name_key, kind, created_at) VALUES ('o1', 'C000001', 'Acme', 'acme', 1, 0)")
            try tx.execute("INSERT INTO contacts (id, organization_id, name, name_key, created_at) VALUES ('c1', 'o1', 'Maria', 'maria', 0)")
            try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data) VALUES ('s', 1, 0, ?)", [.blob([7])])
            for (index, id) in ["t3", "t1", "t2"].enumerated() {
                var snapshot = IntakeV1.Ticket()
                snapshot.id = id
                snapshot.code = "2020-00000\(index + 1)"
                var organization = CommonV1.OrganizationRef()
                organization.id = "o1"
                snapshot.organization = organization
                snapshot.subject = "Antiga \(id)"
                try tx.execute("""
                    INSERT INTO tickets (id, code, organization_id, contact_id, status, opened_at, submission_hash, email_message_id, attachment_bytes, snapshot)
                    VALUES (?, ?, 'o1', 'c1', 'open', ?, 'h', ?, 1, ?)
                    """, [.text(id), .text(snapshot.code), .integer(Int64(index)), id == "t1" ? .text("<abre@acme.example>") : .null,
                          .blob(snapshot.serializedBytes())])
                try tx.execute("""
                    INSERT INTO attachments (id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, ticket_id, created_at)
                    VALUES (?, 's', 'a.txt', 'text/plain', 1, 'c1', 'o1', ?, 0)
                    """, [.text("a-\(id)"), .text(id)])
            }
            for (id, ticket, email) in [("m1", "t1", "<resposta@acme.example>"), ("m2", "t2", "")] {
                var message = IntakeV1.TicketMessage()
                message.id = id
                message.text = "Resposta"
                try tx.execute("INSERT INTO ticket_messages (id, ticket_id, created_at, email_message_id, snapshot) VALUES (?, ?, 1, ?, ?)",
                               [.text(id), .text(ticket), email.isEmpty ? .null : .text(email), .blob(message.serializedBytes())])
            }
            try tx.execute("""
                INSERT INTO attachments (id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, ticket_id, message_id, created_at)
                VALUES ('a-m1', 's', 'b.txt', 'text/plain', 1, 'c1', 'o1', 't1', 'm1', 0)
                """)
        }
        return url
    }

    @Test("every row, rowid, column, key and reference is kept; the Message-ID stays unique through a partial index the lookup uses; NULLs take no entry",
          arguments: TestEngines.all)
    func rebuildKeepsEverything(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory(prefix: "intake-rebuild")
        let url = try Self.olderDatabase(engine, directory)
        var rowids: [[String]] = []
        if engine == .sqlite {
            let older = try openDatabase(DatabaseConfiguration(sqlitePath: directory.path + "/intake.sqlite"), migrations: [])
            rowids = try older.read { tx in
                try tx.query("SELECT rowid AS r, id FROM tickets ORDER BY rowid").map { [String(try $0.int("r")), try $0.text("id")] }
            }
            older.close()
            #expect(rowids.map { $0[1] } == ["t3", "t1", "t2"])
        }

        let harness = try IntakeHarness(engine, databaseURL: url, dataDirectory: url == nil ? directory.path : nil)
        let staff = harness.staff
        // The old tickets read as before, with their replies and files.
        let t1 = try harness.getTicket("t1", as: staff)
        #expect(t1.code == "2020-000002" && t1.subject == "Antiga t1")
        #expect(t1.attachments.map(\.id) == ["a-t1"] && t1.messages.map(\.id) == ["m1"] && t1.messages.first?.attachments.map(\.id) == ["a-m1"])
        #expect(try harness.getTicket("2020-000003", as: staff).messages.map(\.id) == ["m2"])

        if engine == .sqlite {
            try harness.database.read { tx in
                #expect(try tx.query("SELECT rowid AS r, id FROM tickets ORDER BY rowid").map { [String(try $0.int("r")), try $0.text("id")] } == rowids,
                        "rowids kept (the double-submission memory reads tickets by rowid)")
                let indexes = try tx.query("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tickets' ORDER BY name").map {
                    try $0.text("name")
                }
                #expect(indexes == ["sqlite_autoindex_tickets_1", "sqlite_autoindex_tickets_2", "tickets_email_message_id"],
                        "the primary key, code's UNIQUE and the partial index; no entry per NULL Message-ID")
                #expect(try tx.query("SELECT name FROM sqlite_schema WHERE type = 'trigger'").isEmpty)
                let parents = try tx.query("SELECT \"table\" AS parent, \"from\" AS child FROM pragma_foreign_key_list('tickets') ORDER BY 1").map {
                    "\(try $0.text("child"))→\(try $0.text("parent"))"
                }
                #expect(parents == ["contact_id→contacts", "organization_id→organizations"])
                for child in ["ticket_messages", "attachments"] {
                    #expect(try tx.query("SELECT \"table\" AS parent FROM pragma_foreign_key_list('\(child)') WHERE \"from\" = 'ticket_id'")
                        .map { try $0.text("parent") } == ["tickets"])
                }
                #expect(try tx.query("PRAGMA foreign_key_check").isEmpty)
                #expect(try tx.scalar("PRAGMA integrity_check") == .text("ok"))
                let plan = try tx.query("EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE email_message_id = ?", [.text("<abre@acme.example>")])
                    .map { try $0.text("detail") }.joined(separator: "; ")
                #expect(plan.contains("tickets_email_message_id"), "\(plan)")
                #expect(try tx.scalar("SELECT COUNT(*) FROM sqlite_schema WHERE name LIKE 'tickets_v23%'").integerValue == 0)
            }
        }
        // References still hold: no reply on a ticket that does not exist, no ticket removed under its replies.
        #expect(throws: StorageError.self) {
            try harness.database.write { try $0.execute("INSERT INTO ticket_messages (id, ticket_id, created_at, snapshot) VALUES ('x', 'nope', 0, ?)", [.blob([])]) }
        }
        #expect(throws: StorageError.self) { try harness.database.write { try $0.execute("DELETE FROM tickets WHERE id = 't2'") } }

        // The Message-ID is unique among the e-mail tickets, old and new; any number have none.
        var request = IntakeHarness.request(IntakeV1.Organization())
        request.organizationID = "o1"
        request.contactID = "c1"
        request.channel = "email"
        request.emailMessageID = "<abre@acme.example>"
        let again = try harness.client.call(IntakeV1.Intake.openTicket, request, options: staff)
        #expect(again.duplicate && again.ticket?.id == "t1")
        request.emailMessageID = "<nova@acme.example>"
        let opened = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: staff).ticket)
        let repeated = try harness.client.call(IntakeV1.Intake.openTicket, request, options: staff)
        #expect(repeated.duplicate && repeated.ticket?.id == opened.id)
        request.emailMessageID = ""
        request.subject = "Outra"
        _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: staff)
        #expect(try harness.count("tickets") == 5 && harness.count("tickets WHERE email_message_id IS NULL") == 3)
        #expect(throws: StorageError.self) {
            try harness.database.write { try $0.execute("UPDATE tickets SET email_message_id = '<abre@acme.example>' WHERE id = 't2'") }
        }
    }
}
