import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// What the administrators' notifications page relies on: templates checked before they are
/// stored, a webhook's secret generated when none is given, switches deleted, the rules read.
@Suite("Notification: the configuration calls of the administrators' page")
struct AdministrationAPITests {
    static func harness(_ engine: DatabaseEngine, rules: NotificationRules = .defaults) throws -> NotificationHarness {
        try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1), rules: rules)
    }

    @Test("Every built-in template names only placeholders its kind fills, and each kind has some")
    func builtInPlaceholders() {
        for kind in TemplateCatalog.kinds {
            #expect(!TemplatePlaceholders.names(of: kind).isEmpty, "\(kind)")
            for locale in TemplateCatalog.locales {
                let entry = TemplateCatalog.builtIn(kind: kind, locale: locale)!
                for part in [entry.subject, entry.text, entry.html] {
                    #expect(TemplatePlaceholders.problem(in: part, kind: kind) == nil, "\(kind) \(locale): \(part)")
                }
            }
        }
        #expect(TemplatePlaceholders.problem(in: "Olá {{contact_name}} {{ code }}", kind: "TicketOpened") == nil)
        #expect(TemplatePlaceholders.problem(in: "{{link}}", kind: "TicketOpened")?.en.contains("{{link}}") == true)
        #expect(TemplatePlaceholders.problem(in: "Olá {{contact_name", kind: "TicketOpened")?.en.contains("Unclosed") == true)
        #expect(TemplatePlaceholders.names(of: "NoSuchKind").isEmpty)
    }

    @Test("A template naming a placeholder its kind does not fill, or leaving {{ open, is refused with the field; the stored one is kept; GetTemplate lists the placeholders",
          arguments: TestEngines.all)
    func templateChecked(engine: DatabaseEngine) throws {
        let harness = try Self.harness(engine)
        let admin = harness.options(NotificationHarness.administrator())
        func set(_ subject: String, _ text: String, html: String = "") throws {
            var template = NotificationV1.Template()
            template.eventKind = "TicketOpened"
            template.locale = "pt-BR"
            template.subject = subject
            template.text = text
            template.html = html
            var request = NotificationV1.SetTemplateRequest()
            request.messageTemplate = template
            _ = try harness.client.call(NotificationV1.Notification.setTemplate, request, options: admin)
        }
        try set("Recebemos: {{subject}}", "Olá, {{contact_name}}.")
        let unknown = SuppressionTests.rpcError { try set("Recebemos: {{assunto}}", "Olá, {{contact_name}}.") }
        #expect(unknown?.code == .invalidArgument && unknown?.violations.first?.field == "message_template.subject", "\(String(describing: unknown))")
        #expect(unknown?.message.contains("{{assunto}}") == true)
        let open = SuppressionTests.rpcError { try set("Recebemos", "Olá, {{contact_name.") }
        #expect(open?.violations.first?.field == "message_template.text", "\(String(describing: open))")
        let html = SuppressionTests.rpcError { try set("Recebemos", "Olá", html: "<p>{{link}}</p>") }
        #expect(html?.violations.first?.field == "message_template.html", "\(String(describing: html))")
        let empty = SuppressionTests.rpcError { try set("", "Olá") }
        #expect(empty?.violations.first?.field == "message_template.subject", "\(String(describing: empty))")

        var get = NotificationV1.GetTemplateRequest()
        get.eventKind = "TicketOpened"
        get.locale = "pt-BR"
        let stored = try #require(try harness.client.call(NotificationV1.Notification.getTemplate, get, options: admin).messageTemplate)
        #expect(stored.subject == "Recebemos: {{subject}}" && stored.text == "Olá, {{contact_name}}." && stored.customized)
        #expect(stored.placeholders == TemplatePlaceholders.names(of: "TicketOpened") && stored.placeholders.contains("channel"))
        get.eventKind = "Invitation"
        let invitation = try harness.client.call(NotificationV1.Notification.getTemplate, get, options: admin).messageTemplate
        #expect(invitation?.placeholders == ["name", "organization_name", "link", "expires_at"])
    }

    @Test("A webhook or a subscription switch naming an unknown event kind (a misspelt one never matches an event) is refused naming the field; nothing stored",
          arguments: TestEngines.all)
    func unknownEventKinds(engine: DatabaseEngine) throws {
        let harness = try Self.harness(engine)
        let admin = harness.options(NotificationHarness.administrator())
        var webhook = NotificationV1.RegisterWebhookRequest()
        webhook.url = "https://hooks.example/ocorrencias"
        webhook.eventKinds = ["TicketOpened", " ", "ticketopened"]
        let refused = SuppressionTests.rpcError { _ = try harness.client.call(NotificationV1.Notification.registerWebhook, webhook, options: admin) }
        #expect(refused?.code == .invalidArgument && refused?.violations.first?.field == "event_kinds[2]", "\(String(describing: refused))")
        #expect(refused?.violations.first?.descriptionPT.hasPrefix("Tipo de evento desconhecido: ticketopened") == true)
        #expect(try harness.client.call(NotificationV1.Notification.listWebhooks, NotificationV1.ListWebhooksRequest(), options: admin).webhooks.isEmpty)
        webhook.eventKinds = ["*"]
        _ = try harness.client.call(NotificationV1.Notification.registerWebhook, webhook, options: admin)
        webhook.eventKinds = ["SLABreached", "TicketFinished"]
        _ = try harness.client.call(NotificationV1.Notification.registerWebhook, webhook, options: admin)

        // A customer who turns off "TicketOpen" would still be mailed: refused, nothing stored.
        var request = NotificationV1.SetSubscriptionRequest()
        var subscription = NotificationV1.Subscription()
        subscription.eventKind = "TicketOpen"
        request.subscription = subscription
        let customer = harness.options(NotificationHarness.customer())
        let switchRefused = SuppressionTests.rpcError { _ = try harness.client.call(NotificationV1.Notification.setSubscription, request, options: customer) }
        #expect(switchRefused?.violations.first?.field == "subscription.event_kind", "\(String(describing: switchRefused))")
        var list = NotificationV1.ListSubscriptionsRequest()
        list.person = "jose@cliente.example"
        #expect(try harness.client.call(NotificationV1.Notification.listSubscriptions, list, options: admin).subscriptions.isEmpty)
        for kind in ["TicketOpened", "*"] {
            request.subscription?.eventKind = kind
            _ = try harness.client.call(NotificationV1.Notification.setSubscription, request, options: customer)
        }
        #expect(try harness.client.call(NotificationV1.Notification.listSubscriptions, list, options: admin).subscriptions.count == 2)
    }

    @Test("A webhook registered without a secret gets one generated, returned once and stored sealed; a given secret is not echoed; a short one is refused",
          arguments: TestEngines.all)
    func generatedWebhookSecret(engine: DatabaseEngine) throws {
        let harness = try Self.harness(engine)
        let admin = harness.options(NotificationHarness.administrator())
        var request = NotificationV1.RegisterWebhookRequest()
        request.url = "https://hooks.example/ocorrencias"
        request.eventKinds = ["TicketOpened"]
        let generated = try harness.client.call(NotificationV1.Notification.registerWebhook, request, options: admin)
        #expect(generated.secret.count == 64 && generated.webhook?.active == true, "\(generated.secret)")
        let stored = try harness.database.read { try WebhookStore.find($0, id: generated.webhook!.id) }
        #expect(stored.map { !$0.sealedSecret.contains(generated.secret) } == true)
        request.secret = "um-segredo-dado-pelo-administrador"
        let given = try harness.client.call(NotificationV1.Notification.registerWebhook, request, options: admin)
        #expect(given.secret.isEmpty)
        request.secret = "curto"
        let short = SuppressionTests.rpcError { _ = try harness.client.call(NotificationV1.Notification.registerWebhook, request, options: admin) }
        #expect(short?.violations.first?.field == "secret")
    }

    @Test("A switch is deleted by its person or an administrator (NOT_FOUND the second time), never by someone else", arguments: TestEngines.all)
    func removeSubscription(engine: DatabaseEngine) throws {
        let harness = try Self.harness(engine)
        let admin = harness.options(NotificationHarness.administrator())
        let ana = harness.options(NotificationHarness.agent())
        func set(_ person: String, _ kind: String) throws {
            var request = NotificationV1.SetSubscriptionRequest()
            var subscription = NotificationV1.Subscription()
            subscription.person = person
            subscription.eventKind = kind
            request.subscription = subscription
            _ = try harness.client.call(NotificationV1.Notification.setSubscription, request, options: admin)
        }
        func remove(_ person: String, _ kind: String, _ options: CallOptions) throws -> NotificationV1.RemoveSubscriptionResponse {
            var request = NotificationV1.RemoveSubscriptionRequest()
            request.person = person
            request.eventKind = kind
            return try harness.client.call(NotificationV1.Notification.removeSubscription, request, options: options)
        }
        func kinds(_ person: String) throws -> [String] {
            var request = NotificationV1.ListSubscriptionsRequest()
            request.person = person
            return try harness.client.call(NotificationV1.Notification.listSubscriptions, request, options: admin).subscriptions.map(\.eventKind)
        }
        try set("Ana@Suporte.example", "SLAWarning")
        try set("ana@suporte.example", "*")
        try set("chefe@suporte.example", "SLABreached")
        // Ana cannot delete the chefe's switch; she deletes her own, the administrator anyone's.
        #expect(SuppressionTests.rpcError { _ = try remove("chefe@suporte.example", "SLABreached", ana) }?.code == .permissionDenied)
        let removed = try remove("ANA@suporte.example", "*", ana)
        #expect(removed.subscription?.person == "ana@suporte.example" && removed.subscription?.eventKind == "*" && removed.subscription?.enabled == false)
        #expect(try kinds("ana@suporte.example") == ["SLAWarning"])
        _ = try remove("chefe@suporte.example", "SLABreached", admin)
        #expect(try kinds("chefe@suporte.example").isEmpty)
        #expect(SuppressionTests.rpcError { _ = try remove("chefe@suporte.example", "SLABreached", admin) }?.code == .notFound)
        #expect(SuppressionTests.rpcError { _ = try remove("ana@suporte.example", "", admin) }?.violations.first?.field == "event_kind")
    }

    @Test("A recipient's deliveries come oldest first, or newest first on request", arguments: TestEngines.all)
    func newestFirst(engine: DatabaseEngine) throws {
        let harness = try Self.harness(engine)
        for ticket in ["t-first", "t-second", "t-third"] {
            try harness.deliver([Events.envelope(Events.opened(ticketID: ticket), key: ticket)])
            usleep(20_000)
        }
        func tickets(newestFirst: Bool, limit: Int32) throws -> [String] {
            var request = NotificationV1.ListDeliveriesRequest()
            request.recipient = "jose@cliente.example"
            request.newestFirst = newestFirst
            request.limit = limit
            return try harness.client.call(NotificationV1.Notification.listDeliveries, request,
                                           options: harness.options(NotificationHarness.administrator())).deliveries.map(\.ticketID)
        }
        #expect(try tickets(newestFirst: false, limit: 10) == ["t-first", "t-second", "t-third"])
        #expect(try tickets(newestFirst: true, limit: 2) == ["t-third", "t-second"])
    }

    @Test("The rules the service plans with are listed for administrators: every kind's audiences and the groups' mailboxes")
    func listRules() throws {
        var rules = NotificationRules.defaults
        rules.audiences["StageChanged"] = [.holder]
        rules.groupAddresses = ["grp-fiscal": "fiscal@suporte.example"]
        let harness = try Self.harness(.sqlite, rules: rules)
        let listed = try harness.client.call(NotificationV1.Notification.listRules, NotificationV1.ListRulesRequest(),
                                             options: harness.options(NotificationHarness.administrator()))
        let audiences = Dictionary(uniqueKeysWithValues: listed.rules.map { ($0.eventKind, $0.audiences) })
        #expect(audiences["TicketOpened"] == ["customer"] && audiences["SLABreached"] == ["holder", "chefe"])
        #expect(audiences["StageChanged"] == ["holder"] && audiences["DiscussionAdded"] == [] && audiences["TicketRouted"] == [])
        // Every event kind, not the e-mails sent on demand (TicketEmail, Invitation, PasswordReset).
        #expect(Set(audiences.keys) == Set(TemplatePlaceholders.eventNames.keys))
        #expect(listed.groupMailboxes.map { "\($0.groupID)=\($0.address)" } == ["grp-fiscal=fiscal@suporte.example"])
        #expect(SuppressionTests.rpcError {
            _ = try harness.client.call(NotificationV1.Notification.listRules, NotificationV1.ListRulesRequest(),
                                        options: harness.options(NotificationHarness.agent()))
        }?.code == .permissionDenied)
    }
}
