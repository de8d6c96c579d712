import Foundation
import Messages
import RPC
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// A delivery's openings applied together (PostgreSQL: one statement for the group,
/// ``OpeningGroup``): the same stored rows and published events as one opening after the other,
/// duplicates and redeliveries applied once, and a failing opening losing none of the others.
@Suite("Workflow: a delivery's openings together")
struct OpeningGroupTests {
    static let day: Int64 = 86_400_000
    /// One instant for every opening of a run, so two harnesses write the same values (near the
    /// clock: the harness's timers would act on instants long past).
    static let now = Int64(Date().timeIntervalSince1970 * 1000)

    /// Openings of several shapes: routed to n1 and n2, with files and custom fields, and one
    /// reported long after the fact (its SLA already breached: the SLA takes the ordinary path).
    static func openings() -> [IntakeV1.TicketOpened] {
        var withFiles = WorkflowHarness.opened("G2", plan: "premium", subject: "Boleto \"duplicado\"\nlinha 2", request: "Texto com \\ e ç",
                                               openedAt: now + 1)
        var file = CommonV1.AttachmentRef()
        file.id = "att-1"
        file.fileName = "nota.pdf"
        file.contentType = "application/pdf"
        file.sizeBytes = 1234
        file.sha256 = "abc"
        var internalFile = file
        internalFile.id = "att-2"
        internalFile.fileName = "log.txt"
        internalFile.`internal` = true
        withFiles.attachments = [file, internalFile]
        withFiles.customFields = ["pedido": "42", "vazio": ""]
        return [
            WorkflowHarness.opened("G1", openedAt: now),
            withFiles,
            WorkflowHarness.opened("G3", category: .duvida, priority: .alta, openedAt: now - 30 * day),
            WorkflowHarness.opened("G4", organization: "org-2", product: "RH", module: "Folha", openedAt: now + 2),
        ]
    }

