import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: hand-offs, guards, scheduling, bulk actions")
struct HandoffTests {
    static let ana = WorkflowHarness.agent("ana")
    static let bruno = WorkflowHarness.agent("bruno")
    static let carla = WorkflowHarness.agent("carla")

    static func transfer(_ id: String, agent: String = "", group: String = "", note: String = "") -> WorkflowV1.TransferTicketRequest {
        var request = WorkflowV1.TransferTicketRequest()
        request.ticketID = id
        request.toAgentID = agent
        request.toGroupID = group
        request.note = note
        return request
    }

    @Test("an idempotency key is its caller's: another agent sending the same key and request is checked and refused, not answered the first agent's view",
          arguments: TestEngines.all)
    func idempotencyKeyPerCaller(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        let move = Self.transfer("t1", agent: "bruno", note: "Você conhece esse cliente")
        let first = try harness.call(WorkflowV1.Workflow.transferTicket, move, as: Self.ana, idempotencyKey: "transfer-1")
        #expect(first.row?.holder?.agentID == "bruno")
        // Ana's retry gets her first answer, with no second transfer.
        let retried = try harness.call(WorkflowV1.Workflow.transferTicket, move, as: Self.ana, idempotencyKey: "transfer-1")
        #expect(retried.serializedBytes() == first.serializedBytes() && retried.transferCount == 1)
        // Carla (not the holder) with Ana's key and request: her own refusal. Before, the key
        // was the method's alone and she got Ana's stored view of the ticket, unchecked.
        var failure: RPCError?
        do { _ = try harness.call(WorkflowV1.Workflow.transferTicket, move, as: Self.carla, idempotencyKey: "transfer-1") } catch let error as RPCError {
            failure = error
        }
        #expect(failure?.code == .permissionDenied || failure?.code == .notFound, "\(String(describing: failure))")
        #expect(try harness.published(WorkflowV1.Transferred.self, ticket: "t1").count == 1)
    }

    @Test("repasse only to allowed destinations, with a note and copies; devolver needs a justification; ping-pong from the third transfer", arguments: TestEngines.all)
    func transfers(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        // n2 is not a destination of ana's yet.
        #expect(harness.failure(WorkflowV1.Workflow.transferTicket, Self.transfer("t1", agent: "carla"), as: Self.ana)?.code == .permissionDenied)
        // Bruno, in ana's group, is reachable by default.
        var request = Self.transfer("t1", agent: "bruno", note: "Você conhece esse cliente")
        request.copyTo = ["chefe@suporte.example"]
        var view = try harness.call(WorkflowV1.Workflow.transferTicket, request, as: Self.ana)
        #expect(view.row?.holder?.agentID == "bruno" && view.row?.holder?.groupID == "n1")
        #expect(view.discussion.last?.kind == "transfer" && view.discussion.last?.isPublic == false)
        // Ana no longer holds it: she cannot act on it (her page is out of date: FAILED_PRECONDITION since 2026-12).
        #expect(harness.failure(WorkflowV1.Workflow.transferTicket, Self.transfer("t1", agent: "ana"), as: Self.ana)?.code == .failedPrecondition)
        // Devolver requires a justification and returns to ana.
        var back = WorkflowV1.SendBackRequest()
        back.ticketID = "t1"
        #expect(harness.failure(WorkflowV1.Workflow.sendBack, back, as: Self.bruno)?.code == .invalidArgument)
        back.justification = "Não é da minha área"
        view = try harness.call(WorkflowV1.Workflow.sendBack, back, as: Self.bruno)
        #expect(view.row?.holder?.agentID == "ana" && view.row?.pingPong == false)
        // Third transfer between ana and bruno: ping-pong.
        view = try harness.call(WorkflowV1.Workflow.transferTicket, Self.transfer("t1", agent: "bruno", note: "De novo"), as: Self.ana)
        #expect(view.row?.pingPong == true)
        #expect(view.transferCount == 3)
        let transferred = try harness.published(WorkflowV1.Transferred.self, ticket: "t1").map(\.0)
        #expect(transferred.map(\.pingPong) == [false, false, true])
        #expect(transferred.map(\.sentBack) == [false, true, false])
        #expect(transferred.first?.copyTo == ["chefe@suporte.example"])
        #expect(transferred.first?.to?.agentEmail == "bruno@suporte.example")
        // Bruno's chefe acts on bruno's tickets: moves it to group n2 only with a destination.
        var destinations = WorkflowV1.SetTransferDestinationsRequest()
        destinations.agentID = "chefe"
        var any = WorkflowV1.Destination()
        any.groupID = "*"
        destinations.destinations = [any]
        _ = try harness.call(WorkflowV1.Workflow.setTransferDestinations, destinations, as: WorkflowHarness.admin())
        view = try harness.call(WorkflowV1.Workflow.transferTicket, Self.transfer("t1", group: "n2", note: "Escalando"), as: WorkflowHarness.agent("chefe"))
        #expect(view.row?.holder?.groupID == "n2" && view.row?.holder?.agentID == "")
        // Carla (n2) takes it from her group's queue.
        view = try harness.take("t1", as: Self.carla)
        #expect(view.row?.holder?.agentID == "carla")
        let holders = try harness.history("t1").filter { $0.kind == "holder" }
        #expect(holders.count == 6)
        #expect(holders.contains { $0.note.hasPrefix("devolvida") })
    }

