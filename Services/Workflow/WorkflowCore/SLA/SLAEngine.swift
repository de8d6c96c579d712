import Foundation
import Messages
import ServiceKit
import Storage

/// Keeps each ticket's SLA up to date as its events happen, and sends warnings and breaches.
///
/// The ticket core calls ``onTicketEvent(_:ticketID:_:at:)`` in the transaction of each change.
/// The engine appends the event to the ticket's SLA history (`wf_sla_events`), recomputes the
/// whole SLA with ``SLAClock`` (so priority, plan and calendar changes re-evaluate the past),
/// stores the result (`wf_sla_targets`), and keeps one durable timer (kind `"sla"`) at the next
/// instant something changes by itself. When that timer fires, the SLA is recomputed at that
/// instant and `SLAWarning` / `SLABreached` go out through the outbox.
///
/// Exactly once: `wf_sla_notices` holds one row per ticket × target × cycle × kind, written in
/// the transaction that publishes the event. A breach that a later change undoes is marked
/// withdrawn (and the stored status is no longer breached); if the ticket breaches again under the
/// new target, that new breach is sent once more.
///
/// ```swift
/// try database.write { tx in
///     try moveStage(tx, ...)
///     try time.sla.onTicketEvent(tx, ticketID: id, .stageChanged("aguardando_cliente"), at: now)
/// }
/// ```
public struct SLAEngine: Sendable {
    public static let timerKind = "sla"
    /// Timers that recompute one ticket after an edit too large to recompute inline
    /// (``recomputeOpenTickets(_:plan:now:inlineLimit:)``).
    public static let recomputeTimerKind = "sla-recompute"
    public var clock: SLAClock
    public var publisher: EventPublisher
    public var core: any TicketCoreSeam
    /// SLA policies and calendars, read once per ``ConfigVersion`` instead of per recomputation.
    let config = TimeConfigCache()

    public init(clock: SLAClock = SLAClock(), publisher: EventPublisher = EventPublisher(source: "workflow"),
                core: any TicketCoreSeam = MinimalTicketCore()) {
        self.clock = clock
        self.publisher = publisher
        self.core = core
    }

    static let migrations: [Migration] = [
        Migration(version: 110, name: "time_sla", sql: """
            CREATE TABLE wf_sla_policies (
                plan TEXT NOT NULL,
                priority INTEGER NOT NULL,
                first_response_seconds BIGINT NOT NULL,
                next_response_seconds BIGINT NOT NULL,
                resolution_seconds BIGINT NOT NULL,
                pause_stages TEXT NOT NULL,
                warning_percent INTEGER NOT NULL,
                calendar_id TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (plan, priority)
            );
            CREATE TABLE wf_sla_events (
                ticket_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                at BIGINT NOT NULL,
                kind TEXT NOT NULL,
                detail TEXT NOT NULL,
                PRIMARY KEY (ticket_id, seq)
            );
            CREATE TABLE wf_sla_tickets (
                ticket_id TEXT PRIMARY KEY,
                plan TEXT NOT NULL,
                priority INTEGER NOT NULL,
                stage TEXT NOT NULL,
                version BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE TABLE wf_sla_targets (
                ticket_id TEXT NOT NULL,
                target INTEGER NOT NULL,
                cycle INTEGER NOT NULL,
                status TEXT NOT NULL,
                target_ms BIGINT NOT NULL,
                elapsed_ms BIGINT NOT NULL,
                due_at BIGINT,
                warn_at BIGINT,
                stopped_at BIGINT,
                PRIMARY KEY (ticket_id, target)
            );
            CREATE INDEX wf_sla_targets_status ON wf_sla_targets (status, due_at);
            CREATE TABLE wf_sla_notices (
                ticket_id TEXT NOT NULL,
                target INTEGER NOT NULL,
                cycle INTEGER NOT NULL,
                kind TEXT NOT NULL,
                due_at BIGINT NOT NULL,
                emitted_at BIGINT NOT NULL,
                withdrawn_at BIGINT,
                emissions INTEGER NOT NULL,
                PRIMARY KEY (ticket_id, target, cycle, kind)
            );
            """),
    ]

