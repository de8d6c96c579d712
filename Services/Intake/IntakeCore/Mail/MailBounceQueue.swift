import Foundation
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage

/// Durable answers to rejected e-mail: intake's own small outbox for SMTP.
///
/// ``enqueue(_:bounce:mail:reason:now:)`` writes the composed answer into `mail_bounces` inside
/// the transaction that holds the rejected message (``IntakeContext/receive(raw:source:tokens:settings:bounce:)``),
/// so a rejection is never recorded without its answer, nor answered without being recorded.
/// A background thread (this service) sends what is due: on success the row becomes `sent`; on
/// a temporary failure (server down, 4xx) it is tried again after an exponentially growing wait
/// (``MailBounce/backoffSeconds(afterAttempts:)``); after ``MailBounce/maxAttempts`` attempts, or
/// at once on a permanent refusal (5xx), it becomes `failed` with the last error kept.
///
/// Several intake processes may share the database: a sender claims a row by moving its
/// `next_attempt_at` forward (compare-and-set), so one bounce is sent by one of them.
public final class MailBounceQueue: BackgroundService, @unchecked Sendable {
    let database: any Database
    public let bounce: MailBounce
    let logger: Logger
    /// Seconds between looks at the queue when nothing wakes the sender.
    public var pollSeconds = 5.0
    /// Bounces sent per look at most (the pass repeats while some were due).
    public var batch = 20
    private let loop = BackgroundLoop(name: "intake-bounces")
    private let lock = ConditionLock()
    private var sentCount = 0  // guarded by lock

    public init(database: any Database, bounce: MailBounce, logger: Logger) {
        self.database = database
        self.bounce = bounce
        self.logger = logger
    }

    /// Whether a rejected message was answered.
    public enum Decision: Sendable, Equatable {
        /// An answer is queued (row id in `mail_bounces`).
        case queued(id: String)
        /// Deliberately not answered, with why.
        case suppressed(String)
    }

    /// In `tx`: queues the answer to `mail` unless it must not be answered (``MailBounce/refusal(_:)``)
    /// or its sender already got ``MailBounce/limitPerHour`` answers in the last hour.
    public static func enqueue(_ tx: any SQLExecutor, bounce: MailBounce, mail: MailMessage, reason: String,
                               now: Int64) throws -> Decision {
        if let refusal = bounce.refusal(mail) { return .suppressed(refusal) }
        if bounce.limitPerHour > 0 {
            let recent = try tx.queryOne("SELECT COUNT(*) AS n FROM mail_bounces WHERE recipient = ? AND created_at > ?",
                                         [.text(mail.fromAddress), .integer(now - 3_600_000)])?.int("n") ?? 0
            if recent >= bounce.limitPerHour {
                return .suppressed("rate limit: \(bounce.limitPerHour) answers per hour to this sender")
            }
        }
        let id = IntakeContext.newID()
        let registered = try DirectoryStore.contacts(tx, email: mail.fromAddress).contains(where: \.active)
        let message = bounce.compose(answering: mail, reason: reason, senderRegistered: registered)
        try tx.execute("""
            INSERT INTO mail_bounces (id, recipient, message, status, attempts, next_attempt_at, created_at)
            VALUES (?, ?, ?, 'pending', 0, ?, ?)
            """, [.text(id), .text(mail.fromAddress), .blob(message), .integer(now), .integer(now)])
        return .queued(id: id)
    }

    /// In `tx`: a pending answer that is no longer wanted (the message was taken in after all).
    static func cancel(_ tx: any SQLExecutor, id: String, now: Int64) throws {
        try tx.execute("UPDATE mail_bounces SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'pending'",
                       [.integer(now), .text(id)])
    }

    /// Bounces delivered by this process so far.
    public var sent: Int { lock.withLock { sentCount } }

    /// Makes the sender look at the queue now (after a bounce was queued).
    public func wake() { loop.wake() }

    /// One pass: tries every bounce that is due. Returns the number of attempts made.
    /// - Throws: when the database cannot be read or updated.
    @discardableResult
    public func sendDue() throws -> Int {
        var attempts = 0
        while true {
            let now = IntakeContext.now()
            let due = try database.read { tx in
                try tx.query("""
                    SELECT id, recipient, message, attempts, next_attempt_at FROM mail_bounces
                    WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?
                    """, [.integer(now), .integer(Int64(batch))])
            }
            if due.isEmpty { return attempts }
            for row in due {
                if loop.isStopping { return attempts }
                let id = try row.text("id")
                // Claim it: whoever moves next_attempt_at first sends it.
                let lease = now + Int64(bounce.timeoutMilliseconds) + 60_000
                let claimed = try database.write { tx in
                    try tx.execute("UPDATE mail_bounces SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at = ?",
                                   [.integer(lease), .text(id), .integer(try row.int("next_attempt_at"))])
                }
                guard claimed == 1 else { continue }
                attempts += 1
                let tried = Int(try row.int("attempts")) + 1
                var failure: (any Error)?
                do { try bounce.deliver(try row.blob("message"), to: try row.text("recipient")) } catch { failure = error }
                guard let error = failure else {
                    // Sent: recorded outside the delivery's error handling, so a database
                    // failure here is never mistaken for a failed delivery (and sent again).
                    try database.write { tx in
                        try tx.execute("UPDATE mail_bounces SET status = 'sent', attempts = ?, finished_at = ?, last_error = '' WHERE id = ?",
                                       [.integer(Int64(tried)), .integer(IntakeContext.now()), .text(id)])
                    }
                    lock.withLock { sentCount += 1 }
                    continue
                }
                let final = (error as? MailBounce.SMTPFailure)?.permanent == true || tried >= bounce.maxAttempts
                let text = "\(error)"
                let later = IntakeContext.now()
                try database.write { tx in
                    if final {
                        try tx.execute("""
                            UPDATE mail_bounces SET status = 'failed', attempts = ?, finished_at = ?, last_error = ?
                            WHERE id = ? AND status = 'pending'
                            """, [.integer(Int64(tried)), .integer(later), .text(text), .text(id)])
                    } else {
                        let wait = Int64(bounce.backoffSeconds(afterAttempts: tried) * 1000)
                        try tx.execute("""
                            UPDATE mail_bounces SET attempts = ?, next_attempt_at = ?, last_error = ?
                            WHERE id = ? AND status = 'pending'
                            """, [.integer(Int64(tried)), .integer(later + wait), .text(text), .text(id)])
                    }
                }
                if final {
                    logger.warning("bounce given up", ["bounce.id": id, "attempts": String(tried), "error": text])
                } else {
                    logger.notice("bounce failed; will retry", ["bounce.id": id, "attempts": String(tried), "error": text])
                }
            }
            if due.count < batch { return attempts }
        }
    }

    /// When the next pending bounce is due (epoch ms), if any.
    func nextDue() throws -> Int64? {
        try database.read { tx in
            try tx.queryOne("SELECT MIN(next_attempt_at) AS due FROM mail_bounces WHERE status = 'pending'")?.optionalInt("due")
        }
    }

    public func start() {
        loop.start { [self] loop in
            repeat {
                var wait = pollSeconds
                do {
                    try sendDue()
                    if let due = try nextDue() {
                        wait = min(wait, max(0.01, Double(due - IntakeContext.now()) / 1000))
                    }
                } catch {
                    logger.warning("bounce queue failed", ["error": "\(error)"])
                }
                if !loop.sleep(wait) { break }
            } while true
        }
    }

    public func stop() { loop.stop() }
}
