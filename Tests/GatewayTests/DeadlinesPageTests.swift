import Foundation
import Testing
import TestSupport

@Suite("The deadlines page (calendars, SLA and inactivity policies) in a real headless browser", .serialized)
struct DeadlinesPageTests {
    /// A JSON number (workflow's int32 and int64 fields) as an Int.
    static func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue ?? (value as? String).flatMap { Int($0) } }

    @Test("an administrator creates a calendar with two intervals on weekdays and a holiday (a refused save first stores nothing), an Urgente SLA policy on it that a new Urgente ticket gets, and an inactivity policy from a preset; chefes read it, agents get no page")
    func administratorConfiguresDeadlines() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        // A chefe: workflow lets staff read the configuration, so the page shows it to him read-only.
        let chefe = try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-bruno", "name": "Bruno", "email": "bruno@suporte.example",
                                                                              "max_access_level": 1, "active": true, "is_chefe": true]], bearer: seeded.admin)
        #expect(chefe.status == 200, "\(chefe.text)")
        _ = try gateway.createUser(admin: seeded.admin, email: "bruno@suporte.example", role: "chefe", password: seeded.password, agent: "A-bruno", accessLevel: 1)
        let result = try PortalBrowser.run("deadlines_page.py", gateway, environment: [
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)", "PORTAL_CHEFE": "bruno@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK "))
        let calendarID = PortalBrowser.value(result.output)
        #expect(calendarID == "comercial-sao-paulo")

        // The calendar as typed: 08:00–12:00 and 13:00–18:00 Monday to Friday (minutes from
        // midnight), closed at weekends, São Paulo's anniversary off, national holidays off.
        let answer = try gateway.request("GET", "/v1/calendars/\(calendarID)", bearer: seeded.admin)
        #expect(answer.status == 200, "\(answer.text)")
        let calendar = try #require(answer.json["calendar"] as? [String: Any], "\(answer.text)")
        #expect(calendar["name"] as? String == "Comercial São Paulo" && calendar["time_zone"] as? String == "America/Sao_Paulo")
        #expect(calendar["national_holidays"] as? Bool == true)
        let weekly = (calendar["weekly"] as? [[String: Any]]) ?? []
        let hours = Dictionary(uniqueKeysWithValues: weekly.map { day in
            (Self.int(day["weekday"]) ?? 0, ((day["intervals"] as? [[String: Any]]) ?? []).map { [Self.int($0["start_minute"]) ?? 0, Self.int($0["end_minute"]) ?? 0] })
        })
        #expect(hours == [1: [[480, 720], [780, 1080]], 2: [[480, 720], [780, 1080]], 3: [[480, 720], [780, 1080]],
                          4: [[480, 720], [780, 1080]], 5: [[480, 720], [780, 1080]]], "\(answer.text)")
        let holidays = (calendar["extra_holidays"] as? [[String: Any]]) ?? []
        #expect(holidays.map { "\($0["day"] ?? "") \($0["name"] ?? "")" } == ["2027-01-25 Aniversário de São Paulo"], "\(answer.text)")
        // The refused save stored nothing: the built-in calendar and the new one only.
        let calendars = (try gateway.request("GET", "/v1/calendars", bearer: seeded.admin).json["calendars"] as? [[String: Any]]) ?? []
        #expect(calendars.compactMap { $0["id"] as? String }.sorted() == [calendarID, "padrao"], "\(calendars)")

        // The SLA policy: any plan, Urgente, 45 min / 1 h 30 / 6 h on the new calendar.
        let policies = (try gateway.request("GET", "/v1/sla-policies", bearer: seeded.admin).json["policies"] as? [[String: Any]]) ?? []
        #expect(policies.count == 1, "\(policies)")
        let policy = try #require(policies.first)
        #expect(policy["plan"] as? String == "*" && policy["priority"] as? String == "URGENTE" && policy["calendar_id"] as? String == calendarID, "\(policy)")
        #expect(Self.int(policy["first_response_minutes"]) == 45 && Self.int(policy["next_response_minutes"]) == 90
                && Self.int(policy["resolution_minutes"]) == 360 && Self.int(policy["warning_percent"]) == 80, "\(policy)")

        // The inactivity policy from the default preset, edited to 7 business days of the calendar.
        let inactivity = (try gateway.request("GET", "/v1/inactivity-policies", bearer: seeded.admin).json["policies"] as? [[String: Any]]) ?? []
        let waiting = try #require(inactivity.first { $0["id"] as? String == "aguardando-cliente-10d" }, "\(inactivity)")
        #expect(waiting["stage"] as? String == "aguardando_cliente" && waiting["to_stage"] as? String == "finalizado"
                && waiting["outcome"] as? String == "inatividade" && waiting["active"] as? Bool == true, "\(waiting)")
        #expect(Self.int(waiting["days"]) == 7 && waiting["business_days"] as? Bool == true && Self.int(waiting["reminder_days_before"]) == 2
                && waiting["calendar_id"] as? String == calendarID, "\(waiting)")

        // A new Urgente ticket gets the policy's targets (the organization's plan falls under "*").
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Servidor fora do ar", "request": "Ninguém consegue faturar desde as 9h.", "category": "PROBLEMA",
            "priority": "URGENTE", "product": "ERP", "module": "Faturamento", "organization_id": seeded.organizationID], bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        var targets: [String: Int] = [:]
        #expect(try waitFor {
            let sla = try gateway.request("GET", "/v1/tickets/\(ticketID)/sla", bearer: seeded.admin)
            guard sla.status == 200 else { return false }
            targets = Dictionary((((sla.json["targets"] as? [[String: Any]]) ?? []).map { ($0["target"] as? String ?? "?", Self.int($0["target_ms"]) ?? 0) }),
                                 uniquingKeysWith: { first, _ in first })
            return targets["FIRST_RESPONSE"] != nil
        }, "\(targets)")
        #expect(targets["FIRST_RESPONSE"] == 45 * 60_000 && targets["RESOLUTION"] == 360 * 60_000, "\(targets)")
    }
}
