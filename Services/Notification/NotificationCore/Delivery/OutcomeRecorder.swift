import Foundation

/// Writes the results of sends on a thread of its own, many per transaction: send threads hand
/// over a result and go on with the next message, so the database's commit is not between two
/// sends on a connection.
final class OutcomeRecorder: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by condition.
    private var pending: [(ClaimedDelivery, ClaimResult)] = []
    private var running = true
    /// Results of the batch being written (0 when none is).
    private var writing = 0
    /// Set when no send is in flight any more: a lingering batch is written at once.
    private var flushRequested = false
    private let finished = DispatchGroup()
    private let maxBatch: Int
    private let linger: TimeInterval
    private let idleLinger: TimeInterval
    /// Results waiting when the lanes go idle from which the batch is written at once.
    static let burstEnd = 16
    private let write: @Sendable ([(ClaimedDelivery, ClaimResult)]) -> Bool
    private let abandon: @Sendable ([(ClaimedDelivery, ClaimResult)]) -> Void
    private let batchDone: @Sendable () -> Void

    /// - Parameters:
    ///   - maxBatch: the most results written in one transaction.
    ///   - linger: how long a short batch waits for more results before it is written (unless
    ///     ``flush()`` says no send is in flight): a transaction's fixed cost (begin, commit, WAL
    ///     frames of the pages it touched) is then shared by tens of results instead of a few
    ///     while sends complete one every half millisecond.
    ///   - idleLinger: how long a short batch waits once the lanes went idle (``flush()``).
    ///   - write: writes a batch in one transaction; false when it failed (retried a few times).
    ///   - abandon: called with a batch that could not be written (its leases will expire and
    ///     the deliveries be taken over).
    ///   - written: called after each batch left the queue (written or abandoned), with the
    ///     queue's ``backlog`` already reduced by it.
    init(maxBatch: Int = 256, linger: TimeInterval = 0.02, idleLinger: TimeInterval = 0.01, write: @escaping @Sendable ([(ClaimedDelivery, ClaimResult)]) -> Bool,
         abandon: @escaping @Sendable ([(ClaimedDelivery, ClaimResult)]) -> Void, written: @escaping @Sendable () -> Void = {}) {
        self.maxBatch = maxBatch
        self.linger = linger
        self.idleLinger = idleLinger
        self.write = write
        self.abandon = abandon
        self.batchDone = written
        finished.enter()
        let thread = Thread { [self] in
            self.loop()
            self.finished.leave()
        }
        thread.name = "notify recorder"
        thread.start()
    }

    func add(_ claimed: ClaimedDelivery, _ result: ClaimResult) {
        condition.lock()
        pending.append((claimed, result))
        // Wake the writer for the first result, and when a lingering batch is full enough.
        if pending.count == 1 || pending.count >= maxBatch / 2 { condition.signal() }
        condition.unlock()
    }

    func add(_ batch: [(ClaimedDelivery, ClaimResult)]) {
        guard !batch.isEmpty else { return }
        condition.lock()
        pending.append(contentsOf: batch)
        condition.signal()
        condition.unlock()
    }

    /// The lanes went idle: what is pending is written at once when it is the end of a burst,
    /// else after at most the idle linger (results come one at a time, so waiting longer would
    /// only delay the record).
    func flush() {
        condition.lock()
        if !pending.isEmpty && !flushRequested {
            flushRequested = true
            condition.signal()
        }
        condition.unlock()
    }

    /// Results waiting or being written: the dispatcher claims no more deliveries while this
    /// is at its limit, so a database that records outcomes slower than the relay accepts
    /// messages holds back the sends instead of growing this queue.
    var backlog: Int {
        condition.lock()
        defer { condition.unlock() }
        return pending.count + writing
    }

    private func loop() {
        while true {
            condition.lock()
            while running && pending.isEmpty { condition.wait() }
            if pending.isEmpty {
                condition.unlock()
                return
            }
            if running && linger > 0 && pending.count < maxBatch / 2 {
                // Sends in flight: up to `linger` for more results. Lanes idle (``flush()``):
                // the end of a burst (16 results or more waiting) is written at once; a few
                // results wait up to `idleLinger` from the first, so those of a steady trickle
                // of events (one send at a time, the lanes idle between them) still share a
                // transaction instead of paying one each.
                let start = Date()
                let until = start.addingTimeInterval(linger), idleUntil = start.addingTimeInterval(min(linger, idleLinger))
                while running && pending.count < maxBatch / 2 && !(flushRequested && pending.count >= Self.burstEnd)
                        && condition.wait(until: flushRequested ? idleUntil : until) {}
            }
            flushRequested = false
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            writing = batch.count
            condition.unlock()
            var tries = 0
            var written = write(batch)
            while !written && tries < 5 {
                tries += 1
                usleep(UInt32(100_000 * tries))
                written = write(batch)
            }
            if !written { abandon(batch) }
            condition.lock()
            writing = 0
            condition.broadcast()
            condition.unlock()
            batchDone()
        }
    }

    /// Writes what is pending, then stops.
    func stop() {
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }
}
