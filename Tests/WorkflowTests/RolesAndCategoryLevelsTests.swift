import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: roles' permissions, deleting roles, transfer destinations' checks, category access levels")
struct RolesAndCategoryLevelsTests {
    static func role(_ name: String, _ permissions: [String]) -> WorkflowV1.PutRoleRequest {
        var request = WorkflowV1.PutRoleRequest()
        request.role = WorkflowV1.Role()
        request.role?.name = name
        request.role?.permissions = permissions
        return request
    }

    static func roles(_ harness: WorkflowHarness) throws -> [String: [String]] {
        let listed = try harness.call(WorkflowV1.Workflow.listRoles, WorkflowV1.ListRolesRequest(), as: WorkflowHarness.admin())
        return Dictionary(uniqueKeysWithValues: listed.roles.map { ($0.name, $0.permissions) })
    }

    @Test("a role holds only known permissions and never the administrator's name; a refused save keeps the stored role; a role in use is not deleted", arguments: TestEngines.all)
    func roles(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let admin = WorkflowHarness.admin()
        // Known: workflow's own permissions, then those the flows' moves require (none beyond them in the presets).
        let listed = try harness.call(WorkflowV1.Workflow.listRoles, WorkflowV1.ListRolesRequest(), as: WorkflowHarness.agent("ana"))
        #expect(listed.knownPermissions == ["directory.manage", "routing.manage", "product.decide", "tickets.transfer_any",
                                            "tickets.act_any", "tickets.link_customer"])
        let saved = try harness.call(WorkflowV1.Workflow.putRole, Self.role("triagem", ["tickets.act_any", "tickets.transfer_any"]), as: admin)
        #expect(saved.permissions == ["tickets.act_any", "tickets.transfer_any"])

        // An unknown permission is refused whole, naming it; the stored role is unchanged.
        let unknown = harness.failure(WorkflowV1.Workflow.putRole, Self.role("triagem", ["tickets.act_any", "tickets.delete_all"]), as: admin)
        #expect(unknown?.code == .invalidArgument && unknown?.violations.map(\.field) == ["role.permissions"], "\(String(describing: unknown))")
        #expect(unknown?.violations.first?.descriptionPT.contains("tickets.delete_all") == true)
        #expect(try Self.roles(harness)["triagem"] == ["tickets.act_any", "tickets.transfer_any"])
        // The administrator's name, a blank name, spaces around a name: refused, nothing stored.
        for name in ["administrator", "Administrador", " ", " triagem"] {
            let refused = harness.failure(WorkflowV1.Workflow.putRole, Self.role(name, ["routing.manage"]), as: admin)
            #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["role.name"], "\(name): \(String(describing: refused))")
        }
        #expect(try Self.roles(harness).keys.sorted() == ["produto", "triagem"])
        // The link-customers spellings workflow accepts stay accepted.
        _ = try harness.call(WorkflowV1.Workflow.putRole, Self.role("vinculo", ["link_customers"]), as: admin)

        // Only administrators (or directory.manage) change roles.
        #expect(harness.failure(WorkflowV1.Workflow.putRole, Self.role("meu", ["directory.manage"]), as: WorkflowHarness.agent("ana"))?.code == .permissionDenied)
        var delete = WorkflowV1.DeleteRoleRequest()
        delete.name = "produto"
        #expect(harness.failure(WorkflowV1.Workflow.deleteRole, delete, as: WorkflowHarness.agent("ana"))?.code == .permissionDenied)
        // "produto" is held by the agent pm: refused, naming him; kept.
        let inUse = harness.failure(WorkflowV1.Workflow.deleteRole, delete, as: admin)
        #expect(inUse?.code == .failedPrecondition && inUse?.violations.map(\.reason) == ["in_use"], "\(String(describing: inUse))")
        #expect(inUse?.message.contains("Pm") == true, "\(String(describing: inUse?.message))")
        #expect(try Self.roles(harness)["produto"] == ["product.decide"])
        // A role nobody holds is deleted with its permissions; a missing one is NOT_FOUND.
        delete.name = "triagem"
        _ = try harness.call(WorkflowV1.Workflow.deleteRole, delete, as: admin)
        #expect(try Self.roles(harness)["triagem"] == nil)
        #expect(harness.failure(WorkflowV1.Workflow.deleteRole, delete, as: admin)?.code == .notFound)
        // Saved again under the same name, it starts with only the permissions given.
        _ = try harness.call(WorkflowV1.Workflow.putRole, Self.role("triagem", ["routing.manage"]), as: admin)
        #expect(try Self.roles(harness)["triagem"] == ["routing.manage"])
    }

    @Test("transfer destinations name agents and groups of the directory (or *); a refused save keeps the stored list; an empty list is the default", arguments: TestEngines.all)
    func destinations(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let admin = WorkflowHarness.admin()
        func destination(agent: String = "", group: String = "") -> WorkflowV1.Destination {
            var destination = WorkflowV1.Destination()
            destination.agentID = agent
            destination.groupID = group
            return destination
        }
        var request = WorkflowV1.SetTransferDestinationsRequest()
        request.agentID = "ana"
        request.destinations = [destination(group: "n2"), destination(agent: "carla")]
        _ = try harness.call(WorkflowV1.Workflow.setTransferDestinations, request, as: admin)
        request.destinations = [destination(group: "n2"), destination(agent: "ninguem"), destination(group: "sumido")]
        let refused = harness.failure(WorkflowV1.Workflow.setTransferDestinations, request, as: admin)
        #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["destinations[1].agent_id", "destinations[2].group_id"],
                "\(String(describing: refused))")
        var get = WorkflowV1.GetAgentRequest()
        get.agentID = "ana"
        let kept = try harness.call(WorkflowV1.Workflow.getAgent, get, as: admin).transferDestinations
        #expect(kept.map { "\($0.agentID)|\($0.groupID)" } == ["|n2", "carla|"])
        #expect(harness.failure(WorkflowV1.Workflow.setTransferDestinations, request, as: WorkflowHarness.agent("ana"))?.code == .permissionDenied)
        request.destinations = [destination(agent: "*")]
        _ = try harness.call(WorkflowV1.Workflow.setTransferDestinations, request, as: admin)
        request.destinations = []
        #expect(try harness.call(WorkflowV1.Workflow.setTransferDestinations, request, as: admin).transferDestinations.isEmpty)
    }

    @Test("every category's access level is listed (0 and not stored by default); a negative level or no category is refused and stores nothing", arguments: TestEngines.all)
    func categoryLevels(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let admin = WorkflowHarness.admin()
        func levels() throws -> [String] {
            try harness.call(WorkflowV1.Workflow.listCategoryAccessLevels, WorkflowV1.ListCategoryAccessLevelsRequest(), as: WorkflowHarness.agent("ana"))
                .levels.map { "\($0.category.rawValue):\($0.accessLevel):\($0.stored)" }
        }
        #expect(try levels() == ["1:0:false", "2:0:false", "3:0:false", "4:0:false", "5:0:false", "6:0:false"])
        var set = WorkflowV1.SetCategoryAccessLevelRequest()
        set.category = .estrategica
        set.accessLevel = 3
        _ = try harness.call(WorkflowV1.Workflow.setCategoryAccessLevel, set, as: admin)
        set.accessLevel = -1
        #expect(harness.failure(WorkflowV1.Workflow.setCategoryAccessLevel, set, as: admin)?.violations.map(\.field) == ["access_level"])
        set.category = .unspecified
        set.accessLevel = 2
        #expect(harness.failure(WorkflowV1.Workflow.setCategoryAccessLevel, set, as: admin)?.violations.map(\.field) == ["category"])
        set.category = .problema
        #expect(harness.failure(WorkflowV1.Workflow.setCategoryAccessLevel, set, as: WorkflowHarness.agent("ana"))?.code == .permissionDenied)
        #expect(try levels() == ["1:0:false", "2:0:false", "3:0:false", "4:0:false", "5:0:false", "6:3:true"])
        #expect(harness.failure(WorkflowV1.Workflow.listCategoryAccessLevels, WorkflowV1.ListCategoryAccessLevelsRequest(),
                                as: WorkflowHarness.customer("c", organization: "org-1"))?.code == .permissionDenied)
    }
}
