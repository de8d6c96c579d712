import Foundation
import Messages
import RPC
import RPCTransport
import Storage

extension TimeAPI {
    func registerSLA(_ router: inout RPCRouter) {
        let api = self
        router.register(WorkflowV1.WorkflowTime.putSLAPolicy) { request, context in
            _ = try api.configurer(context)
            let policy = SLAMapping.policy(from: request.policy ?? WorkflowV1.SLAPolicySpec())
            let problems = policy.problems()
            guard problems.isEmpty else { throw TimeAPI.invalid("policy", problems) }
            let now = api.time.clock()
            let response = try api.database.write { tx in
                try SLAPolicyStore.save(tx, policy, at: now)
                var response = WorkflowV1.PutSLAPolicyResponse()
                response.policy = SLAMapping.spec(policy)
                let outcome = try api.recomputeOpenTickets(tx, plan: policy.plan == "*" ? nil : policy.plan, now: now)
                (response.ticketsRecomputed, response.ticketsQueued) = (Int32(outcome.recomputed), Int32(outcome.queued))
                return response
            }
            if response.ticketsQueued > 0 { api.time.scheduler.wake() }
            return response
        }
        router.register(WorkflowV1.WorkflowTime.deleteSLAPolicy) { request, context in
            _ = try api.configurer(context)
            let now = api.time.clock()
            let response = try api.database.write { tx in
                var response = WorkflowV1.DeletedResponse()
                response.deleted = try SLAPolicyStore.delete(tx, plan: request.plan.isEmpty ? "*" : request.plan, priority: request.priority.rawValue)
                if response.deleted {
                    let outcome = try api.recomputeOpenTickets(tx, plan: request.plan == "*" || request.plan.isEmpty ? nil : request.plan, now: now)
                    (response.ticketsRecomputed, response.ticketsQueued) = (Int32(outcome.recomputed), Int32(outcome.queued))
                }
                return response
            }
            if response.ticketsQueued > 0 { api.time.scheduler.wake() }
            return response
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
                let level = try ticket.optionalInt("access_level") ?? 0
                if caller.kind == .agent && !caller.administrator && level > Int64(caller.accessLevel) && ticket.optionalText("agent_id") != caller.id {
                    throw RPCError(.notFound, "ocorrência não encontrada / ticket not found")
                }
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

extension TimeAPI {
    /// The open tickets' SLA after a policy or calendar edit, inline up to the configured limit
    /// (``WorkflowTime/Configuration/slaInlineRecomputeLimit``), by timers beyond it; the caller
    /// wakes the scheduler after its commit when some were queued.
    func recomputeOpenTickets(_ tx: any SQLExecutor, plan: String? = nil, now: Int64) throws -> SLAEngine.RecomputeOutcome {
        try time.sla.recomputeOpenTickets(tx, plan: plan, now: now, inlineLimit: time.configuration.slaInlineRecomputeLimit)
    }
}
