import Foundation
import Storage
import Testing
import TestSupport

/// The end-to-end proof: a producer writes 2000 events with side effects, relays deliver them to
/// a consumer that applies each once under `Inbox.claim`, while relays are stopped and restarted
/// and deliveries fail both before and after the consumer commits.
@Suite("Outbox and inbox, end to end")
struct OutboxEndToEndTests {
    static let producerSchema = [
        Migration.table(version: 1, name: "create_tickets", "CREATE TABLE tickets (id TEXT PRIMARY KEY, updates {INT} NOT NULL)")
    ]
    static let consumerSchema = [
        Migration.table(version: 1, name: "create_projection", """
            CREATE TABLE applied (event_id TEXT PRIMARY KEY, event_key TEXT NOT NULL, n {INT} NOT NULL);
            CREATE TABLE key_progress (event_key TEXT PRIMARY KEY, last_n {INT} NOT NULL);
            """)
    ]

    static let eventCount = 2000
    static let keyCount = 25
    static let eventsPerTransaction = 5

    /// What the consumer observed.
    final class Observations: @unchecked Sendable {
        let orderViolations = Locked<[String]>([])
        let concurrentDeliveries = Locked<[String]>([])
        let inFlight = Locked<Set<String>>([])
        let calls = Locked(0)
        let duplicatesSkipped = Locked(0)
        let lostAcknowledgements = Locked(0)
        let outages = Locked(0)
    }

