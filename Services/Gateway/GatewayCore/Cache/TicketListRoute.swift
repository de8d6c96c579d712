import Foundation
import Messages
import RPC

/// `GET /v1/tickets`: a customer's (or representative's) organizations' tickets (workflow
/// `ListCustomerTickets`) or an agent's queue (workflow `ListQueue`), answered from the
/// ``ViewCache`` when the same caller asked the same page a moment ago and **no** intake or
/// workflow event arrived since.
///
/// A listing can change with any ticket (a new one, a move, a reply), so list entries share one
/// invalidation key, ``ViewCache/listsKey``: every batch of events from the feed and every write
/// through this gateway (opening tickets included) drops them all. Everything else follows the
/// ticket view's rules (exact principal in the key, settle window, TTL, feed health).
enum TicketListRoute {
    /// The query arguments that shape the answer, in a fixed order (the cache key).
    static let arguments = ["stage", "priority", "category", "group_id", "agent_id", "organization_id", "product", "module", "text",
                            "mine", "sla_state", "open_only", "page_size", "cursor", "newest_first"]

    static func handle(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let principal = try context.requirePrincipal()
        return .jsonText(try context.gateway.viewCached(reference(request.query), for: principal) {
            (try list(request, principal, context), ViewCache.listsKey)
        })
    }

    /// `list?` and the arguments that shape the answer; never a ticket id (a UUID) nor a code.
    static func reference(_ query: [String: String]) -> String {
        var text = "list?"
        for name in arguments {
            guard let value = query[name] else { continue }
            text += name
            text += "="
            text += value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
            text += "&"
        }
        return text
    }

    /// Asks workflow for the page, written as JSON text straight from its answer.
    static func list(_ request: HTTPRequest, _ principal: AuthV1.Principal, _ context: RequestContext) throws -> [UInt8] {
        var json: [String: Any] = [:]
        // Switches: `true` or `false` (`mine=1` used to be taken as false without a word).
        for switchName in ["mine", "open_only", "newest_first"] where !["", "true", "false"].contains(request.query[switchName] ?? "") {
            throw APIError.invalid(switchName, "invalid_boolean", pt: "Use true ou false.", en: "Use true or false.")
        }
        if let size = request.query["page_size"] { json["page_size"] = size }
        if let cursor = request.query["cursor"] { json["cursor"] = cursor }
        let stages = request.query["stage"].map { $0.split(separator: ",").map(String.init) }
        if principal.kind == .customer {
            if let stages { json["stages"] = stages }
            if let text = request.query["text"] { json["text"] = text }
            if let product = request.query["product"] { json["product"] = product }
            return try customerNames.naming(request) { try context.callJSONText("workflow", WorkflowV1.Workflow.listCustomerTickets, json) }
        }
        var filter: [String: Any] = [:]
        if let stages { filter["stages"] = stages }
        for (argument, field) in [("group_id", "group_id"), ("agent_id", "agent_id"), ("organization_id", "organization_id"), ("product", "product"),
                                  ("module", "module"), ("text", "text"), ("sla_state", "sla_state")] {
            if let value = request.query[argument] { filter[field] = value }
        }
        // Switches: only "true" turns them on (the agent's own tickets; open ones only).
        for switchName in ["mine", "open_only"] where request.query[switchName] == "true" { filter[switchName] = true }
        if let priorities = request.query["priority"] { filter["priorities"] = priorities.split(separator: ",").map(String.init) }
        if let categories = request.query["category"] { filter["categories"] = categories.split(separator: ",").map(String.init) }
        json["filter"] = filter
        if request.query["newest_first"] == "true" { json["newest_first"] = true }
        return try queueNames.naming(request) { try context.callJSONText("workflow", WorkflowV1.Workflow.listQueue, json) }
    }

    /// The request fields the arguments fill, so an error names the argument the caller sent
    /// (`stage`, not `filter.stages[0]`).
    static let customerNames = QueryArgumentNames(["stage": "stages"])
    static let queueNames = QueryArgumentNames([
        "stage": "filter.stages", "priority": "filter.priorities", "category": "filter.categories", "group_id": "filter.group_id",
        "agent_id": "filter.agent_id", "organization_id": "filter.organization_id", "product": "filter.product", "module": "filter.module",
        "text": "filter.text", "sla_state": "filter.sla_state", "mine": "filter.mine", "open_only": "filter.open_only"])
}
