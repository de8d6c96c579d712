import Foundation
import Testing
import TestSupport

/// The metrics dashboard's charts say what they count a ticket under: workflow's counters keep a
/// first response or resolution with the category of its moment, while openings follow a
/// corrected classification (and stay with the group that received them).
@Suite("The dashboard says what each chart counts under", .serialized)
struct DashboardBasisTests {
    @Test("in the browser: the response-time chart says 'category of the moment', the category, module and product charts 'classification now', the group chart 'the group that received it'; filtered, everything 'now'; pt-BR and English; an agent below administrator gets the level note and 'now' everywhere; finished tickets by outcome in a small table, named as the ticket pages name them, also in the metrics route's JSON")
    func inBrowser() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        _ = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Relatório em branco")
        // A ticket finished as needing no action: the report's by_outcome (through the gateway's
        // metrics route) and the dashboard's outcome table count it.
        let duplicate = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Chamado duplicado")
        #expect(try waitFor { try gateway.request("POST", "/v1/tickets/\(duplicate)/take", json: [:], bearer: seeded.admin).status == 200 })
        let moved = try gateway.request("POST", "/v1/tickets/\(duplicate)/move", json: ["to_stage": "cancelado", "note": "Duplicado de outro chamado."],
                                        bearer: seeded.admin)
        #expect(moved.status == 200, "\(moved.text)")
        let day = { (offset: TimeInterval) in
            ISO8601DateFormatter.string(from: Date().addingTimeInterval(offset), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        }
        #expect(try waitFor {
            let report = try gateway.request("GET", "/v1/reports/metrics?from_day=\(day(-86_400))&to_day=\(day(2 * 86_400))", bearer: seeded.admin)
            let rows = report.json["by_outcome"] as? [[String: Any]] ?? []
            return rows.contains { $0["outcome"] as? String == "nao_necessita_atuacao" && $0["outcome_label"] as? String == "sem necessidade de atuação"
                && $0["outcome_label_en"] as? String == "no action needed"
                && "\($0["finished"] ?? "")" == "1" }
        })
        // An administrator moves the stored default calendar to another zone (it sets SLA hours):
        // workflow still counts the metrics' days in São Paulo, and so must the page.
        let allWeek = (0...6).map { ["weekday": $0, "intervals": [["start_minute": 0, "end_minute": 1440]]] }
        let calendar = try gateway.request("POST", "/v1/calendars", json: ["calendar": [
            "id": "padrao", "name": "Padrão (Tóquio)", "time_zone": "Asia/Tokyo", "weekly": allWeek, "national_holidays": false]],
                                           bearer: seeded.admin)
        #expect(calendar.status == 200, "\(calendar.text)")
        let result = try PortalBrowser.run("dashboard_basis.py", gateway, [], environment: [
            "PORTAL_AGENT": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            // ana, level 1 (TicketFlowTests.seed): her figures are her level's, and the page says so.
            "PORTAL_LEVEL_AGENT": "ana@suporte.example:Us3r-Passw0rd!x"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
    }
}
