import Foundation
import Messages
import ServiceKit
import Storage

/// A delivery this instance claimed (`sending`, `claimed_by` it, a lease in `claimed_until`), with
/// what sending and recording it need.
struct ClaimedDelivery: Sendable {
    var id: String
    var channel: String
    /// The message (loaded with the claim from `notification_payload_chunks`, or from the row's
    /// own `payload` column for rows written by earlier versions).
    var payload: [UInt8]
    /// When non-zero, the message (this many bytes) was not loaded with the claim (longer than
    /// ``DeliveryClaims/claimLoadBytes``): it is read from `notification_payload_chunks` when
    /// sent, and `payload` is empty.
    var payloadBytes: Int = 0
    var envelopeTo: [String]
    var copies: [String]
    var target: String
    var eventKind: String
    var ticketID: String
    var messageID: String
    var subject: String
    /// Attempts including this one; with `claimed_by` it names this claim, so a record or a
    /// release never touches a row another instance took over.
    var attempts: Int
    /// The webhook a webhook delivery is for (empty for e-mail). Its secrets are read when the
    /// delivery is sent, not with the claim: a rotation committed in between (one `immediately`
    /// revokes a leaked secret) already applies to it.
    var webhookID: String = ""
    /// The lease written with the claim (local clock).
    var leaseEnd: Date
    /// SQLite's rowid of the row (0 on PostgreSQL): the outcome's `UPDATE` finds the row by it
    /// instead of descending the index of `id` (and still checks `id`).
    var rowID: Int64 = 0
}

/// What to write for a claimed delivery: the send's outcome, or a release (not sent).
enum ClaimResult: Sendable {
    /// Sent (or tried), with when the peer answered (the `sent_at` of a sent delivery).
    case sent(SendOutcome, at: Date)
    /// Not sent (the lease was no longer certain, or the lane stopped): back to `queued` without
    /// counting the attempt.
    case released
    /// Not sent because its webhook's URL changed after the claim: back to `queued` without
    /// counting the attempt, now for that URL (its target and lane).
    case moved(to: String)
}

/// The SQL of the claim protocol that lets several instances share one database:
///
/// - **claim** a batch of due `queued` rows of one lane in one statement (`FOR UPDATE SKIP LOCKED`
///   on PostgreSQL, so concurrent instances take disjoint batches without waiting on each other;
///   SQLite serializes writers), setting `sending`, the attempt, `claimed_by` and `claimed_until`;
/// - **renew** the lease of the rows this instance still holds, periodically;
/// - **take over** `sending` rows whose lease expired (their holder died or froze): back to
///   `queued` with `resends + 1`, since the peer may already have the message;
/// - **record** outcomes (and release unsent claims) only where `claimed_by` and `attempts` still
///   name this claim.
enum DeliveryClaims {
    static let returning = """
        id, channel, payload, envelope_to, copies, target, event_kind, ticket_id, message_id, subject, attempts, webhook_id, payload_bytes
        """

    /// Messages up to this size come with the claim; larger ones are read when sent (an e-mail
    /// piece by piece while libcurl uploads it, a webhook body whole just before its signed POST),
    /// so a lane's queue (up to twice the claim batch) holds at most 512 × 64 KiB of messages.
    static let claimLoadBytes = 64 << 10

