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

    /// The caller resolved against the directory, inside `tx`.
    func actor(_ context: ServerContext, _ tx: any SQLExecutor) throws -> Actor {
        try Actor.resolve(try principals.require(context), tx)
    }

    /// Runs a read with the caller.
    func read<T>(_ context: ServerContext, _ body: (Actor, any SQLExecutor) throws -> T) throws -> T {
        try database.read { tx in try body(try actor(context, tx), tx) }
    }

    /// Runs a mutation with the caller, once per idempotency key.
    func write<Request: ProtoMessage, Response: ProtoMessage>(_ context: ServerContext, _ request: Request,
                                                               _ body: (Actor, any SQLExecutor) throws -> Response) throws -> Response {
        try Idempotent.write(database, context, request) { tx in try body(try actor(context, tx), tx) }
    }

    /// The full view of a ticket for `actor` (customers: public entries and the public stage).
    func view(_ tx: any SQLExecutor, _ ticket: TicketRecord, _ actor: Actor) throws -> WorkflowV1.TicketView {
        var view = WorkflowV1.TicketView()
        view.row = queries.row(ticket, for: actor)
        view.request = ticket.request
        view.solution = ticket.solution
        let stage = lifecycle.flow(of: ticket).stage(ticket.stage)
        view.customerStageName = stage?.customerName ?? ticket.stage
        view.outcome = ticket.outcome
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
        let onlyPublic = actor.isStaff ? "" : " AND is_public = 1"
        let attachments = try tx.query("SELECT * FROM ticket_attachments WHERE ticket_id = ? ORDER BY added_at, position, attachment_id", [.text(ticket.id)])
        func attachment(_ row: Row) -> CommonV1.AttachmentRef {
            var ref = CommonV1.AttachmentRef()
            ref.id = row.s("attachment_id"); ref.fileName = row.s("file_name"); ref.contentType = row.s("content_type")
            ref.sizeBytes = row.i("size_bytes"); ref.sha256 = row.s("sha256")
            return ref
        }
        var byMessage: [String: [CommonV1.AttachmentRef]] = [:]
        for row in attachments {
            if row.s("message_id").isEmpty { view.attachments.append(attachment(row)) } else { byMessage[row.s("message_id"), default: []].append(attachment(row)) }
        }
        view.discussion = try tx.query("SELECT * FROM discussion_entries WHERE ticket_id = ?\(onlyPublic) ORDER BY seq", [.text(ticket.id)]).map { row in
            var entry = TicketLifecycle.entry(row)
            entry.attachments = byMessage[row.s("message_id")] ?? []
            return entry
        }
        return view
    }
}
