import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import Synchronization

/// Keeps a ``ViewCache`` correct across gateway instances: one `EventFeed/Watch` stream (as
/// watcher `gateway`) to **every** instance of intake and workflow, each on a thread of its own.
/// Every event's key (the ticket id) is invalidated when its batch arrives. Other consumers of
/// the events (``RepresentativeDirectory``, ``ContactSignInFollower``) get them through
/// `onEvent` and `onOpen`; for them the feed runs with the view cache disabled too (then to
/// intake only).
///
/// The cache may be used only while ``isHealthy(now:)``: every stream is open, its last batch
/// arrived less than `silenceMilliseconds` ago, and that batch reported that no event for the
/// gateway had waited in the publisher's outbox for `maxLagMilliseconds` or more. A stream that
/// opens (again) empties the cache first, since events may have been missed while it was down;
/// one that closes empties it too. A silent stream is cancelled and opened again.
public final class ViewCacheFeed: @unchecked Sendable {
    /// One stream to one service instance.
    final class Link: @unchecked Sendable {
        let service: String
        let endpoint: Endpoint
        let connected = Atomic<Bool>(false)
        let lastBatchAt = Atomic<UInt64>(0)
        let lastLagMilliseconds = Atomic<Int64>(.max)
        let batches = Atomic<Int>(0)
        let lock = NSLock()
        // Guarded by lock.
        var stream: ResponseStream<EventsV1.WatchEventsBatch>?

        init(service: String, endpoint: Endpoint) {
            self.service = service
            self.endpoint = endpoint
        }

        func cancel() {
            let current = lock.withLock { stream }
            current?.cancel()
        }
    }

    let cache: ViewCache
    let links: [Link]
    let secret: DeploymentSecret
    let logger: Logger
    let silenceNanoseconds: UInt64
    let maxLagMilliseconds: Int64
    /// Called with every event, before the cache is invalidated for it (e.g. to drop other
    /// caches a directory event makes stale).
    let onEvent: (@Sendable (EventsV1.EventEnvelope) -> Void)?
    /// Called with the service's name when one of its streams opens (again), after its first
    /// batch: events handed over while it was closed were missed.
    let onOpen: (@Sendable (String) -> Void)?
    private let stopped = Atomic<Bool>(false)
    private let condition = NSCondition()
    private var threads: [Thread] = []
    private var running = 0  // guarded by condition

    /// - Parameters:
    ///   - services: service name → its instances' endpoints.
    ///   - onEvent: called with every event received, before the cache is invalidated for it.
    ///   - onOpen: called with the service's name when one of its streams opens (again).
    public init(cache: ViewCache, services: [(String, [Endpoint])], secret: DeploymentSecret, logger: Logger,
                silenceMilliseconds: Int, maxLagMilliseconds: Int,
                onEvent: (@Sendable (EventsV1.EventEnvelope) -> Void)? = nil, onOpen: (@Sendable (String) -> Void)? = nil) {
        self.cache = cache
        self.onEvent = onEvent
        self.onOpen = onOpen
        links = services.flatMap { service, endpoints in endpoints.map { Link(service: service, endpoint: $0) } }
        self.secret = secret
        self.logger = logger
        silenceNanoseconds = UInt64(max(1, silenceMilliseconds)) * 1_000_000
        self.maxLagMilliseconds = Int64(max(0, maxLagMilliseconds))
    }

    /// True when cached views may be served and stored.
    public func isHealthy(now: UInt64 = MonotonicClock.nanoseconds()) -> Bool {
        guard !links.isEmpty else { return false }
        for link in links {
            guard link.connected.load(ordering: .acquiring),
                  now &- link.lastBatchAt.load(ordering: .acquiring) <= silenceNanoseconds,
                  link.lastLagMilliseconds.load(ordering: .relaxed) < maxLagMilliseconds else { return false }
        }
        return true
    }

    /// Per stream: service, endpoint, open, milliseconds since its last batch, reported lag.
    public func linkStates(now: UInt64 = MonotonicClock.nanoseconds()) -> [(service: String, endpoint: String, connected: Bool, silenceMs: Double, lagMs: Int64)] {
        links.map { link in
            (link.service, link.endpoint.description, link.connected.load(ordering: .relaxed),
             Double(now &- link.lastBatchAt.load(ordering: .relaxed)) / 1e6, link.lastLagMilliseconds.load(ordering: .relaxed))
        }
    }

    /// Starts one thread per stream and a monitor for silent streams.
    public func start() {
        for link in links {
            let thread = Thread { [self] in self.run(link) }
            thread.name = "view-cache-\(link.service)"
            threads.append(thread)
        }
        let monitor = Thread { [self] in self.monitor() }
        monitor.name = "view-cache-monitor"
        threads.append(monitor)
        condition.withLock { running = threads.count }
        for thread in threads { thread.start() }
    }

