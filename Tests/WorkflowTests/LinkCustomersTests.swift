import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: who may link customers to a ticket (tickets.link_customer)")
struct LinkCustomersTests {
    func mayLink(_ harness: WorkflowHarness, _ id: String, as principal: AuthV1.Principal) throws -> Bool {
        var request = WorkflowV1.GetTicketHolderRequest()
        request.ticketID = id
        return try harness.call(WorkflowV1.Workflow.getTicketHolder, request, as: principal).callerMayLinkCustomers
    }

    @Test("only the holder or the holder's chefe, with the permission from the principal or the directory's role, while open", arguments: TestEngines.all)
    func holderWithPermission(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        var role = WorkflowV1.PutRoleRequest()
        role.role = WorkflowV1.Role()
        role.role?.name = "vinculo"
        role.role?.permissions = ["tickets.link_customer"]
        _ = try harness.call(WorkflowV1.Workflow.putRole, role, as: WorkflowHarness.admin())
        var dora = WorkflowV1.Agent()
        dora.id = "dora"
        dora.name = "Dora"
        dora.maxAccessLevel = 1
        dora.active = true
        dora.chefeAgentID = "chefe"
        dora.role = "vinculo"
        var put = WorkflowV1.PutAgentRequest()
        put.agent = dora
        _ = try harness.call(WorkflowV1.Workflow.putAgent, put, as: WorkflowHarness.admin())
        var membership = WorkflowV1.SetMembershipRequest()
        membership.groupID = "n1"
        membership.agentID = "dora"
        membership.member = true
        _ = try harness.call(WorkflowV1.Workflow.setMembership, membership, as: WorkflowHarness.admin())

        try harness.deliver(WorkflowHarness.opened("l1"), key: "l1")
        let doraPrincipal = WorkflowHarness.agent("dora")
        #expect(try !mayLink(harness, "l1", as: doraPrincipal), "nobody holds it yet")
        try harness.take("l1", as: doraPrincipal)
        #expect(try mayLink(harness, "l1", as: doraPrincipal), "holder, permission from the directory's role")
        var chefe = WorkflowHarness.agent("chefe")
        #expect(try !mayLink(harness, "l1", as: chefe), "the chefe lacks the permission")
        chefe.permissions = ["link_customers"]
        #expect(try mayLink(harness, "l1", as: chefe), "the holder's chefe with the permission (old spelling)")
        var carla = WorkflowHarness.agent("carla")
        carla.permissions = ["tickets.link_customer"]
        #expect(try !mayLink(harness, "l1", as: carla), "the permission alone is not enough")
        #expect(try !mayLink(harness, "l1", as: WorkflowHarness.admin()), "administrators must hold the ticket too")
        try harness.move("l1", to: "cancelado", note: "Duplicada", as: doraPrincipal)
        #expect(try !mayLink(harness, "l1", as: doraPrincipal), "finished: the contact is fixed")
    }
}
