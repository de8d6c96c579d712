import Foundation
import Messages
import RPC
import Storage
import Synchronization
import Testing
import TestSupport
import WorkflowCore

/// Records every change the lifecycle reports; throws on a chosen change to prove the rollback.
final class RecordingObserver: TicketObserver, @unchecked Sendable {
    let changes = Mutex<[(String, TicketChange)]>([])
    let failOnPriority = Mutex(false)

    func ticketDidChange(_ change: TicketChange, ticket: TicketRecord, at: Int64, lifecycle: TicketLifecycle, tx: any SQLExecutor) throws {
        if case .priorityChanged = change, failOnPriority.withLock({ $0 }) {
            throw RPCError(.aborted, "observer refused")
        }
        changes.withLock { $0.append((ticket.id, change)) }
    }

    func of(_ ticket: String) -> [TicketChange] { changes.withLock { $0.filter { $0.0 == ticket }.map(\.1) } }
}

@Suite("Workflow: stage machine as data")
struct StageMachineTests {
    static let ana = WorkflowHarness.agent("ana")
    static let pm = WorkflowHarness.agent("pm")

    @Test("Problema goes through Diagnóstico técnico to Para desenvolver; Dúvida cannot, and the error names the allowed moves", arguments: TestEngines.all)
    func problemAndQuestion(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("p1", category: .problema), key: "p1")
        try harness.deliver(WorkflowHarness.opened("d1", category: .duvida), key: "d1")
        var view = try harness.take("p1", as: Self.ana)
        #expect(view.row?.stage == "em_atendimento" && view.row?.holder?.agentID == "ana")
        try harness.move("p1", to: "diagnostico_tecnico", as: Self.ana)
        view = try harness.move("p1", to: "para_desenvolver", as: Self.ana)
        #expect(view.row?.stage == "para_desenvolver")
        #expect(try harness.ticket("p1", as: WorkflowHarness.customer("maria", organization: "org-1")).row?.stage == "em_desenvolvimento",
                "customers see the public stage")

        try harness.take("d1", as: Self.ana)
        var move = WorkflowV1.MoveTicketRequest()
        move.ticketID = "d1"
        move.toStage = "diagnostico_tecnico"
        let error = harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.ana)
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("finalizado") == true && error?.message.contains("aguardando_cliente") == true)
        #expect(error?.message.contains("diagnostico_tecnico (") == false)
        view = try harness.move("d1", to: "finalizado", publicNote: "Basta marcar a opção X.", as: Self.ana)
        #expect(view.row?.stage == "finalizado" && view.outcome == "resolvida")
        #expect(try harness.published(WorkflowV1.TicketFinished.self, ticket: "d1").map(\.0.outcome) == ["resolvida"])
        let stages = try harness.published(WorkflowV1.StageChanged.self, ticket: "d1").map { "\($0.0.fromStage)→\($0.0.toStage)" }
        #expect(stages == ["aguardando_atendimento→em_atendimento", "em_atendimento→finalizado"])
        // Finished tickets accept no more agent moves.
        move.toStage = "em_atendimento"
        #expect(harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.ana)?.code == .failedPrecondition)
    }

    @Test("requests go to Análise produto, where only product managers accept or deny; a denial needs the reason shown to the customer", arguments: TestEngines.all)
    func productAnalysis(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for id in ["n1", "n2"] {
            try harness.deliver(WorkflowHarness.opened(id, category: .necessidade), key: id)
            try harness.take(id, as: Self.ana)
            var move = WorkflowV1.MoveTicketRequest()
            move.ticketID = id
            move.toStage = "finalizado"
            #expect(harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.ana)?.code == .failedPrecondition, "a Necessidade is not finished by support")
            try harness.move(id, to: "analise_produto", as: Self.ana)
            // Ana may act on it but lacks product.decide.
            move.toStage = "para_desenvolver"
            #expect(harness.failure(WorkflowV1.Workflow.moveTicket, move, as: Self.ana)?.code == .permissionDenied)
            var transfer = WorkflowV1.TransferTicketRequest()
            transfer.ticketID = id
            transfer.toAgentID = "pm"
            transfer.note = "Para análise"
            _ = try harness.call(WorkflowV1.Workflow.transferTicket, transfer, as: WorkflowHarness.admin())
        }
        var view = try harness.move("n1", to: "para_desenvolver", as: Self.pm)
        #expect(view.row?.stage == "para_desenvolver")
        var deny = WorkflowV1.MoveTicketRequest()
        deny.ticketID = "n2"
        deny.toStage = "finalizado"
        let missing = harness.failure(WorkflowV1.Workflow.moveTicket, deny, as: Self.pm)
        #expect(missing?.code == .invalidArgument && missing?.violations.first?.field == "public_note")
        view = try harness.move("n2", to: "finalizado", publicNote: "Fora do escopo do produto.", as: Self.pm)
        #expect(view.outcome == "negada")
        let customerView = try harness.ticket("n2", as: WorkflowHarness.customer("maria", organization: "org-1"))
        #expect(customerView.publicNote == "Fora do escopo do produto.")
        #expect(customerView.discussion.contains { $0.kind == "denial" && $0.isPublic })
        #expect(customerView.row?.stageName == "Finalizado")
        let allowed = try harness.call(WorkflowV1.Workflow.listAllowedMoves, { var r = WorkflowV1.ListAllowedMovesRequest(); r.ticketID = "n1"; return r }(), as: Self.pm)
        #expect(allowed.moves.map(\.toStage) == ["em_desenvolvimento", "cancelado"])
    }

    @Test("agent cancel needs a note; status inside a stage keeps who and when; reclassify keeps old, new, who and why", arguments: TestEngines.all)
    func cancelStatusReclassify(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1", category: .duvida, priority: .normal), key: "t1")
        try harness.take("t1", as: Self.ana)
        var status = WorkflowV1.SetStageStatusRequest()
        status.ticketID = "t1"
        status.status = "paralisado"
        #expect(harness.failure(WorkflowV1.Workflow.setStageStatus, status, as: Self.ana)?.code == .invalidArgument)
        status.reason = "Aguardando a Sefaz"
        var view = try harness.call(WorkflowV1.Workflow.setStageStatus, status, as: Self.ana)
        #expect(view.row?.status?.status == "paralisado" && view.row?.status?.reason == "Aguardando a Sefaz")
        #expect(view.row?.status?.setByID == "ana" && (view.row?.status?.setAtMs ?? 0) > 0)
        status.status = "voando"
        #expect(harness.failure(WorkflowV1.Workflow.setStageStatus, status, as: Self.ana)?.code == .invalidArgument)

        var reclassify = WorkflowV1.ReclassifyRequest()
        reclassify.ticketID = "t1"
        reclassify.category = .problema
        reclassify.priority = .urgente
        #expect(harness.failure(WorkflowV1.Workflow.reclassify, reclassify, as: Self.ana)?.code == .invalidArgument, "a reason is required")
        reclassify.reason = "É um erro do sistema"
        view = try harness.call(WorkflowV1.Workflow.reclassify, reclassify, as: Self.ana)
        #expect(view.row?.category == .problema && view.row?.priority == .urgente)
        let history = try harness.history("t1")
        let category = history.first { $0.kind == "category" }
        #expect(category?.oldValue == "Dúvida" && category?.newValue == "Problema" && category?.actorID == "ana" && category?.note == "É um erro do sistema")
        #expect(history.contains { $0.kind == "priority" && $0.oldValue == "Normal" && $0.newValue == "Urgente" })

        var cancel = WorkflowV1.MoveTicketRequest()
        cancel.ticketID = "t1"
        cancel.toStage = "cancelado"
        #expect(harness.failure(WorkflowV1.Workflow.moveTicket, cancel, as: Self.ana)?.violations.first?.field == "note")
        view = try harness.move("t1", to: "cancelado", note: "Cliente já resolveu", as: Self.ana)
        #expect(view.outcome == "nao_necessita_atuacao")
    }

    @Test("the TOTVS-like preset: Pendente, Validação cliente and Resolvido, timed moves through the lifecycle, rejection reopens", arguments: TestEngines.all)
    func totvsPreset(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine, environment: ["WORKFLOW_FLOW": "totvs"])
        try harness.seedDirectory()
        let customer = WorkflowHarness.ticketContact()
        for id in ["a", "b", "c"] { try harness.deliver(WorkflowHarness.opened(id), key: id) }
        try harness.take("a", as: Self.ana)
        var view = try harness.move("a", to: "pendente", publicNote: "Envie o XML", as: Self.ana)
        #expect(view.flow == "totvs")
        #expect(try harness.ticket("a", as: customer).row?.stageName == "Aguardando sua resposta")
        // 7 days without an answer: the timers part fires the timer transition through the lifecycle.
        try harness.database.write { tx in
            let ticket = try harness.lifecycle.load(tx, "a", forUpdate: true)
            let timed = harness.lifecycle.flow(of: ticket).moves(from: ticket.stage, trigger: .timer, category: ticket.category)
            #expect(timed.map(\.afterDays) == [7])
            try harness.lifecycle.move(tx, ticket, to: "validacao_cliente", trigger: .timer, actor: .system)
        }
        try harness.database.write { tx in
            try harness.lifecycle.move(tx, try harness.lifecycle.load(tx, "a", forUpdate: true), to: "fechado", trigger: .timer, actor: .system)
        }
        view = try harness.ticket("a")
        #expect(view.row?.stage == "fechado" && view.outcome == "inatividade")

        // Resolvido → customer rejects → reopens (back to Em atendimento).
        try harness.take("b", as: Self.ana)
        try harness.move("b", to: "resolvido", publicNote: "Corrigido no pacote 3", as: Self.ana)
        view = try harness.move("b", to: "em_atendimento", note: "Continua com erro", as: customer)
        #expect(view.row?.stage == "em_atendimento")
        // A customer may not make agent moves.
        var agentMove = WorkflowV1.MoveTicketRequest()
        agentMove.ticketID = "b"
        agentMove.toStage = "resolvido"
        agentMove.publicNote = "x"
        #expect(harness.failure(WorkflowV1.Workflow.moveTicket, agentMove, as: customer)?.code == .failedPrecondition)
        // Resolvido → customer accepts → Fechado.
        try harness.take("c", as: Self.ana)
        try harness.move("c", to: "resolvido", publicNote: "Corrigido", as: Self.ana)
        view = try harness.move("c", to: "fechado", as: customer)
        #expect(view.outcome == "resolvida")
        // Another organization's customer cannot see or move it.
        #expect(harness.failure(WorkflowV1.Workflow.getTicket, { var r = WorkflowV1.GetTicketRequest(); r.ticketID = "c"; return r }(),
                                as: WorkflowHarness.customer("x", organization: "org-2"))?.code == .notFound)
    }

    @Test("observers see every change inside the transaction, and an observer that throws rolls the change back", arguments: TestEngines.all)
    func observerSeam(engine: DatabaseEngine) throws {
        let observer = RecordingObserver()
        var options = WorkflowService.Options()
        options.observers = [observer]
        let harness = try WorkflowHarness(engine, options: options)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1", category: .duvida), key: "t1")
        try harness.take("t1", as: Self.ana)
        try harness.move("t1", to: "aguardando_cliente", publicNote: "Qual versão?", as: Self.ana)
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t1"
        reply.text = "12.1"
        try harness.deliver(reply, key: "t1")
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "t1"
        _ = try harness.call(WorkflowV1.Workflow.markMessagesRead, read, as: Self.ana)
        try harness.move("t1", to: "finalizado", publicNote: "Atualize para 12.2", as: Self.ana)
        let changes = observer.of("t1")
        #expect(changes.first == .opened)
        #expect(changes.contains(.holderChanged(from: HolderRef(agentID: "", groupID: "n1"), to: HolderRef(agentID: "ana", groupID: "n1"),
                                                kind: .take, pingPong: false)))
        #expect(changes.contains(.agentPublicResponse(first: true)))
        #expect(changes.contains(.agentPublicResponse(first: false)))
        #expect(changes.contains(.customerReplied))
        #expect(changes.contains(.stageChanged(from: "aguardando_cliente", to: "em_atendimento", trigger: .customerReply, outcome: "")))
        #expect(changes.last == .finished(outcome: "resolvida"))

        try harness.deliver(WorkflowHarness.opened("t2", priority: .normal), key: "t2")
        try harness.take("t2", as: Self.ana)
        observer.failOnPriority.withLock { $0 = true }
        var reclassify = WorkflowV1.ReclassifyRequest()
        reclassify.ticketID = "t2"
        reclassify.priority = .alta
        reclassify.reason = "cliente parado"
        #expect(harness.failure(WorkflowV1.Workflow.reclassify, reclassify, as: Self.ana)?.code == .aborted)
        #expect(try harness.ticket("t2").row?.priority == .normal, "rolled back")
        #expect(try !harness.history("t2").contains { $0.kind == "priority" })
    }
}
