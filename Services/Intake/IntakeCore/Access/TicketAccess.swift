import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// What workflow says of one caller and one ticket.
enum WorkflowTicketAccess: Sendable {
    /// The caller may see the ticket; workflow's answer about it (holder, stage, open).
    case visible(WorkflowV1.GetTicketHolderResponse)
    /// Workflow has the ticket and the caller may not see it (its access level is above theirs
    /// and they do not hold it).
    case hidden
    /// Workflow has not received the ticket yet (its `TicketOpened` is still on the way).
    case unknown
}

/// Staff reach one ticket's content in intake only as far as workflow lets them see the ticket:
/// workflow owns access levels and holders, and intake never reads its tables, so it asks.
///
/// Who is asked about: ``Caller/needsWorkflowAccess`` (agents and integrations that are not
/// administrators). Services and administrators see every ticket; customers and representatives
/// are checked against intake's directory (``visibleTicket(_:_:caller:)``), unchanged.
///
/// How: workflow's `GetTicketHolder` as the caller. A `NOT_FOUND` there means "hidden from you"
/// or "not received yet", the same answer on purpose (workflow never tells an agent that a
/// hidden ticket exists); intake then asks again as itself, a service that sees every ticket: found
/// means hidden, `NOT_FOUND` again means workflow does not have it yet. That second call happens
/// only on a refusal.
extension IntakeContext {
    /// Throws unless `caller` may touch `ticket`'s content.
    ///
    /// - A ticket workflow has not received yet: its registrant may (the agent of
    ///   `registered_by_agent`, or the integration key that opened it, ``registered(_:by:)``);
    ///   anyone else gets `FAILED_PRECONDITION` (try again in a moment).
    /// - Grants are reused for a short time (``TicketAccessCache``, `INTAKE_WORKFLOW_ACCESS_CACHE_MILLISECONDS`).
    /// - Throws: `NOT_FOUND` (as for a missing ticket) when workflow hides it from the caller;
    ///   `FAILED_PRECONDITION` as above; `UNAVAILABLE` when workflow cannot be reached (never a
    ///   silent yes).
    /// - Parameter toAct: The call shows the customer something (a staff reply, a file that is
    ///   not internal, a cancellation): the caller must also be one who may act on the ticket in
    ///   workflow (`caller_may_act`: holder, holding group while nobody holds it, the holder's
    ///   chefe), as workflow requires for public entries; else `PERMISSION_DENIED`.
    func requireTicketAccess(_ ticket: IntakeV1.Ticket, caller: Caller, toAct: Bool = false) throws {
        guard caller.needsWorkflowAccess else { return }
        if accessCache.granted(caller.principal, ticketID: ticket.id, toAct: toAct) { return }
        switch try workflowAccess(ticketID: ticket.id, caller: caller) {
        case .visible(let answer):
            accessCache.grant(caller.principal, ticketID: ticket.id, toAct: answer.callerMayAct)
            if toAct && !answer.callerMayAct { throw Self.mayNotAct }
        case .hidden:
            throw Self.ticketNotFound
        case .unknown:
            guard try registered(ticket, by: caller) else { throw Self.notInWorkflowYet }
        }
    }

    /// Whether `caller` registered `ticket`: the agent named in `registered_by_agent`, or the
    /// integration key that opened it (`tickets.registered_by_integration`, read only here, in
    /// the moment before workflow has the ticket).
    func registered(_ ticket: IntakeV1.Ticket, by caller: Caller) throws -> Bool {
        if caller.isAgent { return ticket.registeredByAgent.map { $0.id == caller.id } ?? false }
        guard caller.principal.kind == .integration, !caller.id.isEmpty else { return false }
        return try database.read { try TicketStore.registeredByIntegration($0, ticketID: ticket.id) } == caller.id
    }

    /// ``requireTicketAccess(_:caller:)`` for a ticket named by id or code; `NOT_FOUND` when
    /// intake has no such ticket. Nothing is read for a caller that needs no check.
    func requireTicketAccess(reference: String, caller: Caller, toAct: Bool = false) throws {
        guard caller.needsWorkflowAccess else { return }
        guard !reference.isEmpty, let ticket = try database.read({ try TicketStore.ticket($0, reference: reference) }) else {
            throw Self.ticketNotFound
        }
        try requireTicketAccess(ticket, caller: caller, toAct: toAct)
    }

    /// Asks workflow about `ticketID` as `caller` (and, on `NOT_FOUND`, as intake itself, to
    /// tell a hidden ticket from one not received yet; when intake finds it, as `caller` once
    /// more, since it may have arrived in between). Never cached.
    /// - Throws: workflow's other refusals as they are (an agent inactive in workflow's directory:
    ///   `PERMISSION_DENIED`; the call's deadline: `DEADLINE_EXCEEDED`).
    ///   Workflow unreachable is `UNAVAILABLE` with intake's own words (not the connection's details).
    func workflowAccess(ticketID: String, caller: Caller) throws -> WorkflowTicketAccess {
        do {
            do {
                return .visible(try ticketHolder(ticketID, caller.principal, caller.upstream))
            } catch let error as RPCError where error.code == .notFound {
                do {
                    _ = try ticketHolder(ticketID, Self.intakePrincipal, caller.upstream)
                } catch let error as RPCError where error.code == .notFound {
                    return .unknown
                }
                // Workflow has it now, but it may have arrived between the two questions (a ticket
                // just opened or taken in): the caller's own answer decides, asked again.
                do {
                    return .visible(try ticketHolder(ticketID, caller.principal, caller.upstream))
                } catch let error as RPCError where error.code == .notFound {
                    return .hidden
                }
            }
        } catch let error as RPCError where error.code == .unavailable {
            throw Self.workflowUnavailable
        }
    }

    /// Intake acting as itself (sees every ticket in workflow).
    static let intakePrincipal = PrincipalSigner.service("intake")

    /// A ticket the caller may not see: the same answer as a missing one (knowledge's and
    /// notification's, ``TicketAccessCheck``).
    static let ticketNotFound = TicketAccessCheck.ticketNotFound

    /// Workflow cannot be reached: nothing is allowed without its answer.
    static let workflowUnavailable = TicketAccessCheck.workflowUnavailable

    /// A caller who may see the ticket but not act on it, showing the customer something.
    static let mayNotAct = RPCError(.permissionDenied,
                                    "apenas quem pode atuar na ocorrência (o responsável, seu grupo enquanto ninguém a assume, o chefe do responsável) mostra algo ao cliente / only who may act on the ticket (its holder, its group while nobody holds it, the holder's chefe) shows the customer something")

    /// A ticket workflow has not received yet, asked about by someone other than who registered it.
    static let notInWorkflowYet = RPCError(.failedPrecondition,
                                           "a ocorrência ainda não chegou ao workflow; tente de novo em instantes / the ticket has not reached workflow yet; try again in a moment")
}
