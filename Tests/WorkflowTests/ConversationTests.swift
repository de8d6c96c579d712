import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: discussion, versions, history, related tickets, time entries")
struct ConversationTests {
    static let ana = WorkflowHarness.agent("ana")

    @Test("public and internal entries; publishable answers become events; edits are versions; customers see public entries only", arguments: TestEngines.all)
    func discussion(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        var add = WorkflowV1.AddDiscussionRequest()
        add.ticketID = "t1"
        add.text = "Parece o bug 4411"
        add.kind = "note"
        let note = try harness.call(WorkflowV1.Workflow.addDiscussion, add, as: WorkflowHarness.agent("bruno")).entry
        #expect(note?.isPublic == false)
        add.isPublic = true
        add.kind = "possible_solution"
        add.text = "Reenvie com o certificado A1 renovado."
        #expect(harness.failure(WorkflowV1.Workflow.addDiscussion, add, as: WorkflowHarness.agent("bruno"))?.code == .permissionDenied,
                "public entries come from who may act on the ticket")
        let answer = try harness.call(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana).entry
        var mark = WorkflowV1.MarkPublishableRequest()
        mark.ticketID = "t1"
        mark.entryID = answer?.entryID ?? ""
        _ = try harness.call(WorkflowV1.Workflow.markPublishable, mark, as: Self.ana)
        let marked = try harness.published(WorkflowV1.PublishableAnswerMarked.self, ticket: "t1")
        #expect(marked.map(\.0.answer) == ["Reenvie com o certificado A1 renovado."])
        let added = try harness.published(WorkflowV1.DiscussionAdded.self, ticket: "t1").map(\.0)
        #expect(added.map(\.isPublic) == [false, true])

