import Foundation
import RPCTransport
import ServiceKit
import Storage

/// The time-related half of workflow in one object: business calendars, SLA, durable timers,
/// inactivity policies, the satisfaction survey and metrics.
///
/// The ticket core tells it what happened through the narrow methods below, inside the
/// transaction of each change; it never reads the core's tables (the core answers the two
/// questions of ``TicketCoreSeam``).
///
/// ```swift
/// let time = WorkflowTime(database: db, secret: secret, core: myCore)
/// try db.write { tx in
///     try time.ticketOpened(tx, ticketID: id, dimensions: dims, stage: "aguardando_atendimento", at: now)
/// }
/// time.scheduler.start()
/// ```
public final class WorkflowTime: Sendable {
    /// Settings; every duration can be shortened for tests.
    public struct Configuration: Sendable {
        /// The length of an inactivity "day" (`WORKFLOW_DAY_SECONDS`, default 86400).
        public var dayLength: Duration = .seconds(86_400)
        /// Survey link prefix (`WORKFLOW_SURVEY_URL`).
        public var surveyBaseURL = "https://suporte.example/pesquisa/"
        /// How long a survey link stays valid (`WORKFLOW_SURVEY_VALIDITY_DAYS`, default 30).
        public var surveyValidity: Duration = .seconds(30 * 86_400)
        /// Timer polling and leases (`WORKFLOW_TIMER_POLL_MS`, default 1000; `WORKFLOW_TIMER_LEASE_MS`, default 30000).
        public var scheduler = TimerScheduler.Configuration()
        /// Edits of calendars and SLA policies recompute at most this many open tickets in their
        /// own transaction; beyond, each ticket is recomputed by a timer of its own right after
        /// (`WORKFLOW_SLA_INLINE_RECOMPUTE_LIMIT`, default 500).
        public var slaInlineRecomputeLimit = 500
        /// Stages where a ticket is finished.
        public var finalStages: Set<String> = ["finalizado", "cancelado", "fechado"]
        /// Final stages that end a ticket without solving it (cancelled by the customer, or by an
        /// agent as needing no action): entering one records no resolution in the metrics unless
        /// the resolution clock had already stopped on a solution (``WorkflowTime/stageChanged(_:ticketID:to:outcome:at:)``).
        public var cancelStages: Set<String> = ["cancelado"]
        /// Stages where the resolution clock stops (final stages plus solved-awaiting-close ones).
        public var slaStopStages: Set<String> = ["finalizado", "cancelado", "fechado", "resolvido"]

        public init() {}

        /// Reads the settings above from the environment; unset ones keep the defaults.
        /// - Throws: ``ServiceKit/ConfigurationError`` naming a malformed variable (``EnvironmentSettings``).
        public static func fromEnvironment(_ environment: [String: String]) throws -> Configuration {
            var configuration = Configuration()
            let settings = EnvironmentSettings(environment)
            if let seconds = try settings.integer("WORKFLOW_DAY_SECONDS", in: 1...86_400) {
                configuration.dayLength = .seconds(Int64(seconds))
            }
            if let url = settings.text("WORKFLOW_SURVEY_URL") { configuration.surveyBaseURL = url }
            if let days = try settings.integer("WORKFLOW_SURVEY_VALIDITY_DAYS", in: 1...3_660) {
                configuration.surveyValidity = .seconds(Int64(days) * 86_400)
            }
            if let ms = try settings.integer("WORKFLOW_TIMER_POLL_MS", in: 1...86_400_000) {
                configuration.scheduler.pollInterval = .milliseconds(Int64(ms))
            }
            if let limit = try settings.integer("WORKFLOW_SLA_INLINE_RECOMPUTE_LIMIT", in: 0...1_000_000) {
                configuration.slaInlineRecomputeLimit = limit
            }
            if let ms = try settings.integer("WORKFLOW_TIMER_LEASE_MS", in: 1...86_400_000) {
                configuration.scheduler.leaseDuration = .milliseconds(Int64(ms))
            }
            return configuration
        }
    }

    public let database: any Database
    public let configuration: Configuration
    public let sla: SLAEngine
    public let inactivity: InactivityEngine
    public let survey: SurveyService
    public let metrics: MetricsRecorder
    public let scheduler: TimerScheduler
    /// The clock the components use (epoch ms).
    public let clock: @Sendable () -> Int64
    /// The ticket core (the time API holds callers to the level it knows, ``TicketCoreSeam/caller(_:_:)``).
    public let core: any TicketCoreSeam

