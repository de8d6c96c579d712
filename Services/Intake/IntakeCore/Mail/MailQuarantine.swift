import Foundation
import Messages
import RPC
import ServiceKit
import Storage

/// What became of one raw e-mail handed to ``IntakeContext/receive(raw:source:tokens:settings:bounce:)``.
public struct MailReceipt: Sendable, Equatable {
    /// Taken in (opened, replied, duplicate) or rejected with the reason (also when unparsable).
    public var outcome: MailOutcome
    /// The row in `mail_quarantine` holding the raw message, when it was not taken in.
    public var quarantineID: String?
    /// GMime found no message at all.
    public var unparsable = false
    /// Whether the rejection is answered (nil: no bounce configured, or unparsable without a
    /// readable sender).
    public var bounce: MailBounceQueue.Decision?
    /// Held because a program sent it (``MailMessage/automaticReason``): nobody is answered, by
    /// intake or by the MTA.
    public var automatic = false
    /// An unparsable or oversized message whose sender could be read and may be answered:
    /// that address (the MTA pipe exits so that the MTA bounces it).
    public var readableSender = ""

    public init(outcome: MailOutcome, quarantineID: String? = nil, unparsable: Bool = false, bounce: MailBounceQueue.Decision? = nil) {
        self.outcome = outcome
        self.quarantineID = quarantineID
        self.unparsable = unparsable
        self.bounce = bounce
    }

    /// ``readableSender`` for a message read only leniently (or not at all): its sender when
    /// ``MailBounce/mayAnswer(_:)`` allows an answer, else empty.
    static func answerableSender(_ mail: MailMessage?) -> String {
        mail.flatMap { MailBounce.mayAnswer($0) ? $0.fromAddress : nil } ?? ""
    }
}

extension IntakeContext {
    /// RPC errors of an e-mail's operations that retrying cannot fix: the message is held.
    static let permanentMailErrors: Set<RPCStatusCode> = [
        .invalidArgument, .failedPrecondition, .permissionDenied, .resourceExhausted, .notFound, .alreadyExists, .outOfRange,
    ]

    /// Takes in one raw e-mail (the IMAP poller and `intake ingest-mail` both come here).
    ///
    /// A message that is not taken in is never lost: an unparsable one, a rejected one (unknown or
    /// foreign sender, ...) and one whose operation failed for good are **held** in
    /// `mail_quarantine` with the raw bytes, for agents to download, reprocess or discard
    /// (``listQuarantined(_:caller:)`` and the rest). When `bounce` is given, a rejected
    /// message's answer is queued in the same transaction (``MailBounceQueue``). The same message
    /// (Message-ID, or SHA-256 when unparsable) is held and answered once.
    /// - Throws: storage errors (nothing was recorded: the caller should try again later).
    public func receive(raw: [UInt8], source: String, tokens: ReplyToken, settings mailSettings: MailIngestSettings = MailIngestSettings(),
                        bounce: MailBounce? = nil) throws -> MailReceipt {
        if Int64(raw.count) > settings.maxMailBytes {
            return try receiveOversized(header: raw, sizeBytes: Int64(raw.count), source: source, tokens: tokens, bounce: bounce)
        }
        let mail: MailMessage
        do { mail = try MailMessage(raw: raw) } catch let error as MailError {
            // Still answered when a lenient reading finds a sender (the usual rules apply:
            // never an automatic message, a daemon, our own address, over the hourly limit).
            let readable = MailMessage(lenient: raw)
            // Too complex to read: that reason, which tells the sender what to change.
            let reason: String
            if case .tooComplex = error { reason = error.description } else { reason = readable == nil ? error.description : Self.unreadableReason }
            let (id, decision) = try database.write { tx in
                try hold(tx, raw: raw, mail: readable, key: "sha256:\(MailFingerprint.hex(raw))", kind: .quarantineUnparsable, source: source,
                         reason: reason, bounce: bounce, tokens: tokens)
            }
            var receipt = MailReceipt(outcome: .rejected(reason: reason), quarantineID: id, unparsable: true, bounce: decision)
            receipt.readableSender = MailReceipt.answerableSender(readable)
            return receipt
        }
        let outcome: MailOutcome
        var kind = IntakeV1.QuarantineKind.quarantineRejected
        // An out-of-office, a delivery report or a list's mail opens and answers nothing: held
        // for agents (who may still reprocess it), never answered (MailBounce.mayAnswer).
        let automatic = mail.automaticReason
        do {
            if let automatic {
                outcome = .rejected(reason: "mensagem automática (\(automatic)): não abre nem responde ocorrência / automatic message (\(automatic)): opens or answers no ticket")
            } else {
                outcome = try ingest(mail, tokens: tokens, settings: mailSettings)
            }
        } catch let error as RPCError where Self.permanentMailErrors.contains(error.code) {
            outcome = .rejected(reason: error.message)
            kind = .quarantineFailed
        }
        let reason: String
        var answer = bounce
        switch outcome {
        case .rejected(let why): reason = why
        case .held(let why): reason = why; kind = .quarantineAmbiguousSender; answer = nil
        default: return MailReceipt(outcome: outcome)
        }
        let (id, decision) = try database.write { tx in
            try hold(tx, raw: raw, mail: mail, kind: kind, source: source, reason: reason, bounce: answer, tokens: tokens)
        }
        var receipt = MailReceipt(outcome: outcome, quarantineID: id, bounce: decision)
        receipt.automatic = automatic != nil
        return receipt
    }

