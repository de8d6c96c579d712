import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage

/// Notification's `EventSink/Deliver`: like ServiceKit's ``EventConsumer`` (each event's effect
/// and its inbox entry commit together, a redelivered event is a duplicate), but the events of
/// one delivery — the outbox relay sends up to a hundred — are applied in **one** transaction
/// instead of one each, saving a BEGIN and a COMMIT (and a commit's flush) per event. When that
/// transaction fails (an event that cannot be applied yet answers ABORTED, a malformed one
/// INVALID_ARGUMENT), nothing of it is kept and the delivery is applied again one event per
/// transaction, exactly as ``EventConsumer`` does: the events before the failing one commit,
/// the failure is returned, and the relay sends the rest again.
struct BatchedEventConsumer: Sendable {
    typealias Handler = @Sendable (EventsV1.EventEnvelope, any SQLExecutor) throws -> Void

    private var handlers: [String: Handler] = [:]
    let consumer: String

    init(consumer: String) {
        self.consumer = consumer
    }

    /// Handles events whose payload is `Event`.
    mutating func on<Event: ProtoMessage>(_ type: Event.Type,
                                          _ handler: @escaping @Sendable (Event, EventsV1.EventEnvelope, any SQLExecutor) throws -> Void) {
        handlers[Event.protoName] = { envelope, executor in
            let event: Event
            do { event = try Event(serializedBytes: envelope.payload) } catch {
                throw RPCError(.invalidArgument, "evento malformado / malformed \(Event.protoName)")
            }
            try handler(event, envelope, executor)
        }
    }

    /// Applies `envelope` in `tx` unless the inbox already has it. - Returns: whether it was new.
    private static func apply(_ envelope: EventsV1.EventEnvelope, _ tx: any SQLExecutor, consumer: String,
                              handlers: [String: Handler]) throws -> Bool {
        guard try Inbox.claim(tx, consumer: consumer, eventID: envelope.id) else { return false }
        if let handler = handlers[envelope.type] { try handler(envelope, tx) }
        return true
    }

    /// Registers `EventSink/Deliver` on `router`, applying events in `database`.
    /// - Parameter afterApplied: called after the delivery's transactions committed, with the
    ///   number of events newly applied.
    func register(in router: inout RPCRouter, database: any Database, logger: Logger,
                  afterApplied: (@Sendable (Int) -> Void)? = nil) {
        let handlers = self.handlers
        let consumer = self.consumer
        router.register(EventsV1.EventSink.deliver) { request, context in
            try context.checkCancellation()
            var response = EventsV1.DeliverEventsResponse()
            do {
                let applied = try database.write { tx in
                    try request.events.map { try Self.apply($0, tx, consumer: consumer, handlers: handlers) }
                }
                response.accepted = Int32(applied.filter { $0 }.count)
                response.duplicates = Int32(applied.count) - response.accepted
            } catch {
                guard request.events.count > 1 else { throw error }
                // One at a time: whatever can be applied is, the failing event's error is returned.
                response = EventsV1.DeliverEventsResponse()
                do {
                    for envelope in request.events {
                        try context.checkCancellation()
                        if try database.write({ tx in try Self.apply(envelope, tx, consumer: consumer, handlers: handlers) }) {
                            response.accepted += 1
                        } else {
                            response.duplicates += 1
                        }
                    }
                } catch {
                    if let afterApplied, response.accepted > 0 { afterApplied(Int(response.accepted)) }
                    throw error
                }
            }
            if let afterApplied, response.accepted > 0 { afterApplied(Int(response.accepted)) }
            return response
        }
    }
}
