import Foundation
import Messages
import ServiceKit
import Storage
import Testing
import TestSupport

/// `Stats/Outbox`'s answer (`RpcV1.OutboxStatsResponse(_:now:)`): the whole outbox and each
/// destination, ages at the scrape, and where counting stopped.
@Suite("Stats/Outbox answer")
struct OutboxStatsAnswerTests {
    @Test("a backlog over two destinations: counts, ages and the count limit as the gateway's /metrics reads them", arguments: TestEngines.all)
    func answer(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open()
        defer { db.close() }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try db.write { tx in
            try Outbox.enqueue(tx, (0..<30).map { OutboxEvent(type: "t", key: "notification|T\($0 % 4)", payload: [1], createdAt: Date(timeIntervalSinceNow: -90)) })
            try Outbox.enqueue(tx, (0..<3).map { OutboxEvent(type: "t", key: "workflow|T\($0)", payload: [1], createdAt: Date(timeIntervalSinceNow: -2)) })
        }
        let answer = RpcV1.OutboxStatsResponse(try db.read { try Outbox.stats($0, countLimit: 20) }, now: now)
        #expect(answer.pending == 20 && answer.countLimit == 20 && answer.retrying == 0 && answer.destinationsComplete)
        #expect(abs(answer.oldestPendingAgeMs - 90_000) < 1_000)
        #expect(answer.destinations.map(\.destination) == ["notification", "workflow"])
        #expect(answer.destinations.map(\.pending) == [20, 3], "notification's 30 counted up to the limit")
        #expect(abs(answer.destinations[1].oldestPendingAgeMs - 2_000) < 1_000)
        // Through the wire and back, as the gateway reads it.
        let decoded = try RpcV1.OutboxStatsResponse(serializedBytes: answer.serializedBytes())
        #expect(decoded == answer)
    }
}
