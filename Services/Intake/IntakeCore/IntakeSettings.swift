import Foundation
import RPC
import ServiceKit

/// Intake's own settings, read from the environment at start-up (flags are ServiceKit's).
///
/// | setting | environment | default |
/// |---|---|---|
/// | largest file | `INTAKE_MAX_FILE_BYTES` | 104857600 (100 MiB) |
/// | all files of one ticket | `INTAKE_MAX_TICKET_BYTES` | 1073741824 (1 GiB) |
/// | double-submission window | `INTAKE_DUPLICATE_WINDOW_SECONDS` | 600 (0 turns it off) |
/// | refuse tickets of suppliers | `INTAKE_FORBID_SUPPLIER_TICKETS` | `true` |
/// | attachment store | `INTAKE_ATTACHMENTS_DIR` | `<data-dir>/attachments` |
/// | files kept in the database instead of the attachment store, up to | `INTAKE_INLINE_CONTENT_BYTES` | 262144 (256 KiB; 0: every file in the store) |
/// | files carried inside one `OpenTicket` (`files`), at most | `INTAKE_OPEN_FILES_MAX_COUNT` | 16 |
/// | their bytes together, at most (each file at most the inline limit above) | `INTAKE_OPEN_FILES_MAX_BYTES` | 3145728 (3 MiB; at most 3.5 MiB, under the 4 MiB RPC frame) |
/// | SQLite: tickets the double-submission memory holds, at most (beyond: the oldest are read from the table) | `INTAKE_SQLITE_RECENT_SUBMISSIONS_MAX` | 500000 |
/// | group commit of concurrent opens | `INTAKE_GROUP_COMMIT` | `true` |
/// | how long a group commit waits for concurrent opens | `INTAKE_GROUP_COMMIT_GATHER_MICROSECONDS` | 1000 |
/// | SQLite checkpoints on a thread of their own, not the group commit's writer | `INTAKE_SQLITE_BACKGROUND_CHECKPOINT` | `true` |
/// | opens committed between two such checkpoints | `INTAKE_SQLITE_CHECKPOINT_EVERY_OPENS` | 1500 |
/// | how often the outbox relay looks for events when idle | `INTAKE_RELAY_POLL_MILLISECONDS` | 200 (the relay's default) |
/// | uploads never attached are removed after | `INTAKE_PENDING_UPLOAD_MAX_AGE_SECONDS` | 86400 (one day) |
/// | time between garbage collections | `INTAKE_GC_INTERVAL_SECONDS` | 3600 (0 turns it off) |
/// | rows per garbage-collection batch | `INTAKE_GC_BATCH` | 500 |
/// | time between scans of the attachment store for files no row names (also at start-up) | `INTAKE_ORPHAN_SCAN_INTERVAL_SECONDS` | 86400 (0 turns it off) |
/// | largest raw e-mail taken in | `INTAKE_MAX_MAIL_BYTES` | 36700160 (35 MiB) |
public struct IntakeSettings: Sendable {
    public var maxFileBytes: Int64 = 100 << 20
    public var maxTicketBytes: Int64 = 1 << 30
    public var duplicateWindowMilliseconds: Int64 = 600_000
    public var forbidSupplierTickets = true
    public var attachmentsDirectory: String
    /// Contents up to this size are stored in their `contents` row, committed with the attachment
    /// row, instead of as a flushed file in the attachment store (``ContentUpload``); 0 stores
    /// every content as a file.
    public var inlineContentMaxBytes: Int64 = 256 << 10
    /// SQLite: the most tickets ``RecentSubmissions`` keeps in memory.
    public var recentSubmissionsMax = 500_000
    /// How many files one `OpenTicket` may carry in `files` (``OpenTicketFiles``).
    public var openFilesMaxCount = 16
    /// Their bytes together: the whole request travels in one RPC frame (4 MiB).
    public var openFilesMaxBytes: Int64 = 3 << 20
    /// Run concurrent ticket opens in one transaction, each in its own savepoint (``GroupCommit``).
    /// `nil`: on, on both engines (on PostgreSQL a batch reads ahead for all its opens and
    /// `SAVEPOINT`/`RELEASE` travel with the next statement, so a batched open costs one round
    /// trip; docs/BENCHMARKS-intake.md, fifth pass).
    public var groupCommit: Bool?
    /// How long the writer of a group commit may wait, when opens are concurrent, for as many
    /// opens as were in the group commit at the end of the previous batch (``GroupCommit``).
    public var groupCommitGatherMicroseconds = 1_000
    /// SQLite: copy the WAL into the database file on a thread of its own every so many opens
    /// (``WALCheckpointer``) instead of on the group commit's writer (only with group commit on).
    public var sqliteBackgroundCheckpoint = true
    /// Opens committed between two background checkpoints.
    public var sqliteCheckpointEveryOpens = 1_500
    /// The outbox relay's poll interval when it found nothing to do; `nil`: the relay's default.
    public var relayPollMilliseconds: Int?
    /// Uploads on no ticket older than this are removed by the garbage collector.
    public var pendingUploadMaxAgeMilliseconds: Int64 = 86_400_000
    /// Seconds between garbage collections; 0 turns the collector off.
    public var garbageCollectionIntervalSeconds = 3600.0
    /// Attachments (and contents) removed per transaction batch.
    public var garbageCollectionBatchSize = 500
    /// Seconds between scans of the content store for files no `contents` row names (a crash or
    /// a failed transaction after an upload's rename), which are then handed to the garbage
    /// collector (``IntakeContext/adoptOrphanFiles(olderThanMilliseconds:batchSize:)``); the
    /// first scan runs at start-up. 0 turns the scan off (it also needs the collector on).
    public var orphanScanIntervalSeconds = 86_400.0
    /// How long ago a file without a row must have been last written for the scan to adopt it:
    /// ``pendingUploadMaxAgeMilliseconds``, at least an hour. Adopting a younger one would be safe
    /// too (an upload recording it meanwhile counts itself on the row, or answers `ABORTED` if
    /// the collector got there first), but an upload's transaction may still be on its way.
    public var orphanFileMinAgeMilliseconds: Int64 { max(pendingUploadMaxAgeMilliseconds, 3_600_000) }
    /// The largest raw e-mail (headers, bodies and encoded attachments) taken in; a larger one
    /// keeps only its header block in the quarantine and its sender is told the limit. 35 MiB
    /// holds about 25 MiB of files once base64 has grown them by a third.
    public var maxMailBytes: Int64 = 35 << 20
    /// How long workflow's "yes, this agent may see this ticket" is reused for the same agent and
    /// ticket (``TicketAccessCache``); a revoked access may last this long. 0 asks every time.
    public var workflowAccessCacheMilliseconds: Int64 = 2_000
    /// Whose calendar year prefixes ticket codes (``TicketCodeTimeZone``; Brasília by default).
    public var ticketCodeTimeZone = TicketCodeTimeZone.brasilia
    /// The largest RPC frame (``RPCLimits/maxFrameSize``, `OCORRENCIAS_RPC_MAX_FRAME_BYTES`): a
    /// ticket's messages come a page at a time within a third of it (``TicketPage``). Set from the
    /// service's configuration by whoever starts intake (``IntakeService/register(runtime:router:)``).
    public var maxFrameBytes = RPCLimits().maxFrameSize

