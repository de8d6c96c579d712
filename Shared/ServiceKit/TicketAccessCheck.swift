import Messages
import RPC
import RPCTransport

/// Defence in depth for services that keep data about tickets without owning them (knowledge's
/// article links and FAQ requests, notification's delivery log and on-demand e-mail): before a
/// call about one ticket, workflow — which owns each ticket's access level, organization and
/// holder — is asked whether the caller may see it. The gateway's HTTP routes ask first too
/// (`TicketVisibility`), but calls reach the services without them: the gateway's integration RPC
/// port forwards by method name, and the services' own port takes any signed principal.
///
/// Who is asked about: every principal but services (the deployment's own work) and
/// administrators (who see every ticket), i.e. agents, chefes, customers and integration keys.
///
/// How: workflow's light `GetTicketHolder` (not `GetTicket`, which reads the whole ticket), as the
/// caller — the caller's signed principal, deadline and trace go with it
/// (``CallOptions/init(propagating:metadata:)``). Nothing is cached: one call per checked request
/// (docs/NOTIFICATION.md has the figure).
///
/// ```swift
/// let tickets = TicketAccessCheck(runtime: runtime)
/// router.register(M.linkArticleToTicket) { request, context in
///     try tickets.require(request.ticketID, caller: try principals.require(context), context: context)
///     ...
/// }
/// ```
public struct TicketAccessCheck: Sendable {
    /// Workflow's `GetTicketHolder` of a ticket id, asked with the caller's context.
    let ask: @Sendable (String, ServerContext) throws -> WorkflowV1.GetTicketHolderResponse

    /// Asks the workflow pool of `runtime` (`WORKFLOW_ADDRESSES`).
    public init(runtime: ServiceRuntime) {
        ask = { ticketID, context in
            var request = WorkflowV1.GetTicketHolderRequest()
            request.ticketID = ticketID
            return try runtime.client(for: "workflow").call(WorkflowV1.Workflow.getTicketHolder, request,
                                                            options: CallOptions(propagating: context))
        }
    }

    /// Asks `ask` instead (embedding, tests).
    public init(ask: @escaping @Sendable (String, ServerContext) throws -> WorkflowV1.GetTicketHolderResponse) {
        self.ask = ask
    }

    /// Whether `caller`'s calls are trusted without asking: services and administrators.
    public static func trusts(_ caller: AuthV1.Principal) -> Bool {
        caller.kind == .service || caller.administrator
    }

    /// Throws unless `caller` may see ticket `ticketID`.
    ///
    /// - Returns: workflow's answer (holder, level, stage, whether the caller may act), `nil` when
    ///   the caller is trusted (``trusts(_:)``) or `ticketID` is empty (nothing to check).
    /// - Throws: `NOT_FOUND` (the same answer as a missing ticket) when workflow hides the ticket
    ///   from the caller or has none; `UNAVAILABLE` when workflow cannot be reached (never a silent
    ///   yes); workflow's other refusals as they are (an inactive agent: `PERMISSION_DENIED`).
    @discardableResult
    public func require(_ ticketID: String, caller: AuthV1.Principal, context: ServerContext) throws -> WorkflowV1.GetTicketHolderResponse? {
        guard !ticketID.isEmpty, !Self.trusts(caller) else { return nil }
        do {
            return try ask(ticketID, context)
        } catch let error as RPCError where error.code == .notFound {
            throw Self.ticketNotFound
        } catch let error as RPCError where error.code == .unavailable {
            throw Self.workflowUnavailable
        }
    }

    /// The `items` whose ticket (`ticketID`; none: kept) `caller` may see, in order: one question
    /// to workflow per distinct ticket (a page of a list the caller asked for), none for a trusted
    /// caller.
    /// - Throws: as ``require(_:caller:context:)``, except that a hidden ticket leaves its items out.
    public func visible<Item>(_ items: [Item], ticketID: (Item) -> String, caller: AuthV1.Principal,
                              context: ServerContext) throws -> [Item] {
        guard !Self.trusts(caller) else { return items }
        var seen: [String: Bool] = [:]
        return try items.filter { item in
            let id = ticketID(item)
            guard !id.isEmpty else { return true }
            if let known = seen[id] { return known }
            let shown: Bool
            do {
                try require(id, caller: caller, context: context)
                shown = true
            } catch let error as RPCError where error.code == .notFound {
                shown = false
            }
            seen[id] = shown
            return shown
        }
    }

    /// The refusal for a caller who may see the ticket but not act on it (`answer.caller_may_act`
    /// false), as workflow answers the same caller's own changes: a former holder (who held it
    /// and lost it: a repasse, a devolver, a chefe's take, a step's assignment) gets workflow's
    /// `FAILED_PRECONDITION`, reason `no_longer_holder` on `ticket_id`, its texts as workflow
    /// wrote them (`answer.caller_no_longer_holder`; the gateway answers it 422); anyone else
    /// `otherwise` (a `PERMISSION_DENIED`). `nil` when the caller may act.
    public static func refusalToAct(_ answer: WorkflowV1.GetTicketHolderResponse, otherwise: RPCError) -> RPCError? {
        guard !answer.callerMayAct else { return nil }
        guard let lost = answer.callerNoLongerHolder, !lost.message.isEmpty else { return otherwise }
        return RPCError(.failedPrecondition, lost.message, violations: [
            FieldViolation(field: "ticket_id", reason: "no_longer_holder", pt: lost.description, en: lost.descriptionEn)])
    }

    /// A ticket the caller may not see: the same answer as a missing one.
    public static let ticketNotFound = RPCError(.notFound, "ocorrência não encontrada / ticket not found")

    /// Workflow cannot be reached: nothing about a ticket is allowed without its answer.
    public static let workflowUnavailable = RPCError(.unavailable,
                                                     "o workflow não respondeu; tente de novo / workflow did not answer; try again")
}