    // MARK: Entry points

    /// Records `event` for `ticketID` and brings its SLA up to date at `at`.
    /// - Returns: the SLA after the event.
    @discardableResult
    public func onTicketEvent(_ tx: any SQLExecutor, ticketID: String, _ event: SLAEvent, at: Int64) throws -> SLAComputation {
        if case .opened = event, let computed = try openingWithRow(tx, ticketID: ticketID, event, at: at) { return computed }
        let (fresh, computedAt) = try lockReadingComputedAt(tx, ticketID: ticketID)
        // A ticket whose SLA row was created just now has no SLA history, targets, notices or
        // timer yet (they are written only under that row's lock), so none is read or cleared.
        var history = fresh ? [] : try self.history(tx, ticketID: ticketID, withSeq: true)
        let seq = (history.last?.seq ?? 0) + 1
        let detail = event.detail
        // The computation uses the history in memory; the event row goes out with the results.
        var writes = WriteBatch()
        writes.add("INSERT INTO wf_sla_events (ticket_id, seq, at, kind, detail) VALUES (?, ?, ?, ?, ?)",
                   [.text(ticketID), .integer(seq), .integer(at), .text(event.kind), .text(detail)])
        history.append((seq, TimedSLAEvent(at, event)))
        // The event takes its place in the history at `at`, but the SLA is brought up to the
        // latest instant it was computed at when that is later (an event reported late, e.g. a
        // customer reply delivered after workflow restarted): computing as of `at` would leave
        // out the events after it and withdraw notices already sent, which would then go out again.
        return try recompute(tx, ticketID: ticketID, history: history.map(\.event), now: max(at, computedAt ?? at), fresh: fresh,
                             writes: writes)
    }

    /// A ticket's opening when its SLA row is new: the row is inserted with the computed plan,
    /// priority and stage at version 1 (what the lock row and its update write for a fresh
    /// ticket, in one statement instead of two), then the event, targets and timer as for any
    /// fresh ticket. - Returns: `nil`, having written nothing, when the ticket has an SLA row
    /// already (the same ticket reported opened again): the caller takes the ordinary path.
    private func openingWithRow(_ tx: any SQLExecutor, ticketID: String, _ event: SLAEvent, at: Int64) throws -> SLAComputation? {
        let history = [TimedSLAEvent(at, event)]
        let configuration = try config.snapshot(tx)
        let sla = clock.compute(history, now: at, policy: configuration.policy(plan:priority:), calendar: configuration.calendar)
        guard try tx.execute("""
            INSERT INTO wf_sla_tickets (ticket_id, plan, priority, stage, version, updated_at) VALUES (?, ?, ?, ?, 1, ?)
            ON CONFLICT (ticket_id) DO NOTHING
            """, [.text(ticketID), .text(sla.plan), .integer(Int64(sla.priority)), .text(sla.stage), .integer(at)]) > 0 else { return nil }
        var writes = WriteBatch()
        writes.add("INSERT INTO wf_sla_events (ticket_id, seq, at, kind, detail) VALUES (?, 1, ?, ?, ?)",
                   [.text(ticketID), .integer(at), .text(event.kind), .text(event.detail)])
        return try recompute(tx, ticketID: ticketID, computed: sla, now: at, fresh: true, rowStored: true, writes: writes)
    }

