import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Intake asks the real workflow who may see a ticket (`IntakeCore/Access/TicketAccess.swift`):
/// an agent below the ticket's confidentiality level is refused by intake itself, called
/// directly, through the gateway's RPC port with an integration key, and through the HTTP API.
@Suite("Intake enforces workflow's access rules against the real workflow")
struct IntakeTicketAccessTests {
    @Test("a ticket at level 1: agent Bia (level 0 in workflow's directory) and a level-0 integration key get NOT_FOUND from intake for the ticket, its file and files put on it; Ana (level 1) is served")
    func confidentialTicket() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        // PROBLEMA tickets open at level 1 (Ana's); Bia is at level 0.
        let level = try gateway.request("POST", "/v1/category-access-levels", json: ["category": "PROBLEMA", "access_level": 1], bearer: seeded.admin)
        #expect(level.status == 200, "\(level.text)")
        #expect(try gateway.request("POST", "/v1/agents", json: ["agent": ["id": "A-bia", "name": "Bia", "email": "bia@suporte.example",
                                                                           "max_access_level": 0, "active": true]], bearer: seeded.admin).status == 200)
        let bia = try gateway.createUser(admin: seeded.admin, email: "bia@suporte.example", role: "agent", agent: "A-bia", accessLevel: 0)
        let log = Data("log confidencial\n".utf8)
        let upload = try gateway.request("POST", "/v1/attachments?file_name=log.txt", body: log, headers: ["Content-Type": "text/plain"],
                                         bearer: seeded.maria)
        #expect(upload.status == 201, "\(upload.text)")
        let fileID = try #require(upload.json["id"] as? String)
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Folha de pagamento", "request": "Os valores da folha não batem.", "category": "PROBLEMA", "priority": "NORMAL",
            "product": "ERP", "module": "RH", "organization_id": seeded.organizationID, "attachment_ids": [fileID]], bearer: seeded.maria)
        #expect(opened.status == 201, "\(opened.text)")
        let ticketID = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        // Workflow has it (Ana finds it in her queue).
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: seeded.ana).text.contains(ticketID) })

        // Intake called directly, signed as each agent.
        let secret = DeploymentSecret(bytes: Array(gateway.environment["OCORRENCIAS_SECRET"]!.utf8))
        let intake = RPCClient(configuration: ClientConfiguration(endpoints: Endpoint.list(gateway.environment["INTAKE_ADDRESSES"]!), secret: secret))
        defer { intake.close() }
        func options(_ id: String) -> CallOptions {
            var agent = AuthV1.Principal()
            agent.kind = .agent
            agent.id = id
            agent.displayName = id
            // What the principal claims does not matter: workflow's directory says level 0.
            agent.accessLevel = 3
            return CallOptions(timeoutMilliseconds: 10_000, metadata: PrincipalSigner(secret: secret).metadata(for: agent))
        }
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticketID
        var download = IntakeV1.DownloadAttachmentRequest()
        download.attachmentID = fileID
        var add = IntakeV1.AddFilesRequest()
        add.ticket = ticketID
        var file = IntakeV1.OpenTicketFile()
        file.fileName = "bia.txt"
        file.data = Array("não devia".utf8)
        add.files = [file]
        func code(_ body: () throws -> Void) -> RPCStatusCode? {
            do { try body(); return nil } catch let error as RPCError { return error.code } catch { return .unknown }
        }
        let asBia = options("A-bia")
        #expect(code { _ = try intake.call(IntakeV1.Intake.getTicket, get, options: asBia) } == .notFound)
        #expect(code { let stream = try intake.serverStream(IntakeV1.Intake.downloadAttachment, download, options: asBia)
                       while try stream.receive() != nil {} } == .notFound)
        #expect(code { _ = try intake.call(IntakeV1.Intake.addFiles, add, options: asBia) } == .notFound)
        let asAna = options("A-ana")
        #expect(try intake.call(IntakeV1.Intake.getTicket, get, options: asAna).attachments.map(\.id) == [fileID])

        // The same through the gateway: the ticket view and the download are 404 to Bia.
        #expect(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: bia).status == 404)
        #expect(try gateway.request("GET", "/v1/attachments/\(fileID)", bearer: bia).status == 404)
        #expect(try gateway.request("GET", "/v1/attachments/\(fileID)", bearer: seeded.ana).body == log)

        // An integration key at level 0 calling intake through the gateway's RPC port.
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "ERP", "role": "agent", "access_level": 0], bearer: seeded.admin)
        #expect(created.status == 201, "\(created.text)")
        let key = try #require(created.json["key"] as? String)
        let proxy = ProxyTests.client(port: gateway.proxyPort, key: key)
        defer { proxy.close() }
        #expect(code { _ = try proxy.call(IntakeV1.Intake.getTicket, get) } == .notFound)
        // Nothing of Bia's was put on the ticket.
        #expect(try intake.call(IntakeV1.Intake.getTicket, get, options: asAna).attachments.map(\.id) == [fileID])
    }
}
