import Foundation
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// Real executables stalled in their migrations (another connection holds the schema lock): a
/// service's `healthcheck` and the gateway's `/readyz` say `NOT_SERVING` with the migration it
/// waits for; the gateway stalled on its own database answers `/healthz` (alive, starting),
/// `/readyz` (503, why) and 503 to the rest, its integration RPC port health `NOT_SERVING` and
/// `UNAVAILABLE` to the rest; both serve once the lock is free. A lock held past
/// `<SERVICE>_MIGRATION_LOCK_WAIT_SECONDS` fails the start, naming its holder.
@Suite("Executables answer while they migrate", .serialized)
struct MigratingStartTests {
    static let secret = "migrating-start-secret-0123456789"

    /// `service`'s database configuration as the executable will read it from `environment`.
    static func database(_ service: String, _ environment: [String: String]) -> DatabaseConfiguration {
        DatabaseConfiguration.fromEnvironment(service: service, dataDirectory: environment["OCORRENCIAS_DATA_DIR"]!, environment: environment)
    }

    static func environment(_ service: String, _ engine: DatabaseEngine, directory: TemporaryDirectory) throws -> [String: String] {
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secret, "OCORRENCIAS_LOG_LEVEL": "info"]
        if engine == .postgres { environment["\(service.uppercased())_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        return environment
    }

    /// Starts `service`'s executable with its schema lock held (none of its migrations applied),
    /// once it has said it waits for the lock.
    static func startStalled(_ service: String, _ environment: [String: String]) throws -> (ChildProcess, SchemaLockHolder) {
        let (process, lock) = try startLocked(service, environment)
        #expect(process.waitForCaptured(.standardError, containing: "banco bloqueado, aguardando / database locked, waiting", timeout: 20),
                "\(process.capturedText(.standardError))")
        return (process, lock)
    }

    /// Starts `service`'s executable with its schema lock held (none of its migrations applied).
    static func startLocked(_ service: String, _ environment: [String: String]) throws -> (ChildProcess, SchemaLockHolder) {
        let lock = try SchemaLockHolder(database(service, environment), migrations: [])
        let process = try ChildProcess(BuildProducts.executable(service).path, environment: ChildProcess.inheritedEnvironment(adding: environment),
                                       error: .capture)
        return (process, lock)
    }

    static func stop(_ process: ChildProcess, _ lock: SchemaLockHolder) {
        lock.release()
        process.terminate()
        _ = process.waitUntilExit(timeout: 15)
    }

    @Test("knowledge stalled: `knowledge healthcheck` exits 1 NOT_SERVING naming the migration (`--live` 0: alive), the gateway's /readyz shows it; released: exit 0, SERVING",
          arguments: TestEngines.all)
    func serviceBehindTheGateway(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory(prefix: "migrating-knowledge")
        var environment = try Self.environment("knowledge", engine, directory: directory)
        let port = try FreePort.next()
        environment["KNOWLEDGE_PORT"] = String(port)
        let (knowledge, lock) = try Self.startStalled("knowledge", environment)
        defer { Self.stop(knowledge, lock) }
        let healthcheck = { (flags: [String]) in try ChildProcess.run(BuildProducts.executable("knowledge").path, ["healthcheck"] + flags,
                                                                      environment: ChildProcess.inheritedEnvironment(adding: environment)) }
        let waiting = try healthcheck([])
        #expect(waiting.status == 1)
        #expect(waiting.outputText.contains("knowledge: NOT_SERVING banco bloqueado, aguardando para aplicar a migração 1 de "), "\(waiting.outputText)")
        #expect(waiting.outputText.contains(" / database locked, waiting to apply migration 1 of "), "\(waiting.outputText)")
        let alive = try healthcheck(["--live"])
        #expect(alive.status == 0 && alive.outputText.contains("knowledge: NOT_SERVING banco bloqueado"), "\(alive.outputText)")

        let gateway = try GatewayHarness(engine: .sqlite, extra: [
            "OCORRENCIAS_SECRET": Self.secret, "KNOWLEDGE_ADDRESSES": "127.0.0.1:\(port)",
            "INTAKE_ADDRESSES": "127.0.0.1:1", "WORKFLOW_ADDRESSES": "127.0.0.1:1", "NOTIFICATION_ADDRESSES": "127.0.0.1:1",
        ], createAdmin: false)
        let notReady = try gateway.request("GET", "/readyz")
        #expect(notReady.status == 503)
        let entry = (notReady.json["services"] as? [String: Any])?["knowledge"] as? [String: Any]
        #expect(entry?["status"] as? String == "NOT_SERVING", "\(notReady.text)")
        #expect((entry?["detail"] as? String)?.contains("aguardando para aplicar a migração 1 de ") == true, "\(notReady.text)")

        lock.release()
        #expect(knowledge.waitForCaptured(.standardError, containing: "\"msg\":\"ready\"", timeout: 60), "\(knowledge.capturedText(.standardError))")
        let serving = try healthcheck([])
        #expect(serving.status == 0 && serving.outputText.contains("knowledge: SERVING"), "\(serving.outputText)")
        let ready = try gateway.request("GET", "/readyz")
        #expect(((ready.json["services"] as? [String: Any])?["knowledge"] as? [String: Any])?["status"] as? String == "SERVING", "\(ready.text)")
        let log = knowledge.capturedText(.standardError)
        #expect(log.contains("\"msg\":\"database migrations started\"") && log.contains("\"msg\":\"database migrations finished\""), "\(log)")
    }

