import Foundation
@testable import GatewayCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("Ticket view cache: per caller, invalidated by events in every gateway instance", .serialized)
struct ViewCacheTests {
    /// The gateway settings of the cache tests: entries live 120 s, so only an event or a write
    /// explains a view that changes. The feed's health bounds (events waiting over 1 s, a stream
    /// silent 1.5 s) are widened: on a loaded test machine they switched caching off for whole
    /// seconds, and these tests are about invalidation, not about that safety switch.
    static let caching = ["GATEWAY_VIEW_CACHE_TTL_MS": "120000", "GATEWAY_VIEW_CACHE_MAX_LAG_MS": "15000",
                          "GATEWAY_VIEW_CACHE_SILENCE_MS": "10000"]

    /// A second gateway process in front of the same services and credentials (same data
    /// directory or PostgreSQL database), on ports of its own.
    final class SecondGateway: @unchecked Sendable {
        let process: ServiceProcess
        let httpPort: Int

        init(like first: GatewayHarness) throws {
            httpPort = try FreePort.next()
            var environment = first.environment
            environment["GATEWAY_HTTP_PORT"] = String(httpPort)
            environment["GATEWAY_RPC_PROXY_PORT"] = String(try FreePort.next())
            process = try ServiceProcess(name: "gateway", environment: environment)
        }

        deinit { process.stop() }

        func request(_ method: String, _ path: String, bearer: String) throws -> GatewayHarness.Response {
            try GatewayHarness.curl(["-s", "-i", "-X", method, "--max-time", "20", "-H", "Authorization: Bearer \(bearer)",
                                     "http://127.0.0.1:\(httpPort)\(path)"], input: Data())
        }
    }