    /// The writes of a ticket's **first** SLA event (its opening) for one guarded statement
    /// (PostgreSQL): the SLA row inserted at version 1 — the guard `sla`, which does nothing when
    /// the row exists — and, only when it was inserted, the event, the targets and the timer,
    /// exactly what ``onTicketEvent(_:ticketID:_:at:)`` writes for a fresh ticket. The caller
    /// runs ``onTicketEvent(_:ticketID:_:at:)`` instead when the guard did not insert.
    /// - Returns: `false` (nothing added) when the computation already has warnings or breaches
    ///   to record (an opening reported long after the fact): the ordinary path handles those.
    func openingWrites(_ tx: any SQLExecutor, ticketID: String, _ event: SLAEvent, at: Int64, into statement: inout GuardedWrites) throws -> Bool {
        let configuration = try config.snapshot(tx)
        let sla = clock.compute([TimedSLAEvent(at, event)], now: at, policy: configuration.policy(plan:priority:),
                                calendar: configuration.calendar)
        // What sendNotices would write for a fresh ticket: nothing unless a target is late or warned.
        guard !sla.targets.contains(where: \.noticeDue) else {
            return false
        }
        statement.guardInsert("sla", into: "wf_sla_tickets", columns: "ticket_id, plan, priority, stage, version, updated_at",
                              values: [.text(ticketID), .text(sla.plan), .integer(Int64(sla.priority)), .text(sla.stage), .integer(1), .integer(at)],
                              conflict: "ticket_id", returning: "ticket_id")
        let detail = event.detail
        statement.add("""
            INSERT INTO wf_sla_events (ticket_id, seq, at, kind, detail) SELECT ticket_id, 1, CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT) FROM sla
            """, [.integer(at), .text(event.kind), .text(detail)])
        if !sla.targets.isEmpty {
            let row = "(CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))"
            var params: [SQLValue] = []
            params.reserveCapacity(sla.targets.count * 8)
            for target in sla.targets {
                params += [.integer(Int64(target.kind.rawValue)), .integer(Int64(target.cycle)), .text(target.status.rawValue),
                           .integer(target.targetMillis), .integer(target.elapsedMillis), optional(target.dueAt), optional(target.warnAt),
                           optional(target.stoppedAt)]
            }
            statement.add("""
                INSERT INTO wf_sla_targets (ticket_id, target, cycle, status, target_ms, elapsed_ms, due_at, warn_at, stopped_at)
                SELECT sla.ticket_id, v.* FROM sla, (VALUES \(Array(repeating: row, count: sla.targets.count).joined(separator: ", "))) AS v
                """, params)
        }
        if let deadline = sla.nextDeadline {
            let insert = TimerStore.guardedInsertStatement(from: "sla", kind: Self.timerKind, dueAt: deadline, generation: 1, now: at)
            statement.add(insert.sql, insert.params)
        }
        return true
    }

    /// Recomputes the SLA of `ticketID` at `now`, stores it, sends due warnings and breaches, and
    /// reschedules its timer. Call it after editing policies or calendars, too.
    @discardableResult
    public func recompute(_ tx: any SQLExecutor, ticketID: String, now: Int64) throws -> SLAComputation {
        // Never before the instant it was last computed at (an instance whose clock lags).
        let (fresh, computedAt) = try lockReadingComputedAt(tx, ticketID: ticketID)
        return try recompute(tx, ticketID: ticketID, history: try self.history(tx, ticketID: ticketID), now: max(now, computedAt ?? now),
                             fresh: fresh)
    }

    /// ``recompute(_:ticketID:now:)`` under the lock already taken, with the history read.
    ///
    /// A fresh ticket (SLA row created by this transaction) has no targets, notices or timer to
    /// replace, so its writes (`writes`, then the SLA row, targets and timer) are independent
    /// inserts and go out as one batch (one statement on PostgreSQL). Otherwise `writes` run
    /// first and the rest one by one, as before.
    private func recompute(_ tx: any SQLExecutor, ticketID: String, history: [TimedSLAEvent], now: Int64, fresh: Bool,
                           writes: WriteBatch = WriteBatch()) throws -> SLAComputation {
        var writes = writes
        if !fresh { try writes.run(tx) }
        let configuration = try config.snapshot(tx)
        let sla = clock.compute(history, now: now, policy: configuration.policy(plan:priority:), calendar: configuration.calendar)
        return try recompute(tx, ticketID: ticketID, computed: sla, now: now, fresh: fresh, rowStored: false, writes: writes)
    }

