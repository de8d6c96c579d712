import Foundation
import Messages
import RPC
import ServiceKit

/// Routes about one ticket served by a service that does not own it (knowledge's article links
/// and FAQ requests, notification's delivery log and on-demand e-mail). Workflow, which owns the
/// ticket's level and holder, is asked first as the caller (`GetTicketHolder`, one indexed row,
/// not `GetTicket`'s whole ticket): a ticket it hides from them answers 404, as a missing one,
/// before the service is called. Knowledge and notification check the same themselves
/// (`ServiceKit/TicketAccessCheck.swift`, for calls that do not come through these routes, and
/// notification's log by each ticket's current level), so on every gated route the gate leaves
/// the question to them for the callers they ask about (`serviceAsks`) and asks only for the
/// others; its log filter also covers tickets notification cached before it kept their level.
enum TicketVisibility {
    /// `route`, run only when workflow shows the caller the ticket named by the path's `{id}`,
    /// or, with `query`, by that query argument when one is given.
    ///
    /// `serviceAsks`: the service behind the route asks workflow itself, first, before it reads
    /// or stores anything, for every caller it does not trust
    /// (``TicketAccessCheck/require(_:caller:context:)``: notification's `ListDeliveries` and
    /// `SendTicketEmail`, knowledge's `LinkArticleToTicket` and `RequestFaq`), answering
    /// `NOT_FOUND` for a hidden ticket as this gate does. The gate then asks only for the callers
    /// the service trusts (administrators, services), whom it still answers 404 for a ticket that
    /// does not exist: workflow is asked **once** per request whoever calls (before 2026-12-01 an
    /// agent's delivery log asked twice, three times by `ticket_id`, and `/articles`, `/email`,
    /// `/faq-request` twice; `ServiceTicketAccessTests.deliveryLogAsksOnce`,
    /// `ServiceTicketAccessTests.ticketWritesAskOnce`).
    static func gate(_ route: Route, query: String? = nil, serviceAsks: Bool = false) -> Route {
        var gated = route
        let run = route.handler
        gated.handler = { request, context in
            let ticketID = query.map { request.query[$0] ?? "" } ?? request.parameter("id")
            let serviceAsksThisCaller = serviceAsks && !(context.principal.map(TicketAccessCheck.trusts) ?? false)
            if !ticketID.isEmpty && !serviceAsksThisCaller { try askWorkflow(ticketID, context) }
            return try run(request, context)
        }
        return gated
    }

    /// `route` (an answer `{"deliveries": [...]}`), with the rows of tickets workflow hides from
    /// the caller left out, for callers who are not administrators: a delivery keeps the level
    /// its ticket had when it was planned, so a search by recipient would otherwise show the
    /// e-mails of a ticket raised since above the caller's level. One `GetTicketHolder` per ticket
    /// named (the log of an address names few; the portal's searches are administrators'). The
    /// ticket the request names (`ticket_id`) was asked about already (by the service or the
    /// gate): its rows are kept without asking again.
    static func filterDeliveries(_ route: Route) -> Route {
        var filtered = route
        let run = route.handler
        filtered.handler = { request, context in
            let response = try run(request, context)
            guard response.status == 200, context.principal?.administrator == false,
                  var object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                  let rows = object["deliveries"] as? [[String: Any]] else { return response }
            var visible: [String: Bool] = [:]
            if let named = request.query["ticket_id"], !named.isEmpty { visible[named] = true }
            var kept: [[String: Any]] = []
            for row in rows {
                guard let ticketID = row["ticket_id"] as? String, !ticketID.isEmpty else { kept.append(row); continue }
                let seen = try visible[ticketID] ?? sees(ticketID, context)
                visible[ticketID] = seen
                if seen { kept.append(row) }
            }
            guard kept.count < rows.count else { return response }
            object["deliveries"] = kept
            return .json(object)
        }
        return filtered
    }

    /// Whether workflow shows the caller ticket `ticketID` (hidden or missing: false).
    static func sees(_ ticketID: String, _ context: RequestContext) throws -> Bool {
        do {
            try askWorkflow(ticketID, context)
            return true
        } catch let error as RPCError where error.code == .notFound || error.code == .permissionDenied {
            return false
        }
    }

    /// Workflow's `GetTicketHolder` of `ticketID` as the caller: throws what workflow answers when
    /// it hides the ticket from them (or has none).
    private static func askWorkflow(_ ticketID: String, _ context: RequestContext) throws {
        var ask = WorkflowV1.GetTicketHolderRequest()
        ask.ticketID = ticketID
        _ = try context.call("workflow", WorkflowV1.Workflow.getTicketHolder, ask)
    }
}
