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

/// The tickets the opening threads of ``BackupTests`` got back, and their stop flag.
private final class OpenersState: Sendable {
    let acknowledged = Mutex<[String]>([])
    let running = Atomic<Bool>(true)
}

/// `intake backup --to DIR` against the real process while customers keep opening tickets, and
/// the copy served by a second intake started on it (docs/DEPLOYMENT.md, "Backups").
@Suite("intake backup: an online copy of the database and the attachment files", .serialized)
struct BackupTests {
    static func backup(_ environment: [String: String], to destination: String) throws -> ChildProcess.Completion {
        try ChildProcess.run(BuildProducts.executable("intake").path, ["backup", "--to", destination],
                             environment: ChildProcess.inheritedEnvironment(adding: environment))
    }

    static func upload(_ client: RPCClient, _ content: [UInt8], name: String, as options: CallOptions) throws -> CommonV1.AttachmentRef {
        let call = try client.streamingCall(IntakeV1.Intake.uploadAttachment, options: options)
        var first = IntakeV1.UploadAttachmentRequest()
        first.fileName = name
        first.sizeBytes = Int64(content.count)
        first.sha256 = sha256Hex(content)
        first.data = content
        try call.send(first)
        return try call.finish()
    }

    static func download(_ client: RPCClient, _ attachmentID: String, as options: CallOptions) throws -> [UInt8] {
        var request = IntakeV1.DownloadAttachmentRequest()
        request.attachmentID = attachmentID
        let stream = try client.serverStream(IntakeV1.Intake.downloadAttachment, request, options: options)
        var bytes: [UInt8] = []
        while let chunk = try stream.receive() { bytes += chunk.data }
        return bytes
    }

