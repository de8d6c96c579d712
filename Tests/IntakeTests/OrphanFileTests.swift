import Foundation
@testable import IntakeCore
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Files in the content store that no `contents` row names (a crash, or a failed transaction,
/// after an upload's rename): adopted by the scan at `ref_count` 0 and removed by the garbage
/// collector, never a file some row still names.
@Suite("Content files without a row", .serialized)
struct OrphanFileTests {
    static let day: Int64 = 86_400_000
    /// Every content a file (so uploads go through the store); no scan on the service's own timer.
    static let environment = ["INTAKE_INLINE_CONTENT_BYTES": "0", "INTAKE_ORPHAN_SCAN_INTERVAL_SECONDS": "0"]

    /// A service with ``environment`` (and `extra`), an organization and one of its customers' call options.
    static func service(_ engine: DatabaseEngine, _ extra: [String: String] = [:]) throws -> (IntakeHarness, IntakeV1.Organization, CallOptions) {
        let harness = try IntakeHarness(engine, environment: environment.merging(extra) { _, new in new })
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        return (harness, acme, harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example"))))
    }

    @Test("an old file without a row is adopted and then collected; a young one, files with rows and foreign names stay; stored files read back byte-exact",
          arguments: TestEngines.all)
    func adoptsAndCollects(engine: DatabaseEngine) throws {
        let (harness, acme, maria) = try Self.service(engine)
        let storedBytes = randomBytes(300_000, seed: 1)
        let stored = try harness.upload(storedBytes, name: "guardado.pdf", as: maria)
        var open = IntakeHarness.request(acme)
        open.attachmentIDs = [stored.id]
        _ = try harness.client.call(IntakeV1.Intake.openTicket, open, options: maria)
        let pendingBytes = randomBytes(2_000, seed: 2)
        let pending = try harness.upload(pendingBytes, name: "pendente.png", as: maria)
        // Files with rows, last written long ago: looked up, left alone.
        setModified(harness.intake.contents.path(of: stored.sha256), secondsAgo: 3 * 86_400)
        setModified(harness.intake.contents.path(of: pending.sha256), secondsAgo: 3 * 86_400)

        // As a crash between an upload's rename and its commit leaves them (two days ago, and just now).
        let old = try harness.placeUnrecorded(randomBytes(50_000, seed: 3), secondsAgo: 2 * 86_400)
        let young = try harness.placeUnrecorded(randomBytes(40_000, seed: 4), secondsAgo: 60)
        // Names that are not a content where the store puts it: never adopted, never removed.
        let root = harness.intake.contents.root
        let misplaced = sha256Hex(randomBytes(10, seed: 5))
        let misplacedPath = root + "/00/00/" + (misplaced.hasPrefix("0000") ? String(misplaced.reversed()) : misplaced)
        let foreign = [misplacedPath, root + "/ab/cd/notes.txt", root + "/ab/cd/" + String(repeating: "AB", count: 32),
                       root + "/ab/cd/abcd" + String(repeating: "0", count: 59), root + "/zz/zz/readme", root + "/ab/readme"]
        for path in foreign { try place(randomBytes(100, seed: 6), at: path, secondsAgo: 10 * 86_400) }
        // A leftover temporary file (removed at start-up, not the scan's).
        try place(randomBytes(100, seed: 7), at: root + "/tmp/" + String(repeating: "e", count: 64), secondsAgo: 10 * 86_400)
        let contentsBefore = try harness.count("contents")

        let scan = try harness.intake.adoptOrphanFiles(olderThanMilliseconds: Self.day, batchSize: 2)
        #expect(scan == IntakeContext.AdoptedOrphans(files: 4, adopted: 1, young: 1, foreign: 5),
                "zz/ is no directory of the store's layout: not even listed")
        #expect(try harness.count("contents") == contentsBefore + 1)
        let adopted = try harness.database.read { tx in
            try tx.queryOne("SELECT size_bytes, ref_count, data FROM contents WHERE sha256 = ?", [.text(old)])
        }
        #expect(try adopted?.int("size_bytes") == 50_000 && adopted?.int("ref_count") == 0 && adopted?["data"].isNull == true)
        // A second scan finds the row there.
        #expect(try harness.intake.adoptOrphanFiles(olderThanMilliseconds: Self.day).adopted == 0)

        let collected = try harness.intake.collectGarbage(pendingOlderThanMilliseconds: Self.day, batchSize: 100)
        #expect(collected == IntakeContext.CollectedGarbage(attachments: 0, contents: 1))
        #expect(!FileManager.default.fileExists(atPath: harness.intake.contents.path(of: old)))
        #expect(FileManager.default.fileExists(atPath: harness.intake.contents.path(of: young)))
        for path in foreign { #expect(FileManager.default.fileExists(atPath: path), "\(path)") }
        #expect(try harness.count("contents") == contentsBefore)
        #expect(try harness.referenceCountMismatches() == [])
        #expect(try harness.download(stored.id, as: maria) == storedBytes)
        #expect(try harness.download(pending.id, as: maria) == pendingBytes)

        // The young file is adopted once old enough (here: any age).
        #expect(try harness.intake.adoptOrphanFiles(olderThanMilliseconds: 0).adopted == 1)
        #expect(try harness.intake.collectGarbage(pendingOlderThanMilliseconds: Self.day, batchSize: 100).contents == 1)
        #expect(!FileManager.default.fileExists(atPath: harness.intake.contents.path(of: young)))
        #expect(try harness.download(stored.id, as: maria) == storedBytes)
        #expect(try harness.download(pending.id, as: maria) == pendingBytes)
    }

    @Test("an upload of a content whose file was adopted counts itself on the row (the collector then keeps it), or answers ABORTED if the collector removed it first",
          arguments: TestEngines.all)
    func uploadRacingAdoption(engine: DatabaseEngine) throws {
        let (harness, acme, maria) = try Self.service(engine)

        // Adopted, then uploaded: the upload finds the file there (and drops its own copy), counts
        // itself on the adopted row; the collector leaves it.
        let first = randomBytes(100_000, seed: 10)
        let firstSHA = try harness.placeUnrecorded(first, secondsAgo: 2 * 86_400)
        #expect(try harness.intake.adoptOrphanFiles(olderThanMilliseconds: Self.day).adopted == 1)
        let uploaded = try harness.upload(first, name: "a.bin", as: maria)
        #expect(uploaded.sha256 == firstSHA)
        #expect(harness.intake.contents.pendingUploads().isEmpty)
        #expect(try harness.intake.collectGarbage(pendingOlderThanMilliseconds: Self.day, batchSize: 100) == IntakeContext.CollectedGarbage())
        #expect(try harness.download(uploaded.id, as: maria) == first)

        // An upload that found the file there (so kept no copy of its own) while the scan adopted
        // it and the collector removed it: its transaction finds no file and nothing is recorded.
        let second = randomBytes(80_000, seed: 11)
        let secondSHA = try harness.placeUnrecorded(second, secondsAgo: 2 * 86_400)
        #expect(try harness.intake.adoptOrphanFiles(olderThanMilliseconds: Self.day).adopted == 1)
        #expect(try harness.intake.collectGarbage(pendingOlderThanMilliseconds: Self.day, batchSize: 100).contents == 1)
        let contentsBefore = try harness.count("contents")
        let refused = rpcError {
            try harness.database.write { tx in try harness.intake.storeContents(tx, [(secondSHA, Int64(second.count), nil)]) }
        }
        #expect(refused?.code == .aborted)
        #expect(try harness.count("contents") == contentsBefore)
        // Sent again, it is stored again.
        let again = try harness.upload(second, name: "b.bin", as: maria)
        #expect(try harness.download(again.id, as: maria) == second)

        // An upload recording an adopted content while the collector runs: the collector's DELETE
        // waits for the upload's count (PostgreSQL: on the row; SQLite: the writer) and keeps the file.
        let third = randomBytes(60_000, seed: 12)
        let thirdSHA = try harness.placeUnrecorded(third, secondsAgo: 2 * 86_400)
        #expect(try harness.intake.adoptOrphanFiles(olderThanMilliseconds: Self.day).adopted == 1)
        var ref = CommonV1.AttachmentRef()
        ref.id = "orphan-race-upload"
        ref.fileName = "c.bin"
        ref.contentType = "application/octet-stream"
        ref.sizeBytes = Int64(third.count)
        ref.sha256 = thirdSHA
        let recording = ref
        let counted = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let recorded = DispatchSemaphore(value: 0)
        Thread {
            try? harness.database.write { tx in
                try harness.intake.storeContents(tx, [(thirdSHA, Int64(third.count), nil)])
                try harness.intake.insertAttachments(tx, [recording], uploaderID: "someone", organizationID: acme.id, ticketID: nil)
                counted.signal()
                release.wait()
            }
            recorded.signal()
        }.start()
        #expect(counted.wait(timeout: .now() + 30) == .success)
        let collector = DispatchSemaphore(value: 0)
        let round = Outcome()
        Thread {
            round.value = try? harness.intake.collectGarbage(pendingOlderThanMilliseconds: Self.day, batchSize: 100)
            collector.signal()
        }.start()
        // Let the collector reach the row (or the writer) before the upload commits.
        Thread.sleep(forTimeInterval: 0.3)
        release.signal()
        recorded.wait()
        collector.wait()
        #expect(round.value == IntakeContext.CollectedGarbage())
        #expect(FileManager.default.fileExists(atPath: harness.intake.contents.path(of: thirdSHA)))
        #expect(try harness.database.read { try $0.scalar("SELECT ref_count FROM contents WHERE sha256 = ?", [.text(thirdSHA)]).integerValue } == 1)
        #expect(try harness.referenceCountMismatches() == [])
    }

    @Test("an upload refused after its file was renamed into place (over the ticket's limit, on a cancelled ticket) removes it, unless a row names that content",
          arguments: TestEngines.all, [true, false])
    func refusedUploadLeavesNoFile(engine: DatabaseEngine, groupCommit: Bool) throws {
        let (harness, acme, maria) = try Self.service(engine, ["INTAKE_MAX_TICKET_BYTES": "1000000", "INTAKE_GROUP_COMMIT": String(groupCommit)])
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: maria).ticket)
        let kept = randomBytes(600_000, seed: 20)
        let added = try harness.upload(kept, name: "log.txt", as: maria, ticketID: ticket.id)
        #expect(harness.storedFiles().count == 1)

        // Over the ticket's total: refused in the transaction that would record it.
        let over = randomBytes(600_000, seed: 21)
        #expect(rpcError { _ = try harness.upload(over, name: "log2.txt", as: maria, ticketID: ticket.id) }?.violations.first?.reason
                    == "ticket_too_large")
        #expect(!FileManager.default.fileExists(atPath: harness.intake.contents.path(of: sha256Hex(over))))
        // The same content as a stored file, refused: the file stays for the attachment that has it.
        #expect(rpcError { _ = try harness.upload(kept, name: "log3.txt", as: maria, ticketID: ticket.id) }?.violations.first?.reason
                    == "ticket_too_large")
        #expect(harness.storedFiles().count == 1)
        #expect(try harness.download(added.id, as: maria) == kept)

        // A cancelled ticket takes no more files.
        var cancel = IntakeV1.CancelTicketRequest()
        cancel.ticket = ticket.id
        cancel.reason = "Resolvido sozinho"
        _ = try harness.client.call(IntakeV1.Intake.cancelTicket, cancel, options: maria)
        let late = randomBytes(5_000, seed: 22)
        #expect(rpcError { _ = try harness.upload(late, name: "tarde.txt", as: maria, ticketID: ticket.id) }?.code == .failedPrecondition)
        #expect(harness.storedFiles().count == 1)
        #expect(try harness.count("contents") == 1)
        #expect(try harness.referenceCountMismatches() == [])
        #expect(harness.intake.contents.pendingUploads().isEmpty)
    }

    @Test("the service scans at start-up: a file left by a crash is adopted and collected on the collector's timer, a young one stays",
          arguments: TestEngines.all)
    func scansAtStartUp(engine: DatabaseEngine) throws {
        let data = try TemporaryDirectory(prefix: "intake-orphans")
        let stranded = randomBytes(70_000, seed: 30)
        let strandedPath = data.path + "/attachments/" + ContentStore.relativePath(of: sha256Hex(stranded))
        try place(stranded, at: strandedPath, secondsAgo: 2 * 86_400)
        let recent = randomBytes(70_000, seed: 31)
        let recentPath = data.path + "/attachments/" + ContentStore.relativePath(of: sha256Hex(recent))
        try place(recent, at: recentPath, secondsAgo: 60)
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GC_INTERVAL_SECONDS": "0.2"], dataDirectory: data.path)
        let deadline = Date().addingTimeInterval(30)
        // (The file is unlinked inside the collector's transaction, just before its commit.)
        while try FileManager.default.fileExists(atPath: strandedPath) || harness.count("contents") > 0, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(!FileManager.default.fileExists(atPath: strandedPath))
        #expect(FileManager.default.fileExists(atPath: recentPath))
        #expect(try harness.count("contents") == 0)
    }

    @Test("temporary files: at start-up and at each scan only those unwritten for the grace go; a young one (another process's upload in progress on a shared store) stays",
          arguments: TestEngines.all)
    func staleTemporaryFiles(engine: DatabaseEngine) throws {
        let data = try TemporaryDirectory(prefix: "intake-temporary")
        let temporary = data.path + "/attachments/tmp/"
        try place(randomBytes(1_000, seed: 40), at: temporary + "crashed", secondsAgo: 2 * 86_400)
        try place(randomBytes(1_000, seed: 41), at: temporary + "in-progress", secondsAgo: 60)
        let harness = try IntakeHarness(engine, environment: Self.environment, dataDirectory: data.path)
        #expect(harness.intake.contents.pendingUploads() == ["in-progress"], "another process's upload is not removed at start-up")
        // Later, on the scan's timer: the one that stopped being written a day ago goes too.
        setModified(temporary + "in-progress", secondsAgo: 2 * 86_400)
        let pass = OrphanScanPass(intake: harness.intake, logger: Logger(service: "test", level: .error))
        while try pass.round() {}
        #expect(harness.intake.contents.pendingUploads().isEmpty)
        // Uploads work as before.
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let bytes = randomBytes(5_000, seed: 42)
        #expect(try harness.download(try harness.upload(bytes, as: maria).id, as: maria) == bytes)
    }

    @Test("INTAKE_ORPHAN_SCAN_INTERVAL_SECONDS: a day by default, 0 turns it off, bad values refused; the grace is the pending-upload age, at least an hour")
    func settings() throws {
        let defaults = try IntakeSettings(environment: [:], dataDirectory: "/d")
        #expect(defaults.orphanScanIntervalSeconds == 86_400 && defaults.orphanFileMinAgeMilliseconds == 86_400_000)
        let set = try IntakeSettings(environment: ["INTAKE_ORPHAN_SCAN_INTERVAL_SECONDS": "0", "INTAKE_PENDING_UPLOAD_MAX_AGE_SECONDS": "60"],
                                     dataDirectory: "/d")
        #expect(set.orphanScanIntervalSeconds == 0 && set.orphanFileMinAgeMilliseconds == 3_600_000)
        for value in ["-1", "daily"] {
            #expect(throws: ConfigurationError.self) {
                try IntakeSettings(environment: ["INTAKE_ORPHAN_SCAN_INTERVAL_SECONDS": value], dataDirectory: "/d")
            }
        }
    }
}

/// A collection's outcome, written by its thread before the semaphore the test waits on.
private final class Outcome: @unchecked Sendable {
    var value: IntakeContext.CollectedGarbage?
}

extension IntakeHarness {
    /// Puts `bytes` in the store under their content name with no row, as a crash after an
    /// upload's rename leaves them, last written `secondsAgo`; returns their SHA-256.
    func placeUnrecorded(_ bytes: [UInt8], secondsAgo: Double) throws -> String {
        let sha = sha256Hex(bytes)
        try place(bytes, at: intake.contents.path(of: sha), secondsAgo: secondsAgo)
        return sha
    }
}

/// Writes `bytes` at `path` (making its directories), last modified `secondsAgo`.
private func place(_ bytes: [UInt8], at path: String, secondsAgo: Double) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    setModified(path, secondsAgo: secondsAgo)
}

/// Sets a file's access and modification times to `secondsAgo`.
private func setModified(_ path: String, secondsAgo: Double) {
    let then = Int(Date().timeIntervalSince1970 - secondsAgo)
    var times = [timeval(tv_sec: then, tv_usec: 0), timeval(tv_sec: then, tv_usec: 0)]
    #expect(utimes(path, &times) == 0, "utimes \(path)")
}