    /// The rest of ``recompute(_:ticketID:history:now:fresh:writes:)`` with the SLA computed;
    /// `rowStored`: a fresh ticket's SLA row was inserted with its values already (version 1).
    private func recompute(_ tx: any SQLExecutor, ticketID: String, computed sla: SLAComputation, now: Int64, fresh: Bool, rowStored: Bool,
                           writes: WriteBatch) throws -> SLAComputation {
        var writes = writes
        let version = try store(tx, ticketID: ticketID, sla, now: now, fresh: fresh, rowStored: rowStored, writes: &writes)
        try sendNotices(tx, ticketID: ticketID, sla, now: now, fresh: fresh)
        if let deadline = sla.nextDeadline {
            if fresh {
                let insert = TimerStore.insertStatement(ticketID: ticketID, kind: Self.timerKind, dueAt: deadline, generation: version, now: now)
                writes.add(insert.sql, insert.params)
            } else {
                try TimerStore.schedule(tx, ticketID: ticketID, kind: Self.timerKind, dueAt: deadline, generation: version, now: now)
            }
        } else if !fresh {
            try TimerStore.cancel(tx, ticketID: ticketID, kind: Self.timerKind)
        }
        try writes.run(tx)
        return sla
    }

    /// The handler of `"sla"` timers: recomputes at the firing instant (ignores stale timers).
    public func fire(_ timer: TimerRecord, _ tx: any SQLExecutor, now: Int64) throws {
        let fresh = try lock(tx, ticketID: timer.ticketID)
        let row = try tx.queryOne("SELECT version, updated_at FROM wf_sla_tickets WHERE ticket_id = ?", [.text(timer.ticketID)])
        guard let row, try row.int("version") == timer.generation else { return }  // the ticket moved on
        // The timer only brings the stored SLA, its notices and its next timer up to date; the
        // computation itself is for callers of the entry points. Never before the instant it was
        // last computed at (this instance's clock may lag the one that computed it).
        _ = try recompute(tx, ticketID: timer.ticketID, history: try history(tx, ticketID: timer.ticketID),
                          now: max(now, try row.int("updated_at")), fresh: fresh)
    }

    /// Registers ``fire(_:_:now:)`` for `"sla"` timers.
    public func register(on scheduler: TimerScheduler) {
        let engine = self
        scheduler.on(Self.timerKind) { timer, tx, now in try engine.fire(timer, tx, now: now) }
        scheduler.on(Self.recomputeTimerKind) { timer, tx, now in _ = try engine.recompute(tx, ticketID: timer.ticketID, now: now) }
    }

    /// What ``recomputeOpenTickets(_:plan:now:inlineLimit:)`` did.
    public struct RecomputeOutcome: Sendable, Equatable {
        /// Tickets recomputed in the caller's transaction.
        public var recomputed = 0
        /// Tickets left to ``recomputeTimerKind`` timers, due at once.
        public var queued = 0
    }