    /// Claims up to `limit` due deliveries of `lane`.
    static func claim(_ tx: any SQLExecutor, lane: String, instance: String, limit: Int, now: Date, lease: TimeInterval) throws -> [ClaimedDelivery] {
        let postgres = tx.engine == .postgres
        let lock = postgres ? " FOR UPDATE SKIP LOCKED" : ""
        // On SQLite the rows are named by rowid, which the due index holds: no descent of the
        // index of `id` per row, here nor in the outcome's UPDATE.
        let key = postgres ? "id" : "rowid"
        let leaseEnd = now.addingTimeInterval(lease)
        let update = """
            UPDATE notification_deliveries SET state = 'sending', attempts = attempts + 1, claimed_by = ?, claimed_until = ?
            WHERE \(key) IN (
                SELECT \(key) FROM notification_deliveries WHERE state = 'queued' AND lane = ? AND next_attempt_at <= ?
                ORDER BY next_attempt_at LIMIT ?\(lock))
            RETURNING \(returning)\(postgres ? "" : ", rowid AS row_id")
            """
        let params: [SQLValue] = [.text(instance), .timestamp(leaseEnd), .text(lane), .timestamp(now), .integer(Int64(limit))]
        // The messages (stored once, apart from the rows) come with the claim, in the same
        // statement: on PostgreSQL joined to the claimed rows, on SQLite (no UPDATE in a WITH)
        // by a subquery in RETURNING. A message longer than ``claimLoadBytes`` stays in the
        // database and is read when sent.
        let rows: [Row]
        if tx.engine == .postgres {
            rows = try tx.query("""
                WITH claimed AS (\(update))
                SELECT claimed.*, p.data AS piece FROM claimed
                LEFT JOIN notification_payload_chunks p
                    ON p.delivery_id = claimed.id AND p.seq = 0 AND claimed.payload_bytes <= \(claimLoadBytes)
                """, params)
        } else {
            rows = try tx.query("""
                \(update), (SELECT p.data FROM notification_payload_chunks p
                    WHERE p.delivery_id = notification_deliveries.id AND p.seq = 0
                        AND notification_deliveries.payload_bytes <= \(claimLoadBytes)) AS piece
                """, params)
        }
        guard let first = rows.first else { return [] }
        // Columns found once per batch, then read by position (a lookup by name compares the
        // name with every column's, per column and row).
        let at = try ClaimColumns(first)
        var claimed: [ClaimedDelivery] = []
        claimed.reserveCapacity(rows.count)
        for row in rows {
            var payload: [UInt8] = []
            if case .blob(let bytes) = row[at.payload] { payload = bytes }
            var payloadBytes = Int(try at.int(row, at.payloadBytes))
            if payload.isEmpty, case .blob(let piece) = row[at.piece] {
                payload = piece
                payloadBytes = 0
            }
            claimed.append(ClaimedDelivery(
                id: try at.text(row, at.id), channel: try at.text(row, at.channel), payload: payload, payloadBytes: payloadBytes,
                envelopeTo: Self.lines(try at.text(row, at.envelopeTo)), copies: Self.lines(try at.text(row, at.copies)),
                target: try at.text(row, at.target), eventKind: try at.text(row, at.eventKind), ticketID: try at.text(row, at.ticketID),
                messageID: try at.text(row, at.messageID), subject: try at.text(row, at.subject),
                attempts: Int(try at.int(row, at.attempts)), webhookID: try at.text(row, at.webhookID), leaseEnd: leaseEnd,
                rowID: at.rowID.map { if case .integer(let n) = row[$0] { n } else { 0 } } ?? 0))
        }
        return claimed
    }

