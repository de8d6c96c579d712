import Messages

/// Routes about one ticket served by a service that does not know who may see that ticket now
/// (knowledge's article links and FAQ requests, notification's delivery log and on-demand e-mail:
/// a delivery keeps the level the ticket had when it was planned, and a ticket raised to a
/// confidential level later would still show its e-mails to agents below it). Workflow, which
/// owns the ticket's level and holder, is asked first as the caller (`GetTicket`): a ticket it
/// hides from them answers 404, as a missing one, before the service is called.
enum TicketVisibility {
    /// `route`, run only when workflow shows the caller the ticket named by the path's `{id}`,
    /// or, with `query`, by that query argument when one is given.
    static func gate(_ route: Route, query: String? = nil) -> Route {
        var gated = route
        let run = route.handler
        gated.handler = { request, context in
            let ticketID = query.map { request.query[$0] ?? "" } ?? request.parameter("id")
            if !ticketID.isEmpty {
                var ask = WorkflowV1.GetTicketRequest()
                ask.ticketID = ticketID
                _ = try context.call("workflow", WorkflowV1.Workflow.getTicket, ask)
            }
            return try run(request, context)
        }
        return gated
    }
}
