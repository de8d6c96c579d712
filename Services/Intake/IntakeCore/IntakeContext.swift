import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization

/// Everything intake's operations share: the database, settings, the attachment store, the
/// event publisher and the way to reach workflow. Operations take a ``Caller`` rather than an RPC
/// context, so the e-mail channel runs exactly the same code as the RPC handlers.
public final class IntakeContext: Sendable {
    public let database: any Database
    public let settings: IntakeSettings
    public let contents: ContentStore
    let publisher = EventPublisher(source: "intake")
    /// Channels, origins and custom fields as opens read them (see ``CatalogCache``).
    let catalogCache = CatalogCache()
    /// Concurrent ticket opens share one transaction (see ``GroupCommit``); `nil` when off.
    let openCommits: GroupCommit?
    /// Concurrent uploads' rows share one transaction the same way, with the opens: the same
    /// writer as ``openCommits`` (`nil` when group commit is off). A writer of their own only
    /// queued behind the opens' for SQLite's single writer, and on both engines each writer waited
    /// in its gather window for callers busy in the other (a client uploads, then opens); an
    /// upload's rows go out with the batch's others (``OpenBatch/deferFiles(contents:attachments:)``),
    /// so it adds no round trip to a PostgreSQL batch (docs/BENCHMARKS-intake.md, 2026-11-30 s22).
    let uploadCommits: GroupCommit?
    /// SQLite: the double-submission check's memory (see ``RecentSubmissions``); `nil` on
    /// PostgreSQL (an index answers it there) or without a window.
    let recentSubmissions: RecentSubmissions?
    /// SQLite checkpoints off the group commit's writer (see ``WALCheckpointer``); `nil` when off.
    let checkpointer: WALCheckpointer?
    /// Workflow's `GetTicketHolder` for a ticket id, asked as the principal given (signed by the
    /// closure) with the deadline and trace of the options: who holds a ticket, and whether that
    /// principal may see it (``requireTicketAccess(_:caller:)``). Injected so the e-mail command,
    /// which acts as a service and never changes contacts, needs no client.
    let ticketHolder: @Sendable (String, AuthV1.Principal, CallOptions) throws -> WorkflowV1.GetTicketHolderResponse
    /// Workflow's recent grants of tickets to agents (``TicketAccessCache``).
    let accessCache: TicketAccessCache
    /// The service's outbox relay, nudged after a reply or a cancellation commits
    /// (``nudgeRelay()``); `nil` until ``IntakeService`` attaches it (and in-process tests).
    private let relay = Mutex<OutboxRelay?>(nil)

    /// Lets a customer's reply or cancellation reach workflow without waiting for the relay's
    /// idle poll (200 ms): the gateway answers a reply once workflow shows it (docs/GATEWAY.md,
    /// "Reading your own reply"). Busy rounds still batch (``OutboxRelay/nudge()``).
    public func attach(relay outbox: OutboxRelay) {
        relay.withLock { $0 = outbox }
    }

    /// Nudges the attached relay: events were just committed.
    func nudgeRelay() {
        relay.withLock { $0 }?.nudge()
    }

    public init(database: any Database, settings: IntakeSettings,
                ticketHolder: @escaping @Sendable (String, AuthV1.Principal, CallOptions) throws -> WorkflowV1.GetTicketHolderResponse) throws {
        self.database = database
        self.settings = settings
        self.contents = try ContentStore(root: settings.attachmentsDirectory)
        self.ticketHolder = ticketHolder
        self.accessCache = TicketAccessCache(lifetimeMilliseconds: settings.workflowAccessCacheMilliseconds)
        let recent = database.engine == .sqlite && settings.duplicateWindowMilliseconds > 0
            ? RecentSubmissions(windowMilliseconds: settings.duplicateWindowMilliseconds, capacity: settings.recentSubmissionsMax) : nil
        recentSubmissions = recent
        let groupCommit = settings.groupCommit ?? true
        let checkpointer = groupCommit && settings.sqliteBackgroundCheckpoint && database.engine == .sqlite
            ? WALCheckpointer(database: database, everyOpens: settings.sqliteCheckpointEveryOpens) : nil
        self.checkpointer = checkpointer
        var committed: (@Sendable (Int) -> Void)?
        if let checkpointer { committed = { opens in checkpointer.committed(opens: opens) } }
        openCommits = groupCommit
            ? GroupCommit(database: database, gatherMicroseconds: settings.groupCommitGatherMicroseconds,
                          committed: committed, recent: recent) : nil
        uploadCommits = openCommits
    }

    /// What the background checkpointer has done (`nil` when it is off).
    /// The newest page of a ticket's messages, as answers that carry the ticket list them
    /// (``TicketPage``, within a third of the RPC frame: ``IntakeSettings/maxFrameBytes``).
    var newestPage: TicketPage { TicketPage(maxFrameSize: settings.maxFrameBytes) }

    public var checkpointStatistics: WALCheckpointer.Statistics? { checkpointer?.statistics }

    /// What the group commit of ticket opens has done (`nil` when it is off).
    public var openCommitStatistics: GroupCommitStatistics? { openCommits?.statistics }

    /// What the group commit of uploads has done (`nil` when it is off): the opens' one, which runs both.
    public var uploadCommitStatistics: GroupCommitStatistics? { uploadCommits?.statistics }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A new id: a version-7 UUID (48 bits of epoch milliseconds, then 74 random bits), lower
    /// case. Ids made one after another sort together, so the rows and index entries of the
    /// tickets (and their outbox rows) opened in one transaction share B-tree pages instead of
    /// landing on a random page each; that is what makes a group commit write fewer pages.
    static func newID() -> String { RandomID.timeOrdered(milliseconds: now()) }

    /// `value` in decimal, left-padded with zeros to `width` digits (what `%0*lld` gives, without
    /// Foundation's `String(format:)`, which is slow on Linux).
    static func zeroPadded(_ value: Int64, width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
