/// Tuning for an ``OutboxRelay``.
public struct RelayConfiguration: Sendable {
    /// The most events claimed per round. Default 100.
    public var batchSize: Int
    /// How long the relay sleeps when nothing was ready (``OutboxRelay/wake()`` cuts it short).
    /// Default 200 ms.
    public var pollInterval: Duration
    /// The shortest time from the start of a round that found events to the start of the next
    /// one (``OutboxRelay/wake()`` cuts it short). A busy outbox is then claimed at most this
    /// often and each round carries what was published meanwhile — one call per destination
    /// with a relay delivering per destination — instead of a claim, a call and a settle for
    /// every few events. It delays an event by at most this much. Default 10 ms; 0: a round
    /// starts as soon as the previous one ended.
    public var roundInterval: Duration
    /// With a relay delivering per destination: a destination's events of a round are split by
    /// key into up to ``deliveryConcurrency`` calls made side by side, none smaller than this
    /// (so a round of 40 events for one destination with the default 8 is made of 5 calls of
    /// about 8 events). Default 8; a very large value: one call per destination and round.
    public var minimumCallSize: Int
    /// The delay before the first retry of a failed delivery; it doubles per failure up to
    /// ``backoffMax``, with jitter (a random value between half and all of it). Default 500 ms.
    public var backoffBase: Duration
    /// The longest delay between retries of one event. Default 10 s: a subscriber that was
    /// unreachable gets its backlog at most ~10 s after it is back (60 s stretched recovery after
    /// network cuts in the resilience runs, docs/RELIABILITY.md).
    public var backoffMax: Duration
    /// How long claimed events stay reserved for this relay. If the relay dies they become
    /// claimable by another one after this; it must be far longer than one delivery takes.
    /// The relay stops starting deliveries of a batch once 80% of it has passed. Default 30 s.
    public var leaseDuration: Duration
    /// How many keys of one batch are delivered at once (events of one key always one after the
    /// other, in order). Deliveries are RPCs to other services, so a relay delivering one event at
    /// a time caps a service's event rate at one round trip plus the consumer's transaction per
    /// event. Default 8; 1 delivers the whole batch in sequence.
    public var deliveryConcurrency: Int
    /// Recognises a delivery failure that only says the destination cannot be reached right now
    /// (refused connection, dropped connection, an instance restarting, a consumer asking to be
    /// called again). `nil` (the default) treats every failure alike.
    ///
    /// Such failures are retried after at most ``unreachableBackoffMax`` instead of backing off
    /// towards ``backoffMax``, and the rest of the round's events for the same destination are
    /// deferred the same way without being attempted. The destination of an event is the part of
    /// its key before the first `|` (the whole key when there is none). So once the destination
    /// answers again its backlog moves within about ``unreachableBackoffMax``, while a dead
    /// destination costs one fast failing call per round instead of one per waiting event.
    public var isUnreachable: (@Sendable (any Error) -> Bool)?
    /// The longest delay before retrying after an unreachable-destination failure, and after a
    /// failed claim of the polling loop (the database restarting). Default 1 s.
    public var unreachableBackoffMax: Duration

    /// PostgreSQL only: the relay runs `VACUUM storage_outbox` after it has deleted this many
    /// delivered events since its last one (and at most once a second). Every delivered event is
    /// a dead row until a vacuum, and autovacuum visits a database about once a minute: a busy
    /// outbox then accumulated over a hundred thousand dead rows and index entries, which every
    /// claim walked past (they sit before the oldest live row in `seq` order) and every scan
    /// of the table read. Default 2,000; 0: never (leave it to autovacuum). Ignored on SQLite,
    /// which frees deleted rows at once.
    public var vacuumAfterDeletes: Int

    /// Creates a configuration; every value has a default.
    public init(batchSize: Int = 100, pollInterval: Duration = .milliseconds(200), backoffBase: Duration = .milliseconds(500),
                backoffMax: Duration = .seconds(10), leaseDuration: Duration = .seconds(30), deliveryConcurrency: Int = 8,
                unreachableBackoffMax: Duration = .seconds(1), isUnreachable: (@Sendable (any Error) -> Bool)? = nil,
                roundInterval: Duration = .milliseconds(10), minimumCallSize: Int = 8, vacuumAfterDeletes: Int = 2_000) {
        self.vacuumAfterDeletes = max(0, vacuumAfterDeletes)
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
        self.leaseDuration = leaseDuration
        self.deliveryConcurrency = max(1, deliveryConcurrency)
        self.unreachableBackoffMax = unreachableBackoffMax
        self.isUnreachable = isUnreachable
        self.roundInterval = roundInterval
        self.minimumCallSize = max(1, minimumCallSize)
    }

    /// The retry delay after `attempts` failed deliveries, in milliseconds, with jitter; capped at
    /// ``unreachableBackoffMax`` when the destination was unreachable.
    func backoffMillis(afterAttempts attempts: Int, unreachable: Bool = false) -> Int64 {
        let longest = max(1, (unreachable ? min(backoffMax, unreachableBackoffMax) : backoffMax).wholeMilliseconds)
        let base = min(max(1, backoffBase.wholeMilliseconds), longest)
        let cap = max(base, longest)
        let exponent = min(max(attempts - 1, 0), 40)
        let ceiling = base > cap >> exponent ? cap : min(cap, base << exponent)
        return Int64.random(in: (ceiling / 2)...ceiling)
    }
}
