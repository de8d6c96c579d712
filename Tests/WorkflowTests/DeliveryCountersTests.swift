import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// A delivery's metric counters are added up and written once at the end of its transaction
/// (`MetricsRecorder.summingCounters`, through `EventConsumer.aroundHandlers`): the same totals
/// as one write per event, counted once per ticket whatever the redeliveries and failures.
@Suite("Workflow: metric counters summed per delivery")
struct DeliveryCountersTests {
    static func sum(_ harness: WorkflowHarness, _ sql: String) throws -> Int64 {
        try harness.database.read { tx in try tx.queryOne(sql)?.int("n") ?? -1 }
    }

    static func opened(_ harness: WorkflowHarness, dim: String, key: String) throws -> Int64 {
        try sum(harness, "SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_daily WHERE dim = '\(dim)' AND key = '\(key)'")
    }

    static func email(_ ticket: String) -> NotificationV1.EmailSent {
        var email = NotificationV1.EmailSent()
        email.ticketID = ticket
        email.eventKind = "ticket_opened"
        email.subject = "Recebemos sua ocorrência"
        email.recipients = ["maria@org-1.example.com"]
        email.outcome = "sent"
        email.sentAtMs = 1_764_410_400_000
        return email
    }

    @Test("openings in one delivery: each counter row written once with the sum; the same delivery again counts nothing",
          arguments: TestEngines.all)
    func summedOnce(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let products = ["ERP", "ERP", "CRM", "ERP", "CRM"]
        var envelopes = products.enumerated().map { index, product in
            WorkflowHarness.envelope(WorkflowHarness.opened("T\(index)", product: product), key: "T\(index)")
        }
        envelopes.append(WorkflowHarness.envelope(Self.email("T0"), key: "T0", source: "notification"))
        #expect(try harness.deliver(envelopes).accepted == 6)
        #expect(try Self.opened(harness, dim: "all", key: "") == 5)
        #expect(try Self.opened(harness, dim: "product", key: "ERP") == 3)
        #expect(try Self.opened(harness, dim: "product", key: "CRM") == 2)
        #expect(try Self.opened(harness, dim: "module", key: "Fiscal") == 5)
        #expect(try Self.sum(harness, "SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_monthly WHERE dim = 'category'") == 5)
        #expect(try Self.sum(harness, "SELECT COALESCE(SUM(open_count), 0) AS n FROM wf_metric_backlog") == 5)
        #expect(try Self.sum(harness, "SELECT COUNT(*) AS n FROM wf_metric_tickets") == 5)
        // One row per counter key (and shard): written once, not once per event.
        #expect(try Self.sum(harness, "SELECT COUNT(*) AS n FROM wf_metric_daily WHERE dim = 'all'") == 1)
        #expect(try Self.sum(harness, "SELECT COUNT(*) AS n FROM ticket_history WHERE kind = 'email'") == 1)

        // Redelivered (the relay did not hear the answer): duplicates, nothing counted again.
        let again = try harness.deliver(envelopes)
        #expect(again.duplicates == 6)
        // Another event for an opened ticket plus a new ticket: only the new one counts.
        let more = [WorkflowHarness.envelope(WorkflowHarness.opened("T1", product: "ERP"), key: "T1"),
                    WorkflowHarness.envelope(WorkflowHarness.opened("T5", product: "CRM"), key: "T5")]
        #expect(try harness.deliver(more).accepted == 2)
        #expect(try Self.opened(harness, dim: "all", key: "") == 6)
        #expect(try Self.opened(harness, dim: "product", key: "ERP") == 3)
        #expect(try Self.opened(harness, dim: "product", key: "CRM") == 3)
        #expect(try Self.sum(harness, "SELECT COALESCE(SUM(open_count), 0) AS n FROM wf_metric_backlog") == 6)
    }

    @Test("a malformed event in the delivery: nothing of the failed attempt is counted, each applied opening once",
          arguments: TestEngines.all)
    func failedDelivery(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        var broken = WorkflowHarness.envelope(WorkflowHarness.opened("T-broken"), key: "T-broken")
        broken.payload = [0xFF, 0xFF, 0xFF]
        let envelopes = [WorkflowHarness.envelope(WorkflowHarness.opened("T1"), key: "T1"), broken,
                         WorkflowHarness.envelope(WorkflowHarness.opened("T2"), key: "T2")]
        let response = try harness.deliver(envelopes)
        #expect(response.accepted == 2)
        #expect(response.failures.map(\.index) == [1])
        #expect(try Self.opened(harness, dim: "all", key: "") == 2)
        #expect(try Self.sum(harness, "SELECT COALESCE(SUM(open_count), 0) AS n FROM wf_metric_backlog") == 2)
        #expect(try Self.sum(harness, "SELECT COUNT(*) AS n FROM wf_metric_tickets") == 2)
    }

    @Test("openings on two days in one delivery: each day's rows get their own sums, the month's both", arguments: TestEngines.all)
    func twoDays(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        // 2026-11-28 and 2026-11-29, 15:00 in São Paulo.
        let first: Int64 = 1_764_352_800_000, second = first + 86_400_000
        let envelopes = [WorkflowHarness.envelope(WorkflowHarness.opened("T1", openedAt: first), key: "T1"),
                         WorkflowHarness.envelope(WorkflowHarness.opened("T2", openedAt: second), key: "T2"),
                         WorkflowHarness.envelope(WorkflowHarness.opened("T3", openedAt: second), key: "T3")]
        #expect(try harness.deliver(envelopes).accepted == 3)
        let days = try harness.database.read { tx in
            try tx.query("SELECT day, SUM(opened) AS n FROM wf_metric_daily WHERE dim = 'all' GROUP BY day ORDER BY day").map { try $0.int("n") }
        }
        #expect(days == [1, 2])
        #expect(try Self.sum(harness, "SELECT COALESCE(SUM(opened), 0) AS n FROM wf_metric_monthly WHERE dim = 'all'") == 3)
        #expect(try Self.sum(harness, "SELECT COUNT(*) AS n FROM wf_metric_backlog") == 2)
    }
}
