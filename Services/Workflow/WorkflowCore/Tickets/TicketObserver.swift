import Messages
import Storage

/// What happened to a ticket. Observers receive one of these inside the transaction of the change.
public enum TicketChange: Sendable, Hashable {
    /// The ticket was created from intake's TicketOpened.
    case opened
    /// The stage changed (`outcome` set when the move finished the ticket).
    case stageChanged(from: String, to: String, trigger: TransitionTrigger, outcome: String)
    /// The holder changed (take, transfer, devolver, automatic assignment); `kind` says which.
    case holderChanged(from: HolderRef, to: HolderRef, kind: TicketLifecycle.HandoffKind, pingPong: Bool)
    case priorityChanged(old: CommonV1.Priority, new: CommonV1.Priority)
    case categoryChanged(old: CommonV1.Category, new: CommonV1.Category)
    /// The organization's contract plan changed (intake's OrganizationPlanChanged).
    case planChanged(old: String, new: String)
    /// Status inside the stage ("agendado", "paralisado", ...).
    case statusChanged(old: String, new: String)
    case accessLevelChanged(old: Int32, new: Int32)
    /// The customer wrote (before any stage change the reply causes, which comes as its own change).
    /// A reply that undoes an inactivity close (``TicketLifecycle/reopenAfterLateReply(_:_:close:actor:at:)``)
    /// is reported at its delivery, and after the reopening when that goes back into the stage it
    /// was written in (whose countdown it stops).
    case customerReplied
    /// An agent (a person, not an integration's key) wrote a public entry; `first` is true for the
    /// ticket's first public response.
    case agentPublicResponse(first: Bool)
    /// The ticket reached a final stage (also reported as `stageChanged`).
    case finished(outcome: String)
    /// A final ticket was moved back to an open stage.
    case reopened
}

/// The extension seam: SLA clocks, timers, inactivity policies, surveys and metrics hook here.
///
/// ``TicketLifecycle`` calls every observer, in registration order, inside the same database
/// transaction as the change and after the ticket row has been updated; `ticket` is the ticket
/// after the change. Throwing rolls the whole change back.
///
/// ```swift
/// struct SLAClock: TicketObserver {
///     func ticketDidChange(_ change: TicketChange, ticket: TicketRecord, at: Int64,
///                          lifecycle: TicketLifecycle, tx: any SQLExecutor) throws {
///         if case .priorityChanged = change { try recompute(ticket, tx) }
///     }
/// }
/// try WorkflowService.register(runtime: runtime, router: &router, observers: [SLAClock()])
/// ```
public protocol TicketObserver: Sendable {
    func ticketDidChange(_ change: TicketChange, ticket: TicketRecord, at: Int64, lifecycle: TicketLifecycle, tx: any SQLExecutor) throws
}

/// An observer whose `.opened` writes can go out in the opening ticket's own statement
/// (PostgreSQL; ``TicketIntake``): instead of ``TicketObserver/ticketDidChange(_:ticket:at:lifecycle:tx:)``
/// for `.opened`, it adds guarded writes to `statement` — whose ``GuardedWrites/condition`` holds
/// only when the ticket row is written — and returns what to run once the statement has run
/// (with the guards that inserted), which must leave the same state as `ticketDidChange` would.
/// `ticket` is the ticket as it is about to be written (no holder names yet).
///
/// For a group of openings in one statement (``TicketIntake``'s group of a delivery's
/// openings), it declares its parts once (``declareGroupOpening(_:)``: part and guard names must
/// not clash with another writer's) and adds each ticket's rows to them
/// (``addGroupOpening(_:at:tx:to:)``), with the same guarantees.
protocol OpeningWriter {
    func openingWrites(_ ticket: TicketRecord, at: Int64, tx: any SQLExecutor,
                       into statement: inout GuardedWrites) throws -> (Set<String>) throws -> Void
    func declareGroupOpening(_ statement: inout GroupedGuardedWrites)
    func addGroupOpening(_ ticket: TicketRecord, at: Int64, tx: any SQLExecutor,
                         to statement: inout GroupedGuardedWrites) throws -> (Set<String>) throws -> Void
}