    public init(database: any Database, secret: DeploymentSecret, core: any TicketCoreSeam = MinimalTicketCore(),
                configuration: Configuration = Configuration(), publisher: EventPublisher = EventPublisher(source: "workflow"),
                clock: @escaping @Sendable () -> Int64 = currentMillis,
                onTimerError: (@Sendable (TimerRecord?, any Error) -> Void)? = nil) {
        self.database = database
        self.configuration = configuration
        self.clock = clock
        self.core = core
        sla = SLAEngine(clock: SLAClock(stopStages: configuration.slaStopStages), publisher: publisher, core: core)
        var inactivity = InactivityEngine(dayLength: configuration.dayLength, publisher: publisher, core: core)
        inactivity.config = sla.config  // one configuration cache for both engines
        self.inactivity = inactivity
        survey = SurveyService(secret: secret, baseURL: configuration.surveyBaseURL, validity: configuration.surveyValidity,
                               publisher: publisher, core: core)
        metrics = MetricsRecorder(finalStages: configuration.finalStages, solvedStages: configuration.slaStopStages)
        scheduler = TimerScheduler(database: database, name: "workflow-timers", configuration: configuration.scheduler,
                                   onError: onTimerError, clock: clock)
        sla.register(on: scheduler)
        inactivity.register(on: scheduler)
    }

    // MARK: What the ticket core reports (call inside the change's transaction)

    /// A ticket was opened in `stage`.
    ///
    /// On PostgreSQL the SLA, inactivity and metrics writes of a ticket seen for the first time
    /// go out as **one** statement (``GuardedWrites``: each part's first row guards the rest of
    /// that part); a part whose row already existed (the same ticket reported opened again) then
    /// takes its ordinary path, as on SQLite.
    public func ticketOpened(_ tx: any SQLExecutor, ticketID: String, dimensions: TicketDimensions, stage: String,
                             calendarID: String = "", at: Int64) throws {
        let event = SLAEvent.opened(plan: dimensions.plan, priority: dimensions.priority, stage: stage, calendarID: calendarID)
        guard tx.engine == .postgres else {
            try sla.onTicketEvent(tx, ticketID: ticketID, event, at: at)
            try inactivity.onStageEntered(tx, ticketID: ticketID, stage: stage, at: at, opening: true)
            // Last: the shared counter rows stay locked from here to the commit only.
            try metrics.onTicketEvent(tx, ticketID: ticketID, .opened(dimensions, stage: stage), at: at)
            return
        }
        try ConfigVersion.scoped(try ConfigVersion.read(tx)) {
            var statement = GuardedWrites()
            let finish = try openingWrites(tx, ticketID: ticketID, dimensions: dimensions, stage: stage, calendarID: calendarID, at: at,
                                           into: &statement)
            try finish(try statement.run(tx))
        }
    }

    /// ``ticketOpened(_:ticketID:dimensions:stage:calendarID:at:)``'s writes added to `statement`
    /// (PostgreSQL), for a caller that runs them in a statement of its own or with other writes.
    /// - Returns: what to run after the statement with the guards that inserted: the ordinary
    ///   path of each part whose guard did not.
    func openingWrites(_ tx: any SQLExecutor, ticketID: String, dimensions: TicketDimensions, stage: String, calendarID: String = "",
                       at: Int64, into statement: inout GuardedWrites) throws -> (Set<String>) throws -> Void {
        let event = SLAEvent.opened(plan: dimensions.plan, priority: dimensions.priority, stage: stage, calendarID: calendarID)
        let slaIncluded = try sla.openingWrites(tx, ticketID: ticketID, event, at: at, into: &statement)
        try inactivity.openingWrites(tx, ticketID: ticketID, stage: stage, at: at, into: &statement)
        // Last: the shared counter rows stay locked from here to the commit only (concurrent
        // openings queue on them), not through the SLA and inactivity writes.
        let summed = metrics.openingWrites(tx, ticketID: ticketID, dimensions, stage: stage, at: at, into: &statement)
        let (sla, inactivity) = (self.sla, self.inactivity)
        return { inserted in
            summed?(inserted)
            if !slaIncluded || !inserted.contains("sla") { try sla.onTicketEvent(tx, ticketID: ticketID, event, at: at) }
            if !inserted.contains("entry") { try inactivity.onStageEntered(tx, ticketID: ticketID, stage: stage, at: at) }
        }
    }

