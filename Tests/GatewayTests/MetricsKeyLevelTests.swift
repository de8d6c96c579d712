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
    @Test("a ticket at level 1: a level-0 agent key's metrics.csv and filtered report leave it out; Ana (level 1) sees it", arguments: TestEngines.all)
    func metricsByLevel(engine: DatabaseEngine) throws {
        var databases: [String: String] = [:]
        if engine == .postgres {
            for name in ["INTAKE", "WORKFLOW", "NOTIFICATION", "KNOWLEDGE"] {
                databases["\(name)_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase()
            }
        }
        let deployment = try ProxyTests.Deployment(engine: engine, serviceEnvironment: databases)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        }
        ok(try gateway.request("POST", "/v1/category-access-levels", json: ["category": "PROBLEMA", "access_level": 1], bearer: seeded.admin))
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Auditoria fiscal", "request": "Os valores não batem.", "category": "PROBLEMA", "priority": "NORMAL",
            "product": "ERP", "module": "Fiscal", "organization_id": seeded.organizationID], bearer: seeded.maria)
        ok(opened, 201)
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: seeded.ana).text.contains(ticketID) })

        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "BI", "role": "agent", "access_level": 0,
                                                                        "permissions": ["tickets.read"]], bearer: seeded.admin)
        ok(created, 201)
        let key = try #require(created.json["key"] as? String)

        let csvPath = "/v1/reports/metrics.csv?from_ms=0&to_ms=\(Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000)"
        let anaCSV = try gateway.request("GET", csvPath, bearer: seeded.ana)
        ok(anaCSV)
        #expect(anaCSV.text.contains(ticketID), "\(anaCSV.text)")
        let keyCSV = try gateway.request("GET", csvPath, bearer: key)
        ok(keyCSV)
        #expect(!keyCSV.text.contains(ticketID), "\(keyCSV.text)")

        let reportPath = "/v1/reports/metrics?from_day=2020-01-01&to_day=2040-01-01&product=ERP"
        func openedCount(_ bearer: String) throws -> Int? {
            let report = try gateway.request("GET", reportPath, bearer: bearer)
            ok(report)
            return ((report.json["totals"] as? [String: Any])?["opened"] as? NSNumber)?.intValue
        }
        #expect(try openedCount(seeded.ana) == 1)
        #expect(try (openedCount(key) ?? 0) == 0)
    }
}
