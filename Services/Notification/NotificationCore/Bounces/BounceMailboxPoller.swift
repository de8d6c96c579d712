import Foundation
import MailKit
import Observability
import ServiceKit

/// Reads the envelope sender's mailbox over IMAP (`NOTIFICATION_BOUNCE_IMAP_URL`) on a timer and
/// hands every delivery status notification to the ``BounceProcessor``.
///
/// Each pass searches `UNSEEN UNFLAGGED` messages, fetches them (which sets `\Seen`) and:
/// - a report (RFC 3464, whatever its parts' transfer encoding) is applied, then moved to
///   `NOTIFICATION_BOUNCE_PROCESSED_FOLDER` (created when missing), whether or not it named one
///   of our messages;
/// - any other message is flagged `\Flagged` and left where it is, for a person to read (it is
///   not fetched again);
/// - when applying fails (database unavailable), `\Seen` is cleared so the next pass retries it.
///
/// Several instances may poll the same mailbox: applying a report twice changes nothing (a
/// delivery bounces once), and a message another instance moved first is simply gone.
final class BounceMailboxPoller: BackgroundService, @unchecked Sendable {
    let mailbox: IMAPMailbox
    let processor: BounceProcessor
    let processedFolder: String
    let logger: Logger
    private let timer = BackgroundLoop(name: "notify bounces")
    private let interval: Double
    private var folderReady = false  // poller thread only

    init(mailbox: IMAPMailbox, processor: BounceProcessor, processedFolder: String, intervalMilliseconds: Int, logger: Logger) {
        self.mailbox = mailbox
        self.processor = processor
        self.processedFolder = processedFolder
        self.logger = logger
        interval = Double(max(100, intervalMilliseconds)) / 1000
    }

    /// What one pass did.
    struct Pass: Equatable {
        /// Reports applied (and moved).
        var reports = 0
        /// Reports that named one of our deliveries.
        var recognized = 0
        /// Messages that are not reports (flagged, left in place).
        var others = 0
        /// Messages left for the next pass (applying failed).
        var retried = 0
    }

    /// One pass over the mailbox's unseen, unflagged messages.
    @discardableResult
    func poll() throws -> Pass {
        var pass = Pass()
        let uids = try mailbox.search("UNSEEN UNFLAGGED")
        guard !uids.isEmpty else { return pass }
        if !folderReady {
            try mailbox.createFolder(processedFolder)
            folderReady = true
        }
        for uid in uids {
            let raw: [UInt8]
            do { raw = try mailbox.fetch(uid) } catch {
                // Moved or expunged by another reader meanwhile.
                logger.warning("bounce mailbox: message vanished before it was read: \(error)")
                continue
            }
            guard let report = DeliveryStatusReport.parse(raw) else {
                try mailbox.setFlags(uid, "\\Flagged", add: true)
                pass.others += 1
                continue
            }
            do {
                let result = try processor.apply(report)
                pass.reports += 1
                if result.recognized { pass.recognized += 1 }
            } catch {
                logger.error("bounce report not applied, kept for the next pass: \(error)")
                try? mailbox.setFlags(uid, "\\Seen", add: false)
                pass.retried += 1
                continue
            }
            try mailbox.move(uid, to: processedFolder)
        }
        return pass
    }

    /// Polls now (tests; an operator's nudge).
    func wake() { timer.wake() }

    func start() {
        timer.start(every: interval) { [self] in
            do {
                let pass = try poll()
                if pass.reports + pass.others > 0 {
                    logger.info("bounce mailbox read", ["notification.reports": String(pass.reports),
                                                        "notification.recognized": String(pass.recognized),
                                                        "notification.other_messages": String(pass.others)])
                }
            } catch {
                logger.error("reading the bounce mailbox failed: \(error)")
            }
        }
    }

    func stop() { timer.stop() }
}
