import Foundation
import Messages
import RPC

/// `GET /v1/tickets/{id}/conversation`: older pages of the two long lists the ticket view
/// (``TicketViewRoute``, `GET /v1/tickets/{id}`) answers only the newest page of: intake's
/// customer messages (`messages_before`, the view's `intake.messages_before`) and workflow's
/// discussion (`discussion_before`, the view's `workflow.discussion_before`), each read only when
/// its cursor is given (with neither, both newest pages), at most `limit` items each (the
/// services' default and bounds: ``TicketPage``), as the caller may see them (customers: public
/// entries only; the services decide, as for the view).
///
/// Never cached: the view cache keeps the view's newest pages only, so older pages cannot be
/// answered stale or for the wrong cursor, and the view's invalidation is unchanged.
enum TicketConversationRoute {
    static func handle(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = request.parameter("id")
        var limit: Int32 = 0
        if let text = request.query["limit"], !text.isEmpty {
            guard let value = Int32(text), value >= 0 else {
                throw APIError(status: 400, code: "INVALID_ARGUMENT", pt: "Requisição inválida.", en: "Invalid request.",
                               details: [.init(field: "limit", reason: "invalid", pt: "Use um número positivo.", en: "Use a positive number.")])
            }
            limit = value
        }
        let messagesBefore = request.query["messages_before"] ?? ""
        let discussionBefore = request.query["discussion_before"] ?? ""
        let both = messagesBefore.isEmpty && discussionBefore.isEmpty
        var answer: [String: Any] = [:]
        if both || !messagesBefore.isEmpty {
            var ask = IntakeV1.GetTicketRequest()
            ask.ticket = id
            ask.messagesLimit = limit
            ask.messagesBefore = messagesBefore
            take("messages", from: try part("intake", IntakeV1.Intake.getTicket, ask, context), into: &answer)
        }
        if both || !discussionBefore.isEmpty {
            var ask = WorkflowV1.GetTicketRequest()
            ask.ticketID = id
            ask.discussionLimit = limit
            ask.discussionBefore = discussionBefore
            take("discussion", from: try part("workflow", WorkflowV1.Workflow.getTicket, ask, context), into: &answer)
        }
        return .json(answer)
    }

    /// A list's page out of a service's answer: the items, how many older ones were left out and
    /// the cursor that asks for them (absent from the answer when 0, "" or empty).
    static func take(_ list: String, from part: [String: Any], into answer: inout [String: Any]) {
        answer[list] = part[list] ?? [Any]()
        answer["older_\(list)"] = part["older_\(list)"] ?? 0
        answer["\(list)_before"] = part["\(list)_before"] ?? ""
    }

    /// One service's answer as JSON values.
    static func part<Request, Response>(_ service: String, _ method: RPCMethod<Request, Response>, _ request: Request,
                                        _ context: RequestContext) throws -> [String: Any] {
        let bytes = try context.gateway.forward(service: service, path: method.path, payload: request.serializedBytes(),
                                                options: context.callOptions())
        return try ProtoJSON.decode(bytes, as: Response._descriptor.pointer)
    }
}
