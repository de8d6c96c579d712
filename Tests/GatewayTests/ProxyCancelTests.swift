import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import Storage
import Synchronization
import Testing
import TestSupport

/// A client's CANCEL of a unary call on the public RPC port reaches the service the gateway
/// forwarded it to.
@Suite("Gateway public RPC port: unary cancellation", .serialized)
struct ProxyCancelTests {
    /// Stands in for knowledge behind the gateway: a real RPC server on a loopback port, with the
    /// deployment secret, whose `Search` blocks until its call is cancelled and records when the
    /// handler saw the cancellation.
    final class SlowService: @unchecked Sendable {
        let server: RPCServer
        let probe = Probe()

        init(secret: String) throws {
            var router = RPCRouter()
            BuiltinServices.register(in: &router, service: "knowledge") { .serving }
            router.register(KnowledgeV1.Knowledge.search) { [probe] _, context in try probe.block(context) }
            var configuration = ServerConfiguration(serviceName: "knowledge", secret: DeploymentSecret(bytes: Array(secret.utf8)))
            configuration.eventLoops = 1
            server = RPCServer(configuration: configuration, router: router, logger: Logger(service: "slow-knowledge", level: .critical))
            try server.start()
        }

        var port: Int { server.port }

        deinit { server.shutdown(gracePeriodMilliseconds: 100) }
    }

    /// What the slow handler saw.
    final class Probe: @unchecked Sendable {
        let entered = Atomic<Int>(0)
        let lock = NSCondition()
        var cancelledAt: Date?  // guarded by lock
        var signedPrincipal = false  // guarded by lock

        /// Waits (up to 30 s) for the call to be cancelled, then reports it.
        func block(_ context: ServerContext) throws -> KnowledgeV1.SearchResponse {
            lock.withLock { signedPrincipal = context.metadata[MetadataKey.principal] != nil }
            entered.wrappingAdd(1, ordering: .releasing)
            context.onCancel { [self] in
                lock.withLock {
                    if cancelledAt == nil { cancelledAt = Date() }
                    lock.broadcast()
                }
            }
            let limit = Date().addingTimeInterval(30)
            lock.lock()
            while cancelledAt == nil && lock.wait(until: limit) {}
            lock.unlock()
            try context.checkCancellation()
            return KnowledgeV1.SearchResponse()
        }

        func cancelled(within seconds: Double) -> Date? {
            let limit = Date().addingTimeInterval(seconds)
            lock.lock()
            defer { lock.unlock() }
            while cancelledAt == nil && lock.wait(until: limit) {}
            return cancelledAt
        }
    }

