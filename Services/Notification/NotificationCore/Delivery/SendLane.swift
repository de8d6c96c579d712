import CCurl
import Foundation

/// How a lane's delivery begins: a transfer to run, or an outcome known without one.
enum LaneStart {
    /// Run this transfer; its outcome goes to the lane's `finish`.
    case transfer(CurlTransfer)
    /// Nothing to send (e.g. a removed webhook): this outcome goes to `finish` at once.
    case finished(SendOutcome)
    /// Not sent and already handed back by the caller (the claim is no longer certain).
    case released
}

/// The sends of one channel to one destination host, on a thread of its own, so a slow or dead
/// peer holds up only its own lane. The thread runs up to `concurrency` transfers at once with a
/// libcurl multi handle (one `poll` for all of their sockets; each transfer on its own easy
/// handle, the connections kept and reused): while a message waits for the relay's answer the
/// others move on, and one wake-up of the thread serves the answers of several connections. The
/// lane's queue holds deliveries already claimed in the database (in batches, by the
/// dispatcher); the lane only sends, and hands each result on.
final class SendLane: @unchecked Sendable {
    let name: String
    private let condition = NSCondition()
    // Guarded by condition.
    private var queue: [ClaimedDelivery] = []
    private var head = 0
    private var running = true
    /// Deliveries taken from the queue and not finished yet (being started or in transfer).
    private var busy = 0
    private var askedForMore = false
    private let finished = DispatchGroup()
    private let multi: CurlMulti

    private let concurrency: Int
    private let lowWater: Int
    private let refill: @Sendable () -> Void
    /// Called when the lane has nothing queued or in flight.
    private let idle: @Sendable () -> Void
    private let start: @Sendable (ClaimedDelivery, CurlEasy) -> LaneStart
    private let finish: @Sendable (ClaimedDelivery, SendOutcome, _ nanoseconds: Int) -> Void

    /// - Parameters:
    ///   - concurrency: transfers (connections) at once.
    ///   - lowWater: when the queue drains to this many, `refill` is called (once per drain).
    ///   - refill: asks the dispatcher for more due deliveries.
    ///   - idle: called when the lane has nothing queued or in flight (the recorder writes at once).
    ///   - start: sets up the send of one claimed delivery on the given handle.
    ///   - finish: receives each delivery's outcome and how long its transfer took.
    init(name: String, concurrency: Int, lowWater: Int, refill: @escaping @Sendable () -> Void,
         idle: @escaping @Sendable () -> Void = {}, start: @escaping @Sendable (ClaimedDelivery, CurlEasy) -> LaneStart,
         finish: @escaping @Sendable (ClaimedDelivery, SendOutcome, Int) -> Void) {
        self.name = name
        self.concurrency = max(1, concurrency)
        self.lowWater = lowWater
        self.refill = refill
        self.idle = idle
        self.start = start
        self.finish = finish
        multi = CurlMulti(connections: self.concurrency)
        finished.enter()
        let thread = Thread { [self] in
            self.run()
            self.finished.leave()
        }
        thread.name = "notify \(name)"
        thread.start()
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
        condition.unlock()
        multi.wakeup()
    }

    /// A transfer being run: its delivery, when it started.
    private struct Running {
        let claimed: ClaimedDelivery
        let transfer: CurlTransfer
        let started: UInt64
    }

    private func run() {
        var free = (0..<concurrency).map { _ in CurlEasy() }
        var active: [UnsafeMutableRawPointer: Running] = [:]
        while true {
            let measuring = DeliveryDispatcher.timing.measuring.load(ordering: .relaxed)
            let cpu0 = measuring ? ThreadCPU.nanoseconds() : 0
            // Take what the free handles can start.
            condition.lock()
            let stopping = !running
            let take = stopping ? 0 : min(free.count, queue.count - head)
            let taken = Array(queue[head..<head + take])
            head += take
            busy += take
            let askForMore = take > 0 && !askedForMore && queue.count - head <= lowWater
            if askForMore { askedForMore = true }
            condition.unlock()
            if stopping {
                // The transfers in progress end now: a last pass lets those already answered
                // finish; the others are aborted (taken out of the multi handle) and recorded as
                // transient failures, sent again later.
                multi.perform()
                complete(multi.ended(), &active, &free)
                for (_, running) in active {
                    multi.remove(running.transfer.curl)
                    complete(running, code: CURLE_ABORTED_BY_CALLBACK)
                }
                return
            }
            if askForMore { refill() }
            for claimed in taken {
                let curl = free.removeLast()
                switch start(claimed, curl) {
                case .transfer(let transfer):
                    let running = Running(claimed: claimed, transfer: transfer, started: DispatchTime.now().uptimeNanoseconds)
                    if multi.add(curl) {
                        active[curl.handle] = running
                    } else {
                        free.append(curl)
                        complete(running, code: CURLE_FAILED_INIT)
                    }
                case .finished(let outcome):
                    free.append(curl)
                    finish(claimed, outcome, 0)
                    done()
                case .released:
                    free.append(curl)
                    done()
                }
            }
            if !active.isEmpty {
                multi.perform()
                complete(multi.ended(), &active, &free)
            }
            if measuring { DeliveryDispatcher.timing.laneCPU.add(ThreadCPU.nanoseconds() - cpu0, ordering: .relaxed) }
            // Wait unless a free handle has queued work; enqueue and stop wake the wait.
            condition.lock()
            let startable = running && !free.isEmpty && head < queue.count
            condition.unlock()
            if !startable { multi.wait(milliseconds: 1_000) }
        }
    }

    private func complete(_ ended: [(handle: UnsafeMutableRawPointer, code: CURLcode)], _ active: inout [UnsafeMutableRawPointer: Running],
                          _ free: inout [CurlEasy]) {
        for (handle, code) in ended {
            guard let running = active.removeValue(forKey: handle) else { continue }
            running.transfer.ended(code)
            multi.remove(running.transfer.curl)
            free.append(running.transfer.curl)
            complete(running, code: code)
        }
    }

    private func complete(_ running: Running, code: CURLcode) {
        let outcome = running.transfer.complete(code)
        finish(running.claimed, outcome, Int(DispatchTime.now().uptimeNanoseconds - running.started))
        done()
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
        condition.lock()
        running = false
        let left = Array(queue[head...])
        queue.removeAll()
        head = 0
        condition.unlock()
        multi.wakeup()
        finished.wait()
        return left
    }
}
