import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import Synchronization
import Testing
import TestSupport

/// A client connection whose server vanished without a word (killed: no GOAWAY, only the end of
/// the stream) and what a server logs at debug level as it takes a call.
@Suite("RPC: a server gone, and calls logged as taken", .serialized)
struct ServerGoneTests {
    /// A TCP relay in another process (python3) from a port of its own to `port`: killing it ends
    /// the client's stream the way a killed server does.
    static let relay = """
        import socket, sys, threading
        upstream = int(sys.argv[1])
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        print(listener.getsockname()[1], flush=True)
        def pipe(source, target):
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        while True:
            near, _ = listener.accept()
            far = socket.create_connection(("127.0.0.1", upstream))
            for ends in ((near, far), (far, near)):
                threading.Thread(target=pipe, args=ends, daemon=True).start()
        """

    @Test("a connection whose server was killed (the stream ends, no GOAWAY) shuts its socket down at once: none stays established or half-closed (CLOSE_WAIT) until the connection is replaced")
    func socketShutWhenServerGone() throws {
        let server = try LoopbackServer()
        defer { server.server.shutdown(gracePeriodMilliseconds: 100) }
        let relay = try ChildProcess("/usr/bin/python3", ["-c", Self.relay, String(server.server.port)], output: .capture, error: .capture)
        defer { relay.kill(); _ = relay.waitUntilExit(timeout: 5) }
        try #require(relay.waitForCaptured(.standardOutput, containing: "\n", timeout: 15), "\(relay.capturedText(.standardError))")
        let port = try #require(Int(relay.capturedText(.standardOutput).trimmingCharacters(in: .whitespacesAndNewlines)))
        let client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], secret: server.secret))
        defer { client.close() }
        _ = try client.call(TestMethods.sleepy, LoopbackTests.echoRequest([0]))
        let me = ProcessInfo.processInfo.processIdentifier
        #expect(!TCPSockets.connected(process: me, toPorts: [port], states: ["01"]).isEmpty, "the client's connection is open")

        relay.kill()
        _ = relay.waitUntilExit(timeout: 5)
        var open: [String] = []
        #expect(waitFor(10) {
            open = TCPSockets.connected(process: me, toPorts: [port], states: ["01", "08"])
            return open.isEmpty
        }, "still open: \(open)")
    }

    @Test("at debug level the server logs each call as it takes it (\"call started\": method, call id) before its \"call finished\"; at info level only the end")
    func callStartedLogged() throws {
        for level in [Logger.Level.debug, .info] {
            let lines = Mutex<[String]>([])
            var router = RPCRouter()
            router.register(TestMethods.sleepy) { request, _ in
                var response = RpcV1.EchoResponse()
                response.payload = request.payload
                return response
            }
            let secret = DeploymentSecret.random()
            let server = RPCServer(configuration: ServerConfiguration(serviceName: "test", secret: secret), router: router,
                                   logger: Logger(service: "test", level: level, sink: LogSink { line in lines.withLock { $0.append(line) } }))
            try server.start()
            defer { server.shutdown(gracePeriodMilliseconds: 100) }
            let client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: server.port)], secret: secret))
            defer { client.close() }
            _ = try client.call(TestMethods.sleepy, LoopbackTests.echoRequest([0]))
            func calls() -> [String] { lines.withLock { $0 }.filter { $0.contains(TestMethods.sleepy.path) } }
            #expect(waitFor(5) { calls().contains { $0.contains("\"msg\":\"call finished\"") } }, "\(calls())")
            let logged = calls()
            if level == .debug {
                #expect(logged.count == 2 && logged[0].contains("\"msg\":\"call started\"") && logged[0].contains("\"rpc.call_id\":")
                        && logged[1].contains("\"msg\":\"call finished\""), "\(logged)")
            } else {
                #expect(logged.count == 1 && !logged.contains { $0.contains("call started") }, "\(logged)")
            }
        }
    }
}
