/// Where one SLA target stands.
public enum SLAStatus: String, Sendable, Hashable, Codable {
    /// No target (0) or nothing to measure yet (no next-response cycle).
    case inactive
    /// Counting, not late.
    case running
    /// Stopped by a pause stage, not late.
    case paused
    /// Stopped in time.
    case met
    /// Late: counting past its due time, or stopped after it.
    case breached
}

/// The state of one target, computed by ``SLAClock``.
public struct SLATargetState: Sendable, Hashable {
    public var kind: SLATargetKind
    /// Next-response cycle (1, 2, ...; 0 when none); 1 for the other targets.
    public var cycle: Int
    public var targetMillis: Int64
    /// Business milliseconds counted so far (up to the stop when stopped).
    public var elapsedMillis: Int64
    public var status: SLAStatus
    /// Whether the target stopped (answered, finished).
    public var stopped: Bool
    public var startedAt: Int64?
    public var stoppedAt: Int64?
    /// When the target is (or was) reached: in the past when breached, in the future while
    /// running; `nil` while paused before reaching it, or when met.
    public var dueAt: Int64?
    /// When the warning share is (or was) reached, same rules as `dueAt`.
    public var warnAt: Int64?
    /// The warning share has been reached.
    public var warned: Bool

    public var breached: Bool { status == .breached }
    /// Whether notices (warning, breach) are kept for this target at all: a real cycle, not inactive.
    public var takesNotices: Bool { cycle > 0 && status != .inactive }
    /// A warning matters only while the target still runs.
    public var warningActive: Bool { warned && !stopped }
    /// Whether a notice (breach, or warning) is due now.
    public var noticeDue: Bool { takesNotices && (breached || warningActive) }
}

/// The SLA of a ticket at an instant, computed from its event history.
public struct SLAComputation: Sendable, Hashable {
    public var plan: String
    public var priority: Int32
    public var stage: String
    public var policy: SLAPolicy
    public var targets: [SLATargetState]

    /// The next instant something changes by itself (a warning or a breach of a running target).
    public var nextDeadline: Int64? {
        targets.compactMap { target -> Int64? in
            guard target.status == .running else { return nil }
            return target.warned ? target.dueAt : target.warnAt
        }.min()
    }

    public func target(_ kind: SLATargetKind) -> SLATargetState? { targets.first { $0.kind == kind } }
}

/// Computes SLA state as a pure function of a ticket's history, a policy resolver and calendars.
///
/// Rules:
/// - The policy is the one of the ticket's *current* plan × priority, applied to the whole history:
///   after a priority or plan change, due times are what they would have been had the ticket
///   always had the new classification. Time already elapsed is kept, pauses stay paused, and a
///   breach disappears when the new target is no longer exceeded.
/// - Business time of each stretch of history is counted with the calendar in force then
///   (a calendar change applies from its instant on; "" = the policy's calendar).
/// - Pause stages (the policy's, always including Aguardando cliente) stop every clock; final
///   stages (``stopStages``) stop resolution, and reopening continues it.
/// - First response stops at the first public agent answer (or when the ticket finishes);
///   each customer reply after it starts a next-response cycle, stopped by the next answer. A
///   reply while resolution is stopped (Resolvido, a final stage) starts one when the ticket
///   reopens, from the reopening, unless an agent answered it first.
///
/// ```swift
/// let sla = SLAClock().compute(events, now: now, policy: { plan, priority in policies[plan, priority] },
///                              calendar: { _ in .default })
/// sla.target(.resolution)?.dueAt
/// ```
public struct SLAClock: Sendable {
    /// Stages where resolution stops: final stages, and Resolvido of the TOTVS-like flow (solved,
    /// waiting for the automatic close; a rejection reopens and the count continues).
    public var stopStages: Set<String>

    public init(stopStages: Set<String> = ["finalizado", "cancelado", "fechado", "resolvido"]) {
        self.stopStages = stopStages
    }

    struct Segment {
        var start: Int64
        var end: Int64
        var stage: String
        var calendar: BusinessCalendar
    }

