import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import Synchronization
import Testing

/// A handler that throws something other than an `RPCError` (a full disk, a database gone)
/// answers `INTERNAL` without its text; the server's "call finished" line now says why
/// (`error`), where before it only said `INTERNAL` and the cause was lost.
@Suite("INTERNAL answers: the cause is logged, never sent")
struct InternalErrorLogTests {
    struct DiskFull: Error, CustomStringConvertible {
        var description: String { "StorageError.other: database or disk is full [code 13]" }
    }

    static let failing = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/Failing", clientStreaming: false, serverStreaming: false)
    static let failingLater = RPCMethod<RpcV1.EchoRequest, RpcV1.EchoResponse>(path: "/test.Test/FailingLater", clientStreaming: false, serverStreaming: false)

    @Test("a handler's own error (unary, and answered later) is INTERNAL 'erro interno' to the caller and its text is in the server's log line")
    func causeLogged() throws {
        let lines = Mutex<[String]>([])
        var router = RPCRouter()
        router.register(Self.failing) { _, _ in throw DiskFull() }
        router.registerCompleting(Self.failingLater) { _, _, respond in
            DispatchQueue.global().async { respond(.failure(DiskFull())) }
        }
        let secret = DeploymentSecret.random()
        let server = RPCServer(configuration: ServerConfiguration(serviceName: "test", secret: secret), router: router,
                               logger: Logger(service: "test", level: .info, sink: LogSink { line in lines.withLock { $0.append(line) } }))
        try server.start()
        defer { server.shutdown(gracePeriodMilliseconds: 100) }
        let client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: server.port)], secret: secret))
        defer { client.close() }

        for method in [Self.failing, Self.failingLater] {
            let error = #expect(throws: RPCError.self) { try client.call(method, RpcV1.EchoRequest()) }
            #expect(error?.code == .internal && error?.message == "erro interno / internal error", "\(String(describing: error))")
            #expect(error?.metadata.isEmpty == true, "nothing of the cause travels")
            let deadline = Date(timeIntervalSinceNow: 5)
            func logged() -> String? {
                lines.withLock { $0.first { $0.contains("\"call finished\"") && $0.contains(method.path) } }
            }
            while logged() == nil, Date() < deadline { usleep(10_000) }
            let line = try #require(logged())
            #expect(line.contains("\"rpc.status\":\"INTERNAL\"") && line.contains("\"error\":\"StorageError.other: database or disk is full [code 13]\""),
                    "\(line)")
        }
    }
}