    @Test("knowledge with KNOWLEDGE_MIGRATION_LOCK_WAIT_SECONDS=1 and its lock held: the start gives up at the first wait past it, exit 1, the log naming the lock's holder",
          arguments: TestEngines.all)
    func lockWaitRunsOut(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory(prefix: "migrating-lock-wait")
        var environment = try Self.environment("knowledge", engine, directory: directory)
        environment["KNOWLEDGE_PORT"] = String(try FreePort.next())
        environment["KNOWLEDGE_MIGRATION_LOCK_WAIT_SECONDS"] = "1"
        environment["OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS"] = "0"
        let (knowledge, lock) = try Self.startLocked("knowledge", environment)
        defer { Self.stop(knowledge, lock) }
        // One busy timeout (5 s) per attempt: the first attempt, ending past 1 s, gives up.
        let ended = knowledge.waitUntilExit(timeout: 30)
        #expect(ended?.status == 1, "\(String(describing: ended)) \(knowledge.capturedText(.standardError))")
        let log = knowledge.capturedText(.standardError)
        let failed = log.split(separator: "\n").first { $0.contains("start-up failed") }.map(String.init) ?? ""
        #expect(failed.contains("database locked: migration 1 of ") && failed.contains(" gave up after "), "\(log)")
        switch engine {
        case .sqlite:
            #expect(failed.contains("held by pid \(getpid()) ("), "the test holds it: \(failed)")
        case .postgres:
            #expect(failed.contains("held by PostgreSQL pid ") && failed.contains("application_name 'ocorrencias-knowledge'"), "\(failed)")
        }
    }

