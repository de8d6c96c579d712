import Foundation

/// A background thread that runs a pass at once and then every `interval` until stopped
/// (``wake()`` runs the next pass early): the timer of the delivery log pruner and the bounce
/// mailbox poller.
final class TimerThread: @unchecked Sendable {
    let name: String
    let interval: TimeInterval
    private let condition = NSCondition()
    private var running = false  // guarded by condition
    private var woken = false  // guarded by condition
    private let finished = DispatchGroup()

    init(name: String, interval: TimeInterval) {
        self.name = name
        self.interval = interval
    }

    /// Starts the thread running `pass`.
    func start(_ pass: @escaping @Sendable () -> Void) {
        condition.withLock { running = true }
        finished.enter()
        let thread = Thread { [self] in
            while condition.withLock({ running }) {
                pass()
                condition.lock()
                if running && !woken {
                    _ = condition.wait(until: Date().addingTimeInterval(interval))
                }
                woken = false
                condition.unlock()
            }
            finished.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Runs the next pass now.
    func wake() {
        condition.withLock {
            woken = true
            condition.signal()
        }
    }

    /// Stops the thread and waits for its pass in progress.
    func stop() {
        condition.lock()
        let wasRunning = running
        running = false
        condition.broadcast()
        condition.unlock()
        if wasRunning { finished.wait() }
    }
}
