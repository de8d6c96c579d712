import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("The intake executable", .serialized)
struct ExecutableTests {
    @Test("the real intake process opens a ticket with an attachment over TCP and keeps it across a restart", arguments: TestEngines.all)
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

        var request = IntakeHarness.request(organization)
        request.attachmentIDs = [attachment.id]
        let opened = try #require(try rpc.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket)
        #expect(opened.code.hasSuffix("-000001"))
        #expect(FileManager.default.fileExists(atPath: "\(directory.path)/attachments/\(attachment.sha256.prefix(2))/\(attachment.sha256.dropFirst(2).prefix(2))/\(attachment.sha256)"))
        rpc.close()
        #expect(process.stop() == 0)

        process = try ServiceProcess(name: "intake", environment: environment, port: port)
        rpc = client()
        defer { rpc.close() }
        var get = IntakeV1.GetTicketRequest()
        get.ticket = opened.code
        let read = try rpc.call(IntakeV1.Intake.getTicket, get, options: asMaria)
        #expect(read.id == opened.id && read.attachments.map(\.sha256) == [attachment.sha256])
        var download = IntakeV1.DownloadAttachmentRequest()
        download.attachmentID = attachment.id
        let stream = try rpc.serverStream(IntakeV1.Intake.downloadAttachment, download, options: asMaria)
        var bytes: [UInt8] = []
        while let chunk = try stream.receive() { bytes += chunk.data }
        #expect(bytes == content)
        #expect(process.stop() == 0)
    }
}
