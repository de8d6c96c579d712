import Foundation
import Messages
import ServiceKit
import Storage

/// Delivery states: `queued` → `sending` → `sent`; a transient failure goes back to `queued` with a
/// later `next_attempt_at`, or to `dead` after the last attempt; a permanent one to `failed`.
enum DeliveryState: String, Sendable {
    case queued, sending, sent, failed, dead
    /// A dead letter an operator chose not to send (pruned by the retention like sent rows).
    case discarded
    /// Accepted by the relay, then reported undeliverable by a delivery status notification.
    case bounced
}

/// Channels a delivery goes through.
enum DeliveryChannel: String, Sendable {
    case email, webhook
}

/// A delivery row to insert.
struct NewDelivery: Sendable {
    var id: String
    var eventID: String
    var recipient: String
    var channel: DeliveryChannel
    var eventKind: String
    var ticketID: String
    var lane: String
    var target: String = ""
    var envelopeTo: [String] = []
    var copies: [String] = []
    var messageID: String
    var subject: String = ""
    var payload: [UInt8] = []
    /// The message in segments instead of `payload` (attachments spooled to files while fetched):
    /// stored piece by piece, never whole in memory. When set, `payload` is empty.
    var segments: [MIMESegment] = []
    var accessLevel: Int32 = 0
    var state: DeliveryState = .queued
    var lastAnswer: String = ""
    var webhookID: String = ""
    /// A row inserted already claimed (``InsertClaims``): `sending`, attempt 1, this instance's
    /// name and lease.
    var attempts: Int = 0
    var claimedBy: String = ""
    var claimedUntil: Date?
}

/// Reads and writes `notification_deliveries`. Every function runs inside the caller's transaction.
enum DeliveryStore {
    /// Inserts `delivery` unless (event, recipient, channel) already has a row. The rendered
    /// message goes to `notification_payload_chunks` (one piece up to ``PayloadChunks/chunkBytes``),
    /// not into the row, whose `payload_bytes` holds its size: claims, lease renewals and
    /// outcomes then rewrite a small row, and the message is written once and never again.
    /// On PostgreSQL both inserts are one statement.
    /// - Returns: whether a row was inserted.
    /// A message given in ``NewDelivery/segments`` is written after the row, from its
    /// segments, and its size (known beforehand from the segments) is in the row from the start.
    @discardableResult
    static func insert(_ executor: any SQLExecutor, _ delivery: NewDelivery, now: Date = Date()) throws -> Bool {
        let size = delivery.segments.isEmpty ? delivery.payload.count : try PayloadChunks.size(of: delivery.segments)
        let params = rowValues(delivery, size: size, now: now)
        let insertRow = """
            INSERT INTO notification_deliveries (\(insertColumns)) VALUES \(rowPlaceholders)
            ON CONFLICT (event_id, recipient, channel) DO NOTHING
            """
        if executor.engine == .postgres && !delivery.payload.isEmpty && delivery.payload.count <= PayloadChunks.chunkBytes {
            return try executor.execute("""
                WITH row AS (\(insertRow) RETURNING id)
                INSERT INTO notification_payload_chunks (delivery_id, seq, data) SELECT id, 0, ? FROM row
                """, params + [.blob(delivery.payload)]) > 0
        }
        guard try executor.execute(insertRow, params) > 0 else { return false }
        if !delivery.segments.isEmpty {
            let written = try PayloadChunks.write(executor, deliveryID: delivery.id, segments: delivery.segments)
            guard written == size else {
                // A spool file changed between measuring and reading it: the transaction is undone.
                throw StorageError(.misuse, "message size changed while stored (\(size) → \(written) bytes)")
            }
        } else if !delivery.payload.isEmpty {
            try PayloadChunks.write(executor, deliveryID: delivery.id, segments: [.bytes(delivery.payload)])
        }
        return true
    }

