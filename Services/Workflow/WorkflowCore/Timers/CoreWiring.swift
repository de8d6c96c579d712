import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization

/// Connects the ticket core's observer seam (``TicketObserver``) to ``WorkflowTime``: every ticket
/// change is reported to the SLA, inactivity, survey and metrics parts inside its transaction.
public struct WorkflowTimeObserver: TicketObserver, OpeningWriter {
    public let time: WorkflowTime

    public init(time: WorkflowTime) {
        self.time = time
    }

    public func ticketDidChange(_ change: TicketChange, ticket: TicketRecord, at: Int64, lifecycle: TicketLifecycle, tx: any SQLExecutor) throws {
        switch change {
        case .opened:
            try time.ticketOpened(tx, ticketID: ticket.id, dimensions: Self.dimensions(ticket), stage: ticket.stage, at: at)
        case .stageChanged(_, let to, _, let outcome):
            try time.stageChanged(tx, ticketID: ticket.id, to: to, outcome: outcome, at: at)
        case .agentPublicResponse:
            try time.agentResponded(tx, ticketID: ticket.id, stage: ticket.stage, at: at)
        case .customerReplied:
            try time.customerReplied(tx, ticketID: ticket.id, at: at)
        case .priorityChanged(_, let new):
            try time.priorityChanged(tx, ticketID: ticket.id, priority: new.rawValue, at: at)
        case .planChanged(_, let new):
            try time.planChanged(tx, ticketID: ticket.id, plan: new, at: at)
        case .categoryChanged, .accessLevelChanged:
            try time.reclassified(tx, ticketID: ticket.id, dimensions: Self.dimensions(ticket), at: at)
        case .holderChanged(_, let to, let kind, let pingPong):
            // Takes and automatic assignments only update the holder in the metrics; repasses and
            // devolvers count as transfers.
            if kind == .transfer || kind == .sendBack {
                try time.transferred(tx, ticketID: ticket.id, pingPong: pingPong, groupID: to.groupID, agentID: to.agentID, at: at)
            } else {
                try time.reclassified(tx, ticketID: ticket.id, dimensions: Self.dimensions(ticket), at: at)
            }
        case .reopened:
            try time.ticketReopened(tx, ticketID: ticket.id, at: at)
        case .statusChanged, .finished:
            break  // finishing arrives as a stage change
        }
    }

    /// The `.opened` change's writes for the ticket's own statement (``OpeningWriter``).
    func openingWrites(_ ticket: TicketRecord, at: Int64, tx: any SQLExecutor,
                       into statement: inout GuardedWrites) throws -> (Set<String>) throws -> Void {
        try time.openingWrites(tx, ticketID: ticket.id, dimensions: Self.dimensions(ticket), stage: ticket.stage, at: at, into: &statement)
    }

    func declareGroupOpening(_ statement: inout GroupedGuardedWrites) {
        WorkflowTime.declareGroupOpening(&statement)
    }

    func addGroupOpening(_ ticket: TicketRecord, at: Int64, tx: any SQLExecutor,
                         to statement: inout GroupedGuardedWrites) throws -> (Set<String>) throws -> Void {
        try time.addGroupOpening(tx, ticketID: ticket.id, dimensions: Self.dimensions(ticket), stage: ticket.stage, at: at, to: &statement)
    }

    /// What metrics and SLA need of a ticket.
    public static func dimensions(_ ticket: TicketRecord) -> TicketDimensions {
        TicketDimensions(organizationID: ticket.organizationID, category: ticket.category.rawValue, product: ticket.product,
                         module: ticket.module, priority: ticket.priority.rawValue, plan: ticket.plan, groupID: ticket.groupID,
                         agentID: ticket.agentID, accessLevel: ticket.accessLevel)
    }
}

/// ``TicketCoreSeam`` answered by the ticket core's ``TicketLifecycle`` (bound once it exists,
/// since the lifecycle is created with the observers).
public final class LifecycleSeam: TicketCoreSeam {
    private let lifecycle = Mutex<TicketLifecycle?>(nil)

    public init() {}

    /// Sets the lifecycle the seam answers with.
    public func bind(_ lifecycle: TicketLifecycle) {
        self.lifecycle.withLock { $0 = lifecycle }
    }

    private var bound: TicketLifecycle? { lifecycle.withLock { $0 } }

    public func summary(_ tx: any SQLExecutor, ticketID: String) throws -> WorkflowV1.TicketSummary? {
        guard let lifecycle = bound,
              let row = try tx.queryOne("SELECT id FROM tickets WHERE id = ?", [.text(ticketID)]), row["id"] != .null else { return nil }
        return lifecycle.summary(try lifecycle.load(tx, ticketID))
    }

    /// The principal with the level ticket views hold them to (``Actor/resolve(_:_:)``).
    public func caller(_ tx: any SQLExecutor, _ principal: AuthV1.Principal) throws -> AuthV1.Principal {
        guard principal.kind == .agent || principal.kind == .integration else { return principal }
        var held = principal
        held.accessLevel = try Actor.resolve(principal, tx).level
        return held
    }

