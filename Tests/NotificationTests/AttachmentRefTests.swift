import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// On-demand e-mail with attachments stored by intake: fetched from the real intake executable
/// over TCP (server-streaming DownloadAttachment), with the caller's identity and a size limit.
@Suite("Notification: attachments by reference, fetched from intake", .serialized)
struct AttachmentRefTests {
    static func upload(_ client: RPCClient, _ options: CallOptions, name: String, content: [UInt8]) throws -> CommonV1.AttachmentRef {
        let call = try client.streamingCall(IntakeV1.Intake.uploadAttachment, options: options)
        var first = IntakeV1.UploadAttachmentRequest()
        first.fileName = name
        first.contentType = "application/octet-stream"
        first.sizeBytes = Int64(content.count)
        first.sha256 = Digest.hex(Digest.sha256(content))
        first.data = Array(content.prefix(64_000))
        try call.send(first)
        var offset = 64_000
        while offset < content.count {
            var next = IntakeV1.UploadAttachmentRequest()
            next.data = Array(content[offset..<min(content.count, offset + 64_000)])
            try call.send(next)
            offset += 64_000
        }
        return try call.finish()
    }

    @Test("Referenced files reach the recipient intact next to inline ones; over the limit or unknown, the request is refused",
          arguments: TestEngines.all)
    func fetchedFromIntake(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let intakeData = try TemporaryDirectory(prefix: "intake-for-notification")
        var intakeEnvironment = ["OCORRENCIAS_DATA_DIR": intakeData.path, "OCORRENCIAS_SECRET": "notification-tests-secret-0123456789",
                                 "WORKFLOW_ADDRESSES": "127.0.0.1:9", "NOTIFICATION_ADDRESSES": "127.0.0.1:9"]
        if engine == .postgres { intakeEnvironment["INTAKE_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        let intake = try ServiceProcess(name: "intake", environment: intakeEnvironment)
        defer { intake.stop() }
        var settings = NotificationHarness.settings(smtpPort: sink.port)
        settings.attachmentMaxBytes = 300_000
        let harness = try NotificationHarness(engine: engine, settings: settings,
                                              environment: ["INTAKE_ADDRESSES": "127.0.0.1:\(intake.port)"])
        let intakeClient = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: intake.port)],
                                                                      secret: harness.secret))
        defer { intakeClient.close() }
        let agent = harness.options(NotificationHarness.agent())
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let other = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
        let bigRef = try Self.upload(intakeClient, agent, name: "relatório anual.bin", content: big)
        let otherRef = try Self.upload(intakeClient, agent, name: "outro.bin", content: other)

        var request = NotificationV1.SendTicketEmailRequest()
        request.ticketID = "t-refs"
        request.ticketCode = "2026-000999"
        request.to = ["jose@cliente.example"]
        request.subject = "Arquivos"
        request.body = "Seguem os arquivos."
        var note = NotificationV1.InlineAttachment()
        note.fileName = "nota.txt"
        note.contentType = "text/plain"
        note.content = Array("ação\n".utf8)
        request.attachments = [note]
        var onlyID = CommonV1.AttachmentRef()
        onlyID.id = bigRef.id
        request.attachmentRefs = [onlyID]
        _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: agent)
        #expect(eventually { sink.files("eml").count == 1 })
        let mail = try #require(try ReceivedMail.all(in: mailDirectory.path).first)
        #expect(mail.defects.isEmpty)
        let files = Dictionary(uniqueKeysWithValues: mail.attachments.map { ($0.filename ?? "", $0) })
        #expect(files["relatório anual.bin"]?.sha256 == bigRef.sha256 && files["relatório anual.bin"]?.size == big.count)
        #expect(files["nota.txt"]?.sha256 == Digest.hex(Digest.sha256(note.content)))

        // Both files together pass the 300 000-byte limit: refused before anything is queued.
        request.attachmentRefs = [onlyID, otherRef]
        do {
            _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: agent)
            Issue.record("over the limit was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.violations.first?.field == "attachment_refs[1]", "\(error)")
        }
        var unknown = CommonV1.AttachmentRef()
        unknown.id = "no-such-attachment"
        request.attachmentRefs = [unknown]
        do {
            _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: agent)
            Issue.record("an unknown attachment was accepted")
        } catch let error as RPCError {
            #expect(error.code == .notFound, "\(error)")
        }
        usleep(300_000)
        #expect(sink.files("eml").count == 1)
        #expect(try harness.deliveries(ticketID: "t-refs").count == 1)
    }
}
