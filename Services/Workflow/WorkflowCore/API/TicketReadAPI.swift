import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

extension WorkflowAPI {
    /// Reads: single ticket, listings, counts, search, history, versions, related tickets.
    func registerReads(_ router: inout RPCRouter) {
        let api = self
        router.register(WorkflowV1.Workflow.getTicketHolder) { request, context in
            try api.read(context) { actor, tx in
                let ticket = try api.lifecycle.loadVisible(tx, request.ticketID, actor: actor)
                var response = WorkflowV1.GetTicketHolderResponse()
                response.open = ticket.isOpen
                response.holder = ticket.holder
                response.accessLevel = ticket.accessLevel
                response.stage = ticket.stage
                response.callerMayLinkCustomers = actor.mayLinkCustomers(ticket)
                (response.callerMayAct, response.callerNoLongerHolder) = api.lifecycle.mayAct(tx, ticket, actor)
                return response
            }
        }
        router.register(WorkflowV1.Workflow.getTicket) { request, context in
            let page = try TicketPage(limit: request.discussionLimit, before: request.discussionBefore, keys: 1,
                                      limitField: "discussion_limit", beforeField: "discussion_before", maxFrameSize: api.maxFrameSize)
            if request.fromQueue {
                // Viewing from a queue is recorded in the history.
                return try api.database.write { tx in
                    let actor = try api.actor(context, tx)
                    // Locked as every writer of a history line locks it: the line's place is the
                    // ticket's last + 1 (`(ticket_id, seq)` is unique, ``EntrySequences``).
                    let ticket = try api.lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
                    if actor.kind == .agent {
                        try api.lifecycle.record(tx, ticket.id, "view", new: "fila", actor: actor, at: api.lifecycle.now())
                    }
                    return try api.view(tx, ticket, actor, discussion: page)
                }
            }
            return try api.read(context) { actor, tx in
                try api.view(tx, try api.lifecycle.loadVisible(tx, request.ticketID, actor: actor), actor, discussion: page)
            }
        }
        router.register(WorkflowV1.Workflow.listQueue) { request, context in
            try api.read(context) { actor, tx in try api.queries.listQueue(tx, request, actor: actor) }
        }
        router.register(WorkflowV1.Workflow.countByStage) { request, context in
            try api.read(context) { actor, tx in
                var response = WorkflowV1.CountByStageResponse()
                response.counts = try api.queries.countByStage(tx, request.filter, actor: actor)
                return response
            }
        }
        router.register(WorkflowV1.Workflow.listCustomerTickets) { request, context in
            try api.read(context) { actor, tx in try api.queries.listCustomerTickets(tx, request, actor: actor) }
        }
        router.register(WorkflowV1.Workflow.searchTickets) { request, context in
            try api.read(context) { actor, tx in try api.queries.search(tx, request, actor: actor) }
        }
        router.register(WorkflowV1.Workflow.getHistory) { request, context in
            // Listed by time, then place (`ticket_history.seq`): the page's key is both.
            let page = try TicketPage(limit: request.limit, before: request.before, keys: 2, limitField: "limit", beforeField: "before",
                                      maxFrameSize: api.maxFrameSize)
            return try api.read(context) { actor, tx in
                try actor.requireStaff()
                let ticket = try api.lifecycle.loadVisible(tx, request.ticketID, actor: actor)
                let entries = try page.read(tx, from: "FROM ticket_history WHERE ticket_id = ?", [.text(ticket.id)], columns: "*",
                                            keyColumns: ["at", "seq"]) { row in
                    var entry = WorkflowV1.HistoryEntry()
                    entry.kind = row.s("kind"); entry.oldValue = row.s("old_value"); entry.newValue = row.s("new_value")
                    entry.note = row.s("note"); entry.actorID = row.s("actor_id"); entry.actorName = row.s("actor_name")
                    entry.atMs = row.i("at")
                    let size = entry.oldValue.utf8.count + entry.newValue.utf8.count + entry.note.utf8.count + entry.actorName.utf8.count + 96
                    return (entry, [row.i("at"), row.i("seq")], size)
                }
                var response = WorkflowV1.GetHistoryResponse()
                response.entries = entries.items
                response.olderEntries = entries.older
                response.before = entries.before
                return response
            }
        }
        router.register(WorkflowV1.Workflow.listTextVersions) { request, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                guard request.field == "request" || request.field == "solution" else {
                    throw RPCError(.invalidArgument, "campo inválido / invalid field", violations: [
                        FieldViolation(field: "field", reason: "invalid", pt: "Use request ou solution.", en: "Use request or solution.")])
                }
                let ticket = try api.lifecycle.loadVisible(tx, request.ticketID, actor: actor)
                var response = WorkflowV1.ListTextVersionsResponse()
                response.versions = try tx.query("SELECT * FROM text_versions WHERE ticket_id = ? AND field = ? ORDER BY version",
                                                 [.text(ticket.id), .text(request.field)]).map { row in
                    var version = WorkflowV1.TextVersion()
                    version.version = Int32(row.i("version")); version.text = row.s("text"); version.authorID = row.s("author_id")
                    version.authorName = row.s("author_name"); version.atMs = row.i("at")
                    return version
                }
                return response
            }
        }
        router.register(WorkflowV1.Workflow.listRelated) { request, context in
            try api.read(context) { actor, tx in try api.related(tx, request.ticketID, actor) }
        }
    }

    /// Linked tickets and the same customer's other tickets, as far as `actor` may see them.
    func related(_ tx: any SQLExecutor, _ ticketID: String, _ actor: Actor) throws -> WorkflowV1.ListRelatedResponse {
        try actor.requireStaff()
        let ticket = try lifecycle.loadVisible(tx, ticketID, actor: actor)
        let visibility = Visibility.predicate(actor)
        var response = WorkflowV1.ListRelatedResponse()
        response.linked = try tx.query(TicketRecord.select + " JOIN ticket_links l ON l.other_ticket_id = t.id WHERE l.ticket_id = ? AND "
                                       + visibility.sql + " ORDER BY t.opened_at, t.id", [.text(ticket.id)] + visibility.params)
            .ticketRecords.map { queries.row($0, for: actor) }
        response.sameCustomer = try tx.query(TicketRecord.select + " WHERE t.organization_id = ? AND t.id <> ? AND " + visibility.sql
                                             + " ORDER BY t.last_interaction_at DESC, t.id DESC LIMIT 100",
                                             [.text(ticket.organizationID), .text(ticket.id)] + visibility.params)
            .ticketRecords.map { queries.row($0, for: actor) }
        return response
    }
}
