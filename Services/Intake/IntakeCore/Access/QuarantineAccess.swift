import RPC
import Storage

/// The mail quarantine per ticket: a held message that names a ticket (the one it was threaded
/// to when held, or the one it was taken into) is read by an agent only when workflow lets them
/// see that ticket, through the same ``IntakeContext/requireTicketAccess(_:caller:toAct:)`` as
/// the other ticket calls (docs/INTAKE.md, "Staff and workflow's access rules").
extension IntakeContext {
    /// A quarantined message the caller may not read, answered like a missing one.
    static let quarantinedNotFound = RPCError(.notFound, "mensagem retida não encontrada / quarantined message not found")

    /// The tickets a quarantined record names: the one it was threaded to when held
    /// (`thread_ticket_id`), the one it was taken into (`ticket_id`) and those its subject or
    /// text names by code (`named_ticket_ids`), each once.
    static func namedTickets(_ row: Row) -> [String] {
        var candidates = [row.optionalText("thread_ticket_id"), row.optionalText("ticket_id")].compactMap { $0 }
        candidates += (row.optionalText("named_ticket_ids") ?? "").split(separator: " ").map(String.init)
        var tickets: [String] = []
        for id in candidates where !id.isEmpty && !tickets.contains(id) { tickets.append(id) }
        return tickets
    }

    /// What workflow lets a caller do with one ticket a quarantined record names.
    enum NamedTicketAccess: Sendable {
        case visible
        /// Hidden from the caller (answered like a missing message).
        case hidden
        /// Workflow has not received the ticket yet, and the caller did not register it.
        case pending
    }

    /// ``requireTicketAccess(_:caller:toAct:)`` for one ticket a quarantined record names, as an answer.
    /// - Throws: what it throws but `NOT_FOUND` and "not received yet" (`UNAVAILABLE` when
    ///   workflow cannot be reached).
    func namedTicketAccess(_ ticketID: String, caller: Caller) throws -> NamedTicketAccess {
        do {
            try requireTicketAccess(reference: ticketID, caller: caller)
            return .visible
        } catch let error as RPCError where error.code == .notFound {
            return .hidden
        } catch let error as RPCError where error.code == Self.notInWorkflowYet.code && error.message == Self.notInWorkflowYet.message {
            return .pending
        }
    }

    /// Whether `caller` took the message of `row` into `ticketID` (reprocessed it, which may
    /// have opened that ticket): they are its registrant while workflow has not received it.
    static func tookIn(_ row: Row, ticketID: String, caller: Caller) -> Bool {
        row.optionalText("ticket_id") == ticketID && row.optionalText("resolved_by") == caller.id
    }

    /// What `caller` may do with the quarantined message of `row`: for agents workflow decides
    /// about (``Caller/needsWorkflowAccess``), every ticket it names must be one workflow lets
    /// them see (`access`, answering per ticket); the first that is not decides. A message naming
    /// no ticket is read as before; administrators and services read every one. A ticket workflow
    /// has not received yet is let through for its registrant (`access` says visible), and for
    /// the agent who took the message into it.
    func quarantineAccess(_ row: Row, caller: Caller, access: (String) throws -> NamedTicketAccess) rethrows -> NamedTicketAccess {
        guard caller.needsWorkflowAccess else { return .visible }
        for ticketID in Self.namedTickets(row) {
            switch try access(ticketID) {
            case .visible: continue
            case .hidden: return .hidden
            case .pending: if !Self.tookIn(row, ticketID: ticketID, caller: caller) { return .pending }
            }
        }
        return .visible
    }

    /// Throws unless `caller` may read the quarantined message of `row` (``quarantineAccess(_:caller:access:)``).
    /// - Throws: `NOT_FOUND` ("quarantined message not found", as a missing one) for a hidden
    ///   ticket; `FAILED_PRECONDITION` for one workflow has not received yet;
    ///   `UNAVAILABLE` when workflow cannot be reached.
    func requireQuarantineAccess(_ row: Row, caller: Caller) throws {
        switch try quarantineAccess(row, caller: caller, access: { try namedTicketAccess($0, caller: caller) }) {
        case .visible: return
        case .hidden: throw Self.quarantinedNotFound
        case .pending: throw Self.notInWorkflowYet
        }
    }

    /// Whether a listing shows `row` to `caller` (``quarantineAccess(_:caller:access:)``).
    /// A hidden ticket and one workflow has not received yet leave the row out; workflow
    /// unreachable fails the listing (never a silent yes). `seen` keeps workflow's answer per
    /// ticket for the rest of the listing, so each ticket is asked about once.
    func mayRead(_ row: Row, caller: Caller, seen: inout [String: NamedTicketAccess]) throws -> Bool {
        try quarantineAccess(row, caller: caller) { ticketID in
            let access = try seen[ticketID] ?? namedTicketAccess(ticketID, caller: caller)
            seen[ticketID] = access
            return access
        } == .visible
    }
}
