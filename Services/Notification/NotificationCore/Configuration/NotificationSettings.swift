import Foundation
import ServiceKit

/// How the notification service sends: the SMTP relay, the sender identity, timeouts, retries and
/// worker isolation. Read from the environment (see docs/NOTIFICATION.md); every value has a default
/// that works with a local relay.
///
/// ```swift
/// var settings = NotificationSettings()
/// settings.smtpURL = "smtp://127.0.0.1:2525"
/// settings.retry.maxAttempts = 3
/// ```
public struct NotificationSettings: Sendable {
    /// `smtp://host:port` (plain, or STARTTLS when ``smtpStartTLS``) or `smtps://host:port` (implicit TLS).
    public var smtpURL: String = "smtp://127.0.0.1:25"
    /// Require STARTTLS on an `smtp://` URL.
    public var smtpStartTLS: Bool = false
    /// AUTH credentials; empty means no AUTH.
    public var smtpUser: String = ""
    public var smtpPassword: String = ""
    /// Skip TLS certificate verification (test relays with self-signed certificates only).
    public var smtpInsecureTLS: Bool = false
    /// CA bundle to verify the relay's certificate with (PEM); empty uses the system's.
    public var smtpCAFile: String = ""
    /// Envelope sender and `From` address.
    public var fromAddress: String = "suporte@ocorrencias.local"
    public var fromName: String = "Suporte Ocorrências"
    /// Domain of Message-IDs and of the `Reply-To` address (`<replyLocalPart>+<token>@<mailDomain>`).
    public var mailDomain: String = "ocorrencias.local"
    public var replyLocalPart: String = "suporte"
    /// The `Reply-To` of e-mails about no ticket (invitations, password resets), which carry no
    /// signed reply address: `NOTIFICATION_REPLY_TO`, else the support mailbox
    /// `<replyLocalPart>@<mailDomain>` (replies reach the team through intake, never the envelope
    /// sender's mailbox, which may be the bounce mailbox). A deployment that wants no replies
    /// names its no-reply address here.
    public var replyTo: String = ""

    /// ``replyTo`` as it applies (the support mailbox when not set).
    var noTicketReplyTo: String { replyTo.isEmpty ? "\(replyLocalPart)@\(mailDomain)" : replyTo }
    /// Base address of the portal (the gateway's HTTP port, not its RPC port 7100), used in links
    /// inside messages (`{{portal_url}}`); deployments set it to `GATEWAY_PUBLIC_URL`.
    public var portalURL: String = "http://127.0.0.1:8080"
    /// The time zone dates are written in inside e-mails (SLA deadlines, reminders, a link's
    /// expiry), named after them; webhooks keep UTC.
    public var timeZone: TimeZone = TimeZone(identifier: "America/Sao_Paulo") ?? .gmt
    /// Time allowed to connect, and for a whole send.
    public var connectTimeoutMilliseconds: Int = 5_000
    /// 10 minutes by default: RFC 5321 (4.5.3.2.6) gives the relay 10 minutes to answer the
    /// message's end, because a client that gives up earlier sends again a message the relay
    /// has already taken (was 30 s: a relay scanning a large message for longer got it twice or
    /// more, each copy to the recipient, and the delivery could still end `dead`).
    public var sendTimeoutMilliseconds: Int = 600_000
    /// Time allowed for a webhook POST.
    public var webhookTimeoutMilliseconds: Int = 10_000
    /// Networks webhooks may not reach (loopback, link-local, `0.0.0.0` by default): refused at
    /// registration (literal addresses, `localhost`) and before every connection libcurl opens.
    package var webhookBlockedNetworks: BlockedNetworks = .standard
    public var retry = RetryPolicy()
    /// Sends at once per lane (one lane per channel and destination host): transfers, each on its
    /// own connection, run by the lane's one thread.
    public var laneConcurrency: Int = 8
    /// How often the dispatcher looks for due deliveries when nothing wakes it.
    public var pollIntervalMilliseconds: Int = 200
    /// How long a claimed delivery stays this instance's without renewal (renewed every third of
    /// it): after that, another instance sharing the database takes it over.
    public var leaseMilliseconds: Int = 30_000
    /// The most deliveries claimed from the database in one transaction (per lane).
    public var claimBatch: Int = 256
    /// The most send results waiting to be recorded (sent, not yet written as sent) before
    /// the instance stops claiming deliveries: when the database records outcomes slower than
    /// the relay accepts messages, sending waits for it instead of an unbounded queue growing
    /// in memory (and thousands of rows staying `sending`). Lanes still send what they hold.
    public var recordBacklog: Int = 4_096
    /// How long the first of concurrent event deliveries waits for more (up to 64 events) before
    /// they are applied in one transaction (``ServiceKit/EventConsumer/gatherWindow``): e-mails
    /// go out up to this much later, in fewer, larger transactions, and concurrent deliveries are
    /// combined on PostgreSQL too. 0 (the default) never waits: on SQLite the deliveries that
    /// queue behind a running transaction share the next one, on PostgreSQL they run side by
    /// side. Off by default: in the end-to-end benchmark (2026-11-30, docs/BENCHMARKS-notification.md)
    /// 5 ms cut notification's CPU per open by a few percent on SQLite but raised intake's more.
    public var gatherMilliseconds: Int = 0
    /// Finished deliveries (`sent`, `failed`, `discarded`) older than this are deleted; 0 keeps
    /// them forever. Dead letters are kept until handled.
    public var retentionMilliseconds: Int64 = 90 * 86_400_000
    /// How often the delivery log is pruned, and how many rows one transaction deletes.
    public var pruneIntervalMilliseconds: Int = 3_600_000
    public var pruneBatch: Int = 1_000
    /// The most bytes of attachments (inline and fetched from intake together) in one on-demand e-mail.
    public var attachmentMaxBytes: Int = 20 << 20
    /// The envelope sender's mailbox, read for delivery status notifications
    /// (`imap://host:143/INBOX`, `imaps://…`); empty: not read.
    public var bounceIMAPURL = ""
    public var bounceIMAPUser = ""
    public var bounceIMAPPassword = ""
    /// PEM bundle to verify an `imaps://` server (empty: the system's).
    public var bounceIMAPCAFile = ""
    /// How often the bounce mailbox is read.
    public var bouncePollMilliseconds = 60_000
    /// Where processed reports are moved (created when missing).
    public var bounceProcessedFolder = "Processed"
    /// Test hook: exit the process right after the SMTP server accepted the N-th message and
    /// before the log is written (0 = never). Used to exercise the resend-after-crash window.
    public var crashAfterAcceptedSends: Int = 0

