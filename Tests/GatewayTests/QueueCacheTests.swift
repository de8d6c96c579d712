import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// `GET /v1/tickets` (the agent's queue, a customer's list) is cached like the ticket view, per
/// exact principal and query, and dropped by **any** event or write.
@Suite("Queue and list pages cached per caller and filters, dropped by any event", .serialized)
struct QueueCacheTests {
    typealias V = ViewCacheTests

    /// ListQueue and ListCustomerTickets calls made by the gateway so far.
    static func listCalls(_ metrics: String) -> Double {
        V.counter(metrics, "gateway_rpc_client_calls_total", ["Workflow/ListQueue\""])
            + V.counter(metrics, "gateway_rpc_client_calls_total", ["Workflow/ListCustomerTickets\""])
    }

    /// The row of `ticketID` in a listing.
    static func row(_ page: GatewayHarness.Response, _ ticketID: String) -> [String: Any]? {
        (page.json["tickets"] as? [[String: Any]])?.first { $0["ticket_id"] as? String == ticketID }
    }

    @Test("a queue page is answered again without calling workflow; filters and callers are apart; a ticket opened through the gateway and a take made straight over workflow's RPC show by invalidation (TTL 120 s)",
          arguments: TestEngines.all)
    func queueCache(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine, gatewayEnvironment: ViewCacheTests.caching)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let first = try V.openTicket(gateway, seeded, subject: "Fila em cache")
        #expect(try waitFor { try V.metrics(gateway, seeded.admin).contains("ocorrencias_view_cache_usable 1") })
        let queue = "/v1/tickets?page_size=25"

        // Listed by workflow once, then answered from the cache (after the opening's events settle).
        #expect(try waitFor(10) {
            let before = Self.listCalls(try V.metrics(gateway, seeded.admin))
            let a = try gateway.request("GET", queue, bearer: seeded.ana)
            let b = try gateway.request("GET", queue, bearer: seeded.ana)
            let after = Self.listCalls(try V.metrics(gateway, seeded.admin))
            return Self.row(a, first) != nil && a.body == b.body && after <= before + 1
        })
        let page = try gateway.request("GET", queue, bearer: seeded.ana)
        let before = Self.listCalls(try V.metrics(gateway, seeded.admin))
        for _ in 0..<5 {
            let again = try gateway.request("GET", queue, bearer: seeded.ana)
            #expect(again.status == 200)
            #expect(again.body == page.body)
        }
        #expect(Self.listCalls(try V.metrics(gateway, seeded.admin)) == before)

        // Other filters are another entry (the ticket is ALTA, not BAIXA); the customer's list is hers.
        let low = try gateway.request("GET", queue + "&priority=BAIXA", bearer: seeded.ana)
        #expect(low.status == 200 && Self.row(low, first) == nil, "\(low.text)")
        let high = try gateway.request("GET", queue + "&priority=ALTA", bearer: seeded.ana)
        #expect(Self.row(high, first) != nil, "\(high.text)")
        let mine = try gateway.request("GET", queue, bearer: seeded.maria)
        #expect(mine.status == 200 && Self.row(mine, first) != nil, "\(mine.text)")
        #expect(Self.row(mine, first)?["sla_state"] == nil || (Self.row(mine, first)?["sla_state"] as? String ?? "").isEmpty)
        #expect(try gateway.request("GET", queue, bearer: seeded.maria).body == mine.body)

        // A ticket opened through the gateway reaches the cached pages (the TTL is 120 s: only
        // the write's and the events' invalidations can explain it).
        let second = try V.openTicket(gateway, seeded, subject: "Segunda na fila")
        #expect(try waitFor(10) { Self.row(try gateway.request("GET", queue, bearer: seeded.ana), second) != nil })
        #expect(try waitFor(10) { Self.row(try gateway.request("GET", queue, bearer: seeded.maria), second) != nil })

        // Ana takes the first ticket straight over workflow's RPC (no gateway): its event drops the page.
        _ = try gateway.request("GET", queue, bearer: seeded.ana)
        let (workflow, asAna) = gateway.workflowAsAna()
        defer { workflow.close() }
        var take = WorkflowV1.TakeTicketRequest()
        take.ticketID = first
        _ = try workflow.call(WorkflowV1.Workflow.takeTicket, take, options: asAna)
        var holder: Any?
        #expect(try waitFor(10) {
            holder = (Self.row(try gateway.request("GET", queue, bearer: seeded.ana), first)?["holder"] as? [String: Any])?["agent_id"]
            return holder as? String == "A-ana"
        }, "\(String(describing: holder))")
        let metrics = try V.metrics(gateway, seeded.admin)
        #expect(V.counter(metrics, "ocorrencias_view_cache_total", ["kind=\"hit\""]) >= 5)
    }

    @Test("GATEWAY_VIEW_CACHE_TTL_MS=0: every queue page asks workflow")
    func ttlZero() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite, gatewayEnvironment: ["GATEWAY_VIEW_CACHE_TTL_MS": "0"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let before = Self.listCalls(try V.metrics(gateway, seeded.admin))
        for _ in 0..<3 { #expect(try gateway.request("GET", "/v1/tickets?page_size=25", bearer: seeded.ana).status == 200) }
        #expect(Self.listCalls(try V.metrics(gateway, seeded.admin)) == before + 3)
    }
}
