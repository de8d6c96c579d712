import Foundation
import Messages
import ServiceKit
import Storage

/// SQL of tickets and their messages. A ticket row keeps the columns intake queries by and a
/// snapshot of the ticket as submitted (the `Ticket` message); attachments and messages are
/// added from their own tables when it is read.
enum TicketStore {
    static let open = "open"
    static let cancelled = "cancelled"
    /// The condition a ticket meets to be the first of a double submission: not cancelled (a
    /// customer who cancelled one and sends the same again means a new one).
    static let firstOfDuplicates = "status <> '\(cancelled)'"
    /// Workflow reported the ticket finished (`TicketFinished`).
    static let finished = "finished"

    /// Records that workflow finished a ticket with `outcome`. Workflow is the authority for the
    /// stage: a ticket the customer cancelled here stays cancelled when workflow applied the
    /// cancellation (`cancelada_cliente`), and follows workflow's finish otherwise — a conclusion
    /// crossed the cancel, which workflow could not apply (it keeps the customer's reason for the
    /// team). Before 2026-12 intake's copy stayed cancelled while workflow's was finished.
    static func markFinished(_ tx: any SQLExecutor, ticketID: String, outcome: String) throws {
        try tx.execute("UPDATE tickets SET status = ? WHERE id = ? AND (status = ? OR (status = ? AND ? <> ?))",
                       [.text(finished), .text(ticketID), .text(open), .text(cancelled), .text(outcome),
                        .text(TicketOutcome.canceladaCliente.rawValue)])
    }

    /// The ticket with this id or code, without its messages and attachments.
    static func ticket(_ tx: any SQLExecutor, reference: String) throws -> IntakeV1.Ticket? {
        guard let row = try tx.queryOne("SELECT status, snapshot FROM tickets WHERE id = ? OR code = ?",
                                        [.text(reference), .text(reference)]) else { return nil }
        var ticket = try IntakeV1.Ticket(serializedBytes: try row.blob("snapshot"))
        ticket.status = try row.text("status")
        return ticket
    }

    /// The ticket opened by the e-mail with this Message-ID, if any.
    static func ticket(_ tx: any SQLExecutor, emailMessageID: String) throws -> IntakeV1.Ticket? {
        guard let id = try tx.queryOne("SELECT id FROM tickets WHERE email_message_id = ?", [.text(emailMessageID)])?.text("id") else {
            return nil
        }
        return try ticket(tx, reference: id)
    }

    /// How a ticket's (or a message's) files are listed: by position, the order its open or
    /// reply gave them (an upload added to the ticket later comes after its files); creation
    /// time and id only order rows from before positions were recorded (all at 0), as they
    /// were listed then.
    static let attachmentOrder = "position, created_at, id"

    /// The ticket with its attachments and a page of its messages, as `GetTicket` returns it.
    /// - Parameters:
    ///   - includeInternal: Lists internal files too (`AttachmentRef.internal`): for staff only.
    ///     Without it (customers, representatives, and every answer that does not know its reader
    ///     is staff) they are left out, as if they did not exist.
    ///   - page: Which messages (by their place, `seq`): the newest page unless the caller asked
    ///     for older ones; `older_messages` and `messages_before` say what was left out.
    static func complete(_ tx: any SQLExecutor, _ base: IntakeV1.Ticket, includeInternal: Bool = false,
                         page: TicketPage) throws -> IntakeV1.Ticket {
        var ticket = base
        let attachments = try tx.query("""
            SELECT id, sha256, file_name, content_type, size_bytes, message_id, internal FROM attachments
            WHERE ticket_id = ?\(includeInternal ? "" : " AND internal = 0") ORDER BY \(attachmentOrder)
            """, [.text(ticket.id)])
        var byMessage: [String: [CommonV1.AttachmentRef]] = [:]
        for row in attachments {
            byMessage[try row.text("message_id"), default: []].append(try IntakeContext.attachmentRef(row))
        }
        ticket.attachments = byMessage[""] ?? []
        let messages = try page.read(tx, from: "FROM ticket_messages WHERE ticket_id = ?", [.text(ticket.id)], columns: "seq, snapshot",
                                     keyColumns: ["seq"]) { row in
            let snapshot = try row.blob("snapshot")
            var message = try IntakeV1.TicketMessage(serializedBytes: snapshot)
            message.attachments = byMessage[message.id] ?? []
            return (message, [try row.int("seq")], snapshot.count + 256 * message.attachments.count)
        }
        ticket.messages = messages.items
        ticket.olderMessages = messages.older
        ticket.messagesBefore = messages.before
        return ticket
    }

