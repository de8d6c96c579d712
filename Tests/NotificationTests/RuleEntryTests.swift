import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Several audience rules per event kind (each with its audiences, fixed addresses and ticket
/// filter), combined as a union of recipients; the rules file's `rules`; stored rules carried
/// over by migration 12.
@Suite("Notification: several audience rules per kind, fixed addresses, the file's rules and migrated rules", .serialized)
struct RuleEntryTests {
    static func entry(_ audiences: [String] = [], addresses: [String] = [], filter: NotificationV1.TicketFilter? = nil,
                      id: String = "") -> NotificationV1.AudienceRuleEntry {
        var entry = NotificationV1.AudienceRuleEntry()
        entry.id = id
        entry.audiences = audiences
        entry.addresses = addresses
        entry.filter = filter
        return entry
    }

    static func add(_ harness: NotificationHarness, _ kind: String, _ entry: NotificationV1.AudienceRuleEntry) throws -> NotificationV1.AddRuleEntryResponse {
        var request = NotificationV1.AddRuleEntryRequest()
        request.eventKind = kind
        request.entry = entry
        return try harness.client.call(NotificationV1.Notification.addRuleEntry, request, options: harness.options(NotificationHarness.administrator()))
    }

    static func update(_ harness: NotificationHarness, _ kind: String, _ entry: NotificationV1.AudienceRuleEntry) throws -> NotificationV1.AudienceRule? {
        var request = NotificationV1.UpdateRuleEntryRequest()
        request.eventKind = kind
        request.entry = entry
        return try harness.client.call(NotificationV1.Notification.updateRuleEntry, request,
                                       options: harness.options(NotificationHarness.administrator())).rule
    }

    static func remove(_ harness: NotificationHarness, _ kind: String, id: String) throws -> NotificationV1.AudienceRule? {
        var request = NotificationV1.RemoveRuleEntryRequest()
        request.eventKind = kind
        request.id = id
        return try harness.client.call(NotificationV1.Notification.removeRuleEntry, request,
                                       options: harness.options(NotificationHarness.administrator())).rule
    }

    static func listed(_ harness: NotificationHarness, _ kind: String) throws -> NotificationV1.AudienceRule? {
        try TicketFilterTests.rules(harness).rules.first { $0.eventKind == kind }
    }

    /// A solution given on a ticket held by Ana (chefe: chefe@), contact José, with these attributes.
    static func solution(_ ticketID: String, code: String, priority: CommonV1.Priority = .normal, category: CommonV1.Category = .problema,
                         accessLevel: Int32 = 0) -> EventsV1.EventEnvelope {
        var summary = Events.summary(ticketID: ticketID, code: code, accessLevel: accessLevel)
        summary.priority = priority
        summary.category = category
        var event = WorkflowV1.SolutionGiven()
        event.ticket = summary
        event.text = "Reemita a nota com o CFOP 5102."
        return Events.envelope(event, key: ticketID, accessLevel: accessLevel)
    }

    /// Who received the e-mails whose subject names `code` (one entry per e-mail and recipient).
    static func mailed(_ directory: TemporaryDirectory, code: String) throws -> [String] {
        try ReceivedMail.all(in: directory.path).filter { ($0.headers["Subject"] ?? "").contains(code) }.flatMap(\.envelope.to).sorted()
    }

    @Test("The customer always, the chefe too for Urgente: the chefe is mailed only about Urgente tickets, the customer about every one and once when two rules name them; a fixed-address rule reaches its address (suppressions still apply)",
          arguments: TestEngines.all)
    func customerAlwaysChefeForUrgent(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        defer { sink.stop() }
        // SolutionGiven's default: the customer. Adding a rule keeps it (the kind takes the defaults as its own first).
        let chefe = try Self.add(harness, "SolutionGiven", Self.entry(["chefe", "customer"], filter: TicketFilterTests.filter(priorities: [.urgente])))
        #expect(chefe.rule?.customized == true && chefe.rule?.entries.map(\.audiences) == [["customer"], ["chefe", "customer"]],
                "\(String(describing: chefe.rule))")
        #expect(chefe.rule?.entries.allSatisfy { $0.id.hasPrefix("rule-") } == true && chefe.entry?.id == chefe.rule?.entries.last?.id)
        #expect(chefe.rule?.entries.first?.filter == nil && chefe.rule?.filter == nil, "several rules: each its filter, none on the kind")
        #expect(chefe.rule?.audiences == ["customer", "chefe"] && chefe.rule?.defaultEntries.map(\.audiences) == [["customer"]])
        let fiscal = try Self.add(harness, "SolutionGiven", Self.entry(addresses: [" Fiscal@Suporte.example ", "fiscal@suporte.example"],
                                                                       filter: TicketFilterTests.filter(categories: [.exigenciaFiscal])))
        #expect(fiscal.entry?.addresses == ["Fiscal@Suporte.example"], "trimmed, once ignoring case: \(String(describing: fiscal.entry))")

        var expected = 0
        func deliver(_ envelope: EventsV1.EventEnvelope, mails: Int) throws {
            #expect(try harness.deliver([envelope]).accepted == 1)
            expected += mails
            #expect(waitFor(20) { sink.files("eml").count >= expected }, "\(sink.files("eml").count) of \(expected) e-mails")
        }
        try deliver(Self.solution("t-normal", code: "2026-000801"), mails: 1)
        try deliver(Self.solution("t-urgent", code: "2026-000802", priority: .urgente), mails: 2)
        try deliver(Self.solution("t-fiscal", code: "2026-000803", category: .exigenciaFiscal), mails: 2)
        #expect(try Self.mailed(mailDirectory, code: "2026-000801") == ["jose@cliente.example"])
        #expect(try Self.mailed(mailDirectory, code: "2026-000802") == ["chefe@suporte.example", "jose@cliente.example"],
                "José is named by two rules and gets one e-mail")
        #expect(try Self.mailed(mailDirectory, code: "2026-000803") == ["Fiscal@Suporte.example", "jose@cliente.example"])
        #expect(try harness.deliveries(ticketID: "t-urgent").map(\.recipient).sorted() == ["chefe@suporte.example", "jose@cliente.example"])

        // The fixed address reads like a transfer's copy: level 0, so a confidential ticket's text is hidden from it.
        try deliver(Self.solution("t-secret", code: "2026-000804", category: .exigenciaFiscal, accessLevel: 2), mails: 2)
        let secret = try ReceivedMail.all(in: mailDirectory.path).filter { ($0.headers["Subject"] ?? "").contains("2026-000804") }
        let toFiscal = try #require(secret.first { $0.envelope.to == ["Fiscal@Suporte.example"] })
        let toCustomer = try #require(secret.first { $0.envelope.to == ["jose@cliente.example"] })
        #expect(!toFiscal.text.contains("CFOP 5102") && toFiscal.text.contains("conteúdo confidencial"), "\(toFiscal.text)")
        #expect(toCustomer.text.contains("CFOP 5102"))

        // Suppressed: the rule's address gets a failed row, no e-mail.
        var suppression = NotificationV1.AddSuppressionRequest()
        suppression.address = "fiscal@suporte.example"
        _ = try harness.client.call(NotificationV1.Notification.addSuppression, suppression, options: harness.options(NotificationHarness.administrator()))
        try deliver(Self.solution("t-fiscal-2", code: "2026-000805", category: .exigenciaFiscal), mails: 1)
        let rows = try harness.deliveries(ticketID: "t-fiscal-2")
        #expect(rows.first { $0.recipient == "fiscal@suporte.example" }?.state == "failed", "\(rows)")
        #expect(try Self.mailed(mailDirectory, code: "2026-000805") == ["jose@cliente.example"])
    }

    @Test("A rule edited and removed by id; the kind's last rule removed mails nobody until a reset brings the defaults back; an unknown id is NOT_FOUND; every edit is recorded",
          arguments: TestEngines.all)
    func editAndRemoveRules(engine: DatabaseEngine) throws {
        // No relay: the rows planned are what is checked.
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        let added = try Self.add(harness, "SLABreached", Self.entry(addresses: ["diretoria@suporte.example"],
                                                                    filter: TicketFilterTests.filter(priorities: [.urgente])))
        let id = try #require(added.entry?.id)
        let inherited = try #require(added.rule?.entries.first?.id)
        #expect(added.rule?.entries.map(\.audiences) == [["holder", "chefe"], []])
        func rows(_ ticketID: String) throws -> [String] { try harness.deliveries(ticketID: ticketID).map(\.recipient).sorted() }

        #expect(try harness.deliver([TicketFilterTests.breach("t-1", code: "2026-000811", priority: .alta)]).accepted == 1)
        #expect(try rows("t-1") == ["ana@suporte.example", "chefe@suporte.example"])
        // Edited: Alta too.
        let edited = try Self.update(harness, "SLABreached", Self.entry(addresses: ["diretoria@suporte.example"],
                                                                      filter: TicketFilterTests.filter(priorities: [.urgente, .alta]), id: id))
        #expect(edited?.entries.last?.filter?.priorities == [.urgente, .alta] && edited?.entries.last?.id == id)
        #expect(try harness.deliver([TicketFilterTests.breach("t-2", code: "2026-000812", priority: .alta)]).accepted == 1)
        #expect(try rows("t-2") == ["ana@suporte.example", "chefe@suporte.example", "diretoria@suporte.example"])
        // The holder-and-chefe rule removed: only the fixed address is left.
        #expect(try Self.remove(harness, "SLABreached", id: inherited)?.entries.map(\.id) == [id])
        #expect(try harness.deliver([TicketFilterTests.breach("t-3", code: "2026-000813", priority: .urgente)]).accepted == 1)
        #expect(try rows("t-3") == ["diretoria@suporte.example"])
        // The last one removed: the kind is still edited and mails nobody.
        let empty = try Self.remove(harness, "SLABreached", id: id)
        #expect(empty?.customized == true && empty?.entries.isEmpty == true && empty?.audiences.isEmpty == true)
        #expect(try harness.deliver([TicketFilterTests.breach("t-4", code: "2026-000814", priority: .urgente)]).accepted == 1)
        #expect(try rows("t-4") == [])

        let unknown = SuppressionTests.rpcError { _ = try Self.remove(harness, "SLABreached", id: id) }
        #expect(unknown?.code == .notFound, "\(String(describing: unknown))")
        let unknownUpdate = SuppressionTests.rpcError { _ = try Self.update(harness, "SLABreached", Self.entry(["holder"], id: "rule-nope")) }
        #expect(unknownUpdate?.code == .notFound, "\(String(describing: unknownUpdate))")

        var reset = NotificationV1.ResetAudienceRuleRequest()
        reset.eventKind = "SLABreached"
        let back = try harness.client.call(NotificationV1.Notification.resetAudienceRule, reset, options: harness.options(NotificationHarness.administrator())).rule
        #expect(back?.customized == false && back?.entries.map(\.audiences) == [["holder", "chefe"]] && back?.entries.first?.id == "")
        #expect(try harness.deliver([TicketFilterTests.breach("t-5", code: "2026-000815", priority: .normal)]).accepted == 1)
        #expect(try rows("t-5") == ["ana@suporte.example", "chefe@suporte.example"])

        let actions = try TicketFilterTests.rules(harness).recentChanges.map(\.action)
        #expect(actions == ["reset", "rule_removed", "rule_removed", "rule_updated", "rule_added"], "\(actions)")
        let values = try TicketFilterTests.rules(harness).recentChanges.map(\.value)
        #expect(values.last == "\(id): diretoria@suporte.example [priorities=URGENTE]", "\(values)")
    }

    @Test("A bad address, an unknown kind or audience, a rule naming nobody, a missing id: INVALID_ARGUMENT naming the field and the reason (pt-BR, then English); nothing stored or recorded",
          arguments: TestEngines.all)
    func invalidRules(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        func refusal(_ call: () throws -> Void) -> (code: RPCStatusCode?, field: String?, reason: String?, message: String) {
            let error = SuppressionTests.rpcError(call)
            return (error?.code, error?.violations.first?.field, error?.violations.first?.reason, error?.message ?? "")
        }
        let address = refusal { _ = try Self.add(harness, "TicketOpened", Self.entry(["customer"], addresses: ["fiscal@suporte.example", "fiscal@"])) }
        #expect(address.code == .invalidArgument && address.field == "entry.addresses[1]" && address.reason == "invalid", "\(address)")
        #expect(address.message.hasPrefix("Endereço de e-mail inválido: fiscal@") && address.message.contains("Invalid e-mail address"))
        let injected = refusal { _ = try Self.add(harness, "TicketOpened", Self.entry(addresses: ["a@b.example>\r\nBcc: x@y.example"])) }
        #expect(injected.field == "entry.addresses[0]", "\(injected)")
        let accented = refusal { _ = try Self.add(harness, "TicketOpened", Self.entry(addresses: ["zé@cliente.example"])) }
        #expect(accented.field == "entry.addresses[0]", "ASCII only, as the relay gets it: \(accented)")
        let kind = refusal { _ = try Self.add(harness, "TicketExploded", Self.entry(["customer"])) }
        #expect(kind.code == .invalidArgument && kind.field == "event_kind" && kind.message.contains("Unknown event kind"), "\(kind)")
        let nobody = refusal { _ = try Self.add(harness, "TicketOpened", Self.entry(filter: TicketFilterTests.filter(priorities: [.urgente]))) }
        #expect(nobody.code == .invalidArgument && nobody.field == "entry.audiences" && nobody.reason == "required", "\(nobody)")
        #expect(nobody.message.hasPrefix("Informe ao menos um público ou endereço") && nobody.message.contains("At least one audience or address"))
        let audience = refusal { _ = try Self.add(harness, "TicketOpened", Self.entry(["customer", "diretoria"])) }
        #expect(audience.field == "entry.audiences[1]" && audience.message.contains("Unknown audience: diretoria"), "\(audience)")
        let filter = refusal { _ = try Self.add(harness, "TicketOpened", Self.entry(["customer"], filter: TicketFilterTests.filter(products: [""]))) }
        #expect(filter.field == "entry.filter.products[0]", "\(filter)")
        let noID = refusal { _ = try Self.update(harness, "TicketOpened", Self.entry(["customer"])) }
        #expect(noID.code == .invalidArgument && noID.field == "entry.id" && noID.reason == "required", "\(noID)")
        let putAddress = refusal {
            var request = NotificationV1.PutAudienceRuleRequest()
            request.eventKind = "TicketOpened"
            request.addresses = ["not-an-address"]
            _ = try harness.client.call(NotificationV1.Notification.putAudienceRule, request, options: harness.options(NotificationHarness.administrator()))
        }
        #expect(putAddress.field == "addresses[0]", "\(putAddress)")

        let counts = try harness.database.read { tx in
            try ["notification_audience_rules", "notification_audience_rule_entries", "notification_rule_changes"].map { table in
                try tx.scalar("SELECT COUNT(*) FROM \(table)", [])
            }
        }
        #expect(counts == [.integer(0), .integer(0), .integer(0)], "\(counts)")
    }

    @Test("Rules stored before migration 12 (one per kind: filtered, unfiltered, written before filters existed, nobody) are carried over unchanged and plan as before; migration 13 then drops the kinds' old columns",
          arguments: TestEngines.all)
    func storedRulesCarriedOver(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1), stored: (11, { tx in
            for (kind, audiences, filter) in [("SLABreached", "holder,chefe", "priorities=URGENTE"), ("StageChanged", "holder", ""),
                                              ("TicketOpened", "", "")] {
                try tx.execute("""
                    INSERT INTO notification_audience_rules (event_kind, audiences, updated_by, updated_at, ticket_filter) VALUES (?, ?, ?, ?, ?)
                    """, [.text(kind), .text(audiences), .text("old@suporte.example"), .integer(1_700_000_000_000), .text(filter)])
            }
        }))
        let breach = try #require(try Self.listed(harness, "SLABreached"))
        #expect(breach.customized && breach.updatedBy == "old@suporte.example" && breach.entries.count == 1, "\(breach)")
        #expect(breach.entries.first?.audiences == ["holder", "chefe"] && breach.filter?.priorities == [.urgente] && breach.audiences == ["holder", "chefe"])
        #expect(try Self.listed(harness, "StageChanged").map { $0.customized && $0.audiences == ["holder"] && $0.filter == nil } == true)
        #expect(try Self.listed(harness, "TicketOpened").map { $0.customized && $0.entries.isEmpty && $0.audiences.isEmpty } == true)

        func rows(_ ticketID: String) throws -> [String] { try harness.deliveries(ticketID: ticketID).map(\.recipient).sorted() }
        #expect(try harness.deliver([TicketFilterTests.breach("t-urgent", code: "2026-000821", priority: .urgente),
                                     TicketFilterTests.breach("t-normal", code: "2026-000822", priority: .normal),
                                     TicketFilterTests.stageChanged("t-stage", code: "2026-000823", priority: .baixa),
                                     Events.envelope(Events.opened(ticketID: "t-opened", code: "2026-000824"), key: "t-opened")]).accepted == 4)
        #expect(try rows("t-urgent") == ["ana@suporte.example", "chefe@suporte.example"])
        #expect(try rows("t-normal") == [])
        #expect(try rows("t-stage") == ["ana@suporte.example"])
        #expect(try rows("t-opened") == [], "a kind stored with no audiences still mails nobody")
        // Adding a rule to a migrated kind keeps its migrated rule.
        let added = try Self.add(harness, "SLABreached", Self.entry(["customer"], filter: TicketFilterTests.filter(priorities: [.normal])))
        let addedID = try #require(added.entry?.id)
        #expect(added.rule?.entries.map(\.id) == ["rule-SLABreached", addedID])
        // Migration 13 dropped the kinds' old columns, which migration 12 read: only who edited, when.
        for column in ["audiences", "ticket_filter"] {
            #expect(throws: (any Error).self, "\(column) dropped") {
                try harness.database.read { try $0.query("SELECT \(column) FROM notification_audience_rules", []) }
            }
        }
        let kinds = try harness.database.read { tx in
            try tx.query("SELECT event_kind, updated_by FROM notification_audience_rules ORDER BY event_kind", []).map { try $0.text("event_kind") }
        }
        #expect(kinds == ["SLABreached", "StageChanged", "TicketOpened"])
    }

    @Test("NOTIFICATION_RULES_FILE: the old form reads as before; `rules` gives a kind several rules with filters and fixed addresses, planned as a union; mistakes stop start-up naming the field",
          arguments: TestEngines.all)
    func rulesFile(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory(prefix: "rules-file")
        func load(_ json: String) throws -> NotificationRules {
            let path = "\(directory.path)/rules-\(UUID().uuidString).json"
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return try NotificationRules.load(path: path)
        }
        // The original form, as files hold it today.
        let old = try load(#"{"audiences": {"StageChanged": ["holder"], "TicketOpened": []}, "groupAddresses": {"grp-fiscal": "fiscal@suporte.example"}}"#)
        #expect(old.rules(of: "StageChanged") == [NotificationRules.Rule(audiences: [.holder])] && old.rules(of: "TicketOpened") == [NotificationRules.Rule(audiences: [])])
        #expect(old.rules(of: "SLABreached") == [NotificationRules.Rule(audiences: [.holder, .chefe])] && old.groupAddresses == ["grp-fiscal": "fiscal@suporte.example"])

        let rules = try load(#"""
            {"audiences": {"StageChanged": ["holder"]},
             "rules": {"SolutionGiven": [{"audiences": ["customer"]},
                                         {"audiences": ["chefe", "customer"], "filter": {"priorities": ["URGENTE"]}},
                                         {"addresses": ["fiscal@suporte.example"], "filter": {"categories": ["EXIGENCIA_FISCAL"], "products": ["ERP"]}}]}}
            """#)
        #expect(rules.rules(of: "SolutionGiven").count == 3 && rules.rules(of: "SolutionGiven")[2].filter.products == ["ERP"])
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1), rules: rules)
        func rows(_ ticketID: String) throws -> [String] { try harness.deliveries(ticketID: ticketID).map(\.recipient).sorted() }
        var fiscal = Self.solution("t-fiscal", code: "2026-000832", priority: .urgente, category: .exigenciaFiscal)
        var payload = try WorkflowV1.SolutionGiven(serializedBytes: fiscal.payload)
        payload.ticket?.product = "erp"
        fiscal.payload = payload.serializedBytes()
        #expect(try harness.deliver([Self.solution("t-normal", code: "2026-000831"), fiscal,
                                     TicketFilterTests.stageChanged("t-stage", code: "2026-000833", priority: .baixa)]).accepted == 3)
        #expect(try rows("t-normal") == ["jose@cliente.example"])
        #expect(try rows("t-fiscal") == ["chefe@suporte.example", "fiscal@suporte.example", "jose@cliente.example"])
        #expect(try rows("t-stage") == ["ana@suporte.example"])
        let listed = try #require(try Self.listed(harness, "SolutionGiven"))
        #expect(!listed.customized && listed.entries.count == 3 && listed.defaultEntries.count == 3 && listed.entries[2].addresses == ["fiscal@suporte.example"])

        func refusal(_ json: String) -> String {
            do {
                _ = try load(json)
                Issue.record("accepted: \(json)")
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(#"{"rules": {"SLAWarning": [{"addresses": ["chefe@"]}]}}"#).contains("rules.SLAWarning[0].addresses[0]"))
        #expect(refusal(#"{"rules": {"SLAWarning": [{"audiences": ["holder"]}, {"filter": {"priorities": ["URGENTE"]}}]}}"#)
                .contains("rules.SLAWarning[1].audiences"))
        #expect(refusal(#"{"rules": {"SLAWarning": [{"audiences": ["chefe"], "filter": {"priorities": ["SUPERURGENTE"]}}]}}"#)
                .contains("rules.SLAWarning[0].filter.priorities[0]"))
        #expect(refusal(#"{"audiences": {"SLAWarning": ["holder"]}, "rules": {"SLAWarning": [{"audiences": ["chefe"]}]}}"#)
                .contains("SLAWarning"))
    }

    @Test("A fixed address on transfers reads the copies' e-mail without the internal note, even when it is the holder's own address too it is mailed once, as the holder",
          arguments: TestEngines.all)
    func fixedAddressOnTransfers(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        defer { sink.stop() }
        _ = try Self.add(harness, "Transferred", Self.entry(addresses: ["auditoria@suporte.example", "BRUNO@suporte.example"]))
        #expect(try harness.deliver([TransferCopiesTests.transfer("t-transfer", code: "2026-000841", level: 0, copies: [], agents: [])]).accepted == 1)
        #expect(waitFor(20) { sink.files("eml").count >= 2 }, "\(sink.files("eml").count) e-mails")
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.flatMap(\.envelope.to).sorted() == ["auditoria@suporte.example", "bruno@suporte.example"], "one e-mail to Bruno: \(mails.map(\.envelope.to))")
        let audit = try #require(mails.first { $0.envelope.to == ["auditoria@suporte.example"] })
        let holder = try #require(mails.first { $0.envelope.to == ["bruno@suporte.example"] })
        #expect((audit.headers["Subject"] ?? "").contains("Cópia") && !audit.text.contains("cliente difícil"), "\(audit.headers) \(audit.text)")
        #expect(holder.text.contains("cliente difícil"), "the holder named by a rule's address too still reads the note: \(holder.text)")
    }
}
