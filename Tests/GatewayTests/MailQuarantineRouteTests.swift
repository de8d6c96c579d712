import Foundation
import Storage
import Testing
import TestSupport

/// Intake's e-mail quarantine through the gateway's HTTP routes, over the real processes: mail is
/// delivered with the real `intake ingest-mail` (the MTA pipe) into the running intake's database.
@Suite("E-mail quarantine routes", .serialized)
struct MailQuarantineRouteTests {
    /// Runs `intake ingest-mail` against the deployment's intake; its exit status and JSON line.
    static func deliver(_ raw: String, _ deployment: ProxyTests.Deployment) throws -> (Int32, [String: Any]) {
        let result = try GatewayHarness.run(BuildProducts.executable("intake"), ["ingest-mail"], environment: [
            "OCORRENCIAS_DATA_DIR": deployment.directory.path, "OCORRENCIAS_SECRET": deployment.gateway.environment["OCORRENCIAS_SECRET"] ?? "",
            "OCORRENCIAS_LOG_LEVEL": "critical",
        ], input: raw)
        let json = (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any] ?? [:]
        return (result.status, json)
    }

    static let unknownSender = """
        From: João Lima <joao@acme.com.br>
        To: suporte@suporte.example
        Subject: Nota fiscal rejeitada
        Message-ID: <nf-539@acme.com.br>
        Date: Sat, 28 Nov 2026 10:00:00 -0300
        Content-Type: text/plain; charset=utf-8

        A nota fiscal foi rejeitada com o erro 539.
        """.replacingOccurrences(of: "\n", with: "\r\n")

    /// GMime cannot parse it (the first line is no header), but a lenient reading finds the sender.
    static let broken = "Encaminhado do celular\nFrom: Maria <maria@acme.com.br>\nSubject: Mais um detalhe\n\nO erro continua.\n"

    static let spam = """
        From: ofertas@loja.example
        Subject: Promoção
        Message-ID: <promo-1@loja.example>

        Compre já.
        """

