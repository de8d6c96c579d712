import Foundation
import Messages
import RPCTransport
import ServiceKit
import Storage

/// The intake service: its schema and the RPC methods and background work it registers.
///
/// ```swift
/// ServiceMain.run(name: "intake", migrations: IntakeService.migrations) { runtime, router in
///     try IntakeService.register(runtime: runtime, router: &router)
/// }
/// ```
public enum IntakeService {
    /// Versioned migrations of the intake database (appended to, never edited).
    public static let migrations: [Migration] = IntakeSchema.migrations

    /// Intake's database tuning (`ServiceMain.run(databaseTuning:)`): SQLite's writer tuning for a
    /// write-heavy service (`tunedForWrites()`), and, when opens are checkpointed in the
    /// background (``WALCheckpointer``, `INTAKE_SQLITE_BACKGROUND_CHECKPOINT`), the writer's own
    /// automatic checkpoint at 16,000 WAL pages instead of 4,000: it then only catches what the
    /// background checkpoints leave (writes outside the group commit, or a checkpointer behind).
    /// `INTAKE_SQLITE_CHECKPOINT_PAGES` still wins. Same durability.
    public static func databaseTuning(_ configuration: DatabaseConfiguration,
                                      environment: [String: String] = ProcessInfo.processInfo.environment) -> DatabaseConfiguration {
        var tuned = configuration
        let groupCommit = !["0", "false", "no"].contains(environment["INTAKE_GROUP_COMMIT"]?.lowercased() ?? "")
        if tuned.sqliteCheckpointPages == nil && groupCommit && (try? IntakeSettings.backgroundCheckpoint(environment)) != false {
            tuned.sqliteCheckpointPages = 16_000
        }
        return tuned.tunedForWrites()
    }

    /// Registers the service's methods, its event consumer and its outbox relay.
    /// - Throws: ``ConfigurationError`` for a malformed `INTAKE_*` variable.
    @discardableResult
    public static func register(runtime: ServiceRuntime, router: inout RPCRouter) throws -> IntakeContext {
        var settings = try IntakeSettings(environment: runtime.configuration.environment,
                                          dataDirectory: runtime.configuration.dataDirectory)
        settings.maxFrameBytes = runtime.configuration.limits.maxFrameSize
        let principals = runtime.principals
        let intake = try IntakeContext(database: runtime.database, settings: settings) { ticketID, principal, options in
            var request = WorkflowV1.GetTicketHolderRequest()
            request.ticketID = ticketID
            var options = options
            options.metadata.merge(principals.metadata(for: principal)) { _, signed in signed }
            return try runtime.client(for: "workflow").call(WorkflowV1.Workflow.getTicketHolder, request, options: options)
        }
        // Only old ones: another process sharing the store may be receiving uploads (the rest go
        // with the orphan scan's passes, ``OrphanScanPass``).
        intake.contents.removeStaleUploads(olderThanMilliseconds: settings.orphanFileMinAgeMilliseconds)
        IntakeAPI.register(intake, principals: runtime.principals, in: &router)
        var consumer = EventConsumer(consumer: "intake", batched: true)
        // Workflow finished the ticket (Finalizado or Cancelado): the customer can no longer
        // cancel it, and `GetTicket` says so — also when a customer's cancel here crossed the
        // finish and workflow could not apply it (``TicketStore/markFinished(_:ticketID:outcome:)``).
        consumer.on(WorkflowV1.TicketFinished.self) { event, _, tx in
            guard let ticketID = event.ticket?.ticketID, !ticketID.isEmpty else { return }
            try TicketStore.markFinished(tx, ticketID: ticketID, outcome: event.outcome)
        }
        consumer.register(in: &router, database: runtime.database, logger: runtime.logger)
        var relay = EventPublisher.defaultRelayConfiguration
        if let milliseconds = settings.relayPollMilliseconds { relay.pollInterval = .milliseconds(milliseconds) }
        let outbox = EventPublisher(source: "intake").relay(runtime: runtime, configuration: relay)
        intake.attach(relay: outbox)
        runtime.addBackground(outbox)
        runtime.addBackground(GroupCommitReport(intake: intake, logger: runtime.logger))
        if settings.garbageCollectionIntervalSeconds > 0 {
            runtime.addBackground(PeriodicSweep.garbageCollector(intake: intake, logger: runtime.logger))
            // Files an upload renamed into place whose row never committed: handed to the collector.
            if settings.orphanScanIntervalSeconds > 0 {
                runtime.addBackground(PeriodicSweep.orphanScan(intake: intake, logger: runtime.logger))
            }
        }
        let environment = runtime.configuration.environment
        let tokens = ReplyToken(secret: runtime.secret)
        // Mail held before migration 26: the ticket each was threaded to, looked for once.
        try intake.recordQuarantineThreads(tokens: tokens)
        // Addresses and keys stored before today's rules (migration 35), once.
        let addresses = try intake.checkStoredAddresses()
        if addresses.rekeyed + addresses.cleared > 0 {
            runtime.logger.notice("stored e-mail addresses checked", ["rekeyed": "\(addresses.rekeyed)", "cleared": "\(addresses.cleared)"])
        }
        MailQuarantineAPI.register(intake, principals: runtime.principals, tokens: tokens,
                                   settings: MailIngestSettings(environment: environment), in: &router)
        // Answers to rejected mail are sent by any intake process with SMTP configured, also
        // those queued before a restart.
        var bounces: MailBounceQueue?
        if let bounce = try MailBounce.fromEnvironment(environment) {
            let queue = MailBounceQueue(database: runtime.database, bounce: bounce, logger: runtime.logger)
            runtime.addBackground(queue)
            bounces = queue
        }
        let retention = try MailRetention.retention(environment)
        if retention > 0 && settings.garbageCollectionIntervalSeconds > 0 {
            runtime.addBackground(MailRetention.sweep(intake: intake, retentionMilliseconds: retention, logger: runtime.logger))
        }
        if let poller = try MailPoller.fromEnvironment(environment, intake: intake, tokens: tokens, logger: runtime.logger) {
            poller.bounceQueue = bounces
            runtime.addBackground(poller)
        }
        return intake
    }
}