    @Test("taken while eight customers open tickets: every ticket acknowledged before it began is in the copy with its file byte-exact, and an intake started on the copy serves them; never over a database in use; a second run copies no file again; a damaged stored file fails the backup")
    func onlineBackup() throws {
        let intake = try KillableIntake(.sqlite)
        let rpc = intake.client()
        defer { rpc.close() }
        // Two files in the store (above the 256 KiB inline limit) and one kept in its row.
        let files = [randomBytes(600_000, seed: 31), randomBytes(400_000, seed: 32), randomBytes(2_000, seed: 33)]
        var request = IntakeHarness.request(intake.organization, subject: "Relatório com anexos")
        var refs: [CommonV1.AttachmentRef] = []
        for (index, content) in files.enumerated() {
            refs.append(try Self.upload(rpc, content, name: "anexo-\(index).bin", as: intake.customers[0]))
        }
        request.attachmentIDs = refs.map(\.id)
        let withFiles = try #require(try rpc.call(IntakeV1.Intake.openTicket, request, options: intake.customers[0]).ticket)

        // Eight customers keep opening tickets while the backup runs.
        let shared = OpenersState()
        let organization = intake.organization
        let customers = intake.customers
        let liveEnvironment = intake.environment
        let destination = intake.directory.path + "-backup"
        defer { try? FileManager.default.removeItem(atPath: destination) }
        // Their own threads: a dispatch pool as wide as the cores would never reach the backup.
        let openers = (0..<8).map { index in
            Thread {
                var n = 0
                while shared.running.load(ordering: .relaxed) {
                    n += 1
                    let request = IntakeHarness.request(organization, subject: "Durante a cópia \(index)-\(n)")
                    guard let ticket = try? rpc.call(IntakeV1.Intake.openTicket, request, options: customers[index]).ticket else { continue }
                    shared.acknowledged.withLock { $0.append(ticket.id) }
                }
            }
        }
        openers.forEach { $0.start() }
        #expect(waitFor(30) { shared.acknowledged.withLock { $0.count } >= 200 })
        let before = Set(shared.acknowledged.withLock { $0 })
        let completion = try? Self.backup(liveEnvironment, to: destination)
        usleep(100_000)
        shared.running.store(false, ordering: .relaxed)
        #expect(waitFor(15) { openers.allSatisfy(\.isFinished) })
        let run = try #require(completion)
        #expect(run.status == 0, "\(run.errorText)")
        #expect(run.outputText.contains("intake.sqlite") && run.outputText.contains("2 copiados"), "\(run.outputText)")
        #expect(!FileManager.default.fileExists(atPath: destination + "/intake.sqlite-wal"))

        // A second intake on the copy (another port, the same secret) serves what was acknowledged.
        var environment = intake.environment
        environment["OCORRENCIAS_DATA_DIR"] = destination
        let restored = try ServiceProcess(name: "intake", environment: environment)
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: restored.port)], secret: intake.secret)
        configuration.defaultTimeoutMilliseconds = 10_000
        let copy = RPCClient(configuration: configuration)
        defer { copy.close() }
        var found = 0
        for id in before {
            var get = IntakeV1.GetTicketRequest()
            get.ticket = id
            if (try? copy.call(IntakeV1.Intake.getTicket, get, options: intake.staff))?.id == id { found += 1 }
        }
        #expect(found == before.count, "\(before.count - found) of \(before.count) acknowledged tickets missing from the copy")
        var get = IntakeV1.GetTicketRequest()
        get.ticket = withFiles.code
        let read = try copy.call(IntakeV1.Intake.getTicket, get, options: intake.customers[0])
        #expect(read.attachments.map(\.sha256) == refs.map(\.sha256))
        for (ref, content) in zip(read.attachments, files) {
            #expect(try Self.download(copy, ref.id, as: intake.customers[0]) == content)
        }

        // Never over a database in use (the copy being served, or the live one itself).
        let inUse = try Self.backup(liveEnvironment, to: destination)
        #expect(inUse.status == 1 && inUse.errorText.contains("in use"), "\(inUse.errorText)")
        let itself = try Self.backup(liveEnvironment, to: intake.directory.path)
        #expect(itself.status == 1 && itself.errorText.contains("in use"), "\(itself.errorText)")
        copy.close()
        #expect(restored.stop() == 0)

        // Again into the same directory: the files are there already.
        let again = try Self.backup(liveEnvironment, to: destination)
        #expect(again.status == 0 && again.outputText.contains("0 copiados") && again.outputText.contains("2 já presentes"), "\(again.outputText) \(again.errorText)")

        // A stored file whose bytes changed on disk is caught by its SHA-256, not copied.
        let damaged = intake.directory.path + "/attachments/" + ContentStore.relativePath(of: refs[1].sha256)
        var bytes = try #require(FileManager.default.contents(atPath: damaged))
        bytes[1_000] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let fresh = intake.directory.path + "-backup-2"
        defer { try? FileManager.default.removeItem(atPath: fresh) }
        let failed = try Self.backup(liveEnvironment, to: fresh)
        #expect(failed.status == 1, "\(failed.outputText)")
        #expect(failed.errorText.contains("falhou / failed"), "\(failed.errorText)")
        #expect(!FileManager.default.fileExists(atPath: fresh + "/attachments/" + ContentStore.relativePath(of: refs[1].sha256)))
    }

    @Test("on PostgreSQL the database is left to pg_dump and the files the live database names are copied")
    func postgresCopiesFiles() throws {
        let intake = try KillableIntake(.postgres)
        let rpc = intake.client()
        defer { rpc.close() }
        let content = randomBytes(500_000, seed: 41)
        var request = IntakeHarness.request(intake.organization, subject: "Arquivo grande")
        let ref = try Self.upload(rpc, content, name: "grande.bin", as: intake.customers[0])
        request.attachmentIDs = [ref.id]
        _ = try rpc.call(IntakeV1.Intake.openTicket, request, options: intake.customers[0])
        let destination = intake.directory.path + "-backup"
        defer { try? FileManager.default.removeItem(atPath: destination) }
        let run = try Self.backup(intake.environment, to: destination)
        #expect(run.status == 0, "\(run.errorText)")
        #expect(run.outputText.contains("pg_dump") && run.outputText.contains("1 copiados"), "\(run.outputText)")
        #expect(!FileManager.default.fileExists(atPath: destination + "/intake.sqlite"))
        #expect(FileManager.default.contents(atPath: destination + "/attachments/" + ContentStore.relativePath(of: ref.sha256)) == Data(content))
    }

    @Test("without --to it is a usage error (2); without a database it fails (1) and creates none")
    func usageAndMissingDatabase() throws {
        let directory = try TemporaryDirectory(prefix: "intake-backup-none")
        let executable = BuildProducts.executable("intake").path
        let environment = ChildProcess.inheritedEnvironment(adding: ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": "s"])
        let usage = try ChildProcess.run(executable, ["backup"], environment: environment)
        #expect(usage.status == 2 && usage.errorText.contains("--to"), "\(usage.errorText)")
        let missing = try ChildProcess.run(executable, ["backup", "--to", directory.path + "/copy"], environment: environment)
        #expect(missing.status == 1 && missing.errorText.contains("no database"), "\(missing.errorText)")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/intake.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/copy/intake.sqlite"))
    }
}
