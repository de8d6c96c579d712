import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// What every handler needs: the database, the lifecycle, the queries and the caller's identity.
struct WorkflowAPI: Sendable {
    let database: any Database
    let principals: PrincipalSigner
    let lifecycle: TicketLifecycle
    let queries: TicketQueries
    /// The largest RPC frame (``RPCLimits/maxFrameSize``): pages of the discussion and the history
    /// are kept within a third of it (``TicketPage``).
    let maxFrameSize: Int

    /// The caller resolved against the directory, inside `tx`.
    func actor(_ context: ServerContext, _ tx: any SQLExecutor) throws -> Actor {
        try Actor.resolve(try principals.require(context), tx)
    }

    /// Runs a read with the caller.
    func read<T>(_ context: ServerContext, _ body: (Actor, any SQLExecutor) throws -> T) throws -> T {
        try database.read { tx in try body(try actor(context, tx), tx) }
    }

    /// Runs a mutation with the caller, once per idempotency key of that caller (a replay
    /// answers the caller's own first call; another caller's key of the same name is another key).
    /// `gate` is what the caller must be allowed to do it (a permission, ``Actor/requireWork()``):
    /// it runs before `body` on a first call and again on a replay, which answers only while the
    /// caller still passes it and may still reach what the request names (``replayCheck(_:_:gate:)``).
    func write<Request: ProtoMessage, Response: ProtoMessage>(_ context: ServerContext, _ request: Request,
                                                               gate: @escaping Gate = { _ in },
                                                               _ body: (Actor, any SQLExecutor) throws -> Response) throws -> Response {
        let caller = try principals.require(context)
        return try Idempotent.write(database, context, caller: caller.id, request, replayCheck: replayCheck(caller, request, gate: gate)) { tx in
            let actor = try Actor.resolve(caller, tx)
            try gate(actor)
            return try body(actor, tx)
        }
    }

    /// ``write(_:_:gate:_:)`` for a change that needs `permission` (`directory.manage`…; administrators
    /// hold every one), checked again on a replay.
    func write<Request: ProtoMessage, Response: ProtoMessage>(_ context: ServerContext, _ request: Request, requiring permission: String,
                                                               _ body: (Actor, any SQLExecutor) throws -> Response) throws -> Response {
        try write(context, request, gate: { try $0.require(permission) }, body)
    }

    /// What the caller must be allowed before a write runs or its stored answer replays: throws the refusal.
    typealias Gate = @Sendable (Actor) throws -> Void

    /// What a replayed answer checks again, in the replay's transaction: the caller resolved
    /// against the directory as now (a disabled agent: `PERMISSION_DENIED`; the level and the
    /// role's permissions as now), the write's `gate` (a permission since taken away:
    /// `PERMISSION_DENIED`), and every ticket the request names (``TicketsNamed``) still visible
    /// to them (`NOT_FOUND`, as for a ticket that does not exist, when a level was lowered or the
    /// ticket made confidential since the first call). Visible, not actionable: the first call
    /// may itself have handed the ticket on.
    func replayCheck<Request: ProtoMessage>(_ caller: AuthV1.Principal, _ request: Request, gate: @escaping Gate = { _ in }) -> Idempotent.ReplayCheck {
        let lifecycle = self.lifecycle
        return { tx in
            let actor = try Actor.resolve(caller, tx)
            try gate(actor)
            for ticketID in TicketsNamed.ids(in: request) where !ticketID.isEmpty {
                _ = try lifecycle.loadVisible(tx, ticketID, actor: actor)
            }
        }
    }

    /// Runs a staff change of tickets (``write(_:_:gate:_:)``) once the caller is known to be staff
    /// who may change them (``Actor/requireWork()``): refused before the request is even checked,
    /// and on a replay too (an integration key's work permission since taken away).
    func work<Request: ProtoMessage, Response: ProtoMessage>(_ context: ServerContext, _ request: Request,
                                                              _ body: (Actor, any SQLExecutor) throws -> Response) throws -> Response {
        try write(context, request, gate: { try $0.requireWork() }, body)
    }

