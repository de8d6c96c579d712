import Foundation
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: staff directory, intake events, routing")
struct DirectoryAndIntakeTests {
    @Test("the directory keeps agents, groups, membership, chefes, roles and transfer destinations", arguments: TestEngines.all)
    func directory(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let admin = WorkflowHarness.admin()
        var get = WorkflowV1.GetAgentRequest()
        get.agentID = "pm"
        let pm = try harness.call(WorkflowV1.Workflow.getAgent, get, as: WorkflowHarness.agent("ana"))
        #expect(pm.permissions == ["product.decide"])
        #expect(pm.groupIDs == ["produto"])
        var list = WorkflowV1.ListAgentsRequest()
        list.chefeAgentID = "chefe"
        #expect(try harness.call(WorkflowV1.Workflow.listAgents, list, as: admin).agents.map(\.id) == ["ana", "bruno"])
        list = WorkflowV1.ListAgentsRequest()
        list.groupID = "n1"
        #expect(Set(try harness.call(WorkflowV1.Workflow.listAgents, list, as: admin).agents.map(\.id)) == ["ana", "bruno", "chefe"])
        var destinations = WorkflowV1.SetTransferDestinationsRequest()
        destinations.agentID = "ana"
        var toN2 = WorkflowV1.Destination()
        toN2.groupID = "n2"
        destinations.destinations = [toN2]
        let ana = try harness.call(WorkflowV1.Workflow.setTransferDestinations, destinations, as: admin)
        #expect(ana.transferDestinations.map(\.groupID) == ["n2"])
        // Only administrators (or "directory.manage") change the directory.
        var put = WorkflowV1.PutAgentRequest()
        put.agent = ana
        #expect(harness.failure(WorkflowV1.Workflow.putAgent, put, as: WorkflowHarness.agent("ana"))?.code == .permissionDenied)
        // Validation names the field.
        put.agent?.name = ""
        let invalid = harness.failure(WorkflowV1.Workflow.putAgent, put, as: admin)
        #expect(invalid?.code == .invalidArgument)
        #expect(invalid?.violations.map(\.field) == ["agent.name"])
        // An inactive agent is refused.
        put.agent?.name = "Ana"
        put.agent?.active = false
        _ = try harness.call(WorkflowV1.Workflow.putAgent, put, as: admin)
        #expect(harness.failure(WorkflowV1.Workflow.listGroups, WorkflowV1.ListGroupsRequest(), as: WorkflowHarness.agent("ana"))?.code == .permissionDenied)
        // Customers do not read the directory.
        #expect(harness.failure(WorkflowV1.Workflow.listGroups, WorkflowV1.ListGroupsRequest(),
                                as: WorkflowHarness.customer("c", organization: "org-1"))?.code == .permissionDenied)
    }

    @Test("a group a routing rule sends tickets to is not deactivated, and no rule sends tickets to an inactive group", arguments: TestEngines.all)
    func inactiveGroupsGetNoTickets(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let admin = WorkflowHarness.admin()
        var put = WorkflowV1.PutGroupRequest()
        put.group = WorkflowV1.Group()
        put.group?.id = "n2"
        put.group?.name = "Nível 2"
        put.group?.active = false
        // Rule "premium" (position 1) routes to n2: refused, naming it; n2 stays active.
        let refused = harness.failure(WorkflowV1.Workflow.putGroup, put, as: admin)
        #expect(refused?.code == .failedPrecondition && refused?.violations.map(\.field) == ["group.active"])
        #expect(refused?.message.contains("1") == true, "\(String(describing: refused?.message))")
        #expect(try harness.call(WorkflowV1.Workflow.listGroups, WorkflowV1.ListGroupsRequest(), as: admin).groups.map(\.id).contains("n2"))
        // Without the rule it is deactivated, renamed in the same write, and kept its members.
        var delete = WorkflowV1.DeleteRoutingRuleRequest()
        delete.ruleID = "premium"
        _ = try harness.call(WorkflowV1.Workflow.deleteRoutingRule, delete, as: admin)
        put.group?.name = "Nível 2 (antigo)"
        let inactive = try harness.call(WorkflowV1.Workflow.putGroup, put, as: admin)
        #expect(!inactive.active && inactive.name == "Nível 2 (antigo)" && inactive.agentIDs == ["carla"])
        #expect(!(try harness.call(WorkflowV1.Workflow.listGroups, WorkflowV1.ListGroupsRequest(), as: admin).groups.map(\.id).contains("n2")))
        var rule = WorkflowV1.PutRoutingRuleRequest()
        rule.rule = WorkflowV1.RoutingRule()
        rule.rule?.position = 5
        rule.rule?.groupID = "n2"
        let toInactive = harness.failure(WorkflowV1.Workflow.putRoutingRule, rule, as: admin)
        #expect(toInactive?.code == .invalidArgument && toInactive?.violations.map(\.field) == ["rule.group_id"])
        let rules = try harness.call(WorkflowV1.Workflow.listRoutingRules, WorkflowV1.ListRoutingRulesRequest(), as: admin).rules
        #expect(rules.map(\.id) == ["default"])
    }

    @Test("TicketOpened creates the ticket, routed by plan to a group's queue, once even when redelivered; GetTicketHolder answers", arguments: TestEngines.all)
    func openedAndRouted(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        let opened = WorkflowHarness.opened("t1", plan: "premium")
        let first = try harness.deliver(opened, key: "t1", id: "event-1")
        let again = try harness.deliver(opened, key: "t1", id: "event-1")
        #expect(first.accepted == 1 && again.duplicates == 1)
        try harness.deliver(WorkflowHarness.opened("t2", plan: "standard"), key: "t2")
        let t1 = try harness.ticket("t1")
        #expect(t1.row?.stage == "aguardando_atendimento")
        #expect(t1.row?.holder?.groupID == "n2")
        #expect(t1.row?.holder?.groupName == "Nível 2")
        #expect(t1.request == "Erro 539 ao transmitir a NF-e")
        #expect(t1.row?.organizationName == "Empresa org-1")
        #expect(t1.flow == "padrao")
        #expect(try harness.ticket("t2").row?.holder?.groupID == "n1")
        // Notification learns who holds each new ticket (TicketRouted, once per ticket even when
        // the opening is redelivered); the other subscribers get no row for it.
        let routed = try harness.published(WorkflowV1.TicketRouted.self)
        #expect(routed.map(\.1.key) == ["t1", "t2"])
        #expect(routed.first?.0.ticket?.holder?.groupID == "n2" && routed.first?.0.ticket?.code == "2026-t1")
        #expect(routed.first?.0.ticket?.holder?.groupName == "Nível 2")
        for subscriber in ["intake", "knowledge", "gateway"] {
            #expect(try harness.published(for: subscriber).allSatisfy { $0.type != WorkflowV1.TicketRouted.protoName }, "\(subscriber)")
        }
        var holder = WorkflowV1.GetTicketHolderRequest()
        holder.ticketID = "t1"
        let answer = try harness.call(WorkflowV1.Workflow.getTicketHolder, holder, as: PrincipalsForTests.service)
        #expect(answer.open && answer.holder?.groupID == "n2" && answer.stage == "aguardando_atendimento")
        let history = try harness.history("t1")
        #expect(history.first?.kind == "opened")
        #expect(harness.failure(WorkflowV1.Workflow.getTicketHolder, { var r = WorkflowV1.GetTicketHolderRequest(); r.ticketID = "nope"; return r }(),
                                as: PrincipalsForTests.service)?.code == .notFound)
    }

    @Test("a ticket's files are listed in the order the open gave them, not by id, and a reply's on its entry likewise", arguments: TestEngines.all)
    func attachmentOrder(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        func file(_ id: String, _ name: String) -> CommonV1.AttachmentRef {
            var ref = CommonV1.AttachmentRef()
            ref.id = id
            ref.fileName = name
            return ref
        }
        // Ids in the reverse of the given order (uploads named in another order than made).
        var opened = WorkflowHarness.opened("t1")
        opened.attachments = [file("a9", "primeiro.png"), file("a5", "segundo.log"), file("a1", "terceiro.xml")]
        try harness.deliver(opened, key: "t1")
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t1"
        reply.messageID = "m1"
        reply.text = "Mais arquivos"
        reply.repliedAtMs = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
        reply.attachments = [file("a8", "quarto.png"), file("a2", "quinto.png")]
        try harness.deliver(reply, key: "t1")
        let view = try harness.ticket("t1")
        #expect(view.attachments.map(\.fileName) == ["primeiro.png", "segundo.log", "terceiro.xml"])
        #expect(view.discussion.last?.attachments.map(\.fileName) == ["quarto.png", "quinto.png"])
    }

    @Test("customer replies, cancellation (its outcome and its Portuguese and English labels in the view, the rows and the queue CSV, whose category and priority read in both languages), attachments, contact changes, e-mails sent and linked articles are applied", arguments: TestEngines.all)
    func otherEvents(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: WorkflowHarness.agent("ana"))
        try harness.move("t1", to: "aguardando_cliente", publicNote: "Qual a versão do sistema?", as: WorkflowHarness.agent("ana"))

        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t1"
        reply.messageID = "m1"
        reply.text = "Versão 12.1.2310"
        reply.author = CommonV1.PersonRef()
        reply.author?.name = "Maria"
        var file = CommonV1.AttachmentRef()
        file.id = "a1"
        file.fileName = "tela.png"
        reply.attachments = [file]
        try harness.deliver(reply, key: "t1")
        var view = try harness.ticket("t1")
        #expect(view.row?.stage == "em_atendimento", "a reply in Aguardando cliente brings the ticket back to the agent")
        #expect(view.row?.holder?.agentID == "ana")
        #expect(view.row?.unreadMessages == 1)
        #expect(view.discussion.last?.kind == "customer_reply")
        #expect(view.discussion.last?.attachments.map(\.fileName) == ["tela.png"])

        var contact = IntakeV1.TicketContactChanged()
        contact.ticketID = "t1"
        contact.contact = CommonV1.PersonRef()
        contact.contact?.id = "c2"
        contact.contact?.name = "João"
        contact.changedByAgentID = "ana"
        try harness.deliver(contact, key: "t1")
        #expect(try harness.ticket("t1").contact?.name == "João")

        var email = NotificationV1.EmailSent()
        email.ticketID = "t1"
        email.subject = "Sua ocorrência 2026-t1"
        email.recipients = ["joao@example.com"]
        email.outcome = "sent"
        email.sentAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        try harness.deliver(email, key: "t1", source: "notification")

        var article = KnowledgeV1.ArticleLinkedToTicket()
        article.ticketID = "t1"
        article.articleID = "kb-1"
        article.articleTitle = "Rejeição 539"
        article.articleText = "Ajuste a chave de acesso."
        article.articleURL = "https://kb.example/539"
        article.agentName = "Ana"
        try harness.deliver(article, key: "t1", source: "knowledge")
        view = try harness.ticket("t1")
        #expect(view.solution.hasPrefix("Ajuste a chave de acesso."))
        #expect(view.discussion.last?.kind == "article")
        #expect(try harness.published(WorkflowV1.SolutionGiven.self, ticket: "t1").first?.0.articleID == "kb-1")
        // A second article keeps the solution already there and adds its link after it (it used
        // to replace an agent's solution); the same article again changes nothing.
        var second = article
        second.articleID = "kb-2"
        second.articleTitle = "Série reiniciada"
        second.articleText = "Outro texto."
        second.articleURL = "https://kb.example/540"
        try harness.deliver(second, key: "t1", source: "knowledge")
        try harness.deliver(second, key: "t1", source: "knowledge")
        view = try harness.ticket("t1")
        #expect(view.solution == "Ajuste a chave de acesso.\n\nhttps://kb.example/539\n\nArtigo: Série reiniciada — https://kb.example/540", "\(view.solution)")

        let kinds = try harness.history("t1").map(\.kind)
        #expect(kinds.contains("contact") && kinds.contains("email") && kinds.contains("text"))

        var cancel = IntakeV1.TicketCancelledByCustomer()
        cancel.ticketID = "t1"
        cancel.reason = "Resolvemos internamente"
        try harness.deliver(cancel, key: "t1")
        view = try harness.ticket("t1")
        #expect(view.row?.stage == "cancelado")
        #expect(view.outcome == "cancelada_cliente")
        let finished = try harness.published(WorkflowV1.TicketFinished.self, ticket: "t1")
        #expect(finished.map(\.0.outcome) == ["cancelada_cliente"])
        // How it ended reads the same for the customer and the team (TicketOutcome), in the view and the rows.
        let customerView = try harness.ticket("t1", as: WorkflowHarness.customer("contact-org-1", organization: "org-1"))
        #expect(view.outcomeLabel == "cancelada pelo cliente" && customerView.outcomeLabel == "cancelada pelo cliente", "\(customerView)")
        // In English beside it, as errors carry message and message_en.
        #expect(view.outcomeLabelEn == "cancelled by the customer" && customerView.outcomeLabelEn == "cancelled by the customer", "\(customerView)")
        #expect(view.row?.outcome == "cancelada_cliente" && customerView.row?.outcome == "cancelada_cliente")
        // Listing rows carry both labels too, so a list reads right in either language.
        #expect(view.row?.outcomeLabel == "cancelada pelo cliente" && view.row?.outcomeLabelEn == "cancelled by the customer"
                && customerView.row?.outcomeLabelEn == "cancelled by the customer", "\(String(describing: customerView.row))")
        var stages = WorkflowV1.TicketFilter()
        stages.stages = ["cancelado"]
        var cancelled = WorkflowV1.ExportQueueRequest()
        cancelled.filter = stages
        let stream = try harness.client.serverStream(WorkflowV1.Workflow.exportQueue, cancelled,
                                                     options: CallOptions(timeoutMilliseconds: 30_000, metadata: harness.signer.metadata(for: WorkflowHarness.admin())))
        var csv = ""
        while let chunk = try stream.receive() { csv += chunk.text }
        let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        // Category, priority and stage in Portuguese where they stood, in English in the last three columns.
        #expect(lines.first?.hasSuffix(",ping_pong,outcome,outcome_en,category_en,priority_en,stage_en") == true && lines.count == 2
                && lines[1].hasSuffix(",cancelada pelo cliente,cancelled by the customer,Problem,Normal,Cancelled")
                && lines[1].contains(",Cancelado,")
                && lines[1].contains(",Problema,Normal,"), "\(csv)")
    }
}

enum PrincipalsForTests {
    static var service: AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .service
        principal.id = "intake"
        principal.accessLevel = Int32.max
        return principal
    }
}
