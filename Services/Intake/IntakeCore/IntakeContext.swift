import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// Everything intake's operations share: the database, settings, the attachment store, the
/// event publisher and the way to reach workflow. Operations take a ``Caller`` rather than an RPC
/// context, so the e-mail channel runs exactly the same code as the RPC handlers.
public final class IntakeContext: Sendable {
    public let database: any Database
    public let settings: IntakeSettings
    public let contents: ContentStore
    let publisher = EventPublisher(source: "intake")
    /// Concurrent ticket opens share one SQLite transaction (see ``GroupCommit``).
    let openCommits: GroupCommit<IntakeV1.OpenTicketResponse>?
    /// Who holds a ticket (workflow's `GetTicketHolder`); injected so the e-mail command, which
    /// never changes contacts, needs no client.
    let ticketHolder: @Sendable (String, CallOptions) throws -> WorkflowV1.GetTicketHolderResponse

    public init(database: any Database, settings: IntakeSettings,
                ticketHolder: @escaping @Sendable (String, CallOptions) throws -> WorkflowV1.GetTicketHolderResponse) throws {
        self.database = database
        self.settings = settings
        self.contents = try ContentStore(root: settings.attachmentsDirectory)
        self.ticketHolder = ticketHolder
        openCommits = database.engine == .sqlite && settings.groupCommit ? GroupCommit(database: database) : nil
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func newID() -> String { UUID().uuidString.lowercased() }
}