    /// The ticket entered `stage` (with `outcome` when the stage is final: how it ended, for the
    /// metrics' breakdown by outcome). Entering a final stage records the resolution (a cancel
    /// stage's only when the clock had stopped on a solution before, ``Configuration/cancelStages``)
    /// and opens the survey unless the stage cancels the ticket (``Configuration/cancelStages``).
    /// - Returns: the survey link when the ticket finished with one (else `""`).
    @discardableResult
    public func stageChanged(_ tx: any SQLExecutor, ticketID: String, to stage: String, outcome: String = "", at: Int64) throws -> String {
        // The SLA and inactivity engines share one configuration cache: one version check for both.
        try ConfigVersion.scoped(try ConfigVersion.read(tx)) { try applyStageChange(tx, ticketID: ticketID, to: stage, outcome: outcome, at: at) }
    }

    private func applyStageChange(_ tx: any SQLExecutor, ticketID: String, to stage: String, outcome: String, at: Int64) throws -> String {
        let computed = try sla.onTicketEvent(tx, ticketID: ticketID, .stageChanged(stage), at: at)
        try metrics.onTicketEvent(tx, ticketID: ticketID, .stageChanged(stage, outcome: outcome), at: at)
        try inactivity.onStageEntered(tx, ticketID: ticketID, stage: stage, at: at)
        guard configuration.finalStages.contains(stage) else { return "" }
        if let resolution = computed.target(.resolution), let start = resolution.startedAt,
           !(configuration.cancelStages.contains(stage) && (resolution.stoppedAt ?? at) >= at) {
            // Wall time to where the resolution clock stopped, like its business time: Resolvido
            // in the TOTVS-like flow, days before the close that finishes the ticket. A
            // cancellation is no resolution (its clock stopped only because the ticket ended):
            // counting it put a duplicate cancelled in ten minutes into the average time to
            // resolution and the SLA met share; one cancelled after a solution (Resolvido) keeps it.
            let wall = (resolution.stoppedAt ?? at) - start
            try metrics.onTicketEvent(tx, ticketID: ticketID, .resolved(wallMillis: wall, businessMillis: resolution.elapsedMillis,
                                                                        met: resolution.status != .breached), at: at)
        }
        // No first response here: finishing stops the SLA's first-response clock, but a ticket
        // nobody answered has no first response to count (agentResponded records the real one).
        // A cancelled ticket has nothing to rate: no survey (one not answered yet goes).
        if configuration.cancelStages.contains(stage) {
            try survey.onCancelled(tx, ticketID: ticketID)
            return ""
        }
        let d = try dimensions(tx, ticketID: ticketID)
        return try survey.onFinished(tx, ticketID: ticketID, dimensions: SurveyDimensions(
            agentID: d.agentID, groupID: d.groupID, product: d.product, module: d.module, category: d.category,
            organizationID: d.organizationID), at: at)
    }

    /// The ticket left a final stage (after its stage change was reported): its survey, not
    /// answered yet, closes until it finishes again (``SurveyService/onReopened(_:ticketID:at:)``).
    public func ticketReopened(_ tx: any SQLExecutor, ticketID: String, at: Int64) throws {
        try survey.onReopened(tx, ticketID: ticketID, at: at)
    }

    /// An agent answered the customer publicly, the ticket being in `stage` (empty: unknown).
    /// An inactivity countdown the customer had stopped in that stage starts again
    /// (``InactivityEngine/onAgentResponse(_:ticketID:stage:at:)``).
    public func agentResponded(_ tx: any SQLExecutor, ticketID: String, stage: String = "", at: Int64) throws {
        // The SLA and inactivity engines share one configuration cache: one version check for both.
        try ConfigVersion.scoped(try ConfigVersion.read(tx)) {
            let computed = try sla.onTicketEvent(tx, ticketID: ticketID, .agentResponse, at: at)
            try recordFirstResponse(tx, ticketID: ticketID, computed, answeredAt: at)
            if !stage.isEmpty { try inactivity.onAgentResponse(tx, ticketID: ticketID, stage: stage, at: at) }
        }
    }

    /// The customer wrote: stops inactivity countdowns and starts a next-response cycle.
    public func customerReplied(_ tx: any SQLExecutor, ticketID: String, at: Int64) throws {
        try sla.onTicketEvent(tx, ticketID: ticketID, .customerReply, at: at)
        try inactivity.onCustomerActivity(tx, ticketID: ticketID, at: at)
    }