    /// Holds a message whose intake kept failing (not a refusal: e.g. the attachment store
    /// failing) as `failed`, without an answer (the fault is ours, not the sender's); its row id.
    /// - Throws: storage errors.
    public func holdFailed(raw: [UInt8], source: String, tokens: ReplyToken, error: any Error) throws -> String {
        let mail = (try? MailMessage(raw: raw)) ?? MailMessage(lenient: raw)
        let reason = "falha interna ao registrar / internal failure: \(error)"
        return try database.write { tx in
            try hold(tx, raw: raw, mail: mail, kind: .quarantineFailed, source: source, reason: String(reason.prefix(2000)), bounce: nil,
                     tokens: tokens).0
        }
    }

    /// The tickets a held message names, recorded with it so that it is readable only by who may
    /// see them: `thread`, the id of the one it is threaded to (``threadedTicket(_:tokens:)``: a
    /// verified reply token, else In-Reply-To/References naming a ticket's or a reply's e-mail),
    /// '' for none; `named`, the ids of those its subject or the beginning of its text names by
    /// code (``MailTicketCodes``), separated by spaces, '' for none, codes no ticket has left
    /// out. A code never threads a message (anyone can type it).
    static func quarantineTickets(_ tx: any SQLExecutor, _ mail: MailMessage?, tokens: ReplyToken) throws -> (thread: String, named: String) {
        guard let mail else { return ("", "") }
        let thread = try threadedTicket(tx, mail, tokens: tokens)?.id ?? ""
        let searched = mail.subject + "\n" + String(mail.text.prefix(MailTicketCodes.maxTextCharacters))
        var named: [String] = []
        for code in MailTicketCodes.codes(in: searched) {
            if let id = try tx.queryOne("SELECT id FROM tickets WHERE code = ?", [.text(code)])?.text("id"), !named.contains(id) {
                named.append(id)
            }
        }
        return (thread, named.joined(separator: " "))
    }

    /// Looks once for the tickets of each message held before migration 26 (`thread_ticket_id`
    /// NULL) or 29 (`named_ticket_ids` NULL), reading its raw message as
    /// ``receive(raw:source:tokens:settings:bounce:)`` would have; run at start. One row at a
    /// time (a raw message may be large); several processes doing it at once write the same answer.
    /// - Throws: storage errors.
    public func recordQuarantineThreads(tokens: ReplyToken) throws {
        let ids = try database.read { tx in
            try tx.query("SELECT id FROM mail_quarantine WHERE thread_ticket_id IS NULL OR named_ticket_ids IS NULL").map { try $0.text("id") }
        }
        for id in ids {
            guard let raw = try database.read({ try $0.queryOne("SELECT raw FROM mail_quarantine WHERE id = ?", [.text(id)])?.blob("raw") }) else {
                continue
            }
            let mail = (try? MailMessage(raw: raw)) ?? MailMessage(lenient: raw)
            try database.write { tx in
                let tickets = try Self.quarantineTickets(tx, mail, tokens: tokens)
                try tx.execute("UPDATE mail_quarantine SET thread_ticket_id = ? WHERE id = ? AND thread_ticket_id IS NULL", [.text(tickets.thread), .text(id)])
                try tx.execute("UPDATE mail_quarantine SET named_ticket_ids = ? WHERE id = ? AND named_ticket_ids IS NULL", [.text(tickets.named), .text(id)])
            }
        }
    }

