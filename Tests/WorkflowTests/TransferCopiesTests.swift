import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: a transfer's copies that are the team's agents")
struct TransferCopiesTests {
    @Test("""
          Transferred.agent_copy_to names the copies that are active agents cleared for the ticket's level (matched trimmed, \
          case-insensitively, as typed); a supplier, an agent below the level or an inactive one is not among them
          """, arguments: TestEngines.all)
    func agentCopies(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.putAgent("dora", level: 3, active: false)
        try harness.deliver(WorkflowHarness.opened("c1"), key: "c1")
        try harness.take("c1", as: WorkflowHarness.agent("ana"))
        var level = WorkflowV1.SetAccessLevelRequest()
        level.ticketID = "c1"
        level.accessLevel = 1
        _ = try harness.call(WorkflowV1.Workflow.setAccessLevel, level, as: WorkflowHarness.agent("chefe"))

        var request = WorkflowV1.TransferTicketRequest()
        request.ticketID = "c1"
        request.toAgentID = "chefe"
        request.note = "cliente difícil"
        // carla (level 3) typed oddly, pm (1) as is; bruno (0) is below the ticket's level, dora inactive.
        request.copyTo = [" Carla@Suporte.EXAMPLE ", "bruno@suporte.example", "fornecedor@parceiro.example",
                          "pm@suporte.example", "dora@suporte.example"]
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, request, as: WorkflowHarness.agent("ana"))
        let event = try #require(try harness.published(WorkflowV1.Transferred.self, ticket: "c1").map(\.0).last)
        #expect(event.copyTo == request.copyTo)
        #expect(event.agentCopyTo == [" Carla@Suporte.EXAMPLE ", "pm@suporte.example"])
        #expect(event.ticket?.accessLevel == 1)

        // No copies: none of them agents.
        request.toAgentID = "ana"
        request.copyTo = []
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, request, as: WorkflowHarness.agent("chefe"))
        #expect(try harness.published(WorkflowV1.Transferred.self, ticket: "c1").map(\.0).last?.agentCopyTo == [])
    }
}
