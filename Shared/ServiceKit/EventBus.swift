import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import Storage

/// Which services consume the events of which publisher. One table for the whole deployment
/// (docs/ARCHITECTURE.md, "Events").
public enum EventRouting {
    public static let subscribers: [String: [String]] = [
        "intake": ["workflow", "notification"],
        "workflow": ["notification", "knowledge", "intake"],
        "knowledge": ["workflow"],
        "notification": ["workflow"],
    ]

    /// Events meant for some of their publisher's subscribers and watchers only (by full message
    /// name): the others get no row for them.
    /// - Workflow's `TicketRouted` and `CustomerActionApplied` are for notification: intake and
    ///   knowledge have nothing to do with them, and the gateway's view cache learns of the
    ///   change from the events beside them.
    /// - Intake's `CustomerReplied` and `TicketCancelledByCustomer` go to workflow (and the
    ///   gateway's feed); notification hears of them from workflow's `CustomerActionApplied`,
    ///   which carries the holder workflow had when it applied them.
    /// - Workflow's `TicketAccessLevelChanged` is for notification (the ticket's current level
    ///   for its delivery log and pending e-mails) and the gateway's feed (its view cache).
    public static let eventSubscribers: [String: [String]] = [
        "ocorrencias.workflow.v1.TicketRouted": ["notification"],
        "ocorrencias.workflow.v1.CustomerActionApplied": ["notification"],
        "ocorrencias.workflow.v1.TicketAccessLevelChanged": ["notification", "gateway"],
        "ocorrencias.intake.v1.CustomerReplied": ["workflow", "gateway"],
        "ocorrencias.intake.v1.TicketCancelledByCustomer": ["workflow", "gateway"],
    ]

    /// Watchers of a publisher's events: they get an outbox row per event like subscribers, but
    /// the publisher's relay hands it to every open `EventFeed/Watch` stream of that name on its
    /// own instance instead of calling one instance of a service (broadcast, see ``EventFeed``).
    /// The gateway watches ticket events to keep its view cache correct.
    public static let watchers: [String: [String]] = [
        "intake": ["gateway"],
        "workflow": ["gateway"],
    ]
}

/// Publishes events through the transactional outbox: one outbox row per subscriber, written in
/// the caller's transaction, so a subscriber that is down delays only its own deliveries.
///
/// ```swift
/// try database.write { tx in
///     try tx.execute("INSERT INTO tickets ...", [...])
///     try publisher.publish(tx, event: opened, key: ticketID, accessLevel: 0)
/// }
/// ```
public struct EventPublisher: Sendable {
    public let source: String
    public let subscribers: [String]
    /// The source's watchers (``EventRouting/watchers``): their rows carry no payload and the
    /// relay hands them to ``EventFeed``.
    let watchers: [String]

    public init(source: String, subscribers: [String]? = nil) {
        self.source = source
        watchers = EventRouting.watchers[source] ?? []
        self.subscribers = subscribers ?? ((EventRouting.subscribers[source] ?? []) + watchers)
    }

    /// The subscribers (and watchers) that get a row for events of `type`: all of them unless
    /// ``EventRouting/eventSubscribers`` narrows that type.
    func subscribers(of type: String) -> [String] {
        guard let only = EventRouting.eventSubscribers[type] else { return subscribers }
        return subscribers.filter(only.contains)
    }

    /// Records `event` for every subscriber in the caller's transaction.
    /// - Parameters:
    ///   - keyIsNew: `key` names something created in this transaction (a new ticket), so no
    ///     other transaction can publish under it first and the outbox's per-key lock is skipped.
    ///   - deferred: The outbox rows go out with the transaction's next statement or its commit
    ///     (one round trip less on PostgreSQL; see ``Outbox/enqueue(_:_:keysAreNew:deferred:)``).
    /// - Returns: the event id.
    @discardableResult
    public func publish<Event: ProtoMessage>(_ executor: any SQLExecutor, event: Event, key: String, accessLevel: Int32 = 0,
                                              requestID: String = "", id: String = RandomID.timeOrdered(),
                                              keyIsNew: Bool = false, deferred: Bool = false) throws -> String {
        try Outbox.enqueue(executor, outboxEvents(event: event, key: key, accessLevel: accessLevel, requestID: requestID, id: id),
                           keysAreNew: keyIsNew, deferred: deferred)
        return id
    }