    /// Recomputes every ticket that is not finished (after a policy or calendar edit), optionally
    /// only those of `plan`: in the caller's transaction when there are at most `inlineLimit`,
    /// else by one ``recomputeTimerKind`` timer per ticket, due now, which the timer scheduler
    /// fires in a transaction of its own each — so an edit affecting tens of thousands of open
    /// tickets commits at once instead of holding the database (SQLite's only writer) for
    /// seconds, and a crash loses nothing (the timers are durable). A ticket with such a timer
    /// pending from an earlier edit keeps that one timer (it recomputes with whatever
    /// configuration is current when it fires), and this transaction locks it until commit: a
    /// timer firing meanwhile (which claims its row before reading the configuration) waits
    /// and then reads this edit, or fired before and this edit's timer is inserted afresh.
    public func recomputeOpenTickets(_ tx: any SQLExecutor, plan: String? = nil, now: Int64, inlineLimit: Int = .max) throws -> RecomputeOutcome {
        var condition = "stage NOT IN ('finalizado', 'cancelado', 'fechado', '')"
        var params: [SQLValue] = []
        if let plan { condition += " AND plan = ?"; params.append(.text(plan)) }
        let ids = try tx.query("SELECT ticket_id FROM wf_sla_tickets WHERE \(condition) LIMIT ?",
                               params + [.integer(Int64(min(inlineLimit, Int(Int32.max)) + 1))]).map { try $0.text("ticket_id") }
        var outcome = RecomputeOutcome()
        if ids.count <= inlineLimit {
            for id in ids { try recompute(tx, ticketID: id, now: now) }
            outcome.recomputed = ids.count
            return outcome
        }
        // Ids unique per ticket and edit; the partial unique index on pending (ticket, kind)
        // turns a second pending recompute of a ticket into an update of the first, which
        // locks its row: with DO NOTHING, a timer firing in another transaction between this
        // insert and its commit read the configuration before this edit, and the ticket kept
        // the old deadlines (seen on PostgreSQL).
        outcome.queued = try tx.execute("""
            \(TimerStore.insertInto)
            SELECT 'sla-recompute-' || ticket_id || '-' || CAST(? AS TEXT), ticket_id, CAST(? AS TEXT), CAST(? AS BIGINT), '', 0,
                   'pending', 0, CAST(? AS BIGINT)
            FROM wf_sla_tickets WHERE \(condition)
            ON CONFLICT (ticket_id, kind) WHERE state = 'pending'
            DO UPDATE SET due_at = CASE WHEN excluded.due_at < wf_timers.due_at THEN excluded.due_at ELSE wf_timers.due_at END
            """, [.text(RandomID.timeOrdered()), .text(Self.recomputeTimerKind), .integer(now), .integer(now)] + params)
        return outcome
    }

    // MARK: Reading

    /// The ticket's SLA history.
    public func history(_ tx: any SQLExecutor, ticketID: String) throws -> [TimedSLAEvent] {
        try history(tx, ticketID: ticketID, withSeq: false).map(\.event)
    }

    private func history(_ tx: any SQLExecutor, ticketID: String, withSeq: Bool) throws -> [(seq: Int64, event: TimedSLAEvent)] {
        let decoder = JSONDecoder()
        return try tx.query("SELECT seq, at, detail FROM wf_sla_events WHERE ticket_id = ? ORDER BY seq", [.text(ticketID)]).map {
            (try $0.int("seq"), TimedSLAEvent(try $0.int("at"), try decoder.decode(SLAEvent.self, from: Data(try $0.text("detail").utf8))))
        }
    }

    /// The stored SLA targets of `ticketID` (as of the last event or timer).
    public func storedTargets(_ tx: any SQLExecutor, ticketID: String) throws -> [StoredSLATarget] {
        try tx.query("SELECT * FROM wf_sla_targets WHERE ticket_id = ? ORDER BY target", [.text(ticketID)]).map {
            StoredSLATarget(kind: SLATargetKind(rawValue: Int(try $0.int("target"))) ?? .resolution,
                            cycle: Int(try $0.int("cycle")), status: SLAStatus(rawValue: try $0.text("status")) ?? .inactive,
                            targetMillis: try $0.int("target_ms"), elapsedMillis: try $0.int("elapsed_ms"),
                            dueAt: try $0.optionalInt("due_at"), warnAt: try $0.optionalInt("warn_at"),
                            stoppedAt: try $0.optionalInt("stopped_at"))
        }
    }

    // MARK: Internals

    /// Serializes SLA work on one ticket: a timer firing and a ticket event for the same ticket
    /// run one after the other on PostgreSQL (SQLite has a single writer anyway).
    /// - Returns: whether the ticket's SLA row was created now (then this transaction holds it,
    ///   and the ticket has no SLA history yet).
    private func lock(_ tx: any SQLExecutor, ticketID: String) throws -> Bool {
        try lockReadingComputedAt(tx, ticketID: ticketID, read: false).fresh
    }