        var text = WorkflowV1.SetTextRequest()
        text.ticketID = "t1"
        text.text = "Erro 539 ao transmitir a NF-e de devolução"
        _ = try harness.call(WorkflowV1.Workflow.amendRequest, text, as: Self.ana)
        text.text = "Renovar o certificado."
        _ = try harness.call(WorkflowV1.Workflow.setSolution, text, as: Self.ana)
        text.text = "Renovar o certificado A1 e reenviar."
        let view = try harness.call(WorkflowV1.Workflow.setSolution, text, as: Self.ana)
        #expect(view.solution == "Renovar o certificado A1 e reenviar.")
        var versions = WorkflowV1.ListTextVersionsRequest()
        versions.ticketID = "t1"
        versions.field = "request"
        #expect(try harness.call(WorkflowV1.Workflow.listTextVersions, versions, as: Self.ana).versions.map(\.text)
                == ["Erro 539 ao transmitir a NF-e", "Erro 539 ao transmitir a NF-e de devolução"])
        versions.field = "solution"
        #expect(try harness.call(WorkflowV1.Workflow.listTextVersions, versions, as: Self.ana).versions.count == 2)
        let customer = WorkflowHarness.customer("maria", organization: "org-1")
        #expect(harness.failure(WorkflowV1.Workflow.listTextVersions, versions, as: customer)?.code == .permissionDenied)
        let customerView = try harness.ticket("t1", as: customer)
        #expect(customerView.discussion.map(\.kind) == ["possible_solution"])
        #expect(customerView.row?.holder?.agentID == "" && customerView.row?.accessLevel == 0)
        // Viewing from the queue is in the history.
        var get = WorkflowV1.GetTicketRequest()
        get.ticketID = "t1"
        get.fromQueue = true
        _ = try harness.call(WorkflowV1.Workflow.getTicket, get, as: WorkflowHarness.agent("bruno"))
        #expect(try harness.history("t1").contains { $0.kind == "view" && $0.actorID == "bruno" })
    }

    @Test("linked tickets and the same customer's tickets", arguments: TestEngines.all)
    func related(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("a1", organization: "org-1"), key: "a1")
        try harness.deliver(WorkflowHarness.opened("a2", organization: "org-1"), key: "a2")
        try harness.deliver(WorkflowHarness.opened("b1", organization: "org-2"), key: "b1")
        var link = WorkflowV1.LinkTicketsRequest()
        link.ticketID = "a1"
        link.otherTicketID = "b1"
        link.note = "Mesmo erro"
        let related = try harness.call(WorkflowV1.Workflow.linkTickets, link, as: Self.ana)
        #expect(related.linked.map(\.ticketID) == ["b1"])
        #expect(related.sameCustomer.map(\.ticketID) == ["a2"])
        var list = WorkflowV1.ListRelatedRequest()
        list.ticketID = "b1"
        #expect(try harness.call(WorkflowV1.Workflow.listRelated, list, as: Self.ana).linked.map(\.ticketID) == ["a1"])
    }

    @Test("time entries with totals per ticket, agent, organization, service type and month", arguments: TestEngines.all)
    func timeEntries(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("a1", organization: "org-1"), key: "a1")
        try harness.deliver(WorkflowHarness.opened("b1", organization: "org-2"), key: "b1")
        let november = Int64(1_795_000_000_000) // 2026-11-18
        let december = Int64(1_797_500_000_000) // 2026-12-17
        func log(_ ticket: String, _ minutes: Int32, _ agent: String, _ type: String = "", mode: String = "", at: Int64) throws {
            var entry = WorkflowV1.AddTimeEntryRequest()
            entry.ticketID = ticket
            entry.minutes = minutes
            entry.serviceType = type
            entry.mode = mode
            entry.workedAtMs = at
            _ = try harness.call(WorkflowV1.Workflow.addTimeEntry, entry, as: WorkflowHarness.agent(agent))
        }
        try log("a1", 30, "ana", at: november)
        try log("a1", 90, "bruno", "consulting", mode: "on_site", at: november)
        try log("b1", 45, "ana", at: december)
        func totals(_ groupBy: String, from: Int64 = 0, to: Int64 = 0) throws -> [String: Int64] {
            var request = WorkflowV1.TimeTotalsRequest()
            request.groupBy = groupBy
            request.fromMs = from
            request.toMs = to
            return Dictionary(uniqueKeysWithValues: try harness.call(WorkflowV1.Workflow.timeTotals, request, as: WorkflowHarness.admin()).totals.map { ($0.key, $0.minutes) })
        }
        #expect(try totals("ticket") == ["a1": 120, "b1": 45])
        #expect(try totals("agent") == ["ana": 75, "bruno": 90])
        #expect(try totals("organization") == ["org-1": 120, "org-2": 45])
        #expect(try totals("service_type") == ["support": 75, "consulting": 90])
        #expect(try totals("month") == ["2026-11": 120, "2026-12": 45])
        #expect(try totals("agent", from: december) == ["ana": 45])
        var bad = WorkflowV1.AddTimeEntryRequest()
        bad.ticketID = "a1"
        bad.minutes = 0
        bad.serviceType = "marketing"
        let error = harness.failure(WorkflowV1.Workflow.addTimeEntry, bad, as: Self.ana)
        #expect(error?.violations.map(\.field) == ["minutes", "service_type"])
    }

    @Test("an entry checked with validate_only is held to the same text limits as the entry (before: a text over the limit passed, the gateway put its files on the ticket, then the entry was refused); a kind has a limit",
          arguments: TestEngines.all)
    func validatedEntryLimits(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        var add = WorkflowV1.AddDiscussionRequest()
        add.ticketID = "t1"
        add.validateOnly = true
        add.text = String(repeating: "a", count: 100_001)
        let long = harness.failure(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana)
        #expect(long?.code == .invalidArgument && long?.violations.map(\.field) == ["text"], "\(String(describing: long))")
        add.text = "Nota"
        add.kind = String(repeating: "k", count: 201)
        let kind = harness.failure(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana)
        #expect(kind?.code == .invalidArgument && kind?.violations.map(\.field) == ["kind"], "\(String(describing: kind))")
        add.validateOnly = false
        #expect(harness.failure(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana)?.code == .invalidArgument)
        add.kind = "note"
        add.validateOnly = true
        #expect(harness.failure(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana) == nil)
        #expect(try harness.ticket("t1").discussion.isEmpty, "nothing stored")
    }

    @Test("an agent's entry takes one of the kinds agents write: a customer's kind (customer_reply, solution_accepted…) or an unknown one is INVALID_ARGUMENT on kind, also with validate_only and in a bulk note; empty is a note; a row stored before with another kind still reads",
          arguments: TestEngines.all)
    func agentEntryKinds(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        var add = WorkflowV1.AddDiscussionRequest()
        add.ticketID = "t1"
        add.isPublic = true
        add.text = "Pode fechar, resolvido."
        for kind in ["customer_reply", "solution_accepted", "cancellation", "voicemail", "transfer", "resposta"] {
            add.kind = kind
            for validateOnly in [true, false] {
                add.validateOnly = validateOnly
                let refused = harness.failure(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana)
                #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["kind"]
                        && refused?.violations.first?.reason == "invalid", "\(kind): \(String(describing: refused))")
                #expect(refused?.message.contains("tipo de registro inválido") == true && refused?.message.contains("invalid entry kind") == true)
            }
        }
        var bulk = WorkflowV1.BulkActionRequest()
        bulk.ticketIDs = ["t1"]
        bulk.note = add
        let results = try harness.call(WorkflowV1.Workflow.bulkAction, bulk, as: Self.ana).results
        #expect(results.count == 1 && results.first?.ok == false && results.first?.error.contains("tipo de registro inválido") == true, "\(results)")
        #expect(try harness.ticket("t1").discussion.isEmpty, "nothing stored")
        add.validateOnly = false
        var kinds: [String] = []
        for kind in ["", "note", "possible_solution", "request_info", "solution", "article"] {
            add.kind = kind
            kinds.append(try harness.call(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana).entry?.kind ?? "")
        }
        #expect(kinds == ["note", "note", "possible_solution", "request_info", "solution", "article"])
        // A row an agent stored before 2026-12 with a kind of their own still reads as stored.
        try harness.database.write { tx in
            try tx.execute("UPDATE discussion_entries SET kind = 'resposta_antiga' WHERE ticket_id = 't1' AND kind = 'article'", [])
        }
        #expect(try harness.ticket("t1").discussion.map(\.kind).last == "resposta_antiga")
    }
}
