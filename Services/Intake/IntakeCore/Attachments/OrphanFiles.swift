import Foundation
import Observability
import ServiceKit
import Storage

/// Files in the content store that no `contents` row names: an upload renames its file into place
/// before the transaction recording it commits, so a crash (`kill -9`, power loss) in between, or
/// that transaction failing, leaves the file behind with nothing referring to it. The garbage
/// collector only walks rows, so such a file would stay forever.
///
/// The scan *adopts* them: each file with no row, last written longer ago than a grace period,
/// gets a row at `ref_count` 0 (`data` NULL, its size from the file), inserted with `ON CONFLICT
/// DO NOTHING` so an existing row is never touched. The garbage collector then removes row and
/// file exactly as it removes any unreferenced content
/// (``collectGarbage(pendingOlderThanMilliseconds:batchSize:)``): the `DELETE` re-checks
/// `ref_count <= 0` and is serialized with an upload's count on the row, and an upload of the same
/// content checks, in the transaction that records it, that its file is still there (else
/// `ABORTED`, upload again). So adopting a file an upload is about to record is safe too; the
/// grace period only keeps the scan from racing uploads in flight at all.
extension IntakeContext {
    /// What a scan for unrecorded files found.
    public struct AdoptedOrphans: Sendable, Equatable {
        /// Content files looked at.
        public var files = 0
        /// Files with no row, given one at `ref_count` 0 for the garbage collector.
        public var adopted = 0
        /// Files last written within the grace period: not looked up (left for a later scan).
        public var young = 0
        /// Entries left alone: names that are not the SHA-256 of their place, anything not a regular file.
        public var foreign = 0

        public init(files: Int = 0, adopted: Int = 0, young: Int = 0, foreign: Int = 0) {
            self.files = files
            self.adopted = adopted
            self.young = young
            self.foreign = foreign
        }

        mutating func add(_ other: AdoptedOrphans) {
            files += other.files
            adopted += other.adopted
            young += other.young
            foreign += other.foreign
        }
    }

    /// Scans the whole store once: every content file last written more than `age` milliseconds
    /// ago that no `contents` row names gets a row at `ref_count` 0, which the next garbage
    /// collection removes with its file. Files are looked up `batchSize` at a time, each batch in
    /// a short read (and, when some are missing, a short write); no transaction spans the walk.
    /// - Throws: ``StorageError``.
    public func adoptOrphanFiles(olderThanMilliseconds age: Int64, batchSize: Int = 500) throws -> AdoptedOrphans {
        var total = AdoptedOrphans()
        for top in contents.topLevelDirectories() {
            total.add(try adoptOrphanFiles(under: top, olderThanMilliseconds: age, batchSize: batchSize))
        }
        return total
    }