    /// ``lock(_:ticketID:)``, also reading (with `read`) the instant the ticket's SLA was last
    /// computed at (`updated_at`; `nil` for a fresh ticket): on PostgreSQL in the locking read.
    private func lockReadingComputedAt(_ tx: any SQLExecutor, ticketID: String, read: Bool = true) throws -> (fresh: Bool, computedAt: Int64?) {
        let inserted = try tx.execute("""
            INSERT INTO wf_sla_tickets (ticket_id, plan, priority, stage, version, updated_at) VALUES (?, '*', 0, '', 0, 0)
            ON CONFLICT (ticket_id) DO NOTHING
            """, [.text(ticketID)]) > 0
        // A row this transaction inserted is invisible to others until commit: already ours.
        guard !inserted else { return (true, nil) }
        if tx.engine == .postgres {
            let row = try tx.queryOne("SELECT updated_at FROM wf_sla_tickets WHERE ticket_id = ? FOR UPDATE", [.text(ticketID)])
            return (false, try row?.optionalInt("updated_at"))
        }
        guard read else { return (false, nil) }
        return (false, try tx.queryOne("SELECT updated_at FROM wf_sla_tickets WHERE ticket_id = ?", [.text(ticketID)])?.optionalInt("updated_at"))
    }

    /// Stores the computed SLA: directly, or into `writes` for a fresh ticket (whose row was
    /// inserted at version 0 by this transaction, so it becomes 1; with `rowStored`, inserted
    /// at version 1 with these values: only the targets are added).
    /// - Returns: the SLA row's new version.
    private func store(_ tx: any SQLExecutor, ticketID: String, _ sla: SLAComputation, now: Int64, fresh: Bool, rowStored: Bool = false,
                       writes: inout WriteBatch) throws -> Int64 {
        let update = "UPDATE wf_sla_tickets SET plan = ?, priority = ?, stage = ?, version = version + 1, updated_at = ? WHERE ticket_id = ?"
        let updateParams: [SQLValue] = [.text(sla.plan), .integer(Int64(sla.priority)), .text(sla.stage), .integer(now), .text(ticketID)]
        let version: Int64
        if fresh {
            if !rowStored { writes.add(update, updateParams) }
            version = 1
        } else {
            version = try tx.scalar(update + " RETURNING version", updateParams).integerValue ?? 0
            try tx.execute("DELETE FROM wf_sla_targets WHERE ticket_id = ?", [.text(ticketID)])
        }
        guard !sla.targets.isEmpty else { return version }
        // One statement for all the targets (a handful at most).
        let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: sla.targets.count).joined(separator: ", ")
        var params: [SQLValue] = []
        params.reserveCapacity(sla.targets.count * 9)
        for target in sla.targets {
            params += [.text(ticketID), .integer(Int64(target.kind.rawValue)), .integer(Int64(target.cycle)), .text(target.status.rawValue),
                       .integer(target.targetMillis), .integer(target.elapsedMillis), optional(target.dueAt), optional(target.warnAt),
                       optional(target.stoppedAt)]
        }
        let insert = "INSERT INTO wf_sla_targets (ticket_id, target, cycle, status, target_ms, elapsed_ms, due_at, warn_at, stopped_at) VALUES \(rows)"
        if fresh { writes.add(insert, params) } else { try tx.execute(insert, params) }
        return version
    }

    /// The ticket's notices by target, cycle and kind: whether each was withdrawn.
    private struct NoticeKey: Hashable {
        var target: Int64
        var cycle: Int64
        var kind: String
    }

    private func sendNotices(_ tx: any SQLExecutor, ticketID: String, _ sla: SLAComputation, now: Int64, fresh: Bool) throws {
        let candidates = sla.targets.filter(\.takesNotices)
        guard !candidates.isEmpty else { return }
        // Every notice of the ticket in one read (a fresh ticket has none).
        var notices: [NoticeKey: Bool] = [:]
        if !fresh {
            for row in try tx.query("SELECT target, cycle, kind, withdrawn_at FROM wf_sla_notices WHERE ticket_id = ?", [.text(ticketID)]) {
                notices[NoticeKey(target: try row.int("target"), cycle: try row.int("cycle"), kind: try row.text("kind"))] = row["withdrawn_at"].isNull
            }
        }
        var summary: WorkflowV1.TicketSummary?
        func ticketSummary() throws -> WorkflowV1.TicketSummary {
            if let summary { return summary }
            var loaded = try core.summary(tx, ticketID: ticketID) ?? WorkflowV1.TicketSummary()
            if loaded.ticketID.isEmpty { loaded.ticketID = ticketID }
            summary = loaded
            return loaded
        }
        for target in candidates {
            let breachDue = target.breached ? target.dueAt : nil
            if try note(tx, ticketID, target, kind: "breach", active: target.breached, dueAt: breachDue ?? 0, now: now, notices: notices) {
                var event = WorkflowV1.SLABreached()
                event.ticket = try ticketSummary()
                event.target = WorkflowV1.SlaTarget(_protoRawValue: Int32(target.kind.rawValue))
                event.dueAtMs = breachDue ?? now
                try publisher.publish(tx, event: event, key: ticketID, accessLevel: event.ticket?.accessLevel ?? 0)
            }
            // A warning matters only while the target still runs and is not late yet.
            let warnActive = target.warningActive
            let sendWarning = warnActive && !target.breached
            if try note(tx, ticketID, target, kind: "warning", active: warnActive, dueAt: target.dueAt ?? 0, now: now, notices: notices,
                           send: sendWarning) {
                var event = WorkflowV1.SLAWarning()
                event.ticket = try ticketSummary()
                event.target = WorkflowV1.SlaTarget(_protoRawValue: Int32(target.kind.rawValue))
                event.dueAtMs = target.dueAt ?? 0
                event.percentElapsed = Int32(min(100, target.elapsedMillis * 100 / max(1, target.targetMillis)))
                try publisher.publish(tx, event: event, key: ticketID, accessLevel: event.ticket?.accessLevel ?? 0)
            }
        }
    }

    /// Keeps `wf_sla_notices` in step with `active`. - Returns: whether an event must be sent now.
    private func note(_ tx: any SQLExecutor, _ ticketID: String, _ target: SLATargetState, kind: String, active: Bool,
                      dueAt: Int64, now: Int64, notices: [NoticeKey: Bool], send: Bool = true) throws -> Bool {
        let key: [SQLValue] = [.text(ticketID), .integer(Int64(target.kind.rawValue)), .integer(Int64(target.cycle)), .text(kind)]
        // nil: no notice; true: a notice not withdrawn.
        let existing = notices[NoticeKey(target: Int64(target.kind.rawValue), cycle: Int64(target.cycle), kind: kind)]
        if !active {
            if existing == true {
                try tx.execute("UPDATE wf_sla_notices SET withdrawn_at = ? WHERE ticket_id = ? AND target = ? AND cycle = ? AND kind = ?",
                               [.integer(now)] + key)
            }
            return false
        }
        guard let existing else {
            try tx.execute("""
                INSERT INTO wf_sla_notices (ticket_id, target, cycle, kind, due_at, emitted_at, withdrawn_at, emissions)
                VALUES (?, ?, ?, ?, ?, ?, NULL, ?)
                """, key + [.integer(dueAt), .integer(now), .integer(send ? 1 : 0)])
            return send
        }
        guard existing == false else { return false }  // already sent for this episode
        try tx.execute("""
            UPDATE wf_sla_notices SET withdrawn_at = NULL, due_at = ?, emitted_at = ?, emissions = emissions + ?
            WHERE ticket_id = ? AND target = ? AND cycle = ? AND kind = ?
            """, [.integer(dueAt), .integer(now), .integer(send ? 1 : 0)] + key)
        return send
    }
}

/// An SLA target as stored after the last recomputation.
public struct StoredSLATarget: Sendable, Hashable {
    public var kind: SLATargetKind
    public var cycle: Int
    public var status: SLAStatus
    public var targetMillis: Int64
    public var elapsedMillis: Int64
    public var dueAt: Int64?
    public var warnAt: Int64?
    public var stoppedAt: Int64?
}

func optional(_ value: Int64?) -> SQLValue { value.map { .integer($0) } ?? .null }

extension SQLValue {
    var integerValue: Int64? {
        switch self {
        case .integer(let v): return v
        case .text(let t): return Int64(t)
        case .real(let r): return Int64(r)
        default: return nil
        }
    }
}
