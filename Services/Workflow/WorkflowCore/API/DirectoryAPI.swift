import Foundation
import Messages
import RPC
import RPCTransport
import Storage

extension WorkflowAPI {
    /// Staff directory, routing rules and category defaults.
    func registerDirectory(_ router: inout RPCRouter) {
        let api = self
        router.register(WorkflowV1.Workflow.putAgent) { request, context in
            try api.write(context, request, requiring: "directory.manage") { actor, tx in
                return try StaffDirectory.putAgent(tx, request.agent ?? WorkflowV1.Agent(), at: api.lifecycle.now())
            }
        }
        router.register(WorkflowV1.Workflow.getAgent) { request, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                return try StaffDirectory.agent(tx, request.agentID)
            }
        }
        router.register(WorkflowV1.Workflow.listAgents) { request, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                var response = WorkflowV1.ListAgentsResponse()
                response.agents = try StaffDirectory.listAgents(tx, request)
                return response
            }
        }
        router.register(WorkflowV1.Workflow.putGroup) { request, context in
            try api.write(context, request, requiring: "directory.manage") { actor, tx in
                return try StaffDirectory.putGroup(tx, request.group ?? WorkflowV1.Group(), at: api.lifecycle.now())
            }
        }
        router.register(WorkflowV1.Workflow.listGroups) { request, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                var response = WorkflowV1.ListGroupsResponse()
                response.groups = try StaffDirectory.listGroups(tx, includeInactive: request.includeInactive)
                return response
            }
        }
        router.register(WorkflowV1.Workflow.setMembership) { request, context in
            try api.write(context, request, requiring: "directory.manage") { actor, tx in
                var response = WorkflowV1.SetMembershipResponse()
                response.group = try StaffDirectory.setMembership(tx, groupID: request.groupID, agentID: request.agentID,
                                                                  member: request.member, at: api.lifecycle.now())
                return response
            }
        }
        router.register(WorkflowV1.Workflow.putRole) { request, context in
            try api.write(context, request, requiring: "directory.manage") { actor, tx in
                return try StaffDirectory.putRole(tx, request.role ?? WorkflowV1.Role(), at: api.lifecycle.now())
            }
        }
        router.register(WorkflowV1.Workflow.listRoles) { _, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                var response = WorkflowV1.ListRolesResponse()
                response.roles = try StaffDirectory.listRoles(tx)
                response.knownPermissions = try StaffDirectory.knownPermissions(tx)
                return response
            }
        }
        router.register(WorkflowV1.Workflow.deleteRole) { request, context in
            try api.write(context, request, requiring: "directory.manage") { actor, tx in
                try StaffDirectory.deleteRole(tx, name: request.name)
                return WorkflowV1.Empty()
            }
        }
        router.register(WorkflowV1.Workflow.setTransferDestinations) { request, context in
            try api.write(context, request, requiring: "directory.manage") { actor, tx in
                return try StaffDirectory.setDestinations(tx, agentID: request.agentID, request.destinations)
            }
        }
        router.register(WorkflowV1.Workflow.listTransferDestinations) { request, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                // For a ticket (which the caller must see): only who may receive it (HandoffDestination).
                let ticket = request.ticketID.isEmpty ? nil : try api.lifecycle.loadVisible(tx, request.ticketID, actor: actor)
                guard !request.agentID.isEmpty && request.agentID != actor.id else {
                    return try StaffDirectory.transferDestinations(tx, for: actor, ticket: ticket)
                }
                try actor.require("directory.manage")
                // Another agent's: workflow does not know whether they sign in as an administrator,
                // so a ticket's level holds them to the rule of the others.
                let agent = try StaffDirectory.agent(tx, request.agentID)
                return try StaffDirectory.transferDestinations(tx, for: Actor(kind: .agent, id: agent.id, name: agent.name,
                                                                              permissions: Set(agent.permissions)), ticket: ticket)
            }
        }
        router.register(WorkflowV1.Workflow.putRoutingRule) { request, context in
            try api.write(context, request, requiring: "routing.manage") { actor, tx in
                var rule = request.rule ?? WorkflowV1.RoutingRule()
                try TextLimits.check([(rule.id, "rule.id", StaffDirectory.maxIDLength), (rule.product, "rule.product", TextLimits.name),
                                      (rule.module, "rule.module", TextLimits.name), (rule.plan, "rule.plan", TextLimits.name)])
                guard !rule.groupID.isEmpty else {
                    throw RPCError(.invalidArgument, "regra sem grupo / rule without a group", violations: [
                        FieldViolation(field: "rule.group_id", reason: "required", pt: "Informe o grupo.", en: "Give the group.")])
                }
                guard try StaffDirectory.group(tx, rule.groupID).active else {
                    throw RPCError(.invalidArgument, "grupo desativado / inactive group", violations: [
                        FieldViolation(field: "rule.group_id", reason: "inactive", pt: "O grupo está desativado.", en: "The group is inactive.")])
                }
                if rule.id.isEmpty { rule.id = UUID().uuidString }
                try tx.execute("DELETE FROM routing_rules WHERE id = ?", [.text(rule.id)])
                try tx.execute("""
                    INSERT INTO routing_rules (id, position, plan, product, module, category, priority, group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(rule.id), .integer(Int64(rule.position)), .text(rule.plan), .text(rule.product), .text(rule.module),
                          .integer(Int64(rule.category.rawValue)), .integer(Int64(rule.priority.rawValue)), .text(rule.groupID)])
                return rule
            }
        }
        router.register(WorkflowV1.Workflow.deleteRoutingRule) { request, context in
            try api.write(context, request, requiring: "routing.manage") { actor, tx in
                try tx.execute("DELETE FROM routing_rules WHERE id = ?", [.text(request.ruleID)])
                return WorkflowV1.Empty()
            }
        }
        router.register(WorkflowV1.Workflow.listRoutingRules) { _, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                var response = WorkflowV1.ListRoutingRulesResponse()
                response.rules = try tx.query("SELECT * FROM routing_rules ORDER BY position, id").map { row in
                    var rule = WorkflowV1.RoutingRule()
                    rule.id = row.s("id"); rule.position = Int32(row.i("position")); rule.plan = row.s("plan")
                    rule.product = row.s("product"); rule.module = row.s("module")
                    rule.category = CommonV1.Category(_protoRawValue: Int32(row.i("category")))
                    rule.priority = CommonV1.Priority(_protoRawValue: Int32(row.i("priority")))
                    rule.groupID = row.s("group_id")
                    return rule
                }
                return response
            }
        }
        router.register(WorkflowV1.Workflow.setCategoryAccessLevel) { request, context in
            try api.write(context, request, requiring: "routing.manage") { actor, tx in
                try CategoryAccessLevels.set(tx, category: request.category, level: request.accessLevel)
                return WorkflowV1.Empty()
            }
        }
        router.register(WorkflowV1.Workflow.listCategoryAccessLevels) { _, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                var response = WorkflowV1.ListCategoryAccessLevelsResponse()
                response.levels = try CategoryAccessLevels.list(tx)
                return response
            }
        }
    }
}
