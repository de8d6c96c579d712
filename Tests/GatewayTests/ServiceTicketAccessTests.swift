import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Knowledge and notification ask the real workflow whether the caller may see the ticket a call
/// is about (`ServiceKit/TicketAccessCheck.swift`), without the gateway's HTTP gate: called
/// directly, and through the gateway's RPC port with an integration key. Notification also learns
/// a raised level from workflow's `TicketAccessLevelChanged` and hides the ticket's e-mails from
/// agents below it.
@Suite("Knowledge and notification enforce workflow's access rules against the real workflow", .serialized)
struct ServiceTicketAccessTests {
    @Test("a ticket at level 1: agent Bia (level 0) and a level-0 integration key get NOT_FOUND from knowledge's and notification's ticket calls and nothing is recorded; Ana (level 1) is served; raised to 2, Ana's log by recipient no longer shows its e-mail",
          arguments: TestEngines.all)
    func confidentialTicket(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        // PROBLEMA tickets open at level 1 (Ana's); Bia is at level 0.
        setup.ok(try gateway.request("POST", "/v1/category-access-levels", json: ["category": "PROBLEMA", "access_level": 1], bearer: seeded.admin))
        setup.ok(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-bia", "name": "Bia", "email": "bia@suporte.example",
                                                                      "max_access_level": 0, "active": true]], bearer: seeded.admin))
        let article = try gateway.request("POST", "/v1/knowledge/articles", json: [
            "kind": "FAQ", "title": "Folha de pagamento com valores errados", "body_markdown": "Recalcule a folha.",
            "product": "ERP", "module": "RH", "visibility": "VISIBILITY_CUSTOMERS", "state": "PUBLISHED"], bearer: seeded.admin)
        setup.ok(article, 201)
        let articleID = try #require(article.json["id"] as? String, "\(article.text)")
        let ticketID = try setup.openTicket(subject: "Folha de pagamento", request: "Os valores da folha não batem.", module: "RH")

        let secret = DeploymentSecret(bytes: Array(gateway.environment["OCORRENCIAS_SECRET"]!.utf8))
        func client(_ service: String) -> RPCClient {
            RPCClient(configuration: ClientConfiguration(endpoints: Endpoint.list(gateway.environment["\(service)_ADDRESSES"]!), secret: secret))
        }
        let knowledge = client("KNOWLEDGE"), notification = client("NOTIFICATION")
        defer { knowledge.close(); notification.close() }
        /// `level`: what the signed principal claims (the gateway signs the user's level;
        /// notification filters its log by it, workflow by its own directory).
        func options(_ id: String, level: Int32 = 3, administrator: Bool = false) -> CallOptions {
            var agent = AuthV1.Principal()
            agent.kind = .agent
            agent.id = id
            agent.displayName = id
            agent.administrator = administrator
            agent.accessLevel = level
            agent.permissions = ["tickets.read", "tickets.work", "knowledge.read"]
            return CallOptions(timeoutMilliseconds: 10_000, metadata: PrincipalSigner(secret: secret).metadata(for: agent))
        }
        func code(_ body: () throws -> Void) -> RPCStatusCode? {
            do { try body(); return nil } catch let error as RPCError { return error.code } catch { return .unknown }
        }
        var link = KnowledgeV1.LinkArticleToTicketRequest()
        link.ticketID = ticketID
        link.articleID = articleID
        var faq = KnowledgeV1.RequestFaqRequest()
        faq.ticketID = ticketID
        faq.requestText = "Os valores da folha não batem."
        faq.solutionText = "Recalcule a folha."
        var email = NotificationV1.SendTicketEmailRequest()
        email.ticketID = ticketID
        email.to = ["maria@acme.com.br"]
        email.subject = "Folha"
        email.body = "Recalcule a folha."
        var byTicket = NotificationV1.ListDeliveriesRequest()
        byTicket.ticketID = ticketID
        var byRecipient = NotificationV1.ListDeliveriesRequest()
        byRecipient.recipient = "maria@acme.com.br"

        // Bia, calling the services directly, claiming level 3: workflow's directory says 0.
        let asBia = options("A-bia")
        #expect(code { _ = try knowledge.call(KnowledgeV1.Knowledge.linkArticleToTicket, link, options: asBia) } == .notFound)
        #expect(code { _ = try knowledge.call(KnowledgeV1.Knowledge.requestFaq, faq, options: asBia) } == .notFound)
        #expect(code { _ = try notification.call(NotificationV1.Notification.sendTicketEmail, email, options: asBia) } == .notFound)
        #expect(code { _ = try notification.call(NotificationV1.Notification.listDeliveries, byTicket, options: asBia) } == .notFound)

        // A level-0 integration key that reads internal articles, through the gateway's RPC port.
        let created = try gateway.request("POST", "/v1/api-keys", json: [
            "name": "ERP", "role": "agent", "access_level": 0,
            "permissions": ["tickets.read", "knowledge.read", "knowledge.read_internal"]], bearer: seeded.admin)
        setup.ok(created, 201)
        let key = try #require(created.json["key"] as? String)
        let proxy = ProxyTests.client(port: gateway.proxyPort, key: key)
        defer { proxy.close() }
        #expect(code { _ = try proxy.call(KnowledgeV1.Knowledge.linkArticleToTicket, link) } == .notFound)
        #expect(code { _ = try proxy.call(KnowledgeV1.Knowledge.requestFaq, faq) } == .notFound)
        #expect(code { _ = try proxy.call(NotificationV1.Notification.sendTicketEmail, email) } == .notFound)
        #expect(code { _ = try proxy.call(NotificationV1.Notification.listDeliveries, byTicket) } == .notFound)

        // Nothing was recorded: no FAQ request in the editors' queue, no e-mail in the log.
        let asAdmin = options("admin", administrator: true)
        let queue = try knowledge.call(KnowledgeV1.Knowledge.listEditorQueue, KnowledgeV1.ListEditorQueueRequest(), options: asAdmin)
        #expect(!queue.items.contains { $0.ticketID == ticketID })
        #expect(try notification.call(NotificationV1.Notification.listDeliveries, byTicket, options: asAdmin)
            .deliveries.filter { $0.eventKind == "TicketEmail" }.isEmpty)

        // Ana (level 1) is served.
        let asAna = options("A-ana", level: 1)
        #expect(try knowledge.call(KnowledgeV1.Knowledge.linkArticleToTicket, link, options: asAna).eventID.isEmpty == false)
        #expect(try knowledge.call(KnowledgeV1.Knowledge.requestFaq, faq, options: asAna).ticketID == ticketID)
        let sent = try #require(try notification.call(NotificationV1.Notification.sendTicketEmail, email, options: asAna).delivery)
        #expect(try notification.call(NotificationV1.Notification.listDeliveries, byTicket, options: asAna).deliveries.map(\.id).contains(sent.id))
        #expect(try notification.call(NotificationV1.Notification.listDeliveries, byRecipient, options: asAna).deliveries.map(\.id).contains(sent.id))

        // What the check costs (printed, docs/NOTIFICATION.md): ListDeliveries by ticket as an
        // administrator (workflow not asked) and as Ana (one GetTicketHolder each).
        func meanMicroseconds(_ options: CallOptions) throws -> Int {
            let start = Date()
            for _ in 0..<200 { _ = try notification.call(NotificationV1.Notification.listDeliveries, byTicket, options: options) }
            return Int(Date().timeIntervalSince(start) * 1_000_000 / 200)
        }
        _ = try meanMicroseconds(asAdmin)
        let unchecked = try meanMicroseconds(asAdmin), checked = try meanMicroseconds(asAna)
        print("ListDeliveries by ticket (\(engine)): \(unchecked) µs unchecked, \(checked) µs asking workflow")

        // The ticket is raised to level 2: notification hears of it from workflow's event, and
        // Ana's log by recipient (no ticket named, so workflow is not asked) no longer shows it.
        setup.ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/access-level", json: ["access_level": 2, "reason": "diretoria"],
                               bearer: seeded.admin))
        #expect(waitFor(15) {
            (try? notification.call(NotificationV1.Notification.listDeliveries, byRecipient, options: asAna).deliveries.map(\.id).contains(sent.id)) == false
        })
        #expect(code { _ = try notification.call(NotificationV1.Notification.listDeliveries, byTicket, options: asAna) } == .notFound)
        #expect(try notification.call(NotificationV1.Notification.listDeliveries, byRecipient, options: asAdmin).deliveries.map(\.id).contains(sent.id))
    }

    @Test("the delivery log asks workflow once per request: for an agent notification asks (its TicketAccessCheck) and the gateway not, by path or by ticket_id; for an administrator, whom notification trusts, the gateway's gate asks; a missing ticket is 404 for both")
    func deliveryLogAsksOnce() throws {
        let setup = try SeededDeployment(engine: .sqlite)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let ticketID = try setup.openTicket(subject: "Nota fiscal rejeitada", request: "Rejeição 539.", module: "Fiscal")
        /// The gateway's own `GetTicketHolder` calls so far (notification's are counted by
        /// NotificationTests' `TicketAccessTests.hiddenTicket`: one per call for an agent, none for an administrator).
        func asked() throws -> Double {
            ViewCacheTests.counter(try gateway.request("GET", "/metrics", bearer: seeded.admin).text, "gateway_rpc_client_calls_total",
                                   ["Workflow/GetTicketHolder\""])
        }
        for path in ["/v1/tickets/\(ticketID)/deliveries", "/v1/deliveries?ticket_id=\(ticketID)"] {
            var before = try asked()
            setup.ok(try gateway.request("GET", path, bearer: seeded.ana))
            #expect(try asked() == before, "\(path): the gateway asked workflow for an agent, whom notification asks about")
            before = try asked()
            setup.ok(try gateway.request("GET", path, bearer: seeded.admin))
            #expect(try asked() == before + 1, "\(path): an administrator is asked about once, by the gateway")
        }
        for path in ["/v1/tickets/sem-ocorrencia/deliveries", "/v1/deliveries?ticket_id=sem-ocorrencia"] {
            #expect(try gateway.request("GET", path, bearer: seeded.ana).status == 404, "\(path)")
            #expect(try gateway.request("GET", path, bearer: seeded.admin).status == 404, "\(path)")
        }
    }

    @Test("POST /v1/tickets/{id}/articles, /email and /faq-request ask workflow once per request: for an agent knowledge and notification ask (their TicketAccessCheck) and the gateway not; for an administrator the gateway's gate asks; a missing ticket is 404 for both; a ticket raised above the agent's level is 404 for her and nothing is recorded",
          arguments: TestEngines.all)
    func ticketWritesAskOnce(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let articles = try gateway.request("GET", "/v1/knowledge/articles?limit=1", bearer: seeded.admin)
        let articleID = try #require(((articles.json["articles"] as? [[String: Any]])?.first)?["id"] as? String, "\(articles.text)")
        let ticketID = try setup.openTicket(subject: "Boleto não registra", request: "O banco recusa o boleto gerado.", module: "Financeiro")
        /// The gateway's own `GetTicketHolder` calls so far (knowledge's and notification's are
        /// theirs: `TicketAccessCheck`, one per call for an agent, none for an administrator).
        func asked() throws -> Double {
            ViewCacheTests.counter(try gateway.request("GET", "/metrics", bearer: seeded.admin).text, "gateway_rpc_client_calls_total",
                                   ["Workflow/GetTicketHolder\""])
        }
        let writes: [(path: String, body: [String: Any])] = [
            ("articles", ["article_id": articleID]),
            ("email", ["to": ["maria@acme.com.br"], "subject": "Sobre o boleto", "body": "Estamos verificando com o banco."]),
            ("faq-request", ["request_text": "Como registrar o boleto no banco?", "solution_text": "Atualize o convênio do banco."]),
        ]
        for write in writes {
            let path = "/v1/tickets/\(ticketID)/\(write.path)"
            var before = try asked()
            setup.ok(try gateway.request("POST", path, json: write.body, bearer: seeded.ana), 201)
            #expect(try asked() == before, "\(path): the gateway asked workflow for an agent, whom the service asks about")
            before = try asked()
            setup.ok(try gateway.request("POST", path, json: write.body, bearer: seeded.admin), 201)
            #expect(try asked() == before + 1, "\(path): an administrator is asked about once, by the gateway")
            for bearer in [seeded.ana, seeded.admin] {
                let missing = try gateway.request("POST", "/v1/tickets/sem-ocorrencia/\(write.path)", json: write.body, bearer: bearer)
                #expect(missing.status == 404, "\(write.path): \(missing.text)")
            }
        }

        // Raised above Ana's level (1): each write is 404 for her, as a missing ticket, and
        // nothing more is recorded (the editors' queue and the e-mail log as the administrator sees them).
        func recorded() throws -> (faq: Int, emails: Int) {
            let queue = try gateway.request("GET", "/v1/knowledge/queue", bearer: seeded.admin).json["items"] as? [[String: Any]] ?? []
            let log = try gateway.request("GET", "/v1/tickets/\(ticketID)/deliveries", bearer: seeded.admin).json["deliveries"] as? [[String: Any]] ?? []
            return (queue.filter { $0["ticket_id"] as? String == ticketID }.count,
                    log.filter { $0["event_kind"] as? String == "TicketEmail" }.count)
        }
        setup.ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/access-level", json: ["access_level": 2, "reason": "diretoria"],
                                     bearer: seeded.admin))
        let before = try recorded()
        #expect(before.emails == 2 && before.faq >= 1, "\(before)")
        for write in writes {
            let hidden = try gateway.request("POST", "/v1/tickets/\(ticketID)/\(write.path)", json: write.body, bearer: seeded.ana)
            #expect(hidden.status == 404, "\(write.path): \(hidden.text)")
            #expect(!hidden.text.contains("boleto"), "\(write.path): \(hidden.text)")
        }
        let after = try recorded()
        #expect(after.faq == before.faq && after.emails == before.emails, "\(before) → \(after)")
    }
}
