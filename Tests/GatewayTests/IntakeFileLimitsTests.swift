import Foundation
import GatewayCore
import Messages
import Storage
import Synchronization
import Testing
import TestSupport

/// The gateway's file limits follow intake's: a deployment that lowers intake's limits needs no
/// matching gateway setting, and clients learn them from `GET /v1/file-limits`.
@Suite("Gateway file limits lowered to intake's")
struct IntakeFileLimitsTests {
    static let own = InlineFileLimits(fileBytes: 256 << 10, maxFiles: 8, maxBytes: 2 << 20, uploadBytes: 100 << 20)

    static func intake(file: Int64, inline: Int64, files: Int32, bytes: Int64) -> IntakeV1.FileLimits {
        var limits = IntakeV1.FileLimits()
        limits.maxFileBytes = file
        limits.maxTicketBytes = 1 << 30
        limits.inlineFileBytes = inline
        limits.inlineMaxFiles = files
        limits.inlineMaxBytes = bytes
        return limits
    }

    @Test("each limit is the lower of the gateway's and intake's; a limit intake leaves at 0 keeps the gateway's")
    func clamping() {
        #expect(Self.own.clamped(to: Self.intake(file: 5_000, inline: 1_000, files: 2, bytes: 1_800))
                == InlineFileLimits(fileBytes: 1_000, maxFiles: 2, maxBytes: 1_800, uploadBytes: 5_000))
        // Intake's defaults are above the gateway's: nothing changes.
        #expect(Self.own.clamped(to: Self.intake(file: 100 << 20, inline: 256 << 10, files: 16, bytes: 3 << 20)) == Self.own)
        #expect(Self.own.clamped(to: IntakeV1.FileLimits()) == Self.own)
    }

    @Test("intake is asked once per lifetime; while it cannot answer the last known limits apply and it is asked again only after the retry delay")
    func cachingAndRetry() {
        let asked = Atomic<Int>(0)
        let lowered = Self.intake(file: 5_000, inline: 1_000, files: 2, bytes: 1_800)
        let cache = IntakeFileLimits(own: Self.own, lifetimeSeconds: 60, retrySeconds: 60)
        for _ in 0..<3 {
            #expect(cache.current { asked.add(1, ordering: .relaxed); return lowered }.fileBytes == 1_000)
        }
        #expect(asked.load(ordering: .relaxed) == 1)

        struct Down: Error {}
        let failing = IntakeFileLimits(own: Self.own, lifetimeSeconds: 60, retrySeconds: 60)
        let tries = Atomic<Int>(0)
        for _ in 0..<3 {
            #expect(failing.current { tries.add(1, ordering: .relaxed); throw Down() } == Self.own)
        }
        #expect(tries.load(ordering: .relaxed) == 1, "no call per request while intake is down")
        // A zero retry delay asks again at once, and the answer then holds.
        let recovering = IntakeFileLimits(own: Self.own, lifetimeSeconds: 60, retrySeconds: 0)
        #expect(recovering.current { throw Down() } == Self.own)
        #expect(recovering.current { lowered }.uploadBytes == 5_000)
        #expect(recovering.current { throw Down() }.uploadBytes == 5_000)
    }

    @Test("with intake's limits lowered and the gateway's left at their defaults: GET /v1/file-limits serves intake's, an upload over intake's file limit is refused by the gateway (413) before intake stores anything, and a multipart open uploads a file intake would refuse inside the call")
    func followsIntake() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite, serviceEnvironment: [
            "INTAKE_MAX_FILE_BYTES": "5000", "INTAKE_INLINE_CONTENT_BYTES": "1000", "INTAKE_OPEN_FILES_MAX_COUNT": "2",
            "INTAKE_OPEN_FILES_MAX_BYTES": "1800"])
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let served = try gateway.request("GET", "/v1/file-limits", bearer: seeded.maria)
        #expect(served.status == 200, "\(served.text)")
        #expect(served.json["inline_file_bytes"] as? Int == 1_000 && served.json["max_inline_files"] as? Int == 2
                && served.json["max_inline_bytes"] as? Int == 1_800 && served.json["max_upload_bytes"] as? Int == 5_000, "\(served.text)")

        var before = try ReplyFilesTests.uploads(gateway, admin: seeded.admin)
        let tooLarge = try gateway.request("POST", "/v1/attachments?file_name=grande.bin", body: AttachmentStreamTests.file(bytes: 5_001, seed: 1),
                                           bearer: seeded.maria)
        #expect(tooLarge.status == 413 && tooLarge.errorCode == "PAYLOAD_TOO_LARGE", "\(tooLarge.text)")
        // The limit applied (intake's, not the gateway's 100 MiB), stated.
        LimitsTests.expectLimit(tooLarge, 5_000, "4.9 KiB", reason: "file_too_large")
        #expect(try ReplyFilesTests.uploads(gateway, admin: seeded.admin) == before, "refused before calling intake")

        // 1,500 bytes: inside the call by the gateway's own limits (256 KiB), over intake's 1,000.
        let file = AttachmentStreamTests.file(bytes: 1_500, seed: 2)
        let files = try TemporaryDirectory()
        try file.write(to: URL(fileURLWithPath: files.path + "/tela.png"))
        let ticket: [String: Any] = ["subject": "Tela congela", "request": "Segue a imagem.", "category": "PROBLEMA", "product": "ERP",
                                     "organization_id": seeded.organizationID]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ticket), as: UTF8.self)
        before = try ReplyFilesTests.uploads(gateway, admin: seeded.admin)
        let form = try GatewayHarness.curl(["-s", "-i", "--max-time", "60", "-H", "Expect:", "-H", "Authorization: Bearer \(seeded.maria)",
                                            "-F", "ticket=\(json);type=application/json", "-F", "files=@\(files.path)/tela.png;type=image/png",
                                            "http://127.0.0.1:\(gateway.httpPort)/v1/tickets"], input: Data())
        #expect(form.status == 201, "\(form.text)")
        #expect(try ReplyFilesTests.uploads(gateway, admin: seeded.admin) == before + 1, "uploaded first, not refused inside the open")
        let attachments = ((form.json["ticket"] as? [String: Any])?["attachments"] as? [[String: Any]]) ?? []
        let id = try #require(attachments.first?["id"] as? String, "\(form.text)")
        #expect(try gateway.request("GET", "/v1/attachments/\(id)", bearer: seeded.maria).body == file)
    }
}
