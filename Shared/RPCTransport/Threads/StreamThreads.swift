import Foundation
import Synchronization

/// Threads for streaming handlers, one each, at most ``limit`` at once.
///
/// A streaming handler waits on its peer for as long as the call lasts (up to the deadline
/// ceiling, 10 minutes): for the next request of an upload or a bidirectional stream, for the
/// window of a download the peer does not read. On the server's fixed ``WorkerPool`` a handful of
/// such calls — idle echo streams, downloads nobody reads, the gateway's event feeds — held every
/// worker, and no unary call of the service ran until they ended. Here they wait on threads of
/// their own; the pool stays for unary work. ``limit`` bounds them (each thread is a stack), and a
/// stream over it is refused rather than queued.
final class StreamThreads: Sendable {
    let limit: Int
    private let name: String
    private let running = Atomic<Int>(0)

    init(name: String, limit: Int) {
        self.name = name
        self.limit = max(1, limit)
    }

    /// Streaming handlers running now.
    var count: Int { running.load(ordering: .relaxed) }

    /// Runs `work` on a new thread; false (and nothing runs) when ``limit`` handlers run already.
    func start(_ work: @escaping @Sendable () -> Void) -> Bool {
        guard running.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            running.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        let thread = Thread { [self] in
            work()
            running.wrappingSubtract(1, ordering: .relaxed)
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
        return true
    }
}
