import Foundation
import Messages
import RPC
import RPCTransport
import Storage

extension TimeAPI {
    func registerSLA(_ router: inout RPCRouter) {
        let api = self
        router.register(WorkflowV1.WorkflowTime.putSLAPolicy) { request, context in
            let caller = try api.configurer(context)
            let policy = SLAMapping.policy(from: request.policy ?? WorkflowV1.SLAPolicySpec())
            let problems = policy.problems()
            guard problems.isEmpty else { throw TimeAPI.invalid("policy", problems) }
            return try api.recomputingAfter(context, request, caller: caller) { tx, now in
                try TimeAPI.requireCalendar(tx, id: policy.calendarID, field: "policy.calendar_id")
                try SLAPolicyStore.save(tx, policy, at: now)
                var response = WorkflowV1.PutSLAPolicyResponse()
                response.policy = SLAMapping.spec(policy)
                return (response, .plan(policy.plan))
            }
        }
        router.register(WorkflowV1.WorkflowTime.deleteSLAPolicy) { request, context in
            let caller = try api.configurer(context)
            let plan = request.plan.isEmpty ? "*" : request.plan
            return try api.recomputingAfter(context, request, caller: caller) { tx, _ in
                var response = WorkflowV1.DeletedResponse()
                response.deleted = try SLAPolicyStore.delete(tx, plan: plan, priority: request.priority.rawValue)
                return (response, response.deleted ? .plan(plan) : nil)
            }
        }
        router.register(WorkflowV1.WorkflowTime.listSLAPolicies) { _, context in
            _ = try api.staff(context)
            var response = WorkflowV1.ListSLAPoliciesResponse()
            response.policies = try api.database.read { tx in try SLAPolicyStore.all(tx) }.map(SLAMapping.spec)
            return response
        }
        router.register(WorkflowV1.WorkflowTime.getTicketSLA) { request, context in
            let caller = try api.staff(context)
            return try api.database.read { tx in
                guard let ticket = try tx.queryOne("""
                    SELECT s.plan, s.priority, m.access_level, m.agent_id FROM wf_sla_tickets s
                    LEFT JOIN wf_metric_tickets m ON m.ticket_id = s.ticket_id WHERE s.ticket_id = ?
                    """, [.text(request.ticketID)]) else {
                    throw RPCError(.notFound, "ocorrência não encontrada / ticket not found")
                }
                // Agents and integrations alike: up to their level, or what they hold.
                try api.requireVisibleTicket(tx, request.ticketID, caller)
                var response = WorkflowV1.GetTicketSLAResponse()
                response.ticketID = request.ticketID
                response.plan = try ticket.text("plan")
                response.priority = CommonV1.Priority(_protoRawValue: Int32(try ticket.int("priority")))
                response.targets = try api.time.sla.storedTargets(tx, ticketID: request.ticketID).map(SLAMapping.status)
                return response
            }
        }
    }
}

enum SLAMapping {
    static func spec(_ policy: SLAPolicy) -> WorkflowV1.SLAPolicySpec {
        var spec = WorkflowV1.SLAPolicySpec()
        spec.plan = policy.plan
        spec.priority = CommonV1.Priority(_protoRawValue: policy.priority)
        spec.firstResponseMinutes = policy.firstResponseSeconds / 60
        spec.nextResponseMinutes = policy.nextResponseSeconds / 60
        spec.resolutionMinutes = policy.resolutionSeconds / 60
        spec.pauseStages = policy.pauseStages.sorted()
        spec.warningPercent = policy.warningPercent
        spec.calendarID = policy.calendarID
        return spec
    }

    static func policy(from spec: WorkflowV1.SLAPolicySpec) -> SLAPolicy {
        SLAPolicy(plan: spec.plan.isEmpty ? "*" : spec.plan, priority: spec.priority.rawValue,
                  firstResponseSeconds: spec.firstResponseMinutes * 60, nextResponseSeconds: spec.nextResponseMinutes * 60,
                  resolutionSeconds: spec.resolutionMinutes * 60, pauseStages: Set(spec.pauseStages),
                  warningPercent: spec.warningPercent == 0 ? 80 : spec.warningPercent, calendarID: spec.calendarID)
    }

    static func status(_ target: StoredSLATarget) -> WorkflowV1.SLATargetStatus {
        var status = WorkflowV1.SLATargetStatus()
        status.target = WorkflowV1.SlaTarget(_protoRawValue: Int32(target.kind.rawValue))
        status.cycle = Int32(target.cycle)
        status.status = target.status.rawValue
        status.targetMs = target.targetMillis
        status.elapsedMs = target.elapsedMillis
        status.dueAtMs = target.dueAt ?? 0
        status.warnAtMs = target.warnAt ?? 0
        status.stoppedAtMs = target.stoppedAt ?? 0
        return status
    }
}

/// An answer that tells how many open tickets an SLA configuration edit recomputed at once and
/// how many it left to timers.
protocol RecomputeReporting: ProtoMessage {
    var ticketsRecomputed: Int32 { get set }
    var ticketsQueued: Int32 { get set }
}

extension WorkflowV1.PutSLAPolicyResponse: RecomputeReporting {}
extension WorkflowV1.PutCalendarResponse: RecomputeReporting {}
extension WorkflowV1.DeletedResponse: RecomputeReporting {}

/// Which open tickets an SLA configuration edit reaches.
enum RecomputeScope {
    /// Every open ticket (a calendar, or a policy for every plan: `"*"`).
    case all
    /// The open tickets of a plan (`"*"` means every plan).
    case plan(String)

    var plan: String? {
        if case .plan(let plan) = self, plan != "*" { return plan }
        return nil
    }
}

extension TimeAPI {
    /// Runs an SLA configuration edit and, in its transaction, recomputes the open tickets it
    /// reaches (none when it answers no scope): inline up to the configured limit
    /// (``WorkflowTime/Configuration/slaInlineRecomputeLimit``), by timers beyond it, which the
    /// scheduler is woken for after the commit. The answer carries the counts. Once per
    /// idempotency key of `caller` (``write(_:_:caller:_:)``): a retry gets the first counts.
    func recomputingAfter<Request: ProtoMessage, Response: RecomputeReporting>(
        _ context: ServerContext, _ request: Request, caller: AuthV1.Principal,
        _ edit: (any SQLExecutor, _ now: Int64) throws -> (Response, RecomputeScope?)
    ) throws -> Response {
        let now = time.clock()
        let response = try write(context, request, caller: caller) { tx in
            var (response, scope) = try edit(tx, now)
            if let scope {
                let outcome = try time.sla.recomputeOpenTickets(tx, plan: scope.plan, now: now,
                                                                inlineLimit: time.configuration.slaInlineRecomputeLimit)
                (response.ticketsRecomputed, response.ticketsQueued) = (Int32(outcome.recomputed), Int32(outcome.queued))
            }
            return response
        }
        if response.ticketsQueued > 0 { time.scheduler.wake() }
        return response
    }
}
