import Foundation
import Testing
import TestSupport

/// What a review of the portal as its customers, agents and administrators use it found: actions
/// that said nothing or said it out of view, typed text lost on a refusal, a suggestion drawn
/// twice, pages wider than a phone, and console errors nobody meant (Browser/action_feedback.py).
@Suite("The portal's feedback on actions, on a phone and in the console, in a real headless browser", .serialized)
struct PortalFeedbackTests {
    @Test("forgot-password without an address says so at the field; a suggestion unfolds once and folds; an action's outcome is focused in view; a refused send-back (pressed as Safari does) keeps its justification and names no API field; a taken e-mail on the team page is refused in view by its label; <main> is not live and the one live region says only a redrawn page's notice, once; an administrator's every page fits 390 px; the console stays clean")
    func actionFeedback() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticket = try ReplyFilesTests.openTicket(gateway, seeded)
        // Maria's reply, unread: Ana's send-back is refused until she reads it (a detail about the
        // ticket, not a field of the form).
        let reply = try gateway.request("POST", "/v1/tickets/\(ticket)/replies", json: ["text": "Acontece também na filial 2."], bearer: seeded.maria)
        #expect([200, 201].contains(reply.status), "\(reply.text)")
        let result = try PortalBrowser.run("action_feedback.py", gateway, [ticket], environment: [
            "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)", "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)",
            "PORTAL_ADMIN": "\(GatewayHarness.adminEmail):\(GatewayHarness.adminPassword)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        // The refused send-back changed nothing: Ana holds the ticket she took.
        let view = try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: seeded.admin)
        let row = try #require((view.json["workflow"] as? [String: Any])?["row"] as? [String: Any], "\(view.text)")
        #expect((row["holder"] as? [String: Any])?["agent_id"] as? String == "A-ana", "\(row)")
    }
}
