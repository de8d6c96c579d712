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

/// Outbox → RPC → inbox across two real services, with the consumer stopped mid-stream.
@Suite("Event delivery between services", .serialized)
struct EventDeliveryTests {
    static let consumerMigrations = [Migration(version: 1, name: "applied", sql: """
        CREATE TABLE applied (event_id TEXT PRIMARY KEY, ticket TEXT NOT NULL, seq INTEGER NOT NULL, times INTEGER NOT NULL)
        """)]

    static func configuration(_ name: String, port: Int, directory: String, secret: String, consumerPort: Int) throws -> ServiceConfiguration {
        try ServiceConfiguration(serviceName: name, arguments: ["test"], environment: [
            "OCORRENCIAS_DATA_DIR": directory, "OCORRENCIAS_SECRET": secret,
            "\(name.uppercased())_PORT": String(port), "WORKFLOW_ADDRESSES": "127.0.0.1:\(consumerPort)",
        ])
    }

    static func startConsumer(port: Int, directory: String, secret: String) throws -> ServiceHost {
        let configuration = try configuration("workflow", port: port, directory: directory, secret: secret, consumerPort: port)
        return try ServiceMain.start(configuration: configuration, migrations: consumerMigrations,
                                     logger: Logger(service: "workflow", level: .critical)) { runtime, router in
            var consumer = EventConsumer(consumer: "workflow")
            consumer.on(RpcV1.EchoRequest.self) { event, envelope, tx in
                let seq = Int64(event.payload.reduce(0) { $0 << 8 | Int($1) })
                try tx.execute("""
                    INSERT INTO applied (event_id, ticket, seq, times) VALUES (?, ?, ?, 1)
                    ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1
                    """, [.text(envelope.id), .text(envelope.key), .integer(seq)])
            }
            consumer.register(in: &router, database: runtime.database, logger: runtime.logger)
        }
    }

    @Test("2,000 events reach a consumer that is stopped twice mid-stream: none lost, none applied twice, order kept per key")
    func consumerStoppedMidStream() throws {
        let directory = try TemporaryDirectory()
        let secret = "event-delivery-secret-0123456789"
        let consumerPort = try FreePort.next()
        var consumer = try Self.startConsumer(port: consumerPort, directory: directory.path + "/consumer", secret: secret)
        let publisherConfiguration = try Self.configuration("intake", port: try FreePort.next(), directory: directory.path + "/publisher",
                                                            secret: secret, consumerPort: consumerPort)
        let publisher = EventPublisher(source: "intake", subscribers: ["workflow"])
        let producer = try ServiceMain.start(configuration: publisherConfiguration, migrations: [],
                                             logger: Logger(service: "intake", level: .critical)) { runtime, _ in
            runtime.addBackground(publisher.relay(runtime: runtime, configuration: RelayConfiguration(
                batchSize: 50, pollInterval: .milliseconds(20), backoffBase: .milliseconds(20), backoffMax: .milliseconds(200))))
        }
        let total = 2_000
        for i in 0..<total {
            var event = RpcV1.EchoRequest()
            event.payload = withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
            try producer.runtime.database.write { tx in
                _ = try publisher.publish(tx, event: event, key: "ticket-\(i % 10)")
            }
            if i == 600 || i == 1_300 {
                // Stop the consumer while deliveries are in flight, then bring it back.
                consumer.stop()
                usleep(300_000)
                consumer = try Self.startConsumer(port: consumerPort, directory: directory.path + "/consumer", secret: secret)
            }
        }
        let limit = Date().addingTimeInterval(60)
        var pending = -1
        while Date() < limit {
            pending = try producer.runtime.database.read { try Outbox.pendingCount($0) }
            if pending == 0 { break }
            usleep(50_000)
        }
        #expect(pending == 0, "outbox drained")
        let rows = try consumer.runtime.database.read { tx in
            try tx.query("SELECT ticket, seq, times FROM applied ORDER BY rowid", [])
        }
        #expect(rows.count == total, "every event applied")
        #expect(try rows.allSatisfy { try $0.int("times") == 1 }, "no event applied twice")
        var lastByTicket: [String: Int64] = [:]
        for row in rows {
            let ticket = try row.text("ticket"), seq = try row.int("seq")
            #expect(seq > lastByTicket[ticket, default: -1], "order kept for \(ticket)")
            lastByTicket[ticket] = seq
        }
        producer.stop()
        consumer.stop()
    }
}
