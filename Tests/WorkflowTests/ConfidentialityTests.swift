import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: confidentiality on every read")
struct ConfidentialityTests {
    static let ana = WorkflowHarness.agent("ana")      // level 1, under chefe
    static let bruno = WorkflowHarness.agent("bruno")  // level 0, under chefe
    static let chefe = WorkflowHarness.agent("chefe")  // level 2, chefe

    /// s1: Estratégica (category default level 3) held by bruno; p1: level 2; o1: level 0.
    static func prepare(_ harness: WorkflowHarness) throws {
        try harness.seedDirectory()
        var level = WorkflowV1.SetCategoryAccessLevelRequest()
        level.category = .estrategica
        level.accessLevel = 3
        _ = try harness.call(WorkflowV1.Workflow.setCategoryAccessLevel, level, as: WorkflowHarness.admin())
        try harness.deliver(WorkflowHarness.opened("s1", category: .estrategica, subject: "Nota fiscal estratégica"), key: "s1")
        try harness.deliver(WorkflowHarness.opened("p1", subject: "Nota fiscal confidencial"), key: "p1")
        try harness.deliver(WorkflowHarness.opened("o1", subject: "Nota fiscal comum"), key: "o1")
        var transfer = WorkflowV1.TransferTicketRequest()
        transfer.ticketID = "s1"
        transfer.toAgentID = "bruno"
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, transfer, as: WorkflowHarness.admin())
        var set = WorkflowV1.SetAccessLevelRequest()
        set.ticketID = "p1"
        set.accessLevel = 2
        set.reason = "Dados de folha"
        _ = try harness.call(WorkflowV1.Workflow.setAccessLevel, set, as: Self.chefe)
    }

    static func visible(_ harness: WorkflowHarness, as principal: AuthV1.Principal) throws -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for id in ["s1", "p1", "o1"] {
            var get = WorkflowV1.GetTicketRequest()
            get.ticketID = id
            if (try? harness.call(WorkflowV1.Workflow.getTicket, get, as: principal)) != nil { result["get", default: []].insert(id) }
            var history = WorkflowV1.GetHistoryRequest()
            history.ticketID = id
            if (try? harness.call(WorkflowV1.Workflow.getHistory, history, as: principal)) != nil { result["history", default: []].insert(id) }
            var holder = WorkflowV1.GetTicketHolderRequest()
            holder.ticketID = id
            if (try? harness.call(WorkflowV1.Workflow.getTicketHolder, holder, as: principal)) != nil { result["holder", default: []].insert(id) }
        }
        result["list"] = Set(try harness.call(WorkflowV1.Workflow.listQueue, WorkflowV1.ListQueueRequest(), as: principal).tickets.map(\.ticketID))
        let counts = try harness.call(WorkflowV1.Workflow.countByStage, WorkflowV1.CountByStageRequest(), as: principal).counts
        result["count"] = [String(counts.reduce(0) { $0 + $1.count })]
        var search = WorkflowV1.SearchTicketsRequest()
        search.query = "nota fiscal"
        result["search"] = Set(try harness.call(WorkflowV1.Workflow.searchTickets, search, as: principal).tickets.map(\.ticketID))
        var related = WorkflowV1.ListRelatedRequest()
        related.ticketID = "o1"
        result["related"] = Set(try harness.call(WorkflowV1.Workflow.listRelated, related, as: principal).sameCustomer.map(\.ticketID))
        return result
    }

    @Test("agents see up to their level plus what they hold; a chefe never above their level; in gets, lists, counts, search, history and related", arguments: TestEngines.all)
    func everyReadPath(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.prepare(harness)
        let bruno = try Self.visible(harness, as: Self.bruno)
        #expect(bruno["get"] == ["s1", "o1"], "level 0 plus the level-3 ticket bruno holds")
        #expect(bruno["history"] == ["s1", "o1"] && bruno["holder"] == ["s1", "o1"])
        #expect(bruno["list"] == ["s1", "o1"] && bruno["count"] == ["2"] && bruno["search"] == ["s1", "o1"])
        #expect(bruno["related"] == ["s1"])
        let ana = try Self.visible(harness, as: Self.ana)
        #expect(ana["get"] == ["o1"] && ana["list"] == ["o1"] && ana["count"] == ["1"] && ana["search"] == ["o1"] && ana["history"] == ["o1"])
        let chefe = try Self.visible(harness, as: Self.chefe)
        #expect(chefe["get"] == ["p1", "o1"], "the chefe does not see bruno's level-3 ticket")
        #expect(chefe["list"] == ["p1", "o1"] && chefe["count"] == ["2"] && chefe["search"] == ["p1", "o1"] && chefe["related"] == ["p1"])
        // A ticket hidden from the caller answers exactly as one that does not exist: same code,
        // message and violations, so its existence is not revealed.
        // GetTicketHolder says who may act (intake requires it before a staff caller shows the
        // customer something): the holder and their chefe, not another agent who only sees it.
        var o1ToBruno = WorkflowV1.TransferTicketRequest()
        o1ToBruno.ticketID = "o1"
        o1ToBruno.toAgentID = "bruno"
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, o1ToBruno, as: WorkflowHarness.admin())
        var holderOfO1 = WorkflowV1.GetTicketHolderRequest()
        holderOfO1.ticketID = "o1"
        #expect(try harness.call(WorkflowV1.Workflow.getTicketHolder, holderOfO1, as: Self.bruno).callerMayAct)
        #expect(try harness.call(WorkflowV1.Workflow.getTicketHolder, holderOfO1, as: Self.chefe).callerMayAct)
        #expect(try harness.call(WorkflowV1.Workflow.getTicketHolder, holderOfO1, as: WorkflowHarness.admin()).callerMayAct)
        #expect(try !harness.call(WorkflowV1.Workflow.getTicketHolder, holderOfO1, as: Self.ana).callerMayAct, "ana sees o1, bruno holds it")
        var hidden = WorkflowV1.GetTicketRequest(), missing = WorkflowV1.GetTicketRequest()
        hidden.ticketID = "p1"
        missing.ticketID = "nao-existe"
        let refused = try #require(harness.failure(WorkflowV1.Workflow.getTicket, hidden, as: Self.ana))
        let absent = try #require(harness.failure(WorkflowV1.Workflow.getTicket, missing, as: Self.ana))
        #expect(refused.code == .notFound && refused.code == absent.code && refused.message == absent.message)
        #expect(refused.violations.map(\.field) == absent.violations.map(\.field) && refused.violations.map(\.reason) == absent.violations.map(\.reason))
        // Holding a ticket makes it visible.
        var transfer = WorkflowV1.TransferTicketRequest()
        transfer.ticketID = "p1"
        transfer.toAgentID = "ana"
        _ = try harness.call(WorkflowV1.Workflow.transferTicket, transfer, as: WorkflowHarness.admin())
        #expect(try Self.visible(harness, as: Self.ana)["list"] == ["p1", "o1"])
        // Time totals count only visible tickets.
        var entry = WorkflowV1.AddTimeEntryRequest()
        entry.ticketID = "s1"
        entry.minutes = 10
        _ = try harness.call(WorkflowV1.Workflow.addTimeEntry, entry, as: Self.bruno)
        var totals = WorkflowV1.TimeTotalsRequest()
        totals.groupBy = "ticket"
        #expect(try harness.call(WorkflowV1.Workflow.timeTotals, totals, as: Self.ana).totals.isEmpty)
        #expect(try harness.call(WorkflowV1.Workflow.timeTotals, totals, as: Self.bruno).totals.map(\.key) == ["s1"])
    }

    @Test("only chefes change a ticket's level, never above their own; events carry the level", arguments: TestEngines.all)
    func levelChangesAndEvents(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try Self.prepare(harness)
        var set = WorkflowV1.SetAccessLevelRequest()
        set.ticketID = "o1"
        set.accessLevel = 1
        #expect(harness.failure(WorkflowV1.Workflow.setAccessLevel, set, as: Self.ana)?.code == .permissionDenied)
        set.accessLevel = 3
        #expect(harness.failure(WorkflowV1.Workflow.setAccessLevel, set, as: Self.chefe)?.code == .invalidArgument)
        set.ticketID = "s1"
        set.accessLevel = 1
        #expect(harness.failure(WorkflowV1.Workflow.setAccessLevel, set, as: Self.chefe)?.code == .notFound, "cannot change what they cannot see")
        #expect(try harness.history("p1").contains { $0.kind == "access_level" && $0.oldValue == "0" && $0.newValue == "2" && $0.actorID == "chefe" })
        // Every event says the ticket's level.
        let s1 = try harness.published().filter { $0.key == "s1" }
        #expect(!s1.isEmpty && s1.allSatisfy { $0.accessLevel == 3 })
        #expect(try harness.published(WorkflowV1.Transferred.self, ticket: "s1").first?.0.ticket?.accessLevel == 3)
        // Customers see their organization's tickets whatever the internal level, never others'.
        let customer = WorkflowHarness.customer("maria", organization: "org-1")
        var list = WorkflowV1.ListCustomerTicketsRequest()
        list.pageSize = 10
        #expect(Set(try harness.call(WorkflowV1.Workflow.listCustomerTickets, list, as: customer).tickets.map(\.ticketID)) == ["s1", "p1", "o1"])
        #expect(try harness.call(WorkflowV1.Workflow.listCustomerTickets, list, as: WorkflowHarness.customer("x", organization: "org-9")).tickets.isEmpty)
        #expect(harness.failure(WorkflowV1.Workflow.listQueue, WorkflowV1.ListQueueRequest(), as: customer)?.code == .permissionDenied)
        #expect(harness.failure(WorkflowV1.Workflow.searchTickets, WorkflowV1.SearchTicketsRequest(), as: customer)?.code == .permissionDenied)
    }

    @Test("an internal (agents-only) knowledge article linked to a ticket stays with the team: an internal entry, no solution text, no SolutionGiven; a public one is the solution",
          arguments: TestEngines.all)
    func internalArticleLinked(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        var article = KnowledgeV1.ArticleLinkedToTicket()
        article.ticketID = "t1"
        article.articleID = "kb-int"
        article.articleTitle = "Contorno interno da rejeição 539"
        article.articleText = "Rode o script de correção direto na base do cliente (não informar ao cliente)."
        article.articleURL = "https://kb.example/kb-int"
        article.agentID = "ana"
        article.agentName = "Ana"
        // As knowledge publishes it: access level 1 for an internal article.
        var envelope = WorkflowHarness.envelope(article, key: "t1", source: "knowledge")
        envelope.accessLevel = 1
        _ = try harness.deliver([envelope])
        let customer = try harness.ticket("t1", as: WorkflowHarness.customer("maria", organization: "org-1"))
        #expect(customer.solution.isEmpty, "\(customer.solution)")
        #expect(!customer.discussion.contains { $0.kind == "article" })
        let team = try harness.ticket("t1", as: Self.ana)
        #expect(team.discussion.contains { $0.kind == "article" && !$0.isPublic && $0.text.contains("https://kb.example/kb-int") })
        #expect(try harness.published(WorkflowV1.SolutionGiven.self, ticket: "t1").isEmpty, "no solution e-mail")
        #expect(try harness.published(WorkflowV1.DiscussionAdded.self, ticket: "t1").allSatisfy { !$0.0.isPublic })

        // A public article (level 0) is the solution, as before.
        article.articleID = "kb-pub"
        article.articleText = "Atualize o pacote 12.1.33."
        article.articleURL = "https://kb.example/kb-pub"
        _ = try harness.deliver([WorkflowHarness.envelope(article, key: "t1", source: "knowledge")])
        let after = try harness.ticket("t1", as: WorkflowHarness.customer("maria", organization: "org-1"))
        #expect(after.solution == "Atualize o pacote 12.1.33.\n\nhttps://kb.example/kb-pub")
        #expect(try harness.published(WorkflowV1.SolutionGiven.self, ticket: "t1").map(\.0.articleID) == ["kb-pub"])
    }
}
