import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// An agent who held a ticket and lost it — a repasse, a devolver, their chefe's take, a step's
/// assignment — and acts on it from a page still open is told the ticket changed hands
/// (`FAILED_PRECONDITION`, reason `no_longer_holder`, how, when and who holds it now), with or
/// without the page's expectation; still refused. A colleague who never held it is
/// `PERMISSION_DENIED` (`Tickets/FormerHolders.swift`, migration 203).
@Suite("Workflow: a former holder is told the ticket changed hands")
struct FormerHolderTests {
    static let ana = WorkflowHarness.agent("ana")
    static let bruno = WorkflowHarness.agent("bruno")
    static let chefe = WorkflowHarness.agent("chefe")

    /// t1 opened in n1, taken by ana, then taken by her chefe.
    func takenFromAnaByTheChefe(_ engine: DatabaseEngine, environment: [String: String] = [:]) throws -> WorkflowHarness {
        let harness = try WorkflowHarness(engine, environment: environment)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        #expect(try harness.take("t1", as: Self.chefe).row?.holder?.agentID == "chefe")
        return harness
    }

    static func move(_ id: String, to stage: String = "diagnostico_tecnico", expected: WorkflowV1.TicketExpectation? = nil) -> WorkflowV1.MoveTicketRequest {
        var move = WorkflowV1.MoveTicketRequest()
        move.ticketID = id
        move.toStage = stage
        move.expected = expected
        return move
    }

    /// Opens `id` as a ticket of type "implantacao" whose steps are `steps` (name, agent in n1):
    /// it starts held by the first step's agent.
    static func openWithSteps(_ harness: WorkflowHarness, _ id: String, _ steps: [(name: String, agent: String)],
                              type: String = "implantacao") throws {
        try putSteps(harness, steps, type: type)
        var opened = WorkflowHarness.opened(id)
        opened.customFields = ["ticket_type": type]
        try harness.deliver(opened, key: id)
    }

    /// Defines (or replaces) `type`'s step sequence: `steps` (name, agent in n1).
    static func putSteps(_ harness: WorkflowHarness, _ steps: [(name: String, agent: String)], type: String) throws {
        var sequence = WorkflowV1.PutStepSequenceRequest()
        sequence.ticketType = type
        sequence.steps = steps.map { name, agent in
            var step = WorkflowV1.Step()
            step.name = name
            step.agentID = agent
            step.groupID = "n1"
            return step
        }
        _ = try harness.call(WorkflowV1.Workflow.putStepSequence, sequence, as: WorkflowHarness.admin())
    }

    static func reply(_ id: String) -> WorkflowV1.AddDiscussionRequest {
        var reply = WorkflowV1.AddDiscussionRequest()
        reply.ticketID = id
        reply.text = "Já verifiquei o certificado."
        reply.kind = "note"
        reply.isPublic = true
        return reply
    }

