import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport
import WorkflowCore

/// The security review's open findings on workflow's access rules, closed: one access level for
/// ticket views and the time API (metrics, SLA, survey) — the lower of the signed one and the
/// agent record's — and replays of stored idempotent answers that check the caller again.
@Suite("Workflow: one access level everywhere; replays check access again")
struct AccessRuleTests {
    static func putAgent(_ harness: WorkflowHarness, _ id: String, level: Int32, active: Bool = true) throws {
        try harness.putAgent(id, level: level, chefe: "chefe", active: active)
    }

    static func setLevel(_ harness: WorkflowHarness, _ ticketID: String, _ level: Int32) throws {
        var set = WorkflowV1.SetAccessLevelRequest()
        set.ticketID = ticketID
        set.accessLevel = level
        set.reason = "Diretoria"
        _ = try harness.call(WorkflowV1.Workflow.setAccessLevel, set, as: WorkflowHarness.agent("chefe"))  // only chefes do
    }

    /// What `principal` finds of `ticketID`: its view, its SLA, and whether the metrics' CSV
    /// export and the unfiltered report count it.
    static func reach(_ harness: WorkflowHarness, _ ticketID: String, as principal: AuthV1.Principal) throws -> [String: Bool] {
        var get = WorkflowV1.GetTicketRequest()
        get.ticketID = ticketID
        var sla = WorkflowV1.GetTicketSLARequest()
        sla.ticketID = ticketID
        let stream = try harness.client.serverStream(WorkflowV1.WorkflowTime.exportMetrics, WorkflowV1.ExportMetricsRequest(),
                                                     options: CallOptions(timeoutMilliseconds: 10_000, metadata: harness.signer.metadata(for: principal)))
        var csv = ""
        while let chunk = try stream.receive() { csv += chunk.text }
        let metrics = WorkflowHarness.metricsAroundToday()
        return ["view": harness.failure(WorkflowV1.Workflow.getTicket, get, as: principal) == nil,
                "sla": harness.failure(WorkflowV1.WorkflowTime.getTicketSLA, sla, as: principal) == nil,
                "csv": csv.contains("\r\n\(ticketID),"),
                "report": try harness.call(WorkflowV1.WorkflowTime.getMetrics, metrics, as: principal).totals?.opened == 2]
    }

    @Test("ticket views, the SLA and the metrics hold an agent to the lower of the signed level and the agent record's, whichever is lower; an inactive agent is refused by the time API too",
          arguments: TestEngines.all)
    func lowerLevelEverywhere(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("c1"), key: "c1")
        try harness.deliver(WorkflowHarness.opened("c0", subject: "Outra"), key: "c0")
        try Self.setLevel(harness, "c1", 1)
        let all = ["view": true, "sla": true, "csv": true, "report": true]
        let none = ["view": false, "sla": false, "csv": false, "report": false]

