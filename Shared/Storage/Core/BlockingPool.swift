import Foundation

/// A bounded pool of connections with a blocking, time-limited ``acquire()``.
///
/// Connections are created lazily up to `capacity` and handed out most-recently-used first, so a
/// connection that just failed and is about to be repaired is the next one reused.
///
/// `@unchecked Sendable`: every mutable field is read and written only while holding `condition`.
final class BlockingPool<Resource: AnyObject>: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private let acquireTimeout: Duration
    private let make: () throws -> Resource
    private let destroy: (Resource) -> Void
    private var idle: [Resource] = []
    private var openCount = 0
    private var isClosed = false

    /// - Parameters:
    ///   - capacity: The most resources alive at once.
    ///   - acquireTimeout: How long ``acquire()`` waits for one to be released.
    ///   - make: Creates a resource (called without the lock held).
    ///   - destroy: Releases a resource's underlying handle.
    init(capacity: Int, acquireTimeout: Duration, make: @escaping () throws -> Resource,
         destroy: @escaping (Resource) -> Void) {
        self.capacity = capacity
        self.acquireTimeout = acquireTimeout
        self.make = make
        self.destroy = destroy
    }

    /// Takes an idle resource, creates one when below capacity, or waits for a release.
    /// - Throws: ``StorageError/Kind/timeout`` after `acquireTimeout`,
    ///   ``StorageError/Kind/closed`` once closed, or what `make` throws.
    func acquire() throws -> Resource {
        let deadline = Date(timeIntervalSinceNow: acquireTimeout.timeInterval)
        condition.lock()
        while true {
            if isClosed {
                condition.unlock()
                throw StorageError(.closed, "the database has been closed")
            }
            if let resource = idle.popLast() {
                condition.unlock()
                return resource
            }
            if openCount < capacity {
                openCount += 1
                condition.unlock()
                do {
                    return try make()
                } catch {
                    condition.lock()
                    openCount -= 1
                    condition.signal()
                    condition.unlock()
                    throw error
                }
            }
            if !condition.wait(until: deadline) {
                let open = openCount
                condition.unlock()
                throw StorageError(.timeout, "no connection became free within \(acquireTimeout) (pool of \(open)); raise poolSize or shorten transactions")
            }
        }
    }

    /// Returns a resource for reuse (or destroys it when the pool is closed).
    func release(_ resource: Resource) {
        condition.lock()
        if isClosed {
            openCount -= 1
            condition.unlock()
            destroy(resource)
            return
        }
        idle.append(resource)
        condition.signal()
        condition.unlock()
    }

    /// Destroys a resource that must not be reused and frees its slot.
    func discard(_ resource: Resource) {
        condition.lock()
        openCount -= 1
        condition.signal()
        condition.unlock()
        destroy(resource)
    }

    /// Runs `body` with an acquired resource and releases it afterwards.
    func withResource<T>(_ body: (Resource) throws -> T) throws -> T {
        let resource = try acquire()
        defer { release(resource) }
        return try body(resource)
    }

    /// Destroys idle resources now and busy ones when they are released; later acquires throw.
    func close() {
        condition.lock()
        isClosed = true
        let toDestroy = idle
        idle.removeAll()
        openCount -= toDestroy.count
        condition.broadcast()
        condition.unlock()
        toDestroy.forEach(destroy)
    }
}
