import Foundation
import Messages
import Observability
import RPC
import RPCTransport

/// `POST /v1/tickets/{id}/replies` answers once workflow's view of the ticket shows the reply,
/// for at most ``GatewayConfiguration/replySettleMilliseconds`` (`GATEWAY_REPLY_SETTLE_MS`,
/// default 2000; 0 answers at once).
///
/// Intake stores the reply and tells workflow by event (`CustomerReplied`); workflow applies it a
/// moment later: the discussion entry, and the move it causes (Aguardando cliente → Em
/// atendimento). A page drawn again right after the answer would otherwise still say "Aguardando
/// sua resposta". Waiting here (and not in the portal) serves every client of the API, and keeps
/// the view cache right: the route's write drops the ticket's cached views after this handler
/// returns (``Gateway/viewCacheAfterRequest(method:route:parameters:status:)``), so a view stored
/// before workflow applied the reply is gone, and one fetched after the answer shows it.
///
/// The reply is seen in workflow's view (asked as the caller, who sees the ticket's public
/// discussion) as the `customer_reply` entry with the message's author and time (workflow takes
/// both from the event). Workflow not reached, refusing, or still behind when the time is up:
/// the reply's answer goes out as it is (the reply is stored either way); `X-Reply-Applied: 0`
/// says so, `1` that workflow's view shows the reply.
///
/// A ticket workflow does not know (`NOT_FOUND`: its opening not applied yet, as for a reply sent
/// right after the open, or hidden from the caller) is answered at once, `X-Reply-Applied: 0`:
/// the view read next has no workflow part (`"workflow": null`), so nothing of it can be stale —
/// the page shows intake's part, whose messages list the reply, and the ticket's status from
/// intake. Waiting could only add workflow's part, and only if its opening came within the
/// budget; a hidden ticket never does (before 2026-12-01 both waited the whole budget).
enum ReplySettling {
    /// The header saying whether workflow's view showed the reply when the answer was sent.
    static let header = "X-Reply-Applied"

    /// `route` (intake's `Reply` binding) waiting for workflow after a success.
    static func waiting(_ route: Route) -> Route {
        var settled = route
        let answer = route.handler
        settled.handler = { request, context in
            var response = try answer(request, context)
            let budget = context.gateway.configuration.replySettleMilliseconds
            guard budget > 0, (200..<300).contains(response.status) else { return response }
            let applied = settle(ticket: request.parameter("id"), reply: response.body, budgetMilliseconds: budget, context)
            response.headers.append((header, applied ? "1" : "0"))
            return response
        }
        return settled
    }

    /// What identifies the reply in workflow's discussion: its author and time.
    struct Mark: Equatable {
        var authorID: String
        var atMs: Int64
    }

    /// The reply's mark from intake's answer (`{"message": {...}}`), `nil` when it has none.
    static func mark(_ body: [UInt8]) -> Mark? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
              let message = object["message"] as? [String: Any],
              let author = (message["author"] as? [String: Any])?["id"] as? String, !author.isEmpty,
              let at = int64(message["created_at_ms"]), at > 0 else { return nil }
        return Mark(authorID: author, atMs: at)
    }

    /// A JSON number or a decimal string (int64 in proto JSON).
    static func int64(_ value: Any?) -> Int64? {
        if let number = value as? NSNumber { return number.int64Value }
        if let text = value as? String { return Int64(text) }
        return nil
    }

    /// Whether `view`'s discussion holds the reply.
    static func shows(_ view: WorkflowV1.TicketView, _ mark: Mark) -> Bool {
        view.discussion.contains { $0.kind == "customer_reply" && $0.authorID == mark.authorID && $0.addedAtMs == mark.atMs }
    }

    /// Asks workflow (as the caller) until its view shows the reply or `budgetMilliseconds` pass;
    /// true when it does.
    static func settle(ticket reference: String, reply body: [UInt8], budgetMilliseconds: Int, _ context: RequestContext) -> Bool {
        guard let mark = mark(body), let principal = context.principal else { return false }
        let deadline = MonotonicClock.nanoseconds() + UInt64(budgetMilliseconds) * 1_000_000
        func remaining() -> Int {
            let now = MonotonicClock.nanoseconds()
            return now >= deadline ? 0 : Int((deadline - now) / 1_000_000)
        }
        var options = CallOptions(timeoutMilliseconds: budgetMilliseconds,
                                  metadata: context.gateway.signedPrincipals.metadata(for: principal))
        options.metadata[MetadataKey.requestID] = context.requestID
        guard let ticketID = ticketID(reference, options: options, context) else { return false }
        var request = WorkflowV1.GetTicketRequest()
        request.ticketID = ticketID
        // The reply is among the newest entries (a page of a few: entries may be long).
        request.discussionLimit = 5
        let payload = request.serializedBytes()
        var pause = 5
        while true {
            options.timeoutMilliseconds = max(1, remaining())
            do {
                let bytes = try context.gateway.forward(service: "workflow", path: WorkflowV1.Workflow.getTicket.path, payload: payload, options: options)
                if shows(try WorkflowV1.TicketView(serializedBytes: bytes), mark) { return true }
            } catch let error as RPCError where error.code == .notFound {
                // Workflow does not know the ticket (yet): the next view shows intake's part
                // alone, which lists the reply; nothing to wait for.
                return false
            } catch {
                // Unreachable, refusing or too slow: the answer goes out as it is.
                return false
            }
            let left = remaining()
            guard left > 0 else { return false }
            usleep(UInt32(min(pause, left)) * 1_000)
            pause = min(pause + 5, 25)
        }
    }

    /// Workflow knows tickets by id; a code in the path is resolved by intake (one message read).
    static func ticketID(_ reference: String, options: CallOptions, _ context: RequestContext) -> String? {
        if Gateway.looksLikeTicketID(reference) { return reference }
        var request = IntakeV1.GetTicketRequest()
        request.ticket = reference
        request.messagesLimit = 1
        guard let bytes = try? context.gateway.forward(service: "intake", path: IntakeV1.Intake.getTicket.path,
                                                       payload: request.serializedBytes(), options: options),
              let ticket = try? IntakeV1.Ticket(serializedBytes: bytes), !ticket.id.isEmpty else { return nil }
        return ticket.id
    }
}
