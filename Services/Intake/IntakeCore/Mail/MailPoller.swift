import Foundation
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage

/// Polls an IMAP mailbox and takes in every unseen message, as `intake ingest-mail` does for one.
///
/// Per message: fetch (which sets `\Seen`), parse, ``IntakeContext/ingest(_:tokens:settings:)``.
/// A rejected or unparsable message stays seen and gets `\Flagged` for a person to look at. If
/// storage fails, `\Seen` is cleared so the next round tries again, and the round stops.
///
/// Enabled when `INTAKE_IMAP_URL` is set (`imap://host:port/INBOX`), with `INTAKE_IMAP_USER`,
/// `INTAKE_IMAP_PASSWORD` and `INTAKE_IMAP_INTERVAL_SECONDS` (default 30).
public final class MailPoller: BackgroundService, @unchecked Sendable {
    let intake: IntakeContext
    let mailbox: ImapMailbox
    let tokens: ReplyToken
    let settings: MailIngestSettings
    let interval: Double
    let logger: Logger
    private let lock = ConditionLock()
    // Guarded by lock.
    private var stopping = false
    private var thread: Thread?
    private var finished = false

    public init(intake: IntakeContext, mailbox: ImapMailbox, tokens: ReplyToken, settings: MailIngestSettings,
                interval: Double, logger: Logger) {
        self.intake = intake
        self.mailbox = mailbox
        self.tokens = tokens
        self.settings = settings
        self.interval = interval
        self.logger = logger
    }

    /// The poller described by `environment`, or `nil` when `INTAKE_IMAP_URL` is unset.
    public static func fromEnvironment(_ environment: [String: String], intake: IntakeContext, tokens: ReplyToken,
                                       logger: Logger) throws -> MailPoller? {
        guard let url = environment["INTAKE_IMAP_URL"], !url.isEmpty else { return nil }
        let intervalText = environment["INTAKE_IMAP_INTERVAL_SECONDS"] ?? "30"
        guard let interval = Double(intervalText), interval > 0 else {
            throw ConfigurationError("invalid INTAKE_IMAP_INTERVAL_SECONDS=\(intervalText)")
        }
        return MailPoller(intake: intake, mailbox: ImapMailbox(url: url, user: environment["INTAKE_IMAP_USER"] ?? "",
                                                               password: environment["INTAKE_IMAP_PASSWORD"] ?? ""),
                          tokens: tokens, settings: MailIngestSettings(environment: environment), interval: interval, logger: logger)
    }

    /// One round: every unseen message, in UID order.
    /// - Throws: when the mailbox cannot be listed.
    @discardableResult
    public func pollOnce() throws -> [MailOutcome] {
        var outcomes: [MailOutcome] = []
        for uid in try mailbox.unseen() {
            let raw = try mailbox.fetch(uid)
            let outcome: MailOutcome
            do {
                outcome = try intake.ingest(try MailMessage(raw: raw), tokens: tokens, settings: settings)
            } catch let error as MailError {
                outcome = .rejected(reason: error.description)
            } catch {
                try? mailbox.setFlags(uid, "\\Seen", add: false)
                logger.warning("mail ingest failed; retrying next round", ["imap.uid": String(uid), "error": "\(error)"])
                throw error
            }
            if case .rejected(let reason) = outcome {
                try? mailbox.setFlags(uid, "\\Flagged", add: true)
                logger.notice("mail rejected", ["imap.uid": String(uid), "reason": reason])
            }
            outcomes.append(outcome)
        }
        return outcomes
    }

    public func start() {
        let thread = Thread { [self] in
            while true {
                do { try pollOnce() } catch {
                    logger.warning("IMAP poll failed", ["error": "\(error)"])
                }
                let deadline = MonotonicClock.nanoseconds() + UInt64(interval * 1e9)
                let stop = lock.withLock { () -> Bool in
                    while !stopping && MonotonicClock.nanoseconds() < deadline {
                        _ = lock.wait(untilUptimeNanoseconds: deadline)
                    }
                    return stopping
                }
                if stop { break }
            }
            lock.withLock {
                finished = true
                lock.broadcast()
            }
        }
        thread.name = "intake-imap"
        lock.withLock { self.thread = thread }
        thread.start()
    }

    public func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
            while thread != nil && !finished { _ = lock.wait() }
        }
    }
}
