import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: queue listing, counts, customers' listing, search")
struct ListingTests {
    static let ana = WorkflowHarness.agent("ana")
    static let base = Int64(1_790_000_000_000)

    /// 12 tickets: org-1 and org-2, products ERP/RH, categories and priorities varied, opened a minute apart.
    static func load(_ harness: WorkflowHarness) throws {
        try harness.seedDirectory()
        for i in 0..<12 {
            let event = WorkflowHarness.opened(String(format: "t%02d", i), organization: i % 3 == 0 ? "org-2" : "org-1",
                                               plan: i % 4 == 0 ? "premium" : "standard",
                                               category: i % 2 == 0 ? .problema : .duvida, priority: i % 5 == 0 ? .urgente : .normal,
                                               product: i < 6 ? "ERP" : "RH", module: i % 2 == 0 ? "Fiscal" : "Folha",
                                               subject: i == 7 ? "Cálculo de férias errado" : i == 8 ? "Férias calculadas com erro no cálculo" : "Nota fiscal \(i) rejeitada",
                                               request: "Pedido número \(i)", openedAt: base + Int64(i) * 60_000)
            try harness.deliver(event, key: event.ticketID)
        }
    }

    func queue(_ harness: WorkflowHarness, _ filter: WorkflowV1.TicketFilter = WorkflowV1.TicketFilter(), pageSize: Int32 = 50,
               newestFirst: Bool = false, as principal: AuthV1.Principal = WorkflowHarness.admin()) throws -> [String] {
        var ids: [String] = []
        var cursor = ""
        repeat {
            var request = WorkflowV1.ListQueueRequest()
            request.filter = filter
            request.pageSize = pageSize
            request.cursor = cursor
            request.newestFirst = newestFirst
            let page = try harness.call(WorkflowV1.Workflow.listQueue, request, as: principal)
            #expect(page.tickets.count <= Int(pageSize))
            ids += page.tickets.map(\.ticketID)
            cursor = page.nextCursor
        } while !cursor.isEmpty
        return ids
    }

    @Test("keyset pages walk the whole queue in order without gaps or repeats; filters combine; counts per stage", arguments: TestEngines.all)
    func queueListing(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.load(harness)
        let all = (0..<12).map { String(format: "t%02d", $0) }
        #expect(try queue(harness, pageSize: 5) == all)
        #expect(try queue(harness, pageSize: 5, newestFirst: true) == all.reversed())
        try harness.take("t01", as: Self.ana)
        try harness.take("t03", as: Self.ana)
        var filter = WorkflowV1.TicketFilter()
        filter.stages = ["em_atendimento"]
        #expect(try queue(harness, filter) == ["t01", "t03"])
        filter = WorkflowV1.TicketFilter()
        filter.agentID = "ana"
        #expect(try queue(harness, filter) == ["t01", "t03"])
        // "Mine" and the agent filter read the agent index, partial since migration 185 (unheld
        // tickets are not in it): held tickets are found, unheld ones are not someone's.
        filter = WorkflowV1.TicketFilter()
        filter.mine = true
        #expect(try queue(harness, filter, as: Self.ana) == ["t01", "t03"])
        #expect(try queue(harness, filter, pageSize: 1, as: Self.ana) == ["t01", "t03"])
        filter = WorkflowV1.TicketFilter()
        filter.groupID = "n2"
        #expect(try queue(harness, filter) == ["t00", "t04", "t08"])
        filter = WorkflowV1.TicketFilter()
        filter.product = "RH"
        filter.categories = [.duvida]
        #expect(try queue(harness, filter) == ["t07", "t09", "t11"])
        filter = WorkflowV1.TicketFilter()
        filter.priorities = [.urgente]
        filter.organizationID = "org-1"
        #expect(try queue(harness, filter) == ["t05", "t10"])
        filter = WorkflowV1.TicketFilter()
        filter.module = "Folha"
        filter.text = "FÉRIAS"
        #expect(try queue(harness, filter) == ["t07"])
        // A search with no word in it (emoji, punctuation) finds nothing; it does not list everything.
        filter = WorkflowV1.TicketFilter()
        filter.text = "🚀 !!"
        #expect(try queue(harness, filter) == [])
        filter.text = "   "
        #expect(try queue(harness, filter).count == 12, "blank text is no filter")
        var counts = WorkflowV1.CountByStageRequest()
        let all1 = try harness.call(WorkflowV1.Workflow.countByStage, counts, as: WorkflowHarness.admin()).counts
        #expect(all1.map(\.stage) == ["aguardando_atendimento", "em_atendimento"] && all1.map(\.count) == [10, 2])
        counts.filter = WorkflowV1.TicketFilter()
        counts.filter?.organizationID = "org-2"
        #expect(try harness.call(WorkflowV1.Workflow.countByStage, counts, as: WorkflowHarness.admin()).counts.map(\.count) == [3, 1], "t03 is in Em atendimento")
        var bad = WorkflowV1.ListQueueRequest()
        bad.cursor = "not-a-cursor"
        #expect(harness.failure(WorkflowV1.Workflow.listQueue, bad, as: WorkflowHarness.admin())?.code == .invalidArgument)
    }

