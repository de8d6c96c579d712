import Foundation
import Storage
import Testing
import TestSupport

/// What a customer company's people meet on a ticket: who may cancel it, the state their reply
/// produces right after it, and the files listed as they chose them.
@Suite("A customer company's ticket: cancelling, the state after a reply, the files in the order chosen", .serialized)
struct CustomerTicketPageTests {
    /// Acme's plain contacts Carla and João (Maria, the seed's, is the company's administrator),
    /// signed in; and a ticket Carla opened that Ana took and moved to Aguardando cliente.
    struct People {
        var carla: String
        var joao: String
        var ticket: String
    }

    static func people(_ gateway: GatewayHarness, _ seeded: TicketFlowTests.Seeded) throws -> People {
        func contact(_ name: String, _ email: String) throws -> String {
            let added = try gateway.request("POST", "/v1/organizations/\(seeded.organizationID)/contacts", json: [
                "name": name, "email": email, "authorized": true], bearer: seeded.admin)
            #expect(added.status == 201, "\(added.text)")
            return try gateway.createUser(admin: seeded.admin, email: email, role: "customer_contact", organization: seeded.organizationID,
                                          contact: try #require(added.json["id"] as? String, "\(added.text)"))
        }
        let carla = try contact("Carla", "carla@acme.com.br")
        let joao = try contact("João", "joao@acme.com.br")
        let ticket = try openTicket(gateway, seeded, as: carla, subject: "Pedido não grava")
        #expect(try gateway.request("POST", "/v1/tickets/\(ticket)/take", json: [:], bearer: seeded.ana).status == 200)
        let asked = try gateway.request("POST", "/v1/tickets/\(ticket)/move", json: [
            "to_stage": "aguardando_cliente", "public_note": "Carla, pode mandar o log da gravação?"], bearer: seeded.ana)
        #expect(asked.status == 200, "\(asked.text)")
        return People(carla: carla, joao: joao, ticket: ticket)
    }

    /// A ticket `token`'s person opens for Acme, once workflow has it.
    static func openTicket(_ gateway: GatewayHarness, _ seeded: TicketFlowTests.Seeded, as token: String, subject: String) throws -> String {
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": subject, "request": "Ao gravar o pedido a tela congela.", "category": "PROBLEMA", "priority": "NORMAL",
            "product": "ERP", "module": "Vendas", "organization_id": seeded.organizationID], bearer: token)
        #expect(opened.status == 201, "\(opened.text)")
        let id = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        #expect(waitFor(30) { (try? gateway.request("GET", "/v1/tickets/\(id)", bearer: seeded.admin).json["workflow"] as? [String: Any]) != nil })
        return id
    }

    /// Stops workflow's process (SIGSTOP) for `seconds`, from another thread: its view lags
    /// behind intake's events meanwhile, as under load.
    static func pause(_ workflow: ServiceProcess, for seconds: Double) {
        kill(workflow.process.processIdentifier, SIGSTOP)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { kill(workflow.process.processIdentifier, SIGCONT) }
    }

    @Test("over HTTP: a colleague's cancel is 403 with intake's reason in pt-BR and en, the ticket stays open; its contact and the company's administrator cancel; a reply made while workflow lags is answered once workflow's view shows it (X-Reply-Applied: 1), and the view read right after is in Em atendimento",
          arguments: TestEngines.all)
    func cancelAndReplyOverHTTP(engine: DatabaseEngine) throws {
        // The reply waits for workflow's view up to 10 s (2 s by default): what workflow needs
        // after its pause to show the reply is not then cut short on a loaded machine.
        let seeded = try SeededDeployment(engine: engine, gatewayEnvironment: ["GATEWAY_REPLY_SETTLE_MS": "10000"])
        let gateway = seeded.gateway
        let people = try Self.people(gateway, seeded.seeded)
        let other = try Self.openTicket(gateway, seeded.seeded, as: people.carla, subject: "Boleto duplicado")

        let refused = try gateway.request("POST", "/v1/tickets/\(people.ticket)/cancel", json: ["reason": "Já resolvemos"], bearer: people.joao)
        #expect(refused.status == 403 && refused.errorCode == "PERMISSION_DENIED", "\(refused.text)")
        let error = refused.json["error"] as? [String: Any] ?? [:]
        #expect((error["message"] as? String)?.hasPrefix("apenas o contato da ocorrência, o representante que a abriu") == true, "\(refused.text)")
        #expect((error["message_en"] as? String)?.hasPrefix("only the ticket's contact, the representative who opened it") == true, "\(refused.text)")
        let view = try gateway.request("GET", "/v1/tickets/\(people.ticket)", bearer: people.joao)
        #expect(view.status == 200 && (view.json["intake"] as? [String: Any])?["status"] as? String == "open", "a colleague still reads it")

        // Carla replies while workflow is stopped for 0.7 s: the answer waits for its view.
        Self.pause(seeded.deployment.services[1], for: 0.7)
        let started = Date()
        let reply = try gateway.request("POST", "/v1/tickets/\(people.ticket)/replies", json: ["text": "Segue o log."], bearer: people.carla)
        let waited = Date().timeIntervalSince(started)
        #expect(reply.status == 201 && reply.header("X-Reply-Applied") == "1", "\(reply.status) \(reply.headers) \(reply.text)")
        #expect(waited >= 0.5 && waited < 10, "answered after \(waited) s: once the view showed it, not at the end of the wait")
        let after = try gateway.request("GET", "/v1/tickets/\(people.ticket)", bearer: people.carla)
        let workflow = after.json["workflow"] as? [String: Any] ?? [:]
        #expect((workflow["row"] as? [String: Any])?["stage"] as? String == "em_atendimento", "\(after.text.prefix(1500))")
        #expect(workflow["customer_stage_name"] as? String == "Em atendimento", "\(after.text.prefix(1500))")

        // The ticket's contact and the company's administrator cancel.
        #expect(try gateway.request("POST", "/v1/tickets/\(people.ticket)/cancel", json: ["reason": "Resolvido"], bearer: people.carla).status == 200)
        #expect(try gateway.request("POST", "/v1/tickets/\(other)/cancel", json: ["reason": "Duplicado"], bearer: seeded.seeded.maria).status == 200)
    }

    @Test("in the browser: João, a colleague, reads Carla's ticket without a cancel button, which Carla and Maria (the company's administrator) get; Carla's reply with three files, while workflow's database is write-locked (its view lags), shows Em atendimento at once and lists her files as she chose them (a large one in the middle, the only one uploaded: the small ones placed inside the reply), grouped under her reply with their sizes; Ana finishes an Exigência fiscal as solved by configuration from the move form, no reclassification; the contact's list says how it ended, and switched to English the list and the page read \"Finished — solved by configuration\" (a Tax requirement)")
    func customerTicketPage() throws {
        try PortalBrowser.requireChromium()
        let seeded = try SeededDeployment(engine: .sqlite)
        let gateway = seeded.gateway
        let people = try Self.people(gateway, seeded.seeded)
        let files = try TemporaryDirectory()
        var paths: [String] = []
        for (name, data) in [("a-primeiro.txt", Data("primeiro\n".utf8)), ("b-grande.bin", AttachmentStreamTests.file(bytes: 300_000, seed: 3)),
                             ("c-ultimo.txt", Data("último\n".utf8))] {
            try data.write(to: URL(fileURLWithPath: files.path + "/" + name))
            paths.append(files.path + "/" + name)
        }
        // Ana's public message with a file: listed under her message, before Carla's reply.
        let entry = try gateway.request("POST", "/v1/tickets/\(people.ticket)/discussion", json: [
            "text": "Segue o roteiro para gerar o log.", "is_public": true,
            "files": [["file_name": "roteiro.txt", "content_type": "text/plain", "data": Data("1. Abra o pedido.\n".utf8).base64EncodedString()]]],
                                        bearer: seeded.seeded.ana)
        #expect(entry.status == 201, "\(entry.text)")
        let workflowDatabase = seeded.deployment.directory.path + "/workflow.sqlite"
        try #require(FileManager.default.fileExists(atPath: workflowDatabase))
        // An Exigência fiscal Ana holds, to be finished as solved by configuration.
        let fiscal = try seeded.openTicket(subject: "Nova regra do ICMS-ST", request: "A partir de janeiro a substituição tributária muda.",
                                           category: "EXIGENCIA_FISCAL", module: "Fiscal")
        #expect(try gateway.request("POST", "/v1/tickets/\(fiscal)/take", json: [:], bearer: seeded.seeded.ana).status == 200)
        let uploadsBefore = try ReplyFilesTests.uploads(gateway, admin: seeded.seeded.admin)
        let result = try PortalBrowser.run("customer_ticket_page.py", gateway, [people.ticket, workflowDatabase] + paths + [fiscal], environment: [
            "PORTAL_CUSTOMER": "carla@acme.com.br:\(seeded.seeded.password)", "PORTAL_COLLEAGUE": "joao@acme.com.br:\(seeded.seeded.password)",
            "PORTAL_ADMIN_CONTACT": "maria@acme.com.br:\(seeded.seeded.password)", "PORTAL_AGENT": "ana@suporte.example:\(seeded.seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
        // The portal places the reply's files (file_positions): only b-grande.bin is uploaded
        // (before, a-primeiro.txt was uploaded too, to come before it).
        #expect(try ReplyFilesTests.uploads(gateway, admin: seeded.seeded.admin) == uploadsBefore + 1, "only b-grande.bin uploaded")
        // Stored in the order chosen, whatever travelled inside the reply.
        let view = try gateway.request("GET", "/v1/tickets/\(people.ticket)", bearer: seeded.seeded.admin)
        let messages = (view.json["intake"] as? [String: Any])?["messages"] as? [[String: Any]] ?? []
        #expect((messages.last?["attachments"] as? [[String: Any]] ?? []).compactMap { $0["file_name"] as? String }
                == ["a-primeiro.txt", "b-grande.bin", "c-ultimo.txt"], "\(messages)")
        // Finished as solved by configuration, still an Exigência fiscal.
        let finished = try gateway.request("GET", "/v1/tickets/\(fiscal)", bearer: seeded.seeded.admin).json["workflow"] as? [String: Any] ?? [:]
        #expect(finished["outcome"] as? String == "resolvida_configuracao", "\(finished)")
        // How it ended, as the customer reads it too (TicketOutcome's label, the portal's words).
        #expect(finished["outcome_label"] as? String == "resolvida por configuração", "\(finished)")
        let customers = try gateway.request("GET", "/v1/tickets/\(fiscal)", bearer: seeded.seeded.maria).json["workflow"] as? [String: Any] ?? [:]
        #expect(customers["outcome"] as? String == "resolvida_configuracao" && customers["outcome_label"] as? String == "resolvida por configuração",
                "\(customers)")
        #expect((finished["row"] as? [String: Any])?["category"] as? String == "EXIGENCIA_FISCAL", "\(finished)")
    }
}
