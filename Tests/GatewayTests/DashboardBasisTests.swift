import Foundation
import Testing
import TestSupport

/// The metrics dashboard's charts say what they count a ticket under: workflow's counters keep a
/// first response or resolution with the category of its moment, while openings follow a
/// corrected classification (and stay with the group that received them).
@Suite("The dashboard says what each chart counts under", .serialized)
struct DashboardBasisTests {
    @Test("in the browser: the response-time chart says 'category of the moment', the category, module and product charts 'classification now', the group chart 'the group that received it'; filtered, everything 'now'; pt-BR and English; an agent below administrator gets the level note and 'now' everywhere")
    func inBrowser() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        _ = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Relatório em branco")
        let result = try PortalBrowser.run("dashboard_basis.py", gateway, [], environment: [
            "PORTAL_AGENT": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)",
            // ana, level 1 (TicketFlowTests.seed): her figures are her level's, and the page says so.
            "PORTAL_LEVEL_AGENT": "ana@suporte.example:Us3r-Passw0rd!x"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
    }
}
