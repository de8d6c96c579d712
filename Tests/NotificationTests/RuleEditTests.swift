import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Who hears of what, edited by administrators: stored in notification's database over the
/// rules file (or the defaults), checked before anything is stored, recorded, and applied to the
/// next event by every instance.
@Suite("Notification: rules of who hears of each event edited by administrators", .serialized)
struct RuleEditTests {
    /// The rules file of these tests: the defaults, and a mailbox for the fiscal group.
    static let fileRules: NotificationRules = {
        var rules = NotificationRules.defaults
        rules.groupAddresses = ["grp-fiscal": "fiscal@suporte.example"]
        return rules
    }()

    static func putAudiences(_ client: RPCClient, _ options: CallOptions, _ kind: String, _ audiences: [String]) throws -> NotificationV1.AudienceRule? {
        var request = NotificationV1.PutAudienceRuleRequest()
        request.eventKind = kind
        request.audiences = audiences
        return try client.call(NotificationV1.Notification.putAudienceRule, request, options: options).rule
    }

    static func reset(_ client: RPCClient, _ options: CallOptions, _ kind: String) throws -> NotificationV1.AudienceRule? {
        var request = NotificationV1.ResetAudienceRuleRequest()
        request.eventKind = kind
        return try client.call(NotificationV1.Notification.resetAudienceRule, request, options: options).rule
    }

    static func putMailbox(_ client: RPCClient, _ options: CallOptions, _ group: String, _ address: String) throws -> NotificationV1.GroupMailbox? {
        var request = NotificationV1.PutGroupMailboxRequest()
        request.groupID = group
        request.address = address
        return try client.call(NotificationV1.Notification.putGroupMailbox, request, options: options).mailbox
    }

    static func removeMailbox(_ client: RPCClient, _ options: CallOptions, _ group: String) throws -> NotificationV1.GroupMailbox? {
        var request = NotificationV1.RemoveGroupMailboxRequest()
        request.groupID = group
        return try client.call(NotificationV1.Notification.removeGroupMailbox, request, options: options).mailbox
    }

    static func rules(_ client: RPCClient, _ options: CallOptions) throws -> NotificationV1.ListRulesResponse {
        try client.call(NotificationV1.Notification.listRules, NotificationV1.ListRulesRequest(), options: options)
    }

    /// An SLA breach on a ticket held by Ana (chefe: chefe@), or by the fiscal group alone.
    static func breach(_ ticketID: String, code: String, groupOnly: Bool = false) -> EventsV1.EventEnvelope {
        var breach = WorkflowV1.SLABreached()
        var summary = Events.summary(ticketID: ticketID, code: code)
        if groupOnly {
            var group = WorkflowV1.Holder()
            group.groupID = "grp-fiscal"
            group.groupName = "Fiscal"
            summary.holder = group
        }
        breach.ticket = summary
        breach.target = .resolution
        return Events.envelope(breach, key: ticketID)
    }

