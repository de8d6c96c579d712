import Foundation
import Messages
@testable import NotificationCore
import Observability
import RPC
import RPCTransport
import Synchronization
import Testing
import TestSupport

/// An on-demand e-mail's referenced files are downloaded from intake while the caller waits:
/// the download ends with the caller's deadline, not after notification's own 60 s.
@Suite("Notification: attachment downloads within the caller's deadline")
struct AttachmentDeadlineTests {
    @Test("a download from an intake that does not answer stops at the served call's deadline (it ran on for 60 s, holding notification's thread, after the caller had given up), and carries the caller's request id")
    func downloadStopsAtTheCallersDeadline() throws {
        let seen = Mutex<[String]>([])
        var router = RPCRouter()
        router.registerStreaming(IntakeV1.Intake.downloadAttachment) { _, _, context in
            seen.withLock { $0.append(context.requestID) }
            while !context.isCancelled { usleep(2_000) }
            return nil
        }
        let secret = DeploymentSecret.random()
        let intake = RPCServer(configuration: ServerConfiguration(serviceName: "intake", secret: secret), router: router,
                               logger: Logger(service: "intake", level: .critical))
        try intake.start()
        defer { intake.shutdown(gracePeriodMilliseconds: 100) }
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: intake.port)], secret: secret)
        configuration.maxAttempts = 1
        let client = RPCClient(configuration: configuration)
        defer { client.close() }
        let directory = try TemporaryDirectory(prefix: "attachment-deadline")
        let fetcher = IntakeAttachments(client: client, metadata: [MetadataKey.requestID: "gw-req-7"],
                                        spool: AttachmentSpool(dataDirectory: directory.path), deadline: Deadline.after(milliseconds: 400))
        var ref = CommonV1.AttachmentRef()
        ref.id = "att-1"
        let started = Date()
        #expect(throws: RPCError.self) { _ = try fetcher.fetch([ref], budget: 1 << 20) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 10, "the download waited \(elapsed) s")
        #expect(seen.withLock { $0 } == ["gw-req-7"])
    }
}