    /// The priority changed: due times are recomputed from the history.
    public func priorityChanged(_ tx: any SQLExecutor, ticketID: String, priority: Int32, at: Int64) throws {
        try sla.onTicketEvent(tx, ticketID: ticketID, .priorityChanged(priority), at: at)
        try reclassify(tx, ticketID: ticketID, at: at) { $0.priority = priority }
    }

    /// The contract plan changed: due times are recomputed from the history.
    public func planChanged(_ tx: any SQLExecutor, ticketID: String, plan: String, at: Int64) throws {
        try sla.onTicketEvent(tx, ticketID: ticketID, .planChanged(plan), at: at)
        try reclassify(tx, ticketID: ticketID, at: at) { $0.plan = plan }
    }

    /// The ticket's business calendar changed from `at` on.
    public func calendarChanged(_ tx: any SQLExecutor, ticketID: String, calendarID: String, at: Int64) throws {
        try sla.onTicketEvent(tx, ticketID: ticketID, .calendarChanged(calendarID), at: at)
    }

    /// Category, product, module, group, agent or access level changed (metrics follow).
    public func reclassified(_ tx: any SQLExecutor, ticketID: String, dimensions: TicketDimensions, at: Int64) throws {
        try metrics.onTicketEvent(tx, ticketID: ticketID, .reclassified(dimensions), at: at)
    }

    /// The ticket was transferred (or sent back).
    public func transferred(_ tx: any SQLExecutor, ticketID: String, pingPong: Bool, groupID: String, agentID: String, at: Int64) throws {
        try metrics.onTicketEvent(tx, ticketID: ticketID, .transferred(pingPong: pingPong, groupID: groupID, agentID: agentID), at: at)
    }

    /// The survey link of a ticket finished at `finishedAt` (no database access).
    public func surveyLink(ticketID: String, finishedAt: Int64) -> String {
        survey.link(ticketID: ticketID, finishedAt: finishedAt)
    }

    /// The link for `TicketFinished.survey_url` of a ticket that finished at `finishedAt` (its
    /// stage change already reported): empty when that finish opened no survey — cancelled, or
    /// answered before (``SurveyService/openLink(_:ticketID:finishedAt:)``).
    public func finishedSurveyLink(_ tx: any SQLExecutor, ticketID: String, finishedAt: Int64) throws -> String {
        try survey.openLink(tx, ticketID: ticketID, finishedAt: finishedAt)
    }

    /// Records a survey answer (once per ticket), its event and its metric. - Returns: the ticket id.
    @discardableResult
    public func answerSurvey(_ tx: any SQLExecutor, token: String, score: Int32, comment: String, at: Int64) throws -> String {
        let ticketID = try survey.answer(tx, token: token, score: score, comment: comment, at: at)
        try metrics.onTicketEvent(tx, ticketID: ticketID, .surveyAnswered(score: score), at: at)
        return ticketID
    }

    // MARK: Internals

    /// The first-response metric when the answer at `answeredAt` is what stopped the ticket's
    /// first-response clock (the metrics keep only the first one recorded).
    private func recordFirstResponse(_ tx: any SQLExecutor, ticketID: String, _ computed: SLAComputation, answeredAt: Int64) throws {
        guard let first = computed.target(.firstResponse), first.stopped, let start = first.startedAt, first.stoppedAt == answeredAt else { return }
        try metrics.onTicketEvent(tx, ticketID: ticketID, .firstResponse(wallMillis: answeredAt - start, businessMillis: first.elapsedMillis,
                                                                         met: first.status != .breached), at: answeredAt)
    }

    func dimensions(_ tx: any SQLExecutor, ticketID: String) throws -> TicketDimensions {
        guard let row = try tx.queryOne("SELECT * FROM wf_metric_tickets WHERE ticket_id = ?", [.text(ticketID)]) else { return TicketDimensions() }
        return TicketDimensions(organizationID: try row.text("organization_id"), category: Int32(try row.int("category")),
                                product: try row.text("product"), module: try row.text("module"), priority: Int32(try row.int("priority")),
                                plan: try row.text("plan"), groupID: try row.text("group_id"), agentID: try row.text("agent_id"),
                                accessLevel: Int32(try row.int("access_level")))
    }

    private func reclassify(_ tx: any SQLExecutor, ticketID: String, at: Int64, _ change: (inout TicketDimensions) -> Void) throws {
        var d = try dimensions(tx, ticketID: ticketID)
        change(&d)
        try metrics.onTicketEvent(tx, ticketID: ticketID, .reclassified(d), at: at)
    }
}