    @Test("a client's CANCEL of a slow unary call on the public port cancels the call the gateway forwarded: the service's handler sees it at once, not at the deadline",
          arguments: TestEngines.all)
    func unaryCancelReachesService(engine: DatabaseEngine) throws {
        let secret = "proxy-cancel-secret-\(UUID().uuidString)"
        let slow = try SlowService(secret: secret)
        let gateway = try GatewayHarness(engine: engine, extra: [
            "OCORRENCIAS_SECRET": secret, "KNOWLEDGE_ADDRESSES": "127.0.0.1:\(slow.port)", "GATEWAY_VIEW_CACHE_TTL_MS": "0",
        ])
        let admin = try gateway.adminToken()
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "ERP", "role": "agent", "access_level": 1], bearer: admin)
        let key = try #require(created.json["key"] as? String, "\(created.text)")
        let client = ProxyTests.client(port: gateway.proxyPort, key: key)
        defer { client.close() }

        // A 30 s deadline: only the CANCEL can end the service's call early.
        let done = NSCondition()
        let outcome = Mutex<Result<[UInt8], RPCError>?>(nil)
        var request = KnowledgeV1.SearchRequest()
        request.query = "nota fiscal"
        let call = client.start(path: KnowledgeV1.Knowledge.search.path, payload: request.serializedBytes(),
                                options: CallOptions(timeoutMilliseconds: 30_000)) { result in
            outcome.withLock { $0 = result }
            done.withLock { done.broadcast() }
        }
        let entered = Date().addingTimeInterval(10)
        while slow.probe.entered.load(ordering: .acquiring) == 0 && Date() < entered { usleep(5_000) }
        try #require(slow.probe.entered.load(ordering: .acquiring) == 1, "the call never reached the service")
        #expect(slow.probe.lock.withLock { slow.probe.signedPrincipal })

        let cancelledAt = Date()
        call.cancel()
        let seen = try #require(slow.probe.cancelled(within: 20), "the service's handler never saw the cancellation")
        #expect(seen.timeIntervalSince(cancelledAt) < 15, "long before the call's 30 s deadline")
        let result = outcome.withLock { $0 }
        if case .failure(let error)? = result { #expect(error.code == .cancelled) } else { Issue.record("expected CANCELLED, got \(String(describing: result))") }

        // The gateway records the forwarded call as CANCELLED (the public port's server series too).
        let line = "gateway_rpc_client_calls_total{service=\"gateway\",method=\"/ocorrencias.knowledge.v1.Knowledge/Search\",code=\"CANCELLED\"} 1"
        var scraped = ""
        #expect(try waitFor {
            scraped = try gateway.request("GET", "/metrics", bearer: admin).text
            return scraped.contains(line)
        }, "\(scraped.split(separator: "\n").filter { $0.contains("Knowledge/Search") })")
    }
    @Test("with the real intake: a CreateOrganization blocked behind another connection's write lock on intake's SQLite file, cancelled by the client, ends as CANCELLED in intake's own log at once")
    func unaryCancelReachesRealIntake() throws {
        // At debug level the services log each call as they take it ("call started").
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: ["OCORRENCIAS_LOG_LEVEL": "debug"])
        let gateway = deployment.gateway
        let admin = try gateway.adminToken()
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "ERP", "role": "agent", "access_level": 1], bearer: admin)
        let key = try #require(created.json["key"] as? String, "\(created.text)")
        let client = ProxyTests.client(port: gateway.proxyPort, key: key)
        defer { client.close() }
        let intake = try #require(deployment.services.first { $0.name == "intake" })

        // Another connection (this test's) holds intake's SQLite write lock until the test has
        // seen what it waits for (at most 60 s); a fixed 4 s hold ran out on a loaded machine
        // before intake logged the cancel.
        let holder = try openDatabase(DatabaseConfiguration(sqlitePath: deployment.directory.path + "/intake.sqlite"), migrations: [])
        defer { holder.close() }
        let locked = NSCondition()
        let state = Mutex(0)  // 1: lock held, 2: released
        let release = DispatchSemaphore(value: 0), released = DispatchSemaphore(value: 0)
        let thread = Thread {
            try? holder.write { _ in
                state.withLock { $0 = 1 }
                locked.withLock { locked.broadcast() }
                _ = release.wait(timeout: .now() + 60)
            }
            state.withLock { $0 = 2 }
            released.signal()
        }
        thread.start()
        defer {
            release.signal()
            released.wait()
        }
        locked.withLock { while state.withLock({ $0 }) == 0 { locked.wait() } }

        var organization = IntakeV1.Organization()
        organization.name = "Distribuidora Sul"
        organization.taxID = "11222333000181"
        organization.kind = .organizationCustomer
        organization.active = true
        let call = client.start(path: IntakeV1.Intake.createOrganization.path, payload: organization.serializedBytes(),
                                options: CallOptions(timeoutMilliseconds: 30_000)) { _ in }
        // The call has to reach intake before the CANCEL does: a CANCEL the gateway gets before it
        // has forwarded the call never reaches intake, which then logs nothing. Intake logs the
        // call as it takes it ("call started", debug level), after which a CANCEL finds it; the
        // CANCEL must then come within the window intake's write waits for the lock (its busy
        // timeout, 5 s, on each of its 5 attempts: about 25 s).
        #expect(waitFor(20) {
            intake.log.split(separator: "\n").contains { $0.contains("\"msg\":\"call started\"") && $0.contains("Intake/CreateOrganization") }
        }, "intake never took the call")
        call.cancel()
        // Intake logs the call as CANCELLED when the CANCEL arrives, while the lock is still held.
        let cancelled = intake.waitForOutput(containing: "\"rpc.status\":\"CANCELLED\"", timeout: 20)
        #expect(cancelled, "\(intake.log.split(separator: "\n").filter { $0.contains("CreateOrganization") })")
        #expect(state.withLock { $0 } == 1, "the lock was released before intake saw the cancel")
        #expect(intake.log.split(separator: "\n").contains { $0.contains("Intake/CreateOrganization") && $0.contains("CANCELLED") })
    }
}
