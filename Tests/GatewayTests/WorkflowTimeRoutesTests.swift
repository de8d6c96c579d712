import Foundation
import Storage
import Testing
import TestSupport

@Suite("Workflow's time half through the gateway: administration, SLA in the queue, solution verdict, survey, outbox lag", .serialized)
struct WorkflowTimeRoutesTests {
    /// A calendar open around the clock (so SLA clocks run whenever the test runs) and an SLA
    /// policy for every plan and priority on it; returns nothing, checks each answer.
    static func configureSLA(_ gateway: GatewayHarness, admin: String, resolutionMinutes: Int = 600,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let allWeek = (0...6).map { ["weekday": $0, "intervals": [["start_minute": 0, "end_minute": 1440]]] }
        let calendar = try gateway.request("POST", "/v1/calendars", json: ["calendar": [
            "id": "24x7", "name": "Sempre aberto", "time_zone": "America/Sao_Paulo", "weekly": allWeek, "national_holidays": false]], bearer: admin)
        #expect(calendar.status == 200, "\(calendar.text)", sourceLocation: sourceLocation)
        let policy = try gateway.request("POST", "/v1/sla-policies", json: ["policy": [
            "plan": "*", "first_response_minutes": 60, "next_response_minutes": 120, "resolution_minutes": resolutionMinutes,
            "warning_percent": 80, "calendar_id": "24x7"]], bearer: admin)
        #expect(policy.status == 200, "\(policy.text)", sourceLocation: sourceLocation)
    }