    /// The sum of a counter's series whose labels contain every fragment.
    static func counter(_ metrics: String, _ name: String, _ fragments: [String]) -> Double {
        metrics.split(separator: "\n").filter { line in
            line.hasPrefix(name + "{") && fragments.allSatisfy { line.contains($0) }
        }.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    /// Calls to intake's and workflow's `GetTicket` made by a gateway so far.
    static func viewCalls(_ metrics: String) -> Double {
        counter(metrics, "gateway_rpc_client_calls_total", ["Intake/GetTicket\""])
            + counter(metrics, "gateway_rpc_client_calls_total", ["Workflow/GetTicket\""])
    }

    static func metrics(_ gateway: GatewayHarness, _ admin: String) throws -> String {
        try gateway.request("GET", "/metrics", bearer: admin).text
    }

    /// Discussion texts of a view's workflow part.
    static func discussion(_ view: GatewayHarness.Response) -> [String] {
        let workflow = view.json["workflow"] as? [String: Any]
        return (workflow?["discussion"] as? [[String: Any]])?.compactMap { $0["text"] as? String } ?? []
    }

    /// Opens a ticket as Maria and waits until both parts of its view exist.
    static func openTicket(_ gateway: GatewayHarness, _ seeded: TicketFlowTests.Seeded, subject: String) throws -> String {
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": subject, "request": "Ao transmitir a NF-e a rotina FIS001 devolve erro 539.",
            "category": "PROBLEMA", "priority": "ALTA", "product": "ERP", "module": "Fiscal", "organization_id": seeded.organizationID,
            "details": ["system_version": "12.1.2310", "database": "SQL Server", "environment": "cloud", "company_branch": "01/0001",
                        "routine": "FIS001", "affected_users": "all users"]], bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String)
        #expect(try waitFor {
            let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria)
            return view.status == 200 && view.json["workflow"] is [String: Any]
        })
        return ticketID
    }

    @Test("a view is answered again without calling the services; writes through the gateway show at once, direct RPC writes after their event, in both instances; callers never share entries",
          arguments: TestEngines.all)
    func cacheIsCorrect(engine: DatabaseEngine) throws {
        // A long TTL: only invalidation can explain a fresh answer here.
        let deployment = try ProxyTests.Deployment(engine: engine, gatewayEnvironment: ViewCacheTests.caching)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let stranger = try gateway.createOutsider(admin: seeded.admin, email: "x@outra.com").token
        let ticketID = try Self.openTicket(gateway, seeded, subject: "Nota fiscal não transmite")
        #expect(try waitFor { try Self.metrics(gateway, seeded.admin).contains("ocorrencias_view_cache_usable 1") })

        // Served from the services, then from the cache: no more GetTicket calls. (Views are not
        // stored for a moment after an event about the ticket: the opening's events settle first.)
        #expect(try waitFor(10) {
            let hits = Self.counter(try Self.metrics(gateway, seeded.admin), "ocorrencias_view_cache_total", ["kind=\"hit\""])
            _ = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
            return Self.counter(try Self.metrics(gateway, seeded.admin), "ocorrencias_view_cache_total", ["kind=\"hit\""]) > hits
        })
        let first = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
        #expect(first.status == 200)
        let before = Self.viewCalls(try Self.metrics(gateway, seeded.admin))
        for _ in 0..<5 {
            let again = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
            #expect(again.status == 200)
            #expect(again.body == first.body)
        }
        let metricsAfter = try Self.metrics(gateway, seeded.admin)
        #expect(Self.viewCalls(metricsAfter) == before, "\(metricsAfter)")
        #expect(Self.counter(metricsAfter, "ocorrencias_view_cache_total", ["kind=\"hit\""]) >= 6)

        // Two callers never share an entry: the ticket is cached for Ana and for Maria, and a
        // customer of another company still gets 404/403; an internal note shows to the agent only.
        #expect(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria).status == 200)
        for _ in 0..<2 {
            let foreign = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: stranger)
            #expect(foreign.status == 404 || foreign.status == 403, "\(foreign.text)")
        }

        // A write through this gateway is visible at once (no waiting), to every caller.
        let note = try gateway.request("POST", "/v1/tickets/\(ticketID)/discussion", json: ["is_public": false, "text": "Nota interna 1"],
                                       bearer: seeded.ana)
        #expect(note.status == 201, "\(note.text)")
        #expect(Self.discussion(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)).contains("Nota interna 1"))
        let mariaView = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria)
        #expect(mariaView.status == 200)
        #expect(!mariaView.text.contains("Nota interna 1"))
        let publicReply = try gateway.request("POST", "/v1/tickets/\(ticketID)/discussion", json: ["is_public": true, "text": "Resposta pública 1"],
                                              bearer: seeded.ana)
        #expect(publicReply.status == 201, "\(publicReply.text)")
        #expect(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria).text.contains("Resposta pública 1"))
        // Cached again for both, still apart.
        #expect(try waitFor {
            let customer = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria)
            let agent = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
            return !customer.text.contains("Nota interna 1") && Self.discussion(agent).contains("Nota interna 1")
        })
        let customerAgain = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria)
        #expect(!customerAgain.text.contains("Nota interna 1"))

        // A second gateway instance caches the same view for Ana.
        let second = try SecondGateway(like: gateway)
        #expect(try waitFor {
            Self.discussion(try second.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)).contains("Nota interna 1")
        })
        #expect(try waitFor { try second.request("GET", "/metrics", bearer: seeded.admin).text.contains("ocorrencias_view_cache_usable 1") })
        _ = try second.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
        _ = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)

        // A change made straight through workflow's RPC (not through any gateway) reaches both
        // instances' caches by its event.
        let (workflow, asAna) = gateway.workflowAsAna()
        defer { workflow.close() }
        var add = WorkflowV1.AddDiscussionRequest()
        add.ticketID = ticketID
        add.text = "Nota interna direta"
        _ = try workflow.call(WorkflowV1.Workflow.addDiscussion, add, options: asAna)
        #expect(try waitFor(10) {
            Self.discussion(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)).contains("Nota interna direta")
        })
        #expect(try waitFor(10) {
            Self.discussion(try second.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)).contains("Nota interna direta")
        })

        // A write through the second instance shows there at once, and in the first by its event.
        let viaSecond = try GatewayHarness.curl(["-s", "-i", "-X", "POST", "--max-time", "20", "-H", "Authorization: Bearer \(seeded.ana)",
                                                 "-H", "Content-Type: application/json", "--data-binary", "@-",
                                                 "http://127.0.0.1:\(second.httpPort)/v1/tickets/\(ticketID)/discussion"],
                                                input: Data(#"{"is_public":false,"text":"Nota pela segunda"}"#.utf8))
        #expect(viaSecond.status == 201, "\(viaSecond.text)")
        #expect(Self.discussion(try second.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)).contains("Nota pela segunda"))
        #expect(try waitFor(10) {
            Self.discussion(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)).contains("Nota pela segunda")
        })
    }

    @Test("when a feed stream closes (workflow stops) the cache is emptied and views go to the services again")
    func feedLossTurnsCachingOff() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite, gatewayEnvironment: ViewCacheTests.caching)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try Self.openTicket(gateway, seeded, subject: "Feed perdido")
        #expect(try waitFor(10) {
            _ = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
            return Self.counter(try Self.metrics(gateway, seeded.admin), "ocorrencias_view_cache_total", ["kind=\"hit\""]) > 0
        })
        #expect(try Self.metrics(gateway, seeded.admin).contains("ocorrencias_view_cache_entries 1"))
        // Workflow stops cleanly (its open Watch stream does not hold the drain) ...
        #expect(deployment.services[1].stop() == 0)
        // ... and the gateway stops answering from the cache: emptied, not usable, views reach intake.
        #expect(try waitFor(10) {
            let metrics = try Self.metrics(gateway, seeded.admin)
            return metrics.contains("ocorrencias_view_cache_usable 0") && metrics.contains("ocorrencias_view_cache_entries 0")
        })
        let before = Self.counter(try Self.metrics(gateway, seeded.admin), "gateway_rpc_client_calls_total", ["Intake/GetTicket\""])
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana, conform: false)
        #expect(view.status != 200 || view.json["workflow"] is NSNull, "\(view.text)")
        #expect(Self.counter(try Self.metrics(gateway, seeded.admin), "gateway_rpc_client_calls_total", ["Intake/GetTicket\""]) == before + 1)
    }

    @Test("GATEWAY_VIEW_CACHE_TTL_MS=0 disables the cache: every view asks the services")
    func ttlZeroDisables() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite, gatewayEnvironment: ["GATEWAY_VIEW_CACHE_TTL_MS": "0"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try Self.openTicket(gateway, seeded, subject: "Sem cache")
        let before = Self.viewCalls(try Self.metrics(gateway, seeded.admin))
        for _ in 0..<3 { #expect(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana).status == 200) }
        let metrics = try Self.metrics(gateway, seeded.admin)
        #expect(Self.viewCalls(metrics) == before + 6, "\(metrics)")
        #expect(metrics.contains("ocorrencias_view_cache_usable 0"))
        #expect(Self.counter(metrics, "ocorrencias_view_cache_total", ["kind=\"hit\""]) == 0)
    }
}

