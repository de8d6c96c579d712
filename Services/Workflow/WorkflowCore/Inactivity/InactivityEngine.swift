import Foundation
import Messages
import ServiceKit
import Storage

/// Runs inactivity policies with durable timers.
///
/// When a ticket enters a stage with an active policy, two timers are scheduled: the reminder
/// (`InactivityReminder` event) and the action (``TicketCoreSeam/performInactivityAction(_:ticketID:action:at:)``).
/// Leaving the stage or a customer reply cancels both (the agent's next public reply in the same
/// stage starts the countdown again, ``onAgentResponse(_:ticketID:stage:at:)``); each entry into a stage bumps the ticket's
/// version, and a timer whose version is not current any more does nothing, so a timer never acts
/// on a ticket that moved on.
///
/// ```swift
/// try inactivity.onStageEntered(tx, ticketID: id, stage: "aguardando_cliente", at: now)
/// try inactivity.onCustomerActivity(tx, ticketID: id, at: now)   // the customer answered
/// ```
public struct InactivityEngine: Sendable {
    public static let reminderKind = "inactivity.reminder"
    public static let actionKind = "inactivity.action"
    /// The length of a "day"; shorter in tests. Business days follow the calendar only when this
    /// is 24 hours.
    public var dayLength: Duration
    public var publisher: EventPublisher
    public var core: any TicketCoreSeam
    /// Inactivity policies and calendars, read once per ``ConfigVersion`` (``WorkflowTime`` shares
    /// the SLA engine's cache).
    var config = TimeConfigCache()

    public init(dayLength: Duration = .seconds(86_400), publisher: EventPublisher = EventPublisher(source: "workflow"),
                core: any TicketCoreSeam = MinimalTicketCore()) {
        self.dayLength = dayLength
        self.publisher = publisher
        self.core = core
    }

    static let migrations: [Migration] = [
        Migration(version: 130, name: "time_inactivity", sql: """
            CREATE TABLE wf_inactivity_policies (
                id TEXT PRIMARY KEY,
                stage TEXT NOT NULL,
                days INTEGER NOT NULL,
                business_days INTEGER NOT NULL,
                reminder_days INTEGER NOT NULL,
                to_stage TEXT NOT NULL,
                outcome TEXT NOT NULL,
                calendar_id TEXT NOT NULL,
                active INTEGER NOT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE TABLE wf_inactivity_tickets (
                ticket_id TEXT PRIMARY KEY,
                stage TEXT NOT NULL,
                entered_at BIGINT NOT NULL,
                version BIGINT NOT NULL
            );
            CREATE TABLE wf_inactivity_actions (
                ticket_id TEXT NOT NULL,
                policy_id TEXT NOT NULL,
                to_stage TEXT NOT NULL,
                outcome TEXT NOT NULL,
                at BIGINT NOT NULL
            );
            """),
        // Outcomes are checked on writes from here on (InactivityPolicy.outcomeProblem): a stored
        // outcome that is a known key but for case or spaces ("Inatividade ") becomes the key; any
        // other stored value is kept and still loads and runs as it is (a tolerant read).
        Migration(version: 196, name: "inactivity_outcome_keys", sql: """
            UPDATE wf_inactivity_policies SET outcome = LOWER(TRIM(outcome))
            WHERE outcome <> LOWER(TRIM(outcome)) AND LOWER(TRIM(outcome)) IN (\(TicketOutcome.keys.map { "'\($0)'" }.joined(separator: ", ")));
            """),
        // A customer's activity stops the countdown of the stage entry; a policy edit re-plans
        // only the entries still waiting (InactivityEngine+Replan.swift). Entries written before
        // count as waiting: a policy edit restarts a countdown the customer had stopped in a
        // stage the ticket did not leave (from that activity).
        Migration(version: 198, name: "inactivity_customer_acted", sql: """
            ALTER TABLE wf_inactivity_tickets ADD COLUMN customer_acted INTEGER NOT NULL DEFAULT 0;
            """),
        // Policy revisions: a countdown re-planned by the scheduler when planned under an older
        // revision than its stage's policy (InactivityEngine+Revisions.swift).
        revisionsMigration,
    ]

