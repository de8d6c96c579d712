import Messages
import Storage

/// What the time components need from the ticket core, kept to two narrow calls so they never
/// read the core's tables.
///
/// The core implements it once and passes it to ``WorkflowTime``; tests use ``MinimalTicketCore``.
public protocol TicketCoreSeam: Sendable {
    /// The summary events carry (holder, organization, access level...). `nil` when the ticket is unknown.
    func summary(_ tx: any SQLExecutor, ticketID: String) throws -> WorkflowV1.TicketSummary?

    /// Performs an inactivity policy's action inside the timer's transaction (e.g. move the ticket
    /// to `finalizado` with outcome `inatividade`), recording history and events as a normal move
    /// would. The countdown was current when the timer fired; after locking the ticket the core
    /// must still check that it is in `action.fromStage` and do nothing otherwise (a concurrent
    /// change may have moved it).
    func performInactivityAction(_ tx: any SQLExecutor, ticketID: String, action: InactivityAction, at: Int64) throws

    /// `principal` held to what the core's staff directory says of them: the access level the
    /// time API's figures and tickets are capped at is the one ticket views use (``Actor``: the
    /// lower of the signed level and the agent record's). Throws as ``Actor/resolve(_:_:)`` does
    /// (an inactive agent: `PERMISSION_DENIED`).
    func caller(_ tx: any SQLExecutor, _ principal: AuthV1.Principal) throws -> AuthV1.Principal
}

extension TicketCoreSeam {
    /// Without a staff directory (the time components alone), the signed principal as it is.
    public func caller(_ tx: any SQLExecutor, _ principal: AuthV1.Principal) throws -> AuthV1.Principal { principal }
}

/// A stand-in core for tests and for running the time components alone: summaries carry only the
/// ticket id; inactivity actions are recorded in `wf_inactivity_actions` (a table of this half).
public struct MinimalTicketCore: TicketCoreSeam {
    public init() {}

    public func summary(_ tx: any SQLExecutor, ticketID: String) throws -> WorkflowV1.TicketSummary? {
        var summary = WorkflowV1.TicketSummary()
        summary.ticketID = ticketID
        if let row = try tx.queryOne("SELECT stage, priority FROM wf_sla_tickets WHERE ticket_id = ?", [.text(ticketID)]) {
            summary.stage = try row.text("stage")
            summary.priority = CommonV1.Priority(_protoRawValue: Int32(try row.int("priority")))
        }
        return summary
    }

    public func performInactivityAction(_ tx: any SQLExecutor, ticketID: String, action: InactivityAction, at: Int64) throws {
        try tx.execute("INSERT INTO wf_inactivity_actions (ticket_id, policy_id, to_stage, outcome, at) VALUES (?, ?, ?, ?, ?)",
                       [.text(ticketID), .text(action.policyID), .text(action.toStage), .text(action.outcome), .integer(at)])
    }
}
