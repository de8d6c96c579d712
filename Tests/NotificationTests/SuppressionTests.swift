import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Addresses notification no longer e-mails: after a permanent bounce, or an administrator's
/// decision; lifted by an administrator.
@Suite("Notification: suppressed addresses", .serialized)
struct SuppressionTests {
    /// The RPC error of `call`, or a recorded issue when it succeeded.
    static func rpcError(_ call: () throws -> Void) -> RPCError? {
        do {
            try call()
            Issue.record("the call was accepted")
        } catch let error as RPCError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }

    @Test("A permanent bounce suppresses the address: later e-mails to it are logged as failed and not sent, an agent's e-mail is refused; lifting it lets mail through",
          arguments: TestEngines.all)
    func bounceSuppresses(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        defer { withExtendedLifetime(mailDirectory) {} }  // the sink writes there
        let admin = harness.options(NotificationHarness.administrator())
        let agent = harness.options(NotificationHarness.agent())
        let address = "sumido@cliente.example"
        try harness.deliver([Events.envelope(Events.opened(ticketID: "t-sup-1", contactEmail: address), key: "t-sup-1")])
        #expect(waitFor(15) { sink.files("eml").count == 1 })
        let first = try #require(try harness.deliveries(ticketID: "t-sup-1").first)
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-sup-1").first?.state) == "sent" })

        var report = NotificationV1.ReportBounceRequest()
        report.message = BounceTests.report(messageID: first.messageID, recipient: "Sumido@Cliente.example", action: "failed", status: "5.1.1")
        let answer = try harness.client.call(NotificationV1.Notification.reportBounce, report, options: admin)
        #expect(answer.delivery?.state == "bounced" && answer.suppressed == [address], "\(answer)")
        // Agents may see the list (to tell a customer why no mail comes).
        let listed = try harness.client.call(NotificationV1.Notification.listSuppressions, NotificationV1.ListSuppressionsRequest(), options: agent)
        let suppression = try #require(listed.suppressions.first)
        #expect(listed.suppressions.count == 1 && suppression.address == address && suppression.reason == "bounce")
        #expect(suppression.status == "5.1.1" && suppression.deliveryID == first.id && suppression.diagnostic.contains("User unknown"))
        // The same report again suppresses nothing new.
        #expect(try harness.client.call(NotificationV1.Notification.reportBounce, report, options: admin).suppressed.isEmpty)

        // The next event for that contact: a failed row naming the suppression, nothing sent.
        try harness.deliver([Events.envelope(Events.opened(ticketID: "t-sup-2", contactEmail: address), key: "t-sup-2")])
        let suppressed = try #require(try harness.deliveries(ticketID: "t-sup-2").first)
        #expect(suppressed.state == "failed" && suppressed.serverAnswer.contains("endereço suprimido após devolução permanente")
                && suppressed.serverAnswer.contains("5.1.1"), "\(suppressed.serverAnswer)")
        #expect(try harness.emailSentEvents().filter { $0.ticketID == "t-sup-2" }.map(\.outcome) == ["failed"])
        // An agent's e-mail to it (any case, as a copy too) is refused, naming the field.
        var email = TicketEmails.request("t-sup-2", code: "2026-000124", subject: "Retorno", body: "Olá", copies: ["SUMIDO@cliente.example"])
        email.to = ["gerente@cliente.example"]
        let refused = Self.rpcError { _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, email, options: agent) }
        #expect(refused?.code == .failedPrecondition && refused?.violations.first?.field == "copies", "\(String(describing: refused))")
        #expect(refused?.message.contains("Endereço suprimido") == true)
        usleep(300_000)
        #expect(sink.files("eml").count == 1)

        // Only administrators lift it; then mail goes through again.
        var remove = NotificationV1.RemoveSuppressionRequest()
        remove.address = "SUMIDO@cliente.example"
        #expect(Self.rpcError { _ = try harness.client.call(NotificationV1.Notification.removeSuppression, remove, options: agent) }?.code
                == .permissionDenied)
        let removed = try harness.client.call(NotificationV1.Notification.removeSuppression, remove, options: admin)
        #expect(removed.suppression?.address == address)
        #expect(Self.rpcError { _ = try harness.client.call(NotificationV1.Notification.removeSuppression, remove, options: admin) }?.code
                == .notFound)
        #expect(try harness.client.call(NotificationV1.Notification.listSuppressions, NotificationV1.ListSuppressionsRequest(),
                                        options: admin).suppressions.isEmpty)
        try harness.deliver([Events.envelope(Events.opened(ticketID: "t-sup-3", contactEmail: address), key: "t-sup-3")])
        #expect(waitFor(15) { sink.files("eml").count == 2 })
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-sup-3").first?.state) == "sent" })
    }

    @Test("A report cannot suppress an address its message was not sent to, nor a temporary failure", arguments: TestEngines.all)
    func onlyPermanentFailuresOfTheRecipients(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        defer { withExtendedLifetime(mailDirectory) {} }  // the sink writes there
        let admin = harness.options(NotificationHarness.administrator())
        try harness.deliver((1...2).map { Events.envelope(Events.opened(ticketID: "t-nosup-\($0)", contactEmail: "cliente\($0)@cliente.example"),
                                                          key: "t-nosup-\($0)") })
        #expect(waitFor(15) { sink.files("eml").count == 2 })
        #expect(waitFor(15) { (try? harness.stats().sent) == 2 })
        let first = try #require(try harness.deliveries(ticketID: "t-nosup-1").first)
        let second = try #require(try harness.deliveries(ticketID: "t-nosup-2").first)
        var report = NotificationV1.ReportBounceRequest()
        // Someone who received one of our messages names another address in a forged report.
        report.message = BounceTests.report(messageID: first.messageID, recipient: "diretor@cliente.example", action: "failed", status: "5.1.1")
        #expect(try harness.client.call(NotificationV1.Notification.reportBounce, report, options: admin).suppressed.isEmpty)
        // A full mailbox (4.2.2) is temporary.
        report.message = BounceTests.report(messageID: second.messageID, recipient: "cliente2@cliente.example", action: "failed", status: "4.2.2")
        #expect(try harness.client.call(NotificationV1.Notification.reportBounce, report, options: admin).suppressed.isEmpty)
        #expect(try harness.client.call(NotificationV1.Notification.listSuppressions, NotificationV1.ListSuppressionsRequest(),
                                        options: admin).suppressions.isEmpty)
    }

    @Test("An administrator suppresses an address by hand: validated, normalized, listed in pages; account e-mail to it is logged as failed",
          arguments: TestEngines.all)
    func manual(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        defer { withExtendedLifetime(mailDirectory) {} }  // the sink writes there
        let admin = harness.options(NotificationHarness.administrator())
        var add = NotificationV1.AddSuppressionRequest()
        add.address = "Bloqueado@Cliente.example"
        add.note = "pediu para não receber e-mails"
        #expect(Self.rpcError { _ = try harness.client.call(NotificationV1.Notification.addSuppression, add,
                                                           options: harness.options(NotificationHarness.agent())) }?.code == .permissionDenied)
        let added = try #require(try harness.client.call(NotificationV1.Notification.addSuppression, add, options: admin).suppression)
        #expect(added.address == "bloqueado@cliente.example" && added.reason == "manual" && added.note == add.note && !added.createdBy.isEmpty)
        // Adding it again keeps the first record.
        add.note = "outra nota"
        #expect(try harness.client.call(NotificationV1.Notification.addSuppression, add, options: admin).suppression?.note
                == "pediu para não receber e-mails")
        add.address = "não é endereço"
        let invalid = Self.rpcError { _ = try harness.client.call(NotificationV1.Notification.addSuppression, add, options: admin) }
        #expect(invalid?.code == .invalidArgument && invalid?.violations.first?.field == "address")

        // Account e-mail (the gateway's invitation) to it: a failed row, stored without its link; nothing sent.
        var invitation = NotificationV1.SendAccountEmailRequest()
        invitation.kind = "invitation"
        invitation.to = "bloqueado@cliente.example"
        invitation.name = "Márcia"
        invitation.organizationName = "Cliente Ltda"
        invitation.link = "https://portal.example/convite/abc123"
        invitation.expiresAtMs = 1_800_000_000_000
        let sent = try harness.client.call(NotificationV1.Notification.sendAccountEmail, invitation,
                                           options: harness.options(PrincipalSigner.service("gateway")))
        #expect(sent.delivery?.state == "failed" && sent.delivery?.serverAnswer.contains("suprimido por um administrador") == true,
                "\(String(describing: sent.delivery))")
        usleep(300_000)
        #expect(sink.files("eml").isEmpty)

        // Pages, by address.
        for name in ["a", "b", "c"] {
            add.address = "\(name)@cliente.example"
            add.note = ""
            _ = try harness.client.call(NotificationV1.Notification.addSuppression, add, options: admin)
        }
        var list = NotificationV1.ListSuppressionsRequest()
        list.limit = 2
        let page1 = try harness.client.call(NotificationV1.Notification.listSuppressions, list, options: admin)
        #expect(page1.suppressions.map(\.address) == ["a@cliente.example", "b@cliente.example"] && page1.nextAfter == "b@cliente.example")
        list.after = page1.nextAfter
        let page2 = try harness.client.call(NotificationV1.Notification.listSuppressions, list, options: admin)
        #expect(page2.suppressions.map(\.address) == ["bloqueado@cliente.example", "c@cliente.example"])
        list = NotificationV1.ListSuppressionsRequest()
        list.address = "C@cliente.example"
        #expect(try harness.client.call(NotificationV1.Notification.listSuppressions, list, options: admin).suppressions.map(\.address)
                == ["c@cliente.example"])
        list.limit = -1
        #expect(Self.rpcError { _ = try harness.client.call(NotificationV1.Notification.listSuppressions, list, options: admin) }?.code
                == .invalidArgument)
    }
}
