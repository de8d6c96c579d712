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

    init(name: String, concurrency: Int, work: @escaping @Sendable (String, CurlEasy) -> Void) {
        self.name = name
        for index in 0..<concurrency {
            finished.enter()
            let thread = Thread { [self] in
                let curl = CurlEasy()
                while let id = self.next() {
                    work(id, curl)
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
        defer { condition.unlock() }
        while running && queue.isEmpty { condition.wait() }
        guard running else { return nil }
        busy += 1
        return queue.removeFirst()
    }

    private func done() {
        condition.lock()
        busy -= 1
        condition.unlock()
    }

    /// Stops taking work and waits for sends in progress.
    func stop() {
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }
}
