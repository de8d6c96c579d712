import Foundation
import RPC
import ServiceKit
import Synchronization

/// Whether entries another service owns are active now, asked of their owner and kept for a
/// short while, so authenticated requests do not each cost a call: customer organizations
/// (intake, ``OrganizationAccess``) and the workflow agents team members sign in as
/// (``AgentSignIns/stillActive(_:gateway:)``).
///
/// An answer is reused for `lifetimeMilliseconds` (`GATEWAY_ACCESS_RECHECK_MS`, 30 s): that is
/// the longest a deactivation made where the gateway hears nothing of it takes to apply on
/// an instance. ``forget(_:)`` (an event announcing a change) drops an answer at once. While the
/// owner does not answer (`UNAVAILABLE`, `DEADLINE_EXCEEDED`) the last answer known is used, however
/// old; with none, the caller decides (the lookup's error is thrown).
public final class ActiveStates: Sendable {
    let lifetimeNanoseconds: UInt64
    private struct State {
        var entries: [String: (at: UInt64, active: Bool)] = [:]
        /// Counts ``forget(_:)`` calls: an answer asked before one is not kept.
        var forgets: UInt64 = 0
    }
    /// One copy of the answers per stripe, a thread reading its own: every authenticated request
    /// reads here, and with one lock the gateway's HTTP threads (16 on two cores) queued on it
    /// whenever its holder was preempted (cached views fell from 0.95 to 0.40 of the trivial
    /// route, two context switches per request). A thread's first read of an id in its stripe
    /// asks the owner (a few calls per lifetime instead of one); changes go to every stripe.
    private final class Stripe: Sendable {
        let state = Mutex(State())
    }
    private let stripes: [Stripe] = (0..<16).map { _ in Stripe() }

    /// - Parameter lifetimeMilliseconds: how long an answer is reused (0: asked every time).
    public init(lifetimeMilliseconds: Int) {
        lifetimeNanoseconds = UInt64(max(0, lifetimeMilliseconds)) * 1_000_000
    }

    /// The calling thread's stripe (thread handles mixed, top bits).
    private var stripe: Stripe {
        let mixed = UInt64(pthread_self()) &* 0x9E37_79B9_7F4A_7C15
        return stripes[Int(mixed >> 60) % stripes.count]
    }

    /// Whether `id` is active: the cached answer while fresh, otherwise `lookup`'s.
    /// - Throws: `lookup`'s error when it fails and nothing is known of `id` (or it fails other
    ///   than by the owner being unreachable).
    public func isActive(_ id: String, lookup: (String) throws -> Bool) throws -> Bool {
        let now = MonotonicClock.nanoseconds()
        let stripe = self.stripe
        let (cached, forgets) = stripe.state.withLock { ($0.entries[id], $0.forgets) }
        if let cached, now - cached.at < lifetimeNanoseconds { return cached.active }
        let active: Bool
        do {
            active = try lookup(id)
        } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
            guard let cached else { throw error }
            return cached.active
        }
        stripe.state.withLock { state in
            // A change announced while the owner was being asked may postdate this answer.
            guard state.forgets == forgets else { return }
            if state.entries.count > 10_000 { state.entries.removeAll() }
            state.entries[id] = (now, active)
        }
        return active
    }

    /// Keeps an answer learnt otherwise (a sign-in asked the owner; a change made through the
    /// gateway), so a stale cached one is not used after it.
    public func note(_ id: String, active: Bool) {
        let now = MonotonicClock.nanoseconds()
        for stripe in stripes {
            stripe.state.withLock { state in
                state.forgets &+= 1
                state.entries[id] = (now, active)
            }
        }
    }

    /// Drops what is known of `id` (a change was announced); the next use asks again.
    public func forget(_ id: String) {
        for stripe in stripes {
            stripe.state.withLock { state in
                state.forgets &+= 1
                state.entries[id] = nil
            }
        }
    }
}
