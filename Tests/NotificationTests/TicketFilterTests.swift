import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Audience rules and webhooks filtered by the ticket (category, priority, product, module,
/// organization) besides the event kind: AND across lists, OR within one, every ticket when unset.
@Suite("Notification: rules and webhooks filtered by category, priority, product, module and organization", .serialized)
struct TicketFilterTests {
    static func filter(categories: [CommonV1.Category] = [], priorities: [CommonV1.Priority] = [], products: [String] = [],
                       modules: [String] = [], organizations: [String] = []) -> NotificationV1.TicketFilter {
        var filter = NotificationV1.TicketFilter()
        filter.categories = categories
        filter.priorities = priorities
        filter.products = products
        filter.modules = modules
        filter.organizationIDs = organizations
        return filter
    }

    static func putRule(_ harness: NotificationHarness, _ kind: String, _ audiences: [String],
                        filter: NotificationV1.TicketFilter? = nil) throws -> NotificationV1.AudienceRule? {
        var request = NotificationV1.PutAudienceRuleRequest()
        request.eventKind = kind
        request.audiences = audiences
        request.filter = filter
        return try harness.client.call(NotificationV1.Notification.putAudienceRule, request,
                                       options: harness.options(NotificationHarness.administrator())).rule
    }

    static func register(_ harness: NotificationHarness, url: String, kinds: [String],
                         filter: NotificationV1.TicketFilter? = nil) throws -> NotificationV1.Webhook {
        var request = NotificationV1.RegisterWebhookRequest()
        request.url = url
        request.secret = "receiver-secret-0123456789abcdef"
        request.eventKinds = kinds
        request.filter = filter
        return try #require(try harness.client.call(NotificationV1.Notification.registerWebhook, request,
                                                    options: harness.options(NotificationHarness.administrator())).webhook)
    }

    static func rules(_ harness: NotificationHarness) throws -> NotificationV1.ListRulesResponse {
        try harness.client.call(NotificationV1.Notification.listRules, NotificationV1.ListRulesRequest(),
                                options: harness.options(NotificationHarness.administrator()))
    }

    /// An SLA breach on a ticket held by Ana (chefe: chefe@) with `priority`.
    static func breach(_ ticketID: String, code: String, priority: CommonV1.Priority) -> EventsV1.EventEnvelope {
        var summary = Events.summary(ticketID: ticketID, code: code)
        summary.priority = priority
        var breach = WorkflowV1.SLABreached()
        breach.ticket = summary
        breach.target = .resolution
        return Events.envelope(breach, key: ticketID)
    }

    /// A stage change of a ticket held by Ana with `priority`.
    static func stageChanged(_ ticketID: String, code: String, priority: CommonV1.Priority) -> EventsV1.EventEnvelope {
        var summary = Events.summary(ticketID: ticketID, code: code)
        summary.priority = priority
        var event = WorkflowV1.StageChanged()
        event.ticket = summary
        event.fromStage = "novo"
        event.toStage = "em_atendimento"
        return Events.envelope(event, key: ticketID)
    }

    /// A ticket opened by intake with these attributes (contact jose@, organization `organization`).
    static func opened(_ ticketID: String, code: String, category: CommonV1.Category = .problema, priority: CommonV1.Priority = .normal,
                       organization: String = "org-1", product: String = "", module: String = "") -> EventsV1.EventEnvelope {
        var event = Events.opened(ticketID: ticketID, code: code)
        event.category = category
        event.priority = priority
        event.organization?.id = organization
        event.product = product
        event.module = module
        return Events.envelope(event, key: ticketID)
    }

    @Test("A rule filtered by priority e-mails for Urgente and not for Normal; unfiltered rules, a rule saved without a filter e-mail every ticket as before",
          arguments: TestEngines.all)
    func priorityFilteredRule(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        defer { sink.stop() }
        var received = 0
        func recipients(of envelope: EventsV1.EventEnvelope, code: String, expected: Int) throws -> [String] {
            #expect(try harness.deliver([envelope]).accepted == 1)
            received += expected
            #expect(waitFor(20) { sink.files("eml").count >= received }, "\(code): \(sink.files("eml").count) of \(received) e-mails")
            return try ReceivedMail.all(in: mailDirectory.path).filter { ($0.headers["Subject"] ?? "").contains(code) }
                .flatMap(\.envelope.to).sorted()
        }

        let rule = try Self.putRule(harness, "SLABreached", ["holder", "chefe"], filter: Self.filter(priorities: [.urgente, .urgente]))
        #expect(rule?.customized == true && rule?.filter?.priorities == [.urgente], "named twice, kept once: \(String(describing: rule))")
        #expect(try Self.rules(harness).rules.first { $0.eventKind == "SLABreached" }?.filter?.priorities == [.urgente])

        #expect(try recipients(of: Self.breach("t-urgent", code: "2026-000701", priority: .urgente), code: "2026-000701", expected: 2)
                == ["ana@suporte.example", "chefe@suporte.example"])
        #expect(try harness.deliver([Self.breach("t-normal", code: "2026-000702", priority: .normal)]).accepted == 1)
        // An unfiltered kind (the default: the customer hears of an opening) for the same Normal ticket.
        #expect(try recipients(of: Self.opened("t-normal", code: "2026-000702", priority: .normal), code: "2026-000702", expected: 1)
                == ["jose@cliente.example"], "only the opening's e-mail: the Normal breach e-mailed nobody")
        #expect(try harness.deliveries(ticketID: "t-normal").map(\.eventKind) == ["TicketOpened"])

        // Saved again without a filter: every ticket, as before.
        let unfiltered = try Self.putRule(harness, "SLABreached", ["holder", "chefe"])
        #expect(unfiltered?.filter == nil)
        #expect(try recipients(of: Self.breach("t-normal-2", code: "2026-000703", priority: .normal), code: "2026-000703", expected: 2)
                == ["ana@suporte.example", "chefe@suporte.example"])
        // Rules stored before migrations 11 and 12: RuleEntryTests.storedRulesCarriedOver.

        let changes = try Self.rules(harness).recentChanges.map(\.value)
        #expect(changes == ["holder,chefe", "holder,chefe [priorities=URGENTE]"], "\(changes)")
    }

    @Test("A webhook filtered by category gets only Exigência fiscal tickets; an unfiltered one gets every ticket; both listed with their filter",
          arguments: TestEngines.all)
    func categoryFilteredWebhook(engine: DatabaseEngine) throws {
        let hooks = try TemporaryDirectory(prefix: "hooks")
        let receiver = try PythonPeer.webhook(directory: hooks.path, secret: "receiver-secret-0123456789abcdef")
        defer { receiver.stop() }
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        let fiscal = try Self.register(harness, url: receiver.url, kinds: ["TicketOpened"], filter: Self.filter(categories: [.exigenciaFiscal]))
        let every = try Self.register(harness, url: receiver.url, kinds: ["*"])
        #expect(fiscal.filter?.categories == [.exigenciaFiscal] && every.filter == nil)
        let listed = try harness.client.call(NotificationV1.Notification.listWebhooks, NotificationV1.ListWebhooksRequest(),
                                             options: harness.options(NotificationHarness.administrator())).webhooks
        #expect(Dictionary(uniqueKeysWithValues: listed.map { ($0.id, $0.filter?.categories ?? []) }) == [fiscal.id: [.exigenciaFiscal], every.id: []])

        #expect(try harness.deliver([Self.opened("t-fiscal", code: "2026-000711", category: .exigenciaFiscal),
                                     Self.opened("t-problem", code: "2026-000712", category: .problema)]).accepted == 2)
        func hookRows(_ webhook: NotificationV1.Webhook) throws -> [NotificationV1.Delivery] {
            try harness.deliveries(recipient: "webhook:\(webhook.id)")
        }
        #expect(waitFor(20) { ((try? hookRows(fiscal)) ?? []).map(\.state) == ["sent"] && ((try? hookRows(every)) ?? []).map(\.state) == ["sent", "sent"] },
                "\(String(describing: try? hookRows(fiscal))) \(String(describing: try? hookRows(every)))")
        #expect(try hookRows(fiscal).map(\.ticketID) == ["t-fiscal"])
        #expect(try hookRows(every).map(\.ticketID).sorted() == ["t-fiscal", "t-problem"])
        // The receiver got three signed requests: the fiscal ticket twice (one per webhook), the other once.
        #expect(waitFor(10) { receiver.files("json").count == 3 })
    }

    @Test("The fiscal team hears of every new Exigência fiscal ticket: TicketRouted to the holder (the fiscal group's mailbox) filtered by category, other categories mail nobody",
          arguments: TestEngines.all)
    func fiscalTeamHearsOfNewTaxTickets(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        defer { sink.stop() }
        var rules = NotificationRules.defaults
        rules.groupAddresses = ["grp-fiscal": "fiscal@suporte.example"]
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port), rules: rules)
        _ = try Self.putRule(harness, "TicketRouted", ["holder"], filter: Self.filter(categories: [.exigenciaFiscal]))
        func routed(_ ticketID: String, code: String, category: CommonV1.Category) -> EventsV1.EventEnvelope {
            var summary = Events.summary(ticketID: ticketID, code: code)
            summary.category = category
            var queue = WorkflowV1.Holder()
            queue.groupID = "grp-fiscal"
            queue.groupName = "Fiscal"
            summary.holder = queue
            var event = WorkflowV1.TicketRouted()
            event.ticket = summary
            return Events.envelope(event, key: ticketID)
        }
        #expect(try harness.deliver([routed("t-tax", code: "2026-000731", category: .exigenciaFiscal),
                                     routed("t-question", code: "2026-000732", category: .duvida)]).accepted == 2)
        #expect(waitFor(20) { sink.files("eml").count >= 1 })
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.map(\.envelope.to) == [["fiscal@suporte.example"]] && (mails.first?.headers["Subject"] ?? "").contains("2026-000731"),
                "\(mails.map(\.headers))")
        #expect(try harness.deliveries(ticketID: "t-question").isEmpty)
    }

    @Test("An organization filter (a key account), with products ignoring case and AND across lists: only that organization's matching tickets reach the rule's audience and the webhook",
          arguments: TestEngines.all)
    func organizationFilter(engine: DatabaseEngine) throws {
        let hooks = try TemporaryDirectory(prefix: "hooks")
        let receiver = try PythonPeer.webhook(directory: hooks.path, secret: "receiver-secret-0123456789abcdef")
        defer { receiver.stop() }
        // No relay: the e-mails stay planned (queued and retried), which is what is checked here.
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        _ = try Self.putRule(harness, "TicketOpened", ["customer"], filter: Self.filter(organizations: [" org-key "]))
        let keyAccount = try Self.register(harness, url: receiver.url, kinds: ["TicketOpened"],
                                           filter: Self.filter(products: ["ERP Fiscal", "Folha", "erp fiscal "], organizations: ["org-key"]))
        #expect(keyAccount.filter?.organizationIDs == ["org-key"] && keyAccount.filter?.products == ["ERP Fiscal", "Folha"],
                "kept as written, once ignoring case: \(String(describing: keyAccount.filter))")
        #expect(try harness.deliver([
            Self.opened("t-key-erp", code: "2026-000721", organization: "org-key", product: " erp FISCAL "),
            Self.opened("t-key-crm", code: "2026-000722", organization: "org-key", product: "CRM"),
            Self.opened("t-other-erp", code: "2026-000723", organization: "org-1", product: "ERP Fiscal"),
        ]).accepted == 3)
        func rows(_ ticketID: String) throws -> [String] { try harness.deliveries(ticketID: ticketID).map(\.recipient).sorted() }
        #expect(try rows("t-key-erp") == ["jose@cliente.example", "webhook:\(keyAccount.id)"])
        #expect(try rows("t-key-crm") == ["jose@cliente.example"], "the key account's, but another product: no webhook")
        #expect(try rows("t-other-erp") == [], "another organization: neither the customer's e-mail nor the webhook")
    }

    @Test("An unknown or unspecified category or priority, an empty product or a too long list is INVALID_ARGUMENT naming the field (pt-BR, then English); nothing is stored or recorded",
          arguments: TestEngines.all)
    func invalidFilters(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        func refusal(_ call: () throws -> Void) -> (code: RPCStatusCode?, field: String?, message: String) {
            let error = SuppressionTests.rpcError(call)
            return (error?.code, error?.violations.first?.field, error?.message ?? "")
        }
        let priority = refusal { _ = try Self.putRule(harness, "SLABreached", ["chefe"], filter: Self.filter(priorities: [.urgente, .unspecified])) }
        #expect(priority.code == .invalidArgument && priority.field == "filter.priorities[1]", "\(priority)")
        #expect(priority.message.hasPrefix("Prioridade desconhecida") && priority.message.contains("Unknown or unspecified priority")
                && priority.message.contains("URGENTE"), "\(priority.message)")
        // An unknown wire value reaches the service as the unspecified one (proto3), and is refused alike.
        #expect(CommonV1.Category(_protoRawValue: 99) == .unspecified)
        let category = refusal {
            _ = try Self.register(harness, url: "http://127.0.0.1:9/hook", kinds: ["TicketOpened"],
                                  filter: Self.filter(categories: [.exigenciaFiscal, CommonV1.Category(_protoRawValue: 99)]))
        }
        #expect(category.code == .invalidArgument && category.field == "filter.categories[1]", "\(category)")
        #expect(category.message.hasPrefix("Categoria desconhecida") && category.message.contains("EXIGENCIA_FISCAL"), "\(category.message)")
        let product = refusal { _ = try Self.putRule(harness, "TicketOpened", ["customer"], filter: Self.filter(products: ["ERP", "  "])) }
        #expect(product.code == .invalidArgument && product.field == "filter.products[1]", "\(product)")
        let module = refusal { _ = try Self.putRule(harness, "TicketOpened", ["customer"], filter: Self.filter(modules: ["NF-e;CT-e"])) }
        #expect(module.field == "filter.modules[0]", "\(module)")
        let many = refusal {
            _ = try Self.register(harness, url: "http://127.0.0.1:9/hook", kinds: ["TicketOpened"],
                                  filter: Self.filter(organizations: (0...TicketCriteria.maxValues).map { "org-\($0)" }))
        }
        #expect(many.field == "filter.organization_ids", "\(many)")

        let counts = try harness.database.read { tx in
            try ["notification_audience_rules", "notification_rule_changes", "notification_webhooks"].map { table in
                try tx.scalar("SELECT COUNT(*) FROM \(table)", [])
            }
        }
        #expect(counts == [.integer(0), .integer(0), .integer(0)], "\(counts)")
    }

    @Test("Matching: empty lists match any ticket; AND across lists, OR within one; products and modules ignore case and spaces; the stored text reads back; a stored category this version does not know matches nothing")
    func matching() throws {
        var traits = TicketTraits(category: .exigenciaFiscal, priority: .urgente, product: "ERP Fiscal", module: "NF-e", organizationID: "org-key")
        #expect(TicketCriteria.none.matches(traits) && TicketCriteria.none.stored.isEmpty && TicketCriteria(stored: "").isEmpty)
        let criteria = try TicketCriteria(checking: Self.filter(categories: [.exigenciaFiscal, .duvida], priorities: [.urgente, .alta],
                                                                products: [" erp fiscal"], modules: ["nf-e", "CT-e"], organizations: ["org-key"]))
        #expect(criteria.matches(traits))
        traits.priority = .normal
        #expect(!criteria.matches(traits), "priority outside the list")
        traits.priority = .alta
        traits.module = " ct-E "
        #expect(criteria.matches(traits), "another value of each list")
        traits.organizationID = "org-1"
        #expect(!criteria.matches(traits), "every list must match")
        #expect(criteria.stored == "categories=EXIGENCIA_FISCAL,DUVIDA;priorities=URGENTE,ALTA;products=erp fiscal;modules=nf-e,CT-e;organization_ids=org-key")
        #expect(TicketCriteria(stored: criteria.stored) == criteria)
        let future = TicketCriteria(stored: "categories=AUDITORIA")
        #expect(!future.isEmpty && !future.matches(TicketTraits(category: .problema)))
    }
}