    @Test("calendars, SLA and inactivity policies by HTTP; SLA badges in the queue; accept the solution; answer the survey; outbox lag in /metrics",
          arguments: TestEngines.all)
    func workflowTime(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine, serviceEnvironment: ["WORKFLOW_FLOW": "totvs"])
        let gateway = deployment.gateway
        func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        }
        let seeded = try TicketFlowTests.seed(gateway)
        let (admin, maria, ana) = (seeded.admin, seeded.maria, seeded.ana)

        // Administration: calendars, SLA policies, inactivity policies (workflow-time), each listed back.
        try Self.configureSLA(gateway, admin: admin)
        let calendars = try gateway.request("GET", "/v1/calendars", bearer: admin)
        ok(calendars)
        #expect(calendars.text.contains("Sempre aberto"))
        let calendar = try gateway.request("GET", "/v1/calendars/24x7?holidays_year=2026", bearer: admin)
        ok(calendar)
        #expect((calendar.json["calendar"] as? [String: Any])?["time_zone"] as? String == "America/Sao_Paulo")
        ok(try gateway.request("GET", "/v1/calendars/nope", bearer: admin), 404)
        let badCalendar = try gateway.request("POST", "/v1/calendars", json: ["calendar": ["id": "x", "time_zone": "Mars/Olympus"]], bearer: admin)
        #expect(badCalendar.status == 400, "\(badCalendar.text)")
        let policies = try gateway.request("GET", "/v1/sla-policies", bearer: ana)
        ok(policies)
        #expect(((policies.json["policies"] as? [[String: Any]])?.first?["calendar_id"] as? String) == "24x7", "\(policies.text)")
        ok(try gateway.request("POST", "/v1/sla-policies", json: ["policy": ["plan": "*", "resolution_minutes": 5]], bearer: ana), 403)
        ok(try gateway.request("POST", "/v1/sla-policies", json: ["policy": ["plan": "basico", "priority": "URGENTE", "resolution_minutes": 240,
                                                                            "calendar_id": "24x7"]], bearer: admin))
        let deleted = try gateway.request("POST", "/v1/sla-policies/delete", json: ["plan": "basico", "priority": "URGENTE"], bearer: admin)
        ok(deleted)
        #expect(deleted.json["deleted"] as? Bool == true)
        ok(try gateway.request("POST", "/v1/inactivity-policies/presets", json: ["preset": "totvs"], bearer: admin))
        let inactivity = try gateway.request("POST", "/v1/inactivity-policies", json: ["policy": [
            "id": "resolvido-3", "stage": "resolvido", "days": 3, "to_stage": "fechado", "outcome": "resolvida", "active": true]], bearer: admin)
        ok(inactivity)
        #expect(try gateway.request("GET", "/v1/inactivity-policies", bearer: admin).text.contains("resolvido-3"))
        ok(try gateway.request("DELETE", "/v1/inactivity-policies/resolvido-3", bearer: admin))
        #expect(try !gateway.request("GET", "/v1/inactivity-policies", bearer: admin).text.contains("resolvido-3"))
        // Deleting calendars: never the default one (it is edited), never one a policy uses (the
        // refusal names the policies), an unused one yes (administrators only); an unknown id is no error.
        ok(try gateway.request("DELETE", "/v1/calendars/padrao", bearer: admin), 422)
        let inUse = try gateway.request("DELETE", "/v1/calendars/24x7", bearer: admin)
        ok(inUse, 422)
        let reasons = (((inUse.json["error"] as? [String: Any])?["details"] as? [[String: Any]]) ?? []).compactMap { $0["message_en"] as? String }
        #expect(reasons == ["in use: SLA policy * · any priority"], "\(inUse.text)")
        ok(try gateway.request("POST", "/v1/calendars", json: ["calendar": ["id": "temporario", "weekly": [
            ["weekday": 1, "intervals": [["start_minute": 480, "end_minute": 1080]]]]]], bearer: admin))
        ok(try gateway.request("DELETE", "/v1/calendars/temporario", bearer: ana), 403)
        let removed = try gateway.request("DELETE", "/v1/calendars/temporario", bearer: admin)
        ok(removed)
        #expect(removed.json["deleted"] as? Bool == true, "\(removed.text)")
        ok(try gateway.request("GET", "/v1/calendars/temporario", bearer: admin), 404)
        #expect(try gateway.request("DELETE", "/v1/calendars/temporario", bearer: admin).json["deleted"] as? Bool != true)

        // A ticket: its queue row carries the SLA state and due time, read in the listing itself.
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Boleto não registra", "request": "O banco devolve o boleto sem registro.", "category": "PROBLEMA",
            "priority": "ALTA", "product": "ERP", "module": "Financeiro"], bearer: maria)
        ok(opened, 201)
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String)
        let openedAt = Date().timeIntervalSince1970 * 1000
        var queueRow: [String: Any] = [:]
        #expect(try waitFor {
            let queue = try gateway.request("GET", "/v1/tickets", bearer: ana)
            queueRow = ((queue.json["tickets"] as? [[String: Any]]) ?? []).first { $0["ticket_id"] as? String == ticketID } ?? [:]
            return queueRow["sla_state"] as? String == "on_time"
        }, "\(queueRow)")
        // First response within 60 business minutes of a 24x7 calendar: due about an hour after opening.
        let due = (queueRow["sla_due_at_ms"] as? NSNumber)?.doubleValue ?? 0
        #expect(due > openedAt + 50 * 60_000 && due < openedAt + 70 * 60_000, "\(queueRow)")
        // Customers' listings carry no SLA.
        let customerRow = ((try gateway.request("GET", "/v1/tickets", bearer: maria).json["tickets"] as? [[String: Any]]) ?? [])
            .first { $0["ticket_id"] as? String == ticketID } ?? [:]
        #expect((customerRow["sla_state"] as? String ?? "").isEmpty && (customerRow["sla_due_at_ms"] as? Int ?? 0) == 0, "\(customerRow)")

        // No survey before the ticket finishes; no verdict moves before a solution is proposed.
        let early = try gateway.request("GET", "/v1/tickets/\(ticketID)/survey", bearer: maria)
        ok(early)
        #expect(early.json["available"] as? Bool != true)
        #expect(try (gateway.request("GET", "/v1/tickets/\(ticketID)/moves", bearer: maria).json["moves"] as? [Any] ?? []).isEmpty)

        // The agent: links an article, e-mails the customer about the ticket, proposes the solution.
        ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/take", bearer: ana))
        let articles = try gateway.request("GET", "/v1/knowledge/search?q=nota%20fiscal", bearer: ana)
        let articleID = try #require(((articles.json["hits"] as? [[String: Any]])?.first)?["id"] as? String, "\(articles.text)")
        ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/articles", json: ["article_id": articleID], bearer: ana), 201)
        #expect(try waitFor {
            try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: maria).text.contains("Nota fiscal rejeitada")
        })
        ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/email", json: [
            "to": ["maria@acme.com.br"], "subject": "Sobre o boleto", "body": "Estamos verificando com o banco."], bearer: ana), 201)
        #expect(try waitFor {
            try gateway.request("GET", "/v1/deliveries?ticket_id=\(ticketID)", bearer: admin).text.contains("maria@acme.com.br")
        })
        ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/solution", json: ["text": "Convênio do banco atualizado."], bearer: ana))
        ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/move", json: ["to_stage": "resolvido", "public_note": "Convênio atualizado; teste de novo."],
                               bearer: ana))

        // The customer sees accept (finishes with an outcome) and reject (back to work) and accepts.
        let moves = try gateway.request("GET", "/v1/tickets/\(ticketID)/moves", bearer: maria)
        ok(moves)
        let offered = (moves.json["moves"] as? [[String: Any]]) ?? []
        #expect(Set(offered.compactMap { $0["to_stage"] as? String }) == ["fechado", "em_atendimento"], "\(moves.text)")
        let accept = try #require(offered.first { ($0["outcome"] as? String ?? "").isEmpty == false })
        ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/move", json: ["to_stage": accept["to_stage"] as? String ?? ""], bearer: maria))

        // Another proposed solution that the customer rejects: the ticket goes back into work, with her reason.
        let second = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Relatório não abre", "request": "O relatório de vendas fica em branco.", "category": "PROBLEMA",
            "priority": "NORMAL", "product": "ERP", "module": "Vendas"], bearer: maria)
        ok(second, 201)
        let secondID = try #require((second.json["ticket"] as? [String: Any])?["id"] as? String)
        #expect(try waitFor { try gateway.request("POST", "/v1/tickets/\(secondID)/take", bearer: ana, conform: false).status == 200 })
        ok(try gateway.request("POST", "/v1/tickets/\(secondID)/move", json: ["to_stage": "resolvido", "public_note": "Limpe o cache."], bearer: ana))
        let secondMoves = (try gateway.request("GET", "/v1/tickets/\(secondID)/moves", bearer: maria).json["moves"] as? [[String: Any]]) ?? []
        let reject = try #require(secondMoves.first { ($0["outcome"] as? String ?? "").isEmpty })
        let rejected = try gateway.request("POST", "/v1/tickets/\(secondID)/move", json: [
            "to_stage": reject["to_stage"] as? String ?? "", "note": "Continua em branco."], bearer: maria)
        ok(rejected)
        #expect(((rejected.json["row"] as? [String: Any])?["stage"] as? String) == "em_atendimento", "\(rejected.text)")
        #expect(try gateway.request("GET", "/v1/tickets/\(secondID)", bearer: ana).text.contains("Continua em branco."))
        ok(try gateway.request("GET", "/v1/tickets/\(secondID)/survey", bearer: maria))

        // The survey: the customer gets a token on her ticket and answers; the answer is stored.
        var survey: [String: Any] = [:]
        #expect(try waitFor {
            survey = try gateway.request("GET", "/v1/tickets/\(ticketID)/survey", bearer: maria).json
            return !(survey["token"] as? String ?? "").isEmpty
        }, "\(survey)")
        let stranger = try gateway.createOutsider(admin: admin, email: "y@outra.com").token
        ok(try gateway.request("GET", "/v1/tickets/\(ticketID)/survey", bearer: stranger), 404)
        let staffView = try gateway.request("GET", "/v1/tickets/\(ticketID)/survey", bearer: ana)
        ok(staffView)
        #expect(staffView.json["available"] as? Bool == true && (staffView.json["token"] as? String ?? "").isEmpty, "\(staffView.text)")
        ok(try gateway.request("POST", "/v1/surveys/answer", json: ["token": survey["token"] as? String ?? "", "score": 4, "comment": "Resolveu."],
                               headers: ["Authorization": "Bearer \(maria)"]))
        ok(try gateway.request("POST", "/v1/surveys/answer", json: ["token": survey["token"] as? String ?? "", "score": 5], bearer: maria), 409)
        let answered = try gateway.request("GET", "/v1/tickets/\(ticketID)/survey", bearer: ana)
        #expect(answered.json["answered"] as? Bool == true && answered.json["score"] as? Int == 4 && answered.json["comment"] as? String == "Resolveu.",
                "\(answered.text)")
        #expect(try (gateway.request("GET", "/v1/tickets/\(ticketID)/survey", bearer: maria).json["token"] as? String ?? "").isEmpty)
        let results = try gateway.request("GET", "/v1/surveys/results?group_by=agent", bearer: admin)
        ok(results)
        #expect(results.text.contains("A-ana"), "\(results.text)")

        // /metrics: outbox lag of every service (Stats/Outbox, asked at scrape time) and the gateway's.
        let metrics = try gateway.request("GET", "/metrics", bearer: admin)
        for service in ["intake", "workflow", "notification", "knowledge", "gateway"] {
            #expect(metrics.text.contains("ocorrencias_outbox_pending{service=\"\(service)\"} "), "\(service)")
            #expect(metrics.text.contains("ocorrencias_outbox_oldest_age_seconds{service=\"\(service)\"} "), "\(service)")
        }
        #expect(metrics.text.contains("# TYPE ocorrencias_outbox_pending gauge"))
        #expect(metrics.text.contains("ocorrencias_outbox_count_limit{service=\"intake\"} \(Outbox.countLimit)"), "counts stop at the limit")
        for service in ["intake", "workflow", "notification", "knowledge", "gateway"] {
            #expect(metrics.text.contains("ocorrencias_service_up{service=\"\(service)\"} 1"), "\(service)")
        }
        // A stopped service says so: up 0, and no lag series of its own.
        let notification = try #require(deployment.services.first { $0.name == "notification" })
        #expect(notification.stop() == 0)
        let down = try gateway.request("GET", "/metrics", bearer: admin)
        #expect(down.text.contains("ocorrencias_service_up{service=\"notification\"} 0") && down.text.contains("ocorrencias_service_up{service=\"intake\"} 1"),
                "\(down.text.split(separator: "\n").filter { $0.contains("service_up") })")
        #expect(!down.text.contains("ocorrencias_outbox_pending{service=\"notification\"}"))
    }

    @Test("the metrics report filters by group, product and holder (?group= &product= &agent=); a bad value is 400 naming the parameter",
          arguments: TestEngines.all)
    func metricsFilters(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        }
        let seeded = try TicketFlowTests.seed(gateway)
        let (admin, maria, ana) = (seeded.admin, seeded.maria, seeded.ana)
        ok(try gateway.request("POST", "/v1/groups", json: ["group": ["id": "n2", "name": "Nível 2", "active": true]], bearer: admin))
        // One ticket, routed to n1 (the seed's rule), product ERP; Ana takes it.
        let ticket = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Relatório não abre", "request": "O relatório de vendas trava.", "category": "PROBLEMA",
            "priority": "NORMAL", "product": "ERP", "module": "Vendas"], bearer: maria)
        ok(ticket, 201)
        let ticketID = try #require((ticket.json["ticket"] as? [String: Any])?["id"] as? String)
        // The period around today, whatever the time zones (local days of São Paulo).
        let day: (TimeInterval) -> String = {
            ISO8601DateFormatter.string(from: Date().addingTimeInterval($0 * 86_400), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        }
        let period = "from_day=\(day(-1))&to_day=\(day(2))"
        func openedCount(_ filter: String, as token: String = admin) throws -> Int {
            let report = try gateway.request("GET", "/v1/reports/metrics?\(period)\(filter)", bearer: token)
            #expect(report.status == 200, "\(report.text)")
            let value = (report.json["totals"] as? [String: Any])?["opened"]
            return value.flatMap { Int("\($0)") } ?? 0
        }
        #expect(try waitFor { try openedCount("&group=n1") == 1 }, "the ticket reaches workflow's metrics")
        #expect(try openedCount("") == 1)
        #expect(try openedCount("&product=ERP") == 1)
        #expect(try openedCount("&group=n1&product=ERP", as: ana) == 1)
        #expect(try openedCount("&group=n2") == 0)
        #expect(try openedCount("&product=Outro") == 0)
        #expect(try openedCount("&group=grupo-inexistente") == 0, "an unknown group is an empty report, not an error")
        let byGroup = try gateway.request("GET", "/v1/reports/metrics?\(period)&group=n1", bearer: admin).json["by_group"] as? [[String: Any]]
        #expect(byGroup?.compactMap { $0["key"] as? String } == ["n1"])
        ok(try gateway.request("POST", "/v1/tickets/\(ticketID)/take", bearer: ana))
        #expect(try waitFor { try openedCount("&agent=A-ana") == 1 }, "the holder's filter follows the take")
        #expect(try openedCount("&agent=A-outro") == 0)
        // The stage counts (the dashboard's first chart) filter by product too.
        let counted: (String) throws -> Int = { filter in
            let counts = try gateway.request("GET", "/v1/tickets/counts?\(filter)", bearer: admin)
            #expect(counts.status == 200, "\(counts.text)")
            return ((counts.json["counts"] as? [[String: Any]]) ?? []).reduce(0) { $0 + (Int("\($1["count"] ?? 0)") ?? 0) }
        }
        #expect(try counted("product=ERP&group_id=n1") == 1 && counted("product=Outro") == 0)
        // The period's tickets as CSV take the same filters.
        let csvLines: (String) throws -> Int = { filter in
            let csv = try gateway.request("GET", "/v1/reports/metrics.csv?from_ms=0\(filter)", bearer: admin)
            #expect(csv.status == 200, "\(csv.text)")
            return csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count
        }
        #expect(try csvLines("&group=n1&agent=A-ana") == 2)
        #expect(try csvLines("&group=n2") == 1, "the header only")
        // Bad values: 400 with the parameter in details[].field.
        for (parameter, value) in [("group", "n1%01"), ("product", String(repeating: "x", count: 201)), ("agent", "A-ana%7F")] {
            for path in ["/v1/reports/metrics?\(period)", "/v1/reports/metrics.csv?from_ms=0"] {
                let bad = try gateway.request("GET", "\(path)&\(parameter)=\(value)", bearer: admin)
                #expect(bad.status == 400 && bad.errorCode == "INVALID_ARGUMENT", "\(parameter): \(bad.text)")
                let fields = ((bad.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.compactMap { $0["field"] as? String }
                #expect(fields == [parameter], "\(bad.text)")
            }
        }
    }
}