    public init(attachmentsDirectory: String) {
        self.attachmentsDirectory = attachmentsDirectory
    }

    /// Reads the settings from `environment`.
    /// - Throws: ``ConfigurationError`` naming a malformed variable.
    public init(environment: [String: String], dataDirectory: String) throws {
        self.init(attachmentsDirectory: environment["INTAKE_ATTACHMENTS_DIR"].flatMap { $0.isEmpty ? nil : $0 }
                  ?? (dataDirectory as NSString).appendingPathComponent("attachments"))
        func number(_ name: String) throws -> Int64? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int64(text), value >= 0 else { throw ConfigurationError("\(name) inválido / invalid: '\(text)'") }
            return value
        }
        if let value = try number("INTAKE_MAX_FILE_BYTES") { maxFileBytes = value }
        if let value = try number("INTAKE_MAX_TICKET_BYTES") { maxTicketBytes = value }
        if let value = try number("INTAKE_INLINE_CONTENT_BYTES") {
            guard value <= 16 << 20 else { throw ConfigurationError("INTAKE_INLINE_CONTENT_BYTES inválido / invalid: '\(value)' (no máximo / at most 16777216)") }
            inlineContentMaxBytes = value
        }
        if let value = try number("INTAKE_SQLITE_RECENT_SUBMISSIONS_MAX") {
            guard value >= 1 else { throw ConfigurationError("INTAKE_SQLITE_RECENT_SUBMISSIONS_MAX inválido / invalid: '0'") }
            recentSubmissionsMax = Int(value)
        }
        if let value = try number("INTAKE_OPEN_FILES_MAX_COUNT") {
            guard value <= 1_000 else { throw ConfigurationError("INTAKE_OPEN_FILES_MAX_COUNT inválido / invalid: '\(value)' (no máximo / at most 1000)") }
            openFilesMaxCount = Int(value)
        }
        if let value = try number("INTAKE_OPEN_FILES_MAX_BYTES") {
            guard value <= 7 << 19 else { throw ConfigurationError("INTAKE_OPEN_FILES_MAX_BYTES inválido / invalid: '\(value)' (no máximo / at most 3670016)") }
            openFilesMaxBytes = value
        }
        if let value = try number("INTAKE_MAX_MAIL_BYTES") {
            guard value >= 1024 else { throw ConfigurationError("INTAKE_MAX_MAIL_BYTES inválido / invalid: '\(value)' (ao menos / at least 1024)") }
            maxMailBytes = value
        }
        if let text = environment["INTAKE_TICKET_CODE_TIME_ZONE"], !text.isEmpty {
            ticketCodeTimeZone = try TicketCodeTimeZone(parsing: text)
        }
        if let value = try number("INTAKE_DUPLICATE_WINDOW_SECONDS") { duplicateWindowMilliseconds = value * 1000 }
        if let text = environment["INTAKE_FORBID_SUPPLIER_TICKETS"], !text.isEmpty {
            switch text.lowercased() {
            case "1", "true", "yes": forbidSupplierTickets = true
            case "0", "false", "no": forbidSupplierTickets = false
            default: throw ConfigurationError("INTAKE_FORBID_SUPPLIER_TICKETS inválido / invalid: '\(text)'")
            }
        }
        func seconds(_ name: String) throws -> Double? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Double(text), value >= 0, value.isFinite else { throw ConfigurationError("\(name) inválido / invalid: '\(text)'") }
            return value
        }
        if let value = try seconds("INTAKE_PENDING_UPLOAD_MAX_AGE_SECONDS") { pendingUploadMaxAgeMilliseconds = Int64(value * 1000) }
        if let value = try seconds("INTAKE_GC_INTERVAL_SECONDS") { garbageCollectionIntervalSeconds = value }
        if let value = try seconds("INTAKE_ORPHAN_SCAN_INTERVAL_SECONDS") { orphanScanIntervalSeconds = value }
        if let value = try number("INTAKE_GC_BATCH") {
            guard value > 0 else { throw ConfigurationError("INTAKE_GC_BATCH inválido / invalid: '0'") }
            garbageCollectionBatchSize = Int(value)
        }
        if let text = environment["INTAKE_GROUP_COMMIT"], !text.isEmpty {
            switch text.lowercased() {
            case "1", "true", "yes": groupCommit = true
            case "0", "false", "no": groupCommit = false
            default: throw ConfigurationError("INTAKE_GROUP_COMMIT inválido / invalid: '\(text)'")
            }
        }
        sqliteBackgroundCheckpoint = try Self.backgroundCheckpoint(environment)
        if let value = try number("INTAKE_SQLITE_CHECKPOINT_EVERY_OPENS") {
            guard value >= 1 else { throw ConfigurationError("INTAKE_SQLITE_CHECKPOINT_EVERY_OPENS inválido / invalid: '0'") }
            sqliteCheckpointEveryOpens = Int(value)
        }
        if let value = try number("INTAKE_GROUP_COMMIT_GATHER_MICROSECONDS") {
            guard value <= 100_000 else { throw ConfigurationError("INTAKE_GROUP_COMMIT_GATHER_MICROSECONDS inválido / invalid: '\(value)' (no máximo / at most 100000)") }
            groupCommitGatherMicroseconds = Int(value)
        }
        if let value = try number("INTAKE_WORKFLOW_ACCESS_CACHE_MILLISECONDS") {
            guard value <= 60_000 else { throw ConfigurationError("INTAKE_WORKFLOW_ACCESS_CACHE_MILLISECONDS inválido / invalid: '\(value)' (no máximo / at most 60000)") }
            workflowAccessCacheMilliseconds = value
        }
        if let value = try number("INTAKE_RELAY_POLL_MILLISECONDS") {
            guard value >= 1 && value <= 3_600_000 else { throw ConfigurationError("INTAKE_RELAY_POLL_MILLISECONDS inválido / invalid: '\(value)'") }
            relayPollMilliseconds = Int(value)
        }
    }

    /// `INTAKE_SQLITE_BACKGROUND_CHECKPOINT` (default `true`).
    static func backgroundCheckpoint(_ environment: [String: String]) throws -> Bool {
        guard let text = environment["INTAKE_SQLITE_BACKGROUND_CHECKPOINT"], !text.isEmpty else { return true }
        switch text.lowercased() {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        default: throw ConfigurationError("INTAKE_SQLITE_BACKGROUND_CHECKPOINT inválido / invalid: '\(text)'")
        }
    }
}