    /// Moves the ticket along its flow's timer transition, as the system, when it is still in the
    /// stage the countdown started in, recording the policy's outcome when it names one; does
    /// nothing when it moved on, and records a history line when its flow has no such move.
    public func performInactivityAction(_ tx: any SQLExecutor, ticketID: String, action: InactivityAction, at: Int64) throws {
        guard let lifecycle = bound,
              try tx.queryOne("SELECT id FROM tickets WHERE id = ?", [.text(ticketID)]) != nil else { return }
        let ticket = try lifecycle.load(tx, ticketID, forUpdate: true)
        guard ticket.stage == action.fromStage else { return }
        let flow = lifecycle.flow(of: ticket)
        guard flow.moves(from: ticket.stage, trigger: .timer, category: ticket.category).contains(where: { $0.to == action.toStage }) else {
            // The policy names a move this ticket's flow does not have: say so in the history.
            try lifecycle.record(tx, ticket.id, "inactivity", old: ticket.stage, new: action.toStage,
                                 note: "política \(action.policyID): o fluxo \(ticket.flow) não tem essa transição por tempo",
                                 actor: .system, at: at)
            return
        }
        // The policy's outcome (data since the policies were seeded), else the transition's.
        try lifecycle.move(tx, ticket, to: action.toStage, trigger: .timer, actor: .system, outcome: action.outcome)
    }
}

/// Builds the time half for ``WorkflowService/register(runtime:router:options:)``.
public enum WorkflowTimeWiring {
    /// Creates ``WorkflowTime`` for this runtime and adds its observer and survey links to `options`.
    /// - Throws: ``ServiceKit/ConfigurationError`` for a malformed `WORKFLOW_*` time setting.
    public static func prepare(runtime: ServiceRuntime, options: inout WorkflowService.Options) throws -> (WorkflowTime, LifecycleSeam) {
        let seam = LifecycleSeam()
        let logger = runtime.logger
        let time = WorkflowTime(database: runtime.database, secret: runtime.secret, core: seam,
                                configuration: try .fromEnvironment(runtime.configuration.environment), clock: options.now,
                                onTimerError: { timer, error in
                                    logger.warning("timer failed", ["timer.id": timer?.id ?? "", "timer.kind": timer?.kind ?? "",
                                                                    "ticket.id": timer?.ticketID ?? "", "error": "\(error)"])
                                })
        options.observers.append(WorkflowTimeObserver(time: time))
        options.surveyLink = { tx, ticket in try time.finishedSurveyLink(tx, ticketID: ticket.id, finishedAt: ticket.finishedAt) }
        return (time, seam)
    }

    /// Binds the lifecycle, seeds inactivity policies from the flows' timer transitions (first
    /// start only), registers the `WorkflowTime` RPCs and runs the timer scheduler.
    public static func finish(_ time: WorkflowTime, _ seam: LifecycleSeam, lifecycle: TicketLifecycle,
                              runtime: ServiceRuntime, router: inout RPCRouter) throws {
        seam.bind(lifecycle)
        try runtime.database.write { tx in
            try seedInactivityPolicies(tx, flows: Array(lifecycle.flows.values), now: time.clock())
        }
        // Stage names for the metrics: the default flow's first, then any other flow's.
        var stages = MetricsExport.StageNames()
        let flows = lifecycle.flows.sorted { ($0.key != lifecycle.defaultFlow ? 1 : 0, $0.key) < ($1.key != lifecycle.defaultFlow ? 1 : 0, $1.key) }
        for (_, flow) in flows {
            for stage in flow.stages where stages.portuguese[stage.key] == nil {
                stages.portuguese[stage.key] = stage.name
                stages.english[stage.key] = stage.nameEN
            }
        }
        time.register(runtime: runtime, router: &router, stages: stages)
    }

    /// When no inactivity policy exists yet, one per `timer` transition of the flows: the shipped
    /// preset's policy for that stage when it has one (for its reminder), else the flow's days.
    public static func seedInactivityPolicies(_ tx: any SQLExecutor, flows: [StageFlow], now: Int64) throws {
        guard try InactivityPolicyStore.all(tx).isEmpty else { return }
        let presets = InactivityPresets.padrao + InactivityPresets.totvs
        var seen = Set<String>()
        for flow in flows.sorted(by: { $0.name < $1.name }) {
            for transition in flow.transitions where transition.trigger == .timer && transition.afterDays > 0 && transition.from != "*" {
                guard seen.insert(transition.from).inserted else { continue }
                let preset = presets.first { $0.stage == transition.from && $0.toStage == transition.to && $0.days == transition.afterDays }
                try InactivityPolicyStore.save(tx, preset ?? InactivityPolicy(
                    id: "\(flow.name)-\(transition.from)", stage: transition.from, days: transition.afterDays,
                    toStage: transition.to, outcome: transition.outcome), at: now)
            }
        }
    }
}
