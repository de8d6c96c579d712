import Foundation
import MailKit
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// The notification service: consumes intake's and workflow's events, decides who is told
/// (rules, subscriptions, confidentiality), renders and logs one delivery per event, recipient
/// and channel, and sends them by SMTP and signed webhooks with retries. See docs/NOTIFICATION.md.
public enum NotificationService {
    /// Versioned migrations of the notification database (appended to, never edited).
    public static let migrations: [Migration] = NotificationSchema.migrations

    /// The service's defaults for its database (the environment's settings win): on SQLite the
    /// writer keeps temporary b-trees in memory (a claim's `RETURNING` rows, the `IN (…)` set),
    /// an 8 MiB page cache and a checkpoint every 4,000 WAL pages instead of 1,000, so a page
    /// changed by many commits (the delivery rows of a batch, the outbox's last pages) is copied
    /// into the database file once instead of up to four times. Same durability
    /// (``DatabaseConfiguration/tunedForWrites()``).
    public static func databaseTuning(_ configuration: DatabaseConfiguration) -> DatabaseConfiguration {
        configuration.tunedForWrites()
    }

    /// Registers the service's methods, its event consumer, its sender and its outbox relay.
    /// Settings come from `NOTIFICATION_*` variables and rules from `NOTIFICATION_RULES_FILE`.
    /// - Throws: ``NotificationConfigurationError`` for malformed settings or rules.
    public static func register(runtime: ServiceRuntime, router: inout RPCRouter) throws {
        let environment = runtime.configuration.environment
        let settings = try NotificationSettings(environment: environment)
        let rules = try environment["NOTIFICATION_RULES_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            .map(NotificationRules.load(path:)) ?? .defaults
        try register(runtime: runtime, router: &router, settings: settings, rules: rules)
    }

    /// Same, with explicit settings and rules (tests, embedding).
    public static func register(runtime: ServiceRuntime, router: inout RPCRouter, settings: NotificationSettings,
                                rules: NotificationRules) throws {
        _ = try registerReturningDispatcher(runtime: runtime, router: &router, settings: settings, rules: rules)
    }

    /// Same, handing back the sender (the benchmark holds and resumes it).
    package static func registerReturningDispatcher(runtime: ServiceRuntime, router: inout RPCRouter, settings: NotificationSettings,
                                                    rules: NotificationRules) throws -> DeliveryDispatcher {
        AllocatorTuning.apply()
        let publisher = EventPublisher(source: "notification")
        let identity = MessageIdentity(secret: runtime.secret, domain: settings.mailDomain, replyLocalPart: settings.replyLocalPart,
                                       noTicketReplyTo: settings.noTicketReplyTo)
        let planner = DeliveryPlanner(rules: rules, settings: settings, identity: identity, publisher: publisher)
        let secrets = try SecretBox.load(environment: runtime.configuration.environment,
                                         dataDirectory: runtime.configuration.dataDirectory)
        let sealed = try runtime.database.write { tx in try WebhookStore.sealLegacySecrets(tx, box: secrets) }
        if sealed > 0 { runtime.logger.info("webhook secrets encrypted at rest", ["notification.webhooks": String(sealed)]) }
        let unreadable = try runtime.database.read { tx in
            try WebhookStore.active(tx).filter { (try? secrets.open($0.sealedSecret)) == nil }.count
        }
        if unreadable > 0 {
            runtime.logger.error("webhook secrets do not open with this instance's key (set the same NOTIFICATION_SECRETS_KEY on every instance)",
                                 ["notification.webhooks": String(unreadable)])
        }
        // Attachments spooled by a process that stopped before storing its message.
        let stale = AttachmentSpool(dataDirectory: runtime.configuration.dataDirectory).removeStale(olderThan: 3_600)
        if stale > 0 { runtime.logger.info("stale attachment spool files removed", ["notification.files": String(stale)]) }
        let dispatcher = DeliveryDispatcher(database: runtime.database, settings: settings, logger: runtime.logger, publisher: publisher,
                                            secrets: secrets, instanceID: runtime.configuration.instanceID)

        var consumer = EventConsumer(consumer: "notification", batched: true)
        // NOTIFICATION_GATHER_MS (off by default): fewer, larger transactions, e-mails that much later.
        consumer.gatherWindow = Double(settings.gatherMilliseconds) / 1000
        EventHandlers.register(&consumer, planner: planner)
        // Deliveries are claimed by the event's own transaction and handed to their lanes once
        // it committed (``ClaimingDatabase``); the coordinator is woken only for rows left queued.
        consumer.register(in: &router, database: ClaimingDatabase(base: runtime.database, dispatcher: dispatcher), logger: runtime.logger)
        NotificationAPI(runtime: runtime, planner: planner, dispatcher: dispatcher, secrets: secrets,
                        tickets: TicketAccessCheck(runtime: runtime)).register(in: &router)
        runtime.addBackground(dispatcher)
        runtime.addBackground(DeliveryPruner(database: runtime.database, settings: settings, logger: runtime.logger))
        runtime.addBackground(publisher.relay(runtime: runtime))
        if !settings.bounceIMAPURL.isEmpty {
            var mailbox = IMAPMailbox(url: settings.bounceIMAPURL, user: settings.bounceIMAPUser, password: settings.bounceIMAPPassword)
            mailbox.caFile = settings.bounceIMAPCAFile
            mailbox.connectTimeoutMilliseconds = settings.connectTimeoutMilliseconds
            runtime.addBackground(BounceMailboxPoller(mailbox: mailbox, processor: BounceProcessor(database: runtime.database, publisher: publisher),
                                                      processedFolder: settings.bounceProcessedFolder,
                                                      intervalMilliseconds: settings.bouncePollMilliseconds, logger: runtime.logger))
        }
        return dispatcher
    }
}

/// Which events notification consumes and how each becomes deliveries.
enum EventHandlers {
    /// How long an intake event about a ticket waits for workflow's events to tell who holds it.
    static let holderWait: Int64 = 30_000

