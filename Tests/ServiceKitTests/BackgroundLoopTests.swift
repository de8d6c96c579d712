import Foundation
import RPCTransport
import ServiceKit
import Testing

/// The background loop every poller, sweep and sender runs on: `stop()` must end a long sleep at
/// once and return only after the loop's body has finished (a service's shutdown waits for its
/// work in progress); `wake()` runs the next pass without waiting out the interval.
@Suite("background loop")
struct BackgroundLoopTests {
    /// Counts passes; lets the test wait for the n-th.
    final class Passes: @unchecked Sendable {
        private let lock = ConditionLock()
        private var count = 0  // guarded by lock

        func record() {
            lock.withLock {
                count += 1
                lock.broadcast()
            }
        }

        var value: Int { lock.withLock { count } }

        /// Waits up to 10 s for `n` passes; returns whether they happened.
        func wait(for n: Int) -> Bool {
            let deadline = DispatchTime.now().uptimeNanoseconds + 10_000_000_000
            return lock.withLock {
                while count < n && DispatchTime.now().uptimeNanoseconds < deadline {
                    _ = lock.wait(untilUptimeNanoseconds: deadline)
                }
                return count >= n
            }
        }
    }

    @Test("a pass runs at once, wake() runs the next one before the hour-long interval, stop() ends the sleep")
    func wakeAndStop() {
        let loop = BackgroundLoop(name: "test-loop")
        let passes = Passes()
        loop.start(every: 3_600) { passes.record() }
        #expect(passes.wait(for: 1))
        loop.wake()
        #expect(passes.wait(for: 2))
        let started = DispatchTime.now().uptimeNanoseconds
        loop.stop()
        #expect(DispatchTime.now().uptimeNanoseconds - started < 5_000_000_000)
        #expect(passes.value == 2)
    }

    @Test("stop() waits for the pass in progress; stopping a loop never started returns at once")
    func stopWaitsForTheBody() {
        BackgroundLoop(name: "never-started").stop()
        let loop = BackgroundLoop(name: "test-loop")
        let entered = Passes()
        let finished = Passes()
        loop.start { loop in
            entered.record()
            // A long pass that checks isStopping between steps, as a sender does.
            while !loop.isStopping { usleep(1_000) }
            usleep(50_000)
            finished.record()
        }
        #expect(entered.wait(for: 1))
        loop.stop()
        #expect(finished.value == 1)
    }
}
