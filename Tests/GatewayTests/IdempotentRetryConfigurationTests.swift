import Foundation
import Storage
import Testing
import TestSupport

/// `Idempotency-Key` on the enforced routes ``IdempotentRetryTests`` leaves out: intake's
/// catalog puts, workflow's versions, inactivity policies, SLA deletes and survey answers,
/// notification's rules, group mailboxes, templates and delivery retries, knowledge's queue
/// reviews and deflection records. Through the gateway to the real services on both engines, the
/// same table-driven check: the same key twice gets the same status and body and one effect (a
/// count that moves once, or a put's state left as a keyless change in between made it), the
/// same key with another body 422.
@Suite("Idempotency-Key on the configuration, review and delivery routes", .serialized)
struct IdempotentRetryConfigurationTests {
    typealias Case = IdempotentRetryTests.Case

    /// The cases, their bodies naming what `seed` made (the default: their routes only).
    static func cases(_ seed: IdempotentRetryTests.Seed = .init()) -> [Case] { [
        Case(route: "POST /v1/origins", path: { _ in "/v1/origins" },
             first: ["key": "parceiro", "label_pt": "Parceiro", "origin_kind": "REPRESENTATIVE", "active": true],
             other: ["key": "parceiro", "label_pt": "Parceiro comercial", "origin_kind": "REPRESENTATIVE", "active": true],
             status: 200, count: ("/v1/origins?include_inactive=true", "entries"), state: "/v1/origins?include_inactive=true"),
        Case(route: "POST /v1/custom-fields", path: { _ in "/v1/custom-fields" },
             first: ["key": "pedido_erp", "label_pt": "Pedido no ERP", "kind": "FIELD_TEXT", "product": "ERP", "active": true],
             other: ["key": "pedido_erp", "label_pt": "Número do pedido", "kind": "FIELD_TEXT", "product": "ERP", "active": true],
             status: 200, count: ("/v1/custom-fields?include_inactive=true", "fields"), state: "/v1/custom-fields?include_inactive=true"),
        Case(route: "POST /v1/support-policy", path: { _ in "/v1/support-policy" }, first: ["writing_tips_pt": "Descreva o passo a passo."],
             other: ["writing_tips_pt": "Anexe o log do erro."], status: 200, state: "/v1/support-policy"),
        Case(route: "POST /v1/versions", path: { _ in "/v1/versions" }, first: ["version": ["id": "v-retry", "name": "ERP 2027.1", "target_date_ms": 1_830_297_600_000]],
             other: ["version": ["id": "v-retry", "name": "ERP 2027.2", "target_date_ms": 1_830_297_600_000]], status: 200,
             count: ("/v1/versions?include_delivered=true", "versions"), state: "/v1/versions?include_delivered=true"),
        Case(route: "POST /v1/inactivity-policies", path: { _ in "/v1/inactivity-policies" },
             first: ["policy": ["id": "retry-3", "stage": "resolvido", "days": 3, "to_stage": "fechado", "outcome": "resolvida", "active": true]],
             other: ["policy": ["id": "retry-3", "stage": "resolvido", "days": 5, "to_stage": "fechado", "outcome": "resolvida", "active": true]],
             status: 200, count: ("/v1/inactivity-policies", "policies"), state: "/v1/inactivity-policies"),
        Case(route: "POST /v1/sla-policies/delete", path: { _ in "/v1/sla-policies/delete" }, first: ["plan": "prata", "priority": "ALTA"],
             other: ["plan": "prata", "priority": "BAIXA"], status: 200, count: ("/v1/sla-policies", "policies"), adds: -1),
        Case(route: "POST /v1/notification-rules/{kind}", path: { _ in "/v1/notification-rules/TicketOpened" }, first: ["audiences": ["customer"]],
             other: ["audiences": ["customer", "holder"]], status: 200, count: ("/v1/notification-rules", "recent_changes"),
             state: "/v1/notification-rules"),
        Case(route: "POST /v1/group-mailboxes/{id}", path: { _ in "/v1/group-mailboxes/n1" }, first: ["address": "n1@suporte.example"],
             other: ["address": "nivel1@suporte.example"], status: 200, count: ("/v1/notification-rules", "recent_changes"),
             state: "/v1/notification-rules"),
        Case(route: "POST /v1/templates", path: { _ in "/v1/templates" },
             first: ["message_template": ["event_kind": "TicketOpened", "locale": "pt-BR", "subject": "Recebemos o seu chamado"]],
             other: ["message_template": ["event_kind": "TicketOpened", "locale": "pt-BR", "subject": "Chamado recebido"]],
             status: 200, state: "/v1/templates/TicketOpened?locale=pt-BR"),
        Case(route: "POST /v1/deliveries/retry", path: { _ in "/v1/deliveries/retry" }, first: [:], other: ["include_failed": true], status: 200),
        Case(route: "POST /v1/deliveries/{id}/replay", path: { "/v1/deliveries/\($0.delivery)/replay" }, first: [:], other: [:], status: 200,
             otherPath: { _ in "/v1/deliveries/nao-existe/replay" }),
        Case(route: "POST /v1/knowledge/queue/{id}/approve", path: { "/v1/knowledge/queue/\($0.queueItems[0])/approve" },
             first: ["publish": true], other: ["publish": false], status: 200, count: ("/v1/knowledge/articles?limit=100", "articles")),
        Case(route: "POST /v1/knowledge/queue/{id}/reject", path: { "/v1/knowledge/queue/\($0.queueItems[1])/reject" },
             first: ["reason": "Duplicado."], other: ["reason": "Fora do escopo."], status: 200),
        Case(route: "POST /v1/knowledge/drafts/{draft}/opened", path: { _ in "/v1/knowledge/drafts/rascunho-retry/opened" },
             first: ["article_id": seed.article], other: ["article_id": "outro"], status: 200, count: ("/v1/knowledge/deflection", "total.drafts"),
             caller: { $0.maria }),
        Case(route: "POST /v1/knowledge/drafts/{draft}/submitted", path: { _ in "/v1/knowledge/drafts/rascunho-retry/submitted" },
             first: ["ticket_id": seed.ticket], other: ["ticket_id": "T-outro"], status: 200, count: ("/v1/knowledge/deflection", "total.tickets"),
             caller: { $0.maria }),
        Case(route: "POST /v1/surveys/answer", path: { _ in "/v1/surveys/answer" }, first: ["token": seed.survey, "score": 4, "comment": "Resolveu."],
             other: ["token": seed.survey, "score": 5], status: 200, caller: { $0.maria }),
    ] }

