import Foundation

/// Group commit for a batched consumer's concurrent deliveries (``EventConsumer``, SQLite).
///
/// A relay splits a round's events for one subscriber by key into several calls made side by
/// side, and a consumer hears from several publishers at once; on SQLite those calls only queued
/// for the one writer, each then writing its own transaction — and at its commit every page it
/// changed, mostly the same pages as the call before it (the tail of each table and index, the
/// inbox's last pages). Here the calls that arrive while a transaction runs wait for it to end,
/// and the first of them runs all of them in the next transaction: fewer commits, each page
/// written once for several calls.
///
/// Flat combining, no thread of its own: whoever finds no group running leads one, taking every
/// waiting call (up to ``maxEvents`` events) with its own, runs them with `group`, answers the
/// others and returns its own answer. A call that finds nobody waiting runs alone, exactly as
/// without grouping (`alone`). When a group fails as a whole — any of its events cannot be
/// applied, or the transaction fails — nothing of it is kept and each of its calls runs alone, as
/// if it had arrived by itself: failures keep the meaning they have without grouping (which
/// events of which call are reported, which keys are held back), at the cost of doing that
/// group's work twice.
///
/// A **gather window** (``gather``, off by default) makes a leader whose group holds fewer than
/// ``gatherEvents`` events wait up to that long for more calls before it runs them: a consumer
/// for which a few milliseconds more before an event is applied cost nothing (notification's
/// e-mails) then commits fewer, larger transactions — fewer pages written per event at each
/// commit, and the publishers' relays, answered later, send larger calls. The calls wait no
/// longer than the window, and a group that reaches ``gatherEvents`` runs at once.
final class DeliveryGroupCommit<Request: Sendable, Response: Sendable>: @unchecked Sendable {
    /// What a call's leader decided for it.
    private enum Outcome {
        case answered(Response)
        /// Its group failed: the call runs by itself.
        case alone
    }

    private final class Member {
        let request: Request
        let events: Int
        var outcome: Outcome?

        init(_ request: Request, events: Int) {
            self.request = request
            self.events = events
        }
    }

    /// The most events one group applies (a call larger than this still runs, alone).
    let maxEvents: Int
    /// How long a leader waits for more calls while its group is small (zero: it never waits).
    let gather: TimeInterval
    /// The group size (events) at which a leader stops waiting.
    let gatherEvents: Int
    private let condition = NSCondition()
    // Guarded by condition.
    private var waiting: [Member] = []
    private var leading = false
    /// Whether a leader is waiting for more calls (arrivals then wake it).
    private var gathering = false
    private var statistics = Statistics()

    /// Groups run so far (tests and benchmarks read it).
    struct Statistics: Sendable, Equatable {
        /// Transactions that applied two calls or more (committed or not).
        var groups = 0
        /// Calls in those groups.
        var groupedCalls = 0
        /// Groups that failed and whose calls then ran alone.
        var failedGroups = 0
    }

    /// - Parameters:
    ///   - maxEvents: the most events one group applies.
    ///   - gather: how long a leader whose group is smaller than `gatherEvents` waits for more
    ///     calls (zero, the default: it runs at once what is waiting).
    ///   - gatherEvents: the group size (events) at which a leader stops waiting (at most `maxEvents`).
    init(maxEvents: Int = 256, gather: TimeInterval = 0, gatherEvents: Int = 64) {
        self.maxEvents = max(1, maxEvents)
        self.gather = max(0, gather)
        self.gatherEvents = min(max(1, gatherEvents), self.maxEvents)
    }

    var counts: Statistics { condition.withLock { statistics } }

    /// Calls waiting for a leader to take them (tests wait on it instead of sleeping).
    var waitingCount: Int { condition.withLock { waiting.count } }

    /// Runs `request` together with the calls waiting beside it, or alone.
    /// - Parameters:
    ///   - events: The request's number of events (groups stay within ``maxEvents``).
    ///   - group: Applies two or more requests in one transaction and returns their answers in
    ///     order; throwing means none of them was applied.
    ///   - alone: Applies one request as if there were no grouping.
    func run(_ request: Request, events: Int, group: ([Request]) throws -> [Response], alone: (Request) throws -> Response) throws -> Response {
        let me = Member(request, events: events)
        condition.lock()
        waiting.append(me)
        if gathering { condition.broadcast() }
        while leading && me.outcome == nil { condition.wait() }
        if let outcome = me.outcome {
            condition.unlock()
            switch outcome {
            case .answered(let response): return response
            case .alone: return try alone(request)
            }
        }
        leading = true
        if gather > 0 { gatherMore() }
        let members = takeGroup(leader: me)
        condition.unlock()

        var answers: [Response]?
        var own: Result<Response, any Error>?
        if members.count == 1 {
            own = Result { try alone(request) }
        } else {
            do {
                let responses = try group(members.map(\.request))
                precondition(responses.count == members.count, "one answer per request")
                answers = responses
            } catch {
                answers = nil
            }
        }

        condition.lock()
        leading = false
        if members.count > 1 {
            statistics.groups += 1
            statistics.groupedCalls += members.count
            if answers == nil { statistics.failedGroups += 1 }
            for (index, member) in members.enumerated() where member !== me {
                member.outcome = answers.map { .answered($0[index]) } ?? .alone
            }
        }
        condition.broadcast()
        condition.unlock()

        if let own { return try own.get() }
        if let answers, let index = members.firstIndex(where: { $0 === me }) { return answers[index] }
        return try alone(request)
    }

    /// Waits up to ``gather`` while the calls waiting (the leader's among them) hold fewer than
    /// ``gatherEvents`` events. Called with the lock held, by the leader.
    private func gatherMore() {
        let deadline = Date(timeIntervalSinceNow: gather)
        gathering = true
        while waiting.reduce(0, { $0 + $1.events }) < gatherEvents && condition.wait(until: deadline) {}
        gathering = false
    }

    /// The waiting calls, in arrival order, that fit in one group with `leader` (which is among
    /// them); removes them from ``waiting``. Called with the lock held.
    private func takeGroup(leader: Member) -> [Member] {
        var members: [Member] = []
        var events = leader.events
        var kept: [Member] = []
        for member in waiting {
            if member === leader {
                members.append(member)
            } else if events + member.events <= maxEvents {
                events += member.events
                members.append(member)
            } else {
                kept.append(member)
            }
        }
        waiting = kept
        return members
    }
}
