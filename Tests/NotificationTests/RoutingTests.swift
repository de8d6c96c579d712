import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Events in, e-mails out to a real aiosmtpd server; checked with Python's own MIME parser.
@Suite("Notification: who gets what, once, as proper MIME", .serialized)
struct RoutingTests {
    @Test("TicketOpened reaches the contact once as multipart UTF-8 MIME with a threading Message-ID", arguments: TestEngines.all)
    func ticketOpened(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        let event = Events.opened(ticketID: "018f-abc-1")
        let envelope = Events.envelope(event, key: event.ticketID)
        #expect(try harness.deliver([envelope]).accepted == 1)
        // The same event delivered again (at-least-once) is a duplicate: no second e-mail.
        #expect(try harness.deliver([envelope]).duplicates == 1)
        #expect(waitFor(15) { sink.files("eml").count >= 1 })
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: event.ticketID).first?.state) == "sent" })
        usleep(300_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        try #require(mails.count == 1)
        let mail = mails[0]
        #expect(mail.envelope.to == ["jose@cliente.example"])
        #expect(mail.envelope.from == "suporte@suporte.example")
        #expect(mail.defects.isEmpty)
        #expect(mail.all_ascii, "8-bit-free on the wire")
        #expect(mail.crlf_only)
        #expect(mail.content_type == "multipart/alternative")
        #expect(mail.headers["Subject"] == "[2026-000123] Ocorrência registrada: Nota fiscal não é emitida")
        #expect(mail.raw_subject.hasPrefix("=?UTF-8?B?"), "non-ASCII subject is RFC 2047 encoded")
        #expect(mail.headers["To"]?.contains("José Conceição") == true)
        #expect(mail.headers["Date"] != nil)
        #expect(mail.headers["MIME-Version"] == "1.0")
        let messageID = try #require(mail.headers["Message-ID"])
        let replyTo = try #require(mail.headers["Reply-To"])
        let tokens = ReplyToken(secret: harness.secret)
        #expect(tokens.ticketID(in: messageID) == event.ticketID, "intake can thread replies by the Message-ID")
        #expect(tokens.ticketID(in: replyTo) == event.ticketID)
        let replyAddress = replyTo.trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
        #expect(replyAddress.hasPrefix("suporte+018f-abc-1-") && replyAddress.hasSuffix("@suporte.example"), "\(replyTo)")
        #expect(mail.text.contains("Erro <script>alert(1)</script> & falha"))
        #expect(mail.html.contains("Erro &lt;script&gt;alert(1)&lt;/script&gt; &amp; falha"))
        #expect(!mail.html.contains("<script>"))
        let log = try harness.deliveries(ticketID: event.ticketID)
        #expect(log.count == 1)
        #expect(log[0].serverAnswer.hasPrefix("250"))
        #expect(log[0].attempts == 1)
        #expect("<\(log[0].messageID)>" == messageID)
        // The message is stored once, apart from the delivery row (claims and outcomes rewrite a
        // small row), and what the server received is exactly those bytes.
        let id = log[0].id
        let (rowPayload, size) = try harness.database.read { tx in
            let row = try #require(try tx.queryOne("SELECT payload, payload_bytes FROM notification_deliveries WHERE id = ?", [.text(id)]))
            return (try row.blob("payload"), Int(try row.int("payload_bytes")))
        }
        let stored = try PayloadChunks.readAll(harness.database, deliveryID: id)
        #expect(rowPayload.isEmpty && size > 1_000 && stored.count == size)
        let received = try Data(contentsOf: URL(fileURLWithPath: mailDirectory.path + "/" + sink.files("eml")[0]))
        #expect(Array(received) == stored, "sent byte for byte as stored")
        // The workflow history learns about it through the outbox.
        let sent = try harness.emailSentEvents()
        #expect(sent.count == 1)
        #expect(sent.first?.outcome == "sent")
        #expect(sent.first?.ticketID == event.ticketID)
        #expect(sent.first?.messageID == messageID)
    }

    @Test("A contact without an address falls back to the organization's; with neither, a visible failed delivery", arguments: TestEngines.all)
    func contactFallback(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        let fallback = Events.opened(ticketID: "t-fallback", contactEmail: "")
        let nothing = Events.opened(ticketID: "t-nothing", contactEmail: "not an address", organizationEmail: "")
        try harness.deliver([Events.envelope(fallback, key: fallback.ticketID), Events.envelope(nothing, key: nothing.ticketID)])
        #expect(waitFor(15) { sink.files("eml").count >= 1 })
        usleep(300_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.map(\.envelope.to) == [["ti@cliente.example"]])
        let failed = try harness.deliveries(ticketID: "t-nothing")
        #expect(failed.count == 1)
        #expect(failed.first?.state == "failed")
        #expect(failed.first?.serverAnswer.contains("contact without a valid address") == true)
        #expect(failed.first?.recipient == "contact:contact-1")
        #expect(try harness.emailSentEvents().contains { $0.ticketID == "t-nothing" && $0.outcome == "failed" })
        #expect(try harness.stats().failed == 1)
    }

    @Test("Transfer: holder, valid copies (confidential note hidden from them), a visible failure for a bad copy; SLA breach to holder and chefe",
          arguments: TestEngines.all)
    func transferAndSLA(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        var transfer = WorkflowV1.Transferred()
        transfer.ticket = Events.summary(ticketID: "t-conf", code: "2026-000777", accessLevel: 2)
        var to = WorkflowV1.Holder()
        to.agentID = "agent-2"
        to.agentName = "Bruno"
        to.agentEmail = "bruno@suporte.example"
        to.groupID = "grp-fiscal"
        transfer.to = to
        transfer.note = "Senha do ambiente: s3cr3t"
        transfer.copyTo = ["fornecedor@parceiro.example", "quebrado@"]
        transfer.actorName = "Ana"
        var breach = WorkflowV1.SLABreached()
        breach.ticket = Events.summary(ticketID: "t-sla", code: "2026-000778")
        breach.target = .resolution
        breach.dueAtMs = 1_796_730_900_000  // 2026-12-08 11:55 UTC
        try harness.deliver([Events.envelope(transfer, key: "t-conf", accessLevel: 2), Events.envelope(breach, key: "t-sla")])
        #expect(waitFor(15) { sink.files("eml").count >= 4 })
        usleep(300_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        let byRecipient = Dictionary(uniqueKeysWithValues: mails.map { ($0.envelope.to.joined(separator: ","), $0) })
        #expect(Set(byRecipient.keys) == ["bruno@suporte.example", "fornecedor@parceiro.example", "ana@suporte.example", "chefe@suporte.example"])
        #expect(byRecipient["bruno@suporte.example"]?.text.contains("s3cr3t") == true, "the new holder reads the note")
        #expect(byRecipient["fornecedor@parceiro.example"]?.text.contains("s3cr3t") == false, "a copy never gets content above its level")
        #expect(byRecipient["fornecedor@parceiro.example"]?.html.contains("s3cr3t") == false)
        #expect(byRecipient["chefe@suporte.example"]?.headers["Subject"]?.contains("2026-000778") == true)
        // The deadline in São Paulo's time, named (it was "2026-12-08 11:55 UTC").
        #expect(byRecipient["chefe@suporte.example"]?.text.contains("venceu em 08/12/2026 08:55 (Horário Padrão de Brasília)") == true,
                "\(byRecipient["chefe@suporte.example"]?.text ?? "")")
        let log = try harness.deliveries(ticketID: "t-conf")
        #expect(log.filter { $0.state == "failed" }.map(\.recipient) == ["invalid:quebrado@"])
    }

    @Test("""
          A customer's reply reaches the holder workflow had when it applied it (CustomerActionApplied), not an older one cached; \
          TicketRouted tells a group about a new ticket when the rules say so; an older intake's reply about an unknown ticket waits
          """, arguments: TestEngines.all)
    func customerActionsReachTheCurrentHolder(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        var rules = NotificationRules.defaults
        rules.groupAddresses = ["grp-n1": "n1@suporte.example"]
        rules.audiences["TicketRouted"] = [.holder]
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port), rules: rules)

        // Workflow routed t-new to N1 (nobody holds it yet): the group's mailbox hears of it.
        var routed = WorkflowV1.TicketRouted()
        var queued = Events.summary(ticketID: "t-new", code: "2026-000901")
        var group = WorkflowV1.Holder()
        group.groupID = "grp-n1"
        group.groupName = "N1"
        queued.holder = group
        routed.ticket = queued
        #expect(try harness.deliver([Events.envelope(routed, key: "t-new")]).accepted == 1)

        // Ana took it and asked for information; the customer replied. Workflow applied the reply
        // with Ana holding the ticket, and says so even though its earlier move is not here.
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t-new"
        reply.code = "2026-000901"
        reply.author = Events.person("contact-1", "José", "jose@cliente.example")
        reply.text = "Segue o XML da nota."
        var applied = WorkflowV1.CustomerActionApplied()
        applied.ticket = Events.summary(ticketID: "t-new", code: "2026-000901")  // held by Ana
        applied.reply = reply
        #expect(try harness.deliver([Events.envelope(applied, key: "t-new")]).accepted == 1)

        // A cancellation applied on a ticket no routing rule placed: no holder, no one to tell.
        var cancel = IntakeV1.TicketCancelledByCustomer()
        cancel.ticketID = "t-bare"
        cancel.code = "2026-000902"
        cancel.reason = "Aberta por engano."
        var cancelled = WorkflowV1.CustomerActionApplied()
        var bare = Events.summary(ticketID: "t-bare", code: "2026-000902")
        bare.holder = WorkflowV1.Holder()
        cancelled.ticket = bare
        cancelled.cancellation = cancel
        #expect(try harness.deliver([Events.envelope(cancelled, key: "t-bare")]).accepted == 1)

        // An older intake's own CustomerReplied about a ticket workflow never mentioned: refused
        // (ABORTED, for intake's relay to retry), nothing planned.
        var early = reply
        early.ticketID = "t-unknown"
        do {
            try harness.deliver([Events.envelope(early, key: "t-unknown")])
            Issue.record("a reply about a ticket workflow never mentioned was planned at once")
        } catch let error as RPCError {
            #expect(error.code == .aborted, "\(error)")
        }

        #expect(waitFor(15) { sink.files("eml").count >= 2 })
        usleep(300_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.count == 2)
        let byKind = Dictionary(uniqueKeysWithValues: mails.map { ($0.headers["X-Ocorrencias-Event"] ?? "", $0) })
        #expect(byKind["TicketRouted"]?.envelope.to == ["n1@suporte.example"])
        #expect(byKind["TicketRouted"]?.headers["Subject"] == "[2026-000901] Nova ocorrência na fila: Cálculo de ICMS")
        #expect(byKind["TicketRouted"]?.text.contains("entrou na fila de N1") == true)
        #expect(byKind["CustomerReplied"]?.envelope.to == ["ana@suporte.example"], "the holder workflow had, not the cached group")
        #expect(byKind["CustomerReplied"]?.text.contains("Segue o XML da nota.") == true)
        #expect(try harness.deliveries(ticketID: "t-bare").isEmpty)
        #expect(try harness.deliveries(ticketID: "t-unknown").isEmpty)
    }

    @Test("Subscriptions switch per person and kind over RPC; only administrators change someone else's", arguments: TestEngines.all)
    func subscriptions(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        var request = NotificationV1.SetSubscriptionRequest()
        var subscription = NotificationV1.Subscription()
        subscription.eventKind = "SLAWarning"
        subscription.enabled = false
        request.subscription = subscription
        let agent = NotificationHarness.agent()
        _ = try harness.client.call(NotificationV1.Notification.setSubscription, request, options: harness.options(agent))
        // A customer cannot switch an agent's subscriptions.
        var other = request
        other.subscription?.person = "chefe@suporte.example"
        #expect(throws: RPCError.self) {
            _ = try harness.client.call(NotificationV1.Notification.setSubscription, other, options: harness.options(NotificationHarness.customer()))
        }
        let listed = try harness.client.call(NotificationV1.Notification.listSubscriptions, NotificationV1.ListSubscriptionsRequest(),
                                             options: harness.options(agent))
        #expect(listed.subscriptions.map(\.eventKind) == ["SLAWarning"])
        var warning = WorkflowV1.SLAWarning()
        warning.ticket = Events.summary(ticketID: "t-warn")
        warning.target = .firstResponse
        warning.percentElapsed = 80
        var breach = WorkflowV1.SLABreached()
        breach.ticket = Events.summary(ticketID: "t-warn")
        try harness.deliver([Events.envelope(warning, key: "t-warn"), Events.envelope(breach, key: "t-warn")])
        #expect(waitFor(15) { sink.files("eml").count >= 3 })
        usleep(300_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        let pairs = Set(mails.map { "\($0.headers["X-Ocorrencias-Event"] ?? "")→\($0.envelope.to.joined())" })
        #expect(pairs == ["SLAWarning→chefe@suporte.example", "SLABreached→chefe@suporte.example", "SLABreached→ana@suporte.example"])
    }

    @Test("Customer lifecycle mails: information requested, inactivity reminder, solution, closed for inactivity with the survey link",
          arguments: TestEngines.all)
    func customerLifecycle(engine: DatabaseEngine) throws {
        let (mailDirectory, sink, harness) = try NotificationHarness.withSMTPSink(engine)
        let summary = Events.summary(ticketID: "t-life", code: "2026-000555")
        var request = WorkflowV1.InformationRequested()
        request.ticket = summary
        request.text = "Envie o XML da nota 123"
        var reminder = WorkflowV1.InactivityReminder()
        reminder.ticket = summary
        reminder.actionDueAtMs = 1_800_000_000_000
        var solution = WorkflowV1.SolutionGiven()
        solution.ticket = summary
        solution.text = "Atualize para a versão 12.1"
        var finished = WorkflowV1.TicketFinished()
        finished.ticket = summary
        finished.outcome = "inatividade"
        finished.surveyURL = "https://portal.example/pesquisa/abc"
        try harness.deliver([Events.envelope(request, key: "t-life"), Events.envelope(reminder, key: "t-life"),
                             Events.envelope(solution, key: "t-life"), Events.envelope(finished, key: "t-life")])
        #expect(waitFor(15) { sink.files("eml").count == 4 })
        usleep(200_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.allSatisfy { $0.envelope.to == ["jose@cliente.example"] && ($0.headers["Subject"] ?? "").contains("2026-000555") })
        let byKind = Dictionary(uniqueKeysWithValues: mails.map { ($0.headers["X-Ocorrencias-Event"] ?? "", $0) })
        #expect(byKind["InformationRequested"]?.text.contains("Envie o XML da nota 123") == true)
        #expect(byKind["InactivityReminder"]?.text.contains("15/01/2027 05:00 (Horário Padrão de Brasília)") == true)
        #expect(byKind["SolutionGiven"]?.text.contains("versão 12.1") == true)
        #expect(byKind["TicketFinished"]?.text.contains("encerrada (sem retorno do cliente)") == true)
        #expect(byKind["TicketFinished"]?.html.contains("https://portal.example/pesquisa/abc") == true)
    }
}