    /// Stops the threads and waits for them.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for link in links { link.cancel() }
        condition.lock()
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: 5)
        while running > 0 { if !condition.wait(until: deadline) { break } }
        condition.unlock()
    }

    private func finished() {
        condition.withLock {
            running -= 1
            condition.broadcast()
        }
    }

    private func pause(milliseconds: Int) {
        condition.lock()
        let deadline = Date(timeIntervalSinceNow: Double(milliseconds) / 1000)
        while !stopped.load(ordering: .acquiring) {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }

    private func run(_ link: Link) {
        defer { finished() }
        let caching = cache.isEnabled
        var configuration = ClientConfiguration(endpoints: [link.endpoint], secret: secret)
        configuration.callerName = "gateway"
        configuration.maxAttempts = 1
        let client = RPCClient(configuration: configuration)
        defer { client.close() }
        var backoff = 100
        while !stopped.load(ordering: .acquiring) {
            var request = EventsV1.WatchEventsRequest()
            request.subscriber = "gateway"
            do {
                // An hour per stream; opening a new one empties the cache once.
                let stream = try client.serverStream(EventsV1.EventFeed.watch, request,
                                                     options: CallOptions(timeoutMilliseconds: 3_600_000))
                link.lock.withLock { link.stream = stream }
                if stopped.load(ordering: .acquiring) { stream.cancel() }
                var first = true
                while let batch = try stream.receive() {
                    let now = MonotonicClock.nanoseconds()
                    if first {
                        // Events may have been missed while the stream was down.
                        if caching { cache.invalidateAll(now: now) }
                        first = false
                        backoff = 100
                        logger.info("view cache feed open", ["peer.service": link.service, "address": link.endpoint.description])
                        onOpen?(link.service)
                    }
                    for event in batch.events {
                        onEvent?(event)
                        // Without a cache the feed runs for `onEvent` and `onOpen` only.
                        guard caching else { continue }
                        if Self.isKeyedByTicket(event) {
                            if !event.key.isEmpty { cache.invalidate(event.key, now: now) }
                        } else {
                            // A directory change (an organization's plan or fields, a contact, who a
                            // representative acts for, and any event not known to be about one
                            // ticket) may change many views or who may see them.
                            cache.invalidateAll(now: now)
                        }
                    }
                    // Any event may change a listing (a new ticket, a move, a reply).
                    if caching && !batch.events.isEmpty { cache.invalidate(ViewCache.listsKey, now: now) }
                    link.lastLagMilliseconds.store(batch.oldestPendingAgeMs, ordering: .relaxed)
                    link.lastBatchAt.store(now, ordering: .releasing)
                    link.connected.store(true, ordering: .releasing)
                    link.batches.wrappingAdd(1, ordering: .relaxed)
                }
            } catch {
                if !stopped.load(ordering: .acquiring) {
                    logger.info("view cache feed closed: \(error)", ["peer.service": link.service, "address": link.endpoint.description])
                }
            }
            let wasConnected = link.connected.exchange(false, ordering: .acquiringAndReleasing)
            link.lock.withLock { link.stream = nil }
            if wasConnected && caching { cache.invalidateAll() }
            pause(milliseconds: backoff)
            backoff = min(backoff * 2, 2_000)
        }
    }

    /// Intake's events about one ticket (keyed by its id); every workflow event is keyed by its
    /// ticket. Anything else empties the cache.
    static let intakeTicketEvents: Set<String> = [
        IntakeV1.TicketOpened.protoName, IntakeV1.CustomerReplied.protoName, IntakeV1.TicketCancelledByCustomer.protoName,
        IntakeV1.AttachmentAdded.protoName, IntakeV1.TicketContactChanged.protoName,
    ]

    static func isKeyedByTicket(_ event: EventsV1.EventEnvelope) -> Bool {
        event.source == "workflow" || intakeTicketEvents.contains(event.type)
    }

    /// Cancels streams that stayed silent for twice the allowed silence, so they reopen.
    private func monitor() {
        defer { finished() }
        while !stopped.load(ordering: .acquiring) {
            pause(milliseconds: 250)
            let now = MonotonicClock.nanoseconds()
            for link in links where link.connected.load(ordering: .acquiring)
                && now &- link.lastBatchAt.load(ordering: .acquiring) > 2 * silenceNanoseconds {
                logger.warning("view cache feed silent; reopening", ["peer.service": link.service, "address": link.endpoint.description])
                link.cancel()
            }
        }
    }
}