    /// Intake's and workflow's events travel through different outboxes: a customer reply can
    /// arrive before workflow's `TicketRouted` that says who holds the ticket. Refusing it (ABORTED,
    /// nothing recorded; not UNAVAILABLE, which would tell the relay this service is unreachable
    /// and defer its other events) makes intake's relay deliver it again later; after ``holderWait`` it is
    /// planned with what is known. Once workflow has said anything about the ticket, what it said
    /// is the holder, even none (a ticket no routing rule placed): waiting would not change it.
    static func deferUntilHolderKnown(_ summary: WorkflowV1.TicketSummary?, _ envelope: EventsV1.EventEnvelope) throws {
        let age = Int64(Date().timeIntervalSince1970 * 1000) - envelope.occurredAtMs
        if summary == nil && envelope.occurredAtMs > 0 && age < holderWait {
            throw RPCError(.aborted, "responsável ainda desconhecido / ticket holder not known yet")
        }
    }

    static func register(_ consumer: inout EventConsumer, planner: DeliveryPlanner) {
        consumer.on(IntakeV1.TicketOpened.self) { event, envelope, tx in
            try planner.plan(EventInterpreter.facts(event, envelope), tx)
        }
        // A customer's reply or cancellation, as workflow applied it: its holder is current
        // (workflow's events of a ticket arrive in order). Planned as intake's kinds, so rules,
        // templates and webhooks name them as before.
        consumer.on(WorkflowV1.CustomerActionApplied.self) { event, envelope, tx in
            guard let summary = event.ticket else { return }
            try TicketCache.store(tx, summary)
            if let reply = event.reply {
                try planner.plan(EventInterpreter.facts(reply, envelope, summary: summary), tx)
            } else if let cancellation = event.cancellation {
                try planner.plan(EventInterpreter.facts(cancellation, envelope, summary: summary), tx)
            }
        }
        // Intake's own CustomerReplied and TicketCancelledByCustomer no longer come here
        // (EventRouting.eventSubscribers); these handlers plan the ones an older intake queued.
        consumer.on(IntakeV1.CustomerReplied.self) { event, envelope, tx in
            let summary = try TicketCache.load(tx, ticketID: event.ticketID)
            try deferUntilHolderKnown(summary, envelope)
            try planner.plan(EventInterpreter.facts(event, envelope, summary: summary), tx)
        }
        consumer.on(IntakeV1.TicketCancelledByCustomer.self) { event, envelope, tx in
            let summary = try TicketCache.load(tx, ticketID: event.ticketID)
            try deferUntilHolderKnown(summary, envelope)
            try planner.plan(EventInterpreter.facts(event, envelope, summary: summary), tx)
        }
        // Workflow's events carry the ticket's summary: cached (for intake's later events), then planned.
        func onWorkflowEvent<Event: TicketSummaryEvent>(_ type: Event.Type,
                                                         _ facts: @escaping @Sendable (Event, EventsV1.EventEnvelope) -> EventFacts) {
            consumer.on(type) { event, envelope, tx in
                try TicketCache.store(tx, event.ticket)
                try planner.plan(facts(event, envelope), tx)
            }
        }
        onWorkflowEvent(WorkflowV1.TicketRouted.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.StageChanged.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.Transferred.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.DiscussionAdded.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.InformationRequested.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.SolutionGiven.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.TicketFinished.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.InactivityReminder.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.SLAWarning.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.SLABreached.self, EventInterpreter.facts)
        onWorkflowEvent(WorkflowV1.SurveyAnswered.self, EventInterpreter.facts)
        // Nobody is told of a level change; the ticket's current level is kept, and e-mails still
        // queued to recipients below a raised level are withheld (``RaisedAccessLevel``).
        consumer.on(WorkflowV1.TicketAccessLevelChanged.self) { event, _, tx in
            try RaisedAccessLevel.apply(tx, event)
        }
    }
}

/// A workflow event that carries the ticket's summary (``EventHandlers`` caches it before planning).
protocol TicketSummaryEvent: ProtoMessage {
    var ticket: WorkflowV1.TicketSummary? { get }
}

extension WorkflowV1.TicketRouted: TicketSummaryEvent {}
extension WorkflowV1.StageChanged: TicketSummaryEvent {}
extension WorkflowV1.Transferred: TicketSummaryEvent {}
extension WorkflowV1.DiscussionAdded: TicketSummaryEvent {}
extension WorkflowV1.InformationRequested: TicketSummaryEvent {}
extension WorkflowV1.SolutionGiven: TicketSummaryEvent {}
extension WorkflowV1.TicketFinished: TicketSummaryEvent {}
extension WorkflowV1.InactivityReminder: TicketSummaryEvent {}
extension WorkflowV1.SLAWarning: TicketSummaryEvent {}
extension WorkflowV1.SLABreached: TicketSummaryEvent {}
extension WorkflowV1.SurveyAnswered: TicketSummaryEvent {}
