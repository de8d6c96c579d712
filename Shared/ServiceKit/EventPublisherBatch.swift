import Foundation
import Messages
import Storage

extension EventPublisher {
    /// Records several events of one type for every subscriber in the caller's transaction with
    /// a few multi-row outbox inserts (``Outbox/enqueue(_:_:keysAreNew:deferred:)``, at most 128 rows
    /// each, in sizes from ``statementSizes(_:)``) instead of one per event;
    /// each event is enveloped exactly as ``publish(_:event:key:accessLevel:requestID:id:keyIsNew:)``
    /// does it. Events of one key keep their order.
    /// - Parameter events: each event with its key and access level.
    /// - Returns: the event ids, in order.
    @discardableResult
    public func publishAll<Event: ProtoMessage>(_ executor: any SQLExecutor, events: [(event: Event, key: String, accessLevel: Int32)],
                                                requestID: String = "") throws -> [String] {
        guard !events.isEmpty else { return [] }
        let occurred = Int64(Date().timeIntervalSince1970 * 1000)
        var ids: [String] = []
        ids.reserveCapacity(events.count)
        var rows: [OutboxEvent] = []
        rows.reserveCapacity(events.count * subscribers.count)
        let eventIDs = RandomID.timeOrdered(events.count, milliseconds: occurred, lowercase: true)
        for ((event, key, accessLevel), id) in zip(events, eventIDs) {
            rows += outboxEvents(event: event, key: key, accessLevel: accessLevel, requestID: requestID, id: id, occurredAtMs: occurred)
            ids.append(id)
        }
        // Statements of a few fixed sizes: a connection's statement cache keeps them (one text
        // per batch size would fill it and have it cleared).
        var start = 0
        for size in Self.statementSizes(rows.count) {
            try Outbox.enqueue(executor, Array(rows[start..<start + size]))
            start += size
        }
        return ids
    }

    /// `count` split into pieces of 128, 32, 8, 4, 2 and 1 (largest first), so multi-row
    /// statements come in at most six sizes.
    public static func statementSizes(_ count: Int) -> [Int] {
        var sizes: [Int] = []
        var left = count
        for size in [128, 32, 8, 4, 2, 1] {
            while left >= size {
                sizes.append(size)
                left -= size
            }
        }
        return sizes
    }
}
