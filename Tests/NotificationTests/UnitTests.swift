import Foundation
import Messages
@testable import NotificationCore
import ServiceKit
import Testing
import TestSupport

@Suite("Notification: pure pieces")
struct UnitTests {
    @Test("an agent's entry and a customer's reply name their files in the e-mail (pt-BR and English); without files the text is as before")
    func filesInMessages() throws {
        var entry = WorkflowV1.DiscussionAdded()
        var ticket = WorkflowV1.TicketSummary()
        ticket.code = "2026-000123"
        entry.ticket = ticket
        entry.authorName = "Ana"
        entry.isPublic = true
        entry.text = "Segue a correção."
        for (name, size) in [("nota.xml", Int64(12_000)), ("tela.png", Int64(3_000_000))] {
            var file = CommonV1.AttachmentRef()
            file.fileName = name
            file.sizeBytes = size
            entry.attachments.append(file)
        }
        let facts = EventInterpreter.facts(entry, EventsV1.EventEnvelope())
        func text(_ catalog: [String: TemplateCatalog.Entry], _ facts: EventFacts) throws -> String {
            TemplateRenderer.render(try #require(catalog[facts.kind]), variables: facts.variables, code: "2026-000123").text
        }
        #expect(try text(TemplateCatalog.portuguese, facts).hasSuffix("Segue a correção.\n\nArquivos: nota.xml (12 KiB), tela.png (3 MiB)"))
        #expect(try text(TemplateCatalog.english, facts).hasSuffix("Segue a correção.\n\nFiles: nota.xml (12 KiB), tela.png (3 MiB)"))
        #expect(facts.sensitiveKeys.isSuperset(of: ["files_pt", "files_en"]), "hidden like the text from recipients below the ticket's level")
        entry.attachments = []
        #expect(try text(TemplateCatalog.portuguese, EventInterpreter.facts(entry, EventsV1.EventEnvelope())).hasSuffix("Segue a correção."))

        var reply = IntakeV1.CustomerReplied()
        reply.code = "2026-000123"
        reply.text = "Segue o log."
        var log = CommonV1.AttachmentRef()
        log.fileName = "erro.log"
        log.sizeBytes = 900
        reply.attachments = [log]
        let replied = EventInterpreter.facts(reply, EventsV1.EventEnvelope(), summary: nil)
        #expect(try text(TemplateCatalog.portuguese, replied).hasSuffix("Segue o log.\n\nArquivos: erro.log (900 B)"))
    }

    @Test("RFC 2047 words stay under 75 characters and split on character boundaries")
    func encodedWords() {
        let subject = String(repeating: "ação çãé ", count: 20)
        let encoded = MIMEEncoding.headerText(subject)
        let words = encoded.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        #expect(words.allSatisfy { $0.count <= 75 && $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") })
        let decoded = words.map { word -> String in
            let base64 = String(word.dropFirst(10).dropLast(2))
            return String(decoding: Data(base64Encoded: base64)!, as: UTF8.self)
        }.joined()
        #expect(decoded == subject)
        #expect(MIMEEncoding.headerText("Plain subject") == "Plain subject")
        #expect(!MIMEEncoding.headerText("line\r\nBcc: x@y").contains("\n"), "no header injection")
    }

    @Test("Addresses: valid ones pass, header-injection and malformed ones fail")
    func addresses() {
        #expect(EmailAddress.isValid("jose.silva+tag@cliente.example"))
        #expect(!EmailAddress.isValid("jose@"))
        #expect(!EmailAddress.isValid("jose silva@cliente.example"))
        #expect(!EmailAddress.isValid("x@y.example>\r\nBcc: z@w"))
        #expect(!EmailAddress.isValid(""))
    }

    @Test("Normalized addresses: trimmed and lower-cased, the ASCII fast path as Foundation's")
    func normalizedAddresses() {
        for address in ["Maria@Acme.EXAMPLE", "  maria@acme.example\t", "a@b.c", "Zé@Exemplo.com.br", "JOSE@X.EXAMPLE ", ""] {
            #expect(EmailAddress.normalized(address) == address.trimmingCharacters(in: .whitespaces).lowercased(), "\(address)")
        }
    }

    @Test("Templates parsed once render as before: text, escaped HTML derived from text, and a subject kept on one line")
    func templateCache() {
        let entry = TemplateCatalog.Entry(subject: "Chamado {{code}}\u{2028}{{ subject }}", text: "Olá {{name}} & <equipe>\n\n.{{x}}\nfim",
                                          html: "")
        for _ in 0..<2 {
            let rendered = TemplateRenderer.render(entry, variables: ["code": "2026-7", "subject": "Nota \"fiscal\"", "name": "Zé", "x": "<b>'"],
                                                   code: "2026-7")
            #expect(rendered.subject == "Chamado 2026-7 Nota \"fiscal\"")
            #expect(rendered.text == "Olá Zé & <equipe>\n\n.<b>'\nfim")
            #expect(rendered.html.contains("<p>Olá Zé &amp; &lt;equipe&gt;</p><p>.&lt;b&gt;&#39;<br>fim</p>"), "\(rendered.html)")
        }
    }

    @Test("a TicketFinished without survey_url (cancelled, or its survey answered before) has no survey line, built-in (pt-BR, en) or administrator's template; with one it is there")
    func surveyLineOnlyWithALink() throws {
        var finished = WorkflowV1.TicketFinished()
        var ticket = WorkflowV1.TicketSummary()
        ticket.code = "2026-000124"
        finished.ticket = ticket
        finished.outcome = "cancelada_cliente"
        finished.publicNote = "Cancelada a pedido."
        let facts = EventInterpreter.facts(finished, EventsV1.EventEnvelope())
        #expect(facts.variables["survey_url"] == "", "the webhook's field stays, empty")
        for catalog in [TemplateCatalog.portuguese, TemplateCatalog.english] {
            let rendered = TemplateRenderer.render(try #require(catalog["TicketFinished"]), variables: facts.variables, code: "2026-000124")
            #expect(rendered.text.hasSuffix("Cancelada a pedido."), "\(rendered.text)")
            #expect(!rendered.text.contains("Avalie") && !rendered.text.contains("Rate") && !rendered.html.contains("Avalie") && !rendered.html.contains("Rate"))
        }
        // An administrator's template: the lines naming it go (with the blank line before), the rest stays.
        let custom = TemplateCatalog.Entry(subject: "Encerrada {{code}}", text: "Encerrada.\n\n  Sua opinião: {{ survey_url }}\nObrigado.",
                                           html: "<p>Encerrada.</p>\n<p><a href=\"{{survey_url}}\">Avalie</a></p>\n<p>Obrigado.</p>")
        let without = TemplateRenderer.render(custom, variables: facts.variables, code: "2026-000124")
        #expect(without.text == "Encerrada.\nObrigado." && without.html == "<p>Encerrada.</p>\n<p>Obrigado.</p>", "\(without)")
        finished.surveyURL = "https://suporte.example/pesquisa/abc"
        let linked = EventInterpreter.facts(finished, EventsV1.EventEnvelope()).variables
        #expect(TemplateRenderer.render(custom, variables: linked, code: "2026-000124").text == "Encerrada.\n\n  Sua opinião: https://suporte.example/pesquisa/abc\nObrigado.")
        #expect(TemplateRenderer.render(try #require(TemplateCatalog.portuguese["TicketFinished"]), variables: linked, code: "2026-000124")
                .text.hasSuffix("Cancelada a pedido.\n\nAvalie o atendimento: https://suporte.example/pesquisa/abc"))
    }

    @Test("Backoff grows exponentially with jitter and is capped")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 5, baseMilliseconds: 100, maxMilliseconds: 1_000)
        for _ in 0..<50 {
            #expect((50...100).contains(policy.delayMilliseconds(afterAttempts: 1)))
            #expect((200...400).contains(policy.delayMilliseconds(afterAttempts: 3)))
            #expect((500...1_000).contains(policy.delayMilliseconds(afterAttempts: 40)))
        }
    }

    @Test("The default retries outlast a 15-minute relay outage (were over after 1–2 minutes), reaching the 5-minute cap")
    func defaultRetryHorizon() throws {
        let policy = RetryPolicy()
        // The shortest the retries can take (each delay at least half its ceiling), and the longest.
        let shortest = (1..<policy.maxAttempts).reduce(0) { $0 + policy.ceilingMilliseconds(afterAttempts: $1) / 2 }
        let longest = (1..<policy.maxAttempts).reduce(0) { $0 + policy.ceilingMilliseconds(afterAttempts: $1) }
        #expect(shortest >= 15 * 60_000, "\(shortest) ms")
        #expect(longest <= 45 * 60_000, "\(longest) ms")
        #expect(policy.ceilingMilliseconds(afterAttempts: policy.maxAttempts - 1) == policy.maxMilliseconds)
        #expect(try NotificationSettings(environment: [:]).retry.maxAttempts == policy.maxAttempts)
    }

    @Test("A relay has RFC 5321's 10 minutes to answer a message by default (was 30 s, then sent again)")
    func defaultSendTimeout() throws {
        #expect(NotificationSettings().sendTimeoutMilliseconds == 600_000)
        #expect(try NotificationSettings(environment: [:]).sendTimeoutMilliseconds == 600_000)
        #expect(try NotificationSettings(environment: ["NOTIFICATION_SEND_TIMEOUT_MS": "30000"]).sendTimeoutMilliseconds == 30_000)
    }

    @Test("Delivery ids and Message-IDs are deterministic per (event, recipient, channel)")
    func identities() {
        let a = MessageIdentity.deliveryID(eventID: "e1", recipient: "x@y.example", channel: "email")
        #expect(a == MessageIdentity.deliveryID(eventID: "e1", recipient: "x@y.example", channel: "email"))
        #expect(a != MessageIdentity.deliveryID(eventID: "e1", recipient: "x@y.example", channel: "webhook"))
        #expect(a != MessageIdentity.deliveryID(eventID: "e2", recipient: "x@y.example", channel: "email"))
        // With the event's time: still 32 lower-case hex (what bounces look for), the time first,
        // so later events sort after earlier ones; the same event gives the same id.
        let t1 = MessageIdentity.deliveryID(eventID: "e1", recipient: "x@y.example", channel: "email", occurredAtMs: 1_795_000_000_000)
        let t2 = MessageIdentity.deliveryID(eventID: "e0", recipient: "x@y.example", channel: "email", occurredAtMs: 1_795_000_000_001)
        #expect(t1.count == 32 && t1.allSatisfy { $0.isHexDigit && !$0.isUppercase } && t1 < t2)
        #expect(t1 == MessageIdentity.deliveryID(eventID: "e1", recipient: "x@y.example", channel: "email", occurredAtMs: 1_795_000_000_000))
        #expect(t1.hasSuffix(String(a.prefix(21))) && t1.hasPrefix(String(1_795_000_000_000, radix: 16).leftPadded(11)))
        #expect(DeliveryStatusReport.deliveryID(inMessageID: "n.\(t1).tok@suporte.example") == t1)
        #expect(MessageIdentity.deliveryID(eventID: "e1", recipient: "x@y.example", channel: "email", occurredAtMs: 0) == a)
        #expect(a.count == 32)
    }

    @Test("Event ids of the recorder's EmailSent events: UUID form (version 7), all different, readable by Foundation, in time order")
    func eventIDs() {
        let now = Date()
        let ids = EventIDs.make(1_000, now: now)
        #expect(ids.count == 1_000)
        #expect(Set(ids).count == 1_000)
        for id in ids {
            let uuid = UUID(uuidString: id)
            #expect(uuid?.uuidString == id)
            let characters = Array(id)
            #expect(characters.count == 36 && characters[14] == "7" && "89AB".contains(characters[19]))
            // The first 48 bits are the time in milliseconds.
            let hex = String(characters[0..<8]) + String(characters[9..<13])
            #expect(UInt64(hex, radix: 16) == UInt64(now.timeIntervalSince1970 * 1000))
        }
        // Increasing within a batch, and after an earlier batch's.
        #expect(ids == ids.sorted())
        let later = EventIDs.make(3, now: now.addingTimeInterval(0.002))
        #expect(later.allSatisfy { $0 > ids.last! })
        #expect(EventIDs.make(0).isEmpty)
    }

    @Test("Templates escape substituted values in HTML, never in text; unknown names are empty")
    func templates() {
        let entry = TemplateCatalog.Entry(subject: "Hi {{name}}", text: "A {{x}} & {{missing}}.")
        let rendered = TemplateRenderer.render(entry, variables: ["name": "Zé\r\nBcc: a@b", "x": "<b>"], code: "2026-1")
        #expect(rendered.subject == "[2026-1] Hi Zé Bcc: a@b")
        #expect(rendered.text == "A <b> & .")
        #expect(rendered.html.contains("A &lt;b&gt; &amp; ."))
    }

    @Test("Outcomes read as words in the customer's language, worded as the portal's ticket pages word them (GatewayTests' OutcomeLabelsTests pins the portal to the same)")
    func outcomes() {
        let expected: [String: (String, String)] = [
            "resolvida": ("resolvida", "resolved"),
            "resolvida_configuracao": ("resolvida por configuração", "solved by configuration"),
            "negada": ("negada", "denied"),
            "cancelada_cliente": ("cancelada pelo cliente", "cancelled by the customer"),
            "nao_necessita_atuacao": ("sem necessidade de atuação", "no action needed"),
            "inatividade": ("sem retorno do cliente", "no answer from the customer"),
        ]
        #expect(Set(expected.keys) == Set(TicketOutcome.keys))
        for (key, words) in expected {
            #expect(EventInterpreter.outcome(key, locale: "pt-BR") == words.0, "\(key)")
            #expect(EventInterpreter.outcome(key, locale: "en-US") == words.1, "\(key)")
        }
        #expect(EventInterpreter.outcome("outra", locale: "pt-BR") == "outra")
    }

    @Test("An English e-mail names a shipped stage and an SLA target in English, a Portuguese one in Portuguese (the English e-mail said \"moved to Aguardando sua resposta\" and both said \"primeira resposta / first response\"); a stage of a flow configured here as workflow names it")
    func stageAndTargetInTheReadersLanguage() throws {
        func render(_ facts: EventFacts) throws -> RenderedMessage {
            let catalog = TemplateCatalog.locale(facts.locale) == "en" ? TemplateCatalog.english : TemplateCatalog.portuguese
            return TemplateRenderer.render(try #require(catalog[facts.kind]), variables: facts.variables, code: "2026-000123")
        }
        var ticket = WorkflowV1.TicketSummary()
        ticket.code = "2026-000123"
        ticket.stageName = "Aguardando cliente"
        ticket.customerStageName = "Aguardando sua resposta"
        var moved = WorkflowV1.StageChanged()
        ticket.locale = "en-US"
        moved.ticket = ticket
        #expect(try render(EventInterpreter.facts(moved, EventsV1.EventEnvelope())).text.hasPrefix("Ticket 2026-000123 moved to Awaiting your answer."))
        ticket.locale = "pt-BR"
        moved.ticket = ticket
        #expect(try render(EventInterpreter.facts(moved, EventsV1.EventEnvelope())).text.hasPrefix("A ocorrência 2026-000123 passou para Aguardando sua resposta."))
        ticket.locale = "en"
        ticket.customerStageName = ""
        ticket.stageName = "Triagem fiscal"
        moved.ticket = ticket
        #expect(EventInterpreter.facts(moved, EventsV1.EventEnvelope()).variables["stage_name"] == "Triagem fiscal")

        var warning = WorkflowV1.SLAWarning()
        warning.target = .firstResponse
        warning.ticket = ticket
        let english = try render(EventInterpreter.facts(warning, EventsV1.EventEnvelope()))
        #expect(english.subject == "[2026-000123] SLA warning: first response", "\(english.subject)")
        ticket.locale = "pt-BR"
        warning.ticket = ticket
        warning.target = .resolution
        #expect(EventInterpreter.facts(warning, EventsV1.EventEnvelope()).variables["target"] == "solução")
        var breached = WorkflowV1.SLABreached()
        breached.target = .nextResponse
        breached.ticket = ticket
        #expect(EventInterpreter.facts(breached, EventsV1.EventEnvelope()).variables["target"] == "próxima resposta")
    }

    @Test("Every built-in kind has pt-BR and en templates")
    func catalog() {
        #expect(Set(TemplateCatalog.portuguese.keys) == Set(TemplateCatalog.english.keys))
        for kind in NotificationRules.defaults.audiences.keys { #expect(TemplateCatalog.portuguese[kind] != nil, "\(kind)") }
    }
}

@Suite("Notification: configuration")
struct ConfigurationTests {
    @Test("Settings come from NOTIFICATION_* variables; malformed numbers are refused at start-up")
    func settings() throws {
        let settings = try NotificationSettings(environment: [
            "NOTIFICATION_SMTP_URL": "smtps://relay.example:465", "NOTIFICATION_SMTP_USER": "u", "NOTIFICATION_SMTP_PASSWORD": "p",
            "NOTIFICATION_MAX_ATTEMPTS": "3", "NOTIFICATION_BACKOFF_BASE_MS": "10", "NOTIFICATION_LANE_CONCURRENCY": "4",
            "NOTIFICATION_SMTP_STARTTLS": "true", "NOTIFICATION_MAIL_DOMAIN": "suporte.example", "NOTIFICATION_GATHER_MS": "5",
        ])
        #expect(settings.smtpURL == "smtps://relay.example:465")
        #expect(settings.smtpStartTLS)
        #expect(settings.retry.maxAttempts == 3)
        #expect(settings.retry.baseMilliseconds == 10)
        #expect(settings.laneConcurrency == 4)
        #expect(settings.mailDomain == "suporte.example")
        #expect(settings.gatherMilliseconds == 5)
        #expect(try NotificationSettings(environment: [:]).gatherMilliseconds == 0)
        #expect(throws: NotificationConfigurationError.self) {
            _ = try NotificationSettings(environment: ["NOTIFICATION_MAX_ATTEMPTS": "zero"])
        }
        #expect(throws: NotificationConfigurationError.self) {
            _ = try NotificationSettings(environment: ["NOTIFICATION_GATHER_MS": "-1"])
        }
        // A mistyped switch is refused too, instead of reading as "off" (no STARTTLS required).
        #expect(throws: ConfigurationError.self) {
            _ = try NotificationSettings(environment: ["NOTIFICATION_SMTP_STARTTLS": "ture"])
        }
        #expect(try NotificationSettings(environment: ["NOTIFICATION_SMTP_STARTTLS": "ON"]).smtpStartTLS)
        // Links in e-mails go to the portal (the gateway's HTTP port), not to its RPC port.
        #expect(try NotificationSettings(environment: [:]).portalURL == "http://127.0.0.1:8080")
        // Dates in e-mails: São Paulo unless set; an unknown zone stops the start.
        #expect(try NotificationSettings(environment: [:]).timeZone.identifier == "America/Sao_Paulo")
        #expect(try NotificationSettings(environment: ["NOTIFICATION_TIME_ZONE": "America/Manaus"]).timeZone.identifier == "America/Manaus")
        #expect(throws: NotificationConfigurationError.self) {
            _ = try NotificationSettings(environment: ["NOTIFICATION_TIME_ZONE": "Marte/Olimpo"])
        }
    }

    @Test("Dates in e-mails are the deployment's local time, named, in the reader's language (they were UTC)")
    func localDates() throws {
        let zone = try #require(TimeZone(identifier: "America/Sao_Paulo"))
        // 2026-12-08 11:55 UTC is 08:55 in São Paulo.
        let instant: Int64 = 1_796_730_900_000
        #expect(EventInterpreter.localDate(instant, zone: zone, locale: "pt-BR") == "08/12/2026 08:55 (Horário Padrão de Brasília)")
        #expect(EventInterpreter.localDate(instant, zone: zone, locale: "en") == "2026-12-08 08:55 (Brasilia Standard Time)")
        #expect(EventInterpreter.localDate(0, zone: zone, locale: "pt-BR") == "")
        #expect(EventInterpreter.date(instant) == "2026-12-08 11:55 UTC", "webhooks keep UTC")
    }

    @Test("A rules file overrides the kinds it names and keeps the other defaults")
    func rulesFile() throws {
        let directory = try TemporaryDirectory(prefix: "rules")
        let path = directory.file("rules.json")
        try Data(#"{"audiences": {"DiscussionAdded": ["customer"], "TicketOpened": []}, "groupAddresses": {"grp-fiscal": "fiscal@suporte.example"}}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let rules = try NotificationRules.load(path: path)
        #expect(rules.audiences(of: "DiscussionAdded") == [.customer])
        #expect(rules.audiences(of: "TicketOpened").isEmpty)
        #expect(rules.audiences(of: "SLABreached") == [.holder, .chefe])
        #expect(rules.groupAddresses["grp-fiscal"] == "fiscal@suporte.example")
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: NotificationConfigurationError.self) { _ = try NotificationRules.load(path: path) }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
