import Foundation
import Testing
import TestSupport

@Suite("The portal in a real headless browser", .serialized)
struct BrowserTests {
    @Test("customer opens a ticket with an attachment after a suggestion; agent sees the SLA badge, takes it and asks; customer replies; agent links an article, e-mails and solves; customer accepts and answers the survey")
    func portalFlow() throws {
        for required in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(FileManager.default.fileExists(atPath: required), "\(required) is missing: run scripts/bootstrap")
        }
        // Workflow's "totvs" flow: a solution is proposed (Resolvido) and the customer accepts or rejects it.
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: ["WORKFLOW_FLOW": "totvs"])
        let seeded = try TicketFlowTests.seed(deployment.gateway)
        try WorkflowTimeRoutesTests.configureSLA(deployment.gateway, admin: seeded.admin)
        var script = URL(fileURLWithPath: #filePath)
        script.deleteLastPathComponent()
        script.appendPathComponent("Browser/portal_flow.py")
        let file = deployment.gateway.directory.path + "/erro-539.txt"
        try Data("log da transmissão: erro 539\n".utf8).write(to: URL(fileURLWithPath: file))
        // GATEWAY_SCREENSHOTS_DIR=docs/screenshots refreshes the pictures kept in the repository.
        let shots = ProcessInfo.processInfo.environment["GATEWAY_SCREENSHOTS_DIR"] ?? (deployment.gateway.directory.path + "/shots")
        let result = try GatewayHarness.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                            [script.path, "http://127.0.0.1:\(deployment.gateway.httpPort)", shots, file],
                                            environment: ["PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)",
                                                          "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        // What the pages did is stored: the survey answer (read back as staff) and the e-mail.
        let ticketID = String(result.output.split(separator: " ").dropFirst().first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let survey = try deployment.gateway.request("GET", "/v1/tickets/\(ticketID)/survey", bearer: seeded.ana)
        #expect(survey.json["answered"] as? Bool == true && survey.json["score"] as? Int == 5, "\(survey.text)")
        #expect(survey.json["comment"] as? String == "Resolvido rápido, obrigado.")
        #expect(try TicketFlowTests.eventually {
            try deployment.gateway.request("GET", "/v1/deliveries?ticket_id=\(ticketID)", bearer: seeded.admin).text.contains("Sobre a nota fiscal")
        })
    }
}
