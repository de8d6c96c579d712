import Foundation

/// A fixed set of threads running blocking work (database calls, calls to other services), so
/// blocking never starves an event loop or Swift's cooperative pool.
public final class WorkerPool: @unchecked Sendable {
    private let condition = ConditionLock()
    // Guarded by `condition`.
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private var stopping = false
    private var threads: [Thread] = []
    private let exited = ConditionLock()
    private var running = 0

    /// Starts `threads` workers named `name-N`.
    public init(name: String, threads count: Int) {
        for index in 0..<max(1, count) {
            let thread = Thread { [self] in self.run() }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 1 << 20
            threads.append(thread)
        }
        running = threads.count
        for thread in threads { thread.start() }
    }

    /// Queues `work`; it runs on one of the pool's threads.
    public func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        condition.unlock()
        condition.signal()
    }

    /// Jobs waiting for a thread.
    public var queuedCount: Int { condition.withLock { queue.count - head } }

    /// Lets queued work finish, then stops the threads and waits for them.
    public func shutdown() {
        condition.withLock { stopping = true }
        condition.broadcast()
        exited.withLock {
            while running > 0 { exited.wait() }
        }
    }

    private func run() {
        while true {
            condition.lock()
            while head == queue.count && !stopping { condition.wait() }
            if head == queue.count {
                condition.unlock()
                break
            }
            let work = queue[head]
            head += 1
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            condition.unlock()
            work()
        }
        exited.withLock { running -= 1 }
        exited.broadcast()
    }
}
