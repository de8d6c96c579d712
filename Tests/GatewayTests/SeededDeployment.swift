import Foundation
import Storage
import Testing
import TestSupport

/// Every service and the gateway on `engine` (on PostgreSQL each service its own database), with
/// ``TicketFlowTests/seed(_:)``'s people: the setup of the access tests that open a ticket as
/// Maria and look at it as others.
struct SeededDeployment {
    let deployment: ProxyTests.Deployment
    let seeded: TicketFlowTests.Seeded
    var gateway: GatewayHarness { deployment.gateway }

    /// - Parameters:
    ///   - serviceEnvironment: extra settings of the four services (e.g. `WORKFLOW_FLOW`).
    ///   - gatewayEnvironment: extra settings of the gateway (e.g. `GATEWAY_REPLY_SETTLE_MS`).
    init(engine: DatabaseEngine, serviceEnvironment: [String: String] = [:], gatewayEnvironment: [String: String] = [:]) throws {
        var databases = serviceEnvironment
        if engine == .postgres {
            for name in ["INTAKE", "WORKFLOW", "NOTIFICATION", "KNOWLEDGE"] {
                databases["\(name)_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase()
            }
        }
        deployment = try ProxyTests.Deployment(engine: engine, serviceEnvironment: databases, gatewayEnvironment: gatewayEnvironment)
        seeded = try TicketFlowTests.seed(deployment.gateway)
    }

    /// Expects `response` to have `status` (its body in the message otherwise).
    func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
    }

    /// Opens a ticket of Acme as Maria and waits until Ana's queue shows it; its id.
    func openTicket(subject: String, request: String, category: String = "PROBLEMA", module: String) throws -> String {
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": subject, "request": request, "category": category, "priority": "NORMAL",
            "product": "ERP", "module": module, "organization_id": seeded.organizationID], bearer: seeded.maria)
        ok(opened, 201)
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        let gateway = gateway, ana = seeded.ana
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: ana).text.contains(ticketID) })
        return ticketID
    }
}