    @Test("An unknown kind or audience, a missing group or an invalid address is refused naming the field, nothing stored or recorded; a non-administrator is refused; resetting what was not edited is NOT_FOUND",
          arguments: TestEngines.all)
    func refusals(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1), rules: Self.fileRules)
        let admin = harness.options(NotificationHarness.administrator())
        let client = harness.client
        func violation(_ call: () throws -> Void) -> (code: RPCStatusCode?, field: String?, message: String) {
            let error = SuppressionTests.rpcError(call)
            return (error?.code, error?.violations.first?.field, error?.message ?? "")
        }
        let unknownKind = violation { _ = try Self.putAudiences(client, admin, "TicketExploded", ["customer"]) }
        #expect(unknownKind.code == .invalidArgument && unknownKind.field == "event_kind", "\(unknownKind)")
        #expect(unknownKind.message.hasPrefix("Tipo de evento desconhecido: TicketExploded") && unknownKind.message.contains("Unknown event kind"),
                "pt-BR first, then English: \(unknownKind.message)")
        #expect(violation { _ = try Self.putAudiences(client, admin, "", ["customer"]) }.field == "event_kind")
        let unknownAudience = violation { _ = try Self.putAudiences(client, admin, "TicketOpened", ["customer", "diretoria"]) }
        #expect(unknownAudience.code == .invalidArgument && unknownAudience.field == "audiences[1]", "\(unknownAudience)")
        #expect(unknownAudience.message.hasPrefix("Público desconhecido: diretoria") && unknownAudience.message.contains("Unknown audience: diretoria"))
        #expect(violation { _ = try Self.reset(client, admin, "NoSuchKind") }.field == "event_kind")
        let badAddress = violation { _ = try Self.putMailbox(client, admin, "grp-fiscal", "fiscal@@suporte") }
        #expect(badAddress.code == .invalidArgument && badAddress.field == "address", "\(badAddress)")
        #expect(badAddress.message.hasPrefix("Endereço de e-mail inválido") && badAddress.message.contains("Invalid e-mail address"))
        #expect(violation { _ = try Self.putMailbox(client, admin, "grp-fiscal", "") }.field == "address")
        #expect(violation { _ = try Self.putMailbox(client, admin, " ", "fila@suporte.example") }.field == "group_id")
        #expect(violation { _ = try Self.removeMailbox(client, admin, "") }.field == "group_id")

        // Agents (even the chefe) do not edit the rules; nor read them.
        let agent = harness.options(NotificationHarness.agent())
        #expect(violation { _ = try Self.putAudiences(client, agent, "SLABreached", ["chefe"]) }.code == .permissionDenied)
        #expect(violation { _ = try Self.reset(client, agent, "SLABreached") }.code == .permissionDenied)
        #expect(violation { _ = try Self.putMailbox(client, agent, "grp-fiscal", "fila@suporte.example") }.code == .permissionDenied)
        #expect(violation { _ = try Self.removeMailbox(client, agent, "grp-fiscal") }.code == .permissionDenied)
        #expect(violation { _ = try Self.rules(client, agent) }.code == .permissionDenied)

        // Nothing was stored or recorded: the file's rules are what is listed.
        let counts = try harness.database.read { tx in
            try ["notification_audience_rules", "notification_group_mailboxes", "notification_rule_changes"].map { table in
                try tx.scalar("SELECT COUNT(*) FROM \(table)", [])
            }
        }
        #expect(counts == [.integer(0), .integer(0), .integer(0)], "\(counts)")
        let listed = try Self.rules(client, admin)
        #expect(listed.rules.allSatisfy { !$0.customized && $0.audiences == $0.defaultAudiences })
        #expect(listed.groupMailboxes.map { "\($0.groupID)=\($0.address)/\($0.source)" } == ["grp-fiscal=fiscal@suporte.example/file"])
        #expect(listed.recentChanges.isEmpty)

        // Resetting a kind nobody edited, or removing a mailbox a group does not have: NOT_FOUND.
        #expect(violation { _ = try Self.reset(client, admin, "SLABreached") }.code == .notFound)
        #expect(violation { _ = try Self.removeMailbox(client, admin, "grp-n1") }.code == .notFound)
        // Audiences named twice are stored once; an empty list is an edit too (nobody by e-mail).
        let twice = try Self.putAudiences(client, admin, "StageChanged", ["holder", " chefe", "holder"])
        #expect(twice?.audiences == ["holder", "chefe"] && twice?.customized == true && twice?.defaultAudiences == [], "\(String(describing: twice))")
        let nobody = try Self.putAudiences(client, admin, "TicketOpened", [])
        #expect(nobody?.audiences == [] && nobody?.customized == true && nobody?.defaultAudiences == ["customer"])
    }

    @Test("An edit changes who receives the next event's e-mail (audiences, then a group's mailbox); a reset brings the file's back; each edit is recorded with who and when",
          arguments: TestEngines.all)
    func editsApplyToTheNextEvent(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        defer { sink.stop() }
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port), rules: Self.fileRules)
        let admin = harness.options(NotificationHarness.administrator())
        var received = 0
        /// Delivers one event and returns who the sink received its e-mails for (sorted), once
        /// `expected` of them arrived.
        func recipients(of envelope: EventsV1.EventEnvelope, code: String, expected: Int) throws -> [String] {
            #expect(try harness.deliver([envelope]).accepted == 1)
            received += expected
            #expect(waitFor(20) { sink.files("eml").count >= received }, "\(code): \(sink.files("eml").count) of \(received) e-mails")
            let mails = try ReceivedMail.all(in: mailDirectory.path).filter { ($0.headers["Subject"] ?? "").contains(code) }
            return mails.flatMap(\.envelope.to).sorted()
        }

        // The file's rules: holder and chefe hear of a breach.
        #expect(try recipients(of: Self.breach("t-rule-1", code: "2026-000501"), code: "2026-000501", expected: 2)
                == ["ana@suporte.example", "chefe@suporte.example"])
        // Edited: the chefe and the customer, not the holder.
        let edited = try Self.putAudiences(harness.client, admin, "SLABreached", ["chefe", "customer"])
        #expect(edited?.customized == true && edited?.updatedBy == "admin@suporte.example" && (edited?.updatedAtMs ?? 0) > 0)
        #expect(try recipients(of: Self.breach("t-rule-2", code: "2026-000502"), code: "2026-000502", expected: 2)
                == ["chefe@suporte.example", "jose@cliente.example"])
        // Reset: the file's audiences again.
        let reset = try Self.reset(harness.client, admin, "SLABreached")
        #expect(reset?.customized == false && reset?.audiences == ["holder", "chefe"])
        #expect(try recipients(of: Self.breach("t-rule-3", code: "2026-000503"), code: "2026-000503", expected: 2)
                == ["ana@suporte.example", "chefe@suporte.example"])

        // A ticket held by the fiscal group alone: the file's mailbox, then the administrator's.
        #expect(try recipients(of: Self.breach("t-rule-4", code: "2026-000504", groupOnly: true), code: "2026-000504", expected: 1)
                == ["fiscal@suporte.example"])
        let mailbox = try Self.putMailbox(harness.client, admin, "grp-fiscal", " fila-fiscal@suporte.example ")
        #expect(mailbox?.address == "fila-fiscal@suporte.example" && mailbox?.source == "administrator")
        #expect(try recipients(of: Self.breach("t-rule-5", code: "2026-000505", groupOnly: true), code: "2026-000505", expected: 1)
                == ["fila-fiscal@suporte.example"])
        // Removed: the group has no mailbox, not even the file's; the delivery is a visible failure.
        let removed = try Self.removeMailbox(harness.client, admin, "grp-fiscal")
        #expect(removed?.address == "fila-fiscal@suporte.example")
        #expect(try harness.deliver([Self.breach("t-rule-6", code: "2026-000506", groupOnly: true)]).accepted == 1)
        let failed = try harness.deliveries(ticketID: "t-rule-6")
        #expect(failed.map(\.recipient) == ["group:grp-fiscal"] && failed.first?.state == "failed", "\(failed)")
        #expect(try Self.rules(harness.client, admin).groupMailboxes.isEmpty)
        #expect(SuppressionTests.rpcError { _ = try Self.removeMailbox(harness.client, admin, "grp-fiscal") }?.code == .notFound)
        // Set again: it applies at once.
        _ = try Self.putMailbox(harness.client, admin, "grp-fiscal", "fiscal@suporte.example")
        #expect(try recipients(of: Self.breach("t-rule-7", code: "2026-000507", groupOnly: true), code: "2026-000507", expected: 1)
                == ["fiscal@suporte.example"])

        // Every edit recorded, newest first, with who made it.
        let changes = try Self.rules(harness.client, admin).recentChanges
        #expect(changes.map { "\($0.action) \($0.subject) \($0.value)" } == [
            "mailbox grp-fiscal fiscal@suporte.example", "mailbox_removed grp-fiscal ", "mailbox grp-fiscal fila-fiscal@suporte.example",
            "reset SLABreached ", "audiences SLABreached chefe,customer",
        ], "\(changes)")
        #expect(changes.allSatisfy { $0.changedBy == "admin@suporte.example" && $0.changedAtMs > 0 })
    }

    @Test("Two instances on one database: an edit made through one applies to the next event the other handles, and both list it",
          arguments: TestEngines.all)
    func twoInstances(engine: DatabaseEngine) throws {
        let mail = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mail.path)
        defer { sink.stop() }
        let instances = try ScaleOutTests.Instances(engine: engine)
        let a = try instances.start(smtpPort: sink.port)
        let b = try instances.start(smtpPort: sink.port)
        defer { a.stop(); b.stop() }
        let clientA = instances.client(a), clientB = instances.client(b)
        defer { clientA.close(); clientB.close() }
        let admin = CallOptions(timeoutMilliseconds: 10_000,
                                metadata: PrincipalSigner(secret: instances.secret).metadata(for: NotificationHarness.administrator()))
        func deliver(_ client: RPCClient, _ envelope: EventsV1.EventEnvelope) throws {
            var request = EventsV1.DeliverEventsRequest()
            request.events = [envelope]
            #expect(try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 20_000)).accepted == 1)
        }
        func recipients(_ code: String, expected: Int) throws -> [String] {
            #expect(waitFor(20) {
                ((try? ReceivedMail.all(in: mail.path)) ?? []).filter { ($0.headers["Subject"] ?? "").contains(code) }.count >= expected
            })
            return try ReceivedMail.all(in: mail.path).filter { ($0.headers["Subject"] ?? "").contains(code) }.flatMap(\.envelope.to).sorted()
        }

        // B plans a breach with the defaults (its planning snapshot is now loaded).
        try deliver(clientB, Self.breach("t-two-1", code: "2026-000601"))
        #expect(try recipients("2026-000601", expected: 2) == ["ana@suporte.example", "chefe@suporte.example"])
        // Edited through A; the very next event B handles follows it.
        _ = try Self.putAudiences(clientA, admin, "SLABreached", ["chefe"])
        try deliver(clientB, Self.breach("t-two-2", code: "2026-000602"))
        #expect(try recipients("2026-000602", expected: 1) == ["chefe@suporte.example"])
        let listedByB = try Self.rules(clientB, admin).rules.first { $0.eventKind == "SLABreached" }
        #expect(listedByB?.customized == true && listedByB?.audiences == ["chefe"])
        // Reset through B; A's next event follows the defaults again.
        _ = try Self.reset(clientB, admin, "SLABreached")
        try deliver(clientA, Self.breach("t-two-3", code: "2026-000603"))
        #expect(try recipients("2026-000603", expected: 2) == ["ana@suporte.example", "chefe@suporte.example"])
        usleep(300_000)
        #expect(try recipients("2026-000602", expected: 1) == ["chefe@suporte.example"], "nothing more for the edited event")
    }
}
