import Messages
import RPC
import Synchronization

/// Workflow's recent "yes" to "may this agent see this ticket?", kept for a short time so a
/// ticket view and the downloads of its files right after it ask workflow once.
///
/// Only grants are kept, never refusals (an access granted meanwhile works at once); a grant is
/// reused for at most ``lifetimeMilliseconds``, so a revoked access (a raised confidentiality
/// level, a transfer) lasts at most that long in intake. Keyed by the principal's kind, id and
/// signed access level, and the ticket id. Bounded: at ``capacity`` entries the expired ones are
/// dropped, and if none were, all of them.
final class TicketAccessCache: Sendable {
    let lifetimeMilliseconds: Int64
    let capacity: Int
    private let grants = Mutex<[String: Int64]>([:])

    /// - Parameter lifetimeMilliseconds: 0 keeps nothing (workflow is asked every time).
    init(lifetimeMilliseconds: Int64, capacity: Int = 10_000) {
        self.lifetimeMilliseconds = lifetimeMilliseconds
        self.capacity = capacity
    }

    /// Whether workflow granted `principal` the ticket (to see it, or `toAct` on it too) less
    /// than ``lifetimeMilliseconds`` ago.
    func granted(_ principal: AuthV1.Principal, ticketID: String, toAct: Bool = false) -> Bool {
        guard lifetimeMilliseconds > 0 else { return false }
        let key = Self.key(principal, ticketID, toAct: toAct)
        let now = Self.now()
        return grants.withLock { grants in
            guard let until = grants[key] else { return false }
            if until > now { return true }
            grants[key] = nil
            return false
        }
    }

    /// Remembers workflow's grant of the ticket to `principal`: to see it, and to act on it when
    /// `toAct` (workflow's `caller_may_act`).
    func grant(_ principal: AuthV1.Principal, ticketID: String, toAct: Bool = false) {
        guard lifetimeMilliseconds > 0 else { return }
        let keys = [Self.key(principal, ticketID, toAct: false)] + (toAct ? [Self.key(principal, ticketID, toAct: true)] : [])
        let now = Self.now()
        grants.withLock { grants in
            if grants.count >= capacity {
                grants = grants.filter { $0.value > now }
                if grants.count >= capacity { grants.removeAll(keepingCapacity: true) }
            }
            for key in keys { grants[key] = now + lifetimeMilliseconds }
        }
    }

    private static func key(_ principal: AuthV1.Principal, _ ticketID: String, toAct: Bool) -> String {
        "\(principal.kind.rawValue)|\(principal.id)|\(principal.accessLevel)|\(ticketID)|\(toAct ? "act" : "see")"
    }

    /// Milliseconds of a clock that does not jump with the wall clock.
    private static func now() -> Int64 { Int64(MonotonicClock.nanoseconds() / 1_000_000) }
}