@Suite("ViewCache in memory: size bound, expiry, races with invalidation")
struct ViewCacheUnitTests {
    static func key(_ reference: String, _ who: UInt8) -> ViewCache.Key { ViewCache.Key(reference: reference, principal: [who]) }

    @Test("entries are per principal; a fetch that raced an invalidation is not stored; invalidateAll drops fetches in flight")
    func races() {
        let cache = ViewCache(ttlMilliseconds: 60_000, maxBytes: 1 << 20, settleMilliseconds: 0)
        let fetch = cache.beginFetch(now: 1_000)
        #expect(cache.store(Self.key("t1", 1), ticketID: "t1", body: [1], fetch: fetch, now: 2_000))
        #expect(cache.lookup(Self.key("t1", 1), now: 3_000) == [1])
        #expect(cache.lookup(Self.key("t1", 2), now: 3_000) == nil)
        let racing = cache.beginFetch(now: 4_000)
        cache.invalidate("t1", now: 5_000)
        #expect(cache.lookup(Self.key("t1", 1), now: 6_000) == nil)
        #expect(!cache.store(Self.key("t1", 1), ticketID: "t1", body: [2], fetch: racing, now: 7_000))
        let flushed = cache.beginFetch(now: 8_000)
        cache.invalidateAll(now: 9_000)
        #expect(!cache.store(Self.key("t2", 1), ticketID: "t2", body: [3], fetch: flushed, now: 10_000))
        // A code used in the path is dropped with its ticket id.
        #expect(cache.store(Self.key("0001-000001", 1), ticketID: "t3", body: [4], fetch: cache.beginFetch(now: 11_000), now: 12_000))
        cache.invalidate("t3", now: 13_000)
        #expect(cache.lookup(Self.key("0001-000001", 1), now: 14_000) == nil)
    }

    @Test("entries expire after the TTL; the least recently used go first past the byte bound")
    func boundsAndExpiry() {
        let cache = ViewCache(ttlMilliseconds: 1, maxBytes: 3 * (100 + 2 + 1 + 192), settleMilliseconds: 0)
        let body = [UInt8](repeating: 7, count: 100)
        for (index, name) in ["a", "b", "c"].enumerated() {
            #expect(cache.store(Self.key(name, 1), ticketID: name, body: body, fetch: cache.beginFetch(now: UInt64(index)), now: UInt64(index)))
        }
        #expect(cache.lookup(Self.key("a", 1), now: 10) != nil)  // a is now the most recent
        #expect(cache.store(Self.key("d", 1), ticketID: "d", body: body, fetch: cache.beginFetch(now: 11), now: 11))
        #expect(cache.lookup(Self.key("b", 1), now: 12) == nil)  // b was the least recently used
        #expect(cache.lookup(Self.key("a", 1), now: 12) != nil)
        #expect(cache.currentStats.bytes <= cache.maxBytes)
        #expect(cache.currentStats.evictions == 1)
        // 1 ms later everything stored at 0–11 ns has expired.
        #expect(cache.lookup(Self.key("d", 1), now: 2_000_000) == nil)
    }

    @Test("a ticket's views are not stored during the settle window after its event")
    func settle() {
        let cache = ViewCache(ttlMilliseconds: 60_000, maxBytes: 1 << 20, settleMilliseconds: 1_000)
        cache.invalidate("t1", now: 5_000_000_000)
        #expect(!cache.store(Self.key("t1", 1), ticketID: "t1", body: [1], fetch: cache.beginFetch(now: 5_500_000_000), now: 5_600_000_000))
        #expect(cache.store(Self.key("t1", 1), ticketID: "t1", body: [1], fetch: cache.beginFetch(now: 6_100_000_000), now: 6_200_000_000))
    }
}
