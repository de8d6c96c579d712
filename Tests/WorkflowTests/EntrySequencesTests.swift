import Foundation
import Messages
import RPC
import Storage
import Synchronization
import Testing
import TestSupport
@testable import WorkflowCore

/// Migration 191 (``EntrySequences``): a ticket's discussion entries and history lines have
/// unique places, twins a database already held being renumbered first.
@Suite("Workflow: unique places of discussion entries and history lines")
struct EntrySequencesTests {
    static let ana = DiscussionPagingTests.ana

    /// `(id, seq)` of a ticket's rows in `table`, by id.
    static func places(_ database: any Database, _ table: String, ticket: String) throws -> [String] {
        try database.read { tx in
            try tx.query("SELECT id, seq FROM \(table) WHERE ticket_id = ? ORDER BY id", [.text(ticket)]).map { "\($0.s("id"))=\($0.i("seq"))" }
        }
    }

    /// Places of a ticket's rows in `table`: how many rows, how many distinct places, the last.
    static func counts(_ database: any Database, _ table: String, ticket: String) throws -> [Int64] {
        try database.read { tx in
            let row = try tx.queryOne("SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d, MAX(seq) AS m FROM \(table) WHERE ticket_id = ?", [.text(ticket)])
            return [row?.i("n") ?? -1, row?.i("d") ?? -1, row?.i("m") ?? -1]
        }
    }

