import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// Links between tickets, and opening a new ticket from an existing one through intake.
enum RelatedTickets {
    /// Links `a` and `b` both ways (idempotent); the history of both says so.
    ///
    /// The pair's primary key decides "already linked?": each direction is inserted with
    /// `ON CONFLICT DO NOTHING` and only a row actually inserted gets its history line. Two
    /// identical links at once (two retries of `openRelatedTicket` with one
    /// idempotency key, which lock no ticket first) thus make one link and one line each, and the
    /// later caller gets the same answer instead of a unique-key error: on PostgreSQL its insert
    /// waits for the first transaction and then inserts nothing.
    static func link(_ tx: any SQLExecutor, _ a: String, _ b: String, codes: (String, String), note: String, actor: Actor, at: Int64,
                     lifecycle: TicketLifecycle) throws {
        for (from, to, code) in [(a, b, codes.1), (b, a, codes.0)] {
            guard try tx.execute("""
                INSERT INTO ticket_links (ticket_id, other_ticket_id, note, at, actor_id) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (ticket_id, other_ticket_id) DO NOTHING
                """, [.text(from), .text(to), .text(note), .integer(at), .text(actor.id)]) > 0 else { continue }
            // Locked (PostgreSQL) as every writer of a history line locks its ticket: the line's
            // place is the ticket's last + 1 (``EntrySequences``).
            if try tx.queryOne("SELECT 1 AS x FROM tickets WHERE id = ?" + (tx.engine == .postgres ? " FOR UPDATE" : ""), [.text(from)]) != nil {
                try lifecycle.record(tx, from, "link", new: code, note: note, actor: actor, at: at)
            }
        }
    }

    static func register(_ router: inout RPCRouter, api: WorkflowAPI, intake: @escaping @Sendable () -> RPCClient) {
        let lifecycle = api.lifecycle
        router.register(WorkflowV1.Workflow.openRelatedTicket) { request, context in
            var violations: [FieldViolation] = []
            if request.subject.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                violations.append(FieldViolation(field: "subject", reason: "required", pt: "Informe o assunto.", en: "Give the subject."))
            }
            if request.request.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                violations.append(FieldViolation(field: "request", reason: "required", pt: "Descreva a solicitação.", en: "Describe the request."))
            }
            guard violations.isEmpty else { throw RPCError(.invalidArgument, "pedido incompleto / incomplete request", violations: violations) }
            // Read the source without holding a transaction during the call to intake.
            let source = try api.read(context) { actor, tx -> TicketRecord in
                try actor.requireStaff()
                return try lifecycle.loadVisible(tx, request.ticketID, actor: actor)
            }
            var open = IntakeV1.OpenTicketRequest()
            open.organizationID = source.organizationID
            open.contactID = source.contact.id
            open.representativeID = source.representative.id
            open.category = request.category == .unspecified ? source.category : request.category
            open.priority = request.priority == .unspecified ? source.priority : request.priority
            open.product = request.product.isEmpty ? source.product : request.product
            open.module = request.module.isEmpty ? source.module : request.module
            open.subject = request.subject
            open.request = request.request
            // Intake sees the same signed principal; a retry with the same key opens one ticket.
            var metadata: [String: String] = [:]
            for key in [MetadataKey.principal, MetadataKey.principalSignature] { metadata[key] = context.metadata[key] }
            let key = "related-" + (context.idempotencyKey ?? "\(request.ticketID)-\(context.requestID)")
            let opened = try intake().call(IntakeV1.Intake.openTicket, open,
                                           options: CallOptions(deadline: context.deadline, metadata: metadata, idempotencyKey: key))
            guard let ticket = opened.ticket, !ticket.id.isEmpty else {
                throw RPCError(.internal, "intake não devolveu a ocorrência / intake returned no ticket")
            }
            return try api.database.write { tx in
                let actor = try api.actor(context, tx)
                try link(tx, source.id, ticket.id, codes: (source.code, ticket.code), note: request.note.isEmpty ? "aberta a partir de \(source.code)" : request.note,
                         actor: actor, at: lifecycle.now(), lifecycle: lifecycle)
                var response = WorkflowV1.OpenRelatedTicketResponse()
                response.ticketID = ticket.id
                response.code = ticket.code
                return response
            }
        }
    }
}
