import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport

@Suite("The intake executable", .serialized)
struct ExecutableTests {
    @Test("the real intake process opens a ticket with a large and a small attachment over TCP and keeps both, byte-exact, across kill -9", arguments: TestEngines.all)
    func realProcess(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory(prefix: "intake-exec")
        let secret = "intake-exec-secret-\(UUID().uuidString)"
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secret,
                           "WORKFLOW_ADDRESSES": "127.0.0.1:9", "NOTIFICATION_ADDRESSES": "127.0.0.1:9"]
        if engine == .postgres { environment["INTAKE_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        var process = try ServiceProcess(name: "intake", environment: environment)
        let port = process.port
        func client() -> RPCClient {
            RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)],
                                                         secret: DeploymentSecret(bytes: Array(secret.utf8))))
        }
        let signer = PrincipalSigner(secret: DeploymentSecret(bytes: Array(secret.utf8)))
        let staff = CallOptions(metadata: signer.metadata(for: IntakeHarness.agent()))
        var rpc = client()
        var organization = IntakeV1.Organization()
        organization.name = "Acme"
        organization.taxID = "11.222.333/0001-81"
        organization.kind = .organizationCustomer
        organization.active = true
        organization = try rpc.call(IntakeV1.Intake.createOrganization, organization, options: staff)
        var contact = IntakeV1.Contact()
        contact.organizationID = organization.id
        contact.name = "Maria"
        contact.email = "maria@acme.example"
        contact.authorized = true
        contact = try rpc.call(IntakeV1.Intake.addContact, contact, options: staff)
        let asMaria = CallOptions(metadata: signer.metadata(for: IntakeHarness.customer(contact)))

        let content = randomBytes(300_000, seed: 11)
        let upload = try rpc.streamingCall(IntakeV1.Intake.uploadAttachment, options: asMaria)
        var first = IntakeV1.UploadAttachmentRequest()
        first.fileName = "print.png"
        first.sizeBytes = Int64(content.count)
        first.sha256 = sha256Hex(content)
        first.data = Array(content.prefix(100_000))
        try upload.send(first)
        var rest = IntakeV1.UploadAttachmentRequest()
        rest.data = Array(content.dropFirst(100_000))
        try upload.send(rest)
        let attachment = try upload.finish()

        // A pasted screenshot: small enough to be kept in the database row (INTAKE_INLINE_CONTENT_BYTES).
        let screenshot = randomBytes(20_000, seed: 12)
        let smallUpload = try rpc.streamingCall(IntakeV1.Intake.uploadAttachment, options: asMaria)
        var small = IntakeV1.UploadAttachmentRequest()
        small.fileName = "colado.png"
        small.sizeBytes = Int64(screenshot.count)
        small.sha256 = sha256Hex(screenshot)
        small.data = screenshot
        try smallUpload.send(small)
        let pasted = try smallUpload.finish()

        var request = IntakeHarness.request(organization)
        request.attachmentIDs = [attachment.id, pasted.id]
        let opened = try #require(try rpc.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket)
        #expect(opened.code.hasSuffix("-000001"))
        #expect(FileManager.default.fileExists(atPath: "\(directory.path)/attachments/\(attachment.sha256.prefix(2))/\(attachment.sha256.dropFirst(2).prefix(2))/\(attachment.sha256)"))
        #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/attachments/\(pasted.sha256.prefix(2))/\(pasted.sha256.dropFirst(2).prefix(2))/\(pasted.sha256)"),
                "the small file is in the database, not in the store")
        rpc.close()
        // Killed without warning: what was acknowledged is there after the restart.
        _ = process.stop(signal: SIGKILL)

        process = try ServiceProcess(name: "intake", environment: environment, port: port)
        rpc = client()
        defer { rpc.close() }
        var get = IntakeV1.GetTicketRequest()
        get.ticket = opened.code
        let read = try rpc.call(IntakeV1.Intake.getTicket, get, options: asMaria)
        #expect(read.id == opened.id && read.attachments.map(\.sha256) == [attachment.sha256, pasted.sha256])
        for (id, expected) in [(attachment.id, content), (pasted.id, screenshot)] {
            var download = IntakeV1.DownloadAttachmentRequest()
            download.attachmentID = id
            download.chunkBytes = 8_192
            let stream = try rpc.serverStream(IntakeV1.Intake.downloadAttachment, download, options: asMaria)
            var bytes: [UInt8] = []
            while let chunk = try stream.receive() { bytes += chunk.data }
            #expect(bytes == expected)
        }
        #expect(process.stop() == 0)
    }

    @Test("opens acknowledged by the real process survive kill -9 with their events (the tuned writer, group commit)",
          arguments: TestEngines.all)
    func acknowledgedOpensSurviveKill(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory(prefix: "intake-kill")
        let secret = "intake-kill-secret-\(UUID().uuidString)"
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secret,
                           "WORKFLOW_ADDRESSES": "127.0.0.1:9", "NOTIFICATION_ADDRESSES": "127.0.0.1:9"]
        var url: String?
        if engine == .postgres {
            url = try PostgresTestServer.shared().createDatabase()
            environment["INTAKE_DATABASE_URL"] = url
        }
        var process = try ServiceProcess(name: "intake", environment: environment)
        let port = process.port
        let secretValue = DeploymentSecret(bytes: Array(secret.utf8))
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], secret: secretValue)
        configuration.connectionsPerEndpoint = 4
        let rpc = RPCClient(configuration: configuration)
        let signer = PrincipalSigner(secret: secretValue)
        let staff = CallOptions(metadata: signer.metadata(for: IntakeHarness.agent()))
        var organization = IntakeV1.Organization()
        organization.name = "Acme"
        organization.taxID = "11.222.333/0001-81"
        organization.kind = .organizationCustomer
        organization.active = true
        organization = try rpc.call(IntakeV1.Intake.createOrganization, organization, options: staff)
        let callers = try (0..<4).map { index -> CallOptions in
            var contact = IntakeV1.Contact()
            contact.organizationID = organization.id
            contact.name = "Cliente \(index)"
            contact.email = "cliente\(index)@acme.example"
            contact.authorized = true
            contact = try rpc.call(IntakeV1.Intake.addContact, contact, options: staff)
            return CallOptions(metadata: signer.metadata(for: IntakeHarness.customer(contact)))
        }
        // Four callers at once (so opens share transactions on SQLite), 15 opens each; every
        // acknowledged ticket is remembered, then the process is killed without warning.
        let acknowledged = Mutex<[IntakeV1.Ticket]>([])
        let target = organization
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for n in 0..<15 {
                let request = IntakeHarness.request(target, subject: "Kill \(caller)-\(n)")
                guard let ticket = try? rpc.call(IntakeV1.Intake.openTicket, request, options: callers[caller]).ticket else { return }
                acknowledged.withLock { $0.append(ticket) }
            }
        }
        rpc.close()
        _ = process.stop(signal: SIGKILL)
        let tickets = acknowledged.withLock { $0 }
        #expect(tickets.count == 60)

        // What the storage kept: every acknowledged ticket, each with its event still waiting for
        // workflow and notification (unreachable here).
        let database = try openDatabase(url.map { DatabaseConfiguration(url: $0, sqlitePath: "") }
                                        ?? DatabaseConfiguration(sqlitePath: directory.path + "/intake.sqlite"), migrations: [])
        let stored = try database.read { tx in
            Set(try tx.query("SELECT code FROM tickets", []).map { try $0.text("code") })
        }
        let waiting = try database.read { tx in
            Set(try tx.query("SELECT event_key FROM storage_outbox WHERE event_key LIKE 'workflow|%'", []).map { try $0.text("event_key") })
        }
        database.close()
        for ticket in tickets {
            #expect(stored.contains(ticket.code), "ticket \(ticket.code) was acknowledged")
            #expect(waiting.contains("workflow|\(ticket.id)"), "TicketOpened of \(ticket.code) waits for workflow")
        }
        // The restarted service numbers on from where it was.
        process = try ServiceProcess(name: "intake", environment: environment, port: port)
        let again = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], secret: secretValue))
        defer { again.close() }
        let next = try #require(try again.call(IntakeV1.Intake.openTicket, IntakeHarness.request(organization, subject: "After"),
                                               options: callers[0]).ticket)
        #expect(!stored.contains(next.code) && next.code.hasSuffix("-000061"))
        #expect(process.stop() == 0)
        if engine == .sqlite {
            // Group commit is on by default on SQLite; the process says what it did when it stops.
            #expect(process.log.contains("\"msg\":\"group commit\"") && process.log.contains("\"opens\":\"1\""), "\(process.log)")
        }
    }
}
