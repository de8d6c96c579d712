import Foundation
import MailKit
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage

/// Takes in the mail of an IMAP mailbox, as `intake ingest-mail` does for one message.
///
/// It waits in IMAP IDLE (RFC 2177) for new mail when the server offers it, and polls every
/// `INTAKE_IMAP_INTERVAL_SECONDS` otherwise (or while the IDLE connection is down). Per
/// unseen message: fetch (which sets `\Seen`), parse, ``IntakeContext/ingest(_:tokens:settings:)``.
/// A message taken in (opened, replied, duplicate) is moved to `INTAKE_IMAP_PROCESSED_FOLDER`
/// when set. A rejected or unparsable message is held in intake's quarantine (raw bytes kept,
/// see ``IntakeContext/receive(raw:source:tokens:settings:bounce:)``), stays seen in the mailbox
/// with `\Flagged`, and a rejected one gets an answer queued through ``bounceQueue`` when SMTP is
/// configured. If storage fails, `\Seen` is cleared so the next round tries again, and the round
/// stops.
///
/// Enabled when `INTAKE_IMAP_URL` is set (`imap://host:port/INBOX`), with `INTAKE_IMAP_USER`,
/// `INTAKE_IMAP_PASSWORD`, `INTAKE_IMAP_INTERVAL_SECONDS` (default 30), `INTAKE_IMAP_IDLE`
/// (default `true`) and `INTAKE_IMAP_IDLE_SECONDS` (default 300: IDLE is re-issued after that).
public final class MailPoller: BackgroundService, @unchecked Sendable {
    let intake: IntakeContext
    let mailbox: IMAPMailbox
    let tokens: ReplyToken
    let settings: MailIngestSettings
    let interval: Double
    let logger: Logger
    /// Where messages taken in are moved; empty: they stay (seen) in the mailbox.
    public var processedFolder = ""
    /// Wait in IDLE between rounds when the server offers it.
    public var useIdle = true
    /// Seconds one IDLE lasts before it is re-issued.
    public var idleSeconds = 300.0
    /// Queues (and sends) answers to rejected messages; `nil`: they are only held and flagged.
    public var bounceQueue: MailBounceQueue?
    private let loop = BackgroundLoop(name: "intake-imap")
    private let lock = ConditionLock()
    // Guarded by lock.
    private var idling = false
    private var idleMissing = false
    private var folderReady = false
    private var failures: [Int: Int] = [:]
    /// Rounds a message may fail in (an error other than a refusal, e.g. the attachment store
    /// failing) before it is held in the quarantine as `failed`, so it no longer blocks the
    /// mailbox; `INTAKE_IMAP_MAX_FAILURES`, default 5.
    public var maxFailures = 5

    public init(intake: IntakeContext, mailbox: IMAPMailbox, tokens: ReplyToken, settings: MailIngestSettings,
                interval: Double, logger: Logger) {
        self.intake = intake
        self.mailbox = mailbox
        self.tokens = tokens
        self.settings = settings
        self.interval = interval
        self.logger = logger
    }

    /// The poller described by `environment`, or `nil` when `INTAKE_IMAP_URL` is unset.
    /// - Throws: ``ConfigurationError`` for a malformed variable.
    public static func fromEnvironment(_ environment: [String: String], intake: IntakeContext, tokens: ReplyToken,
                                       logger: Logger) throws -> MailPoller? {
        guard let url = environment["INTAKE_IMAP_URL"], !url.isEmpty else { return nil }
        func seconds(_ name: String, _ fallback: String) throws -> Double {
            let text = environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
            guard let value = Double(text), value > 0, value.isFinite else { throw ConfigurationError("\(name) inválido / invalid: '\(text)'") }
            return value
        }
        let poller = MailPoller(intake: intake, mailbox: IMAPMailbox(url: url, user: environment["INTAKE_IMAP_USER"] ?? "",
                                                                     password: environment["INTAKE_IMAP_PASSWORD"] ?? ""),
                                tokens: tokens, settings: MailIngestSettings(environment: environment),
                                interval: try seconds("INTAKE_IMAP_INTERVAL_SECONDS", "30"), logger: logger)
        poller.idleSeconds = try seconds("INTAKE_IMAP_IDLE_SECONDS", "300")
        switch (environment["INTAKE_IMAP_IDLE"] ?? "").lowercased() {
        case "", "1", "true", "yes": poller.useIdle = true
        case "0", "false", "no": poller.useIdle = false
        case let text: throw ConfigurationError("INTAKE_IMAP_IDLE inválido / invalid: '\(text)'")
        }
        poller.processedFolder = environment["INTAKE_IMAP_PROCESSED_FOLDER"] ?? ""
        if let text = environment["INTAKE_IMAP_MAX_FAILURES"], !text.isEmpty {
            guard let value = Int(text), value > 0 else { throw ConfigurationError("INTAKE_IMAP_MAX_FAILURES inválido / invalid: '\(text)'") }
            poller.maxFailures = value
        }
        return poller
    }