    /// The outbox rows ``publish(_:event:key:accessLevel:requestID:id:keyIsNew:)`` writes for
    /// `event` (one per subscriber), for a caller that writes them itself in a larger statement
    /// (``Outbox/insertStatement(_:)``); only for keys new in the transaction, since no per-key
    /// lock is taken then.
    public func outboxEvents<Event: ProtoMessage>(event: Event, key: String, accessLevel: Int32 = 0, requestID: String = "",
                                                  id: String = RandomID.timeOrdered()) -> [OutboxEvent] {
        outboxEvents(event: event, key: key, accessLevel: accessLevel, requestID: requestID, id: id,
                     occurredAtMs: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// The rows of one event: the envelope for each subscriber; for a watcher (``EventRouting/watchers``)
    /// the envelope without its payload, which the feed does not pass on anyway.
    func outboxEvents<Event: ProtoMessage>(event: Event, key: String, accessLevel: Int32, requestID: String, id: String,
                                           occurredAtMs: Int64) -> [OutboxEvent] {
        var envelope = EventsV1.EventEnvelope()
        envelope.id = id
        envelope.type = Event.protoName
        envelope.key = key
        envelope.source = source
        envelope.occurredAtMs = occurredAtMs
        envelope.accessLevel = accessLevel
        envelope.requestID = requestID
        let light = watchers.isEmpty ? [] : envelope.serializedBytes()
        envelope.payload = event.serializedBytes()
        let bytes = envelope.serializedBytes()
        return subscribers(of: Event.protoName).map { subscriber in
            OutboxEvent(id: "\(id)@\(subscriber)", type: Event.protoName, key: "\(subscriber)|\(key)",
                        payload: watchers.contains(subscriber) ? light : bytes)
        }
    }

    /// What ``outboxEvents(event:key:accessLevel:requestID:id:)`` makes for an event except what
    /// depends on the event's content and the time: the envelope's id, type, key and source
    /// encoded, and each subscriber's row id and key. A caller that writes many events on one
    /// thread (intake's group commit) prepares them elsewhere and completes them there with
    /// ``outboxEvents(_:encodedEvent:occurredAtMs:)``, which gives the same rows.
    public func prepareOutboxEvents<Event: ProtoMessage>(_ type: Event.Type, key: String, accessLevel: Int32 = 0,
                                                         requestID: String = "", id: String) -> PreparedOutboxEvents {
        var head = EventsV1.EventEnvelope()
        head.id = id
        head.type = Event.protoName
        head.key = key
        head.source = source
        var tail = EventsV1.EventEnvelope()
        tail.accessLevel = accessLevel
        tail.requestID = requestID
        return PreparedOutboxEvents(type: Event.protoName, head: head.serializedBytes(), tail: tail.serializedBytes(),
                                    rows: subscribers(of: Event.protoName).map { (id + "@" + $0, $0 + "|" + key, watchers.contains($0)) })
    }

    /// The outbox rows of a prepared event (``prepareOutboxEvents(_:key:accessLevel:requestID:id:)``)
    /// whose message encodes to `encodedEvent`: the same rows, envelopes byte for byte, as
    /// ``outboxEvents(event:key:accessLevel:requestID:id:)`` with that message and time.
    public func outboxEvents(_ prepared: PreparedOutboxEvents, encodedEvent: [UInt8],
                             occurredAtMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> [OutboxEvent] {
        // The envelope's fields in number order: 1-4 prepared, 5 the time, 6 the payload, 7-8 prepared.
        var time: [UInt8] = []
        if occurredAtMs != 0 {
            ProtoWire.appendKey(5, ProtoWire.varint, to: &time)
            ProtoWire.appendVarint(UInt64(bitPattern: occurredAtMs), to: &time)
        }
        var full: [UInt8] = []
        full.reserveCapacity(prepared.head.count + time.count + 6 + encodedEvent.count + prepared.tail.count)
        full += prepared.head
        full += time
        if !encodedEvent.isEmpty {
            ProtoWire.appendKey(6, ProtoWire.lengthDelimited, to: &full)
            ProtoWire.appendVarint(UInt64(encodedEvent.count), to: &full)
            full += encodedEvent
        }
        full += prepared.tail
        let light = prepared.rows.contains(where: \.light) ? prepared.head + time + prepared.tail : []
        let createdAt = Date()
        return prepared.rows.map { row in
            OutboxEvent(id: row.id, type: prepared.type, key: row.key, payload: row.light ? light : full, createdAt: createdAt)
        }
    }

    /// What ``relay(runtime:configuration:)`` uses when given nothing: rounds of up to 400
    /// events. A service that tunes its relay starts from this, not from `RelayConfiguration()`
    /// (intake did, and its rounds stayed at 100 events: 3 events per open, so ≈ 33 tickets per
    /// round for workflow, which capped the tickets reaching workflow at ≈ 2,000/s).
    public static let defaultRelayConfiguration = RelayConfiguration(batchSize: 400)

    /// A relay that delivers this service's outbox to the subscribers over RPC: each round, one
    /// `EventSink/Deliver` call per subscriber carrying all of that subscriber's claimed events
    /// (several keys, per-key order, `partial` so that an event that cannot be applied holds back
    /// only its own key); watchers' events are handed to ``ServiceRuntime/eventFeed``.
    ///
    /// A subscriber that cannot be reached (`UNAVAILABLE`: refused or dropped connections, an
    /// instance restarting, a consumer asking to be called again; `DEADLINE_EXCEEDED`: a peer
    /// behind a silent network) is retried within about a second, unless `configuration` already
    /// says how to recognise such failures; see ``RelayConfiguration/isUnreachable``.
    ///
    /// By default (``defaultRelayConfiguration``) a round claims up to 400 events (not
    /// `RelayConfiguration`'s 100): a busy service's rounds then carry more events per call, and
    /// the relay keeps up with it (docs/BENCHMARKS-gateway.md).
    public func relay(runtime: ServiceRuntime, configuration: RelayConfiguration = EventPublisher.defaultRelayConfiguration) -> OutboxRelay {
        let watchers = Set(self.watchers)
        var configuration = configuration
        if configuration.isUnreachable == nil { configuration.isUnreachable = Self.isUnreachable }
        // OCORRENCIAS_RELAY_ROUND_MS: the shortest time between the starts of two busy rounds
        // (RelayConfiguration.roundInterval), for tuning and benchmarks.
        if let value = runtime.configuration.environment["OCORRENCIAS_RELAY_ROUND_MS"], let milliseconds = Int(value), milliseconds >= 0 {
            configuration.roundInterval = .milliseconds(milliseconds)
        }
        // OCORRENCIAS_RELAY_BATCH: the most events a round claims (RelayConfiguration.batchSize),
        // for tuning and benchmarks.
        if let value = runtime.configuration.environment["OCORRENCIAS_RELAY_BATCH"], let size = Int(value), (1...10_000).contains(size) {
            configuration.batchSize = size
        }
        let byteBudget = Self.deliveryByteBudget(maxFrameSize: runtime.configuration.limits.maxFrameSize)
        return OutboxRelay(database: runtime.database, name: "\(source)-events", instance: runtime.configuration.instanceID,
                           configuration: configuration) { subscriber, events in
            if watchers.contains(subscriber) {
                var failures: OutboxRelay.BatchFailures = [:]
                for (index, event) in events.enumerated() {
                    do {
                        runtime.eventFeed.hand(subscriber: subscriber, envelope: try EventsV1.EventEnvelope(serializedBytes: event.payload))
                    } catch {
                        failures[index] = error
                    }
                }
                return failures
            }
            // One call per slice of the round's events that fits a frame (most rounds: one).
            func call(_ batch: [OutboxEvent]) throws -> OutboxRelay.BatchFailures {
                let started = MonotonicClock.nanoseconds()
                let response: EventsV1.DeliverEventsResponse
                do {
                    response = try runtime.client(for: subscriber).call(EventsV1.EventSink.deliver, encodedRequest: Self.deliverRequest(batch),
                                                                         options: CallOptions(timeoutMilliseconds: 5_000))
                } catch {
                    // One line per failed delivery (an unreachable subscriber costs one per round):
                    // what the outbox lag in /metrics cannot say is why events wait.
                    runtime.logger.warning("event delivery failed", [
                        "subscriber": subscriber, "events": String(batch.count), "event.type": batch.first?.type ?? "",
                        "event.id": batch.first?.id ?? "",
                        "duration_us": String((MonotonicClock.nanoseconds() - started) / 1_000), "error": "\(error)",
                    ])
                    throw error
                }
                var failures: OutboxRelay.BatchFailures = [:]
                for failure in response.failures where batch.indices.contains(Int(failure.index)) {
                    let error = RPCError(RPCStatusCode(rawValue: failure.code) ?? .unknown, failure.message)
                    failures[Int(failure.index)] = error
                    runtime.logger.warning("event not applied", [
                        "subscriber": subscriber, "event.type": batch[Int(failure.index)].type,
                        "event.id": batch[Int(failure.index)].id, "error": "\(error)",
                    ])
                }
                return failures
            }
            let slices = Self.deliverySlices(events, byteBudget: byteBudget)
            guard slices.count > 1 else { return try call(events) }
            return try Self.deliverInSlices(events, slices, call)
        }
    }

    /// What one `Deliver` call's events may weigh: the frame limit less room for the frame's own
    /// fields and metadata (at most 16 KiB, ``FrameShape``) and the request's framing.
    static func deliveryByteBudget(maxFrameSize: Int) -> Int {
        max(1, maxFrameSize - 32 * 1024)
    }

    /// `events` (in sequence order) cut into consecutive slices whose encoded events stay within
    /// `byteBudget`; an event larger than the budget alone (its call then fails at the client as
    /// too large, holding back its key only). Before, a round's call carried all of a
    /// subscriber's events of the round: long tickets (texts up to 100,000 characters) past the
    /// 4 MiB frame limit failed the whole call, every key's first event with it, round after round.
    static func deliverySlices(_ events: [OutboxEvent], byteBudget: Int) -> [Range<Int>] {
        var slices: [Range<Int>] = []
        var start = 0, weight = 0
        for (index, event) in events.enumerated() {
            let size = event.payload.count + 8
            if index > start, weight + size > byteBudget {
                slices.append(start..<index)
                (start, weight) = (index, 0)
            }
            weight += size
        }
        if start < events.count { slices.append(start..<events.count) }
        return slices
    }

    /// Delivers `events` slice after slice, keeping each key's order: a key that failed in a
    /// slice sends none of its later events (they are reported failed with its error, which the
    /// relay treats as held back). A call that throws on the first slice throws (nothing was
    /// delivered: the relay's usual handling, unreachable included); on a later slice, that
    /// slice's events and every later one are reported failed with the error.
    static func deliverInSlices(_ events: [OutboxEvent], _ slices: [Range<Int>],
                                _ call: ([OutboxEvent]) throws -> OutboxRelay.BatchFailures) throws -> OutboxRelay.BatchFailures {
        var failures: OutboxRelay.BatchFailures = [:]
        var failedKeys: [String: any Error] = [:]
        for (number, slice) in slices.enumerated() {
            var sent: [Int] = []
            for index in slice {
                if let error = failedKeys[events[index].key] { failures[index] = error } else { sent.append(index) }
            }
            guard !sent.isEmpty else { continue }
            do {
                for (position, error) in try call(sent.map { events[$0] }) where sent.indices.contains(position) {
                    let index = sent[position]
                    failures[index] = error
                    if failedKeys[events[index].key] == nil { failedKeys[events[index].key] = error }
                }
            } catch {
                if number == 0 { throw error }
                for index in slice.lowerBound..<events.count where failures[index] == nil { failures[index] = error }
                return failures
            }
        }
        return failures
    }
}

extension EventPublisher {
    /// The encoded `DeliverEventsRequest` (`partial` set) carrying `events`: their outbox payloads
    /// are encoded `EventEnvelope`s already, so each becomes field 1 (`events`) as it is, without
    /// being decoded into a message and encoded again.
    static func deliverRequest(_ events: [OutboxEvent]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events.reduce(2) { $0 + $1.payload.count + 6 })
        for event in events {
            bytes.append(0x0A)  // field 1, length-delimited
            var length = UInt64(event.payload.count)
            while length >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: length) | 0x80)
                length >>= 7
            }
            bytes.append(UInt8(length))
            bytes += event.payload
        }
        bytes += [0x10, 0x01]  // field 2 (partial), varint true
        return bytes
    }

    /// Whether a delivery failure only says the subscriber cannot be reached right now.
    @Sendable static func isUnreachable(_ error: any Error) -> Bool {
        guard let error = error as? RPCError else { return false }
        return error.code == .unavailable || error.code == .deadlineExceeded
    }
}

