import Foundation
import Storage
import Testing
import TestSupport

/// The satisfaction survey reached from the e-mail's link names its ticket (code, subject, when it
/// was closed) and nothing more, by the link's token alone.
@Suite("The anonymous survey page names its ticket", .serialized)
struct SurveyPageTests {
    /// A ticket of Maria's finished in the totvs flow (solution proposed, accepted by her), and the
    /// token of its survey link; returns (ticket id, code, token).
    static func finishedTicket(_ gateway: GatewayHarness, _ seeded: TicketFlowTests.Seeded, subject: String) throws -> (String, String, String) {
        func ok(_ response: GatewayHarness.Response, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == 200, "\(response.text)", sourceLocation: sourceLocation)
        }
        let id = try ReplyFilesTests.openTicket(gateway, seeded, subject: subject)
        ok(try gateway.request("POST", "/v1/tickets/\(id)/take", bearer: seeded.ana))
        ok(try gateway.request("POST", "/v1/tickets/\(id)/solution", json: ["text": "Convênio do banco atualizado."], bearer: seeded.ana))
        ok(try gateway.request("POST", "/v1/tickets/\(id)/move", json: ["to_stage": "resolvido", "public_note": "Teste de novo."], bearer: seeded.ana))
        let moves = (try gateway.request("GET", "/v1/tickets/\(id)/moves", bearer: seeded.maria).json["moves"] as? [[String: Any]]) ?? []
        let accept = try #require(moves.first { ($0["outcome"] as? String ?? "").isEmpty == false }, "\(moves)")
        ok(try gateway.request("POST", "/v1/tickets/\(id)/move", json: ["to_stage": accept["to_stage"] as? String ?? ""], bearer: seeded.maria))
        var survey: [String: Any] = [:]
        #expect(try waitFor {
            survey = try gateway.request("GET", "/v1/tickets/\(id)/survey", bearer: seeded.maria).json
            return !(survey["token"] as? String ?? "").isEmpty
        }, "\(survey)")
        let ticket = try gateway.request("GET", "/v1/tickets/\(id)", bearer: seeded.admin)
        let code = try #require(((ticket.json["intake"] as? [String: Any])?["code"] as? String), "\(ticket.text)")
        return (id, code, survey["token"] as? String ?? "")
    }

    @Test("GET /v1/surveys/about by the link's token alone: code, subject, closed at, answered — nothing else; a forged token is 403", arguments: TestEngines.all)
    func overHTTP(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine, serviceEnvironment: ["WORKFLOW_FLOW": "totvs"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let (_, code, token) = try Self.finishedTicket(gateway, seeded, subject: "Boleto sem convênio")
        let about = try gateway.request("GET", "/v1/surveys/about?token=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
        #expect(about.status == 200, "\(about.text)")
        #expect(about.json["code"] as? String == code && about.json["subject"] as? String == "Boleto sem convênio", "\(about.text)")
        #expect((about.json["finished_at_ms"] as? Int ?? 0) > 0 && about.json["answered"] as? Bool != true, "\(about.text)")
        #expect(Set(about.json.keys).isSubset(of: ["code", "subject", "finished_at_ms", "expires_at_ms", "answered"]), "\(about.text)")
        #expect(try gateway.request("GET", "/v1/surveys/about?token=forjado").status == 403)
        #expect(try gateway.request("POST", "/v1/surveys/answer", json: ["token": token, "score": 5]).status == 200)
        #expect(try gateway.request("GET", "/v1/surveys/about?token=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
            .json["answered"] as? Bool == true)
    }

    @Test("in the browser: the e-mailed link's page names the ticket's code and subject and when it closed, not its request or company; answered, it says so; a forged link shows the refusal")
    func inBrowser() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: ["WORKFLOW_FLOW": "totvs"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let (id, code, token) = try Self.finishedTicket(gateway, seeded, subject: "Boleto sem convênio")
        let result = try PortalBrowser.run("survey_page.py", gateway, [token, code, "Boleto sem convênio"], environment: [:])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        let stored = try gateway.request("GET", "/v1/tickets/\(id)/survey", bearer: seeded.ana)
        #expect(stored.json["score"] as? Int == 4 && stored.json["comment"] as? String == "Bom atendimento.", "\(stored.text)")
    }
}
