import Foundation
import Messages
import Observability
import RPC
import RPCTransport

/// `GET /v1/tickets/{id}`: intake's part (request, contact, messages, attachments) and
/// workflow's part (stage, assignment, discussion, solution), each as the caller may see it,
/// answered from the ``ViewCache`` when the same caller saw the same ticket a moment ago and no
/// event about the ticket arrived since.
enum TicketViewRoute {
    /// One assembled view.
    struct View {
        var body: [UInt8]
        /// The ticket id intake resolved (the path may hold a code).
        var ticketID: String
        /// False when workflow's part is `null` (workflow did not know the ticket yet, or could
        /// not be reached): not cached.
        var complete: Bool
    }

    static func handle(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = request.parameter("id")
        let fromQueue = request.query["from_queue"] == "true"
        // Viewing from a queue is recorded by workflow, so it always reaches workflow.
        guard !fromQueue, let principal = context.principal else {
            return .jsonText(try assemble(id, fromQueue: fromQueue, context).body)
        }
        return .jsonText(try context.gateway.viewCached(id, for: principal) {
            let view = try assemble(id, fromQueue: false, context)
            return (view.body, view.complete ? view.ticketID : nil)
        })
    }

    /// Workflow's failures that leave the view with intake's part alone (`workflow` null and
    /// `workflow_unavailable` true) instead of failing it: workflow unreachable or past the
    /// deadline. Intake's own failures, and workflow's refusals, still fail the view.
    static let degradesToIntakesPart: Set<RPCStatusCode> = [.unavailable, .deadlineExceeded]

    /// Asks intake and workflow at once (the id is usually the ticket id); when the path held a
    /// code, workflow is asked again with the id intake resolved. Each part is written as JSON
    /// text straight from its message (no dictionaries).
    static func assemble(_ id: String, fromQueue: Bool, _ context: RequestContext) throws -> View {
        let pending = context.startJSON("workflow", WorkflowV1.Workflow.getTicket, ["ticket_id": id, "from_queue": fromQueue])
        var intakeRequest = IntakeV1.GetTicketRequest()
        intakeRequest.ticket = id
        let intakeBytes = try context.gateway.forward(service: "intake", path: IntakeV1.Intake.getTicket.path,
                                                      payload: intakeRequest.serializedBytes(), options: context.callOptions())
        let intake = try ProtoJSON.jsonText(intakeBytes, as: IntakeV1.Ticket._descriptor.pointer, capturing: "id")
        let resolvedID = (intake.captured ?? "").isEmpty ? id : intake.captured!
        var body: [UInt8] = Array(#"{"intake":"#.utf8)
        body.reserveCapacity(intake.json.count * 3)
        body.append(contentsOf: intake.json)
        body.append(contentsOf: #","workflow":"#.utf8)
        var complete = true
        do {
            let workflowBytes: [UInt8]
            if resolvedID == id {
                workflowBytes = try pending.waitBytes()
            } else {
                _ = try? pending.waitBytes()
                var workflowRequest = WorkflowV1.GetTicketRequest()
                workflowRequest.ticketID = resolvedID
                workflowRequest.fromQueue = fromQueue
                workflowBytes = try context.gateway.forward(service: "workflow", path: WorkflowV1.Workflow.getTicket.path,
                                                            payload: workflowRequest.serializedBytes(), options: context.callOptions())
            }
            body.append(contentsOf: try ProtoJSON.jsonText(workflowBytes, as: WorkflowV1.TicketView._descriptor.pointer))
        } catch let error as RPCError where error.code == .notFound {
            // Workflow learns of a ticket by event, a moment after intake stores it.
            body.append(contentsOf: "null".utf8)
            complete = false
        } catch let error as RPCError where degradesToIntakesPart.contains(error.code) {
            // Workflow down or too slow: the customer and the agent still read the request, the
            // messages and the files intake answered for, told that the rest is missing for now.
            body.append(contentsOf: #"null,"workflow_unavailable":true"#.utf8)
            complete = false
        }
        body.append(UInt8(ascii: "}"))
        return View(body: body, ticketID: resolvedID, complete: complete)
    }
}
