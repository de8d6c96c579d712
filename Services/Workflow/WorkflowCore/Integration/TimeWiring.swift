import Foundation
import Messages
import Storage
import Synchronization

/// Connects the time half of workflow (``WorkflowTime``: SLA, timers, inactivity, survey,
/// metrics) to the ticket core: an observer that reports every lifecycle change to it, and the
/// ``TicketCoreSeam`` it calls back (event summaries, inactivity actions).
struct TimeObserver: TicketObserver {
    let time: WorkflowTime

    static func dimensions(_ ticket: TicketRecord) -> TicketDimensions {
        TicketDimensions(organizationID: ticket.organizationID, category: ticket.category.rawValue, product: ticket.product,
                         module: ticket.module, priority: ticket.priority.rawValue, plan: ticket.plan, groupID: ticket.groupID,
                         agentID: ticket.agentID, accessLevel: ticket.accessLevel)
    }

    func ticketDidChange(_ change: TicketChange, ticket: TicketRecord, at: Int64, lifecycle: TicketLifecycle, tx: any SQLExecutor) throws {
        switch change {
        case .opened:
            try time.ticketOpened(tx, ticketID: ticket.id, dimensions: Self.dimensions(ticket), stage: ticket.stage, at: at)
        case .stageChanged(_, let to, _, _):
            try time.stageChanged(tx, ticketID: ticket.id, to: to, at: at)
        case .holderChanged(_, let holder, let kind, let pingPong):
            try time.reclassified(tx, ticketID: ticket.id, dimensions: Self.dimensions(ticket), at: at)
            if kind == .transfer || kind == .sendBack {
                try time.transferred(tx, ticketID: ticket.id, pingPong: pingPong, groupID: holder.groupID, agentID: holder.agentID, at: at)
            }
        case .priorityChanged(_, let new):
            try time.priorityChanged(tx, ticketID: ticket.id, priority: new.rawValue, at: at)
        case .categoryChanged, .accessLevelChanged:
            try time.reclassified(tx, ticketID: ticket.id, dimensions: Self.dimensions(ticket), at: at)
        case .customerReplied:
            try time.customerReplied(tx, ticketID: ticket.id, at: at)
        case .agentPublicResponse:
            try time.agentResponded(tx, ticketID: ticket.id, at: at)
        case .statusChanged, .finished, .reopened:
            break
        }
    }
}

/// The core's answers to the time half. The lifecycle is created after ``WorkflowTime`` (which
/// needs this seam first), so it is set once right after.
final class CoreSeam: TicketCoreSeam {
    private let box = Mutex<TicketLifecycle?>(nil)

    func attach(_ lifecycle: TicketLifecycle) { box.withLock { $0 = lifecycle } }

    private var lifecycle: TicketLifecycle {
        get throws {
            guard let lifecycle = box.withLock({ $0 }) else { throw StorageError(.misuse, "workflow core not attached to the time half") }
            return lifecycle
        }
    }

    func summary(_ tx: any SQLExecutor, ticketID: String) throws -> WorkflowV1.TicketSummary? {
        let lifecycle = try self.lifecycle
        guard let row = try tx.queryOne(TicketRecord.select + " WHERE t.id = ?", [.text(ticketID)]) else { return nil }
        return lifecycle.summary(TicketRecord(row))
    }

    /// Moves the ticket along its flow's `timer` transition to `action.toStage`, as the system.
    /// Does nothing when the ticket left `action.fromStage` meanwhile, or when its flow has no such
    /// timer transition (recorded in the history, so a misconfigured policy is visible).
    func performInactivityAction(_ tx: any SQLExecutor, ticketID: String, action: InactivityAction, at: Int64) throws {
        let lifecycle = try self.lifecycle
        guard let ticket = try? lifecycle.load(tx, ticketID, forUpdate: true), ticket.stage == action.fromStage else { return }
        let moves = lifecycle.flow(of: ticket).moves(from: ticket.stage, trigger: .timer, category: ticket.category)
        guard moves.contains(where: { $0.to == action.toStage }) else {
            try lifecycle.record(tx, ticket.id, "inactivity", old: ticket.stage, new: action.toStage,
                                 note: "política \(action.policyID): o fluxo \(ticket.flow) não tem essa transição por tempo",
                                 actor: .system, at: at)
            return
        }
        try lifecycle.move(tx, ticket, to: action.toStage, trigger: .timer, actor: .system)
    }
}