    @Test("customers list their organization's tickets, newest interaction first, by public stage, product, category and text", arguments: TestEngines.all)
    func customerListing(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.load(harness)
        let customer = WorkflowHarness.customer("maria", organization: "org-2")
        var request = WorkflowV1.ListCustomerTicketsRequest()
        request.pageSize = 3
        var page = try harness.call(WorkflowV1.Workflow.listCustomerTickets, request, as: customer)
        #expect(page.tickets.map(\.ticketID) == ["t09", "t06", "t03"])
        request.cursor = page.nextCursor
        page = try harness.call(WorkflowV1.Workflow.listCustomerTickets, request, as: customer)
        #expect(page.tickets.map(\.ticketID) == ["t00"] && page.nextCursor.isEmpty)
        // A reply makes t00 the newest interaction; internal stages show as public ones.
        try harness.take("t00", as: WorkflowHarness.agent("carla"))
        try harness.move("t00", to: "diagnostico_tecnico", as: WorkflowHarness.agent("carla"))
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t00"
        reply.text = "Alguma novidade?"
        reply.repliedAtMs = Self.base + 3_600_000
        try harness.deliver(reply, key: "t00")
        request = WorkflowV1.ListCustomerTicketsRequest()
        page = try harness.call(WorkflowV1.Workflow.listCustomerTickets, request, as: customer)
        #expect(page.tickets.first?.ticketID == "t00" && page.tickets.first?.lastInteractionAtMs == Self.base + 3_600_000)
        #expect(page.tickets.first?.stage == "em_atendimento" && page.tickets.first?.stageName == "Em atendimento")
        request.stages = ["em_atendimento"]
        #expect(try harness.call(WorkflowV1.Workflow.listCustomerTickets, request, as: customer).tickets.map(\.ticketID) == ["t00"])
        request = WorkflowV1.ListCustomerTicketsRequest()
        request.product = "RH"
        request.categories = [.duvida]
        #expect(try harness.call(WorkflowV1.Workflow.listCustomerTickets, request, as: customer).tickets.map(\.ticketID) == ["t09"])
        request = WorkflowV1.ListCustomerTicketsRequest()
        request.text = "nota 6"
        #expect(try harness.call(WorkflowV1.Workflow.listCustomerTickets, request, as: customer).tickets.map(\.ticketID) == ["t06"])
        request.text = "🚀"
        #expect(try harness.call(WorkflowV1.Workflow.listCustomerTickets, request, as: customer).tickets.isEmpty)
        request.text = "nota 6"
        #expect(harness.failure(WorkflowV1.Workflow.listCustomerTickets, request, as: Self.ana)?.code == .permissionDenied)
    }

    @Test("search by whole phrase or any word, in all fields or one, and tickets with the same subject", arguments: TestEngines.all)
    func search(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.load(harness)
        try harness.take("t02", as: Self.ana)
        var note = WorkflowV1.AddDiscussionRequest()
        note.ticketID = "t02"
        note.text = "Certificado digital vencido"
        _ = try harness.call(WorkflowV1.Workflow.addDiscussion, note, as: Self.ana)
        func search(_ query: String, field: String = "", mode: String = "", same: String = "", filter: WorkflowV1.TicketFilter? = nil) throws -> [String] {
            var request = WorkflowV1.SearchTicketsRequest()
            request.query = query
            request.field = field
            request.mode = mode
            request.sameSubjectAs = same
            request.filter = filter
            return try harness.call(WorkflowV1.Workflow.searchTickets, request, as: WorkflowHarness.admin()).tickets.map(\.ticketID)
        }
        #expect(try search("certificado digital") == ["t02"])
        #expect(try search("certificado digital", field: "subject").isEmpty)
        #expect(try search("digital certificado").isEmpty, "whole phrase")
        #expect(try Set(search("digital certificado", mode: "any")) == ["t02"])
        #expect(try Set(search("ferias vencido", mode: "any")) == ["t02", "t07", "t08"])
        #expect(try search("pedido número 11", field: "request") == ["t11"])
        var erp = WorkflowV1.TicketFilter()
        erp.product = "RH"
        #expect(try Set(search("rejeitada", filter: erp)) == ["t06", "t09", "t10", "t11"])
        #expect(try search("", same: "t07") == ["t08"], "same subject: cálculo / férias")
        var bad = WorkflowV1.SearchTicketsRequest()
        bad.query = "x"
        bad.field = "everything"
        #expect(harness.failure(WorkflowV1.Workflow.searchTickets, bad, as: WorkflowHarness.admin())?.violations.first?.field == "field")
    }
}