    /// The refusal a former holder gets: FAILED_PRECONDITION on `field`, reason no_longer_holder,
    /// saying how they lost it (`how`, both languages) and who holds it now.
    static func expectNoLongerHolder(_ refusal: RPCError?, field: String = "ticket_id", how: (pt: String, en: String),
                                     holder: String = "agente Chefe", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(refusal?.code == .failedPrecondition && refusal?.violations.first?.reason == "no_longer_holder"
                && refusal?.violations.first?.field == field, "\(String(describing: refusal))", sourceLocation: sourceLocation)
        let message = refusal?.message ?? ""
        #expect(message.contains("não é mais o responsável") && message.contains(how.pt) && message.contains(holder)
                && message.contains("no longer hold") && message.contains(how.en) && message.contains("recarregue"),
                "\(message)", sourceLocation: sourceLocation)
        // When, in São Paulo's time, named by its offset.
        #expect(message.contains("UTC-03:00"), "\(message)", sourceLocation: sourceLocation)
        #expect(refusal?.violations.first?.descriptionPT.hasPrefix(how.pt) == true && refusal?.violations.first?.descriptionEN.hasPrefix(how.en) == true,
                "\(String(describing: refusal?.violations))", sourceLocation: sourceLocation)
    }

    @Test("the chefe takes ana's ticket: her move, public reply, repasse, devolver, status and schedule without an expectation are FAILED_PRECONDITION naming the chefe and when (GetTicketHolder carries the same refusal); nothing changes; bruno, who never held it, gets PERMISSION_DENIED",
          arguments: TestEngines.all)
    func chefesTake(engine: DatabaseEngine) throws {
        let harness = try takenFromAnaByTheChefe(engine)
        let took = (pt: "Chefe a assumiu em", en: "Chefe took it at")
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t1"), as: Self.ana), how: took)
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.addDiscussion, Self.reply("t1"), as: Self.ana), how: took)
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.ana),
                                  how: took)
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.sendBack, SendBackTests.sendBack("t1"), as: Self.ana), how: took)
        var status = WorkflowV1.SetStageStatusRequest()
        status.ticketID = "t1"
        status.status = "pendente"
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.setStageStatus, status, as: Self.ana), how: took)
        var schedule = WorkflowV1.ScheduleTicketRequest()
        schedule.ticketID = "t1"
        schedule.scheduledForMs = 1_900_000_000_000
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.scheduleTicket, schedule, as: Self.ana), how: took)

        // Bruno never held it: a permission, as before.
        for refused in [harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t1"), as: Self.bruno),
                        harness.failure(WorkflowV1.Workflow.addDiscussion, Self.reply("t1"), as: Self.bruno),
                        harness.failure(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", group: "n1"), as: Self.bruno)] {
            #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
        }
        // GetTicketHolder carries the same refusal for services that refuse on workflow's behalf
        // (notification's SendTicketEmail); none for bruno.
        var ask = WorkflowV1.GetTicketHolderRequest()
        ask.ticketID = "t1"
        let anas = try harness.call(WorkflowV1.Workflow.getTicketHolder, ask, as: Self.ana)
        let moved = harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t1"), as: Self.ana)
        #expect(!anas.callerMayAct && anas.callerNoLongerHolder?.kind == "take" && anas.callerNoLongerHolder?.message == moved?.message
                && anas.callerNoLongerHolder?.description == moved?.violations.first?.descriptionPT
                && anas.callerNoLongerHolder?.descriptionEn == moved?.violations.first?.descriptionEN, "\(anas)")
        let brunos = try harness.call(WorkflowV1.Workflow.getTicketHolder, ask, as: Self.bruno)
        #expect(!brunos.callerMayAct && brunos.callerNoLongerHolder == nil, "\(brunos)")
        // Refused is refused: nothing changed.
        let view = try harness.ticket("t1")
        #expect(view.row?.stage == "em_atendimento" && view.row?.holder?.agentID == "chefe" && view.row?.status == nil,
                "\(String(describing: view.row))")
        #expect(view.discussion.filter(\.isPublic).isEmpty && view.scheduledForMs == 0, "\(view.discussion)")
        #expect(try harness.published(WorkflowV1.Transferred.self, ticket: "t1").isEmpty)

        // The chefe gives it back: ana holds it and acts again; taken once more, the latest take answers.
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "ana"), as: Self.chefe)
        #expect(try harness.call(WorkflowV1.Workflow.moveTicket, Self.move("t1"), as: Self.ana).row?.stage == "diagnostico_tecnico")
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t1", agent: "bruno"), as: Self.chefe)
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t1", to: "em_atendimento"), as: Self.ana),
                                  how: (pt: "Chefe a repassou em", en: "Chefe passed it on at"), holder: "agente Bruno")
        let rows = try harness.database.read { tx in
            try tx.query("SELECT agent_id, kind, actor_id FROM ticket_former_holders WHERE ticket_id = 't1' ORDER BY agent_id")
                .map { "\($0.s("agent_id")):\($0.s("kind")):\($0.s("actor_id"))" }
        }
        #expect(rows == ["ana:transfer:chefe", "chefe:transfer:chefe"], "\(rows)")
    }

    @Test("with the page's expectation: unchanged — ana's page showing her is no_longer_holder on expected (now saying how), bruno's page showing ana is stale, ana from a page drawn again is no_longer_holder on ticket_id",
          arguments: TestEngines.all)
    func withAnExpectation(engine: DatabaseEngine) throws {
        let harness = try takenFromAnaByTheChefe(engine)
        let took = (pt: "Chefe a assumiu em", en: "Chefe took it at")
        let anasPage = StalePageTests.expected("em_atendimento", agent: "ana")
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t1", expected: anasPage), as: Self.ana),
                                  field: "expected", how: took)
        let stale = harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t1", expected: anasPage), as: Self.bruno)
        #expect(stale?.code == .failedPrecondition && stale?.violations.first?.reason == "stale", "\(String(describing: stale))")
        let drawnAgain = StalePageTests.expected("em_atendimento", agent: "chefe")
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t1", expected: drawnAgain), as: Self.ana),
                                  how: took)
        #expect(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t1", expected: drawnAgain), as: Self.bruno)?.code == .permissionDenied)
        // The chefe, from the page as it is, moves it.
        #expect(try harness.call(WorkflowV1.Workflow.moveTicket, Self.move("t1", expected: drawnAgain), as: Self.chefe).row?.stage
                == "diagnostico_tecnico")
    }

    @Test("a step's assignment takes the ticket from ana: her move is FAILED_PRECONDITION saying the chefe assigned it to another holder",
          arguments: TestEngines.all)
    func stepsAssignment(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try Self.openWithSteps(harness, "imp1", [("Levantamento", "ana"), ("Configuração", "bruno")])
        #expect(try harness.ticket("imp1").row?.holder?.agentID == "ana")
        var advance = WorkflowV1.AdvanceStepRequest()
        advance.ticketID = "imp1"
        #expect(try harness.call(WorkflowV1.Workflow.advanceStep, advance, as: Self.chefe).row?.holder?.agentID == "bruno")
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("imp1"), as: Self.ana),
                                  how: (pt: "Chefe a atribuiu a outro responsável em", en: "Chefe assigned it to another holder at"),
                                  holder: "agente Bruno")
    }

    @Test("migrations 203 and 204 backfill the losses they can tell by id: a repasse (transfers), a chefe's take after a take, a take or the next step's assignment after a step's assignment (204); not after a line that no longer reads as the one before (a rename) nor a step edited since",
          arguments: TestEngines.all)
    func backfill(engine: DatabaseEngine) throws {
        let data = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": data.path]
        if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        do {
            let harness = try takenFromAnaByTheChefe(engine, environment: environment)
            // t2: ana passes it on to bruno (a transfers row).
            try harness.deliver(WorkflowHarness.opened("t2"), key: "t2")
            try harness.take("t2", as: Self.ana)
            _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t2", agent: "bruno"), as: Self.ana)
            // t3: bruno takes it, the chefe takes it; its lines altered below as a rename would.
            try harness.deliver(WorkflowHarness.opened("t3"), key: "t3")
            try harness.take("t3", as: Self.bruno)
            try harness.take("t3", as: Self.chefe)
            // t4: assigned to ana by a step (its line names her only), then the chefe takes it.
            try Self.openWithSteps(harness, "t4", [("Levantamento", "ana")])
            try harness.take("t4", as: Self.chefe)
            // t5: step 1 assigns it to ana, step 2 to bruno (both lines name them only).
            try Self.openWithSteps(harness, "t5", [("Levantamento", "ana"), ("Configuração", "bruno")], type: "migracao")
            var advance = WorkflowV1.AdvanceStepRequest()
            advance.ticketID = "t5"
            #expect(try harness.call(WorkflowV1.Workflow.advanceStep, advance, as: Self.chefe).row?.holder?.agentID == "bruno")
            // t6: as t5, but the sequence was edited since (its step 1 now names bruno, and no
            // other step of that name names ana): the line's holder can no longer be told.
            try Self.openWithSteps(harness, "t6", [("Triagem", "ana"), ("Configuração", "chefe")], type: "suporte_dedicado")
            advance.ticketID = "t6"
            _ = try harness.call(WorkflowV1.Workflow.advanceStep, advance, as: Self.chefe)
            try Self.putSteps(harness, [("Triagem", "bruno"), ("Configuração", "chefe")], type: "suporte_dedicado")
            // t7: ana loses it twice, a repasse then (given back) the chefe's take: the take is latest.
            try harness.deliver(WorkflowHarness.opened("t7"), key: "t7")
            try harness.take("t7", as: Self.ana)
            _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t7", agent: "bruno"), as: Self.ana)
            _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t7", agent: "ana"), as: Self.bruno)
            try harness.take("t7", as: Self.chefe)
            // t8: the other way round: the chefe's take, then (given back) her own repasse.
            try harness.deliver(WorkflowHarness.opened("t8"), key: "t8")
            try harness.take("t8", as: Self.ana)
            try harness.take("t8", as: Self.chefe)
            _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t8", agent: "ana"), as: Self.chefe)
            _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t8", agent: "bruno"), as: Self.ana)
            try harness.database.write { tx in
                // As before migrations 203 and 204.
                try tx.execute("DROP TABLE ticket_former_holders")
                try tx.execute("DELETE FROM schema_migrations WHERE component = 'service' AND version IN (203, 204)")
                try tx.execute("UPDATE ticket_history SET old_value = 'grupo Nível 1 / agente Bruno Souza' WHERE ticket_id = 't3' AND kind = 'holder' AND actor_id = 'chefe'")
            }
        }
        // Started again on the same database: migrations 203 and 204 run.
        let harness = try WorkflowHarness(engine, environment: environment)
        let rows = try harness.database.read { tx in
            try tx.query("SELECT ticket_id, agent_id, kind, actor_id FROM ticket_former_holders ORDER BY ticket_id, agent_id")
                .map { "\($0.s("ticket_id")):\($0.s("agent_id")):\($0.s("kind")):\($0.s("actor_id"))" }
        }
        #expect(rows == ["t1:ana:take:chefe", "t2:ana:transfer:ana", "t4:ana:take:chefe", "t5:ana:assign:chefe",
                         "t7:ana:take:chefe", "t7:bruno:transfer:bruno", "t8:ana:transfer:ana", "t8:chefe:transfer:chefe"], "\(rows)")
        let times = try harness.database.read { tx in
            try tx.query("""
                SELECT f.until_at AS until_at, h.at AS at FROM ticket_former_holders f
                JOIN ticket_history h ON h.ticket_id = f.ticket_id AND h.kind = 'holder' AND h.actor_id = 'chefe' WHERE f.ticket_id = 't1'
                """).map { [$0.i("until_at"), $0.i("at")] }
        }
        #expect(times.count == 1 && times.first?[0] == times.first?[1], "\(times)")
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t1"), as: Self.ana),
                                  how: (pt: "Chefe a assumiu em", en: "Chefe took it at"))
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t2"), as: Self.ana),
                                  how: (pt: "Você a repassou em", en: "You passed it on at"), holder: "agente Bruno")
        // A holder by a step's assignment, known by id from the step (migration 204).
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t4"), as: Self.ana),
                                  how: (pt: "Chefe a assumiu em", en: "Chefe took it at"))
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t5"), as: Self.ana),
                                  how: (pt: "Chefe a atribuiu a outro responsável em", en: "Chefe assigned it to another holder at"),
                                  holder: "agente Bruno")
        // What the history could not tell by id keeps the old answer for that loss: a rename,
        // a sequence edited since.
        #expect(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t3"), as: Self.bruno)?.code == .permissionDenied)
        #expect(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t6"), as: Self.ana)?.code == .permissionDenied)
        // A loss after the migration is recorded as it happens.
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer("t3", agent: "bruno"), as: Self.chefe)
        try harness.take("t3", as: Self.chefe)
        Self.expectNoLongerHolder(harness.failure(WorkflowV1.Workflow.moveTicket, Self.move("t3"), as: Self.bruno),
                                  how: (pt: "Chefe a assumiu em", en: "Chefe took it at"))
    }
}
