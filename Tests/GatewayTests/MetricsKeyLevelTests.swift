import Foundation
import Storage
import Testing
import TestSupport

/// Workflow's metrics hold an integration key to its access level as they hold an agent: the
/// ticket facts' CSV and a filtered report count only the tickets the key may see. (An
/// integration principal was exported every level, confidential tickets' ids and companies
/// included.)
@Suite("Metrics exports respect an API key's access level", .serialized)
struct MetricsKeyLevelTests {
    @Test("a ticket at level 1: a level-0 agent key's metrics.csv and filtered report leave it out; Ana (level 1) sees it; both CSV exports stream (chunked)", arguments: TestEngines.all)
    func metricsByLevel(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        setup.ok(try gateway.request("POST", "/v1/category-access-levels", json: ["category": "PROBLEMA", "access_level": 1], bearer: seeded.admin))
        let ticketID = try setup.openTicket(subject: "Auditoria fiscal", request: "Os valores não batem.", module: "Fiscal")

        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "BI", "role": "agent", "access_level": 0,
                                                                        "permissions": ["tickets.read"]], bearer: seeded.admin)
        setup.ok(created, 201)
        let key = try #require(created.json["key"] as? String)

        let csvPath = "/v1/reports/metrics.csv?from_ms=0&to_ms=\(Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000)"
        let anaCSV = try gateway.request("GET", csvPath, bearer: seeded.ana)
        setup.ok(anaCSV)
        #expect(anaCSV.text.contains(ticketID), "\(anaCSV.text)")
        // Both CSV exports are relayed as workflow sends them (the gateway holds a chunk, not a
        // whole export with no row cap): chunked, without a length.
        let queueCSV = try gateway.request("GET", "/v1/tickets/export.csv", bearer: seeded.ana)
        setup.ok(queueCSV)
        #expect(queueCSV.text.hasPrefix("code,subject,") && queueCSV.text.contains("Auditoria fiscal"), "\(queueCSV.text)")
        for csv in [anaCSV, queueCSV] {
            #expect(csv.header("Transfer-Encoding")?.lowercased() == "chunked" && csv.header("Content-Length") == nil, "\(csv.headers)")
        }
        let keyCSV = try gateway.request("GET", csvPath, bearer: key)
        setup.ok(keyCSV)
        #expect(!keyCSV.text.contains(ticketID), "\(keyCSV.text)")

        let reportPath = "/v1/reports/metrics?from_day=2020-01-01&to_day=2040-01-01&product=ERP"
        func openedCount(_ bearer: String) throws -> Int? {
            let report = try gateway.request("GET", reportPath, bearer: bearer)
            setup.ok(report)
            return ((report.json["totals"] as? [String: Any])?["opened"] as? NSNumber)?.intValue
        }
        #expect(try openedCount(seeded.ana) == 1)
        #expect(try (openedCount(key) ?? 0) == 0)
    }
}