    @Test("a database holding twin places (as one could before migration 191) is renumbered, by place then time then id, in the tickets with twins only; then the discussion and the history page through every entry, the next entry follows the last and a twin is refused",
          arguments: TestEngines.all)
    func renumberedTwins(engine: DatabaseEngine) throws {
        let data = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": data.path]
        if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        let base: Int64 = 1_764_460_800_000
        var expected: [String] = []
        let untouched: (discussion: [String], history: [String])
        do {
            let harness = try WorkflowHarness(engine, environment: environment)
            try harness.seedDirectory()
            for ticket in ["t1", "t2"] {
                try harness.deliver(WorkflowHarness.opened(ticket), key: ticket)
                _ = try harness.take(ticket, as: Self.ana)
                for index in 1...30 {
                    var add = WorkflowV1.AddDiscussionRequest()
                    add.ticketID = ticket
                    add.text = "\(ticket) entrada \(index)"
                    add.kind = "note"
                    _ = try harness.call(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana)
                }
            }
            try harness.database.write { tx in
                // The state before migration 191: no unique index, the plain one on the discussion.
                try tx.execute("DROP INDEX ticket_history_seq")
                try tx.execute("DROP INDEX discussion_ticket")
                try tx.execute("CREATE INDEX discussion_ticket ON discussion_entries (ticket_id, seq)")
                try tx.execute("DELETE FROM schema_migrations WHERE component = 'service' AND version = 191")
                // t1: one time per place (a second apart), then places 11–20 all 11, and 25–26 both
                // 25 at the same time (the id decides).
                try tx.execute("UPDATE discussion_entries SET added_at = CAST(? AS BIGINT) + seq * 1000 WHERE ticket_id = 't1'", [.integer(base)])
                try tx.execute("UPDATE discussion_entries SET added_at = CAST(? AS BIGINT) + 25000 WHERE ticket_id = 't1' AND seq = 26", [.integer(base)])
                try tx.execute("UPDATE ticket_history SET at = CAST(? AS BIGINT) + seq * 1000 WHERE ticket_id = 't1'", [.integer(base)])
            }
            let twins = try harness.database.read { tx in
                try tx.query("SELECT id, text FROM discussion_entries WHERE ticket_id = 't1' AND seq IN (25, 26) ORDER BY id").map { $0.s("text") }
            }
            expected = (1...30).map { "t1 entrada \($0)" }
            expected.replaceSubrange(24...25, with: twins)
            try harness.database.write { tx in
                try tx.execute("UPDATE discussion_entries SET seq = 11 WHERE ticket_id = 't1' AND seq BETWEEN 11 AND 20")
                try tx.execute("UPDATE discussion_entries SET seq = 25 WHERE ticket_id = 't1' AND seq = 26")
                try tx.execute("UPDATE ticket_history SET seq = 2 WHERE ticket_id = 't1' AND seq BETWEEN 2 AND 4")
            }
            #expect(try Self.counts(harness.database, "discussion_entries", ticket: "t1") == [30, 20, 30])
            untouched = (try Self.places(harness.database, "discussion_entries", ticket: "t2"),
                         try Self.places(harness.database, "ticket_history", ticket: "t2"))
        }
        // Started again on the same database: migration 191 runs.
        let harness = try WorkflowHarness(engine, environment: environment)
        #expect(try Self.counts(harness.database, "discussion_entries", ticket: "t1") == [30, 30, 30])
        let history = try Self.counts(harness.database, "ticket_history", ticket: "t1")
        #expect(history[0] == history[1] && history[1] == history[2], "\(history)")
        #expect(try Self.places(harness.database, "discussion_entries", ticket: "t2") == untouched.discussion)
        #expect(try Self.places(harness.database, "ticket_history", ticket: "t2") == untouched.history)

        #expect(try DiscussionPagingTests.walk(harness, limit: 4, as: Self.ana) == expected)
        let whole = try DiscussionPagingTests.history(harness, limit: 200)
        #expect(whole.entries.count == Int(history[0]))
        var page = try DiscussionPagingTests.history(harness, limit: 3)
        var lines = page.entries
        while !page.before.isEmpty {
            page = try DiscussionPagingTests.history(harness, limit: 3, before: page.before)
            lines = page.entries + lines
        }
        #expect(lines == whole.entries)

        var add = WorkflowV1.AddDiscussionRequest()
        add.ticketID = "t1"
        add.text = "depois da migração"
        add.kind = "note"
        _ = try harness.call(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana)
        #expect(try Self.counts(harness.database, "discussion_entries", ticket: "t1") == [31, 31, 31])
        #expect(try DiscussionPagingTests.view(harness, limit: 1, as: Self.ana).discussion.map(\.text) == ["depois da migração"])
        #expect(throws: (any Error).self) {
            try harness.database.write { tx in
                _ = try tx.execute("INSERT INTO discussion_entries (id, ticket_id, seq, kind, is_public, text, added_at) VALUES ('twin', 't1', 5, 'note', 0, 'x', 0)")
            }
        }
        #expect(throws: (any Error).self) {
            try harness.database.write { tx in
                _ = try tx.execute("INSERT INTO ticket_history (id, ticket_id, at, seq, kind) VALUES ('twin', 't1', 0, 1, 'view')")
            }
        }
    }

    @Test("every writer of a history line locks its ticket, so concurrent views from the queue and e-mails sent (one at a time and two tickets in one delivery) each get their own place and none fails on the unique index",
          arguments: TestEngines.all)
    func concurrentHistoryLines(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for ticket in ["t1", "t2"] {
            try harness.deliver(WorkflowHarness.opened(ticket), key: ticket)
            _ = try harness.take(ticket, as: Self.ana)
        }
        @Sendable func email(_ ticket: String, _ number: Int) -> NotificationV1.EmailSent {
            var email = NotificationV1.EmailSent()
            email.ticketID = ticket
            email.subject = "Aviso \(number)"
            email.recipients = ["maria@example.com"]
            email.outcome = "sent"
            email.sentAtMs = Int64(Date().timeIntervalSince1970 * 1000)
            return email
        }
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for round in 0..<15 {
                do {
                    switch worker {
                    case 0, 1:
                        var viewed = WorkflowV1.GetTicketRequest()
                        viewed.ticketID = "t1"
                        viewed.fromQueue = true
                        viewed.discussionLimit = 1
                        _ = try harness.call(WorkflowV1.Workflow.getTicket, viewed, as: Self.ana)
                    case 2:
                        let answer = try harness.deliver(email("t1", round), key: "t1", source: "notification")
                        if answer.accepted != 1 { throw RPCError(.internal, "not accepted: \(answer)") }
                    default:
                        let answer = try harness.deliver([WorkflowHarness.envelope(email("t1", 100 + round), key: "t1", source: "notification"),
                                                          WorkflowHarness.envelope(email("t2", round), key: "t2", source: "notification")])
                        if answer.accepted != 2 || !answer.failures.isEmpty { throw RPCError(.internal, "not accepted: \(answer)") }
                    }
                } catch {
                    failures.withLock { $0.append("worker \(worker) round \(round): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let places = try Self.counts(harness.database, "ticket_history", ticket: "t1")
        let kinds = try harness.database.read { tx in
            try tx.query("SELECT kind, COUNT(*) AS n FROM ticket_history WHERE ticket_id = 't1' GROUP BY kind ORDER BY kind").map { "\($0.s("kind"))=\($0.i("n"))" }
        }
        #expect(places[0] == places[1] && places[1] == places[2] && places[0] == 63, "\(places) \(kinds)")
    }
}
