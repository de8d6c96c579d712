import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

/// A service whose database cannot take work (unreachable, busy, full disk) answers
/// `UNAVAILABLE` (503 at the gateway, retried by callers), not `INTERNAL` (500 "erro interno").
@Suite("Storage errors as a service answers them")
struct StorageErrorAnswersTests {
    static let failing = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Failing", clientStreaming: false, serverStreaming: false)
    static let secret = "storage-error-answers-0123456789"

    /// A service serving `failing` with `handler`, and a client making up to `attempts` attempts.
    static func start(attempts: Int, logger: Logger,
                      _ handler: @escaping @Sendable (RpcV1.EchoRequest) throws -> RpcV1.EchoResponse) throws -> (ServiceHost, RPCClient) {
        // Kept until the test process exits: the host outlives this function.
        let directory = try TemporaryDirectory.untilExit(prefix: "storage-error-answers")
        let configuration = try ServiceConfiguration(serviceName: "knowledge", arguments: ["test"], environment: [
            "OCORRENCIAS_DATA_DIR": directory, "OCORRENCIAS_SECRET": secret, "KNOWLEDGE_PORT": String(try FreePort.next())])
        let host = try ServiceMain.start(configuration: configuration, migrations: [], logger: logger) { _, router in
            router.register(Self.failing) { request, _ in try handler(request) }
        }
        var client = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: host.port)], secret: DeploymentSecret(bytes: Array(secret.utf8)))
        client.maxAttempts = attempts
        return (host, RPCClient(configuration: client))
    }

    @Test("unreachable, busy or full: UNAVAILABLE naming the database, the cause in the log; another storage error stays INTERNAL")
    func answers() throws {
        let errors: [StorageError] = [
            StorageError(.connection, "cannot connect to PostgreSQL at postgres://…"),
            StorageError(.timeout, "no free connection within 5 s"),
            StorageError(.other, "database or disk is full", sql: "COMMIT", code: "13"),
            StorageError(.other, "could not extend file: No space left on device", code: "53100"),
            StorageError(.uniqueViolation, "UNIQUE constraint failed", code: "2067"),
        ]
        let lines = Mutex<[String]>([])
        let (host, rpc) = try Self.start(attempts: 1, logger: Logger(service: "knowledge", level: .info, sink: LogSink { line in lines.withLock { $0.append(line) } })) {
            request in throw errors[Int(request.payload.first ?? 0)]
        }
        defer { host.stop(); rpc.close() }
        var codes: [RPCStatusCode] = []
        for index in errors.indices {
            var request = RpcV1.EchoRequest()
            request.payload = [UInt8(index)]
            do { _ = try rpc.call(Self.failing, request) } catch let error as RPCError {
                codes.append(error.code)
                #expect(!error.message.contains("PostgreSQL") && !error.message.contains("disk"), "the cause is not sent: \(error.message)")
                if error.code == .unavailable { #expect(error.message == "banco de dados indisponível no momento / the database is unavailable right now") }
            }
        }
        #expect(codes == [.unavailable, .unavailable, .unavailable, .unavailable, .internal])
        let deadline = Date(timeIntervalSinceNow: 5)
        while lines.withLock({ $0.filter { $0.contains("/test.Test/Failing") }.count }) < errors.count, Date() < deadline { usleep(10_000) }
        let logged = lines.withLock { $0.filter { $0.contains("/test.Test/Failing") } }
        #expect(logged.contains { $0.contains("\"rpc.status\":\"UNAVAILABLE\"") && $0.contains("database or disk is full") }, "\(logged)")
    }

    @Test("the client repeats such an answer only with an idempotency key: the handler had started and may have done part of its work")
    func notRetriedWithoutKey() throws {
        let runs = Atomic<Int>(0)
        let (host, rpc) = try Self.start(attempts: 3, logger: Logger(service: "knowledge", level: .critical)) { _ in
            runs.wrappingAdd(1, ordering: .relaxed)
            throw StorageError(.busy, "database is locked")
        }
        defer { host.stop(); rpc.close() }
        let plain = #expect(throws: RPCError.self) { try rpc.call(Self.failing, RpcV1.EchoRequest()) }
        #expect(plain?.code == .unavailable && plain?.handlerStarted == true)
        #expect(plain?.violations.isEmpty == true && plain?.metadata == [ErrorMetadata.handlerStarted: "true"], "a marker, not a field error; the cause stays")
        #expect(runs.load(ordering: .relaxed) == 1, "not repeated without a key")
        _ = #expect(throws: RPCError.self) { try rpc.call(Self.failing, RpcV1.EchoRequest(), options: CallOptions(idempotencyKey: "k-1")) }
        #expect(runs.load(ordering: .relaxed) == 4, "repeated with one")
    }

    @Test("which storage errors mean 'cannot take work right now'")
    func classification() {
        #expect(StorageError(.busy, "locked").isUnavailable && StorageError(.closed, "closed").isUnavailable)
        #expect(StorageError(.other, "full", code: "13").isUnavailable, "SQLITE_FULL")
        #expect(StorageError(.other, "cannot connect now", code: "57P03").isUnavailable && StorageError(.other, "too many", code: "53300").isUnavailable)
        #expect(!StorageError(.other, "readonly", code: "8").isUnavailable && !StorageError(.syntax, "near x").isUnavailable)
        #expect(!StorageError(.commitOutcomeUnknown, "?").isUnavailable, "an unknown outcome is not safe to call unavailable")
    }
}