    /// In `tx`: holds `raw` (once per message key) and queues its answer; the row id and the
    /// bounce decision (nil when the message was held before or is not answered at all).
    /// `key` overrides the message key (default: the Message-ID, else the SHA-256); `sizeBytes`
    /// the recorded size (an oversized message keeps only its header block in `raw`);
    /// `tokens` find the tickets it names (``quarantineTickets(_:_:tokens:)``).
    func hold(_ tx: any SQLExecutor, raw: [UInt8], mail: MailMessage?, key explicitKey: String? = nil, sizeBytes: Int64? = nil,
              kind: IntakeV1.QuarantineKind, source: String,
              reason: String, bounce: MailBounce?, tokens: ReplyToken) throws -> (String, MailBounceQueue.Decision?) {
        let sha256 = Self.sha256Hex(raw)
        let key = explicitKey ?? mail?.messageID ?? "sha256:\(sha256)"
        let id = Self.newID()
        let now = Self.now()
        let tickets = try Self.quarantineTickets(tx, mail, tokens: tokens)
        let inserted = try tx.execute("""
            INSERT INTO mail_quarantine (id, message_key, kind, status, source, reason, from_address, subject, email_message_id,
                                         raw, size_bytes, sha256, received_at, thread_ticket_id, named_ticket_ids)
            VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_key) DO NOTHING
            """, [.text(id), .text(key), .integer(Int64(kind.rawValue)), .text(source), .text(reason),
                  .text(mail?.fromAddress ?? ""), .text(String((mail?.subject ?? "").prefix(500))), .text(mail?.messageID ?? ""),
                  .blob(raw), .integer(sizeBytes ?? Int64(raw.count)), .text(sha256), .integer(now), .text(tickets.thread), .text(tickets.named)])
        guard inserted == 1 else {
            return (try tx.queryOne("SELECT id FROM mail_quarantine WHERE message_key = ?", [.text(key)])?.text("id") ?? id, nil)
        }
        guard let bounce, let mail else { return (id, nil) }
        let decision = try MailBounceQueue.enqueue(tx, bounce: bounce, mail: mail, reason: reason, now: now)
        switch decision {
        case .queued(let bounceID):
            try tx.execute("UPDATE mail_quarantine SET bounce_id = ? WHERE id = ?", [.text(bounceID), .text(id)])
        case .suppressed(let note):
            try tx.execute("UPDATE mail_quarantine SET bounce_note = ? WHERE id = ?", [.text(note), .text(id)])
        }
        return (id, decision)
    }

    // MARK: agents' operations

    /// The permission an agent needs for the quarantine (every agent role of the gateway has it).
    public static let mailQuarantinePermission = "tickets.work"

    /// Agents who work tickets (``mailQuarantinePermission``), administrators and internal
    /// services only: held mail may be anyone's.
    static func requireMailStaff(_ caller: Caller) throws {
        guard caller.isService || (caller.isAgent && caller.has(permission: mailQuarantinePermission)) else {
            throw RPCError(.permissionDenied, "apenas agentes que atendem ocorrências e administradores / agents working tickets and administrators only")
        }
    }

    static let quarantineColumns = """
        q.id, q.kind, q.status, q.source, q.reason, q.from_address, q.subject, q.email_message_id, q.size_bytes, q.sha256,
        q.received_at, q.attempts, q.resolved_at, q.resolved_by, q.resolution, q.ticket_id, q.ticket_code, q.bounce_note, q.thread_ticket_id, q.named_ticket_ids,
        b.status AS bounce_status, b.attempts AS bounce_attempts, b.last_error AS bounce_error
        FROM mail_quarantine q LEFT JOIN mail_bounces b ON b.id = q.bounce_id
        """