    @Test("the destinations an agent is offered are exactly those a transfer accepts: their groups and members, plus listed ones, or everyone with transfer_any; active only; another agent's only for directory managers",
          arguments: TestEngines.all)
    func transferDestinations(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        func reach(_ agent: String, as principal: AuthV1.Principal = Self.ana) throws -> (agents: [String], groups: [String], anywhere: Bool) {
            var request = WorkflowV1.ListTransferDestinationsRequest()
            request.agentID = agent
            let response = try harness.call(WorkflowV1.Workflow.listTransferDestinations, request, as: principal)
            return (response.agents.map(\.id), response.groups.map(\.id), response.anywhere)
        }
        func destinations(_ agent: String, _ list: [(agent: String, group: String)]) throws {
            var request = WorkflowV1.SetTransferDestinationsRequest()
            request.agentID = agent
            request.destinations = list.map {
                var destination = WorkflowV1.Destination()
                destination.agentID = $0.agent
                destination.groupID = $0.group
                return destination
            }
            _ = try harness.call(WorkflowV1.Workflow.setTransferDestinations, request, as: WorkflowHarness.admin())
        }
        // By default: her group n1 and its other members (by name), never herself.
        var ana = try reach("")
        #expect(ana.agents == ["bruno", "chefe"] && ana.groups == ["n1"] && !ana.anywhere)
        #expect(try reach("ana").agents == ana.agents, "her own id is the same as none")
        // A listed group adds the group and its members; the default stays.
        try destinations("ana", [("", "n2")])
        ana = try reach("")
        #expect(ana.agents == ["bruno", "carla", "chefe"] && ana.groups == ["n1", "n2"])
        // A listed agent adds that agent only.
        try destinations("ana", [("pm", "")])
        ana = try reach("")
        #expect(ana.agents == ["bruno", "chefe", "pm"] && ana.groups == ["n1"])
        // What is offered is what a transfer accepts.
        try harness.deliver(WorkflowHarness.opened("d1"), key: "d1")
        try harness.take("d1", as: Self.ana)
        #expect(harness.failure(WorkflowV1.Workflow.transferTicket, Self.transfer("d1", agent: "carla"), as: Self.ana)?.code == .permissionDenied)
        #expect(harness.failure(WorkflowV1.Workflow.transferTicket, Self.transfer("d1", group: "produto"), as: Self.ana)?.code == .permissionDenied)
        #expect(try harness.call(WorkflowV1.Workflow.transferTicket, Self.transfer("d1", agent: "pm"), as: Self.ana).row?.holder?.agentID == "pm")
        // An inactive agent is not offered.
        var bruno = try harness.call(WorkflowV1.Workflow.getAgent, { var r = WorkflowV1.GetAgentRequest(); r.agentID = "bruno"; return r }(),
                                     as: WorkflowHarness.admin())
        bruno.active = false
        var put = WorkflowV1.PutAgentRequest()
        put.agent = bruno
        _ = try harness.call(WorkflowV1.Workflow.putAgent, put, as: WorkflowHarness.admin())
        #expect(try reach("").agents == ["chefe", "pm"])
        // A role with transfer_any reaches every active agent and group.
        var role = WorkflowV1.PutRoleRequest()
        role.role = WorkflowV1.Role()
        role.role?.name = "coordenacao"
        role.role?.permissions = ["tickets.transfer_any"]
        _ = try harness.call(WorkflowV1.Workflow.putRole, role, as: WorkflowHarness.admin())
        var carla = try harness.call(WorkflowV1.Workflow.getAgent, { var r = WorkflowV1.GetAgentRequest(); r.agentID = "carla"; return r }(),
                                     as: WorkflowHarness.admin())
        carla.role = "coordenacao"
        put.agent = carla
        _ = try harness.call(WorkflowV1.Workflow.putAgent, put, as: WorkflowHarness.admin())
        let everyone = try reach("", as: Self.carla)
        #expect(everyone.anywhere && everyone.agents == ["ana", "chefe", "pm"] && everyone.groups == ["n1", "n2", "produto"])
        // Another agent's destinations: directory managers only.
        var other = WorkflowV1.ListTransferDestinationsRequest()
        other.agentID = "carla"
        #expect(harness.failure(WorkflowV1.Workflow.listTransferDestinations, other, as: Self.ana)?.code == .permissionDenied)
        #expect(try reach("carla", as: WorkflowHarness.admin()).anywhere)
        #expect(try reach("ana", as: WorkflowHarness.admin()).agents == ["chefe", "pm"])
        #expect(harness.failure(WorkflowV1.Workflow.listTransferDestinations, other,
                                as: WorkflowHarness.customer("c1", organization: "org-1"))?.code == .permissionDenied)
    }

    @Test("unread customer messages block transfer, scheduling, asking the customer and concluding until marked read; scheduling is counted",
          arguments: TestEngines.all)
    func unreadGuardAndScheduling(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1", category: .duvida), key: "t1")
        try harness.take("t1", as: Self.ana)
        var voicemail = WorkflowV1.LogCustomerMessageRequest()
        voicemail.ticketID = "t1"
        voicemail.kind = "voicemail"
        voicemail.text = "Ligação: cliente pede retorno"
        var view = try harness.call(WorkflowV1.Workflow.logCustomerMessage, voicemail, as: WorkflowHarness.agent("bruno"))
        #expect(view.row?.unreadMessages == 1)
        let blockedTransfer = harness.failure(WorkflowV1.Workflow.transferTicket, Self.transfer("t1", agent: "bruno"), as: Self.ana)
        #expect(blockedTransfer?.code == .failedPrecondition && blockedTransfer?.violations.first?.reason == "unread_messages")
        var schedule = WorkflowV1.ScheduleTicketRequest()
        schedule.ticketID = "t1"
        schedule.scheduledForMs = 1_800_000_000_000
        schedule.note = "Combinado por telefone"
        #expect(harness.failure(WorkflowV1.Workflow.scheduleTicket, schedule, as: Self.ana)?.code == .failedPrecondition)
        var conclude = WorkflowV1.MoveTicketRequest()
        conclude.ticketID = "t1"
        conclude.toStage = "finalizado"
        #expect(harness.failure(WorkflowV1.Workflow.moveTicket, conclude, as: Self.ana)?.code == .failedPrecondition)
        // Nor is the customer asked for information over a message nobody read (the question may
        // be answered already; before, the ticket then waited on the customer and closed by inactivity).
        var ask = WorkflowV1.MoveTicketRequest()
        ask.ticketID = "t1"
        ask.toStage = "aguardando_cliente"
        ask.publicNote = "Pode enviar o XML?"
        let asked = harness.failure(WorkflowV1.Workflow.moveTicket, ask, as: Self.ana)
        #expect(asked?.code == .failedPrecondition && asked?.violations.first?.reason == "unread_messages", "\(String(describing: asked))")
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "t1"
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
        view = try harness.call(WorkflowV1.Workflow.scheduleTicket, schedule, as: Self.ana)
        schedule.scheduledForMs = 1_800_100_000_000
        view = try harness.call(WorkflowV1.Workflow.scheduleTicket, schedule, as: Self.ana)
        #expect(view.scheduleCount == 2 && view.scheduledForMs == 1_800_100_000_000 && view.row?.status?.status == "agendado")
        view = try harness.move("t1", to: "finalizado", as: Self.ana)
        #expect(view.row?.stage == "finalizado")
    }

    /// Three tickets, the first two held by ana, the third by bruno, and a bulk public note on
    /// the three (public: only on tickets the agent may act on, so ana's fails on the third).
    static func bulkNote(_ engine: DatabaseEngine, _ ids: [String], text: String) throws -> (WorkflowHarness, WorkflowV1.BulkActionRequest) {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for id in ids {
            try harness.deliver(WorkflowHarness.opened(id), key: id)
        }
        try harness.take(ids[0], as: Self.ana)
        try harness.take(ids[1], as: Self.ana)
        try harness.take(ids[2], as: Self.bruno)
        var bulk = WorkflowV1.BulkActionRequest()
        bulk.ticketIDs = ids
        bulk.note = WorkflowV1.AddDiscussionRequest()
        bulk.note?.text = text
        bulk.note?.isPublic = true
        return (harness, bulk)
    }

    @Test("bulk actions apply to each selected ticket and are recorded per ticket; failures are reported per ticket", arguments: TestEngines.all)
    func bulk(engine: DatabaseEngine) throws {
        var (harness, bulk) = try Self.bulkNote(engine, ["b1", "b2", "b3"], text: "Instabilidade na Sefaz SP")
        var response = try harness.call(WorkflowV1.Workflow.bulkAction, bulk, as: Self.ana)
        #expect(response.results.map(\.ok) == [true, true, false], "ana does not hold b3")
        #expect(try harness.ticket("b1").discussion.last?.text == "Instabilidade na Sefaz SP")
        bulk = WorkflowV1.BulkActionRequest()
        bulk.ticketIDs = ["b1", "b2"]
        bulk.transfer = Self.transfer("", agent: "bruno", note: "Férias")
        response = try harness.call(WorkflowV1.Workflow.bulkAction, bulk, as: Self.ana)
        #expect(response.results.allSatisfy { $0.ok })
        for id in ["b1", "b2"] {
            #expect(try harness.ticket(id).row?.holder?.agentID == "bruno")
            #expect(try harness.history(id).contains { $0.kind == "holder" && $0.note.contains("Férias") })
        }
        bulk.move = WorkflowV1.MoveTicketRequest()
        #expect(harness.failure(WorkflowV1.Workflow.bulkAction, bulk, as: Self.ana)?.code == .invalidArgument, "one action only")
    }

    @Test("a bulk action retried with its idempotency key replays the tickets done and runs only those that failed", arguments: TestEngines.all)
    func bulkRetry(engine: DatabaseEngine) throws {
        let (harness, bulk) = try Self.bulkNote(engine, ["r1", "r2", "r3"], text: "Queda do certificado A1")
        func notes(_ id: String) throws -> Int { try harness.ticket(id).discussion.filter { $0.text == "Queda do certificado A1" }.count }
        let first = try harness.call(WorkflowV1.Workflow.bulkAction, bulk, as: Self.ana, idempotencyKey: "lote-1")
        #expect(first.results.map(\.ok) == [true, true, false])
        let again = try harness.call(WorkflowV1.Workflow.bulkAction, bulk, as: Self.ana, idempotencyKey: "lote-1")
        #expect(again == first, "the same answer")
        #expect(try notes("r1") == 1 && notes("r2") == 1 && notes("r3") == 0)
        // r3 comes to ana: the retry runs it, and still only it.
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, Self.transfer("r3", agent: "ana", note: "Assuma"), as: Self.bruno)
        let later = try harness.call(WorkflowV1.Workflow.bulkAction, bulk, as: Self.ana, idempotencyKey: "lote-1")
        #expect(later.results.map(\.ok) == [true, true, true])
        #expect(try notes("r1") == 1 && notes("r2") == 1 && notes("r3") == 1)
        // The key with another request is refused before any ticket changes.
        var other = bulk
        other.note?.text = "Outra nota"
        #expect(harness.failure(WorkflowV1.Workflow.bulkAction, other, as: Self.ana, idempotencyKey: "lote-1")?.code == .failedPrecondition)
        #expect(try harness.ticket("r1").discussion.allSatisfy { $0.text != "Outra nota" })
    }
}