    /// Inserts a new ticket's row.
    /// - Parameters:
    ///   - attachmentBytes: The size of the files it is opened with.
    ///   - contactLinked: The contact is known to be linked to a ticket already, so its `linked`
    ///     flag needs no update.
    ///   - registeredByIntegration: The integration key that opened it ('' for anyone else).
    static func insert(_ tx: any SQLExecutor, _ ticket: IntakeV1.Ticket, submissionHash: String,
                       attachmentBytes: Int64 = 0, contactLinked: Bool = false, registeredByIntegration: String) throws {
        let insert = insertStatement(ticket, submissionHash: submissionHash, attachmentBytes: attachmentBytes,
                                     registeredByIntegration: registeredByIntegration)
        try tx.execute(insert.sql, insert.values)
        if !contactLinked { try markLinked(tx, contactID: ticket.contact?.id ?? "") }
    }

    /// The `INSERT` of a new ticket's row, for ``insert(_:_:submissionHash:attachmentBytes:contactLinked:registeredByIntegration:)``
    /// or a larger statement (on PostgreSQL an open sends it with its outbox rows in one `WITH`).
    static func insertStatement(_ ticket: IntakeV1.Ticket, submissionHash: String, attachmentBytes: Int64,
                                registeredByIntegration: String) -> (sql: String, values: [SQLValue]) {
        (singleInsertSQL, insertValues(ticket, submissionHash: submissionHash, attachmentBytes: attachmentBytes,
                                       snapshot: snapshot(ticket), registeredByIntegration: registeredByIntegration))
    }

    private static let singleInsertSQL = insertSQL(rows: 1)

    /// One multi-row `INSERT` of several new tickets' rows, each given by ``insertValues(_:submissionHash:attachmentBytes:snapshot:registeredByIntegration:)``.
    static func insertStatement(rows: [[SQLValue]]) -> (sql: String, values: [SQLValue]) {
        var values: [SQLValue] = []
        values.reserveCapacity(rows.count * insertColumnCount)
        for row in rows { values += row }
        return (insertSQL(rows: rows.count), values)
    }

    /// The values of a new ticket's row, in the order of ``insertSQL(rows:)``'s columns, with the
    /// ticket's snapshot already encoded (``snapshot(_:)``, or ``OpenEncoding``) and the
    /// integration key that opened it ('' when it was not one).
    static func insertValues(_ ticket: IntakeV1.Ticket, submissionHash: String, attachmentBytes: Int64, snapshot: [UInt8],
                             registeredByIntegration: String) -> [SQLValue] {
        [.text(ticket.id), .text(ticket.code), .text((ticket.organization?.id ?? "")), .text(ticket.contact?.id ?? ""),
                .text(ticket.representative?.id ?? ""), .text(ticket.registeredByAgent?.id ?? ""), .text(ticket.status),
                .integer(ticket.openedAtMs), .text(submissionHash),
                ticket.emailMessageID.isEmpty ? .null : .text(ticket.emailMessageID), .integer(attachmentBytes),
                .blob(snapshot), .text(registeredByIntegration)]
    }

    /// The integration key recorded as having opened `ticketID` (migration 27), '' when none did.
    static func registeredByIntegration(_ tx: any SQLExecutor, ticketID: String) throws -> String {
        try tx.queryOne("SELECT registered_by_integration FROM tickets WHERE id = ?", [.text(ticketID)])?.text("registered_by_integration") ?? ""
    }

    /// What a ticket row keeps of `ticket`: the message without its attachments and messages
    /// (nor the paging of a page of them), encoded.
    static func snapshot(_ ticket: IntakeV1.Ticket) -> [UInt8] {
        var snapshot = ticket
        snapshot.attachments = []
        snapshot.messages = []
        snapshot.olderMessages = 0
        snapshot.messagesBefore = ""
        return snapshot.serializedBytes()
    }

    private static let insertColumnCount = 13

    private static func insertSQL(rows: Int) -> String {
        let row = "(" + Array(repeating: "?", count: insertColumnCount).joined(separator: ", ") + ")"
        return """
            INSERT INTO tickets (id, code, organization_id, contact_id, representative_id, registered_by, status, opened_at,
                                 submission_hash, email_message_id, attachment_bytes, snapshot, registered_by_integration)
            VALUES \(Array(repeating: row, count: rows).joined(separator: ", "))
            """
    }