    static func quarantinedMail(_ row: Row) throws -> IntakeV1.QuarantinedMail {
        var mail = IntakeV1.QuarantinedMail()
        mail.id = try row.text("id")
        mail.kind = IntakeV1.QuarantineKind(_protoRawValue: Int32(try row.int("kind")))
        mail.status = IntakeV1.QuarantineStatus(_protoRawValue: Int32(try row.int("status")))
        mail.source = try row.text("source")
        mail.reason = try row.text("reason")
        mail.fromAddress = try row.text("from_address")
        mail.subject = try row.text("subject")
        mail.emailMessageID = try row.text("email_message_id")
        mail.sizeBytes = try row.int("size_bytes")
        mail.sha256 = try row.text("sha256")
        mail.receivedAt = try row.int("received_at")
        mail.attempts = Int32(try row.int("attempts"))
        mail.resolvedAt = try row.optionalInt("resolved_at") ?? 0
        mail.resolvedBy = try row.text("resolved_by")
        mail.resolution = try row.text("resolution")
        mail.ticketID = try row.text("ticket_id")
        mail.ticketCode = try row.text("ticket_code")
        mail.bounceNote = try row.text("bounce_note")
        switch row.optionalText("bounce_status") {
        case "pending": mail.bounceStatus = .bouncePending
        case "sent": mail.bounceStatus = .bounceSent
        case "failed": mail.bounceStatus = .bounceFailed
        case "cancelled": mail.bounceStatus = .bounceCancelled
        default: mail.bounceStatus = mail.bounceNote.isEmpty ? .bounceNone : .bounceSuppressed
        }
        mail.bounceAttempts = Int32(try row.optionalInt("bounce_attempts") ?? 0)
        mail.bounceError = row.optionalText("bounce_error") ?? ""
        mail.headersOnly = mail.kind == .quarantineOversized
        return mail
    }