    struct Payload: Codable {
        var policyID: String
        var stage: String
        var actionDueAt: Int64
        /// The close no earlier than this (a policy edit's minimum notice, ``InactivityEngine/replan(_:stages:now:)``);
        /// absent for a countdown started by a stage entry.
        var notBefore: Int64? = nil

        /// The timer payload's text.
        func json() throws -> String { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
    }

    // MARK: Lifecycle hooks

    /// The ticket entered `stage` at `at`: cancels any countdown and starts the stage's policy, if any.
    /// - Parameter opening: the ticket was just opened, so its entry row most likely does not
    ///   exist yet: it is inserted without the upsert's `RETURNING` (which SQLite answers through
    ///   a temporary table), and bumped as usual only when it existed after all.
    public func onStageEntered(_ tx: any SQLExecutor, ticketID: String, stage: String, at: Int64, opening: Bool = false) throws {
        // The policy first: the entry records the revision its countdown is planned under.
        let plan = try config.snapshot(tx).inactivityPlan(stage: stage)
        let version = try opening ? firstEntry(tx, ticketID: ticketID, stage: stage, at: at, revision: plan.revision)
            : bump(tx, ticketID: ticketID, stage: stage, at: at, revision: plan.revision)
        // Version 1: the ticket's first stage entry, so no countdown of it can be pending.
        if version > 1 { try TimerStore.cancelAll(tx, ticketID: ticketID, kindPrefix: "inactivity.") }
        guard let policy = plan.policy else { return }
        try schedule(tx, ticketID: ticketID, policy: policy, from: at, version: version)
    }

    /// ``onStageEntered(_:ticketID:stage:at:)`` for the ticket's **first** stage entry, as writes of
    /// one guarded statement (PostgreSQL): the entry row at version 1 — the guard `entry`, which
    /// does nothing when the ticket has one already — and, only then, the stage policy's timers.
    /// The caller runs ``onStageEntered(_:ticketID:stage:at:)`` when the guard did not insert.
    func openingWrites(_ tx: any SQLExecutor, ticketID: String, stage: String, at: Int64, into statement: inout GuardedWrites) throws {
        let plan = try config.snapshot(tx).inactivityPlan(stage: stage)
        statement.guardInsert("entry", into: "wf_inactivity_tickets", columns: "ticket_id, stage, entered_at, version, planned_revision",
                              values: [.text(ticketID), .text(stage), .integer(at), .integer(1), .integer(plan.revision)],
                              conflict: "ticket_id", returning: "ticket_id")
        guard let policy = plan.policy else { return }
        for timer in try timers(tx, ticketID: ticketID, policy: policy, from: at, version: 1) {
            let insert = TimerStore.guardedInsertStatement(from: "entry", kind: timer.kind, dueAt: timer.dueAt, payload: timer.payload,
                                                           generation: 1, now: at)
            statement.add(insert.sql, insert.params)
        }
    }

    /// The customer wrote: the countdown stops (the core usually moves the ticket on, which starts
    /// the next stage's policy, if any).
    public func onCustomerActivity(_ tx: any SQLExecutor, ticketID: String, at: Int64) throws {
        // A new version of the same stage entry, marked stopped (a policy edit re-plans none).
        try tx.execute("""
            INSERT INTO wf_inactivity_tickets (ticket_id, stage, entered_at, version, customer_acted) VALUES (?, '', ?, 1, 1)
            ON CONFLICT (ticket_id) DO UPDATE SET entered_at = excluded.entered_at, version = wf_inactivity_tickets.version + 1,
                                                  customer_acted = 1
            """, [.text(ticketID), .integer(at)])
        try TimerStore.cancelAll(tx, ticketID: ticketID, kindPrefix: "inactivity.")
    }