    /// The full view of a ticket for `actor` (customers: public entries and the public stage),
    /// with a page of its discussion: the newest unless `discussion` asks for older entries.
    func view(_ tx: any SQLExecutor, _ ticket: TicketRecord, _ actor: Actor, discussion requested: TicketPage? = nil) throws -> WorkflowV1.TicketView {
        let page = requested ?? TicketPage(maxFrameSize: maxFrameSize)
        var view = WorkflowV1.TicketView()
        view.row = queries.row(ticket, for: actor)
        view.request = ticket.request
        view.solution = ticket.solution
        let stage = lifecycle.flow(of: ticket).stage(ticket.stage)
        view.customerStageName = stage?.customerName ?? ticket.stage
        view.customerStageNameEn = stage?.customerNameEN ?? ticket.stage
        view.outcome = ticket.outcome
        view.outcomeLabel = TicketOutcome.label(ticket.outcome)
        view.outcomeLabelEn = TicketOutcome.label(ticket.outcome, .english)
        view.publicNote = ticket.publicNote
        view.contact = ticket.contact
        if !ticket.representative.id.isEmpty { view.representative = ticket.representative }
        view.channel = ticket.channel
        view.scheduledForMs = ticket.scheduledFor
        view.finishedAtMs = ticket.finishedAt
        view.firstResponseAtMs = ticket.firstResponseAt
        view.serviceType = ticket.serviceType
        view.awaitingAcceptance = lifecycle.solutionAcceptance(ticket) != nil
        if actor.isStaff {
            view.flow = ticket.flow
            view.scheduleCount = Int32(ticket.scheduleCount)
            view.transferCount = Int32(ticket.transferCount)
            view.plan = ticket.plan
        }
        view.promisedDeliveryMs = ticket.promisedDeliveryAt
        if !ticket.versionID.isEmpty, let version = try tx.queryOne("SELECT name, target_date FROM dev_versions WHERE id = ?", [.text(ticket.versionID)]) {
            view.versionID = ticket.versionID
            view.versionName = version.s("name")
        }
        if actor.isStaff {
            view.estimatedEffortHours = Int32(ticket.estimatedEffort)
            view.ticketType = ticket.ticketType
            view.stepPosition = Int32(ticket.stepPosition)
            if ticket.stepPosition >= 0 {
                let steps = try AdvanceSteps.steps(tx, ticket.ticketType)
                view.stepName = ticket.stepPosition < steps.count ? steps[ticket.stepPosition].name : "concluída"
            }
            view.fields = try AdvanceSteps.fields(tx, ticket.id)
        }
        // Every entry's files belong to it, listed or not; the ticket's own are the others.
        let entryMessages = Set(try tx.query("SELECT DISTINCT message_id FROM discussion_entries WHERE ticket_id = ? AND message_id <> ''",
                                             [.text(ticket.id)]).map { $0.s("message_id") })
        let attachments = try tx.query("SELECT * FROM ticket_attachments WHERE ticket_id = ? ORDER BY added_at, position, attachment_id", [.text(ticket.id)])
        func attachment(_ row: Row) -> CommonV1.AttachmentRef {
            var ref = CommonV1.AttachmentRef()
            ref.id = row.s("attachment_id"); ref.fileName = row.s("file_name"); ref.contentType = row.s("content_type")
            ref.sizeBytes = row.i("size_bytes"); ref.sha256 = row.s("sha256"); ref.`internal` = row.i("internal") != 0
            return ref
        }
        var byMessage: [String: [CommonV1.AttachmentRef]] = [:]
        for row in attachments {
            // Internal files (an internal entry's, or marked so by intake) are for staff only.
            guard actor.isStaff || row.i("internal") == 0 else { continue }
            // A file of no entry (the ticket's own, or one whose entry was never added) is the ticket's.
            let message = row.s("message_id")
            if entryMessages.contains(message) { byMessage[message, default: []].append(attachment(row)) } else { view.attachments.append(attachment(row)) }
        }
        // Customers: public entries only (also in what the page counts).
        let discussion = try page.read(tx, from: "FROM discussion_entries WHERE ticket_id = ?" + (actor.isStaff ? "" : " AND is_public = 1"),
                                       [.text(ticket.id)], columns: "*", keyColumns: ["seq"]) { row in
            var entry = TicketLifecycle.entry(row)
            entry.attachments = byMessage[row.s("message_id")] ?? []
            return (entry, [row.i("seq")], entry.text.utf8.count + entry.authorName.utf8.count + 128 + 256 * entry.attachments.count)
        }
        view.discussion = discussion.items
        view.olderDiscussion = discussion.older
        view.discussionBefore = discussion.before
        return view
    }
}
