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
    /// A real intake executable, an SMTP sink and a notification harness fetching from that intake.
    final class Fixture {
        let mailDirectory: TemporaryDirectory
        let sink: PythonPeer
        let intakeData: TemporaryDirectory
        let intake: ServiceProcess
        let harness: NotificationHarness
        let intakeClient: RPCClient

        init(engine: DatabaseEngine, attachmentMaxBytes: Int) throws {
            mailDirectory = try TemporaryDirectory(prefix: "sink")
            sink = try PythonPeer.smtp(directory: mailDirectory.path)
            intakeData = try TemporaryDirectory(prefix: "intake-for-notification")
            var intakeEnvironment = ["OCORRENCIAS_DATA_DIR": intakeData.path, "OCORRENCIAS_SECRET": "notification-tests-secret-0123456789",
                                     "WORKFLOW_ADDRESSES": "127.0.0.1:9", "NOTIFICATION_ADDRESSES": "127.0.0.1:9"]
            if engine == .postgres { intakeEnvironment["INTAKE_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
            intake = try ServiceProcess(name: "intake", environment: intakeEnvironment)
            var settings = NotificationHarness.settings(smtpPort: sink.port)
            settings.attachmentMaxBytes = attachmentMaxBytes
            do {
                harness = try NotificationHarness(engine: engine, settings: settings,
                                                  environment: ["INTAKE_ADDRESSES": "127.0.0.1:\(intake.port)"])
            } catch {
                intake.stop()
                throw error
            }
            intakeClient = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: intake.port)],
                                                                      secret: harness.secret))
        }

        func stop() {
            intakeClient.close()
            intake.stop()
        }
    }

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
        let fixture = try Fixture(engine: engine, attachmentMaxBytes: 300_000)
        defer { fixture.stop() }
        let (mailDirectory, sink, harness, intakeClient) = (fixture.mailDirectory, fixture.sink, fixture.harness, fixture.intakeClient)
        let agent = harness.options(NotificationHarness.agent())
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let other = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
        let bigRef = try Self.upload(intakeClient, agent, name: "relatório anual.bin", content: big)
        let otherRef = try Self.upload(intakeClient, agent, name: "outro.bin", content: other)

        let note = TicketEmails.inline("nota.txt", contentType: "text/plain", Array("ação\n".utf8))
        var request = TicketEmails.request("t-refs", code: "2026-000999", subject: "Arquivos", body: "Seguem os arquivos.",
                                           attachments: [note], refs: [bigRef.id])
        _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: agent)
        #expect(waitFor(15) { sink.files("eml").count == 1 })
        let mail = try #require(try ReceivedMail.all(in: mailDirectory.path).first)
        #expect(mail.defects.isEmpty)
        let files = Dictionary(uniqueKeysWithValues: mail.attachments.map { ($0.filename ?? "", $0) })
        #expect(files["relatório anual.bin"]?.sha256 == bigRef.sha256 && files["relatório anual.bin"]?.size == big.count)
        #expect(files["nota.txt"]?.sha256 == Digest.hex(Digest.sha256(note.content)))

        // Both files together pass the 300 000-byte limit: refused before anything is queued.
        request.attachmentRefs = [TicketEmails.ref(bigRef.id), otherRef]
        do {
            _ = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: agent)
            Issue.record("over the limit was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.violations.first?.field == "attachment_refs[1]", "\(error)")
        }
        request.attachmentRefs = [TicketEmails.ref("no-such-attachment")]
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

    @Test("A large referenced file is streamed: spooled while fetched, stored in pieces, uploaded piece by piece, intact",
          arguments: TestEngines.all)
    func largeStreamed(engine: DatabaseEngine) throws {
        let fixture = try Fixture(engine: engine, attachmentMaxBytes: 8 << 20)
        defer { fixture.stop() }
        let (mailDirectory, sink, harness, intakeClient) = (fixture.mailDirectory, fixture.sink, fixture.harness, fixture.intakeClient)
        // 6 MiB through intake and into the database in pieces: more than the default 10 s when the
        // machine is loaded (seen on PostgreSQL with the whole suite running at load 12).
        let agent = CallOptions(timeoutMilliseconds: 60_000, metadata: harness.options(NotificationHarness.agent()).metadata)
        // 6 MiB and a few bytes (not a multiple of 57: the last base64 line is short).
        let large = (0..<(6 << 20) + 1_234).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        let largeRef = try Self.upload(intakeClient, agent, name: "backup do banco.sql.gz", content: large)

        let note = TicketEmails.inline("leia-me.txt", contentType: "text/plain", Array("instruções\n".utf8))
        let request = TicketEmails.request("t-large", code: "2026-000998", subject: "Backup", body: "Segue o backup.",
                                           attachments: [note], refs: [largeRef.id])
        let sent = try harness.client.call(NotificationV1.Notification.sendTicketEmail, request, options: agent)
        let id = try #require(sent.delivery?.id)
        // The row keeps no copy: the message is in pieces of 256 KiB; the spool is empty again.
        let (payload, payloadBytes, pieces) = try harness.database.read { tx in
            let row = try #require(try tx.queryOne("SELECT payload, payload_bytes FROM notification_deliveries WHERE id = ?", [.text(id)]))
            let pieces = try tx.scalar("SELECT COUNT(*) FROM notification_payload_chunks WHERE delivery_id = ?", [.text(id)])
            return (try row.blob("payload"), Int(try row.int("payload_bytes")), pieces)
        }
        #expect(payload.isEmpty && payloadBytes > large.count * 4 / 3)
        #expect(pieces == .integer(Int64((payloadBytes + PayloadChunks.chunkBytes - 1) / PayloadChunks.chunkBytes)))
        let spool = "\(harness.directory.path)/notification-spool"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).isEmpty)

        #expect(waitFor(30) { sink.files("eml").count == 1 })
        let mail = try #require(try ReceivedMail.all(in: mailDirectory.path).first)
        #expect(mail.defects.isEmpty)
        let files = Dictionary(uniqueKeysWithValues: mail.attachments.map { ($0.filename ?? "", $0) })
        #expect(files["backup do banco.sql.gz"]?.size == large.count)
        #expect(files["backup do banco.sql.gz"]?.sha256 == Digest.hex(Digest.sha256(large)))
        #expect(files["leia-me.txt"]?.sha256 == Digest.hex(Digest.sha256(note.content)))

        // A replay uploads the same bytes again from the stored pieces.
        var replay = NotificationV1.ReplayDeliveryRequest()
        replay.deliveryID = id
        _ = try harness.client.call(NotificationV1.Notification.replayDelivery, replay, options: harness.options(NotificationHarness.administrator()))
        #expect(waitFor(30) { sink.files("eml").count == 2 })
        let copies = sink.files("eml").map { FileManager.default.contents(atPath: "\(mailDirectory.path)/\($0)") }
        #expect(copies[0] != nil && copies[0] == copies[1], "byte-identical")
        #expect(try PayloadChunks.readAll(harness.database, deliveryID: id).count == payloadBytes)
    }

    @Test("Spool files left by a stopped process are removed when older than the age given; fresh ones stay")
    func staleSpool() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        let spool = AttachmentSpool(dataDirectory: directory.path)
        let old = try spool.create(), fresh = try spool.create()
        try old.handle.close()
        try fresh.handle.close()
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7_200)], ofItemAtPath: old.path)
        #expect(spool.removeStale(olderThan: 3_600) == 1)
        #expect(!FileManager.default.fileExists(atPath: old.path) && FileManager.default.fileExists(atPath: fresh.path))
    }
}
