import Foundation
import Messages
import Observability
import RPC
import RPCTransport
@testable import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

/// The relay's per-subscriber deliveries (several keys per `EventSink/Deliver`, `partial`) into a
/// batched consumer, across two real services over TCP, on both engines.
@Suite("Batched event delivery between services", .serialized)
struct BatchedDeliveryTests {
    /// Events of the keys in `held` (their sequence numbers) answer ABORTED until released.
    final class Gate: Sendable {
        let held = Mutex<Set<Int64>>([])
        let refusals = Mutex<Int>(0)
        /// Events applied by each delivery (one entry per call that applied any).
        let calls = Mutex<[Int]>([])
    }

    static func environment(_ name: String, engine: DatabaseEngine, port: Int, directory: String, consumerPort: Int) throws -> [String: String] {
        var environment = [
            "OCORRENCIAS_DATA_DIR": directory, "OCORRENCIAS_SECRET": "batched-delivery-secret-0123456789",
            "\(name.uppercased())_PORT": String(port), "WORKFLOW_ADDRESSES": "127.0.0.1:\(consumerPort)",
        ]
        if engine == .postgres { environment["\(name.uppercased())_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        return environment
    }

    static func startConsumer(_ environment: [String: String], gate: Gate) throws -> ServiceHost {
        let configuration = try ServiceConfiguration(serviceName: "workflow", arguments: ["test"], environment: environment)
        return try ServiceMain.start(configuration: configuration, migrations: EventDeliveryTests.consumerMigrations,
                                     logger: Logger(service: "workflow", level: .critical)) { runtime, router in
            var consumer = EventConsumer(consumer: "workflow", batched: true)
            consumer.on(RpcV1.EchoRequest.self) { event, envelope, tx in
                let seq = Int64(event.payload.reduce(0) { $0 << 8 | Int($1) })
                if gate.held.withLock({ $0.contains(seq) }) {
                    gate.refusals.withLock { $0 += 1 }
                    throw RPCError(.aborted, "ainda não / not yet")
                }
                try tx.execute("""
                    INSERT INTO applied (event_id, ticket, seq, times) VALUES (?, ?, ?, 1)
                    ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1
                    """, [.text(envelope.id), .text(envelope.key), .integer(seq)])
            }
            // Records how many events each delivery applied (one entry per call that applied any).
            consumer.register(in: &router, database: runtime.database, logger: runtime.logger) { applied in
                gate.calls.withLock { $0.append(applied) }
            }
        }
    }

    @Test("an event that cannot be applied yet holds back its own key only; every event applied once, in order per key, in few calls",
          arguments: TestEngines.all)
    func partialDeliveries(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        let consumerPort = try FreePort.next()
        let gate = Gate()
        let consumerEnvironment = try Self.environment("workflow", engine: engine, port: consumerPort,
                                                       directory: directory.path + "/consumer", consumerPort: consumerPort)
        let consumer = try Self.startConsumer(consumerEnvironment, gate: gate)
        defer { consumer.stop() }
        let publisherConfiguration = try ServiceConfiguration(
            serviceName: "intake", arguments: ["test"],
            environment: try Self.environment("intake", engine: engine, port: try FreePort.next(), directory: directory.path + "/publisher",
                                              consumerPort: consumerPort))
        let publisher = EventPublisher(source: "intake", subscribers: ["workflow"])
        let producer = try ServiceMain.start(configuration: publisherConfiguration, migrations: [],
                                             logger: Logger(service: "intake", level: .critical)) { runtime, _ in
            runtime.addBackground(publisher.relay(runtime: runtime, configuration: RelayConfiguration(
                batchSize: 100, pollInterval: .milliseconds(20), backoffBase: .milliseconds(300), backoffMax: .milliseconds(300))))
        }
        defer { producer.stop() }
        // Key ticket-3's event 13 cannot be applied until released.
        gate.held.withLock { $0 = [13] }
        let total = 400
        try producer.runtime.database.write { tx in
            for i in 0..<total {
                var event = RpcV1.EchoRequest()
                event.payload = withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
                _ = try publisher.publish(tx, event: event, key: "ticket-\(i % 10)")
            }
        }
        let appliedCount = { try consumer.runtime.database.read { try $0.queryOne("SELECT COUNT(*) AS n FROM applied", [])?.int("n") ?? -1 } }
        // Everything but ticket-3's events from 13 on (39 of them) goes through.
        var deadline = Date().addingTimeInterval(30)
        while try appliedCount() < Int64(total - 39), Date() < deadline { usleep(20_000) }
        #expect(try appliedCount() == Int64(total - 39), "the other keys were not held back")
        let heldKey = try consumer.runtime.database.read {
            try $0.queryOne("SELECT COUNT(*) AS n FROM applied WHERE ticket = 'ticket-3' AND seq > 13", [])?.int("n")
        }
        #expect(heldKey == 0, "nothing after the held event of its key")
        #expect(gate.refusals.withLock { $0 } >= 1)
        gate.held.withLock { $0 = [] }
        deadline = Date().addingTimeInterval(30)
        while try producer.runtime.database.read({ try Outbox.pendingCount($0) }) > 0, Date() < deadline { usleep(20_000) }
        let rows = try consumer.runtime.database.read { tx in
            try tx.query("SELECT ticket, seq, times FROM applied ORDER BY seq", [])
        }
        #expect(rows.count == total, "every event applied")
        #expect(try rows.allSatisfy { try $0.int("times") == 1 }, "none applied twice")
        let made = gate.calls.withLock { $0 }
        #expect(made.count < total / 4, "\(made.count) calls for \(total) events: several keys per call")
        #expect((made.max() ?? 0) > 10)
    }

    @Test("a round's events heavier than a frame go in several calls within the frame limit (before: the one call was too large and failed every key, round after round); every event applied once",
          arguments: TestEngines.all)
    func heavyRoundsFitTheFrame(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        let consumerPort = try FreePort.next()
        let gate = Gate()
        // A 128 KiB frame: a call's events may weigh 96 KiB, four of these 20 KiB events.
        let frame = ["OCORRENCIAS_RPC_MAX_FRAME_BYTES": String(128 * 1024)]
        let consumerEnvironment = try Self.environment("workflow", engine: engine, port: consumerPort,
                                                       directory: directory.path + "/consumer", consumerPort: consumerPort)
        let consumer = try Self.startConsumer(consumerEnvironment.merging(frame) { $1 }, gate: gate)
        defer { consumer.stop() }
        let publisherConfiguration = try ServiceConfiguration(
            serviceName: "intake", arguments: ["test"],
            environment: try Self.environment("intake", engine: engine, port: try FreePort.next(), directory: directory.path + "/publisher",
                                              consumerPort: consumerPort).merging(frame) { $1 })
        let publisher = EventPublisher(source: "intake", subscribers: ["workflow"])
        let producer = try ServiceMain.start(configuration: publisherConfiguration, migrations: [],
                                             logger: Logger(service: "intake", level: .critical)) { runtime, _ in
            runtime.addBackground(publisher.relay(runtime: runtime, configuration: RelayConfiguration(
                batchSize: 100, pollInterval: .milliseconds(20), backoffBase: .milliseconds(300), backoffMax: .milliseconds(300))))
        }
        defer { producer.stop() }
        let total = 100
        try producer.runtime.database.write { tx in
            for i in 0..<total {
                var event = RpcV1.EchoRequest()
                // 20 KiB of zeros, then the number (the consumer reads it from the last bytes).
                event.payload = [UInt8](repeating: 0, count: 20 * 1024) + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
                _ = try publisher.publish(tx, event: event, key: "ticket-\(i % 10)")
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while try producer.runtime.database.read({ try Outbox.pendingCount($0) }) > 0, Date() < deadline { usleep(20_000) }
        let rows = try consumer.runtime.database.read { tx in try tx.query("SELECT seq, times FROM applied", []) }
        #expect(rows.count == total, "every event applied: \(rows.count) of \(total)")
        #expect(try rows.allSatisfy { try $0.int("times") == 1 }, "none applied twice")
        #expect(Set(try rows.map { try $0.int("seq") }) == Set((0..<total).map(Int64.init)))
        // Each call within the frame: at most four of these events.
        #expect((gate.calls.withLock { $0 }.max() ?? 0) <= 4, "\(gate.calls.withLock { $0 })")
    }

    @Test("slices keep each key's order: a key that failed in one slice sends none of its later events; a later slice's call failing reports the rest failed; the first slice's rethrows")
    func slicesKeepKeyOrder() throws {
        func event(_ key: String, _ bytes: Int) -> OutboxEvent {
            OutboxEvent(id: UUID().uuidString, type: "t", key: key, payload: [UInt8](repeating: 1, count: bytes))
        }
        let events = [event("a", 50), event("b", 50), event("a", 50), event("c", 50), event("b", 50), event("a", 50)]
        let slices = EventPublisher.deliverySlices(events, byteBudget: 120)
        #expect(slices == [0..<2, 2..<4, 4..<6])
        #expect(EventPublisher.deliverySlices([event("a", 500)], byteBudget: 120) == [0..<1], "a heavy event alone")
        // Key a fails in the first slice: its later events (2 and 5) are not sent, reported failed.
        var sent: [[String]] = []
        let failures = try EventPublisher.deliverInSlices(events, slices) { batch in
            sent.append(batch.map(\.key))
            return sent.count == 1 ? [0: RPCError(.aborted, "not yet")] : [:]
        }
        #expect(sent == [["a", "b"], ["c"], ["b"]])
        #expect(Set(failures.keys) == [0, 2, 5])
        // The second slice's call throws: it and everything after are failed; the first stays delivered.
        var calls = 0
        let thrown = try EventPublisher.deliverInSlices(events, slices) { _ in
            calls += 1
            if calls == 2 { throw RPCError(.unavailable, "down") }
            return [:]
        }
        #expect(Set(thrown.keys) == [2, 3, 4, 5])
        // The first slice's call throws: rethrown (nothing delivered).
        #expect(throws: RPCError.self) { _ = try EventPublisher.deliverInSlices(events, slices) { _ in throw RPCError(.unavailable, "down") } }
    }
}