    /// Marks the contact as linked to a ticket (it can then only be deactivated, not deleted).
    static func markLinked(_ tx: any SQLExecutor, contactID: String) throws {
        try tx.execute("UPDATE contacts SET linked = 1 WHERE id = ? AND linked = 0", [.text(contactID)])
    }

    /// Rewrites a ticket's status, contact and snapshot after a change.
    static func save(_ tx: any SQLExecutor, _ ticket: IntakeV1.Ticket) throws {
        try tx.execute("UPDATE tickets SET status = ?, contact_id = ?, representative_id = ?, snapshot = ? WHERE id = ?",
                       [.text(ticket.status), .text(ticket.contact?.id ?? ""), .text(ticket.representative?.id ?? ""),
                        .blob(snapshot(ticket)), .text(ticket.id)])
        try tx.execute("UPDATE contacts SET linked = 1 WHERE id = ? AND linked = 0", [.text(ticket.contact?.id ?? "")])
    }

    /// The next place in `ticketID`'s messages (1 for its first), taken under the ticket row's
    /// lock: on PostgreSQL another process's reply to the same ticket waits here until this
    /// transaction ends, so places follow commit order (SQLite has one writer). One statement.
    /// - Throws: `NOT_FOUND` when there is no such ticket row.
    static func nextMessageSequence(_ tx: any SQLExecutor, ticketID: String) throws -> Int64 {
        guard let row = try tx.queryOne("UPDATE tickets SET last_message_seq = last_message_seq + 1 WHERE id = ? RETURNING last_message_seq",
                                        [.text(ticketID)]) else {
            throw IntakeContext.ticketNotFound
        }
        return try row.int("last_message_seq")
    }

    /// Inserts a message at `sequence`, its place among the ticket's (``nextMessageSequence(_:ticketID:)``).
    static func insert(_ tx: any SQLExecutor, message: IntakeV1.TicketMessage, ticketID: String, sequence: Int64, emailMessageID: String) throws {
        var snapshot = message
        snapshot.attachments = []
        try tx.execute("""
            INSERT INTO ticket_messages (id, ticket_id, created_at, email_message_id, snapshot, seq) VALUES (?, ?, ?, ?, ?, ?)
            """, [.text(message.id), .text(ticketID), .integer(message.createdAtMs),
                  emailMessageID.isEmpty ? .null : .text(emailMessageID), .blob(snapshot.serializedBytes()), .integer(sequence)])
    }

    /// The message that came from the e-mail with this Message-ID, if any, with its files (as
    /// `GetTicket` lists them on it).
    static func message(_ tx: any SQLExecutor, emailMessageID: String) throws -> IntakeV1.TicketMessage? {
        guard let row = try tx.queryOne("SELECT ticket_id, snapshot FROM ticket_messages WHERE email_message_id = ?",
                                        [.text(emailMessageID)]) else { return nil }
        var message = try IntakeV1.TicketMessage(serializedBytes: try row.blob("snapshot"))
        message.attachments = try tx.query("""
            SELECT id, sha256, file_name, content_type, size_bytes FROM attachments
            WHERE ticket_id = ? AND message_id = ? AND internal = 0 ORDER BY \(attachmentOrder)
            """, [.text(try row.text("ticket_id")), .text(message.id)]).map(IntakeContext.attachmentRef)
        return message
    }
}

extension IntakeContext {
    /// A person as other services see the caller.
    func person(of caller: Caller) -> CommonV1.PersonRef {
        var person = CommonV1.PersonRef()
        person.id = caller.id
        person.name = caller.principal.displayName
        person.email = caller.principal.email
        return person
    }

    static func person(_ contact: IntakeV1.Contact) -> CommonV1.PersonRef {
        var person = CommonV1.PersonRef()
        person.id = contact.id
        person.name = contact.name
        person.email = contact.email
        person.phone = contact.phone
        return person
    }

    static func person(_ representative: IntakeV1.Representative) -> CommonV1.PersonRef {
        var person = CommonV1.PersonRef()
        person.id = representative.id
        person.name = representative.name
        person.email = representative.email
        person.phone = representative.phone
        return person
    }

    static func reference(_ organization: IntakeV1.Organization) -> CommonV1.OrganizationRef {
        var ref = CommonV1.OrganizationRef()
        ref.id = organization.id
        ref.name = organization.name
        ref.email = organization.email
        ref.plan = organization.plan
        ref.accountOwnerAgentID = organization.accountOwnerAgentID
        return ref
    }
}
