import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// How the relay's answers to one message's recipients and to the session itself are recorded:
/// a refused recipient is that recipient's failure, not the message's; a 554 greeting refuses the
/// session, not the message.
@Suite("Notification: refused recipients and refused sessions", .serialized)
struct RecipientRefusalTests {
    /// An on-demand e-mail to José with two copies, sent by the tests' agent.
    private static func send(_ harness: NotificationHarness, ticketID: String, copies: [String]) throws -> NotificationV1.Delivery? {
        try harness.client.call(NotificationV1.Notification.sendTicketEmail,
                                TicketEmails.request(ticketID, code: "2026-000321", subject: "Parecer", body: "Segue o parecer.",
                                                     copies: copies),
                                options: harness.options(NotificationHarness.agent())).delivery
    }

    @Test("Each RCPT TO's answer is read from a transfer's replies: before DATA's 354, or all refused after MAIL FROM's 250")
    func recipientAnswersFromReplies() {
        func lines(_ texts: [String]) -> [[UInt8]] { texts.map { Array($0.utf8) } }
        // A new connection, one of three refused, then DATA and the message's end.
        let sent = lines(["220 relay ESMTP", "250 HELP", "250 OK", "250 OK", "550 5.1.1 no such user", "250 OK",
                          "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 OK queued as 7"])
        #expect(RecipientReplies.answers(sent, recipients: 3) == ["250 OK", "550 5.1.1 no such user", "250 OK"])
        // A kept connection, every recipient refused, with and without the QUIT's 221.
        let refused = lines(["250 OK", "550 5.1.1 no such user", "450 4.2.1 busy"])
        #expect(RecipientReplies.answers(refused, recipients: 2) == ["550 5.1.1 no such user", "450 4.2.1 busy"])
        #expect(RecipientReplies.answers(refused + lines(["221 Bye"]), recipients: 2) == ["550 5.1.1 no such user", "450 4.2.1 busy"])
        // MAIL FROM refused: no recipient was asked.
        #expect(RecipientReplies.answers(lines(["220 relay", "250 HELP", "550 5.7.1 sender refused", "221 Bye"]), recipients: 2) == nil)
        #expect(RecipientReplies.answers(lines(["421 4.3.2 shutting down"]), recipients: 2) == nil)
        // What the answers make of the message.
        let recipients = ["a@x.example", "b@x.example"]
        #expect(RecipientReplies.outcome(.accepted("250 queued"), recipients: recipients, answers: ["250 OK", "250 OK"]) == .accepted("250 queued"))
        #expect(RecipientReplies.outcome(.accepted("250 queued"), recipients: recipients, answers: ["250 OK", "550 no"])
                == .someRefused(.accepted("250 queued"), refused: [RecipientRefusal(address: "b@x.example", answer: "550 no")]))
        #expect(RecipientReplies.outcome(.permanent("x"), recipients: recipients, answers: ["550 no", "553 bad"])
                == .permanent("a@x.example: 550 no; b@x.example: 553 bad"))
        #expect(RecipientReplies.outcome(.permanent("x"), recipients: recipients, answers: ["550 no", "450 busy"])
                == .someRefused(.transient("b@x.example: 450 busy"), refused: [RecipientRefusal(address: "a@x.example", answer: "550 no")]))
    }

    @Test("""
          A copy the relay refuses (550): the e-mail reaches the accepted recipients, and the refused address gets a row of \
          its own, failed with the relay's reason, not retried; the e-mail's row says whom it reached
          """, arguments: TestEngines.all)
    func refusedCopyDoesNotSinkTheEmail(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: ["--reject-rcpt", "desconhecido@"])
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let delivery = try #require(try Self.send(harness, ticketID: "t-rcpt",
                                                  copies: ["desconhecido@parceiro.example", "gerente@cliente.example"]))
        #expect(waitFor(15) { Set((try? harness.deliveries(ticketID: "t-rcpt").map(\.state)) ?? []) == ["sent", "failed"] })
        usleep(500_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.count == 1)
        #expect(Set(mails.first?.envelope.to ?? []) == ["jose@cliente.example", "gerente@cliente.example"])
        let log = try harness.deliveries(ticketID: "t-rcpt")
        #expect(log.count == 2, "\(log)")
        let sent = try #require(log.first { $0.id == delivery.id })
        #expect(sent.state == "sent" && sent.attempts == 1 && sent.serverAnswer.hasPrefix("250"), "\(sent)")
        let refused = try #require(log.first { $0.recipient == "desconhecido@parceiro.example" })
        #expect(refused.state == "failed" && refused.attempts == 1, "\(refused)")
        #expect(refused.serverAnswer.hasPrefix("550 5.1.1 no such user"), "\(refused.serverAnswer)")
        #expect(refused.messageID == sent.messageID)
        // Nothing is retried: the relay saw the refused address once.
        usleep(600_000)
        #expect(sink.files("eml").count == 1)
        #expect(try String(contentsOfFile: "\(mailDirectory.path)/rejected.count", encoding: .utf8) == "1")
        let events = try harness.emailSentEvents().filter { $0.ticketID == "t-rcpt" }
        #expect(events.map(\.outcome).sorted() == ["failed", "sent"])
        let sentEvent = try #require(events.first { $0.outcome == "sent" })
        #expect(sentEvent.recipients == ["jose@cliente.example"] && sentEvent.copies == ["gerente@cliente.example"], "\(sentEvent)")
        let failedEvent = try #require(events.first { $0.outcome == "failed" })
        #expect(failedEvent.copies == ["desconhecido@parceiro.example"] && failedEvent.serverAnswer.hasPrefix("550"), "\(failedEvent)")
    }

    @Test("""
          A recipient the relay defers (450): the others get the e-mail at once; that recipient alone is retried, with \
          backoff and the same Message-ID, until accepted
          """, arguments: TestEngines.all)
    func deferredRecipientIsRetriedAlone(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: ["--defer-rcpt", "ocupado@:2"])
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        _ = try Self.send(harness, ticketID: "t-defer", copies: ["ocupado@cliente.example"])
        #expect(waitFor(20) {
            let log = (try? harness.deliveries(ticketID: "t-defer")) ?? []
            return log.count == 2 && log.allSatisfy { $0.state == "sent" }
        })
        usleep(300_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.map(\.envelope.to) == [["jose@cliente.example"], ["ocupado@cliente.example"]], "\(mails.map(\.envelope.to))")
        #expect(Set(mails.compactMap { $0.headers["Message-ID"] }).count == 1)
        let log = try harness.deliveries(ticketID: "t-defer")
        let retried = try #require(log.first { $0.recipient == "ocupado@cliente.example" })
        // Deferred at the first attempt and the second, accepted at the third.
        #expect(retried.attempts == 3 && retried.serverAnswer.hasPrefix("250"), "\(retried)")
        #expect(log.first { $0.recipient == "jose@cliente.example" }?.attempts == 1)
    }

    @Test("""
          Every recipient refused: nothing is sent and the e-mail fails for good, its answer naming each address with the \
          relay's reason
          """, arguments: TestEngines.all)
    func everyRecipientRefused(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: ["--reject-rcpt", "@cliente.example"])
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let delivery = try #require(try Self.send(harness, ticketID: "t-none", copies: ["gerente@cliente.example"]))
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-none").first?.state) == "failed" })
        usleep(500_000)
        let log = try harness.deliveries(ticketID: "t-none")
        #expect(log.count == 1 && log.first?.id == delivery.id && log.first?.attempts == 1, "\(log)")
        let answer = log.first?.serverAnswer ?? ""
        #expect(answer.contains("jose@cliente.example: 550 5.1.1 no such user") && answer.contains("gerente@cliente.example: 550"),
                "\(answer)")
        #expect(sink.files("eml").isEmpty)
    }

    @Test("""
          A relay greeting with 554 (RFC 5321 3.1: it refuses the session, not the message): the attempt is a transient \
          failure with the relay's reason, retried with backoff, and the e-mail goes out once the relay takes sessions again
          """, arguments: TestEngines.all)
    func refusedSessionIsTransient(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: ["--refuse-sessions", "2"])
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let event = Events.opened(ticketID: "t-554")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-554").first?.state) == "sent" })
        let row = try #require(try harness.deliveries(ticketID: "t-554").first)
        #expect(row.attempts == 3, "\(row)")
        #expect(sink.files("eml").count == 1)
    }

    @Test("A relay that keeps greeting with 554: the delivery ends dead (retries exhausted), not failed, its answer the greeting",
          arguments: TestEngines.all)
    func refusedSessionsUntilDead(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path, extra: ["--refuse-sessions", "100"])
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.retry = RetryPolicy(maxAttempts: 2, baseMilliseconds: 50, maxMilliseconds: 100)
        let harness = try NotificationHarness(engine: engine, settings: settings)
        let event = Events.opened(ticketID: "t-554-dead")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { ["dead", "failed"].contains((try? harness.deliveries(ticketID: "t-554-dead").first?.state) ?? "") })
        let row = try #require(try harness.deliveries(ticketID: "t-554-dead").first)
        #expect(row.state == "dead" && row.attempts == 2, "\(row)")
        #expect(row.serverAnswer.hasPrefix("554 5.3.2 servidor ocupado"), "\(row.serverAnswer)")
        #expect(row.serverAnswer.contains("sessão recusada / session refused"), "\(row.serverAnswer)")
    }
}