    @Test("agents list (paged), read with headers, download byte-exact, take in (new ticket, reply on a named ticket) and discard held mail; customers get 403, unknown ids 404",
          arguments: TestEngines.all)
    func quarantineRoutes(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let (admin, maria, ana) = (seeded.admin, seeded.maria, seeded.ana)
        func ok(_ response: GatewayHarness.Response, _ status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        }

        let (rejected, first) = try Self.deliver(Self.unknownSender, deployment)
        #expect(rejected == 67 && first["outcome"] as? String == "rejected", "\(first)")
        let (unreadable, second) = try Self.deliver(Self.broken, deployment)
        #expect(unreadable == 65 && second["outcome"] as? String == "unreadable", "the MTA bounces it: a sender could be read; \(second)")
        let (spamStatus, third) = try Self.deliver(Self.spam, deployment)
        #expect(spamStatus == 67, "\(third)")
        let unknownID = try #require(first["quarantine_id"] as? String)
        let brokenID = try #require(second["quarantine_id"] as? String)
        let spamID = try #require(third["quarantine_id"] as? String)

        // The list, newest first, a page at a time.
        let list = try gateway.request("GET", "/v1/mail-quarantine", bearer: ana)
        ok(list)
        let messages = list.json["messages"] as? [[String: Any]] ?? []
        #expect(messages.compactMap { $0["id"] as? String } == [spamID, brokenID, unknownID], "\(list.text)")
        #expect(messages.compactMap { $0["kind"] as? String } == ["QUARANTINE_REJECTED", "QUARANTINE_UNPARSABLE", "QUARANTINE_REJECTED"])
        let page = try gateway.request("GET", "/v1/mail-quarantine?page_size=2", bearer: ana)
        ok(page)
        let token = try #require(page.json["next_page_token"] as? String)
        let rest = try gateway.request("GET", "/v1/mail-quarantine?page_size=2&page_token=\(token)", bearer: ana)
        #expect((rest.json["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [unknownID], "\(rest.text)")
        ok(try gateway.request("GET", "/v1/mail-quarantine?page_token=garbage", bearer: ana), 400)

        // One message: the reason and the header fields (also of the unparsable one).
        let one = try gateway.request("GET", "/v1/mail-quarantine/\(unknownID)", bearer: ana)
        ok(one)
        #expect((one.json["reason"] as? String ?? "").contains("unknown sender"), "\(one.text)")
        #expect(one.json["from_address"] as? String == "joao@acme.com.br" && one.json["subject"] as? String == "Nota fiscal rejeitada")
        let headers = (one.json["headers"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? ""): \($0["value"] ?? "")" }
        #expect(headers.contains("Message-ID: <nf-539@acme.com.br>") && headers.contains("From: João Lima <joao@acme.com.br>"), "\(headers)")
        let brokenRecord = try gateway.request("GET", "/v1/mail-quarantine/\(brokenID)", bearer: ana)
        #expect((brokenRecord.json["headers"] as? [[String: Any]] ?? []).contains { $0["name"] as? String == "From" }, "\(brokenRecord.text)")
        #expect((brokenRecord.json["reason"] as? String ?? "").contains("could not be read"))

        // The raw message, byte-exact, as a download the browser does not render.
        let raw = try gateway.request("GET", "/v1/mail-quarantine/\(brokenID)/raw", bearer: ana)
        ok(raw)
        #expect(raw.body == Data(Self.broken.utf8))
        #expect(raw.header("content-type") == "message/rfc822" && raw.header("content-security-policy") == "sandbox")
        #expect(raw.header("content-disposition")?.hasPrefix("attachment") == true)

        // Customers are refused everything; unknown ids are 404.
        ok(try gateway.request("GET", "/v1/mail-quarantine", bearer: maria), 403)
        ok(try gateway.request("GET", "/v1/mail-quarantine/\(unknownID)", bearer: maria), 403)
        ok(try gateway.request("GET", "/v1/mail-quarantine/\(unknownID)/raw", bearer: maria), 403)
        ok(try gateway.request("POST", "/v1/mail-quarantine/\(unknownID)/reprocess", json: [:], bearer: maria), 403)
        ok(try gateway.request("POST", "/v1/mail-quarantine/\(unknownID)/discard", json: ["reason": "x"], bearer: maria), 403)
        ok(try gateway.request("GET", "/v1/mail-quarantine/no-such-id", bearer: ana), 404)
        ok(try gateway.request("GET", "/v1/mail-quarantine/no-such-id/raw", bearer: ana), 404)

        // After the sender is added as an authorized contact, the agent takes the message in: a new ticket.
        ok(try gateway.request("POST", "/v1/organizations/\(seeded.organizationID)/contacts", json: [
            "name": "João Lima", "email": "joao@acme.com.br", "authorized": true], bearer: admin), 201)
        let opened = try gateway.request("POST", "/v1/mail-quarantine/\(unknownID)/reprocess", json: [:], bearer: ana)
        ok(opened)
        #expect(opened.json["outcome"] as? String == "opened", "\(opened.text)")
        let openedMail = opened.json["mail"] as? [String: Any] ?? [:]
        #expect(openedMail["status"] as? String == "QUARANTINE_REPROCESSED" && (openedMail["ticket_code"] as? String)?.isEmpty == false)
        let ticketID = try #require(openedMail["ticket_id"] as? String)
        ok(try gateway.request("POST", "/v1/mail-quarantine/\(unknownID)/reprocess", json: [:], bearer: ana), 422)

        // The unreadable one, with its headers restored by the agent, becomes a reply on the ticket it names
        // (once workflow has the ticket: intake asks it whether the agent may see it).
        #expect(try waitFor {
            let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: ana)
            return view.status == 200 && view.json["workflow"] is [String: Any]
        })
        let corrected = "From: Maria <maria@acme.com.br>\r\nSubject: Mais um detalhe\r\nMessage-ID: <detalhe-1@acme.com.br>\r\n\r\nO erro continua.\r\n"
        ok(try gateway.request("POST", "/v1/mail-quarantine/\(brokenID)/reprocess", json: [
            "ticket_id": "no-such-ticket", "replacement_raw": Data(corrected.utf8).base64EncodedString()], bearer: ana), 400)
        let replied = try gateway.request("POST", "/v1/mail-quarantine/\(brokenID)/reprocess", json: [
            "ticket_id": ticketID, "replacement_raw": Data(corrected.utf8).base64EncodedString()], bearer: ana)
        ok(replied)
        #expect(replied.json["outcome"] as? String == "replied", "\(replied.text)")
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: admin)
        let replies = ((view.json["intake"] as? [String: Any])?["messages"] as? [[String: Any]]) ?? []
        #expect(replies.contains { ($0["text"] as? String ?? "").contains("O erro continua") }, "\(view.text)")

        // Discarded with a reason (required).
        ok(try gateway.request("POST", "/v1/mail-quarantine/\(spamID)/discard", json: ["reason": ""], bearer: ana), 400)
        let discarded = try gateway.request("POST", "/v1/mail-quarantine/\(spamID)/discard", json: ["reason": "propaganda"], bearer: ana)
        ok(discarded)
        #expect(discarded.json["status"] as? String == "QUARANTINE_DISCARDED" && discarded.json["resolution"] as? String == "propaganda")

        // Nothing is held any more; with include_resolved all three show, with what became of them.
        let held = try gateway.request("GET", "/v1/mail-quarantine", bearer: admin)
        ok(held)
        #expect((held.json["messages"] as? [[String: Any]] ?? []).isEmpty, "\(held.text)")
        let all = try gateway.request("GET", "/v1/mail-quarantine?include_resolved=true", bearer: admin)
        #expect((all.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
                == ["QUARANTINE_DISCARDED", "QUARANTINE_REPROCESSED", "QUARANTINE_REPROCESSED"], "\(all.text)")

        // Redelivered after being resolved: not held again (the same Message-ID is the same message).
        let (again, redelivered) = try Self.deliver(Self.spam, deployment)
        #expect(again == 67 && redelivered["quarantine_id"] as? String == spamID, "\(redelivered)")
        #expect((try gateway.request("GET", "/v1/mail-quarantine", bearer: admin).json["messages"] as? [[String: Any]] ?? []).isEmpty)
    }

    @Test("in the browser: agents find held mail under its own link, read the headers, take one in as a reply on a ticket code, discard another, upload a corrected copy of an unreadable one; customers get neither the link nor the page")
    func quarantinePage() throws {
        try PortalBrowser.requireChromium()
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Erro 539", "request": "A nota não transmite.", "category": "PROBLEMA", "priority": "NORMAL", "product": "ERP"],
            bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let code = try #require((opened.json["ticket"] as? [String: Any])?["code"] as? String)
        // A reply that lost its threading (no token, no references) from Maria, and spam.
        let lost = "From: Maria <maria@acme.com.br>\r\nSubject: Mais um detalhe\r\nMessage-ID: <perdida-1@acme.com.br>\r\n\r\nO erro continua.\r\n"
        // Maria's message would open a ticket by itself: make it ambiguous by a second company with her address.
        let other = try gateway.request("POST", "/v1/organizations", json: [
            "name": "Acme Filial", "tax_id": "45321098000117", "kind": "ORGANIZATION_CUSTOMER", "active": true, "plan": "basico"], bearer: seeded.admin)
        let otherID = try #require(other.json["id"] as? String)
        #expect(try gateway.request("POST", "/v1/organizations/\(otherID)/contacts", json: [
            "name": "Maria", "email": "maria@acme.com.br", "authorized": true], bearer: seeded.admin).status == 201)
        #expect(try Self.deliver(lost, deployment).0 == 0)
        #expect(try Self.deliver(Self.spam, deployment).0 == 67)
        #expect(try Self.deliver("Encaminhado do celular\nFrom: Maria <maria@acme.com.br>\nSubject: Erro 539 de novo\n\nContinua.\n", deployment).0 == 65)
        let corrected = gateway.directory.path + "/corrigida.eml"
        try Data("From: Maria <maria@acme.com.br>\r\nSubject: Erro 539 de novo\r\nMessage-ID: <corrigida-1@acme.com.br>\r\n\r\nContinua.\r\n".utf8)
            .write(to: URL(fileURLWithPath: corrected))

        let result = try PortalBrowser.run("quarantine_page.py", gateway, [code, corrected, seeded.organizationID], environment: [
            "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.password)", "PORTAL_AGENT": "ana@suporte.example:\(seeded.password)"])
        #expect(result.status == 0 && result.output.hasPrefix("OK"), Comment(rawValue: result.output + "\n" + result.error))
        let view = try gateway.request("GET", "/v1/tickets/\(code)", bearer: seeded.admin)
        let replies = ((view.json["intake"] as? [String: Any])?["messages"] as? [[String: Any]]) ?? []
        #expect(replies.contains { ($0["text"] as? String ?? "").contains("O erro continua") }, "\(view.text)")
        let all = try gateway.request("GET", "/v1/mail-quarantine?include_resolved=true", bearer: seeded.ana)
        let uploaded = (all.json["messages"] as? [[String: Any]] ?? []).first { $0["subject"] as? String == "Erro 539 de novo" } ?? [:]
        #expect(uploaded["resolution"] as? String == "opened (corrected message)" && (uploaded["ticket_code"] as? String)?.isEmpty == false,
                "\(all.text)")
    }
}
