import Foundation
import Testing
import TestSupport

@Suite("The administrators' notifications page in a real headless browser", .serialized)
struct NotificationsPageTests {
    /// The notification tests' peers (Tests/NotificationTests/Support): the webhook receiver that
    /// checks each request's signature, and the parser of the SMTP sink's messages.
    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../NotificationTests/Support").standardized.path

    @Test("an administrator registers a webhook (refused saves store nothing), edits a template's subject (an unknown placeholder refused, the stored one kept), edits who hears of SLA breaches, resets a kind, saves a group's mailbox (an invalid address refused, nothing stored) and rotates the webhook's secret; an opened ticket reaches the receiver signed with the new secret and the customer with the new subject; the page shows the delivery delivered; agents get no page")
    func administratorConfiguresNotifications() throws {
        try PortalBrowser.requireChromium()
        try #require(SMTPSink.isAvailable, "python3 and the SMTP sink script are needed")
        let sink = try SMTPSink()
        defer { sink.stop() }
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: ["NOTIFICATION_SMTP_URL": sink.url])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let admin = seeded.admin
        // An address suppressed by hand, for the page to lift.
        let suppressed = "antigo@acme.com.br"
        let added = try gateway.request("POST", "/v1/email-suppressions", json: ["address": suppressed, "note": "caixa desativada"], bearer: admin)
        #expect(added.status == 201, "\(added.text)")
        let receiverPort = try FreePort.next()
        let receiverURL = "http://127.0.0.1:\(receiverPort)/ocorrencias"
        let credentials = ["PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
                           "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"]

        let setup = try PortalBrowser.run("notifications_page.py", gateway, ["setup", receiverURL, suppressed], environment: credentials)
        #expect(setup.status == 0, Comment(rawValue: setup.output + "\n" + setup.error))
        let secret = PortalBrowser.value(setup.output)
        try #require(setup.output.hasPrefix("OK ") && !secret.isEmpty, Comment(rawValue: setup.output + "\n" + setup.error))