/// Applies delivered events once: each event's effect and its inbox entry commit together, so a
/// redelivery is acknowledged without a second effect.
public struct EventConsumer: Sendable {
    public typealias Handler = @Sendable (EventsV1.EventEnvelope, any SQLExecutor) throws -> Void

    /// Runs a transaction's handlers (`body`) with `tx`: see ``aroundHandlers(_:)``.
    public typealias TransactionWrapper = @Sendable (_ tx: any SQLExecutor, _ body: () throws -> Void) throws -> Void

    private var handlers: [String: Handler] = [:]
    private var wrapper: TransactionWrapper?
    public let consumer: String
    /// Whether the events of one delivery are applied in one transaction (see ``init(consumer:batched:)``).
    public let batched: Bool
    /// `batched`: how long the first of concurrent deliveries waits for more before their events
    /// are applied in one transaction, while they hold fewer than ``gatherEvents`` events (zero,
    /// the default: never). For a consumer to which a few milliseconds before an event is applied
    /// do not matter: fewer, larger transactions (on SQLite fewer pages written per event at each
    /// commit; on PostgreSQL fewer statements and round trips per event), and the publishers'
    /// relays, answered that much later, send larger deliveries. With a window, concurrent
    /// deliveries are grouped on PostgreSQL too (without one they run side by side there).
    public var gatherWindow: TimeInterval = 0
    /// The events at which a delivery group stops waiting (``gatherWindow``).
    public var gatherEvents = 64