    /// An agent answered the customer publicly while the ticket is in `stage`. When the customer
    /// had stopped this stage's countdown (a reply in a stage its flow has no reply move from: the
    /// ticket stayed where it was), the answer asks the customer again, so the countdown starts
    /// again from it: a new version of the stage entry, entered at `at`, with the stage's active
    /// policy. A countdown still running, or another stage's, is left alone.
    public func onAgentResponse(_ tx: any SQLExecutor, ticketID: String, stage: String, at: Int64) throws {
        // Most stages have no policy: no statement at all for them.
        let plan = try config.snapshot(tx).inactivityPlan(stage: stage)
        guard let policy = plan.policy else { return }
        guard let version = try tx.queryOne(Self.restartSQL, [.integer(at), .integer(plan.revision), .text(ticketID), .text(stage)])?
            .i("version") else { return }
        try TimerStore.cancelAll(tx, ticketID: ticketID, kindPrefix: "inactivity.")
        try schedule(tx, ticketID: ticketID, policy: policy, from: at, version: version)
    }

    /// A stopped countdown of the ticket's stage started again (``onAgentResponse(_:ticketID:stage:at:)``).
    private static let restartSQL = """
        UPDATE wf_inactivity_tickets SET entered_at = ?, version = version + 1, customer_acted = 0, planned_revision = ?
        WHERE ticket_id = ? AND stage = ? AND customer_acted = 1
        RETURNING version
        """

    /// When the action and the reminder of `policy` fall for a countdown starting at `from`.
    public func deadlines(_ tx: any SQLExecutor, policy: InactivityPolicy, from: Int64) throws -> (reminder: Int64?, action: Int64) {
        let day = dayLength.asMillis
        if policy.businessDays && day == 86_400_000 {
            let calendar = try config.snapshot(tx).calendar(policy.calendarID)
            let action = calendar.adding(businessDays: policy.days, to: from)
            let reminder = policy.reminderDaysBefore > 0 ? calendar.adding(businessDays: policy.days - policy.reminderDaysBefore, to: from) : nil
            return (reminder, action)
        }
        let action = from + Int64(policy.days) * day
        let reminder = policy.reminderDaysBefore > 0 ? action - Int64(policy.reminderDaysBefore) * day : nil
        return (reminder, action)
    }

    // MARK: Timers

    /// Registers the timers' handlers and, as a round task, ``replanStale(_:now:)``.
    public func register(on scheduler: TimerScheduler) {
        let engine = self
        scheduler.on(Self.reminderKind) { timer, tx, now in try engine.fireReminder(timer, tx, now: now) }
        scheduler.on(Self.actionKind) { timer, tx, now in try engine.fireAction(timer, tx, now: now) }
        scheduler.everyRound { database, now in try engine.replanStale(database, now: now) }
    }

    func fireReminder(_ timer: TimerRecord, _ tx: any SQLExecutor, now: Int64) throws {
        guard let countdown = try current(timer, tx), let reminder = countdown.reminder else { return }
        guard reminder <= now else { return try reschedule(tx, timer, at: reminder, countdown, now: now) }
        var event = WorkflowV1.InactivityReminder()
        var summary = try core.summary(tx, ticketID: timer.ticketID) ?? WorkflowV1.TicketSummary()
        if summary.ticketID.isEmpty { summary.ticketID = timer.ticketID }
        event.ticket = summary
        event.policy = countdown.policy.id
        event.actionDueAtMs = countdown.close
        try publisher.publish(tx, event: event, key: timer.ticketID, accessLevel: summary.accessLevel)
    }

    func fireAction(_ timer: TimerRecord, _ tx: any SQLExecutor, now: Int64) throws {
        guard let countdown = try current(timer, tx) else { return }
        guard countdown.close <= now else { return try reschedule(tx, timer, at: countdown.close, countdown, now: now) }
        let policy = countdown.policy
        try core.performInactivityAction(tx, ticketID: timer.ticketID,
                                         action: InactivityAction(policyID: policy.id, fromStage: policy.stage,
                                                                  toStage: policy.toStage, outcome: policy.outcome), at: now)
    }

    /// A countdown as the stage's policy says **now**: the active policy of the stage the timer
    /// was set in and its deadlines counted from the ticket's entry into that stage. A policy
    /// edited while tickets wait (longer, or replaced by another) is what their timers follow,
    /// not the one in force when they entered.
    struct Countdown {
        var policy: InactivityPolicy
        var reminder: Int64?
        var action: Int64
        /// The minimum notice a policy edit gave (``Payload/notBefore``), if any.
        var notBefore: Int64?
        /// When the ticket is closed: the policy's deadline, or the notice's end when later.
        var close: Int64 { max(action, notBefore ?? action) }
    }