    /// Held (and, on request, resolved) mail, newest first, a page at a time (key cursor).
    /// Messages naming a ticket the caller may not see (``requireQuarantineAccess(_:caller:)``)
    /// are left out, as if they did not exist: the page is filled from the rows after them.
    public func listQuarantined(_ request: IntakeV1.ListQuarantinedMailRequest, caller: Caller) throws -> IntakeV1.ListQuarantinedMailResponse {
        try Self.requireMailStaff(caller)
        let size = try PageSize.resolve(request.pageSize, field: "page_size", default: 50, maximum: 500)
        var after: (Int64, String)?
        if !request.pageToken.isEmpty {
            let parts = request.pageToken.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let at = Int64(parts[0]) else {
                var violations = Violations()
                violations.add("page_token", "invalid_page_token", pt: "Token de página inválido.", en: "Invalid page token.")
                try violations.check()
                return IntakeV1.ListQuarantinedMailResponse()
            }
            after = (at, String(parts[1]))
        }
        var kept: [Row] = []
        var seen: [String: NamedTicketAccess] = [:]
        while kept.count <= size {
            var conditions: [String] = []
            var parameters: [SQLValue] = []
            if !request.includeResolved { conditions.append("q.status = 1") }
            if let (at, id) = after {
                conditions.append("(q.received_at < ? OR (q.received_at = ? AND q.id < ?))")
                parameters += [.integer(at), .integer(at), .text(id)]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try database.read { tx in
                try tx.query("SELECT \(Self.quarantineColumns) \(filter) ORDER BY q.received_at DESC, q.id DESC LIMIT ?",
                             parameters + [.integer(Int64(size + 1))])
            }
            for row in rows where kept.count <= size {
                if try mayRead(row, caller: caller, seen: &seen) { kept.append(row) }
            }
            guard rows.count > size, let last = rows.last else { break }
            after = (try last.int("received_at"), try last.text("id"))
        }
        var response = IntakeV1.ListQuarantinedMailResponse()
        response.messages = try kept.prefix(size).map(Self.quarantinedMail)
        if kept.count > size, let last = response.messages.last {
            response.nextPageToken = "\(last.receivedAt).\(last.id)"
        }
        return response
    }

    /// One held message's record; with `headers`, also the header fields of its raw message.
    /// A message naming a ticket workflow hides from the caller is `NOT_FOUND`, as a missing one
    /// (``requireQuarantineAccess(_:caller:)``).
    /// - Parameter checked: `false` only to read again a record the caller was already let
    ///   through for in this call (after a reprocess, which may have named a new ticket).
    public func quarantined(_ id: String, caller: Caller, headers: Bool = false, checked: Bool = true) throws -> IntakeV1.QuarantinedMail {
        try Self.requireMailStaff(caller)
        let columns = headers ? "substr(q.raw, 1, \(MailHeaders.limit)) AS raw, " + Self.quarantineColumns : Self.quarantineColumns
        guard let row = try database.read({ try $0.queryOne("SELECT \(columns) WHERE q.id = ?", [.text(id)]) }) else {
            throw Self.quarantinedNotFound
        }
        if checked { try requireQuarantineAccess(row, caller: caller) }
        var mail = try Self.quarantinedMail(row)
        if headers {
            mail.headers = MailHeaders.read(try row.blob("raw")).map { field in
                var header = IntakeV1.MailHeader()
                header.name = field.name
                header.value = field.value
                return header
            }
        }
        return mail
    }

    /// The raw message, byte-exact, in chunks (the first carries the record).
    public func downloadQuarantined(_ request: IntakeV1.QuarantinedMailRequest, caller: Caller,
                                    send: (IntakeV1.QuarantinedMailChunk) throws -> Void) throws {
        let record = try quarantined(request.id, caller: caller)
        let raw = try database.read { try $0.queryOne("SELECT raw FROM mail_quarantine WHERE id = ?", [.text(request.id)])?.blob("raw") } ?? []
        let chunk = request.chunkBytes <= 0 ? 1 << 20 : min(Int(request.chunkBytes), 2 << 20)
        var offset = 0
        repeat {
            var message = IntakeV1.QuarantinedMailChunk()
            if offset == 0 { message.mail = record }
            message.offset = Int64(offset)
            let end = min(raw.count, offset + chunk)
            message.data = Array(raw[offset..<end])
            offset = end
            try send(message)
        } while offset < raw.count
    }

    /// Takes a held message in again. Taken in: the record becomes reprocessed (with the
    /// ticket) and a pending answer is cancelled. Refused again: it stays held with the new reason
    /// (no new answer is sent). A resolved message: `FAILED_PRECONDITION`.
    /// `organizationID` chooses the organization of a new ticket when the sender is an
    /// authorized contact of several.
    /// `replacement` is a corrected message taken in instead (the stored one stays as received).
    public func reprocessQuarantined(_ id: String, organizationID: String = "", replacement: [UInt8] = [], ticketID: String = "", caller: Caller,
                                     tokens: ReplyToken, settings mailSettings: MailIngestSettings) throws -> IntakeV1.ReprocessQuarantinedMailResponse {
        let record = try quarantined(id, caller: caller)
        // A retry with the first call's key gets its answer (the message is resolved by then),
        // once the caller's access is checked again.
        let fingerprint = Array("\(id)|\(organizationID)|\(ticketID)|".utf8) + replacement
        if let answer: IntakeV1.ReprocessQuarantinedMailResponse = try replayed("ReprocessQuarantinedMail", caller, fingerprint: fingerprint) {
            return answer
        }
        guard record.status == .quarantineHeld else {
            throw RPCError(.failedPrecondition, "mensagem já resolvida / message already resolved")
        }
        if record.headersOnly && replacement.isEmpty {
            throw RPCError(.failedPrecondition, "só o cabeçalho da mensagem grande demais foi guardado; descarte-a / only the header of the oversized message was kept; discard it")
        }
        if !ticketID.isEmpty {
            // A ticket workflow hides from the agent is answered like a missing one.
            var found = false
            if let ticket = try database.read({ try TicketStore.ticket($0, reference: ticketID) }) {
                do {
                    try requireTicketAccess(ticket, caller: caller)
                    found = true
                } catch let error as RPCError where error.code == .notFound {}
            }
            if !found {
                var violations = Violations()
                violations.add("ticket_id", "not_found", pt: "Ocorrência não encontrada.", en: "Ticket not found.")
                try violations.check()
            }
        }
        if !replacement.isEmpty {
            var violations = Violations()
            if replacement.count > 3 << 20 {
                violations.add("replacement_raw", "too_large", pt: "No máximo 3 MiB.", en: "At most 3 MiB.")
            } else if (try? MailMessage(raw: replacement)) == nil {
                violations.add("replacement_raw", "unparsable", pt: "Não é uma mensagem RFC 5322.", en: "Not an RFC 5322 message.")
            }
            try violations.check()
        }
        let raw = replacement.isEmpty
            ? try database.read { try $0.queryOne("SELECT raw FROM mail_quarantine WHERE id = ?", [.text(id)])?.blob("raw") } ?? []
            : replacement
        var kind = IntakeV1.QuarantineKind.quarantineRejected
        var outcomeName: String
        var reason = ""
        var ticket: (String, String)?
        do {
            let mail = try MailMessage(raw: raw)
            do {
                switch try ingest(mail, tokens: tokens, settings: mailSettings, organizationID: organizationID, ticketID: ticketID) {
                case .opened(let ticketID, let code): outcomeName = "opened"; ticket = (ticketID, code)
                case .replied(let ticketID, let code, _): outcomeName = "replied"; ticket = (ticketID, code)
                case .duplicate(let ticketID, let code): outcomeName = "duplicate"; ticket = (ticketID, code)
                case .rejected(let why): outcomeName = "rejected"; reason = why
                case .held(let why): outcomeName = "held"; reason = why; kind = .quarantineAmbiguousSender
                }
            } catch let error as RPCError where Self.permanentMailErrors.contains(error.code) {
                outcomeName = "failed"; reason = error.message; kind = .quarantineFailed
            }
        } catch let error as MailError {
            outcomeName = "unparsable"; reason = error.description; kind = .quarantineUnparsable
        }
        let now = Self.now()
        let outcome = outcomeName
        return try write("ReprocessQuarantinedMail", caller, fingerprint: fingerprint) { tx in
            if let (ticketID, code) = ticket {
                try tx.execute("""
                    UPDATE mail_quarantine SET status = 2, attempts = attempts + 1, resolved_at = ?, resolved_by = ?, resolution = ?,
                        ticket_id = ?, ticket_code = ? WHERE id = ?
                    """, [.integer(now), .text(caller.id), .text(replacement.isEmpty ? outcomeName : "\(outcomeName) (corrected message)"),
                          .text(ticketID), .text(code), .text(id)])
                if let bounceID = try tx.queryOne("SELECT bounce_id FROM mail_quarantine WHERE id = ?", [.text(id)])?.optionalText("bounce_id") {
                    try MailBounceQueue.cancel(tx, id: bounceID, now: now)
                }
            } else {
                try tx.execute("UPDATE mail_quarantine SET attempts = attempts + 1, reason = ?, kind = ? WHERE id = ?",
                               [.text(reason), .integer(Int64(kind.rawValue)), .text(id)])
            }
            var response = IntakeV1.ReprocessQuarantinedMailResponse()
            response.mail = try Self.quarantined(tx, id)
            response.outcome = outcome
            return response
        }
    }

    /// A held message's record read in `tx` (no access check: the caller's was made).
    static func quarantined(_ tx: any SQLExecutor, _ id: String) throws -> IntakeV1.QuarantinedMail {
        guard let row = try tx.queryOne("SELECT \(quarantineColumns) WHERE q.id = ?", [.text(id)]) else { throw quarantinedNotFound }
        return try quarantinedMail(row)
    }

    /// Gives up on a held message, with the reason (required); a pending answer is still sent
    /// (the sender was told the message was not registered, which stays true).
    public func discardQuarantined(_ request: IntakeV1.DiscardQuarantinedMailRequest, caller: Caller) throws -> IntakeV1.QuarantinedMail {
        try Self.requireMailStaff(caller)
        var violations = Violations()
        violations.required("reason", request.reason)
        violations.maxLength("reason", request.reason, 2000)
        try violations.check()
        let record = try quarantined(request.id, caller: caller)
        // A retry with the first call's key gets its answer (the message is resolved by then),
        // once the caller's access is checked again.
        let fingerprint = request.serializedBytes()
        if let answer: IntakeV1.QuarantinedMail = try replayed("DiscardQuarantinedMail", caller, fingerprint: fingerprint) { return answer }
        guard record.status == .quarantineHeld else {
            throw RPCError(.failedPrecondition, "mensagem já resolvida / message already resolved")
        }
        return try write("DiscardQuarantinedMail", caller, fingerprint: fingerprint) { tx in
            try tx.execute("""
                UPDATE mail_quarantine SET status = 3, resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ? AND status = 1
                """, [.integer(Self.now()), .text(caller.id), .text(request.reason), .text(request.id)])
            return try Self.quarantined(tx, request.id)
        }
    }
}

