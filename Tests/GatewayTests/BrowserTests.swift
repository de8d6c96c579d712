import Foundation
import Testing
import TestSupport

@Suite("The portal in a real headless browser", .serialized)
struct BrowserTests {
    @Test("customer opens a ticket with an attachment after a suggestion; agent sees the SLA badge, takes it, keeps internal evidence with a file and asks with a file the customer downloads byte-exact (never seeing the internal one); customer replies with files (file input, paste, drop); agent downloads them byte-exact, links an article, e-mails and solves; customer accepts and answers the survey")
    func portalFlow() throws {
        try PortalBrowser.requireChromium()
        // Workflow's "totvs" flow: a solution is proposed (Resolvido) and the customer accepts or rejects it.
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: ["WORKFLOW_FLOW": "totvs"])
        let seeded = try TicketFlowTests.seed(deployment.gateway)
        try WorkflowTimeRoutesTests.configureSLA(deployment.gateway, admin: seeded.admin)
        let file = deployment.gateway.directory.path + "/erro-539.txt"
        try Data("log da transmissão: erro 539\n".utf8).write(to: URL(fileURLWithPath: file))
        // The reply's files: a small XML, an export over the inline size (the only one uploaded) and a
        // screenshot the page pastes.
        let replyFiles = [("nota 539.xml", Data("<nfeProc><NFe><infNFe Id=\"NFe539\"/></NFe></nfeProc>\n".utf8)),
                          ("exportacao.csv", AttachmentStreamTests.file(bytes: 300_000, seed: 7)),
                          ("tela.png", AttachmentStreamTests.file(bytes: 20_000, seed: 8))]
        for (name, data) in replyFiles { try data.write(to: URL(fileURLWithPath: deployment.gateway.directory.path + "/" + name)) }
        // The file of the agent's public question (a discussion entry with a file).
        let agentFile = deployment.gateway.directory.path + "/modelo-correcao.sql"
        try Data("UPDATE nfe SET cnpj_destinatario = '11222333000181' WHERE numero = 539;\n".utf8).write(to: URL(fileURLWithPath: agentFile))
        let result = try PortalBrowser.run("portal_flow.py", deployment.gateway,
                                           [file] + replyFiles.map { deployment.gateway.directory.path + "/" + $0.0 } + [agentFile], environment: [
                                               "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)",
                                               "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        // What the pages did is stored: the survey answer (read back as staff) and the e-mail.
        let ticketID = PortalBrowser.value(result.output)
        let survey = try deployment.gateway.request("GET", "/v1/tickets/\(ticketID)/survey", bearer: seeded.ana)
        #expect(survey.json["answered"] as? Bool == true && survey.json["score"] as? Int == 5, "\(survey.text)")
        #expect(survey.json["comment"] as? String == "Resolvido rápido, obrigado.")
        #expect(try waitFor {
            try deployment.gateway.request("GET", "/v1/deliveries?ticket_id=\(ticketID)", bearer: seeded.admin).text.contains("Sobre a nota fiscal")
        })
        // The editors' queue got the FAQ request (with its note) and the answer marked publishable.
        #expect(try waitFor {
            let items = try deployment.gateway.request("GET", "/v1/knowledge/queue", bearer: seeded.admin).json["items"] as? [[String: Any]] ?? []
            return Set(items.compactMap { $0["kind"] as? String }) == ["FAQ_REQUEST", "PUBLISHABLE_ANSWER"]
                && items.contains { $0["note"] as? String == "Erro comum depois da troca de certificado." }
        })
        // The small files travelled inside the open and the reply, the XML chosen before the
        // reply's 300,000-byte export (over the served inline size) too, placed before it
        // (file_positions): only the export was uploaded, and the reply lists its files in the
        // order chosen (before positions the XML was uploaded too: two uploads). All byte-exact.
        let metrics = try deployment.gateway.request("GET", "/metrics", bearer: seeded.admin).text
        #expect(ViewCacheTests.counter(metrics, "gateway_rpc_client_calls_total", ["Intake/UploadAttachment\""]) == 1)
        let view = try deployment.gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
        let intake = try #require(view.json["intake"] as? [String: Any])
        let attachments = try #require(((intake["ticket"] as? [String: Any])?["attachments"] ?? intake["attachments"]) as? [[String: Any]], "\(view.text)")
        let attachmentID = try #require(attachments.first { $0["file_name"] as? String == "erro-539.txt" }?["id"] as? String, "\(view.text)")
        let download = try deployment.gateway.request("GET", "/v1/attachments/\(attachmentID)", bearer: seeded.ana)
        #expect(download.status == 200 && download.body == Data("log da transmissão: erro 539\n".utf8), "\(download.status) \(download.text)")
        let messages = try #require(((intake["ticket"] as? [String: Any])?["messages"] ?? intake["messages"]) as? [[String: Any]], "\(view.text)")
        let reply = try #require(messages.first { $0["text"] as? String == "Segue o XML em anexo." }, "\(messages)")
        let replied = try #require(reply["attachments"] as? [[String: Any]], "\(reply)")
        #expect(Set(replied.compactMap { $0["file_name"] as? String }) == Set(replyFiles.map(\.0)), "\(replied)")
        for (name, data) in replyFiles {
            let id = try #require(replied.first { $0["file_name"] as? String == name }?["id"] as? String, "\(name)")
            #expect(try deployment.gateway.request("GET", "/v1/attachments/\(id)", bearer: seeded.ana).body == data, "\(name)")
        }
    }

    @Test("a representative's person opens a ticket in the portal: organizations represented and the chosen one's authorized contacts as pickers; the ticket names them and the representative")
    func representativeOpensTicket() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let admin = seeded.admin
        func created(_ response: GatewayHarness.Response, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            #expect(response.status == 201, "\(response.text)", sourceLocation: sourceLocation)
            return try #require(response.json["id"] as? String, sourceLocation: sourceLocation)
        }
        func company(_ name: String, _ taxID: String) throws -> String {
            try created(try gateway.request("POST", "/v1/organizations", json: [
                "name": name, "tax_id": taxID, "kind": "ORGANIZATION_CUSTOMER", "active": true], bearer: admin))
        }
        let beta = try company("Beta Alimentos", "45321098000117")
        _ = try company("Gama Metais", "77889966000156")
        let betaContact = try created(try gateway.request("POST", "/v1/organizations/\(beta)/contacts", json: [
            "name": "Bruna Fiscal", "email": "bruna@beta.com.br", "authorized": true], bearer: admin))
        _ = try created(try gateway.request("POST", "/v1/organizations/\(beta)/contacts", json: [
            "name": "Beto Estagiário", "email": "beto@beta.com.br", "authorized": false], bearer: admin))
        let representative = try created(try gateway.request("POST", "/v1/representatives", json: [
            "name": "Revenda Sul", "email": "contato@revendasul.com.br", "active": true,
            "organization_ids": [seeded.organizationID, beta]], bearer: admin))
        let person = try created(try gateway.request("POST", "/v1/representatives/\(representative)/contacts", json: [
            "name": "Rui", "email": "rui@revendasul.com.br", "active": true], bearer: admin))
        let user = try gateway.request("POST", "/v1/users", json: [
            "email": "rui@revendasul.com.br", "display_name": "Rui (Revenda Sul)", "role": "representative", "password": seeded.password,
            "representative_id": representative, "contact_id": person], bearer: admin)
        #expect(user.status == 201, "\(user.text)")

        let result = try PortalBrowser.run("representative_ticket.py", gateway, ["Beta Alimentos", "Bruna Fiscal"],
                                           environment: ["PORTAL_REPRESENTATIVE": "rui@revendasul.com.br:\(seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        let ticketID = PortalBrowser.value(result.output)
        // Stored as chosen on the page: Beta, its contact Bruna, the representative, origin "representative".
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
        let intake = view.json["intake"] as? [String: Any] ?? [:]
        #expect((intake["organization"] as? [String: Any])?["id"] as? String == beta, "\(view.text)")
        #expect((intake["contact"] as? [String: Any])?["id"] as? String == betaContact, "\(view.text)")
        #expect((intake["representative"] as? [String: Any])?["id"] as? String == representative, "\(view.text)")
        #expect(intake["origin"] as? String == "representative", "\(view.text)")
    }
}
