import CSystem
import Foundation

/// Something an ``EventLoop`` watches: told about readiness of its file descriptor.
protocol EventLoopSource: AnyObject {
    /// Called on the loop thread with the epoll event bits.
    func handleEvents(_ events: UInt32)
}

/// One thread running `epoll_wait`: readiness callbacks, tasks submitted from other threads (woken
/// through an eventfd) and a periodic tick for timeouts. Sources are only touched on this thread.
final class EventLoop: @unchecked Sendable {
    let name: String
    private let epollFD: Int32
    private let wakeFD: Int32
    private var thread: Thread?
    private let tasksLock = ConditionLock()
    // Guarded by tasksLock.
    private var tasks: [() -> Void] = []
    private var stopRequested = false
    // Loop-thread state.
    private var sources: [UInt64: any EventLoopSource] = [:]
    private var nextToken: UInt64 = 1
    private let tickIntervalMilliseconds: Int32
    private var onTick: (() -> Void)?
    private let finished = ConditionLock()
    private var isFinished = false

    init(name: String, tickIntervalMilliseconds: Int32 = 10) {
        self.name = name
        self.tickIntervalMilliseconds = tickIntervalMilliseconds
        epollFD = csystem_epoll_create()
        wakeFD = csystem_eventfd()
        precondition(epollFD >= 0 && wakeFD >= 0, "epoll/eventfd unavailable")
        _ = csystem_epoll_ctl(epollFD, 0, wakeFD, csystem_epollin, 0)
    }

    deinit {
        close(epollFD)
        close(wakeFD)
    }

    /// Sets the function called on the loop thread about every tick interval.
    func setTick(_ body: @escaping () -> Void) { onTick = body }

    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    /// Runs `task` on the loop thread, soon.
    func execute(_ task: @escaping () -> Void) {
        tasksLock.lock()
        let wasEmpty = tasks.isEmpty
        tasks.append(task)
        tasksLock.unlock()
        if wasEmpty { _ = csystem_eventfd_signal(wakeFD) }
    }

    /// Asks the loop to stop after the current iteration and waits for it.
    func stopAndWait() {
        tasksLock.withLock { stopRequested = true }
        _ = csystem_eventfd_signal(wakeFD)
        finished.withLock {
            while !isFinished { finished.wait() }
        }
    }

    // MARK: loop thread only

    /// Registers `source` for `events` on `fd`; returns its token.
    @discardableResult
    func register(_ source: any EventLoopSource, fd: Int32, events: UInt32) -> UInt64 {
        let token = nextToken
        nextToken += 1
        sources[token] = source
        _ = csystem_epoll_ctl(epollFD, 0, fd, events, token)
        return token
    }

    /// Changes the events watched for `fd`. Safe from any thread (epoll_ctl is).
    func modify(fd: Int32, token: UInt64, events: UInt32) {
        _ = csystem_epoll_ctl(epollFD, 1, fd, events, token)
    }

    func deregister(fd: Int32, token: UInt64) {
        _ = csystem_epoll_ctl(epollFD, 2, fd, 0, token)
        sources[token] = nil
    }

    private func run() {
        var events = [csystem_event](repeating: csystem_event(), count: 128)
        var lastTick = MonotonicNanos.now()
        let tickNanos = UInt64(tickIntervalMilliseconds) * 1_000_000
        while true {
            let count = events.withUnsafeMutableBufferPointer {
                csystem_epoll_wait(epollFD, $0.baseAddress, Int32($0.count), tickIntervalMilliseconds)
            }
            if count > 0 {
                for i in 0..<Int(count) {
                    let event = events[i]
                    if event.token == 0 {
                        _ = csystem_eventfd_drain(wakeFD)
                        continue
                    }
                    sources[event.token]?.handleEvents(event.events)
                }
            }
            tasksLock.lock()
            let pending = tasks
            tasks.removeAll(keepingCapacity: true)
            let stop = stopRequested
            tasksLock.unlock()
            for task in pending { task() }
            let now = MonotonicNanos.now()
            if now &- lastTick >= tickNanos {
                lastTick = now
                onTick?()
            }
            if stop { break }
        }
        sources.removeAll()
        onTick = nil
        finished.withLock { isFinished = true }
        finished.broadcast()
    }
}

enum MonotonicNanos {
    @inline(__always) static func now() -> UInt64 { csystem_monotonic_ns() }
}
