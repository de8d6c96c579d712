import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("Notification: signed webhooks and confidentiality", .serialized)
struct WebhookAndConfidentialityTests {
    static func register(_ harness: NotificationHarness, url: String, secret: String, kinds: [String], level: Int32 = 0,
                         internalEntries: Bool = false) throws -> NotificationV1.Webhook {
        var request = NotificationV1.RegisterWebhookRequest()
        request.url = url
        request.secret = secret
        request.eventKinds = kinds
        request.accessLevel = level
        request.internalEntries = internalEntries
        return try #require(try harness.client.call(NotificationV1.Notification.registerWebhook, request,
                                                    options: harness.options(NotificationHarness.administrator())).webhook)
    }

    /// An SMTP sink and a signed webhook receiver registered for `kinds`, with a harness sending to them.
    struct MailAndWebhook {
        let mailDirectory: TemporaryDirectory, sink: PythonPeer, hooks: TemporaryDirectory, receiver: PythonPeer
        let harness: NotificationHarness

        init(_ engine: DatabaseEngine, kinds: [String]) throws {
            mailDirectory = try TemporaryDirectory(prefix: "sink")
            sink = try PythonPeer.smtp(directory: mailDirectory.path)
            let secret = "receiver-secret-0123456789abcdef"
            hooks = try TemporaryDirectory(prefix: "hooks")
            receiver = try PythonPeer.webhook(directory: hooks.path, secret: secret)
            harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
            _ = try WebhookAndConfidentialityTests.register(harness, url: receiver.url, secret: secret, kinds: kinds)
        }
    }

    /// An SMTP sink and two signed webhook receivers: one registered without `internal_entries`
    /// (`public`), one with them (`trusted`), with a harness sending to them under `rules`.
    struct MailAndTwoWebhooks {
        let mailDirectory: TemporaryDirectory, sink: PythonPeer
        let publicHooks: TemporaryDirectory, trustedHooks: TemporaryDirectory, publicReceiver: PythonPeer, trustedReceiver: PythonPeer
        let harness: NotificationHarness

        init(_ engine: DatabaseEngine, rules: NotificationRules, publicKinds: [String], trustedKinds: [String], trustedLevel: Int32) throws {
            mailDirectory = try TemporaryDirectory(prefix: "sink")
            sink = try PythonPeer.smtp(directory: mailDirectory.path)
            let secret = "receiver-secret-0123456789abcdef"
            publicHooks = try TemporaryDirectory(prefix: "hooks-public")
            trustedHooks = try TemporaryDirectory(prefix: "hooks-trusted")
            publicReceiver = try PythonPeer.webhook(directory: publicHooks.path, secret: secret)
            trustedReceiver = try PythonPeer.webhook(directory: trustedHooks.path, secret: secret)
            harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port), rules: rules)
            _ = try WebhookAndConfidentialityTests.register(harness, url: publicReceiver.url, secret: secret, kinds: publicKinds, level: 0)
            _ = try WebhookAndConfidentialityTests.register(harness, url: trustedReceiver.url, secret: secret, kinds: trustedKinds,
                                                            level: trustedLevel, internalEntries: true)
        }
    }

    @Test("A webhook receiver that fails twice then recovers gets one verified, signed POST; replay sends it again with the same delivery id",
          arguments: TestEngines.all)
    func signedWebhookRetriesAndReplay(engine: DatabaseEngine) throws {
        let secret = "receiver-secret-0123456789abcdef"
        let hooks = try TemporaryDirectory(prefix: "hooks")
        let receiver = try PythonPeer.webhook(directory: hooks.path, secret: secret, failFirst: 2)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: try FreePort.next()))
        // Only administrators register webhooks.
        #expect(throws: RPCError.self) {
            var request = NotificationV1.RegisterWebhookRequest()
            request.url = receiver.url
            request.secret = secret
            request.eventKinds = ["TicketOpened"]
            _ = try harness.client.call(NotificationV1.Notification.registerWebhook, request, options: harness.options(NotificationHarness.agent()))
        }
        let webhook = try Self.register(harness, url: receiver.url, secret: secret, kinds: ["TicketOpened"])
        let event = Events.opened(ticketID: "t-hook")
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(15) { receiver.files("json").count == 1 })
        let log = try harness.deliveries(ticketID: "t-hook").filter { $0.channel == "webhook" }
        try #require(log.count == 1)
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-hook").first { $0.channel == "webhook" }?.state) == "sent" })
        #expect(try harness.deliveries(ticketID: "t-hook").first { $0.channel == "webhook" }?.attempts == 3)
        let received = try ReceivedWebhook.all(in: hooks.path)
        #expect(received.first?.0.verified == true)
        #expect(received.first?.0.header("X-Ocorrencias-Delivery") == log[0].id)
        #expect(received.first?.1["event"] as? String == "TicketOpened")
        #expect(received.first?.1["code"] as? String == "2026-000123")
        #expect(log[0].recipient == "webhook:\(webhook.id)")

        var replay = NotificationV1.ReplayDeliveryRequest()
        replay.deliveryID = log[0].id
        _ = try harness.client.call(NotificationV1.Notification.replayDelivery, replay, options: harness.options(NotificationHarness.administrator()))
        #expect(waitFor(15) { receiver.files("json").count == 2 })
        let again = try ReceivedWebhook.all(in: hooks.path)
        #expect(again.map { $0.0.header("X-Ocorrencias-Delivery") } == [log[0].id, log[0].id])
    }

    @Test("Messages larger than what a claim loads (a 300 KiB request): the e-mail is uploaded from its stored pieces and the webhook gets its whole body, signed",
          arguments: TestEngines.all)
    func largeMessages(engine: DatabaseEngine) throws {
        let peers = try MailAndWebhook(engine, kinds: ["TicketOpened"])
        let (mailDirectory, sink, hooks, receiver, harness) = (peers.mailDirectory, peers.sink, peers.hooks, peers.receiver, peers.harness)
        let line = "O relatório de notas fiscais de março não fecha com o livro de saídas (ação pendente).\n"
        let request = String(repeating: line, count: 300 * 1_024 / line.utf8.count + 1)
        let event = Events.opened(ticketID: "t-big", request: request)
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(30) { sink.files("eml").count == 1 && receiver.files("json").count == 1 })
        #expect(waitFor(15) { (try? harness.deliveries(ticketID: "t-big").allSatisfy { $0.state == "sent" }) == true })
        // Both messages are over the size a claim loads; the webhook's body is over one piece.
        let sizes = try harness.database.read { tx in
            try tx.query("SELECT channel, payload_bytes FROM notification_deliveries WHERE ticket_id = ?", [.text("t-big")])
                .map { (try $0.text("channel"), Int(try $0.int("payload_bytes"))) }
        }
        #expect(sizes.count == 2 && sizes.allSatisfy { $0.1 > DeliveryClaims.claimLoadBytes })
        #expect(sizes.contains { $0.0 == "webhook" && $0.1 > PayloadChunks.chunkBytes })
        let hook = try #require(try ReceivedWebhook.all(in: hooks.path).first)
        #expect(hook.0.verified)
        #expect((hook.1["data"] as? [String: Any])?["text"] as? String == request)
        let mail = try #require(try ReceivedMail.all(in: mailDirectory.path).first)
        #expect(mail.defects.isEmpty)
        #expect(mail.text.contains(line.trimmingCharacters(in: .newlines)))
        #expect(mail.text.utf8.count > 300 * 1_024)
    }

    @Test("Internal entries and content above a level never reach customers or unentitled webhooks", arguments: TestEngines.all)
    func confidentiality(engine: DatabaseEngine) throws {
        var rules = NotificationRules.defaults
        // Even a rule that sends discussion entries to customers cannot leak internal ones.
        rules.audiences["DiscussionAdded"] = [.customer]
        let peers = try MailAndTwoWebhooks(engine, rules: rules, publicKinds: ["DiscussionAdded"], trustedKinds: ["*"], trustedLevel: 5)
        let (mailDirectory, sink, harness) = (peers.mailDirectory, peers.sink, peers.harness)
        let (publicHooks, trustedHooks, publicReceiver, trustedReceiver) = (peers.publicHooks, peers.trustedHooks, peers.publicReceiver, peers.trustedReceiver)

        var internalNote = WorkflowV1.DiscussionAdded()
        internalNote.ticket = Events.summary(ticketID: "t-open")
        internalNote.isPublic = false
        internalNote.kind = "note"
        internalNote.text = "cliente difícil, não comentar"
        var publicOnConfidential = WorkflowV1.DiscussionAdded()
        publicOnConfidential.ticket = Events.summary(ticketID: "t-secret", accessLevel: 3)
        publicOnConfidential.isPublic = true
        publicOnConfidential.kind = "request_info"
        publicOnConfidential.text = "Envie o XML da nota"
        var publicOpen = WorkflowV1.DiscussionAdded()
        publicOpen.ticket = Events.summary(ticketID: "t-open")
        publicOpen.isPublic = true
        publicOpen.text = "Estamos analisando"
        try harness.deliver([Events.envelope(internalNote, key: "t-open"),
                             Events.envelope(publicOnConfidential, key: "t-secret", accessLevel: 3),
                             Events.envelope(publicOpen, key: "t-open")])
        #expect(waitFor(15) { trustedReceiver.files("json").count == 3 && publicReceiver.files("json").count == 1 && sink.files("eml").count == 2 })
        usleep(400_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        #expect(mails.count == 2, "the customer gets the two public entries only")
        #expect(!mails.contains { $0.text.contains("não comentar") || $0.html.contains("não comentar") })
        let publicBodies = try ReceivedWebhook.all(in: publicHooks.path).map(\.1)
        #expect(publicBodies.count == 1, "level-0 webhook: only the public entry of the open ticket")
        #expect(publicBodies.first?["ticket_id"] as? String == "t-open")
        #expect(publicBodies.first?["internal"] as? Bool == false)
        let trusted = try ReceivedWebhook.all(in: trustedHooks.path)
        #expect(trusted.count == 3)
        #expect(trusted.allSatisfy { $0.0.verified })
    }

    @Test("""
          A transfer's note (an internal entry in workflow) never reaches the customer, even when the rules add them to \
          Transferred, nor a webhook without internal_entries, nor the transfer's copies; the holder and an entitled webhook read it
          """, arguments: TestEngines.all)
    func transferNoteIsInternal(engine: DatabaseEngine) throws {
        var rules = NotificationRules.defaults
        // An administrator tells customers of transfers (and names the customer twice: as a copy too).
        rules.audiences["Transferred"] = [.copies, .holder, .customer]
        let peers = try MailAndTwoWebhooks(engine, rules: rules, publicKinds: ["Transferred"], trustedKinds: ["Transferred"], trustedLevel: 0)
        let (mailDirectory, sink, harness) = (peers.mailDirectory, peers.sink, peers.harness)
        let (publicHooks, trustedHooks, publicReceiver, trustedReceiver) = (peers.publicHooks, peers.trustedHooks, peers.publicReceiver, peers.trustedReceiver)

        var transfer = WorkflowV1.Transferred()
        transfer.ticket = Events.summary(ticketID: "t-note", code: "2026-000950")
        var to = WorkflowV1.Holder()
        to.agentID = "agent-2"
        to.agentName = "Bruno"
        to.agentEmail = "bruno@suporte.example"
        transfer.to = to
        transfer.note = "cliente difícil, não comentar"
        // The holder copied too (the rules name copies first): still the holder, who reads the note.
        transfer.copyTo = ["fornecedor@parceiro.example", "JOSE@cliente.example", "Bruno@suporte.example"]
        transfer.actorName = "Ana"
        try harness.deliver([Events.envelope(transfer, key: "t-note")])
        #expect(waitFor(15) { sink.files("eml").count == 3 && publicReceiver.files("json").count == 1 && trustedReceiver.files("json").count == 1 })
        usleep(300_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        let byRecipient = Dictionary(uniqueKeysWithValues: mails.map { ($0.envelope.to.joined(separator: ",").lowercased(), $0) })
        #expect(Set(byRecipient.keys) == ["bruno@suporte.example", "fornecedor@parceiro.example", "jose@cliente.example"])
        let customer = try #require(byRecipient["jose@cliente.example"])
        #expect(!customer.text.contains("não comentar") && !customer.html.contains("não comentar"), "\(customer.text)")
        #expect(customer.text.contains("(conteúdo confidencial / confidential content)"))
        #expect(byRecipient["bruno@suporte.example"]?.text.contains("não comentar") == true, "the new holder reads the note")
        // Copies are addresses the transferring agent typed (a supplier, a manager at the customer):
        // nobody vouched for them, so the internal note stays in the team (was: mailed to them).
        let copy = try #require(byRecipient["fornecedor@parceiro.example"])
        #expect(!copy.text.contains("não comentar") && !copy.html.contains("não comentar"), "\(copy.text)")
        #expect(copy.text.contains("(conteúdo confidencial / confidential content)"))
        #expect(copy.text.contains("Bruno"), "a copy is still told of the transfer")
        let publicData = try #require(try ReceivedWebhook.all(in: publicHooks.path).first?.1["data"] as? [String: Any])
        #expect(publicData["text"] as? String == "(conteúdo confidencial / confidential content)")
        #expect(publicData["actor_name"] as? String == "Ana")
        let trustedData = try #require(try ReceivedWebhook.all(in: trustedHooks.path).first?.1["data"] as? [String: Any])
        #expect(trustedData["text"] as? String == "cliente difícil, não comentar")
    }

    @Test("""
          A receiver that answers 200 and then stalls its body, or sends 200 MB of it, is called once: its status is the \
          answer (was: the timeout retried it until dead); the log says the answer was cut
          """, arguments: TestEngines.all)
    func answerBodiesDoNotDecide(engine: DatabaseEngine) throws {
        let secret = "receiver-secret-0123456789abcdef"
        var settings = NotificationHarness.settings(smtpPort: try FreePort.next())
        settings.webhookTimeoutMilliseconds = 1_500
        let harness = try NotificationHarness(engine: engine, settings: settings)
        var receivers: [(String, TemporaryDirectory, PythonPeer)] = []
        for body in ["stall", "huge"] {
            let hooks = try TemporaryDirectory(prefix: "hooks-\(body)")
            let receiver = try PythonPeer.webhook(directory: hooks.path, secret: secret, body: body)
            _ = try Self.register(harness, url: receiver.url, secret: secret, kinds: ["TicketOpened"])
            receivers.append((body, hooks, receiver))
        }
        let event = Events.opened(ticketID: "t-answers")
        let started = Date()
        try harness.deliver([Events.envelope(event, key: event.ticketID)])
        #expect(waitFor(20) {
            (try? harness.deliveries(ticketID: "t-answers").filter { $0.channel == "webhook" }.map(\.state)) == ["sent", "sent"]
        })
        // Retries (were: a timeout each, then 50–400 ms) would have called the receivers again by now.
        usleep(1_500_000)
        for (body, _, receiver) in receivers { #expect(receiver.files("json").count == 1, "\(body)") }
        let log = try harness.deliveries(ticketID: "t-answers").filter { $0.channel == "webhook" }
        #expect(log.allSatisfy { $0.attempts == 1 && $0.serverAnswer.hasPrefix("HTTP 200") }, "\(log.map(\.serverAnswer))")
        #expect(log.contains { $0.serverAnswer.contains("answer cut at 4096 bytes") }, "\(log.map(\.serverAnswer))")
        #expect(Date().timeIntervalSince(started) < 15)
        for (_, _, receiver) in receivers { receiver.stop() }
    }
}