    /// A newline-separated list (addresses).
    static func lines(_ text: String) -> [String] {
        text.isEmpty ? [] : text.utf8.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Where each column of a claim's result is.
    private struct ClaimColumns {
        let id, channel, payload, envelopeTo, copies, target, eventKind, ticketID, messageID, subject, attempts, webhookID,
            payloadBytes, piece: Int
        /// SQLite only.
        let rowID: Int?

        init(_ row: Row) throws {
            func index(_ name: String) throws -> Int {
                guard let index = row.columns.firstIndex(of: name) else {
                    throw StorageError(.typeMismatch, "no column named '\(name)' in a claim's result")
                }
                return index
            }
            (id, channel, payload, envelopeTo, copies, target) = (try index("id"), try index("channel"), try index("payload"),
                                                                   try index("envelope_to"), try index("copies"), try index("target"))
            (eventKind, ticketID, messageID, subject) = (try index("event_kind"), try index("ticket_id"), try index("message_id"),
                                                         try index("subject"))
            (attempts, webhookID, payloadBytes, piece) = (try index("attempts"), try index("webhook_id"), try index("payload_bytes"),
                                                          try index("piece"))
            rowID = row.columns.firstIndex(of: "row_id")
        }

        func text(_ row: Row, _ index: Int) throws -> String {
            guard case .text(let text) = row[index] else { throw StorageError(.typeMismatch, "\(row.columns[index]) is not text") }
            return text
        }

        func int(_ row: Row, _ index: Int) throws -> Int64 {
            guard case .integer(let number) = row[index] else {
                throw StorageError(.typeMismatch, "\(row.columns[index]) is not an integer")
            }
            return number
        }
    }

    /// Lanes with due `queued` deliveries.
    static func lanesDue(_ tx: any SQLExecutor, now: Date) throws -> [String] {
        try tx.query("SELECT lane FROM notification_deliveries WHERE state = 'queued' AND next_attempt_at <= ? GROUP BY lane",
                     [.timestamp(now)]).map { try $0.text("lane") }
    }

    /// Extends the lease of `ids` (rows this instance holds).
    /// - Returns: how many rows still were this instance's (on PostgreSQL, of those not locked
    ///   by another transaction at that moment).
    @discardableResult
    static func renew(_ tx: any SQLExecutor, ids: [String], instance: String, until: Date) throws -> Int {
        var renewed = 0
        try StatementBatches.forEach(ids) { chunk, marks in
            let statement = renewStatement(chunk, marks: marks, instance: instance, until: until, engine: tx.engine)
            renewed += try tx.execute(statement.sql, statement.params)
        }
        return renewed
    }

    /// The statement that renews the lease of `ids` (`marks`: one `?` per id).
    ///
    /// On PostgreSQL the rows are found by `id` only (the state is compared as an expression no
    /// index covers, as in ``recordAll(_:_:instance:retry:publisher:)``): compared plainly, the
    /// planner read every `sending` entry of the due index and kept the few named, so a backlog
    /// of thousands of claimed rows made each renewal statement read thousands of rows. And rows
    /// another transaction has locked are skipped (`FOR UPDATE SKIP LOCKED`), not waited for:
    /// they are the recorder's, whose transaction is writing their outcomes (which end the
    /// claim) — waiting made the renewal and the recorder lock the same rows in opposite orders,
    /// and PostgreSQL broke the resulting deadlocks by aborting one of them after a second
    /// (docs/BENCHMARKS-notification.md, "E-mails left behind on PostgreSQL"). A row skipped
    /// while its outcome's transaction fails keeps its lease and is renewed at the next turn
    /// (every third of the lease).
    static func renewStatement(_ ids: ArraySlice<String>, marks: String, instance: String, until: Date,
                               engine: DatabaseEngine) -> (sql: String, params: [SQLValue]) {
        if engine == .postgres {
            return ("""
                UPDATE notification_deliveries SET claimed_until = ?
                WHERE id IN (\(marks)) AND id IN (
                    SELECT id FROM notification_deliveries
                    WHERE id IN (\(marks)) AND (state || '') = 'sending' AND claimed_by = ?
                    FOR UPDATE SKIP LOCKED)
                """, [.timestamp(until)] + ids.map(SQLValue.text) + ids.map(SQLValue.text) + [.text(instance)])
        }
        return ("""
            UPDATE notification_deliveries SET claimed_until = ?
            WHERE state = 'sending' AND claimed_by = ? AND id IN (\(marks))
            """, [.timestamp(until), .text(instance)] + ids.map(SQLValue.text))
    }

    /// Puts back to `queued` the `sending` rows whose lease expired, and at start-up also those
    /// `instance` left behind (it is starting, so it holds none): they may have been sent, so
    /// `resends` is increased.
    /// - Returns: how many rows were taken over.
    static func takeOver(_ tx: any SQLExecutor, instance: String?, now: Date) throws -> Int {
        if let instance {
            return try tx.execute("""
                UPDATE notification_deliveries SET state = 'queued', resends = resends + 1, next_attempt_at = ?, claimed_until = 0
                WHERE state = 'sending' AND (claimed_by IN (?, '') OR claimed_until < ?)
                """, [.timestamp(now), .text(instance), .timestamp(now)])
        }
        return try tx.execute("""
            UPDATE notification_deliveries SET state = 'queued', resends = resends + 1, next_attempt_at = ?, claimed_until = 0
            WHERE state = 'sending' AND claimed_until < ?
            """, [.timestamp(now), .timestamp(now)])
    }

    /// Gives back a claim that was not sent.
    static func release(_ tx: any SQLExecutor, _ claimed: ClaimedDelivery, instance: String) throws {
        try tx.execute("""
            UPDATE notification_deliveries SET state = 'queued', attempts = attempts - 1, claimed_until = 0
            WHERE id = ? AND state = 'sending' AND claimed_by = ? AND attempts = ?
            """, [.text(claimed.id), .text(instance), .integer(Int64(claimed.attempts))])
    }

    /// Gives back a webhook delivery's claim that was not sent because its webhook now has
    /// another URL: queued again for `url` (target and lane).
    static func release(_ tx: any SQLExecutor, _ claimed: ClaimedDelivery, instance: String, movedTo url: String) throws {
        try tx.execute("""
            UPDATE notification_deliveries SET state = 'queued', attempts = attempts - 1, claimed_until = 0, target = ?, lane = ?
            WHERE id = ? AND state = 'sending' AND claimed_by = ? AND attempts = ?
            """, [.text(url), .text(WebhookURL.lane(url)), .text(claimed.id), .text(instance), .integer(Int64(claimed.attempts))])
    }

    /// What ``recordAll(_:_:instance:retry:publisher:)`` writes for `outcome`: the state,
    /// the answer kept (at most 1,000 characters) and the next attempt.
    static func decide(_ claimed: ClaimedDelivery, outcome: SendOutcome, retry: RetryPolicy, now: Date) -> (DeliveryState, String, Date) {
        let (state, answer, next): (DeliveryState, String, Date) = switch outcome.main {
        case .someRefused: (.failed, "", now)  // never: `main` is not one
        case .accepted(let answer): (.sent, answer, now)
        case .permanent(let answer): (.failed, answer, now)
        case .transient(let answer):
            claimed.attempts >= retry.maxAttempts
                ? (.dead, answer, now)
                : (.queued, answer, now.addingTimeInterval(Double(retry.delayMilliseconds(afterAttempts: claimed.attempts)) / 1000))
        }
        return (state, String(answer.prefix(1000)), next)
    }

    /// SQLite's single-row outcome `UPDATE` (state, answer, next attempt, `sent_at`), where the
    /// claim still holds: the row found by `rowid` (its `id` still checked) or by `id`.
    private static func outcomeUpdate(byRowID: Bool) -> String {
        """
        UPDATE notification_deliveries SET state = ?, last_answer = ?, next_attempt_at = ?, claimed_until = 0,
            sent_at = COALESCE(?, sent_at)
        WHERE \(byRowID ? "rowid = ? AND " : "")id = ? AND state = 'sending' AND claimed_by = ? AND attempts = ?
        """
    }
    private static let outcomeByRowID = outcomeUpdate(byRowID: true)
    private static let outcomeByID = outcomeUpdate(byRowID: false)

    /// Writes the outcomes of many sends in the caller's transaction: on PostgreSQL one
    /// `UPDATE … FROM (VALUES …) … RETURNING id` per up to 128 rows (one round trip instead of
    /// one per delivery; statements of a few fixed sizes, so the connection's statement cache
    /// keeps them), on SQLite one cached single-row `UPDATE` per delivery (in process, cheaper
    /// than the multi-row form); then one multi-row outbox insert for their `EmailSent` events.
    /// A row is written only where `claimed_by` and `attempts` still name this claim (an
    /// instance that lost it never overwrites the new holder's record nor publishes a second
    /// `EmailSent`).
    /// - Returns: per delivery, the state and answer written, or nil when the claim was no
    ///   longer this instance's.
    /// - Parameter sends: each claim with its outcome and when the peer answered (`sent_at`, the
    ///   base of the next attempt's backoff and the `EmailSent` time).
    static func recordAll(_ tx: any SQLExecutor, _ sends: [(ClaimedDelivery, SendOutcome, Date)], instance: String, retry: RetryPolicy,
                          publisher: EventPublisher) throws -> [(ClaimedDelivery, (DeliveryState, String)?)] {
        let decided = sends.map { claimed, outcome, at in (claimed, decide(claimed, outcome: outcome, retry: retry, now: at), at) }
        var written = Set<String>()
        if tx.engine == .sqlite {
            // In-process: one cached single-row statement per delivery costs less than the
            // multi-row form (no VALUES join materialized, no RETURNING table, no statement
            // journal for a statement that writes one row).
            for (claimed, (state, answer, next), at) in decided {
                // By rowid when the claim returned it (the row's own `id` still checked); by id
                // when that found nothing (a VACUUM may renumber the rowids of a table without
                // an INTEGER PRIMARY KEY), so a claim is never taken as lost because of it.
                let set: [SQLValue] = [.text(state.rawValue), .text(answer), .timestamp(next), state == .sent ? .timestamp(at) : .null]
                let claim: [SQLValue] = [.text(claimed.id), .text(instance), .integer(Int64(claimed.attempts))]
                var changed = claimed.rowID == 0 ? 0 : try tx.execute(outcomeByRowID, set + [.integer(claimed.rowID)] + claim)
                if changed == 0 { changed = try tx.execute(outcomeByID, set + claim) }
                if changed > 0 { written.insert(claimed.id) }
            }
        } else {
            try StatementBatches.forEach(decided) { chunk, marks in
                let statement = outcomeStatement(chunk, marks: marks, instance: instance)
                for row in try tx.query(statement.sql, statement.params) {
                    written.insert(try row.text("id"))
                }
            }
        }
        var events: [(event: NotificationV1.EmailSent, key: String, accessLevel: Int32)] = []
        var result: [(ClaimedDelivery, (DeliveryState, String)?)] = []
        result.reserveCapacity(decided.count)
        for ((claimed, decision, at), (_, outcome, _)) in zip(decided, sends) {
            let (state, answer, _) = decision
            guard written.contains(claimed.id) else {
                result.append((claimed, nil))
                continue
            }
            // Recipients the relay refused: rows of their own; this one keeps the others.
            var kept = claimed
            if !outcome.refused.isEmpty {
                let split = try RecipientRefusals.split(tx, claimed, outcome.refused, retry: retry, now: at)
                kept = split.kept
                for (child, childState, childAnswer) in split.children where childState != .queued {
                    if !child.ticketID.isEmpty { events.append((emailSent(child, state: childState, answer: childAnswer, now: at), child.ticketID, 0)) }
                    if AccountMailRedaction.applies(child) { try AccountMailRedaction.redact(tx, deliveryID: child.id, payload: claimed.payload) }
                }
            }
            if state != .queued, claimed.channel == DeliveryChannel.email.rawValue, !claimed.ticketID.isEmpty {
                events.append((emailSent(kept, state: state, answer: answer, now: at), claimed.ticketID, 0))
            }
            // An account e-mail's one-time link leaves the stored copy once its fate is settled:
            // sent, failed for good, or dead after the last attempt (no retry will need it).
            if state != .queued, AccountMailRedaction.applies(claimed) {
                try AccountMailRedaction.redact(tx, deliveryID: claimed.id, payload: claimed.payload)
            }
            result.append((claimed, (state, answer)))
        }
        // As `publishAll` does (one multi-row outbox insert per statement size), with ids taken
        // for the whole batch at once (``EventIDs``). Nobody reads what these statements answer:
        // deferred, on PostgreSQL the key locks and the insert go out with the commit (two round
        // trips less per batch); a failure fails the commit, and the recorder writes the batch
        // again, as when they ran at once.
        let ids = EventIDs.make(events.count)
        var rows: [OutboxEvent] = []
        rows.reserveCapacity(events.count)
        for (index, (event, key, accessLevel)) in events.enumerated() {
            rows += publisher.outboxEvents(event: event, key: key, accessLevel: accessLevel, id: ids[index])
        }
        var start = 0
        for size in EventPublisher.statementSizes(rows.count) {
            try Outbox.enqueue(tx, Array(rows[start..<start + size]), deferred: true)
            start += size
        }
        return result
    }

    /// PostgreSQL's outcome statement for up to 128 decided sends (`marks`: one `?` per send):
    /// `UPDATE … FROM (VALUES …) … RETURNING id`, where the claim still holds.
    ///
    /// The rows are named twice: joined to the `VALUES` by `id`, and restricted to the batch's
    /// ids by `id IN (…)`, so whatever plan is chosen reads at most the batch's rows from the
    /// primary key. The claim's conditions (`state`, `claimed_by`, `attempts`) are compared with
    /// columns of the `VALUES`, so they are join conditions: the only restriction on the table
    /// is the list of ids, whose size the planner knows, and it hashes the 128 rows. Before,
    /// `claimed_by = ?` and the state were restrictions of the table, whose selectivity the
    /// planner put at one row; it chose a nested loop that read every `sending` row of this
    /// instance and compared it with each of the 128 `VALUES`: with thousands of deliveries
    /// claimed (sent, outcomes waiting) a statement took seconds, which let the backlog grow
    /// further (docs/BENCHMARKS-notification.md, "E-mails left behind on PostgreSQL"). The state
    /// is still compared as an expression (`state || ''`), which no index covers: compared
    /// plainly, the planner could walk the `(state, lane, next_attempt_at)` index over every
    /// `sending` entry, and the dead versions each recorded outcome leaves there until a vacuum.
    static func outcomeStatement(_ chunk: ArraySlice<(ClaimedDelivery, (DeliveryState, String, Date), Date)>, marks: String,
                                 instance: String) -> (sql: String, params: [SQLValue]) {
        var values: [SQLValue] = []
        values.reserveCapacity(chunk.count * 9)
        for (claimed, (state, answer, next), at) in chunk {
            values += [.text(claimed.id), .text(state.rawValue), .text(answer), .timestamp(next),
                       state == .sent ? .timestamp(at) : .null, .integer(Int64(claimed.attempts)), .text(instance)]
        }
        values += chunk.map { .text($0.0.id) }
        let rows = Array(repeating: "(?, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS INTEGER), ?, 'sending')",
                         count: chunk.count).joined(separator: ", ")
        return ("""
            UPDATE notification_deliveries SET state = v.column2, last_answer = v.column3, next_attempt_at = v.column4,
                claimed_until = 0, sent_at = COALESCE(v.column5, notification_deliveries.sent_at)
            FROM (VALUES \(rows)) AS v
            WHERE notification_deliveries.id = v.column1 AND notification_deliveries.id IN (\(marks))
                AND (notification_deliveries.state || '') = v.column8 AND notification_deliveries.claimed_by = v.column7
                AND notification_deliveries.attempts = v.column6
            RETURNING notification_deliveries.id AS id
            """, values)
    }

    /// The `EmailSent` event for a claimed e-mail that reached `state`.
    static func emailSent(_ claimed: ClaimedDelivery, state: DeliveryState, answer: String, now: Date) -> NotificationV1.EmailSent {
        var event = NotificationV1.EmailSent()
        event.ticketID = claimed.ticketID
        event.messageID = "<\(claimed.messageID)>"
        event.eventKind = claimed.eventKind
        let copies = Set(claimed.copies)
        event.recipients = claimed.envelopeTo.filter { !copies.contains($0) }
        event.copies = claimed.copies.sorted()
        event.subject = claimed.subject
        event.outcome = state.rawValue
        event.serverAnswer = answer
        event.sentAtMs = Int64(now.timeIntervalSince1970 * 1000)
        return event
    }
}
