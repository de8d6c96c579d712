import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

/// Who may receive a ticket and when it may be taken: a repasse never hands a confidential
/// ticket to an agent below its level (the holder sees what they hold) unless an administrator
/// decides so, never names an agent
/// with a group they are not in, and a take answers a ticket someone else took, or one already
/// finished, with FAILED_PRECONDITION (the caller's view is stale), not with a permission error
/// or an assignment of a finished ticket.
@Suite("Workflow: who may receive a ticket, and taking one")
struct HandoffGuardTests {
    static let ana = WorkflowHarness.agent("ana")
    static let bruno = WorkflowHarness.agent("bruno")
    static let chefe = WorkflowHarness.agent("chefe")

    /// Makes `ticket` confidential at level 1 (by the chefe): bruno (level 0) is below it.
    static func confidential(_ harness: WorkflowHarness, _ ticket: String) throws {
        var level = WorkflowV1.SetAccessLevelRequest()
        level.ticketID = ticket
        level.accessLevel = 1
        level.reason = "Folha de pagamento"
        _ = try harness.call(WorkflowV1.Workflow.setAccessLevel, level, as: Self.chefe)
    }

    @Test("a repasse to an agent below the ticket's level is refused (FAILED_PRECONDITION): the agent would see it by holding it",
          arguments: TestEngines.all)
    func notBelowTheTicketsLevel(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        try Self.confidential(harness, "t1")
        let refused = harness.failure(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.ana)
        #expect(refused?.code == .failedPrecondition, "\(String(describing: refused))")
        #expect(refused?.violations.first?.field == "to_agent_id" && refused?.violations.first?.reason == "below_access_level",
                "\(String(describing: refused?.violations))")
        #expect(harness.failure(WorkflowV1.Workflow.getTicket, { var r = WorkflowV1.GetTicketRequest(); r.ticketID = "t1"; return r }(),
                                as: Self.bruno)?.code == .notFound, "bruno still cannot see it")
        #expect(try harness.ticket("t1").row?.holder?.agentID == "ana")
        // To the group's queue it may go: its members below the level do not see it there.
        let queued = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", group: "n1"), as: Self.ana)
        #expect(queued.row?.holder?.agentID == "" && queued.row?.holder?.groupID == "n1")
        // And to an agent at or above it.
        let toChefe = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "chefe"), as: WorkflowHarness.admin())
        #expect(toChefe.row?.holder?.agentID == "chefe")
        // A chefe is held to the rule too; an administrator may decide to show it to bruno by handing it to him.
        #expect(harness.failure(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.chefe)?.code
                == .failedPrecondition)
        let toBruno = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: WorkflowHarness.admin())
        #expect(toBruno.row?.holder?.agentID == "bruno")
        #expect(try harness.ticket("t1", as: Self.bruno).row?.ticketID == "t1", "the holder sees what he holds")
    }

    @Test("a ticket's transfer destinations leave out who may not receive it: an agent below its level is not offered (an administrator still gets them), the list a transfer's refusals match; a caller who does not see the ticket gets NOT_FOUND",
          arguments: TestEngines.all)
    func destinationsForATicket(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        func offered(_ ticket: String, agent: String = "", as principal: AuthV1.Principal = Self.ana) throws -> (agents: [String], groups: [String]) {
            var request = WorkflowV1.ListTransferDestinationsRequest()
            request.agentID = agent
            request.ticketID = ticket
            let response = try harness.call(WorkflowV1.Workflow.listTransferDestinations, request, as: principal)
            return (response.agents.map(\.id), response.groups.map(\.id))
        }
        // Level 0: everyone Ana reaches (her group n1: bruno at level 0, chefe at 2).
        #expect(try offered("t1") == (["bruno", "chefe"], ["n1"]))
        try Self.confidential(harness, "t1")
        // Level 1: bruno (0) is not offered — the transfer would refuse him —, the group still is.
        #expect(try offered("t1") == (["chefe"], ["n1"]))
        #expect(try offered("") == (["bruno", "chefe"], ["n1"]), "without a ticket: the reach alone")
        #expect(harness.failure(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.ana)?
            .violations.first?.reason == "below_access_level")
        // Ana's destinations asked by a directory manager: the same.
        #expect(try offered("t1", agent: "ana", as: WorkflowHarness.admin()) == (["chefe"], ["n1"]))
        // An administrator may hand it to bruno (a deliberate decision), so is offered him.
        #expect(try offered("t1", as: WorkflowHarness.admin()).agents.contains("bruno"))
        // Bruno does not see the ticket: he learns nothing of it.
        var his = WorkflowV1.ListTransferDestinationsRequest()
        his.ticketID = "t1"
        #expect(harness.failure(WorkflowV1.Workflow.listTransferDestinations, his, as: Self.bruno)?.code == .notFound)
        // An inactive agent is not offered either.
        var chefe = try harness.call(WorkflowV1.Workflow.getAgent, { var r = WorkflowV1.GetAgentRequest(); r.agentID = "chefe"; return r }(),
                                     as: WorkflowHarness.admin())
        chefe.active = false
        var put = WorkflowV1.PutAgentRequest()
        put.agent = chefe
        _ = try harness.call(WorkflowV1.Workflow.putAgent, put, as: WorkflowHarness.admin())
        #expect(try offered("t1") == ([], ["n1"]))
    }

    @Test("the moves offered are those a move accepts: none to a group member who does not hold the ticket, only the permission-guarded ones to a product manager who does not",
          arguments: TestEngines.all)
    func movesForWhoMayMake(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        func moves(_ ticket: String, as principal: AuthV1.Principal) throws -> [WorkflowV1.AllowedMove] {
            var request = WorkflowV1.ListAllowedMovesRequest()
            request.ticketID = ticket
            return try harness.call(WorkflowV1.Workflow.listAllowedMoves, request, as: principal).moves
        }
        let anas = try moves("t1", as: Self.ana)
        #expect(!anas.isEmpty)
        // Bruno, in Ana's group, sees the ticket but may not act on it: before, he was offered Ana's moves.
        #expect(try moves("t1", as: Self.bruno).isEmpty)
        var move = WorkflowV1.MoveTicketRequest()
        move.ticketID = "t1"
        move.toStage = anas[0].toStage
        move.note = "nota"
        move.publicNote = "texto"
        #expect(harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.bruno)?.code == .permissionDenied)
        // Her chefe may act on it: the same moves.
        #expect(try moves("t1", as: Self.chefe).map(\.toStage) == anas.map(\.toStage))
        // In Análise produto a product manager who does not hold it is offered only the moves product.decide guards.
        try harness.deliver(WorkflowHarness.opened("n1", category: .necessidade), key: "n1")
        try harness.take("n1", as: Self.ana)
        try harness.move("n1", to: "analise_produto", as: Self.ana)
        let pms = try moves("n1", as: WorkflowHarness.agent("pm"))
        #expect(!pms.isEmpty && pms.allSatisfy { $0.permission == "product.decide" }, "\(pms)")
        #expect(try moves("n1", as: Self.ana).allSatisfy { $0.permission.isEmpty }, "Ana lacks product.decide")
    }

    @Test("a repasse naming an agent and a group the agent is not in is refused, nothing changed", arguments: TestEngines.all)
    func agentMustBeInTheNamedGroup(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        // bruno is in n1 only; before, the ticket went to "bruno in n2", in a queue bruno does not work.
        let refused = harness.failure(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno", group: "n2"),
                                      as: Self.ana)
        #expect(refused?.code == .failedPrecondition && refused?.violations.first?.field == "to_group_id", "\(String(describing: refused))")
        #expect(try harness.ticket("t1").row?.holder?.agentID == "ana")
        #expect(try harness.published(WorkflowV1.Transferred.self, ticket: "t1").isEmpty)
        let moved = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno", group: "n1"), as: Self.ana)
        #expect(moved.row?.holder?.agentID == "bruno" && moved.row?.holder?.groupID == "n1")
    }

    @Test("a bulk action naming a ticket twice changes it once; over 500 tickets is INVALID_ARGUMENT on ticket_ids", arguments: TestEngines.all)
    func bulkRepeatedTicket(engine: DatabaseEngine) throws {
        let (harness, bulk) = try HandoffTests.bulkNote(engine, ["b1", "b2", "b3"], text: "Instabilidade na Sefaz SP")
        var twice = bulk
        twice.ticketIDs = ["b1", "b2", "b1"]
        let response = try harness.call(WorkflowV1.Workflow.bulkAction, twice, as: Self.ana)
        #expect(response.results.map(\.ticketID) == ["b1", "b2"] && response.results.allSatisfy(\.ok), "\(response.results)")
        // Before: the note twice on b1.
        #expect(try harness.ticket("b1").discussion.filter { $0.text == "Instabilidade na Sefaz SP" }.count == 1)
        var many = bulk
        many.ticketIDs = (0...500).map { "x\($0)" }
        let refused = harness.failure(WorkflowV1.Workflow.bulkAction, many, as: Self.ana)
        #expect(refused?.code == .invalidArgument && refused?.violations.first?.field == "ticket_ids", "\(String(describing: refused))")
    }

    @Test("a finished ticket takes no status and no schedule (a stale page): FAILED_PRECONDITION, nothing stored", arguments: TestEngines.all)
    func noStatusOnAFinishedTicket(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1", category: .duvida), key: "t1")
        try harness.take("t1", as: Self.ana)
        try harness.move("t1", to: "finalizado", publicNote: "Respondido.", as: Self.ana)
        var status = WorkflowV1.SetStageStatusRequest()
        status.ticketID = "t1"
        status.status = "pendente"
        let refused = harness.failure(WorkflowV1.Workflow.setStageStatus, status, as: Self.ana)
        #expect(refused?.code == .failedPrecondition && refused?.violations.first?.reason == "finished", "\(String(describing: refused))")
        var schedule = WorkflowV1.ScheduleTicketRequest()
        schedule.ticketID = "t1"
        schedule.scheduledForMs = 1_800_000_000_000
        #expect(harness.failure(WorkflowV1.Workflow.scheduleTicket, schedule, as: Self.ana)?.code == .failedPrecondition)
        let view = try harness.ticket("t1")
        // Before: status "pendente", then "agendado" with a schedule counted, on a finished ticket.
        #expect(view.row?.status?.status ?? "" == "" && view.scheduleCount == 0, "\(String(describing: view.row?.status))")
        #expect(try !harness.history("t1").contains { $0.kind == "status" || $0.kind == "schedule" })
    }

    @Test("taking a ticket another agent took answers FAILED_PRECONDITION; a finished one is not taken", arguments: TestEngines.all)
    func takeOfATakenOrFinishedTicket(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        var take = WorkflowV1.TakeTicketRequest()
        take.ticketID = "t1"
        // Before: PERMISSION_DENIED ("held by someone else"), which read as bruno lacking a right.
        let taken = harness.failure(WorkflowV1.Workflow.takeTicket, take, as: Self.bruno)
        #expect(taken?.code == .failedPrecondition, "\(String(describing: taken))")

        // Cancelled by the customer while waiting in the queue: the take is refused and nobody holds it.
        try harness.deliver(WorkflowHarness.opened("t2"), key: "t2")
        var cancel = IntakeV1.TicketCancelledByCustomer()
        cancel.ticketID = "t2"
        cancel.reason = "Resolvi sozinha"
        try harness.deliver(cancel, key: "t2")
        #expect(try harness.ticket("t2").row?.stage == "cancelado")
        take.ticketID = "t2"
        let finished = harness.failure(WorkflowV1.Workflow.takeTicket, take, as: Self.bruno)
        #expect(finished?.code == .failedPrecondition, "\(String(describing: finished))")
        #expect(try harness.ticket("t2").row?.holder?.agentID == "")
        #expect(try harness.history("t2").filter { $0.kind == "holder" }.isEmpty)
    }
}
