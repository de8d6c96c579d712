import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Synchronization
import Testing
import TestSupport

/// Streamed uploads into the file store (larger than the inline limit) while the real process is
/// killed with `kill -9`: every upload it acknowledged reads back byte-exact after the restart,
/// and no file under a content name holds anything but that content (an upload cut off leaves at
/// most a temporary file, removed by the orphan scan's passes).
@Suite("Uploads and kill -9", .serialized)
struct UploadKillTests {
    @Test("every streamed upload the process acknowledged reads back byte-exact after kill -9; every stored file is whole (its bytes hash to its name)",
          arguments: TestEngines.all)
    func acknowledgedUploadsSurviveKill(engine: DatabaseEngine) throws {
        let intake = try KillableIntake(engine)
        @Sendable func bytes(_ index: Int, _ round: Int) -> [UInt8] {
            randomBytes(300_000 + 4_099 * (round % 60), seed: UInt64(index * 1_000 + round))
        }
        let rpc = intake.client()
        let acknowledged = Mutex<[(ref: CommonV1.AttachmentRef, index: Int, round: Int)]>([])
        let group = DispatchGroup()
        for (index, customer) in intake.customers.enumerated() {
            group.enter()
            Thread {
                defer { group.leave() }
                var round = 0
                while true {
                    let content = bytes(index, round)
                    do {
                        var first = IntakeV1.UploadAttachmentRequest()
                        first.fileName = "gravacao-\(index)-\(round).webm"
                        first.contentType = "video/webm"
                        first.sizeBytes = Int64(content.count)
                        first.sha256 = sha256Hex(content)
                        let call = try rpc.streamingCall(IntakeV1.Intake.uploadAttachment, options: customer)
                        try call.send(first)
                        for start in stride(from: 0, to: content.count, by: 64 << 10) {
                            var chunk = IntakeV1.UploadAttachmentRequest()
                            chunk.data = Array(content[start..<min(start + (64 << 10), content.count)])
                            try call.send(chunk)
                        }
                        let ref = try call.finish()
                        acknowledged.withLock { $0.append((ref, index, round)) }
                    } catch {
                        return
                    }
                    round += 1
                }
            }.start()
        }
        let limit = Date().addingTimeInterval(20)
        while acknowledged.withLock({ $0.count }) < 60 && Date() < limit { usleep(5_000) }
        intake.kill()
        group.wait()
        rpc.close()
        let uploads = acknowledged.withLock { $0 }
        #expect(uploads.count >= 30)

        try intake.restart()
        let after = intake.client()
        defer { after.close() }
        var lost: [String] = []
        for (ref, index, round) in uploads {
            var download = IntakeV1.DownloadAttachmentRequest()
            download.attachmentID = ref.id
            do {
                let stream = try after.serverStream(IntakeV1.Intake.downloadAttachment, download, options: intake.customers[index])
                var content: [UInt8] = []
                while let part = try stream.receive() { content += part.data }
                if content != bytes(index, round) { lost.append("\(index)-\(round): \(content.count) bytes") }
            } catch {
                lost.append("\(index)-\(round): \(error)")
            }
        }
        #expect(lost.isEmpty, "acknowledged but lost or changed after kill -9: \(lost.prefix(10))")

        // No half file under a content name.
        let store = ContentStore(reading: intake.directory.path + "/attachments")
        var damaged: [String] = []
        var files = 0
        for top in store.topLevelDirectories() {
            try store.forEachFile(under: top) { file in
                files += 1
                let content = try store.read(file.sha256, offset: 0, length: Int(file.sizeBytes))
                if sha256Hex(content) != file.sha256 { damaged.append(file.sha256) }
            }
        }
        #expect(files >= Set(uploads.map(\.ref.sha256)).count)
        #expect(damaged.isEmpty, "\(damaged.prefix(5))")
    }
}
