import Foundation

/// Fixed-window request counters per key (user, IP, API key).
///
/// Alone (SQLite, one instance) it counts in memory, each key's window starting at its first
/// request. With a ``SharedRateCounter`` (gateways sharing a PostgreSQL database) the limit holds
/// across instances: windows are aligned to the clock, and the limiter reserves `batch` requests
/// at a time in the shared counter (one database write per batch), spending that local allowance
/// in memory; when the shared count reaches the limit it grants the remainder and then refuses
/// until the window ends. Requests reserved but not spent by an instance are lost for the window
/// (at most `batch` per instance), so the shared limit errs on the strict side. If the database
/// does not answer, the limiter falls back to counting locally.
///
/// Each answer carries what the `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
/// headers report; a refused request gets 429 with `Retry-After`.
public final class RateLimiter: @unchecked Sendable {
    /// Requests allowed per window.
    public let limit: Int
    public let windowSeconds: Int
    /// The counter shared by every instance, when there is one.
    public let shared: SharedRateCounter?
    /// Requests reserved in the shared counter at a time.
    public let batch: Int
    private let lock = NSLock()
    private var windows: [String: Window] = [:]
    private var lastSweep: Int64 = 0

    struct Window {
        var start: Int64
        /// Requests counted here in this window.
        var count: Int
        /// Shared mode: requests this instance may still count without asking the database
        /// (`granted - count`), and the shared total seen at the last reservation.
        var granted: Int = 0
        var sharedTotal: Int = 0
        /// Shared mode: the shared count reached the limit; refuse until the window ends.
        var exhausted = false
    }

    /// - Parameters:
    ///   - shared: the counter shared by the instances (`nil`: this instance only).
    ///   - batch: requests reserved at a time in the shared counter (default: a twentieth of
    ///     the limit, between 1 and 100).
    public init(limit: Int, windowSeconds: Int = 60, shared: SharedRateCounter? = nil, batch: Int? = nil) {
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.shared = shared
        self.batch = max(1, batch ?? min(100, limit / 20))
    }

    /// The outcome of one request.
    public struct Decision: Sendable {
        public var allowed: Bool
        public var limit: Int
        public var remaining: Int
        /// Seconds until the window resets.
        public var reset: Int

        public var headers: [(String, String)] {
            [("RateLimit-Limit", String(limit)), ("RateLimit-Remaining", String(remaining)), ("RateLimit-Reset", String(reset))]
        }
    }

    /// Counts one request for `key`.
    public func take(_ key: String, now: Date = Date()) -> Decision {
        let nowSeconds = Int64(now.timeIntervalSince1970)
        let window = Int64(windowSeconds)
        lock.lock()
        if nowSeconds - lastSweep > window {
            windows = windows.filter { nowSeconds - $0.value.start < window }
            lastSweep = nowSeconds
        }
        guard let shared else {
            defer { lock.unlock() }
            return takeLocal(key, nowSeconds, window)
        }
        let start = nowSeconds - nowSeconds % window
        let reset = max(1, Int(start + window - nowSeconds))
        if let decision = spend(key, start, reset) {
            lock.unlock()
            return decision
        }
        lock.unlock()
        // The local allowance is spent: reserve the next batch in the shared counter, outside the
        // lock (two requests of one key may both reserve; that errs on the strict side).
        var reservation: (total: Int, granted: Int)?
        do {
            let total = try shared.reserve(key, windowStart: start, windowSeconds: windowSeconds, amount: batch)
            reservation = (total, max(0, min(batch, limit - (total - batch))))
        } catch {
            reservation = nil
        }
        lock.lock()
        defer { lock.unlock() }
        var entry = current(key, start)
        if let reservation {
            entry.granted += reservation.granted
            entry.sharedTotal = max(entry.sharedTotal, reservation.total)
            if reservation.total >= limit { entry.exhausted = true }
        } else {
            // The database is unreachable: count locally (as one instance would).
            entry.granted = max(entry.granted, min(limit, entry.count + 1))
            entry.sharedTotal = max(entry.sharedTotal, entry.count)
        }
        windows[key] = entry
        return spend(key, start, reset, final: true)!
    }

    /// Shared mode, under the lock: counts the request against the local allowance. `nil` when
    /// the allowance is spent and the shared count may still grant more (unless `final`).
    private func spend(_ key: String, _ start: Int64, _ reset: Int, final: Bool = false) -> Decision? {
        var entry = current(key, start)
        if entry.count < entry.granted {
            entry.count += 1
            windows[key] = entry
            let remaining = max(0, limit - entry.sharedTotal) + (entry.granted - entry.count)
            return Decision(allowed: true, limit: limit, remaining: min(limit, remaining), reset: reset)
        }
        guard entry.exhausted || final else { return nil }
        windows[key] = entry
        return Decision(allowed: false, limit: limit, remaining: 0, reset: reset)
    }

    private func current(_ key: String, _ start: Int64) -> Window {
        windows[key].flatMap { $0.start == start ? $0 : nil } ?? Window(start: start, count: 0)
    }

    private func takeLocal(_ key: String, _ nowSeconds: Int64, _ window: Int64) -> Decision {
        var entry = windows[key] ?? Window(start: nowSeconds, count: 0)
        if nowSeconds - entry.start >= window { entry = Window(start: nowSeconds, count: 0) }
        let reset = Int(entry.start + window - nowSeconds)
        if entry.count >= limit {
            windows[key] = entry
            return Decision(allowed: false, limit: limit, remaining: 0, reset: max(1, reset))
        }
        entry.count += 1
        windows[key] = entry
        return Decision(allowed: true, limit: limit, remaining: limit - entry.count, reset: max(1, reset))
    }
}
