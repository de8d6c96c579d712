import Foundation

/// An event recorded by ``Outbox/enqueue(_:_:)`` and handed to an ``OutboxRelay``'s `deliver`.
public struct OutboxEvent: Sendable, Hashable {
    /// A unique id (a UUID string by default); consumers deduplicate on it with ``Inbox``.
    public var id: String
    /// The fully qualified event type, e.g. `"ocorrencias.intake.v1.TicketOpened"`.
    public var type: String
    /// The ordering key, e.g. the ticket id: events with the same key are delivered in the order
    /// they were committed.
    public var key: String
    /// The encoded event.
    public var payload: [UInt8]
    /// When the event was created (stored with millisecond precision).
    public var createdAt: Date

    /// Creates an event with a fresh UUID and the current time unless given.
    public init(id: String = RandomID.timeOrdered(), type: String, key: String, payload: [UInt8], createdAt: Date = Date()) {
        self.id = id
        self.type = type
        self.key = key
        self.payload = payload
        self.createdAt = createdAt
    }
}