    @Test("every event is applied exactly once, in per-key order, across relay restarts and failures",
          arguments: TestEngines.all, [1, 2])
    func exactlyOnceInOrder(engine: DatabaseEngine, relayCount: Int) throws {
        let producerScratch = try ScratchDatabase(engine, poolSize: 4)
        let producer = try producerScratch.open(migrations: Self.producerSchema)
        defer { producer.close() }
        let consumer = try ScratchDatabase(engine, poolSize: 4).open(migrations: Self.consumerSchema)
        defer { consumer.close() }
        // Each relay gets its own handle, as if it ran in its own process.
        let relayDatabases = try (0..<relayCount).map { _ in try producerScratch.open(migrations: Self.producerSchema) }
        defer { relayDatabases.forEach { $0.close() } }

        let seen = Observations()
        let deliver = Self.consumerDelivery(consumer, seen)
        let configuration = RelayConfiguration(batchSize: 64, pollInterval: .milliseconds(2), backoffBase: .milliseconds(1),
                                               backoffMax: .milliseconds(10), leaseDuration: .seconds(20))
        let relayErrors = Locked<[String]>([])
        func makeRelay(_ index: Int) -> OutboxRelay {
            OutboxRelay(database: relayDatabases[index], name: "relay-\(index)", configuration: configuration,
                        onError: { error in relayErrors.withLock { $0.append("\(error)") } }, deliver: deliver)
        }

        // The producer runs while relays are being stopped and restarted.
        let producerDone = DispatchSemaphore(value: 0)
        let producerError = Locked<(any Error)?>(nil)
        Thread {
            defer { producerDone.signal() }
            do { try Self.produce(producer) } catch { producerError.withLock { $0 = error } }
        }.start()

        var relays = (0..<relayCount).map(makeRelay)
        relays.forEach { $0.start() }
        for restart in 0..<6 {
            // Let some deliveries happen, then stop one relay mid-stream and start a new instance.
            let target = seen.calls.current + 150
            let deadline = Date(timeIntervalSinceNow: 10)
            while seen.calls.current < target && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
            let index = restart % relayCount
            relays[index].stop()
            relays[index] = makeRelay(index)
            relays[index].start()
        }
        producerDone.wait()
        if let error = producerError.current { throw error }

        let drainDeadline = Date(timeIntervalSinceNow: 40)
        while try relays[0].pending() > 0 && Date() < drainDeadline {
            relays.forEach { $0.wake() }
            Thread.sleep(forTimeInterval: 0.01)
        }
        relays.forEach { $0.stop() }

        #expect(try relays[0].pending() == 0, "outbox drained")
        #expect(try relays[0].lag() == .zero)
        #expect(relayErrors.current.isEmpty, "relay loop errors: \(relayErrors.current.prefix(3))")
        #expect(seen.orderViolations.current.isEmpty, "per-key order broken: \(seen.orderViolations.current.prefix(5))")
        #expect(seen.concurrentDeliveries.current.isEmpty, "delivered twice at once: \(seen.concurrentDeliveries.current.prefix(5))")
        #expect(seen.duplicatesSkipped.current > 0, "lost acknowledgements must have caused redeliveries")
        #expect(seen.lostAcknowledgements.current > 0 && seen.outages.current > 0)
        try consumer.read { tx throws in
            #expect(try tx.scalar("SELECT COUNT(*) FROM applied") == .integer(Int64(Self.eventCount)), "each event applied once")
            #expect(try tx.scalar("SELECT COUNT(DISTINCT event_id) FROM applied") == .integer(Int64(Self.eventCount)))
            #expect(try tx.scalar("SELECT COUNT(*) FROM storage_inbox") == .integer(Int64(Self.eventCount)))
            let lastPerKey = try tx.query("SELECT last_n FROM key_progress").map { try $0.int("last_n") }
            #expect(lastPerKey.count == Self.keyCount)
            #expect(lastPerKey.allSatisfy { $0 == Int64(Self.eventCount / Self.keyCount - 1) })
        }
        #expect(try producer.read { try $0.scalar("SELECT SUM(updates) FROM tickets") } == .integer(Int64(Self.eventCount)),
                "every event's side effect committed with it")
    }

    /// Writes the events, several per transaction, each with a side effect on its ticket.
    static func produce(_ producer: any Database) throws {
        for first in stride(from: 0, to: eventCount, by: eventsPerTransaction) {
            try producer.write { tx throws in
                for index in first..<(first + eventsPerTransaction) {
                    let key = "ticket-\(index % keyCount)"
                    let n = index / keyCount  // 0, 1, 2, ... per key
                    if try tx.execute("UPDATE tickets SET updates = updates + 1 WHERE id = ?", [.text(key)]) == 0 {
                        try tx.execute("INSERT INTO tickets (id, updates) VALUES (?, 1)", [.text(key)])
                    }
                    try Outbox.enqueue(tx, OutboxEvent(id: "event-\(index)", type: "ocorrencias.test.v1.Step", key: key,
                                                       payload: Array("\(key)|\(n)".utf8)))
                }
            }
        }
    }

    /// The consumer: applies an event in its own transaction guarded by `Inbox.claim`, checking
    /// per-key order; some calls fail before applying (outage) or after committing (lost ack).
    static func consumerDelivery(_ consumer: any Database, _ seen: Observations) -> @Sendable (OutboxEvent) throws -> Void {
        { event in
            let call = seen.calls.withLock { $0 += 1; return $0 }
            let alreadyInFlight = seen.inFlight.withLock { !$0.insert(event.id).inserted }
            if alreadyInFlight { seen.concurrentDeliveries.withLock { $0.append(event.id) } }
            defer { if !alreadyInFlight { _ = seen.inFlight.withLock { $0.remove(event.id) } } }

            if call % 17 == 0 {
                seen.outages.withLock { $0 += 1 }
                throw InjectedFailure("consumer unavailable")
            }
            let parts = String(decoding: event.payload, as: UTF8.self).split(separator: "|")
            let key = String(parts[0]), n = Int64(parts[1])!
            let applied = try consumer.write { tx -> Bool in
                guard try Inbox.claim(tx, consumer: "projection", eventID: event.id) else { return false }
                let last = try tx.queryOne("SELECT last_n FROM key_progress WHERE event_key = ?", [.text(key)])?.int("last_n") ?? -1
                if n != last + 1 {
                    seen.orderViolations.withLock { $0.append("\(key): got \(n) after \(last)") }
                }
                if try tx.execute("UPDATE key_progress SET last_n = ? WHERE event_key = ?", [.integer(n), .text(key)]) == 0 {
                    try tx.execute("INSERT INTO key_progress (event_key, last_n) VALUES (?, ?)", [.text(key), .integer(n)])
                }
                try tx.execute("INSERT INTO applied (event_id, event_key, n) VALUES (?, ?, ?)", [.text(event.id), .text(key), .integer(n)])
                return true
            }
            if !applied { seen.duplicatesSkipped.withLock { $0 += 1 } }
            if call % 11 == 0 {
                seen.lostAcknowledgements.withLock { $0 += 1 }
                throw InjectedFailure("acknowledgement lost after the consumer committed")
            }
        }
    }
}
