import Foundation
import Storage
import Testing
import TestSupport

/// A ticket's view while workflow cannot be reached: intake's part alone, said so, not cached.
@Suite("A ticket's view while workflow is down", .serialized)
struct TicketViewWithoutWorkflowTests {
    @Test("with workflow stopped the customer still reads her request and messages (workflow null, workflow_unavailable true) (and so does ocorre), the degraded view is not cached, an unknown ticket is still 404")
    func viewWithoutWorkflow() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Nota fiscal rejeitada", "request": "Rejeição 539 ao transmitir.", "category": "PROBLEMA", "priority": "ALTA",
            "product": "ERP", "module": "Fiscal", "organization_id": seeded.organizationID], bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let id = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String)
        #expect(waitFor(30) { (try? gateway.request("GET", "/v1/tickets/\(id)", bearer: seeded.ana).json["workflow"] as? [String: Any]) != nil })

        let workflow = try #require(deployment.services.first { $0.name == "workflow" })
        workflow.stop()
        // Maria has not viewed it yet: nothing cached for her, so the view asks workflow and cannot.
        let view = try gateway.request("GET", "/v1/tickets/\(id)", bearer: seeded.maria)
        #expect(view.status == 200, "\(view.text)")
        #expect(view.json["workflow_unavailable"] as? Bool == true, "\(view.text)")
        #expect(view.json["workflow"] is NSNull, "\(view.text)")
        let intake = try #require(view.json["intake"] as? [String: Any], "\(view.text)")
        #expect(intake["subject"] as? String == "Nota fiscal rejeitada")
        #expect(intake["request"] as? String == "Rejeição 539 ao transmitir.")
        // The degraded view is not kept: asked again, it is still degraded (not a stale full
        // view), and intake's own refusals still apply.
        #expect(try gateway.request("GET", "/v1/tickets/\(id)", bearer: seeded.maria).json["workflow_unavailable"] as? Bool == true)
        #expect(try gateway.request("GET", "/v1/tickets/no-such-ticket", bearer: seeded.maria).status == 404)
        // The CLI says why the stage is missing.
        let shown = try ReplyFilesTests.ocorre(["tickets", "show", id], gateway, token: seeded.maria)
        #expect(shown.status == 0, "\(shown.error)")
        #expect(shown.output.contains("Nota fiscal rejeitada") && shown.output.contains("workflow indisponível agora"), "\(shown.output)")
    }
}