    /// Inserts `deliveries` — each with a message of one piece (``PayloadChunks/chunkBytes`` at
    /// most) in `payload`, none in segments — as ``insert(_:_:now:)`` would one by one; on
    /// PostgreSQL in one round trip: one statement per group of up to 128 rows (the rows and
    /// their message pieces together, as there), sent in one pipeline.
    /// Each row's `now` is its creation time, as ``insert(_:_:now:)``'s.
    /// - Returns: the ids of the rows inserted (a row whose (event, recipient, channel) already
    ///   has one is not).
    static func insertAll(_ executor: any SQLExecutor, _ deliveries: [(delivery: NewDelivery, now: Date)]) throws -> Set<String> {
        guard executor.engine == .postgres else {
            return Set(try deliveries.filter { try insert(executor, $0.delivery, now: $0.now) }.map(\.delivery.id))
        }
        precondition(deliveries.allSatisfy {
            $0.delivery.segments.isEmpty && !$0.delivery.payload.isEmpty && $0.delivery.payload.count <= PayloadChunks.chunkBytes
        })
        var statements: [(sql: String, params: [SQLValue])] = []
        var start = 0
        for size in EventPublisher.statementSizes(deliveries.count) {
            let group = deliveries[start..<start + size]
            start += size
            var params: [SQLValue] = []
            params.reserveCapacity(size * 25)
            for (delivery, now) in group { params += rowValues(delivery, size: delivery.payload.count, now: now) }
            for (delivery, _) in group { params += [.text(delivery.id), .blob(delivery.payload)] }
            let rows = Array(repeating: rowPlaceholders, count: size).joined(separator: ", ")
            let pieces = Array(repeating: "(CAST(? AS TEXT), CAST(? AS BYTEA))", count: size).joined(separator: ", ")
            statements.append(("""
                WITH row AS (
                    INSERT INTO notification_deliveries (\(insertColumns)) VALUES \(rows)
                    ON CONFLICT (event_id, recipient, channel) DO NOTHING RETURNING id)
                INSERT INTO notification_payload_chunks (delivery_id, seq, data)
                SELECT row.id, 0, piece.data FROM row JOIN (VALUES \(pieces)) AS piece (id, data) ON piece.id = row.id
                RETURNING delivery_id
                """, params))
        }
        var inserted = Set<String>()
        for rows in try executor.queryPipelined(statements) {
            for row in rows { inserted.insert(try row.text("delivery_id")) }
        }
        return inserted
    }

    /// The columns ``insertAll(_:_:)`` writes (those of ``insert(_:_:now:)``'s statement), in the
    /// order of ``rowValues(_:size:now:)``.
    static let insertColumns = """
        id, event_id, recipient, channel, event_kind, ticket_id, lane, target, envelope_to, copies, message_id, subject, payload,
        payload_bytes, access_level, state, attempts, next_attempt_at, last_answer, created_at, webhook_id, claimed_by, claimed_until
        """

    /// One row's placeholders for ``insertColumns``.
    static let rowPlaceholders = "(" + Array(repeating: "?", count: 23).joined(separator: ", ") + ")"

    /// A row's values for ``insertColumns`` (the message itself goes to the pieces; `size` is its length).
    static func rowValues(_ delivery: NewDelivery, size: Int, now: Date) -> [SQLValue] {
        [.text(delivery.id), .text(delivery.eventID), .text(delivery.recipient), .text(delivery.channel.rawValue),
         .text(delivery.eventKind), .text(delivery.ticketID), .text(delivery.lane), .text(delivery.target),
         .text(delivery.envelopeTo.joined(separator: "\n")), .text(delivery.copies.joined(separator: "\n")),
         .text(delivery.messageID), .text(delivery.subject), .blob([]), .integer(Int64(size)),
         .integer(Int64(delivery.accessLevel)), .text(delivery.state.rawValue), .integer(Int64(delivery.attempts)), .timestamp(now),
         .text(delivery.lastAnswer), .timestamp(now), .text(delivery.webhookID), .text(delivery.claimedBy),
         delivery.claimedUntil.map(SQLValue.timestamp) ?? .integer(0)]
    }