    /// The countdown when the timer is still current (same stage entry, and the stage still has
    /// an active policy), else `nil`.
    private func current(_ timer: TimerRecord, _ tx: any SQLExecutor) throws -> Countdown? {
        // Locked, so a concurrent stage change waits for this timer (or makes it stale) on PostgreSQL.
        let lock = tx.engine == .postgres ? " FOR UPDATE" : ""
        guard let row = try tx.queryOne("SELECT stage, entered_at, version FROM wf_inactivity_tickets WHERE ticket_id = ?" + lock,
                                        [.text(timer.ticketID)]),
              try row.int("version") == timer.generation else { return nil }
        let payload = try JSONDecoder().decode(Payload.self, from: Data(timer.payload.utf8))
        guard try row.text("stage") == payload.stage,
              let policy = try config.snapshot(tx).activeInactivityPolicy(stage: payload.stage) else { return nil }
        let (reminder, action) = try deadlines(tx, policy: policy, from: try row.int("entered_at"))
        return Countdown(policy: policy, reminder: reminder, action: action, notBefore: payload.notBefore)
    }

    /// Sets `timer` again for `dueAt` (same kind and generation): the policy now puts it later.
    private func reschedule(_ tx: any SQLExecutor, _ timer: TimerRecord, at dueAt: Int64, _ countdown: Countdown, now: Int64) throws {
        let payload = Payload(policyID: countdown.policy.id, stage: countdown.policy.stage, actionDueAt: countdown.close,
                              notBefore: countdown.notBefore)
        try TimerStore.schedule(tx, ticketID: timer.ticketID, kind: timer.kind, dueAt: dueAt,
                                payload: try payload.json(),
                                generation: timer.generation, now: now)
    }

    private func schedule(_ tx: any SQLExecutor, ticketID: String, policy: InactivityPolicy, from: Int64, version: Int64) throws {
        // Entering a stage cancelled the earlier countdown just before (or there was none).
        for timer in try timers(tx, ticketID: ticketID, policy: policy, from: from, version: version) {
            try TimerStore.schedule(tx, ticketID: ticketID, kind: timer.kind, dueAt: timer.dueAt, payload: timer.payload, generation: version,
                                    now: from, replacing: false)
        }
    }

    /// The countdown's timers for `policy` from `from`: the action, then the reminder if any.
    func timers(_ tx: any SQLExecutor, ticketID: String, policy: InactivityPolicy, from: Int64,
                        version: Int64) throws -> [(kind: String, dueAt: Int64, payload: String)] {
        let (reminder, action) = try deadlines(tx, policy: policy, from: from)
        let payload = try Payload(policyID: policy.id, stage: policy.stage, actionDueAt: action).json()
        return [(Self.actionKind, action, payload)] + (reminder.map { [(Self.reminderKind, $0, payload)] } ?? [])
    }

    private static let bumpSQL = """
        INSERT INTO wf_inactivity_tickets (ticket_id, stage, entered_at, version, planned_revision) VALUES (?, ?, ?, 1, ?)
        ON CONFLICT (ticket_id) DO UPDATE SET stage = excluded.stage, entered_at = excluded.entered_at,
                                              version = wf_inactivity_tickets.version + 1, customer_acted = 0,
                                              planned_revision = excluded.planned_revision
        RETURNING version
        """

    /// The ticket's first entry (version 1), or ``bump(_:ticketID:stage:at:revision:)`` when it has one.
    private func firstEntry(_ tx: any SQLExecutor, ticketID: String, stage: String, at: Int64, revision: Int64) throws -> Int64 {
        let inserted = try tx.execute("""
            INSERT INTO wf_inactivity_tickets (ticket_id, stage, entered_at, version, planned_revision) VALUES (?, ?, ?, 1, ?)
            ON CONFLICT (ticket_id) DO NOTHING
            """, [.text(ticketID), .text(stage), .integer(at), .integer(revision)])
        return inserted > 0 ? 1 : try bump(tx, ticketID: ticketID, stage: stage, at: at, revision: revision)
    }