        // Equal levels (1 and 1): ana reaches c1 everywhere.
        #expect(try Self.reach(harness, "c1", as: WorkflowHarness.agent("ana", level: 1)) == all)
        // Signed 0, record 1: nowhere (the ticket views used to follow the record and show it).
        #expect(try Self.reach(harness, "c1", as: WorkflowHarness.agent("ana", level: 0)) == none)
        // Signed 1, record 0: nowhere (the SLA and the metrics used to follow the signed level).
        try Self.putAgent(harness, "ana", level: 0)
        #expect(try Self.reach(harness, "c1", as: WorkflowHarness.agent("ana", level: 1)) == none)
        // The same ticket at level 0 again: everywhere.
        try Self.setLevel(harness, "c1", 0)
        #expect(try Self.reach(harness, "c1", as: WorkflowHarness.agent("ana", level: 1)) == all)
        // Disabled: the time API refuses her as the ticket views do.
        try Self.putAgent(harness, "ana", level: 1, active: false)
        var sla = WorkflowV1.GetTicketSLARequest()
        sla.ticketID = "c1"
        #expect(harness.failure(WorkflowV1.WorkflowTime.getTicketSLA, sla, as: WorkflowHarness.agent("ana"))?.code == .permissionDenied)
        var get = WorkflowV1.GetTicketRequest()
        get.ticketID = "c1"
        #expect(harness.failure(WorkflowV1.Workflow.getTicket, get, as: WorkflowHarness.agent("ana"))?.code == .permissionDenied)
    }

    @Test("an administrator with an agent record that does not say chefe (as the gateway made them at a first sign-in) still does a chefe's work: changes a ticket's access level",
          arguments: TestEngines.all)
    func administratorIsAChefe(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("c1"), key: "c1")
        try harness.putAgent("admin", level: 9)
        var set = WorkflowV1.SetAccessLevelRequest()
        set.ticketID = "c1"
        set.accessLevel = 2
        set.reason = "Diretoria"
        #expect(try harness.call(WorkflowV1.Workflow.setAccessLevel, set, as: WorkflowHarness.admin()).row?.accessLevel == 2)
        // An agent whose record says the same is not one.
        try harness.putAgent("ana", level: 9)
        set.accessLevel = 1
        #expect(harness.failure(WorkflowV1.Workflow.setAccessLevel, set, as: WorkflowHarness.agent("ana", level: 9))?.code == .permissionDenied)
    }

    @Test("a directory or configuration write's retry replays its answer only while the caller still holds the permission the first call needed (directory.manage, routing.manage), as the role is now",
          arguments: TestEngines.all)
    func replaysCheckThePermission(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        var role = WorkflowV1.PutRoleRequest()
        role.role = WorkflowV1.Role()
        role.role?.name = "gestao"
        role.role?.permissions = ["directory.manage", "routing.manage"]
        _ = try harness.call(WorkflowV1.Workflow.putRole, role, as: WorkflowHarness.admin())
        try harness.putAgent("carla", level: 3, role: "gestao")
        let carla = WorkflowHarness.agent("carla")
        var put = WorkflowV1.PutAgentRequest()
        put.agent = WorkflowV1.Agent()
        put.agent?.id = "edu"
        put.agent?.name = "Edu"
        put.agent?.email = "edu@suporte.example"
        put.agent?.active = true
        var level = WorkflowV1.SetCategoryAccessLevelRequest()
        level.category = .duvida
        level.accessLevel = 1

        // Holding both: the retries are the first answers.
        let first = try harness.call(WorkflowV1.Workflow.putAgent, put, as: carla, idempotencyKey: "d1")
        #expect(try harness.call(WorkflowV1.Workflow.putAgent, put, as: carla, idempotencyKey: "d1") == first)
        _ = try harness.call(WorkflowV1.Workflow.setCategoryAccessLevel, level, as: carla, idempotencyKey: "r1")
        _ = try harness.call(WorkflowV1.Workflow.setCategoryAccessLevel, level, as: carla, idempotencyKey: "r1")

        // Her role no longer grants them: each retry is refused as a first call would be.
        try harness.putAgent("carla", level: 3)
        #expect(harness.failure(WorkflowV1.Workflow.putAgent, put, as: carla, idempotencyKey: "d1")?.code == .permissionDenied)
        #expect(harness.failure(WorkflowV1.Workflow.setCategoryAccessLevel, level, as: carla, idempotencyKey: "r1")?.code == .permissionDenied)

        // Given back: the same keys replay again (nothing was stored or done by the refusals).
        try harness.putAgent("carla", level: 3, role: "gestao")
        #expect(try harness.call(WorkflowV1.Workflow.putAgent, put, as: carla, idempotencyKey: "d1") == first)
    }

    @Test("a retry with the first call's idempotency key replays its answer only while the caller may still see the ticket: not after the ticket was made confidential, the agent's level lowered or the agent disabled; a bulk action's tickets the same",
          arguments: TestEngines.all)
    func replaysCheckAccess(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for id in ["r1", "r2", "r3", "r4", "r5"] { try harness.deliver(WorkflowHarness.opened(id), key: id) }
        let ana = WorkflowHarness.agent("ana")
        let bruno = WorkflowHarness.agent("bruno")
        func take(_ id: String, as principal: AuthV1.Principal, key: String) throws -> WorkflowV1.TicketView {
            var request = WorkflowV1.TakeTicketRequest()
            request.ticketID = id
            return try harness.call(WorkflowV1.Workflow.takeTicket, request, as: principal, idempotencyKey: key)
        }
        func retry(_ id: String, as principal: AuthV1.Principal, key: String) -> RPCStatusCode? {
            var request = WorkflowV1.TakeTicketRequest()
            request.ticketID = id
            return harness.failure(WorkflowV1.Workflow.takeTicket, request, as: principal, idempotencyKey: key)?.code
        }
        func transfer(_ id: String, to agent: String) throws {
            var request = WorkflowV1.TransferTicketRequest()
            request.ticketID = id
            request.toAgentID = agent
            _ = try harness.call(WorkflowV1.Workflow.transferTicket, request, as: WorkflowHarness.admin())
        }

        // Nothing changed: the retry is the first answer, and the ticket was taken once.
        let first = try take("r1", as: ana, key: "k1")
        #expect(try take("r1", as: ana, key: "k1") == first)
        #expect(try harness.history("r1").filter { $0.kind == "holder" }.count == 1)

        // Handed to carla and made confidential (level 2, above ana's 1): the retry is NOT_FOUND.
        try transfer("r1", to: "carla")
        #expect(try take("r1", as: ana, key: "k1") == first, "still at level 0: ana sees it, the answer replays")
        try Self.setLevel(harness, "r1", 2)
        #expect(retry("r1", as: ana, key: "k1") == .notFound)

        // ana's level lowered to 0 under a level-1 ticket she no longer holds: NOT_FOUND.
        _ = try take("r2", as: ana, key: "k2")
        try Self.setLevel(harness, "r2", 1)
        try transfer("r2", to: "carla")
        #expect(try take("r2", as: ana, key: "k2").row?.ticketID == "r2")
        try Self.putAgent(harness, "ana", level: 0)
        #expect(retry("r2", as: WorkflowHarness.agent("ana", level: 0), key: "k2") == .notFound)

        // bruno disabled: PERMISSION_DENIED, as for any call of his.
        _ = try take("r3", as: bruno, key: "k3")
        try Self.putAgent(harness, "bruno", level: 0, active: false)
        #expect(retry("r3", as: bruno, key: "k3") == .permissionDenied)

        // A bulk action (by ana, on tickets she holds): each ticket's stored result replays only
        // while she sees the ticket.
        for id in ["r4", "r5"] { _ = try harness.take(id, as: ana) }
        var bulk = WorkflowV1.BulkActionRequest()
        bulk.ticketIDs = ["r4", "r5"]
        var note = WorkflowV1.AddDiscussionRequest()
        note.text = "Verificando"
        bulk.note = note
        let done = try harness.call(WorkflowV1.Workflow.bulkAction, bulk, as: ana, idempotencyKey: "b1")
        #expect(done.results.map(\.ok) == [true, true], "\(done.results)")
        try transfer("r5", to: "carla")
        try Self.setLevel(harness, "r5", 2)
        let replayed = try harness.call(WorkflowV1.Workflow.bulkAction, bulk, as: ana, idempotencyKey: "b1")
        #expect(replayed.results.map(\.ok) == [true, false] && replayed.results.last?.error.contains("not found") == true, "\(replayed.results)")
    }
}
