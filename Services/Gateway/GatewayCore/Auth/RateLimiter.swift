import Foundation

/// Fixed-window request counters per key (user, IP, API key), in memory of this instance.
///
/// Each answer carries what the `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
/// headers report; a refused request gets 429 with `Retry-After`.
public final class RateLimiter: @unchecked Sendable {
    /// Requests allowed per window.
    public let limit: Int
    public let windowSeconds: Int
    private let lock = NSLock()
    private var windows: [String: (start: Int64, count: Int)] = [:]
    private var lastSweep: Int64 = 0

    public init(limit: Int, windowSeconds: Int = 60) {
        self.limit = limit
        self.windowSeconds = windowSeconds
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
        defer { lock.unlock() }
        if nowSeconds - lastSweep > window {
            windows = windows.filter { nowSeconds - $0.value.start < window }
            lastSweep = nowSeconds
        }
        var entry = windows[key] ?? (nowSeconds, 0)
        if nowSeconds - entry.start >= window { entry = (nowSeconds, 0) }
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

/// Slows down password guessing: after `maxFailures` failed logins for an e-mail (or
/// `maxFailures * 4` from one address) within `windowSeconds`, further attempts are refused with
/// 429 until the window passes. A successful login clears the e-mail's count.
public final class LoginThrottle: @unchecked Sendable {
    public let maxFailures: Int
    public let windowSeconds: Int
    private let lock = NSLock()
    private var failures: [String: [Int64]] = [:]

    public init(maxFailures: Int = 5, windowSeconds: Int = 900) {
        self.maxFailures = maxFailures
        self.windowSeconds = windowSeconds
    }

    /// Seconds to wait before trying again, or `nil` when an attempt is allowed now.
    public func retryAfter(email: String, address: String, now: Date = Date()) -> Int? {
        let t = Int64(now.timeIntervalSince1970)
        lock.lock()
        defer { lock.unlock() }
        let byEmail = recent("e:" + email, t)
        let byAddress = recent("a:" + address, t)
        if byEmail.count >= maxFailures { return Int(byEmail[0] + Int64(windowSeconds) - t) }
        if byAddress.count >= maxFailures * 4 { return Int(byAddress[0] + Int64(windowSeconds) - t) }
        return nil
    }

    public func recordFailure(email: String, address: String, now: Date = Date()) {
        let t = Int64(now.timeIntervalSince1970)
        lock.lock()
        defer { lock.unlock() }
        if failures.count > 100_000 { failures.removeAll() }
        failures["e:" + email, default: []].append(t)
        failures["a:" + address, default: []].append(t)
    }

    public func recordSuccess(email: String) {
        lock.lock()
        failures["e:" + email] = nil
        lock.unlock()
    }

    private func recent(_ key: String, _ now: Int64) -> [Int64] {
        let kept = (failures[key] ?? []).filter { now - $0 < Int64(windowSeconds) }
        failures[key] = kept.isEmpty ? nil : kept
        return kept
    }
}