    /// What the openings stored and published, without random ids.
    static func snapshot(_ harness: WorkflowHarness) throws -> [String] {
        let queries = [
            "SELECT * FROM tickets ORDER BY id",
            "SELECT ticket_id, subject, request FROM ticket_search ORDER BY ticket_id",
            "SELECT * FROM text_versions ORDER BY ticket_id, field, version",
            "SELECT ticket_id, at, seq, kind, old_value, new_value, note, actor_id, actor_name FROM ticket_history ORDER BY ticket_id, seq",
            "SELECT * FROM ticket_attachments ORDER BY ticket_id, attachment_id",
            "SELECT * FROM ticket_fields ORDER BY ticket_id, name",
            "SELECT * FROM wf_sla_tickets ORDER BY ticket_id",
            "SELECT * FROM wf_sla_events ORDER BY ticket_id, seq",
            "SELECT * FROM wf_sla_targets ORDER BY ticket_id, target, cycle",
            "SELECT * FROM wf_sla_notices ORDER BY ticket_id, target, cycle, kind",
            "SELECT ticket_id, kind, due_at, payload, generation, state, attempts, created_at FROM wf_timers ORDER BY ticket_id, kind, due_at",
            "SELECT * FROM wf_inactivity_tickets ORDER BY ticket_id",
            "SELECT * FROM wf_metric_tickets ORDER BY ticket_id",
            "SELECT dim, key, day, SUM(opened) AS opened FROM wf_metric_daily GROUP BY dim, key, day ORDER BY dim, key, day",
            "SELECT dim, key, month, SUM(opened) AS opened FROM wf_metric_monthly GROUP BY dim, key, month ORDER BY dim, key, month",
            "SELECT stage, SUM(open_count) AS n FROM wf_metric_backlog GROUP BY stage ORDER BY stage",
        ]
        var lines: [String] = []
        try harness.database.read { tx in
            for sql in queries {
                for row in try tx.query(sql) {
                    lines.append(sql.prefix(40) + ": " + zip(row.columns, row.values).map { "\($0)=\($1)" }.joined(separator: " "))
                }
            }
        }
        // Per key in publishing order: the relay keeps each key's order, not an order across keys
        // (a group writes its tickets' TicketRouted rows together after their other events).
        let published = try harness.published().enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }
        for (_, envelope) in published {
            lines.append("outbox \(envelope.type) \(envelope.key) \(envelope.payload)")
        }
        return lines
    }

    /// A harness with the directory, whose configuration is cached by a first opening (on
    /// PostgreSQL a group is written together only with a cached configuration).
    /// Both harnesses of a comparison run on one fixed clock: the SLA of an opening reported long
    /// after the fact is computed at the delivery's moment (business minutes), which would differ
    /// when the two deliveries straddle a minute.
    /// Their timer schedulers poll once at the start and then once an hour: G3's SLA timer is due
    /// thirty days back, and a scheduler firing it in one harness and not yet in the other
    /// published an `SLABreached` only one snapshot had (seen on PostgreSQL under load).
    static func warmedHarness(_ engine: DatabaseEngine) throws -> WorkflowHarness {
        var options = WorkflowService.Options()
        options.now = { now + 5_000 }
        let harness = try WorkflowHarness(engine, options: options, environment: ["WORKFLOW_TIMER_POLL_MS": "3600000"])
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("G0", openedAt: now - 1), key: "G0")
        return harness
    }

    @Test("a delivery of openings stores and publishes what the same openings one per delivery do", arguments: TestEngines.all)
    func sameAsOneByOne(engine: DatabaseEngine) throws {
        let together = try Self.warmedHarness(engine), alone = try Self.warmedHarness(engine)
        let events = Self.openings()
        let response = try together.deliver(events.map { WorkflowHarness.envelope($0, key: $0.ticketID) })
        #expect(response.accepted == 4 && response.failures.isEmpty)
        for event in events { try alone.deliver(event, key: event.ticketID) }
        let (grouped, single) = (try Self.snapshot(together), try Self.snapshot(alone))
        #expect(grouped == single)
        // The shapes the group covers are there: files, fields, both groups, a breached SLA.
        #expect(grouped.contains { $0.contains("attachment_id='att-2'") })
        #expect(grouped.contains { $0.contains("name='pedido'") })
        #expect(grouped.filter { $0.hasPrefix("outbox \(WorkflowV1.TicketRouted.protoName)") }.count == 5)
        #expect(try together.history("G2").first?.newValue.hasPrefix("grupo ") == true)
    }

    @Test("a delivery of 21 openings stores and publishes what the same openings one per delivery do", arguments: TestEngines.all)
    func largeGroup(engine: DatabaseEngine) throws {
        let together = try Self.warmedHarness(engine), alone = try Self.warmedHarness(engine)
        let events = (1...21).map { index in
            WorkflowHarness.opened("L\(index)", organization: index % 2 == 0 ? "org-1" : "org-2", subject: "Pedido \(index)", openedAt: Self.now + Int64(index))
        }
        let response = try together.deliver(events.map { WorkflowHarness.envelope($0, key: $0.ticketID) })
        #expect(response.accepted == 21 && response.failures.isEmpty)
        for event in events { try alone.deliver(event, key: event.ticketID) }
        let grouped = try Self.snapshot(together)
        #expect(grouped == (try Self.snapshot(alone)))
        #expect(grouped.filter { $0.hasPrefix("outbox \(WorkflowV1.TicketRouted.protoName)") }.count == 22)
    }

    @Test("the same ticket twice in a delivery (two events) and the same event twice: written once, by the first", arguments: TestEngines.all)
    func duplicatesInAGroup(engine: DatabaseEngine) throws {
        let harness = try Self.warmedHarness(engine)
        let first = WorkflowHarness.opened("D1", subject: "Primeiro", openedAt: Self.now)
        let again = WorkflowHarness.opened("D1", subject: "Segundo", openedAt: Self.now + 5)
        let other = WorkflowHarness.envelope(WorkflowHarness.opened("D2", openedAt: Self.now), key: "D2")
        let response = try harness.deliver([WorkflowHarness.envelope(first, key: "D1"), other, WorkflowHarness.envelope(again, key: "D1"), other])
        #expect(response.accepted == 3)
        #expect(response.duplicates == 1)
        #expect(response.failures.isEmpty)
        #expect(try harness.ticket("D1").row?.subject == "Primeiro")
        func count(_ sql: String) throws -> Int64 { try harness.database.read { tx in try tx.queryOne(sql)?.int("n") ?? -1 } }
        for id in ["D1", "D2"] {
            #expect(try count("SELECT COUNT(*) AS n FROM ticket_history WHERE ticket_id = '\(id)'") == 1)
            #expect(try count("SELECT COUNT(*) AS n FROM wf_sla_events WHERE ticket_id = '\(id)'") == 1)
            #expect(try count("SELECT COUNT(*) AS n FROM wf_timers WHERE ticket_id = '\(id)' AND kind = 'sla'") == 1)
            #expect(try count("SELECT COUNT(*) AS n FROM wf_metric_tickets WHERE ticket_id = '\(id)'") == 1)
            #expect(try harness.published(WorkflowV1.TicketRouted.self, ticket: id).count == 1)
        }
        // G0 and the two new tickets.
        #expect(try count("SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_daily WHERE dim = 'all'") == 3)
    }

    @Test("a redelivered group changes nothing", arguments: TestEngines.all)
    func redelivered(engine: DatabaseEngine) throws {
        let harness = try Self.warmedHarness(engine)
        let envelopes = Self.openings().map { WorkflowHarness.envelope($0, key: $0.ticketID) }
        #expect(try harness.deliver(envelopes).accepted == 4)
        let before = try Self.snapshot(harness)
        let again = try harness.deliver(envelopes)
        #expect(again.accepted == 0 && again.duplicates == 4)
        #expect(try Self.snapshot(harness) == before)
    }

    @Test("an opening followed by the same ticket's next events in one delivery", arguments: TestEngines.all)
    func openingThenItsEvents(engine: DatabaseEngine) throws {
        let harness = try Self.warmedHarness(engine)
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "R1"
        reply.text = "Mais detalhes"
        reply.repliedAtMs = Self.now + 10
        reply.author = TicketFixtures.person("contact-org-1", name: "Maria", email: "maria@org-1.example.com")
        let response = try harness.deliver([
            WorkflowHarness.envelope(WorkflowHarness.opened("R1", openedAt: Self.now), key: "R1"),
            WorkflowHarness.envelope(WorkflowHarness.opened("R2", openedAt: Self.now), key: "R2"),
            WorkflowHarness.envelope(reply, key: "R1"),
            WorkflowHarness.envelope(WorkflowHarness.opened("R3", openedAt: Self.now), key: "R3"),
        ])
        #expect(response.accepted == 4 && response.failures.isEmpty)
        #expect(try harness.database.read { tx in
            try tx.queryOne("SELECT COUNT(*) AS n FROM discussion_entries WHERE ticket_id = 'R1' AND kind = 'customer_reply'")?.int("n")
        } == 1)
        #expect(try harness.ticket("R3").row?.subject == "Nota fiscal não transmite")
        // The reply's event comes after its ticket's TicketRouted.
        let kinds = try harness.published().filter { $0.key == "R1" }.map(\.type)
        #expect(kinds.first == WorkflowV1.TicketRouted.protoName)
    }

    @Test("a failing opening in a delivery: the others are applied, the failing one is reported", arguments: TestEngines.all)
    func oneBadOpening(engine: DatabaseEngine) throws {
        let harness = try Self.warmedHarness(engine)
        var malformed = WorkflowHarness.envelope(WorkflowHarness.opened("B2", openedAt: Self.now), key: "B2")
        malformed.payload = [0xff, 0xff, 0xff]
        // A stray search row: B4's opening cannot write its own (the group's statement fails
        // with it, then B4 alone).
        try harness.database.write { tx in
            try tx.execute("INSERT INTO ticket_search (ticket_id, subject, request) VALUES ('B4', 'x', 'y')")
        }
        func count(_ sql: String) throws -> Int64 { try harness.database.read { tx in try tx.queryOne(sql)?.int("n") ?? -1 } }
        let opened = { (id: String) in WorkflowHarness.envelope(WorkflowHarness.opened(id, openedAt: Self.now), key: id) }
        // A malformed event among openings, then a failing opening among others.
        let first = try harness.deliver([opened("B1"), malformed, opened("B3")])
        #expect(first.failures.map(\.index) == [1])
        #expect(first.accepted == 2)
        let second = try harness.deliver([opened("B5"), opened("B4"), opened("B6")])
        #expect(second.failures.map(\.index) == [1])
        #expect(second.accepted == 2)
        for id in ["B1", "B3", "B5", "B6"] {
            #expect(try count("SELECT COUNT(*) AS n FROM tickets WHERE id = '\(id)'") == 1)
            #expect(try count("SELECT COUNT(*) AS n FROM ticket_history WHERE ticket_id = '\(id)'") == 1)
            #expect(try count("SELECT COUNT(*) AS n FROM wf_sla_tickets WHERE ticket_id = '\(id)'") == 1)
            #expect(try count("SELECT COUNT(*) AS n FROM wf_metric_tickets WHERE ticket_id = '\(id)'") == 1)
            #expect(try harness.published(WorkflowV1.TicketRouted.self, ticket: id).count == 1)
        }
        for id in ["B2", "B4"] {
            #expect(try count("SELECT COUNT(*) AS n FROM tickets WHERE id = '\(id)'") == 0)
            #expect(try count("SELECT COUNT(*) AS n FROM wf_metric_tickets WHERE ticket_id = '\(id)'") == 0)
            #expect(try harness.published(WorkflowV1.TicketRouted.self, ticket: id).isEmpty)
        }
        // G0 and the four applied.
        #expect(try count("SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_daily WHERE dim = 'all'") == 5)
        // B4 is applied once its stray row is gone (the relay would send it again).
        try harness.database.write { tx in try tx.execute("DELETE FROM ticket_search WHERE ticket_id = 'B4'") }
        #expect(try harness.deliver([opened("B4")]).accepted == 1)
        #expect(try count("SELECT COUNT(*) AS n FROM ticket_history WHERE ticket_id = 'B4'") == 1)
    }

    @Test("a ticket that exists, opened again in a delivery of new ones (another event): left as it is, the others written", arguments: TestEngines.all)
    func existingTicketInAGroup(engine: DatabaseEngine) throws {
        let harness = try Self.warmedHarness(engine)
        func count(_ sql: String) throws -> Int64 { try harness.database.read { tx in try tx.queryOne(sql)?.int("n") ?? -1 } }
        let before = try harness.ticket("G0").row?.subject
        let again = WorkflowHarness.opened("G0", subject: "Outro assunto", openedAt: Self.now + 50)
        let response = try harness.deliver([
            WorkflowHarness.envelope(WorkflowHarness.opened("E1", openedAt: Self.now), key: "E1"),
            WorkflowHarness.envelope(again, key: "G0"),
            WorkflowHarness.envelope(WorkflowHarness.opened("E2", openedAt: Self.now), key: "E2"),
        ])
        #expect(response.accepted == 3 && response.failures.isEmpty)
        #expect(try harness.ticket("G0").row?.subject == before)
        #expect(before != "Outro assunto")
        for (id, rows) in [("G0", 1), ("E1", 1), ("E2", 1)] {
            #expect(try count("SELECT COUNT(*) AS n FROM ticket_history WHERE ticket_id = '\(id)'") == Int64(rows))
            #expect(try count("SELECT COUNT(*) AS n FROM wf_sla_events WHERE ticket_id = '\(id)'") == Int64(rows))
            #expect(try count("SELECT COUNT(*) AS n FROM wf_metric_tickets WHERE ticket_id = '\(id)'") == Int64(rows))
            #expect(try harness.published(WorkflowV1.TicketRouted.self, ticket: id).count == rows)
        }
        // The new tickets' search rows are in SQLite's full-text index (indexed at the commit).
        if engine == .sqlite {
            #expect(try count("SELECT COUNT(*) AS n FROM ticket_fts JOIN ticket_search s ON s.seq = ticket_fts.rowid WHERE s.ticket_id IN ('E1', 'E2')") == 2)
            #expect(try count("SELECT COUNT(*) AS n FROM ticket_search WHERE fts_pending = 1") == 0)
        }
        // G0 and the two new tickets.
        #expect(try count("SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_daily WHERE dim = 'all'") == 3)
    }

    @Test("a delivery's EmailSent lines (an unknown ticket, a ticket twice, openings between them) are what one per delivery writes",
          arguments: TestEngines.all)
    func emailLinesTogether(engine: DatabaseEngine) throws {
        let together = try Self.warmedHarness(engine), alone = try Self.warmedHarness(engine)
        func email(_ ticket: String, _ at: Int64, outcome: String = "sent") -> EventsV1.EventEnvelope {
            let email = DeliveryCountersTests.email(ticket)
            var event = email
            event.sentAtMs = at
            event.outcome = outcome
            event.copies = ticket == "E2" ? ["gestor@org-1.example.com"] : []
            event.serverAnswer = "250 2.0.0 Ok"
            return WorkflowHarness.envelope(event, key: ticket, source: "notification")
        }
        let opened = { (id: String) in WorkflowHarness.envelope(WorkflowHarness.opened(id, openedAt: Self.now), key: id) }
        let events = [opened("E1"), opened("E2"), opened("E3"),
                      email("E1", Self.now + 1), email("E2", Self.now + 2), email("nobody", Self.now + 3), email("E3", Self.now + 4),
                      opened("E4"), email("E4", Self.now + 5), email("E1", Self.now + 6, outcome: "failed"), email("E2", Self.now + 7),
                      email("E4", Self.now + 8)]
        let response = try together.deliver(events)
        #expect(response.accepted == events.count && response.failures.isEmpty)
        for event in events { #expect(try alone.deliver([event]).accepted == 1) }
        let history = "SELECT ticket_id, at, seq, kind, old_value, new_value, note, actor_id, actor_name FROM ticket_history ORDER BY ticket_id, seq"
        let read = { (harness: WorkflowHarness) in
            try harness.database.read { tx in try tx.query(history).map { zip($0.columns, $0.values).map { "\($0)=\($1)" }.joined(separator: " ") } }
        }
        let lines = try read(together)
        #expect(lines == (try read(alone)))
        // Two lines for E1, E2 and E4 each, one for E3, none for the unknown ticket.
        #expect(try together.database.read { tx in
            try tx.query("SELECT ticket_id FROM ticket_history WHERE kind = 'email' ORDER BY ticket_id").map { try $0.text("ticket_id") }
        } == ["E1", "E1", "E2", "E2", "E3", "E4", "E4"])
        #expect(try Self.snapshot(together) == (try Self.snapshot(alone)))
    }
}