    public init() {}

    /// Reads `NOTIFICATION_*` variables over the defaults.
    /// - Throws: ``NotificationConfigurationError`` naming a malformed variable (``ServiceKit/ConfigurationError``
    ///   for a malformed switch).
    public init(environment: [String: String]) throws {
        self.init()
        // Whole names, not `NOTIFICATION_` + a suffix: a search for a variable finds where it is
        // read, and ConfigurationDocsTests finds it to check docs/CONFIGURATION.md names it.
        func text(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func int(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value = text(name) else { return nil }
            guard let number = Int(value), range.contains(number) else {
                throw NotificationConfigurationError("\(name) inválido / invalid: \(value)")
            }
            return number
        }
        // A switch typed wrong (`ture`) stops the start rather than reading as off.
        func bool(_ name: String) throws -> Bool? { try EnvironmentSettings(environment).flag(name) }
        if let v = text("NOTIFICATION_SMTP_URL") { smtpURL = v }
        if let v = try bool("NOTIFICATION_SMTP_STARTTLS") { smtpStartTLS = v }
        if let v = text("NOTIFICATION_SMTP_USER") { smtpUser = v }
        if let v = text("NOTIFICATION_SMTP_PASSWORD") { smtpPassword = v }
        if let v = try bool("NOTIFICATION_SMTP_INSECURE_TLS") { smtpInsecureTLS = v }
        if let v = text("NOTIFICATION_SMTP_CA_FILE") { smtpCAFile = v }
        if let v = text("NOTIFICATION_MAIL_FROM") { fromAddress = v }
        if let v = text("NOTIFICATION_MAIL_FROM_NAME") { fromName = v }
        if let v = text("NOTIFICATION_MAIL_DOMAIN") { mailDomain = v }
        if let v = text("NOTIFICATION_REPLY_LOCAL_PART") { replyLocalPart = v }
        if let v = text("NOTIFICATION_REPLY_TO") {
            guard EmailAddress.isValid(v) else { throw NotificationConfigurationError("NOTIFICATION_REPLY_TO inválido / invalid: \(v)") }
            replyTo = v
        }
        if let v = text("NOTIFICATION_PORTAL_URL") { portalURL = v }
        if let v = text("NOTIFICATION_TIME_ZONE") {
            guard let zone = TimeZone(identifier: v) else {
                throw NotificationConfigurationError("NOTIFICATION_TIME_ZONE inválido / invalid: \(v)")
            }
            timeZone = zone
        }
        if let v = try int("NOTIFICATION_CONNECT_TIMEOUT_MS", 1...600_000) { connectTimeoutMilliseconds = v }
        if let v = try int("NOTIFICATION_SEND_TIMEOUT_MS", 1...3_600_000) { sendTimeoutMilliseconds = v }
        if let v = try int("NOTIFICATION_WEBHOOK_TIMEOUT_MS", 1...600_000) { webhookTimeoutMilliseconds = v }
        // Set but empty is meaningful here (nothing blocked), unlike the other variables.
        if let v = environment["NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS"] { webhookBlockedNetworks = try BlockedNetworks(parsing: v) }
        if let v = try int("NOTIFICATION_MAX_ATTEMPTS", 1...1_000) { retry.maxAttempts = v }
        if let v = try int("NOTIFICATION_BACKOFF_BASE_MS", 1...86_400_000) { retry.baseMilliseconds = v }
        if let v = try int("NOTIFICATION_BACKOFF_MAX_MS", 1...86_400_000) { retry.maxMilliseconds = v }
        if let v = try int("NOTIFICATION_LANE_CONCURRENCY", 1...64) { laneConcurrency = v }
        if let v = try int("NOTIFICATION_POLL_MS", 1...60_000) { pollIntervalMilliseconds = v }
        if let v = try int("NOTIFICATION_LEASE_MS", 300...3_600_000) { leaseMilliseconds = v }
        if let v = try int("NOTIFICATION_CLAIM_BATCH", 1...1_000) { claimBatch = v }
        if let v = try int("NOTIFICATION_RECORD_BACKLOG", 16...1_000_000) { recordBacklog = v }
        if let v = try int("NOTIFICATION_GATHER_MS", 0...1_000) { gatherMilliseconds = v }
        if let v = try int("NOTIFICATION_RETENTION_DAYS", 0...36_500) { retentionMilliseconds = Int64(v) * 86_400_000 }
        if let v = try int("NOTIFICATION_PRUNE_INTERVAL_MS", 1_000...86_400_000) { pruneIntervalMilliseconds = v }
        if let v = try int("NOTIFICATION_PRUNE_BATCH", 1...100_000) { pruneBatch = v }
        if let v = try int("NOTIFICATION_ATTACHMENT_MAX_BYTES", 0...1 << 30) { attachmentMaxBytes = v }
        if let v = text("NOTIFICATION_BOUNCE_IMAP_URL") { bounceIMAPURL = v }
        if let v = text("NOTIFICATION_BOUNCE_IMAP_USER") { bounceIMAPUser = v }
        if let v = text("NOTIFICATION_BOUNCE_IMAP_PASSWORD") { bounceIMAPPassword = v }
        if let v = text("NOTIFICATION_BOUNCE_IMAP_CA_FILE") { bounceIMAPCAFile = v }
        if let v = try int("NOTIFICATION_BOUNCE_POLL_MS", 100...86_400_000) { bouncePollMilliseconds = v }
        if let v = text("NOTIFICATION_BOUNCE_PROCESSED_FOLDER") { bounceProcessedFolder = v }
        if let v = try int("NOTIFICATION_CRASH_AFTER_ACCEPTED", 0...1_000_000) { crashAfterAcceptedSends = v }
    }
}

/// Exponential backoff with full jitter between attempts, and the attempt count after which a
/// delivery that keeps failing transiently becomes a dead letter.
public struct RetryPolicy: Sendable {
    /// Attempts in total, counting the first; the last transient failure makes it `dead`.
    /// 16 by default: with the default backoff the retries span 19–38 minutes, so a relay or
    /// receiver down for a restart or a maintenance window does not make every message of it a
    /// dead letter (with 8, the retries were over after 1–2 minutes and the 5-minute cap was
    /// never reached).
    public var maxAttempts: Int = 16
    public var baseMilliseconds: Int = 1_000
    public var maxMilliseconds: Int = 300_000

    public init(maxAttempts: Int = 16, baseMilliseconds: Int = 1_000, maxMilliseconds: Int = 300_000) {
        self.maxAttempts = maxAttempts
        self.baseMilliseconds = baseMilliseconds
        self.maxMilliseconds = maxMilliseconds
    }

    /// Delay before attempt `attempts + 1`, after `attempts` failed: half fixed, half random,
    /// of ``ceilingMilliseconds(afterAttempts:)``.
    public func delayMilliseconds(afterAttempts attempts: Int) -> Int {
        let half = max(ceilingMilliseconds(afterAttempts: attempts) / 2, 1)
        return half + Int.random(in: 0...half)
    }

    /// The longest delay after `attempts` failed: `base × 2^(attempts-1)` capped at `max`.
    public func ceilingMilliseconds(afterAttempts attempts: Int) -> Int {
        let exponent = min(max(attempts - 1, 0), 30)
        return min(maxMilliseconds, baseMilliseconds.multipliedReportingOverflow(by: 1 << exponent).overflow
                   ? maxMilliseconds : baseMilliseconds << exponent)
    }
}

/// A configuration mistake found at start-up.
public struct NotificationConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
