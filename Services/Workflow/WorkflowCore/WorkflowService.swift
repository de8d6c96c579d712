import Foundation
import RPCTransport
import ServiceKit
import Storage

/// The workflow service: its schema and the RPC methods and background work it registers.
public enum WorkflowService {
    /// Versioned migrations of the workflow database (appended to, never edited). The core uses
    /// versions 1–99; the SLA/timers/survey/metrics parts append theirs from 100.
    public static var migrations: [Migration] { WorkflowSchema.migrations + WorkflowTimeMigrations.all + [OpeningStorage.migration, DeferredTextIndex.migration, MetricsQuery.filterMigration, AttachmentOrder.migration,
                                                     InternalAttachments.migration, DeferredTextIndex.explicitInsertMigration, EntryTextIndex.migration,
                                                     HeldTicketIndexes.migration, EntrySequences.migration, FiscalConfigurationFinish.migration,
                                                     MetricsQuery.outcomeBackfill, AppliedReplies.migration, FlowStore.englishNamesMigration,
                                                     FormerHolders.migration, FormerHolders.stepsMigration] }

    /// The service's defaults for its database (the environment's settings win): on SQLite an
    /// 8 MiB writer page cache (the last pages of the tickets table's indexes, the history, the
    /// SLA and timer tables stay in memory), a checkpoint every 4,000 WAL pages instead of 1,000
    /// (a page changed by many commits, such as those last pages and the metric counters, is
    /// copied into the database file once instead of up to four times) and the writer's
    /// savepoint journals in memory. Same durability (``DatabaseConfiguration/tunedForWrites()``).
    public static func databaseTuning(_ configuration: DatabaseConfiguration) -> DatabaseConfiguration {
        configuration.tunedForWrites()
    }

    /// How long a delivery of events waits for concurrent deliveries before one transaction
    /// applies them all (``EventConsumer/gatherWindow``): `WORKFLOW_GATHER_MS`, 1–1000 ms; unset
    /// or zero: no wait (the default). A window makes fewer, larger transactions (less
    /// of workflow's CPU per event: commits, full-text segments, inbox claims and metric counters
    /// are per transaction) at the cost of that wait before a ticket is in workflow; measured
    /// end to end, intake's relay then spent about as much more as workflow saved
    /// (docs/BENCHMARKS-workflow.md), so it is off unless a deployment asks for it.
    /// - Throws: ``ServiceKit/ConfigurationError`` for anything but a whole number from 0 to 1000.
    public static func gatherWindow(_ environment: [String: String]) throws -> TimeInterval {
        Double(try EnvironmentSettings(environment).integer("WORKFLOW_GATHER_MS", in: 0...1_000) ?? 0) / 1000
    }

    /// Options of the workflow core.
    public struct Options: Sendable {
        /// Observers called on every ticket change (the extension seam; see ``TicketObserver``).
        public var observers: [any TicketObserver] = []
        /// The clock in epoch ms.
        public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
        /// The survey link put in TicketFinished, read in the finish's transaction after the
        /// observers ran (empty: the finish opened no survey).
        public var surveyLink: @Sendable (any SQLExecutor, TicketRecord) throws -> String = { _, _ in "" }
        /// The flow new tickets follow; `WORKFLOW_FLOW` in the environment, default "padrao".
        public var defaultFlow: String?
        /// Runs the time half (SLA, timers, inactivity, survey, metrics; docs/WORKFLOW-TIME.md),
        /// which adds its observer and survey links to these options.
        public var time = true

        public init() {}
    }

    /// Registers the service's methods, its event consumer and its outbox relay.
    /// - Returns: the lifecycle, for parts that act on tickets themselves (timers).
    @discardableResult
    public static func register(runtime: ServiceRuntime, router: inout RPCRouter, options: Options = Options()) throws -> TicketLifecycle {
        var options = options
        let time = options.time ? try WorkflowTimeWiring.prepare(runtime: runtime, options: &options) : nil
        let flows = try runtime.database.write { tx in
            try FlowStore.seed(tx)
            return try FlowStore.load(tx)
        }
        let flowName = options.defaultFlow ?? runtime.configuration.environment["WORKFLOW_FLOW"] ?? FlowPresets.standard.name
        // A mistyped WORKFLOW_FLOW stops the start instead of quietly opening tickets in another flow.
        guard options.defaultFlow != nil || flows[flowName] != nil else {
            throw ConfigurationError("WORKFLOW_FLOW inválido / invalid: '\(flowName)' (fluxos / flows: \(flows.keys.sorted().joined(separator: ", ")))")
        }
        let lifecycle = TicketLifecycle(flows: flows, defaultFlow: flowName, publisher: EventPublisher(source: "workflow"),
                                        observers: options.observers, now: options.now, surveyLink: options.surveyLink)
        // A delivery's events in one transaction (one commit instead of one per event). On
        // PostgreSQL the metric counters go to the thread's shard (MetricsRecorder.shard), so
        // such transactions side by side do not lock each other's counter rows.
        var consumer = EventConsumer(consumer: "workflow", batched: true)
        TicketIntake.register(&consumer, lifecycle: lifecycle)
        // A delivery's metric counters are added up and written once, at the end of its
        // transaction (last: on PostgreSQL the shared counter rows stay locked from there to the
        // commit only); on SQLite its openings' full-text rows are indexed together before that,
        // and the configuration version is read once per transaction; on PostgreSQL consecutive
        // openings are written together (OpeningGroup), inside all of these.
        consumer.aroundHandlers { tx, body in
            try MetricsRecorder.summingCounters(tx) {
                try DeferredTextIndex.around(tx) {
                    try ConfigVersion.perTransaction(tx) { try OpeningGroup.around(tx, lifecycle: lifecycle, body) }
                }
            }
        }
        consumer.gatherWindow = try gatherWindow(runtime.configuration.environment)
        consumer.register(in: &router, database: runtime.database, logger: runtime.logger)

        let api = WorkflowAPI(database: runtime.database, principals: runtime.principals, lifecycle: lifecycle,
                              queries: TicketQueries(lifecycle: lifecycle), maxFrameSize: runtime.configuration.limits.maxFrameSize)
        api.registerDirectory(&router)
        api.registerReads(&router)
        api.registerWrites(&router)
        TimeEntries.register(&router, api: api)
        DevelopmentBacklog.register(&router, api: api)
        AdvanceSteps.register(&router, api: api)
        CsvExport.register(&router, api: api)
        RelatedTickets.register(&router, api: api, intake: { runtime.client(for: "intake") })
        if let (time, seam) = time {
            try WorkflowTimeWiring.finish(time, seam, lifecycle: lifecycle, runtime: runtime, router: &router)
        }
        runtime.addBackground(EventPublisher(source: "workflow").relay(runtime: runtime))
        return lifecycle
    }
}