    @Test("same key twice: same status and body, one effect (a put's retry does not put its body back over a later change); same key, other body: 422",
          arguments: TestEngines.all)
    func retries(engine: DatabaseEngine) throws {
        // The totvs flow: a proposed solution the customer accepts finishes a ticket (a survey).
        let setup = try SeededDeployment(engine: engine, serviceEnvironment: ["WORKFLOW_FLOW": "totvs"])
        let seed = try Self.seed(setup)
        let cases = Self.cases(seed)
        _ = try IdempotentRetryTests.check(cases, seed: seed, gateway: setup.gateway, admin: seed.admin)
        // Without a key the survey's second answer is refused: the keyed retry above was a replay.
        let again = try setup.gateway.request("POST", "/v1/surveys/answer", json: ["token": seed.survey, "score": 4, "comment": "Resolveu."],
                                              bearer: seed.maria)
        #expect(again.status == 409, "\(again.text)")
    }

    /// TicketFlowTests.seed's people; an SLA policy to delete; two tickets of Maria's, each with
    /// an FAQ request queued for review, and an e-mail about the first (a delivery to replay); a third ticket
    /// finished (a survey to answer).
    static func seed(_ setup: SeededDeployment) throws -> IdempotentRetryTests.Seed {
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        var seed = IdempotentRetryTests.Seed(admin: seeded.admin, maria: seeded.maria)
        setup.ok(try gateway.request("POST", "/v1/sla-policies", json: ["policy": ["plan": "prata", "priority": "ALTA", "first_response_minutes": 120,
                                                                                  "resolution_minutes": 960]], bearer: seeded.admin))
        let articles = try gateway.request("GET", "/v1/knowledge/articles?limit=1", bearer: seeded.admin)
        seed.article = try #require(((articles.json["articles"] as? [[String: Any]])?.first)?["id"] as? String, "\(articles.text)")

        let tickets = [try setup.openTicket(subject: "Boleto não registra", request: "O banco recusa o boleto gerado.", module: "Financeiro"),
                       try setup.openTicket(subject: "Relatório em branco", request: "O relatório de vendas fica em branco.", module: "Vendas")]
        seed.ticket = tickets[0]
        for ticket in tickets {
            setup.ok(try gateway.request("POST", "/v1/tickets/\(ticket)/faq-request", json: [
                "request_text": "Como registrar o boleto no banco?", "solution_text": "Atualize o convênio do banco."], bearer: seeded.ana), 201)
        }
        let queue = try gateway.request("GET", "/v1/knowledge/queue", bearer: seeded.admin).json["items"] as? [[String: Any]] ?? []
        seed.queueItems = try tickets.map { ticket in
            try #require(queue.first { $0["ticket_id"] as? String == ticket }?["id"] as? String, "\(queue)")
        }
        setup.ok(try gateway.request("POST", "/v1/tickets/\(tickets[0])/email", json: [
            "to": ["maria@acme.com.br"], "subject": "Sobre o boleto", "body": "Estamos verificando com o banco."], bearer: seeded.ana), 201)
        var deliveries: [[String: Any]] = []
        #expect(try waitFor {
            deliveries = try gateway.request("GET", "/v1/deliveries?ticket_id=\(tickets[0])", bearer: seeded.admin).json["deliveries"] as? [[String: Any]] ?? []
            return deliveries.contains { $0["state"] as? String != "sending" }
        }, "\(deliveries)")
        seed.delivery = try #require(deliveries.first { $0["state"] as? String != "sending" }?["id"] as? String, "\(deliveries)")
        seed.survey = try SurveyPageTests.finishedTicket(gateway, seeded, subject: "Boleto sem convênio").2
        return seed
    }
}