    /// - Parameters:
    ///   - consumer: The inbox name (one per consuming service).
    ///   - batched: Apply the events of one delivery — the outbox relay sends each subscriber all
    ///     of its events of a round, up to a hundred, several keys — in **one** transaction instead
    ///     of one each, saving a BEGIN and a COMMIT (and a commit's flush) per event. When that
    ///     transaction fails (an event that cannot be applied yet answers ABORTED, a malformed one
    ///     INVALID_ARGUMENT), nothing of it is kept and the delivery is applied again one event per
    ///     transaction, as without `batched`: for a `partial` delivery (the relay's) each failing
    ///     event is reported in the response and only its key's later events are skipped; otherwise
    ///     the events before the failing one commit, the failure is returned, and the relay sends
    ///     the rest again.
    public init(consumer: String, batched: Bool = false) {
        self.consumer = consumer
        self.batched = batched
    }

    /// Handles events whose payload is `Event`.
    public mutating func on<Event: ProtoMessage>(_ type: Event.Type,
                                                 _ handler: @escaping @Sendable (Event, EventsV1.EventEnvelope, any SQLExecutor) throws -> Void) {
        handlers[Event.protoName] = { envelope, executor in
            let event: Event
            do { event = try Event(serializedBytes: envelope.payload) } catch {
                throw RPCError(.invalidArgument, "evento malformado / malformed \(Event.protoName)")
            }
            try handler(event, envelope, executor)
        }
    }

