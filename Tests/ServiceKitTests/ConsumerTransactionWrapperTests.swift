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

/// `EventConsumer.aroundHandlers`: work done once per transaction after its handlers (e.g.
/// counters summed over a delivery), committed with the events or not at all.
@Suite("Event consumer: a wrapper around each transaction's handlers")
struct ConsumerTransactionWrapperTests {
    /// The handlers run in the current transaction, counted by the wrapper around them.
    final class Count: @unchecked Sendable {
        var events = 0
    }

    @TaskLocal static var current: Count?

    static let migrations = [Migration(version: 1, name: "tables", sql: """
        CREATE TABLE applied (event_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
        CREATE TABLE wrapped (events INTEGER NOT NULL);
        """)]

    /// A consumer whose handler refuses events with a sequence number in `refused` (and takes
    /// 300 ms for those in `slow`), and whose wrapper writes one `wrapped` row per transaction
    /// with the number of handlers it saw.
    static func start(_ engine: DatabaseEngine, batched: Bool, refused: Set<Int64>, slow: Set<Int64> = [],
                      gather: TimeInterval = 0, directory: String) throws -> ServiceHost {
        var environment = ["OCORRENCIAS_DATA_DIR": directory, "OCORRENCIAS_SECRET": "consumer-wrapper-secret-0123456789",
                           "WORKFLOW_PORT": String(try FreePort.next())]
        if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        let configuration = try ServiceConfiguration(serviceName: "workflow", arguments: ["test"], environment: environment)
        return try ServiceMain.start(configuration: configuration, migrations: migrations,
                                     logger: Logger(service: "workflow", level: .critical)) { runtime, router in
            var consumer = EventConsumer(consumer: "workflow", batched: batched)
            consumer.gatherWindow = gather
            consumer.on(RpcV1.EchoRequest.self) { event, envelope, tx in
                let seq = Int64(event.payload.reduce(0) { $0 << 8 | Int($1) })
                if slow.contains(seq) { usleep(300_000) }
                Self.current?.events += 1
                try tx.execute("INSERT INTO applied (event_id, seq) VALUES (?, ?)", [.text(envelope.id), .integer(seq)])
                if refused.contains(seq) { throw RPCError(.aborted, "ainda não / not yet") }
            }
            consumer.aroundHandlers { tx, body in
                let count = Count()
                try Self.$current.withValue(count) { try body() }
                try tx.execute("INSERT INTO wrapped (events) VALUES (?)", [.integer(Int64(count.events))])
            }
            consumer.register(in: &router, database: runtime.database, logger: runtime.logger)
        }
    }

    static func envelope(_ seq: Int, key: String) -> EventsV1.EventEnvelope {
        var event = RpcV1.EchoRequest()
        event.payload = withUnsafeBytes(of: UInt32(seq).bigEndian, Array.init)
        var envelope = EventsV1.EventEnvelope()
        envelope.id = "event-\(seq)"
        envelope.type = RpcV1.EchoRequest.protoName
        envelope.key = key
        envelope.source = "intake"
        envelope.payload = event.serializedBytes()
        return envelope
    }

    static func deliver(_ host: ServiceHost, _ envelopes: [EventsV1.EventEnvelope], partial: Bool) throws -> EventsV1.DeliverEventsResponse {
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: host.port)],
                                                secret: DeploymentSecret(bytes: Array("consumer-wrapper-secret-0123456789".utf8)))
        configuration.callerName = "intake"
        let client = RPCClient(configuration: configuration)
        defer { client.close() }
        var request = EventsV1.DeliverEventsRequest()
        request.events = envelopes
        request.partial = partial
        return try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 10_000))
    }

    static func wrapped(_ host: ServiceHost) throws -> [Int64] {
        try host.runtime.database.read { tx in try tx.query("SELECT events FROM wrapped ORDER BY events", []).map { try $0.int("events") } }
    }

    @Test("batched: one wrapper per delivery around all its new events; a redelivery runs no handler", arguments: TestEngines.all)
    func batchedDelivery(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        let host = try Self.start(engine, batched: true, refused: [], directory: directory.path)
        defer { host.stop() }
        let events = (1...5).map { Self.envelope($0, key: "ticket-\($0)") }
        #expect(try Self.deliver(host, events, partial: true).accepted == 5)
        #expect(try Self.wrapped(host) == [5])
        // The same events again: all duplicates, the wrapper sees no handler.
        let again = try Self.deliver(host, events, partial: true)
        #expect(again.duplicates == 5)
        #expect(try Self.wrapped(host).filter { $0 > 0 } == [5])
    }

    @Test("a failing event: the delivery's transaction and its wrapper's writes are dropped, then each event has its own",
          arguments: TestEngines.all)
    func failureFallsBackOneByOne(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        let host = try Self.start(engine, batched: true, refused: [2], directory: directory.path)
        defer { host.stop() }
        let response = try Self.deliver(host, (1...3).map { Self.envelope($0, key: "ticket-\($0)") }, partial: true)
        #expect(response.accepted == 2)
        #expect(response.failures.map(\.index) == [1])
        // Events 1 and 3, one transaction each; nothing of the failed batch or of event 2.
        #expect(try Self.wrapped(host) == [1, 1])
        let applied = try host.runtime.database.read { tx in try tx.query("SELECT seq FROM applied ORDER BY seq", []).map { try $0.int("seq") } }
        #expect(applied == [1, 3])
    }

    @Test("not batched: one wrapper per event", arguments: [DatabaseEngine.sqlite])
    func oneByOne(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        let host = try Self.start(engine, batched: false, refused: [], directory: directory.path)
        defer { host.stop() }
        #expect(try Self.deliver(host, (1...3).map { Self.envelope($0, key: "ticket-\($0)") }, partial: true).accepted == 3)
        #expect(try Self.wrapped(host) == [1, 1, 1])
    }
}
