import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Notification asks workflow whether the caller may see a ticket (``TicketAccessCheck``), and
/// follows a ticket's level from workflow's `TicketAccessLevelChanged` (``RaisedAccessLevel``).
/// Against the real workflow: `GatewayTests.ServiceTicketAccessTests`.
@Suite("Notification: who may see a ticket, and a raised level", .serialized)
struct TicketAccessTests {
    static func code(_ body: () throws -> Void) -> RPCStatusCode? {
        do { try body(); return nil } catch let error as RPCError { return error.code } catch { return .unknown }
    }

    @Test("A ticket workflow hides from the agent: SendTicketEmail and ListDeliveries by ticket are NOT_FOUND and nothing is stored; workflow is asked as the agent, not for administrators",
          arguments: TestEngines.all)
    func hiddenTicket(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        harness.workflow.hide("t-hidden", from: "agent-1")
        let agent = harness.options(NotificationHarness.agent())
        let email = TicketEmails.request("t-hidden", code: "2026-000700", subject: "Resumo", body: "Segue.")
        var byTicket = NotificationV1.ListDeliveriesRequest()
        byTicket.ticketID = "t-hidden"
        #expect(Self.code { _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, email, options: agent) } == .notFound)
        #expect(Self.code { _ = try harness.client.call(NotificationV1.Notification.listDeliveries, byTicket, options: agent) } == .notFound)
        #expect(try harness.deliveries(ticketID: "t-hidden").isEmpty)
        #expect(harness.workflow.questions == [FakeWorkflow.Question(ticketID: "t-hidden", principalID: "agent-1"),
                                               FakeWorkflow.Question(ticketID: "t-hidden", principalID: "agent-1")])
        // A ticket it shows the agent is served; administrators are not asked about.
        let shown = TicketEmails.request("t-shown", code: "2026-000701", subject: "Resumo", body: "Segue.")
        #expect(try harness.client.call(NotificationV1.Notification.sendTicketEmail, shown, options: agent).delivery?.ticketID == "t-shown")
        harness.workflow.clearQuestions()
        _ = try harness.deliveries(ticketID: "t-hidden")
        #expect(harness.workflow.questions.isEmpty)
        // Workflow unreachable: refused, never a silent yes.
        harness.workflow.server.shutdown(gracePeriodMilliseconds: 0)
        #expect(Self.code { _ = try harness.client.call(NotificationV1.Notification.listDeliveries, byTicket, options: agent) } == .unavailable)
    }

    @Test("SendTicketEmail is acting on the ticket: an agent who sees it but may not act on it (workflow's caller_may_act: not its holder, group or chefe) gets PERMISSION_DENIED and nothing is stored, nor replayed by a retry with the key; who may act, and administrators, send it",
          arguments: TestEngines.all)
    func onlyWhoMayAct(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        var options = harness.options(NotificationHarness.agent())
        options.metadata[MetadataKey.idempotencyKey] = "envio-ato"
        let email = TicketEmails.request("t-held", code: "2026-000720", subject: "Resumo", body: "Segue o que combinamos.")
        // Before 2026-12 any agent who could see the ticket could e-mail any address about it.
        harness.workflow.seeOnly("t-held", by: "agent-1")
        do {
            _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, email, options: options)
            Issue.record("sent by an agent who may not act on the ticket")
        } catch let error as RPCError {
            #expect(error.code == .permissionDenied && error.violations.first?.reason == "may_not_act", "\(error)")
            #expect(error.message.contains("apenas quem atende a ocorrência") && error.message.contains("only who works the ticket"), "\(error.message)")
        }
        #expect(try harness.deliveries(ticketID: "t-held").isEmpty)
        // An administrator is not asked about, and sends it.
        #expect(try harness.client.call(NotificationV1.Notification.sendTicketEmail, email,
                                        options: harness.options(NotificationHarness.administrator())).delivery?.ticketID == "t-held")
        // Another ticket she works: sent; once she may no longer act on it, the retry with the key is refused, nothing more stored.
        let own = TicketEmails.request("t-own", code: "2026-000721", subject: "Resumo", body: "Segue.")
        options.metadata[MetadataKey.idempotencyKey] = "envio-proprio"
        let first = try #require(try harness.client.call(NotificationV1.Notification.sendTicketEmail, own, options: options).delivery)
        #expect(first.ticketID == "t-own")
        harness.workflow.seeOnly("t-own", by: "agent-1")
        #expect(Self.code { _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, own, options: options) } == .permissionDenied)
        #expect(try harness.deliveries(ticketID: "t-own").count == 1)
    }

    @Test("SendTicketEmail retried with its idempotency key replays the first delivery only while the caller's level still reaches the e-mail's: lowered since, PERMISSION_DENIED and nothing more stored",
          arguments: TestEngines.all)
    func replayChecksTheLevel(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        var email = TicketEmails.request("t-level", code: "2026-000710", subject: "Resumo", body: "Segue.")
        email.accessLevel = 1
        func send(level: Int32) throws -> NotificationV1.SendTicketEmailResponse {
            var options = harness.options(NotificationHarness.agent(level: level))
            options.metadata[MetadataKey.idempotencyKey] = "envio-1"
            return try harness.client.call(NotificationV1.Notification.sendTicketEmail, email, options: options)
        }
        let first = try #require(try send(level: 1).delivery)
        #expect(try send(level: 1).delivery?.id == first.id)
        // The same agent signed at level 0 now: refused, as a first call of hers would be.
        #expect(Self.code { _ = try send(level: 0) } == .permissionDenied)
        #expect(try harness.deliveries(ticketID: "t-level").count == 1)
    }

    @Test("A level raised after e-mails were planned: agents below it no longer see them (by ticket or recipient); queued e-mails to other than the customer and the holder are discarded with the reason; the event twice changes nothing more",
          arguments: TestEngines.all)
    func raisedLevel(engine: DatabaseEngine) throws {
        // Nobody listens at the SMTP port: e-mails stay queued between attempts, a minute apart.
        var settings = NotificationHarness.settings(smtpPort: try FreePort.next())
        settings.retry = RetryPolicy(maxAttempts: 10, baseMilliseconds: 60_000, maxMilliseconds: 60_000)
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let ticketID = "t-raise"
        // The holder (Ana) and her chefe are told of a breach; an agent sends two e-mails.
        var breach = WorkflowV1.SLABreached()
        breach.ticket = Events.summary(ticketID: ticketID)
        breach.target = .resolution
        try harness.deliver([Events.envelope(breach, key: ticketID)])
        let agent = harness.options(NotificationHarness.agent(level: 1))
        let withCopy = TicketEmails.request(ticketID, code: "2026-000200", subject: "Resumo", body: "Segue.", copies: ["gerente@cliente.example"])
        let customerOnly = TicketEmails.request(ticketID, code: "2026-000200", subject: "Resumo 2", body: "Segue de novo.")
        let copied = try #require(try harness.client.call(NotificationV1.Notification.sendTicketEmail, withCopy, options: agent).delivery)
        let direct = try #require(try harness.client.call(NotificationV1.Notification.sendTicketEmail, customerOnly, options: agent).delivery)
        // Every row tried once and waiting for its next attempt.
        #expect(waitFor(15) {
            let rows = (try? harness.deliveries(ticketID: ticketID)) ?? []
            return rows.count == 4 && rows.allSatisfy { $0.state == "queued" && $0.attempts >= 1 }
        }, "\(((try? harness.deliveries(ticketID: ticketID)) ?? []).map { "\($0.recipient) \($0.state) \($0.attempts) \($0.serverAnswer)" })")
        let planned = try harness.deliveries(ticketID: ticketID)
        var byRecipient = NotificationV1.ListDeliveriesRequest()
        byRecipient.recipient = "jose@cliente.example"
        var byTicket = NotificationV1.ListDeliveriesRequest()
        byTicket.ticketID = ticketID
        #expect(try harness.client.call(NotificationV1.Notification.listDeliveries, byRecipient, options: agent).deliveries.count == 2)

        var raised = WorkflowV1.TicketAccessLevelChanged()
        raised.ticket = Events.summary(ticketID: ticketID, accessLevel: 2)
        raised.oldLevel = 0
        raised.newLevel = 2
        raised.actorName = "Admin"
        let event = Events.envelope(raised, key: ticketID, accessLevel: 2)
        try harness.deliver([event])
        let after = Dictionary(uniqueKeysWithValues: try harness.deliveries(ticketID: ticketID).map { ($0.id, $0) })
        // The customer-only e-mail and the holder's (Ana's) stay queued; the one copied to an
        // address nobody vouched for, and any other recipient's (the chefe's), are discarded.
        #expect(after[direct.id]?.state == "queued")
        #expect(after[copied.id]?.state == "discarded")
        #expect(after[copied.id]?.serverAnswer.contains("raised from 0 to 2") == true)
        let holder = try #require(planned.first { $0.recipient == "ana@suporte.example" })
        let chefe = try #require(planned.first { $0.recipient == "chefe@suporte.example" })
        #expect(after[holder.id]?.state == "queued")
        #expect(after[chefe.id]?.state == "discarded")
        // Agents below the new level no longer see the ticket's e-mails; at it they do.
        #expect(try harness.client.call(NotificationV1.Notification.listDeliveries, byRecipient, options: agent).deliveries.isEmpty)
        #expect(try harness.client.call(NotificationV1.Notification.listDeliveries, byTicket, options: agent).deliveries.isEmpty)
        let cleared = harness.options(NotificationHarness.agent(level: 2))
        #expect(try harness.client.call(NotificationV1.Notification.listDeliveries, byRecipient, options: cleared).deliveries.count == 2)
        // At-least-once: the same event again changes nothing.
        try harness.deliver([event])
        #expect(Set(try harness.deliveries(ticketID: ticketID).map { "\($0.id)=\($0.state)" }) == Set(after.values.map { "\($0.id)=\($0.state)" }))
    }
}