    /// Wraps the handlers of each transaction that applies events: `wrapper` gets the
    /// transaction and a `body` that runs the handlers of the transaction's new events (batched:
    /// every new event of the delivery; otherwise, or when a batch is applied again one event at
    /// a time: one event), and must call `body` once. What it writes after `body` commits with
    /// the events and their inbox entries, so work the handlers share — e.g. counters each event
    /// adds to, summed over the delivery and written once — is done once per transaction, exactly
    /// as durable as the events' own effects (a failed or retried transaction keeps none of it).
    /// `body` runs on the calling thread. Registering a second wrapper nests it inside the first.
    public mutating func aroundHandlers(_ wrapper: @escaping TransactionWrapper) {
        if let outer = self.wrapper {
            self.wrapper = { tx, body in try outer(tx) { try wrapper(tx, body) } }
        } else {
            self.wrapper = wrapper
        }
    }

    /// Registers `EventSink/Deliver` on `router`, applying events in `database`.
    /// - Parameter afterApplied: called after a delivery's transactions committed, with the number
    ///   of events newly applied (e.g. to wake a sender that acts on what the handlers wrote).
    public func register(in router: inout RPCRouter, database: any Database, logger: Logger,
                         afterApplied: (@Sendable (Int) -> Void)? = nil) {
        let handlers = self.handlers
        let consumer = self.consumer
        let wrapper = self.wrapper
        /// Runs `body` (a transaction's handlers) inside the wrapper, if any.
        let wrapped = { @Sendable (tx: any SQLExecutor, body: () throws -> Void) throws in
            if let wrapper { try wrapper(tx, body) } else { try body() }
        }
        /// Applies `envelope` in `tx` unless the inbox already has it. - Returns: whether it was new.
        let apply = { @Sendable (envelope: EventsV1.EventEnvelope, tx: any SQLExecutor) throws -> Bool in
            guard try Inbox.claim(tx, consumer: consumer, eventID: envelope.id) else { return false }
            if let handler = handlers[envelope.type] { try wrapped(tx) { try handler(envelope, tx) } }
            return true
        }
        /// Reports, in a partial delivery's answer, that `envelope` (at `index`) was not applied.
        let recordFailure = { @Sendable (index: Int, envelope: EventsV1.EventEnvelope, error: any Error,
                                         response: inout EventsV1.DeliverEventsResponse) in
            let status = HandlerErrorTranslation.answer(for: error)
            var failure = EventsV1.DeliveryFailure()
            failure.index = Int32(index)
            failure.code = status.code.rawValue
            failure.message = status.message
            response.failures.append(failure)
            logger.warning("event not applied", ["consumer": consumer, "event.type": envelope.type, "event.id": envelope.id,
                                                 "error": "\(error)"])
        }
        /// One transaction per event. Not partial: stops at the first failure and throws it.
        /// Partial: a failing event is recorded in `response.failures` and its key's later events
        /// are skipped; the other keys go on.
        let applyOneByOne = { @Sendable (request: EventsV1.DeliverEventsRequest, context: ServerContext,
                                         response: inout EventsV1.DeliverEventsResponse) throws in
            var failedKeys = Set<String>()
            for (index, envelope) in request.events.enumerated() {
                try context.checkCancellation()
                if failedKeys.contains(envelope.key) { continue }
                do {
                    if try database.write({ tx in try apply(envelope, tx) }) { response.accepted += 1 } else { response.duplicates += 1 }
                } catch {
                    guard request.partial else { throw error }
                    recordFailure(index, envelope, error, &response)
                    failedKeys.insert(envelope.key)
                }
            }
        }
        let notify = { @Sendable (response: EventsV1.DeliverEventsResponse) in
            if let afterApplied, response.accepted > 0 { afterApplied(Int(response.accepted)) }
        }
        /// A delivery's answer from ``applyOneByOne``; what it applied is notified even when it throws.
        let deliverOneByOne = { @Sendable (request: EventsV1.DeliverEventsRequest, context: ServerContext) throws -> EventsV1.DeliverEventsResponse in
            var response = EventsV1.DeliverEventsResponse()
            do {
                try applyOneByOne(request, context, &response)
            } catch {
                notify(response)
                throw error
            }
            notify(response)
            return response
        }
        if !batched {
            router.register(EventsV1.EventSink.deliver) { request, context in try deliverOneByOne(request, context) }
            return
        }
        /// Deliveries in one transaction: one inbox statement for all their events, then each new
        /// event's handler in order, delivery after delivery, inside one run of the wrapper; each
        /// delivery's counts (not yet notified).
        let applyTogether = { @Sendable (requests: [EventsV1.DeliverEventsRequest]) throws -> [EventsV1.DeliverEventsResponse] in
            try database.write { tx in
                var fresh = try Inbox.claim(tx, consumer: consumer, eventIDs: requests.flatMap { $0.events.map(\.id) })
                var responses: [EventsV1.DeliverEventsResponse] = []
                responses.reserveCapacity(requests.count)
                try wrapped(tx) {
                    for request in requests {
                        var response = EventsV1.DeliverEventsResponse()
                        for envelope in request.events {
                            guard fresh.remove(envelope.id) != nil else { response.duplicates += 1; continue }
                            if let handler = handlers[envelope.type] { try handler(envelope, tx) }
                            response.accepted += 1
                        }
                        responses.append(response)
                    }
                }
                return responses
            }
        }
        /// A delivery in a transaction of its own: the whole batch at once, else one event at a time.
        let deliverBatch = { @Sendable (request: EventsV1.DeliverEventsRequest, context: ServerContext) throws -> EventsV1.DeliverEventsResponse in
            var response = EventsV1.DeliverEventsResponse()
            do {
                response = try applyTogether([request])[0]
            } catch {
                guard request.events.count > 1 else {
                    // A single event: its transaction was the one-by-one attempt already.
                    guard request.partial, let only = request.events.first else { throw error }
                    recordFailure(0, only, error, &response)
                    return response
                }
                // One at a time: whatever can be applied is, the failing events are reported
                // (partial) or the first failure is returned.
                return try deliverOneByOne(request, context)
            }
            notify(response)
            return response
        }
        // SQLite has one writer: concurrent deliveries would only queue for it, one transaction
        // and commit each. They are applied together instead (``DeliveryGroupCommit``); on
        // PostgreSQL they keep running side by side on their own connections, unless the
        // consumer has a gather window (it then prefers fewer, larger transactions there too).
        guard database.engine == .sqlite || gatherWindow > 0 else {
            router.register(EventsV1.EventSink.deliver) { request, context in
                try context.checkCancellation()
                return try deliverBatch(request, context)
            }
            return
        }
        let groups = DeliveryGroupCommit<EventsV1.DeliverEventsRequest, EventsV1.DeliverEventsResponse>(
            gather: gatherWindow, gatherEvents: gatherEvents)
        let applyGroup = { @Sendable (requests: [EventsV1.DeliverEventsRequest]) throws -> [EventsV1.DeliverEventsResponse] in
            let responses = try applyTogether(requests)
            for response in responses { notify(response) }
            return responses
        }
        router.register(EventsV1.EventSink.deliver) { request, context in
            try context.checkCancellation()
            return try groups.run(request, events: request.events.count, group: applyGroup) { try deliverBatch($0, context) }
        }
    }
}

/// An event's outbox rows without the event's encoding and time
/// (``EventPublisher/prepareOutboxEvents(_:key:accessLevel:requestID:id:)``).
public struct PreparedOutboxEvents: Sendable {
    let type: String
    /// The envelope's fields before the time and the payload (id, type, key, source), encoded.
    let head: [UInt8]
    /// The envelope's fields after the payload (access level, request id), encoded.
    let tail: [UInt8]
    /// Each subscriber's row id and key, and whether it is a watcher (its row without payload).
    let rows: [(id: String, key: String, light: Bool)]
}

/// Pieces of the protobuf wire format, for code that joins encoded parts of a message.
public enum ProtoWire {
    /// Wire type of varint fields (integers, enums, booleans).
    public static let varint: UInt64 = 0
    /// Wire type of length-delimited fields (strings, bytes, messages).
    public static let lengthDelimited: UInt64 = 2

    /// Appends field `number`'s key for wire type `wireType`.
    @inlinable
    public static func appendKey(_ number: UInt64, _ wireType: UInt64, to bytes: inout [UInt8]) {
        appendVarint(number << 3 | wireType, to: &bytes)
    }

    /// Appends `value` as a base-128 varint.
    @inlinable
    public static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}