        // Stored as the page left it: one webhook (the refused ones stored nothing), the subject
        // saved first (the refused one changed nothing), Ana's switch, the address lifted.
        let webhooks = try #require(try gateway.request("GET", "/v1/webhooks", bearer: admin).json["webhooks"] as? [[String: Any]])
        #expect(webhooks.count == 1, "\(webhooks)")
        let webhook = try #require(webhooks.first)
        #expect(webhook["url"] as? String == receiverURL && webhook["event_kinds"] as? [String] == ["TicketOpened"], "\(webhook)")
        // Only for Problema tickets of product "erp", as ticked and typed on the page.
        let webhookFilter = webhook["filter"] as? [String: Any]
        #expect(webhookFilter?["categories"] as? [String] == ["PROBLEMA"] && webhookFilter?["products"] as? [String] == ["erp"], "\(webhook)")
        let webhookID = try #require(webhook["id"] as? String)
        let template = try gateway.request("GET", "/v1/templates/TicketOpened?locale=pt-BR", bearer: admin).json["message_template"] as? [String: Any]
        #expect(template?["subject"] as? String == "[{{code}}] Recebemos seu pedido: {{subject}}" && template?["customized"] as? Bool == true,
                "\(String(describing: template))")
        let english = try gateway.request("GET", "/v1/templates/TicketOpened?locale=en", bearer: admin).json["message_template"] as? [String: Any]
        #expect(english?["customized"] as? Bool != true, "\(String(describing: english))")
        let switches = try gateway.request("GET", "/v1/subscriptions?person=ana@suporte.example", bearer: admin).json["subscriptions"] as? [[String: Any]]
        #expect(switches?.count == 1 && switches?.first?["event_kind"] as? String == "SLAWarning" && switches?.first?["enabled"] as? Bool != true,
                "\(String(describing: switches))")
        let suppressions = try gateway.request("GET", "/v1/email-suppressions", bearer: admin).json["suppressions"] as? [[String: Any]] ?? []
        #expect(!suppressions.contains { $0["address"] as? String == suppressed }, "\(suppressions)")
        // Who hears of what, as the page left it: SLA breaches edited, stage changes reset to the
        // default, one mailbox (the refused one stored nothing), four edits recorded by the administrator.
        let rules = try gateway.request("GET", "/v1/notification-rules", bearer: admin).json
        let byKind = Dictionary(uniqueKeysWithValues: (rules["rules"] as? [[String: Any]] ?? []).map { ($0["event_kind"] as? String ?? "", $0) })
        #expect(byKind["SLABreached"]?["audiences"] as? [String] == ["customer", "chefe"] && byKind["SLABreached"]?["customized"] as? Bool == true
                && byKind["SLABreached"]?["updated_by"] as? String == GatewayHarness.adminEmail, "\(String(describing: byKind["SLABreached"]))")
        #expect((byKind["SLABreached"]?["filter"] as? [String: Any])?["priorities"] as? [String] == ["URGENTE"],
                "only Urgente tickets: \(String(describing: byKind["SLABreached"]))")
        #expect(byKind["TicketOpened"]?["filter"] == nil)
        #expect(byKind["StageChanged"]?["customized"] as? Bool != true && (byKind["StageChanged"]?["audiences"] as? [String] ?? []).isEmpty,
                "\(String(describing: byKind["StageChanged"]))")
        #expect(byKind["TicketOpened"]?["audiences"] as? [String] == ["customer"] && byKind["TicketOpened"]?["customized"] as? Bool != true)
        let mailboxes = rules["group_mailboxes"] as? [[String: Any]] ?? []
        #expect(mailboxes.map { "\($0["group_id"] ?? "")=\($0["address"] ?? "")/\($0["source"] ?? "")" } == ["grp-n1=fila-n1@suporte.example/administrator"],
                "\(mailboxes)")
        let changes = rules["recent_changes"] as? [[String: Any]] ?? []
        // Solutions: the rule added on the page (chefe and a fixed address, Urgente only), the default customer's removed.
        let solution = byKind["SolutionGiven"]?["entries"] as? [[String: Any]] ?? []
        #expect(solution.count == 1 && solution.first?["audiences"] as? [String] == ["chefe"]
                && solution.first?["addresses"] as? [String] == ["fiscal@suporte.example"]
                && (solution.first?["filter"] as? [String: Any])?["priorities"] as? [String] == ["URGENTE"], "\(solution)")
        #expect(changes.compactMap { $0["action"] as? String } == ["mailbox", "rule_removed", "rule_added", "reset", "audiences", "audiences"]
                && changes.allSatisfy { $0["changed_by"] as? String == GatewayHarness.adminEmail }, "\(changes)")
        // Through the API: an unknown kind or audience is 400 naming the field; agents get 403;
        // none of it changed what is stored.
        func field(_ response: GatewayHarness.Response) -> String? {
            ((response.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first?["field"] as? String
        }
        let unknownKind = try gateway.request("POST", "/v1/notification-rules/TicketExploded", json: ["audiences": ["customer"]], bearer: admin)
        #expect(unknownKind.status == 400 && field(unknownKind) == "event_kind", "\(unknownKind.text)")
        let unknownAudience = try gateway.request("POST", "/v1/notification-rules/SLABreached", json: ["audiences": ["diretoria"]], bearer: admin)
        #expect(unknownAudience.status == 400 && field(unknownAudience) == "audiences[0]", "\(unknownAudience.text)")
        let badMailbox = try gateway.request("POST", "/v1/group-mailboxes/grp-n1", json: ["address": "n1@"], bearer: admin)
        #expect(badMailbox.status == 400 && field(badMailbox) == "address", "\(badMailbox.text)")
        // A filter's unknown priority name (the gateway reads the enum) or unspecified category
        // (notification refuses it), and a blank product on a webhook: 400 naming the field.
        let unknownPriority = try gateway.request("POST", "/v1/notification-rules/SLABreached",
                                                  json: ["audiences": ["chefe"], "filter": ["priorities": ["URGENTE", "SUPERURGENTE"]]], bearer: admin)
        #expect(unknownPriority.status == 400 && field(unknownPriority) == "filter.priorities[1]", "\(unknownPriority.text)")
        let unspecified = try gateway.request("POST", "/v1/notification-rules/SLABreached",
                                              json: ["audiences": ["chefe"], "filter": ["categories": ["CATEGORY_UNSPECIFIED"]]], bearer: admin)
        #expect(unspecified.status == 400 && field(unspecified) == "filter.categories[0]", "\(unspecified.text)")
        #expect(unspecified.text.contains("Categoria desconhecida"), "\(unspecified.text)")
        let blankProduct = try gateway.request("POST", "/v1/webhooks", json: ["url": "https://hooks.example/x", "event_kinds": ["*"],
                                                                             "filter": ["products": [" "]]], bearer: admin)
        #expect(blankProduct.status == 400 && field(blankProduct) == "filter.products[0]", "\(blankProduct.text)")
        #expect(try gateway.request("POST", "/v1/notification-rules/SLABreached", json: ["audiences": ["holder"]], bearer: seeded.ana).status == 403)
        #expect(try gateway.request("DELETE", "/v1/group-mailboxes/grp-n1", bearer: seeded.ana).status == 403)
        #expect(try gateway.request("POST", "/v1/webhooks/\(webhookID)/secret", json: [:], bearer: seeded.ana).status == 403)
        let after = try gateway.request("GET", "/v1/notification-rules", bearer: admin).json
        let breachRule = (after["rules"] as? [[String: Any]])?.first { $0["event_kind"] as? String == "SLABreached" }
        #expect(breachRule?["audiences"] as? [String] == ["customer", "chefe"]
                && (breachRule?["filter"] as? [String: Any])?["priorities"] as? [String] == ["URGENTE"], "\(String(describing: breachRule))")
        #expect(try gateway.request("GET", "/v1/webhooks", bearer: admin).json["webhooks"].map { ($0 as? [Any])?.count } == 1)
        #expect((after["group_mailboxes"] as? [[String: Any]])?.map { $0["address"] as? String } == ["fila-n1@suporte.example"])
        #expect((after["recent_changes"] as? [[String: Any]])?.count == 6)

        // The receiver knows the secret the page showed once after rotating it (the first one no
        // longer signs); an opened ticket reaches it signed with that one.
        let hooks = try TemporaryDirectory(prefix: "hooks")
        let receiver = try ChildProcess("/usr/bin/python3", ["\(Self.support)/webhook_receiver.py", "--port", String(receiverPort), "--secret", secret,
                                                             "--dir", hooks.path], output: .capture, error: .capture)
        defer { receiver.kill(); _ = receiver.waitUntilExit(timeout: 5) }
        try #require(receiver.waitForCaptured(.standardOutput, containing: "ready", timeout: 15), "\(receiver.capturedText(.standardError))")
        let ticketID = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Pedido congela ao gravar")
        var received: [String: Any] = [:]
        #expect(waitFor(30) {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: hooks.path)) ?? []).filter { $0.hasSuffix(".json") }
            guard let name = files.first, let data = FileManager.default.contents(atPath: "\(hooks.path)/\(name)"),
                  let record = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
            received = record
            return true
        }, "the receiver got nothing: \(receiver.capturedText(.standardError))")
        let body = received["body"] as? [String: Any]
        #expect(received["verified"] as? Bool == true && body?["event"] as? String == "TicketOpened" && body?["ticket_id"] as? String == ticketID,
                "\(received)")
        // Maria's e-mail carries the subject saved on the page.
        var subject = ""
        #expect(waitFor(30) {
            let mails = (try? Self.mails(in: sink.directory)) ?? []
            guard let mail = mails.first(where: { (($0["envelope"] as? [String: Any])?["to"] as? [String])?.contains("maria@acme.com.br") == true })
            else { return false }
            subject = (mail["headers"] as? [String: Any])?["Subject"] as? String ?? ""
            return true
        }, "no e-mail for Maria")
        #expect(subject.contains("Recebemos seu pedido: Pedido congela ao gravar"), "\(subject)")
        // The webhook's delivery is recorded as sent (the recorder writes it after the send).
        #expect(try waitFor(15) {
            let listed = try gateway.request("GET", "/v1/deliveries?recipient=webhook:\(webhookID)", bearer: admin).json["deliveries"] as? [[String: Any]]
            return listed?.count == 1 && listed?.first?["state"] as? String == "sent"
        })

        let shown = try PortalBrowser.run("notifications_page.py", gateway, ["deliveries", receiverURL, suppressed], environment: credentials)
        #expect(shown.status == 0, Comment(rawValue: shown.output + "\n" + shown.error))
        #expect(shown.output.hasPrefix("OK"))
    }

    @Test("an administrator edits a webhook on the page (its form filled in, an ftp address refused in the form): it moves to another receiver with another event and a filter; the next opened ticket reaches the new receiver signed with the same secret, the old one keeps its delivery and its record; agents may not edit it")
    func administratorEditsWebhook() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let admin = seeded.admin
        let secret = "receiver-secret-0123456789abcdef"
        // Two receivers knowing the webhook's secret, each storing what it gets.
        func receiver() throws -> (url: String, directory: TemporaryDirectory, process: ChildProcess) {
            let port = try FreePort.next()
            let directory = try TemporaryDirectory(prefix: "hooks")
            let process = try ChildProcess("/usr/bin/python3", ["\(Self.support)/webhook_receiver.py", "--port", String(port), "--secret", secret,
                                                                "--dir", directory.path], output: .capture, error: .capture)
            try #require(process.waitForCaptured(.standardOutput, containing: "ready", timeout: 15), "\(process.capturedText(.standardError))")
            return ("http://127.0.0.1:\(port)/ocorrencias", directory, process)
        }
        let old = try receiver(), new = try receiver()
        defer { for peer in [old, new] { peer.process.kill(); _ = peer.process.waitUntilExit(timeout: 5) } }
        func tickets(_ peer: (url: String, directory: TemporaryDirectory, process: ChildProcess)) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: peer.directory.path)) ?? []).filter { $0.hasSuffix(".json") }.compactMap { name in
                guard let data = FileManager.default.contents(atPath: "\(peer.directory.path)/\(name)"),
                      let record = try? JSONSerialization.jsonObject(with: data) as? [String: Any], record["verified"] as? Bool == true
                else { return nil }
                return (record["body"] as? [String: Any])?["ticket_id"] as? String
            }
        }
        let registered = try gateway.request("POST", "/v1/webhooks", json: ["url": old.url, "secret": secret, "event_kinds": ["TicketOpened"]], bearer: admin)
        #expect(registered.status == 201, "\(registered.text)")
        let webhookID = try #require((registered.json["webhook"] as? [String: Any])?["id"] as? String)
        let first = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Pedido congela ao gravar")
        #expect(waitFor(30) { tickets(old) == [first] }, "the old receiver got nothing")

        let credentials = ["PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
                           "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"]
        let edited = try PortalBrowser.run("notifications_page.py", gateway, ["edit", old.url, new.url], environment: credentials)
        #expect(edited.status == 0 && edited.output.hasPrefix("OK"), Comment(rawValue: edited.output + "\n" + edited.error))

        let webhooks = try #require(try gateway.request("GET", "/v1/webhooks", bearer: admin).json["webhooks"] as? [[String: Any]])
        #expect(webhooks.count == 1 && webhooks.first?["id"] as? String == webhookID && webhooks.first?["url"] as? String == new.url
                && webhooks.first?["event_kinds"] as? [String] == ["TicketOpened", "SLAWarning"]
                && (webhooks.first?["filter"] as? [String: Any])?["categories"] as? [String] == ["PROBLEMA"], "\(webhooks)")
        // Agents may not edit it (nor move it).
        let byAgent = try gateway.request("POST", "/v1/webhooks/\(webhookID)", json: ["url": old.url, "event_kinds": ["*"]], bearer: seeded.ana)
        #expect(byAgent.status == 403, "\(byAgent.text)")

        // The next ticket (Problema) reaches the new receiver, signed with the same secret; the old
        // one keeps its delivery, whose record still names it.
        let second = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Nota não transmite")
        #expect(waitFor(30) { tickets(new) == [second] }, "the new receiver got nothing: \(tickets(new))")
        #expect(tickets(old) == [first])
        #expect(try waitFor(15) {
            let listed = try gateway.request("GET", "/v1/deliveries?recipient=webhook:\(webhookID)", bearer: admin).json["deliveries"] as? [[String: Any]] ?? []
            let targets = Dictionary(listed.map { ($0["ticket_id"] as? String ?? "", "\($0["state"] ?? "") \($0["target"] ?? "")") }) { a, _ in a }
            return targets == [first: "sent \(old.url)", second: "sent \(new.url)"]
        })
    }

    @Test("a support lead sets Maria's switch for opened tickets to Sim only for Urgente ones on the page, sees it listed with its filter, edits it (Editar fills the form; products typed with a semicolon refused in Portuguese, naming Produtos, nothing changed) to Problema tickets of ERP or Fiscal; then a Problema ticket of ERP (Normal) e-mails Maria and an Urgente Dúvida does not, while a fixed address hearing of every opening gets both")
    func administratorFiltersSubscription() throws {
        try PortalBrowser.requireChromium()
        try #require(SMTPSink.isAvailable, "python3 and the SMTP sink script are needed")
        let sink = try SMTPSink()
        defer { sink.stop() }
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: ["NOTIFICATION_SMTP_URL": sink.url])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let admin = seeded.admin
        let maria = "maria@acme.com.br", witness = "registro@suporte.example"
        // A witness: every opened ticket is e-mailed to a fixed address too (no filter, no switch),
        // so a ticket's planning is known to be done when its delivery is there.
        let added = try gateway.request("POST", "/v1/notification-rules/TicketOpened/entries", json: ["entry": ["addresses": [witness]]], bearer: admin)
        #expect(added.status == 201, "\(added.text)")

        let credentials = ["PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
                           "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"]
        let page = try PortalBrowser.run("notifications_page.py", gateway, ["subscription", maria, "-"], environment: credentials)
        #expect(page.status == 0 && page.output.hasPrefix("OK"), Comment(rawValue: page.output + "\n" + page.error))

        // Stored as the page left it: one switch, on, for Problema tickets of ERP or Fiscal (the
        // Urgente filter replaced, the refused save stored nothing).
        let switches = try #require(try gateway.request("GET", "/v1/subscriptions?person=\(maria)", bearer: admin).json["subscriptions"] as? [[String: Any]])
        #expect(switches.count == 1 && switches.first?["event_kind"] as? String == "TicketOpened" && switches.first?["enabled"] as? Bool == true, "\(switches)")
        let filter = switches.first?["filter"] as? [String: Any]
        #expect(filter?["categories"] as? [String] == ["PROBLEMA"] && filter?["products"] as? [String] == ["ERP", "Fiscal"]
                && (filter?["priorities"] as? [String] ?? []).isEmpty, "\(switches)")

        // A Problema ticket of ERP at Normal priority (not Urgente: the first filter would have
        // left Maria out), then an Urgente Dúvida (which the first filter let through).
        func open(_ subject: String, category: String, priority: String) throws -> String {
            let opened = try gateway.request("POST", "/v1/tickets", json: [
                "subject": subject, "request": "Ao gravar o pedido a tela congela.", "category": category, "priority": priority,
                "product": "ERP", "module": "Vendas", "organization_id": seeded.organizationID], bearer: seeded.maria)
            #expect(opened.status == 201, "\(opened.text)")
            return try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        }
        let matching = try open("Pedido congela ao gravar", category: "PROBLEMA", priority: "NORMAL")
        let other = try open("Como emitir a nota de devolução", category: "DUVIDA", priority: "URGENTE")
        /// The addresses a ticket's opening was planned for, once the witness's delivery is there.
        func recipients(_ ticket: String) throws -> Set<String> {
            var found: Set<String> = []
            #expect(try waitFor(30) {
                let listed = try gateway.request("GET", "/v1/deliveries?ticket_id=\(ticket)", bearer: admin).json["deliveries"] as? [[String: Any]] ?? []
                found = Set(listed.filter { $0["event_kind"] as? String == "TicketOpened" }.compactMap { $0["recipient"] as? String })
                return found.contains(witness)
            }, "no delivery to the witness for \(ticket)")
            return found
        }
        #expect(try recipients(matching) == [witness, maria])
        #expect(try recipients(other) == [witness])

        // The SMTP server got Maria's receipt of the matching ticket only; the witness got both.
        var mails: [(to: [String], subject: String)] = []
        #expect(waitFor(30) {
            mails = ((try? Self.mails(in: sink.directory)) ?? []).map {
                ((($0["envelope"] as? [String: Any])?["to"] as? [String]) ?? [], (($0["headers"] as? [String: Any])?["Subject"] as? String) ?? "")
            }
            return mails.filter { $0.to.contains(witness) }.count == 2 && mails.contains { $0.to.contains(maria) }
        }, "\(mails)")
        let toMaria = mails.filter { $0.to.contains(maria) }.map(\.subject)
        #expect(toMaria.count == 1 && toMaria.first?.contains("Pedido congela ao gravar") == true, "\(toMaria)")
    }

    /// The SMTP sink's messages, parsed by the notification tests' `mail_to_json.py` (headers
    /// decoded, envelope).
    static func mails(in directory: String) throws -> [[String: Any]] {
        let parsed = try ChildProcess.run("/usr/bin/python3", ["\(support)/mail_to_json.py", directory])
        return (try JSONSerialization.jsonObject(with: Data(parsed.output)) as? [[String: Any]]) ?? []
    }
}