    /// ``adoptOrphanFiles(olderThanMilliseconds:batchSize:)`` for the files below one first-level
    /// directory of the store (`ab/`: about 1/256 of it).
    func adoptOrphanFiles(under top: String, olderThanMilliseconds age: Int64, batchSize: Int) throws -> AdoptedOrphans {
        let cutoff = Self.now() - age
        var outcome = AdoptedOrphans()
        var batch: [ContentStore.StoredFile] = []
        batch.reserveCapacity(batchSize)
        outcome.foreign = try contents.forEachFile(under: top) { file in
            outcome.files += 1
            guard file.modifiedAtMilliseconds < cutoff else {
                outcome.young += 1
                return
            }
            batch.append(file)
            if batch.count >= batchSize {
                outcome.adopted += try adopt(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { outcome.adopted += try adopt(batch) }
        return outcome
    }

    /// Gives the `files` no `contents` row names a row at `ref_count` 0; returns how many.
    private func adopt(_ files: [ContentStore.StoredFile]) throws -> Int {
        let marks = Array(repeating: "?", count: files.count).joined(separator: ", ")
        // A read first: nearly every file has its row, and on SQLite a read does not wait for
        // (nor hold up) the single writer.
        let known = try database.read { tx in
            Set(try tx.query("SELECT sha256 FROM contents WHERE sha256 IN (\(marks))", files.map { .text($0.sha256) })
                .map { try $0.text("sha256") })
        }
        let orphans = files.filter { !known.contains($0.sha256) }
        guard !orphans.isEmpty else { return 0 }
        // `DO NOTHING`: a row written since the read (an upload recording the same content)
        // stays as it is.
        return try database.write { tx in try Self.insertUnreferenced(tx, orphans.map { ($0.sha256, $0.sizeBytes) }) }
    }

    /// Inserts a row at `ref_count` 0 (`data` NULL: the bytes are in the file store) for each of
    /// `files` no row names yet (`ON CONFLICT DO NOTHING`: an existing row is left as it is, and on
    /// PostgreSQL a row another transaction is inserting is waited for); returns how many were
    /// inserted. The garbage collector removes such rows and their files.
    static func insertUnreferenced(_ tx: any SQLExecutor, _ files: [(sha256: String, sizeBytes: Int64)]) throws -> Int {
        guard !files.isEmpty else { return 0 }
        let now = Self.now()
        var values: [SQLValue] = []
        values.reserveCapacity(files.count * 3)
        for file in files { values += [.text(file.sha256), .integer(file.sizeBytes), .integer(now)] }
        let rows = Array(repeating: "(?, ?, ?, NULL, 0)", count: files.count).joined(separator: ", ")
        return try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data, ref_count) VALUES \(rows) ON CONFLICT (sha256) DO NOTHING",
                              values)
    }
}

/// One pass of the periodic scan, a first-level directory of the store per round (so the service
/// can stop between rounds, and the walk never holds more than one directory's names).
/// Touched only by its ``PeriodicSweep``'s thread.
final class OrphanScanPass: @unchecked Sendable {
    private let intake: IntakeContext
    private let logger: Logger
    private var remaining: ArraySlice<String>?
    private var totals = IntakeContext.AdoptedOrphans()
    private var startedAt = Date()
    /// Temporary files of dead uploads removed at this pass's start.
    private var staleUploads = 0

    init(intake: IntakeContext, logger: Logger) {
        self.intake = intake
        self.logger = logger
    }

    /// Scans the next first-level directory; returns whether the pass has more.
    func round() throws -> Bool {
        if remaining == nil {
            remaining = intake.contents.topLevelDirectories()[...]
            totals = IntakeContext.AdoptedOrphans()
            startedAt = Date()
            // Temporary files a crash left that were too young to go at start-up, with the same grace.
            staleUploads = intake.contents.removeStaleUploads(olderThanMilliseconds: intake.settings.orphanFileMinAgeMilliseconds)
        }
        guard let top = remaining?.popFirst() else {
            finish()
            return false
        }
        do {
            totals.add(try intake.adoptOrphanFiles(under: top, olderThanMilliseconds: intake.settings.orphanFileMinAgeMilliseconds,
                                                   batchSize: 500))
        } catch {
            // The next pass starts over.
            remaining = nil
            throw error
        }
        if remaining?.isEmpty ?? true {
            finish()
            return false
        }
        return true
    }

    private func finish() {
        remaining = nil
        let fields = ["files": String(totals.files), "adopted": String(totals.adopted), "young": String(totals.young),
                      "foreign": String(totals.foreign), "stale_uploads": String(staleUploads),
                      "duration_ms": String(Int(Date().timeIntervalSince(startedAt) * 1000))]
        if totals.adopted > 0 || totals.foreign > 0 || staleUploads > 0 {
            logger.notice("content files without a row adopted for garbage collection", fields)
        } else {
            logger.info("content store scanned: every file has its row", fields)
        }
    }
}

extension PeriodicSweep {
    /// Runs ``IntakeContext/adoptOrphanFiles(olderThanMilliseconds:batchSize:)`` at start-up (on
    /// its own thread: readiness does not wait) and then every `INTAKE_ORPHAN_SCAN_INTERVAL_SECONDS`,
    /// with the grace period ``IntakeSettings/orphanFileMinAgeMilliseconds``.
    static func orphanScan(intake: IntakeContext, logger: Logger) -> PeriodicSweep {
        let pass = OrphanScanPass(intake: intake, logger: logger)
        return PeriodicSweep(name: "intake-orphans", failureMessage: "scan of the content store failed; trying again next time",
                             interval: intake.settings.orphanScanIntervalSeconds, runsAtStart: true, logger: logger) {
            try pass.round()
        }
    }
}