    public func compute(_ history: [TimedSLAEvent], now: Int64,
                        policy resolvePolicy: (String, Int32) throws -> SLAPolicy,
                        calendar resolveCalendar: (String) throws -> BusinessCalendar) rethrows -> SLAComputation {
        let events = history.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
            .map(\.element).filter { $0.at <= now }
        var plan = "*", priority: Int32 = 2
        for event in events {
            switch event.event {
            case .opened(let p, let pr, _, _): plan = p; priority = pr
            case .planChanged(let p): plan = p
            case .priorityChanged(let pr): priority = pr
            default: break
            }
        }
        let policy = try resolvePolicy(plan, priority)
        var calendars: [String: BusinessCalendar] = [:]
        func calendar(_ override: String) throws -> BusinessCalendar {
            let id = override.isEmpty ? policy.calendarID : override
            if let known = calendars[id] { return known }
            let loaded = try resolveCalendar(id)
            calendars[id] = loaded
            return loaded
        }

        // Stretches of history with one stage and one calendar.
        var segments: [Segment] = []
        var stage = "", calendarOverride = "", openedAt: Int64?
        var firstResponseAt: Int64?, finishedAt: Int64?
        var cycles: [(start: Int64, end: Int64?)] = []
        // A customer reply while resolution is stopped, not answered yet: it opens a
        // next-response cycle if the ticket reopens (the core reports a reply, or a rejected
        // solution, before the move back to work that it causes).
        var replyWhileStopped = false
        for event in events {
            var changesSegment = false
            switch event.event {
            case .opened(_, _, let s, let c):
                if openedAt == nil { openedAt = event.at }
                stage = s; calendarOverride = c; changesSegment = true
            case .stageChanged(let s):
                stage = s; changesSegment = true
                if stopStages.contains(s) {
                    if finishedAt == nil { finishedAt = event.at }
                    if let last = cycles.last, last.end == nil { cycles[cycles.count - 1].end = event.at }
                } else {
                    if finishedAt != nil, replyWhileStopped, firstResponseAt != nil { cycles.append((event.at, nil)) }
                    finishedAt = nil
                    replyWhileStopped = false
                }
            case .calendarChanged(let c):
                calendarOverride = c; changesSegment = true
            case .agentResponse:
                // A public answer after the ticket finished (unanswered) is not its first response:
                // the finish stopped that clock; one given after a reopening is.
                if firstResponseAt == nil, finishedAt == nil { firstResponseAt = event.at }
                if let last = cycles.last, last.end == nil { cycles[cycles.count - 1].end = event.at }
                replyWhileStopped = false
            case .customerReply:
                if finishedAt != nil {
                    replyWhileStopped = true
                } else if firstResponseAt != nil, cycles.last.map({ $0.end != nil }) ?? true {
                    cycles.append((event.at, nil))
                }
            case .priorityChanged, .planChanged:
                break
            }
            guard changesSegment, openedAt != nil else { continue }
            if var last = segments.last {
                last.end = event.at
                segments[segments.count - 1] = last
                if last.start == event.at { segments.removeLast() }
            }
            segments.append(Segment(start: event.at, end: now, stage: stage, calendar: try calendar(calendarOverride)))
        }
        guard let openedAt else {
            return SLAComputation(plan: plan, priority: priority, stage: stage, policy: policy, targets: [])
        }

        let paused = policy.pauseStages
        func active(_ segment: Segment) -> Bool {
            !paused.contains(segment.stage) && !stopStages.contains(segment.stage)
        }
        func measure(_ kind: SLATargetKind, cycle: Int, from start: Int64, stoppedAt: Int64?) -> SLATargetState {
            let target = policy.targetMillis(kind)
            var state = SLATargetState(kind: kind, cycle: cycle, targetMillis: target, elapsedMillis: 0, status: .inactive,
                                       stopped: stoppedAt != nil, startedAt: start, stoppedAt: stoppedAt,
                                       dueAt: nil, warnAt: nil, warned: false)
            let warnTarget = max(1, target * Int64(policy.warningPercent) / 100)
            let end = stoppedAt ?? now
            var elapsed: Int64 = 0
            for segment in segments where active(segment) {
                let a = max(segment.start, start), b = min(segment.end, end)
                guard b > a else { continue }
                let millis = segment.calendar.businessMillis(from: a, to: b)
                if target > 0, state.warnAt == nil, elapsed + millis >= warnTarget {
                    state.warnAt = segment.calendar.adding(millis: warnTarget - elapsed, to: a)
                }
                if target > 0, state.dueAt == nil, elapsed + millis >= target {
                    state.dueAt = segment.calendar.adding(millis: target - elapsed, to: a)
                }
                elapsed += millis
            }
            // Without a target the time is still measured (the metrics' business time), never late.
            state.elapsedMillis = elapsed
            guard target > 0 else { return state }
            state.warned = elapsed >= warnTarget
            if stoppedAt != nil {
                state.status = elapsed <= target ? .met : .breached
                if state.status == .met { state.dueAt = nil; state.warnAt = nil }
                return state
            }
            if elapsed >= target {
                state.status = .breached
                return state
            }
            guard let current = segments.last, active(current) else {
                state.status = .paused
                return state
            }
            state.status = .running
            state.dueAt = current.calendar.adding(millis: target - elapsed, to: now)
            if state.warnAt == nil { state.warnAt = current.calendar.adding(millis: warnTarget - elapsed, to: now) }
            return state
        }

        var targets: [SLATargetState] = []
        targets.append(measure(.firstResponse, cycle: 1, from: openedAt, stoppedAt: firstResponseAt ?? finishedAt))
        if let last = cycles.last {
            targets.append(measure(.nextResponse, cycle: cycles.count, from: last.start, stoppedAt: last.end))
        } else {
            targets.append(SLATargetState(kind: .nextResponse, cycle: 0, targetMillis: policy.targetMillis(.nextResponse), elapsedMillis: 0,
                                          status: .inactive, stopped: false, startedAt: nil, stoppedAt: nil, dueAt: nil, warnAt: nil, warned: false))
        }
        targets.append(measure(.resolution, cycle: 1, from: openedAt, stoppedAt: finishedAt))
        return SLAComputation(plan: plan, priority: priority, stage: stage, policy: policy, targets: targets)
    }
}
