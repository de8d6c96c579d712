import Foundation
import Storage
import Testing
import TestSupport

/// Ana's ticket taken by her chefe while her page is open: her actions on it answer 422
/// (`no_longer_holder`, saying who took it and when, both languages) — the answer the portal draws
/// the page again with — not 403; an agent who never held it still gets 403.
@Suite("Gateway: a former holder's action answers that the ticket changed hands")
struct FormerHolderRouteTests {
    /// Ana's ticket, taken by her chefe Bruno; Caio, a colleague, never held it. The deployment
    /// is kept with it (its processes stop with it).
    struct Taken {
        let deployment: ProxyTests.Deployment
        let seeded: TicketFlowTests.Seeded
        let bruno: String, caio: String, ticket: String
        var gateway: GatewayHarness { deployment.gateway }
    }

    static func anasTicketTakenByBruno(_ engine: DatabaseEngine) throws -> Taken {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let bruno = try TicketHandlingPageTests.addBruno(gateway, seeded, chefe: true)
        try TicketHandlingPageTests.addCaio(gateway, seeded)
        let caio = try gateway.createUser(admin: seeded.admin, email: "caio@suporte.example", role: "agent", agent: "A-caio", accessLevel: 0)
        // Bruno is Ana's chefe.
        #expect(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-ana", "name": "Ana", "email": "ana@suporte.example",
                                                                          "max_access_level": 1, "active": true, "chefe_agent_id": "A-bruno"]],
                                    bearer: seeded.admin).status == 200)
        let ticket = try ReplyFilesTests.openTicket(gateway, seeded)
        #expect(try waitFor { try gateway.request("POST", "/v1/tickets/\(ticket)/take", json: [:], bearer: seeded.ana).status == 200 })
        let taken = try gateway.request("POST", "/v1/tickets/\(ticket)/take", json: [:], bearer: bruno)
        #expect(taken.status == 200, "\(taken.text)")
        return Taken(deployment: deployment, seeded: seeded, bruno: bruno, caio: caio, ticket: ticket)
    }

    @Test("the chefe takes Ana's ticket: her move, public reply and repasse without `expected` are 422 no_longer_holder naming Bruno; Caio's move is 403; nothing changed",
          arguments: TestEngines.all)
    func chefesTake(engine: DatabaseEngine) throws {
        let taken = try Self.anasTicketTakenByBruno(engine)
        let (gateway, seeded, caio, ticket) = (taken.gateway, taken.seeded, taken.caio, taken.ticket)

        for (path, body) in [("move", ["to_stage": "diagnostico_tecnico"] as [String: Any]),
                             ("discussion", ["is_public": true, "text": "Já verifiquei o certificado."]),
                             ("transfer", ["to_group_id": "n1"])] {
            let refused = try gateway.request("POST", "/v1/tickets/\(ticket)/\(path)", json: body, bearer: seeded.ana)
            let error = refused.json["error"] as? [String: Any]
            let detail = (error?["details"] as? [[String: Any]])?.first
            #expect(refused.status == 422 && detail?["reason"] as? String == "no_longer_holder" && detail?["field"] as? String == "ticket_id",
                    "\(path): \(refused.text)")
            #expect((error?["message"] as? String)?.contains("Bruno a assumiu em") == true
                    && (error?["message_en"] as? String)?.contains("Bruno took it at") == true
                    && (error?["message_en"] as? String)?.contains("agent Bruno") == true, "\(path): \(refused.text)")
            // The two languages split where they meet (before, at the " / " between group and agent).
            #expect((error?["message"] as? String)?.hasSuffix("recarregue") == true
                    && (error?["message_en"] as? String)?.hasPrefix("you no longer hold this ticket") == true, "\(path): \(refused.text)")
            #expect((detail?["message"] as? String)?.hasPrefix("Bruno a assumiu em") == true
                    && (detail?["message_en"] as? String)?.hasPrefix("Bruno took it at") == true, "\(path): \(refused.text)")
        }
        let never = try gateway.request("POST", "/v1/tickets/\(ticket)/move", json: ["to_stage": "diagnostico_tecnico"], bearer: caio)
        #expect(never.status == 403, "\(never.text)")
        let row = try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: seeded.admin).json["workflow"]
            .flatMap { ($0 as? [String: Any])?["row"] as? [String: Any] }
        #expect(row?["stage"] as? String == "em_atendimento" && (row?["holder"] as? [String: Any])?["agent_id"] as? String == "A-bruno",
                "\(String(describing: row))")
    }

    @Test("the chefe takes Ana's ticket: her e-mail about it (notification, asking workflow) is 422 no_longer_holder naming Bruno, as workflow answers; Caio's is 403 may_not_act; nothing is queued; Bruno's goes out",
          arguments: TestEngines.all)
    func ticketEmail(engine: DatabaseEngine) throws {
        let taken = try Self.anasTicketTakenByBruno(engine)
        let (gateway, seeded, ticket) = (taken.gateway, taken.seeded, taken.ticket)
        let email: [String: Any] = ["to": ["maria@acme.com.br"], "subject": "Sobre o certificado", "body": "Já verifiquei o certificado."]
        let refused = try gateway.request("POST", "/v1/tickets/\(ticket)/email", json: email, bearer: seeded.ana)
        let error = refused.json["error"] as? [String: Any]
        let detail = (error?["details"] as? [[String: Any]])?.first
        #expect(refused.status == 422 && error?["code"] as? String == "FAILED_PRECONDITION"
                && detail?["reason"] as? String == "no_longer_holder" && detail?["field"] as? String == "ticket_id", "\(refused.text)")
        #expect((error?["message"] as? String)?.contains("Bruno a assumiu em") == true
                && (error?["message"] as? String)?.hasSuffix("recarregue") == true
                && (error?["message_en"] as? String)?.hasPrefix("you no longer hold this ticket (Bruno took it at") == true
                && (error?["message_en"] as? String)?.contains("agent Bruno") == true, "\(refused.text)")
        #expect((detail?["message"] as? String)?.hasPrefix("Bruno a assumiu em") == true
                && (detail?["message_en"] as? String)?.hasPrefix("Bruno took it at") == true, "\(refused.text)")
        // The same words as workflow's answer to her move.
        let move = try gateway.request("POST", "/v1/tickets/\(ticket)/move", json: ["to_stage": "diagnostico_tecnico"], bearer: seeded.ana)
        let moveError = move.json["error"] as? [String: Any]
        #expect(move.status == 422 && moveError?["message"] as? String == error?["message"] as? String
                && moveError?["message_en"] as? String == error?["message_en"] as? String, "\(move.text)\n\(refused.text)")
        // Caio never held it: a permission, as before.
        let never = try gateway.request("POST", "/v1/tickets/\(ticket)/email", json: email, bearer: taken.caio)
        let neverDetail = ((never.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first
        #expect(never.status == 403 && neverDetail?["reason"] as? String == "may_not_act", "\(never.text)")
        let deliveries = try gateway.request("GET", "/v1/deliveries?ticket_id=\(ticket)", bearer: seeded.admin)
        #expect(deliveries.status == 200 && !deliveries.text.contains("Sobre o certificado"), "\(deliveries.text)")
        // Bruno, who holds it, sends it.
        let sent = try gateway.request("POST", "/v1/tickets/\(ticket)/email", json: email, bearer: taken.bruno)
        #expect(sent.status == 201, "\(sent.text)")
    }
}