    /// Starts a new entry of the ticket's state, planned under the stage policy's `revision`.
    /// - Returns: its version (1 for the first).
    private func bump(_ tx: any SQLExecutor, ticketID: String, stage: String, at: Int64, revision: Int64) throws -> Int64 {
        try tx.scalar(Self.bumpSQL, [.text(ticketID), .text(stage), .integer(at), .integer(revision)]).integerValue ?? 0
    }
}

/// Inactivity policies in `wf_inactivity_policies` (one active policy per stage).
public enum InactivityPolicyStore {
    /// Inserts or replaces `policy`, under a new revision (``nextRevision(_:)``): countdowns planned
    /// under an older one are re-planned by the scheduler (``InactivityEngine/replanStale(_:now:)``)
    /// when the edit itself did not. Saving an active policy deactivates the other active policy
    /// of its stage, if any (one active policy per stage).
    public static func save(_ tx: any SQLExecutor, _ policy: InactivityPolicy, at now: Int64 = currentMillis()) throws {
        let revision = try nextRevision(tx)
        if policy.active {
            try tx.execute("UPDATE wf_inactivity_policies SET active = 0, updated_at = ? WHERE stage = ? AND active = 1 AND id <> ?",
                           [.integer(now), .text(policy.stage), .text(policy.id)])
        }
        try tx.execute("DELETE FROM wf_inactivity_policies WHERE id = ?", [.text(policy.id)])
        try tx.execute("""
            INSERT INTO wf_inactivity_policies (id, stage, days, business_days, reminder_days, to_stage, outcome, calendar_id, active, updated_at,
                                                revision)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(policy.id), .text(policy.stage), .integer(Int64(policy.days)), .integer(policy.businessDays ? 1 : 0),
                  .integer(Int64(policy.reminderDaysBefore)), .text(policy.toStage), .text(policy.outcome),
                  .text(policy.calendarID), .integer(policy.active ? 1 : 0), .integer(now), .integer(revision)])
    }

    /// Replaces every policy with a preset's.
    public static func install(_ tx: any SQLExecutor, _ policies: [InactivityPolicy], at now: Int64 = currentMillis()) throws {
        try tx.execute("DELETE FROM wf_inactivity_policies")
        for policy in policies { try save(tx, policy, at: now) }
    }

    public static func delete(_ tx: any SQLExecutor, id: String) throws -> Bool {
        try tx.execute("DELETE FROM wf_inactivity_policies WHERE id = ?", [.text(id)]) > 0
    }

    public static func all(_ tx: any SQLExecutor) throws -> [InactivityPolicy] {
        try allRevised(tx).map(\.policy)
    }

    /// Every policy with its revision, read by one statement (so each revision is its policy's).
    static func allRevised(_ tx: any SQLExecutor) throws -> [(policy: InactivityPolicy, revision: Int64)] {
        try tx.query("SELECT * FROM wf_inactivity_policies ORDER BY stage, id").map { (try policy(from: $0), try $0.int("revision")) }
    }

    public static func get(_ tx: any SQLExecutor, id: String) throws -> InactivityPolicy? {
        try tx.queryOne("SELECT * FROM wf_inactivity_policies WHERE id = ?", [.text(id)]).map(policy(from:))
    }

    public static func active(_ tx: any SQLExecutor, stage: String) throws -> InactivityPolicy? {
        try activeRevised(tx, stage: stage)?.policy
    }

    /// The stage's active policy with its revision.
    static func activeRevised(_ tx: any SQLExecutor, stage: String) throws -> (policy: InactivityPolicy, revision: Int64)? {
        try tx.queryOne("SELECT * FROM wf_inactivity_policies WHERE stage = ? AND active = 1", [.text(stage)])
            .map { (try policy(from: $0), try $0.int("revision")) }
    }

    static func policy(from row: Row) throws -> InactivityPolicy {
        InactivityPolicy(id: try row.text("id"), stage: try row.text("stage"), days: Int(try row.int("days")),
                         businessDays: try row.bool("business_days"), reminderDaysBefore: Int(try row.int("reminder_days")),
                         toStage: try row.text("to_stage"), outcome: try row.text("outcome"),
                         calendarID: try row.text("calendar_id"), active: try row.bool("active"))
    }
}
