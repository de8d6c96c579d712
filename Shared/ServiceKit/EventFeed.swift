import Foundation
import Messages
import RPC
import RPCTransport
import Storage
import Synchronization

/// Broadcast of a service's events to watchers that keep no state worth an inbox (the gateway's
/// view cache): every open `EventFeed/Watch` stream, on every instance, gets every event the
/// instance's outbox relay hands over for the watcher's name.
///
/// How events get here: a watcher's name (e.g. `"gateway"`) is listed in
/// ``EventRouting/watchers``, so ``EventPublisher`` writes one outbox row for it in the change's
/// transaction like for any subscriber; the relay then hands that row to this feed in-process
/// (no RPC) instead of calling a subscriber. A watcher therefore opens one stream to **every**
/// instance of the publisher, since whichever instance's relay claims a row hands it to its own
/// streams only.
///
/// Each batch carries the age of the oldest row still waiting for the watcher's name in the
/// publisher's outbox, measured after the batch's events were taken, so a watcher can tell how
/// far behind it may be: every event committed more than that age before the batch was sent is
/// in this batch or an earlier one. Batches without events are sent as heartbeats.
/// Payloads are not sent: watchers learn the type, key, source and time of each event.
public final class EventFeed: Sendable {
    /// Milliseconds between heartbeats on each stream.
    public let heartbeatMilliseconds: Int
    /// Events queued for one slow stream before that stream is ended with `RESOURCE_EXHAUSTED`
    /// (the watcher then knows it missed events).
    public let queueLimit: Int
    private let watchers = Mutex<[UInt64: Watcher]>([:])
    private let nextID = Atomic<UInt64>(0)
    private let closed = Atomic<Bool>(false)

    public init(heartbeatMilliseconds: Int = 500, queueLimit: Int = 20_000) {
        self.heartbeatMilliseconds = max(10, heartbeatMilliseconds)
        self.queueLimit = max(1, queueLimit)
    }

    /// Streams currently open.
    public var watcherCount: Int { watchers.withLock { $0.count } }

    /// Hands `envelope` (without its payload) to every open stream of `subscriber`.
    public func hand(subscriber: String, envelope: EventsV1.EventEnvelope) {
        var light = envelope
        light.payload = []
        let targets = watchers.withLock { all in all.values.filter { $0.subscriber == subscriber } }
        for watcher in targets { watcher.push(light, limit: queueLimit) }
    }

    /// Ends every open stream (with OK) and refuses new ones: called when the service stops, so
    /// that long-lived streams do not hold the server's drain for its whole grace period.
    public func close() {
        closed.store(true, ordering: .releasing)
        for watcher in watchers.withLock({ Array($0.values) }) { watcher.wake() }
    }

    /// Serves one `Watch` stream until the caller cancels, the deadline passes or the stream
    /// falls `queueLimit` events behind.
    /// - Parameter pendingAge: milliseconds the oldest outbox row for the subscriber has waited (0 when none).
    public func serve(subscriber: String, writer: ResponseWriter<EventsV1.WatchEventsBatch>, context: ServerContext,
                      pendingAge: () throws -> Int64) throws {
        guard !subscriber.isEmpty else {
            throw RPCError(.invalidArgument, "informe o assinante / subscriber is required")
        }
        guard !closed.load(ordering: .acquiring) else {
            throw RPCError(.unavailable, "serviço encerrando / service is stopping")
        }
        let watcher = Watcher(subscriber: subscriber)
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        watchers.withLock { $0[id] = watcher }
        defer { watchers.withLock { _ = $0.removeValue(forKey: id) } }
        var first = true
        while true {
            try context.checkCancellation()
            if !first { watcher.waitForEvents(milliseconds: heartbeatMilliseconds) }
            first = false
            if closed.load(ordering: .acquiring) { return }
            // The age first, then the events: an event no longer in the outbox when the age was
            // measured was handed over before, so it is in this batch or an earlier one.
            let age = try pendingAge()
            let (events, overflowed) = watcher.drain()
            if overflowed {
                throw RPCError(.resourceExhausted, "observador atrasado demais / watcher fell too far behind")
            }
            var batch = EventsV1.WatchEventsBatch()
            batch.events = events
            batch.oldestPendingAgeMs = age
            batch.heartbeatMs = Int32(heartbeatMilliseconds)
            try writer.send(batch)
        }
    }

    /// One open stream's queue.
    final class Watcher: @unchecked Sendable {
        let subscriber: String
        private let condition = NSCondition()
        // Guarded by condition.
        private var queue: [EventsV1.EventEnvelope] = []
        private var overflowed = false
        private var woken = false

        init(subscriber: String) { self.subscriber = subscriber }

        func wake() {
            condition.lock()
            woken = true
            condition.signal()
            condition.unlock()
        }

        func push(_ envelope: EventsV1.EventEnvelope, limit: Int) {
            condition.lock()
            if queue.count >= limit { overflowed = true } else { queue.append(envelope) }
            condition.signal()
            condition.unlock()
        }

        func waitForEvents(milliseconds: Int) {
            condition.lock()
            let deadline = Date(timeIntervalSinceNow: Double(milliseconds) / 1000)
            while queue.isEmpty && !overflowed && !woken {
                if !condition.wait(until: deadline) { break }
            }
            condition.unlock()
        }

        func drain() -> ([EventsV1.EventEnvelope], Bool) {
            condition.lock()
            defer { condition.unlock() }
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            return (taken, overflowed)
        }
    }
}

extension ServiceMain {
    /// `EventFeed/Watch`, answered by every service (see ``EventFeed``).
    static func registerEventFeed(in router: inout RPCRouter, runtime: ServiceRuntime) {
        let feed = runtime.eventFeed
        let database = runtime.database
        router.registerStreaming(EventsV1.EventFeed.watch) { requests, writer, context in
            guard let request = try requests.receive() else { return nil }
            let subscriber = request.subscriber
            try feed.serve(subscriber: subscriber, writer: writer, context: context) {
                guard let oldest = try database.read({ tx in try Outbox.oldestCreatedAt(tx, destination: subscriber) }) else { return 0 }
                return max(0, Int64(Date().timeIntervalSince1970 * 1000) - oldest)
            }
            return nil
        }
    }
}
