import Foundation
import Messages
@testable import ServiceKit
import Storage
import Testing

/// The relay's `EventSink/Deliver` request, written from the outbox payloads without decoding them.
@Suite("Deliver request encoding")
struct DeliverRequestTests {
    @Test("the request built from stored envelopes decodes as the message with those envelopes, in order, partial")
    func rawRequestDecodes() throws {
        // Payloads of 0, 1, 127, 128 and 20,000 bytes: one-, two- and three-byte lengths.
        let envelopes = [0, 1, 127, 128, 20_000].enumerated().map { index, size in
            var envelope = EventsV1.EventEnvelope()
            envelope.id = "e\(index)"
            envelope.type = "ocorrencias.test.v1.Event"
            envelope.key = "T\(index % 2)"
            envelope.payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            return envelope
        }
        let events = envelopes.map { OutboxEvent(id: "\($0.id)@workflow", type: $0.type, key: "workflow|\($0.key)", payload: $0.serializedBytes()) }
        let request = try EventsV1.DeliverEventsRequest(serializedBytes: EventPublisher.deliverRequest(events))
        #expect(request.partial)
        #expect(request.events == envelopes)
        let empty = try EventsV1.DeliverEventsRequest(serializedBytes: EventPublisher.deliverRequest([]))
        #expect(empty.events.isEmpty && empty.partial)
    }
}
