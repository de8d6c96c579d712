import Foundation

/// The sends of one channel to one destination host, on threads of their own, so a slow or dead
/// peer holds up only its own lane. Each thread keeps a libcurl handle (and its connection).
final class SendLane: @unchecked Sendable {
    let name: String
    private let condition = NSCondition()
    // Guarded by condition.
    private var queue: [String] = []
    private var running = true
    private var busy = 0
    private let finished = DispatchGroup()
    private let cancellation = CurlCancellation()

    private let lowWater: Int
    private let refill: @Sendable () -> Void

    /// - Parameters:
    ///   - lowWater: when the queue drains to this many, `refill` is called (once per drain).
    ///   - refill: asks the dispatcher for more due deliveries.
    init(name: String, concurrency: Int, lowWater: Int, refill: @escaping @Sendable () -> Void,
         work: @escaping @Sendable (String, CurlEasy, () -> String?) -> Void) {
        self.name = name
        self.lowWater = lowWater
        self.refill = refill
        for index in 0..<concurrency {
            finished.enter()
            let thread = Thread { [self] in
                let curl = CurlEasy(cancellation: self.cancellation)
                while let id = self.next() {
                    work(id, curl) { self.tryNext() }
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
        return queue.count + busy
    }

    func enqueue(_ ids: [String]) {
        guard !ids.isEmpty else { return }
        condition.lock()
        queue.append(contentsOf: ids)
        condition.broadcast()
        condition.unlock()
    }

    private func next() -> String? {
        condition.lock()
        while running && queue.isEmpty { condition.wait() }
        guard running else {
            condition.unlock()
            return nil
        }
        busy += 1
        let id = queue.removeFirst()
        let askForMore = queue.count == lowWater
        condition.unlock()
        if askForMore { refill() }
        return id
    }

    /// The next queued id without waiting (the caller is already counted as busy).
    private func tryNext() -> String? {
        condition.lock()
        guard running, !queue.isEmpty else {
            condition.unlock()
            return nil
        }
        let id = queue.removeFirst()
        let askForMore = queue.count == lowWater
        condition.unlock()
        if askForMore { refill() }
        return id
    }

    private func done() {
        condition.lock()
        busy -= 1
        condition.unlock()
    }

    /// Stops taking work, aborts sends in progress (they are retried later) and waits for them.
    func stop() {
        cancellation.cancel()
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }
}