    static let columns = """
        id, event_id, event_kind, ticket_id, recipient, channel, state, attempts, next_attempt_at, last_answer, message_id,
        subject, created_at, sent_at, resends, copies, envelope_to, access_level, target
        """

    /// A row as the API shows it.
    static func delivery(_ row: Row) throws -> NotificationV1.Delivery {
        var delivery = NotificationV1.Delivery()
        delivery.id = try row.text("id")
        delivery.eventID = try row.text("event_id")
        delivery.eventKind = try row.text("event_kind")
        delivery.ticketID = try row.text("ticket_id")
        delivery.recipient = try row.text("recipient")
        delivery.channel = try row.text("channel")
        delivery.state = try row.text("state")
        delivery.attempts = Int32(try row.int("attempts"))
        delivery.nextAttemptAtMs = try row.int("next_attempt_at")
        delivery.serverAnswer = try row.text("last_answer")
        delivery.messageID = try row.text("message_id")
        delivery.subject = try row.text("subject")
        delivery.createdAtMs = try row.int("created_at")
        delivery.sentAtMs = try row.optionalInt("sent_at") ?? 0
        delivery.resends = Int32(try row.int("resends"))
        delivery.copies = try row.text("copies").split(separator: "\n").map(String.init)
        // A webhook's URL (e-mail rows keep none).
        delivery.target = try row.text("target")
        return delivery
    }

    static func find(_ executor: any SQLExecutor, id: String) throws -> NotificationV1.Delivery? {
        try executor.queryOne("SELECT \(columns) FROM notification_deliveries WHERE id = ?", [.text(id)]).map(delivery)
    }

    /// The `EmailSent` event for a finished e-mail row about a ticket; nil for other rows.
    static func emailSent(_ executor: any SQLExecutor, id: String) throws -> NotificationV1.EmailSent? {
        guard let row = try executor.queryOne("""
            SELECT ticket_id, message_id, event_kind, envelope_to, copies, subject, state, last_answer, channel
            FROM notification_deliveries WHERE id = ?
            """, [.text(id)]),
              try row.text("channel") == DeliveryChannel.email.rawValue, !(try row.text("ticket_id")).isEmpty else { return nil }
        var event = NotificationV1.EmailSent()
        event.ticketID = try row.text("ticket_id")
        event.messageID = "<\(try row.text("message_id"))>"
        event.eventKind = try row.text("event_kind")
        let copies = Set(try row.text("copies").split(separator: "\n").map(String.init))
        event.recipients = try row.text("envelope_to").split(separator: "\n").map(String.init).filter { !copies.contains($0) }
        event.copies = Array(copies).sorted()
        event.subject = try row.text("subject")
        event.outcome = try row.text("state")
        event.serverAnswer = try row.text("last_answer")
        event.sentAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        return event
    }

    /// Counts per state and the total of resends.
    static func stats(_ executor: any SQLExecutor) throws -> NotificationV1.GetStatsResponse {
        var stats = NotificationV1.GetStatsResponse()
        for row in try executor.query("SELECT state, COUNT(*) AS n, SUM(resends) AS r FROM notification_deliveries GROUP BY state", []) {
            let n = try row.int("n")
            stats.resends += try row.optionalInt("r") ?? 0
            switch try row.text("state") {
            case DeliveryState.queued.rawValue: stats.queued = n
            case DeliveryState.sending.rawValue: stats.sending = n
            case DeliveryState.sent.rawValue: stats.sent = n
            case DeliveryState.failed.rawValue: stats.failed = n
            case DeliveryState.dead.rawValue: stats.dead = n
            case DeliveryState.discarded.rawValue: stats.discarded = n
            case DeliveryState.bounced.rawValue: stats.bounced = n
            default: break
            }
        }
        return stats
    }
}
