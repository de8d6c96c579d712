import Foundation
import Messages
import RPC
import RPCTransport
import Storage

extension TimeAPI {
    func registerInactivity(_ router: inout RPCRouter) {
        let api = self
        router.register(WorkflowV1.WorkflowTime.putInactivityPolicy) { request, context in
            let caller = try api.configurer(context)
            let policy = InactivityMapping.policy(from: request.policy ?? WorkflowV1.InactivityPolicySpec())
            try InactivityMapping.check(policy)
            // An active policy replaces the stage's active one (which stays listed, inactive); the
            // tickets waiting in the stage get their countdowns re-planned in the same transaction.
            return try api.write(context, request, caller: caller) { tx in
                try TimeAPI.requireCalendar(tx, id: policy.calendarID, field: "policy.calendar_id")
                try api.time.inactivity.savePolicy(tx, policy, at: api.time.clock())
                return InactivityMapping.spec(policy)
            }
        }
        router.register(WorkflowV1.WorkflowTime.deleteInactivityPolicy) { request, context in
            _ = try api.configurer(context)
            var response = WorkflowV1.DeletedResponse()
            response.deleted = try api.database.write { tx in try api.time.inactivity.deletePolicy(tx, id: request.id, at: api.time.clock()) }
            return response
        }
        router.register(WorkflowV1.WorkflowTime.listInactivityPolicies) { _, context in
            _ = try api.staff(context)
            var response = WorkflowV1.ListInactivityPoliciesResponse()
            response.policies = try api.database.read { tx in try InactivityPolicyStore.all(tx) }.map(InactivityMapping.spec)
            return response
        }
        router.register(WorkflowV1.WorkflowTime.installInactivityPreset) { request, context in
            let caller = try api.configurer(context)
            guard let preset = InactivityPresets.named(request.preset) else {
                throw TimeAPI.invalid("preset", ["use padrao ou totvs / use padrao or totvs"])
            }
            return try api.write(context, request, caller: caller) { tx in
                try api.time.inactivity.installPreset(tx, preset, at: api.time.clock())
                var response = WorkflowV1.ListInactivityPoliciesResponse()
                response.policies = try InactivityPolicyStore.all(tx).map(InactivityMapping.spec)
                return response
            }
        }
    }
}

enum InactivityMapping {
    /// Refuses `policy` (INVALID_ARGUMENT, nothing stored) for its ``InactivityPolicy/problems()``
    /// (field `policy`) and an outcome that is not one of ``InactivityPolicy/acceptedOutcomes``
    /// (field `policy.outcome`, naming the accepted ones), all at once.
    static func check(_ policy: InactivityPolicy) throws {
        var violations = policy.problems().map(BilingualText.split).map { FieldViolation(field: "policy", reason: "invalid", pt: $0.pt, en: $0.en) }
        if let problem = policy.outcomeProblem() {
            let halves = BilingualText.split(problem)
            violations.append(FieldViolation(field: "policy.outcome", reason: "unknown", pt: halves.pt, en: halves.en))
        }
        guard !violations.isEmpty else { return }
        throw RPCError(.invalidArgument, violations.map(\.descriptionPT).joined(separator: "; ") + " / " + violations.map(\.descriptionEN).joined(separator: "; "),
                       violations: violations)
    }

    static func spec(_ policy: InactivityPolicy) -> WorkflowV1.InactivityPolicySpec {
        var spec = WorkflowV1.InactivityPolicySpec()
        spec.id = policy.id
        spec.stage = policy.stage
        spec.days = Int32(policy.days)
        spec.businessDays = policy.businessDays
        spec.reminderDaysBefore = Int32(policy.reminderDaysBefore)
        spec.toStage = policy.toStage
        spec.outcome = policy.outcome
        spec.calendarID = policy.calendarID
        spec.active = policy.active
        return spec
    }

    static func policy(from spec: WorkflowV1.InactivityPolicySpec) -> InactivityPolicy {
        InactivityPolicy(id: spec.id, stage: spec.stage, days: Int(spec.days), businessDays: spec.businessDays,
                         reminderDaysBefore: Int(spec.reminderDaysBefore), toStage: spec.toStage, outcome: spec.outcome,
                         calendarID: spec.calendarID, active: spec.active)
    }
}