    /// Whether the poller is waiting in IDLE right now (for tests and health checks).
    public var isIdling: Bool { lock.withLock { idling } }

    /// Whether the server turned out to have no IDLE, so the poller polls every `interval`
    /// instead (for tests and health checks).
    public var pollsWithoutIdle: Bool { lock.withLock { idleMissing } }

    /// One round: every unseen message, in UID order.
    /// - Throws: when the mailbox cannot be listed.
    @discardableResult
    public func pollOnce() throws -> [MailOutcome] {
        var outcomes: [MailOutcome] = []
        if !processedFolder.isEmpty && !lock.withLock({ folderReady }) {
            try mailbox.createFolder(processedFolder)
            lock.withLock { folderReady = true }
        }
        for uid in try mailbox.unseen() {
            // Over INTAKE_MAX_MAIL_BYTES: only the header block is fetched and held, the sender
            // answered with the limit, and the message stays seen and flagged like held mail.
            if let size = try mailbox.size(uid), size > intake.settings.maxMailBytes {
                let receipt: MailReceipt
                do {
                    receipt = try intake.receiveOversized(header: try mailbox.fetchHeader(uid), sizeBytes: size, source: "imap", tokens: tokens,
                                                          bounce: bounceQueue?.bounce)
                } catch {
                    try? mailbox.setFlags(uid, "\\Seen", add: false)
                    logger.warning("oversized mail not recorded; retrying next round", ["imap.uid": String(uid), "error": "\(error)"])
                    throw error
                }
                try? mailbox.setFlags(uid, "\\Seen \\Flagged", add: true)
                logger.notice("oversized mail held (header only)", ["imap.uid": String(uid), "mail.size": String(size),
                                                                     "quarantine.id": receipt.quarantineID ?? ""])
                if case .queued = receipt.bounce { bounceQueue?.wake() }
                outcomes.append(receipt.outcome)
                continue
            }
            let raw = try mailbox.fetch(uid)
            var receipt: MailReceipt
            do {
                receipt = try intake.receive(raw: raw, source: "imap", tokens: tokens, settings: settings, bounce: bounceQueue?.bounce)
                lock.withLock { failures[uid] = nil }
            } catch {
                let failed = lock.withLock { () -> Int in
                    failures[uid, default: 0] += 1
                    return failures[uid] ?? 0
                }
                // Failed in too many rounds: hold it (if storage works at all) instead of blocking
                // the mailbox; an agent reprocesses it once the cause is fixed.
                if failed >= maxFailures, let id = try? intake.holdFailed(raw: raw, source: "imap", tokens: tokens, error: error) {
                    lock.withLock { failures[uid] = nil }
                    logger.warning("mail failed \(failed) times; held in quarantine", ["imap.uid": String(uid), "error": "\(error)"])
                    receipt = MailReceipt(outcome: .rejected(reason: "\(error)"), quarantineID: id)
                } else {
                    try? mailbox.setFlags(uid, "\\Seen", add: false)
                    logger.warning("mail ingest failed; retrying next round", ["imap.uid": String(uid), "error": "\(error)"])
                    throw error
                }
            }
            if let quarantineID = receipt.quarantineID {
                try? mailbox.setFlags(uid, "\\Flagged", add: true)
                logger.notice("mail held in quarantine", ["imap.uid": String(uid), "quarantine.id": quarantineID])
                if case .queued = receipt.bounce { bounceQueue?.wake() }
            } else if !processedFolder.isEmpty {
                do { try mailbox.move(uid, to: processedFolder) } catch {
                    logger.warning("could not move a processed message; it stays seen", ["imap.uid": String(uid), "error": "\(error)"])
                }
            }
            outcomes.append(receipt.outcome)
        }
        return outcomes
    }

    public func start() {
        loop.start { [self] loop in
            var idle: ImapIdleConnection?
            var idleAvailable = useIdle
            while true {
                do { try pollOnce() } catch {
                    logger.warning("IMAP poll failed", ["error": "\(error)"])
                }
                if idleAvailable {
                    do {
                        if let connection = idle {
                            lock.withLock { idling = true }
                            defer { lock.withLock { idling = false } }
                            _ = try connection.wait(timeout: idleSeconds) { loop.isStopping }
                            if loop.isStopping { break }
                        } else {
                            // Connect (which selects the mailbox), then poll once more: mail that
                            // came after the last round and before the SELECT is not lost.
                            idle = try ImapIdleConnection(mailbox)
                        }
                        continue
                    } catch is ImapIdleConnection.Unsupported {
                        idleAvailable = false
                        lock.withLock { idleMissing = true }
                        logger.notice("the IMAP server has no IDLE; polling every \(interval) s")
                    } catch {
                        idle = nil
                        logger.warning("IMAP IDLE failed; polling until it reconnects", ["error": "\(error)"])
                    }
                }
                if !loop.sleep(interval) { break }
            }
            idle = nil
        }
    }

    public func stop() { loop.stop() }
}
