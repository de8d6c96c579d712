import Foundation
import RPC
import RPCTransport
import Testing

/// The hand-off of an RPC's answer from a connection's reader thread to the calling thread.
@Suite struct OneShotResultTests {
    @Test("a value delivered before anyone waits is there at once; only the first delivery counts")
    func deliveredFirst() {
        let result = OneShotResult<Int>()
        #expect(!result.isCompleted)
        #expect(result.complete(1))
        #expect(!result.complete(2))
        #expect(result.isCompleted)
        #expect(result.wait() == 1)
        #expect(result.wait(untilUptimeNanoseconds: 0) == 1)
    }

    @Test("a waiting thread wakes when another thread delivers; every waiter gets the value")
    func wakesWaiters() {
        for _ in 0..<200 {
            let result = OneShotResult<[UInt8]>()
            // What each waiting thread saw, handed back the same way.
            let observed = (0..<3).map { _ in OneShotResult<[UInt8]>() }
            for seen in observed { Thread { seen.complete(result.wait() ?? []) }.start() }
            Thread { result.complete([7, 8, 9]) }.start()
            for seen in observed { #expect(seen.wait() == [7, 8, 9]) }
        }
    }

    @Test("a deadline that passes first gives nil; the value delivered later is still there")
    func deadline() {
        let result = OneShotResult<String>()
        let start = MonotonicClock.nanoseconds()
        #expect(result.wait(untilUptimeNanoseconds: start + 20_000_000) == nil)
        #expect(MonotonicClock.nanoseconds() - start >= 20_000_000)
        #expect(result.wait(untilUptimeNanoseconds: 0) == nil)
        result.complete("tarde")
        #expect(result.wait(untilUptimeNanoseconds: start) == "tarde")
    }
}
