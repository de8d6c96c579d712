import Foundation

/// The sends of one channel to one destination host, on threads of their own, so a slow or dead
/// peer holds up only its own lane. Each thread keeps a libcurl handle (and its connection).
/// The lane's queue holds deliveries already claimed in the database (in batches, by the
/// dispatcher); threads only send, and hand each result to the recorder.
final class SendLane: @unchecked Sendable {
    let name: String
    private let condition = NSCondition()
    // Guarded by condition.
    private var queue: [ClaimedDelivery] = []
    private var head = 0
    private var running = true
    private var busy = 0
    private var askedForMore = false
    private let finished = DispatchGroup()
    private let cancellation = CurlCancellation()

    private let lowWater: Int
    private let refill: @Sendable () -> Void
    /// Called when the lane has nothing queued or in flight.
    private let idle: @Sendable () -> Void

    /// - Parameters:
    ///   - lowWater: when the queue drains to this many, `refill` is called (once per drain).
    ///   - refill: asks the dispatcher for more due deliveries.
    ///   - idle: called when the lane has nothing queued or in flight (the recorder writes at once).
    ///   - work: sends one claimed delivery with the thread's handle.
    init(name: String, concurrency: Int, lowWater: Int, refill: @escaping @Sendable () -> Void,
         idle: @escaping @Sendable () -> Void = {}, work: @escaping @Sendable (ClaimedDelivery, CurlEasy) -> Void) {
        self.name = name
        self.lowWater = lowWater
        self.refill = refill
        self.idle = idle
        for index in 0..<concurrency {
            finished.enter()
            let thread = Thread { [self] in
                let curl = CurlEasy(cancellation: self.cancellation)
                while let claimed = self.next() {
                    work(claimed, curl)
                    self.done()
                }
                self.finished.leave()
            }
            thread.name = "notify \(name) #\(index)"
            thread.start()
        }
    }

    /// Deliveries waiting or being sent in this lane.
    var pending: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count - head + busy
    }

    func enqueue(_ claimed: [ClaimedDelivery]) {
        guard !claimed.isEmpty else { return }
        condition.lock()
        if head > 0 {
            queue.removeFirst(head)
            head = 0
        }
        queue.append(contentsOf: claimed)
        askedForMore = false
        condition.broadcast()
        condition.unlock()
    }

    private func next() -> ClaimedDelivery? {
        condition.lock()
        while running && head == queue.count { condition.wait() }
        guard running else {
            condition.unlock()
            return nil
        }
        busy += 1
        let claimed = queue[head]
        head += 1
        let askForMore = !askedForMore && queue.count - head <= lowWater
        if askForMore { askedForMore = true }
        condition.unlock()
        if askForMore { refill() }
        return claimed
    }

    private func done() {
        condition.lock()
        busy -= 1
        let isIdle = busy == 0 && head == queue.count
        condition.unlock()
        if isIdle { idle() }
    }

    /// Stops taking work, aborts sends in progress (they are recorded as transient failures and
    /// retried later) and waits for them.
    /// - Returns: the claimed deliveries that were never started, for the caller to release.
    func stop() -> [ClaimedDelivery] {
        cancellation.cancel()
        condition.lock()
        running = false
        let left = Array(queue[head...])
        queue.removeAll()
        head = 0
        condition.broadcast()
        condition.unlock()
        finished.wait()
        return left
    }
}