    @Test("the gateway stalled on its own database: /healthz 200 starting, /readyz 503 naming the migration, other routes 503 UNAVAILABLE with Retry-After, its RPC health NOT_SERVING, its integration port NOT_SERVING and UNAVAILABLE with status.retry_after_ms; released: it serves on the same ports, checking keys",
          arguments: TestEngines.all)
    func gatewayOwnDatabase(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory(prefix: "migrating-gateway")
        var environment = try Self.environment("gateway", engine, directory: directory)
        let httpPort = try FreePort.next()
        environment["GATEWAY_PORT"] = String(try FreePort.next())
        environment["GATEWAY_HTTP_PORT"] = String(httpPort)
        environment["GATEWAY_RPC_PROXY_PORT"] = String(try FreePort.next())
        environment["GATEWAY_HTTP_THREADS"] = "2"
        for service in ["INTAKE", "WORKFLOW", "NOTIFICATION", "KNOWLEDGE"] { environment["\(service)_ADDRESSES"] = "127.0.0.1:1" }
        let (gateway, lock) = try Self.startStalled("gateway", environment)
        defer { Self.stop(gateway, lock) }
        let get = { (path: String) in try GatewayHarness.curl(["-s", "-i", "--max-time", "5", "http://127.0.0.1:\(httpPort)\(path)"], input: Data()) }

        let alive = try get("/healthz")
        #expect(alive.status == 200 && alive.json["status"] as? String == "starting", "\(alive.text)")
        #expect((alive.json["detail"] as? String)?.contains("banco bloqueado, aguardando para aplicar a migração 1 de ") == true, "\(alive.text)")
        let notReady = try get("/readyz")
        let entry = (notReady.json["services"] as? [String: Any])?["gateway"] as? [String: Any]
        #expect(notReady.status == 503 && entry?["status"] as? String == "NOT_SERVING", "\(notReady.text)")
        #expect((entry?["detail"] as? String)?.contains("database locked, waiting to apply migration 1 of ") == true, "\(notReady.text)")
        let other = try get("/v1/me")
        #expect(other.status == 503 && other.errorCode == "UNAVAILABLE" && other.header("Retry-After") == "1", "\(other.text)")
        #expect(((other.json["error"] as? [String: Any])?["message_en"] as? String)?.hasPrefix("The gateway is starting (database locked") == true,
                "\(other.text)")
        let rpc = try ChildProcess.run(BuildProducts.executable("gateway").path, ["healthcheck"],
                                       environment: ChildProcess.inheritedEnvironment(adding: environment))
        #expect(rpc.status == 1 && rpc.outputText.contains("gateway: NOT_SERVING banco bloqueado"), "\(rpc.outputText)")

        // The integration port answers too (no key can be checked yet): health NOT_SERVING with
        // the migration, other calls UNAVAILABLE at once, not started, with a retry hint.
        let integration = ProxyTests.client(port: Int(environment["GATEWAY_RPC_PROXY_PORT"]!)!, key: "ocor_not-checked-yet")
        defer { integration.close() }
        let health = try integration.call(RpcV1.Health.check, RpcV1.HealthCheckRequest())
        #expect(health.status == .notServing && health.detail.contains("banco bloqueado, aguardando para aplicar a migração 1 de "), "\(health)")
        #expect(health.detail.contains(" / database locked, waiting to apply migration 1 of "), "\(health)")
        let asked = ContinuousClock.now
        let refused = #expect(throws: RPCError.self) {
            try integration.call(IntakeV1.Intake.listChannels, IntakeV1.ListEntriesRequest())
        }
        // At once, not at the call's 10 s deadline; 5 s leaves a loaded machine room.
        #expect(ContinuousClock.now - asked < .seconds(5), "answered at once")
        #expect(refused?.code == .unavailable && refused?.handlerStarted == false, "\(String(describing: refused))")
        #expect(refused?.retryAfterMilliseconds == 1_000, "\(String(describing: refused))")
        #expect(refused?.message.contains("service starting, try again shortly: database locked, waiting to apply migration 1 of ") == true,
                "\(String(describing: refused))")

        lock.release()
        #expect(gateway.waitForCaptured(.standardError, containing: "\"msg\":\"ready\"", timeout: 60), "\(gateway.capturedText(.standardError))")
        let ok = try get("/healthz")
        #expect(ok.status == 200 && ok.json["status"] as? String == "ok", "\(ok.text)")
        #expect(try get("/v1/me").status == 401, "served by the gateway now: authentication required")
        // The same connection, let in unchecked while starting: now its key is checked on every call.
        let unchecked = #expect(throws: RPCError.self) { try integration.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()) }
        #expect(unchecked?.code == .unauthenticated, "\(String(describing: unchecked))")
        let fresh = ProxyTests.client(port: Int(environment["GATEWAY_RPC_PROXY_PORT"]!)!, key: "ocor_not-checked-yet")
        defer { fresh.close() }
        let refusedNow = #expect(throws: RPCError.self) { try fresh.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()) }
        #expect(refusedNow?.code == .unauthenticated, "a new connection with a bad key is refused now: \(String(describing: refusedNow))")
    }
}
