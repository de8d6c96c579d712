import Foundation
import Messages
import RPC
import RPCTransport
import Observability
import ServiceKit
import Storage

/// What became of one received e-mail.
public enum MailOutcome: Sendable, Equatable {
    /// A new ticket was opened.
    case opened(ticketID: String, code: String)
    /// The same Message-ID was taken in before; nothing new was stored.
    case duplicate(ticketID: String, code: String)
    /// The message was added to a ticket as a customer reply.
    case replied(ticketID: String, code: String, messageID: String)
    /// Refused, with the reason in pt-BR and English (unknown sender, foreign sender, ...).
    case rejected(reason: String)
    /// Kept for an agent to decide, not answered: the sender is an authorized contact of
    /// several organizations, so which one the ticket belongs to is not known.
    case held(reason: String)
}

/// How e-mails become tickets and replies.
public struct MailIngestSettings: Sendable {
    /// Category of tickets opened by e-mail (the customer does not declare one).
    public var category: CommonV1.Category = .problema
    /// Product recorded on tickets opened by e-mail until triage sets the real one.
    public var product = "email"

    public init() {}

    /// `INTAKE_EMAIL_PRODUCT` (default `email`).
    public init(environment: [String: String]) {
        if let product = environment["INTAKE_EMAIL_PRODUCT"], !product.isEmpty { self.product = product }
    }
}

extension IntakeContext {
    /// Takes in one e-mail.
    ///
    /// - A reply is recognized by a verified ``ReplyToken`` in a recipient address, In-Reply-To
    ///   or References, or failing that by In-Reply-To/References naming the Message-ID of the
    ///   e-mail that opened a ticket or of a reply already taken in. A ticket number quoted in the
    ///   subject is never trusted. The sender must be an active contact of that ticket's
    ///   organization; otherwise the message is rejected (it is never appended to a foreign ticket).
    /// - Anything else opens a ticket, if the sender is an active, authorized contact of an active
    ///   organization; an unknown sender is rejected.
    /// - The same message (same Message-ID and content fingerprint, ``mailKey(_:_:)``) never
    ///   creates two tickets or two replies; a different one reusing a Message-ID is new.
    /// - A new message from an authorized contact of several active organizations is `held`,
    ///   unless `organizationID` (an agent's choice when reprocessing) names one of them.
    /// - `ticketID` (an agent's choice when reprocessing mail that lost its threading) makes it a
    ///   reply on that ticket, with the same sender check.
    public func ingest(_ mail: MailMessage, tokens: ReplyToken, settings mailSettings: MailIngestSettings = MailIngestSettings(),
                       organizationID: String = "", ticketID: String = "") throws -> MailOutcome {
        guard !mail.fromAddress.isEmpty else {
            return .rejected(reason: "mensagem sem remetente / message without a sender")
        }
        let contacts = try database.read { try DirectoryStore.contacts($0, email: mail.fromAddress) }.filter(\.active)
        guard !contacts.isEmpty else {
            return .rejected(reason: "remetente desconhecido: \(mail.fromAddress) não é contato de nenhum cliente / unknown sender: \(mail.fromAddress) is no customer's contact")
        }

        // Seen before? Only the same Message-ID with the same content is (a redelivery); a
        // different message under a taken id goes on under a key of its own (``mailKey(_:_:)``).
        let key: String
        switch try database.read({ tx in try Self.mailKey(tx, mail) }) {
        case .seen(let id, let code): return .duplicate(ticketID: id, code: code)
        case .new(let fresh): key = fresh
        }
        if key != mail.messageID {
            Self.mailLog.notice("different e-mail under a Message-ID already taken; taken in as a new message",
                                ["mail.message_id": mail.messageID, "mail.key": key, "mail.from": mail.fromAddress])
        }

        // A reply?
        let namedTicket = ticketID.isEmpty ? nil : try database.read { try TicketStore.ticket($0, reference: ticketID) }
        if let ticket = try namedTicket ?? threadedTicket(mail, tokens: tokens) {
            guard let author = contacts.first(where: { $0.organizationID == ticket.organization?.id }) else {
                return .rejected(reason: "remetente \(mail.fromAddress) não pertence à organização da ocorrência \(ticket.code) / sender \(mail.fromAddress) does not belong to the organization of ticket \(ticket.code)")
            }
            let caller = Self.mailCaller(author, mail: mail)
            var reply = IntakeV1.ReplyRequest()
            reply.ticket = ticket.id
            // Cut to what a reply may hold, as a new ticket's text is: a long log pasted in, or a
            // thread whose quote no marker found, is still the customer's answer, not a refusal.
            reply.text = String(Self.withoutQuotedText(mail.text).prefix(Self.maxMailText))
            reply.channel = BuiltInEntries.emailChannel
            reply.emailMessageID = key
            do {
                (reply.files, reply.attachmentIDs) = try attachments(of: mail, caller: caller)
                let response = try self.reply(reply, caller: caller)
                try recordFingerprint(mail, table: "ticket_messages", key: key)
                return .replied(ticketID: ticket.id, code: ticket.code, messageID: response.message?.id ?? "")
            } catch let error as RPCError where error.code == .failedPrecondition || error.code == .invalidArgument {
                return .rejected(reason: Self.reason(error))
            }
        }

        // A new ticket.
        let authorized = contacts.filter(\.authorized)
        guard var author = authorized.first else {
            return .rejected(reason: "remetente \(mail.fromAddress) não é contato autorizado a abrir ocorrências / sender \(mail.fromAddress) is not authorized to open tickets")
        }
        let organizations = Set(authorized.map(\.organizationID))
        if !organizationID.isEmpty {
            guard let chosen = authorized.first(where: { $0.organizationID == organizationID }) else {
                return .rejected(reason: "remetente \(mail.fromAddress) não é contato autorizado da organização escolhida / sender \(mail.fromAddress) is no authorized contact of the chosen organization")
            }
            author = chosen
        } else if organizations.count > 1 {
            let marks = Array(repeating: "?", count: organizations.count).joined(separator: ", ")
            let active = try database.read { tx in
                Set(try tx.query("SELECT id FROM organizations WHERE active = 1 AND id IN (\(marks))",
                                 organizations.map { .text($0) }).map { try $0.text("id") })
            }
            if active.count > 1 {
                return .held(reason: "remetente \(mail.fromAddress) é contato de \(active.count) organizações; um agente escolhe a organização / sender \(mail.fromAddress) is a contact of \(active.count) organizations; an agent chooses the organization")
            }
            author = authorized.first(where: { active.contains($0.organizationID) }) ?? author
        }
        let caller = Self.mailCaller(author, mail: mail)
        var request = IntakeV1.OpenTicketRequest()
        request.organizationID = author.organizationID
        request.contactID = author.id
        request.channel = BuiltInEntries.emailChannel
        request.origin = BuiltInEntries.customerOrigin
        request.category = mailSettings.category
        request.priority = .normal
        request.product = mailSettings.product
        request.subject = String((mail.subject.isEmpty ? "(sem assunto)" : mail.subject).prefix(200))
        request.request = mail.text.isEmpty ? "(mensagem sem texto / message without text)" : String(mail.text.prefix(Self.maxMailText))
        request.emailMessageID = key
        do {
            (request.files, request.attachmentIDs) = try attachments(of: mail, caller: caller)
            let response = try openTicket(request, caller: caller)
            guard let ticket = response.ticket else { throw RPCError(.internal, "no ticket") }
            if !response.duplicate { try recordFingerprint(mail, table: "tickets", key: key) }
            return response.duplicate ? .duplicate(ticketID: ticket.id, code: ticket.code) : .opened(ticketID: ticket.id, code: ticket.code)
        } catch let error as RPCError where [.failedPrecondition, .invalidArgument, .permissionDenied, .resourceExhausted].contains(error.code) {
            return .rejected(reason: Self.reason(error))
        }
    }

    /// Where intake's mail channel logs what an operator should know of (a reused Message-ID).
    static let mailLog = Logger(service: "intake")

    /// Whether an e-mail was taken in before, and if not the key it is stored under.
    enum MailKey: Equatable {
        /// The same message (same Message-ID, same content, or a row from before fingerprints).
        case seen(ticketID: String, code: String)
        /// New: stored under this `email_message_id`.
        case new(String)
    }

    /// ``MailKey`` of `mail`: a ticket or reply stored under its Message-ID whose fingerprint
    /// (``MailMessage/contentFingerprint``) matches, or is NULL (stored before fingerprints, or
    /// before ``recordFingerprint(_:table:key:)`` ran), makes it seen. Under a fingerprint that
    /// differs (a system reusing one Message-ID for different messages) it is keyed
    /// `<Message-ID>#sha256-<fingerprint>`, and seen when that key was taken. The unique
    /// constraints on `email_message_id` still make two concurrent deliveries of one message one.
    static func mailKey(_ tx: any SQLExecutor, _ mail: MailMessage) throws -> MailKey {
        func taken(_ key: String) throws -> Row? {
            try tx.queryOne("SELECT id, code, email_fingerprint FROM tickets WHERE email_message_id = ?", [.text(key)])
                ?? tx.queryOne("""
                    SELECT t.id, t.code, m.email_fingerprint FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id
                    WHERE m.email_message_id = ?
                    """, [.text(key)])
        }
        guard let row = try taken(mail.messageID) else { return .new(mail.messageID) }
        let stored = row.optionalText("email_fingerprint") ?? ""
        if stored.isEmpty || mail.contentFingerprint.isEmpty || stored == mail.contentFingerprint {
            return .seen(ticketID: try row.text("id"), code: try row.text("code"))
        }
        let own = "\(mail.messageID)#sha256-\(mail.contentFingerprint)"
        if let row = try taken(own) { return .seen(ticketID: try row.text("id"), code: try row.text("code")) }
        return .new(own)
    }

    /// Records the fingerprint of the e-mail just stored under `key` in `table` (`tickets` or
    /// `ticket_messages`). Its own short transaction after the open or reply: until it runs the
    /// row matches any content, as rows from before do (a redelivery is still one message).
    func recordFingerprint(_ mail: MailMessage, table: String, key: String) throws {
        guard !mail.contentFingerprint.isEmpty else { return }
        _ = try database.write { tx in
            try tx.execute("UPDATE \(table) SET email_fingerprint = ? WHERE email_message_id = ? AND email_fingerprint IS NULL",
                           [.text(mail.contentFingerprint), .text(key)])
        }
    }

    /// Characters of a mail's text kept on its ticket or reply (what `OpenTicket.request` and
    /// `Reply.text` may hold); the rest is cut.
    static let maxMailText = 100_000

    /// Why an open or reply was refused, with its field violations, for the sender's answer.
    static func reason(_ error: RPCError) -> String {
        let fields = error.violations.map { "\($0.field): \($0.descriptionPT) / \($0.descriptionEN)" }.joined(separator: "; ")
        return fields.isEmpty ? error.message : "\(error.message) (\(fields))"
    }

    /// The ticket an e-mail replies to, if any: by verified token first, then by Message-ID.
    func threadedTicket(_ mail: MailMessage, tokens: ReplyToken) throws -> IntakeV1.Ticket? {
        try database.read { tx in try Self.threadedTicket(tx, mail, tokens: tokens) }
    }

    /// ``threadedTicket(_:tokens:)`` in `tx`.
    static func threadedTicket(_ tx: any SQLExecutor, _ mail: MailMessage, tokens: ReplyToken) throws -> IntakeV1.Ticket? {
        if let id = tokens.ticketID(in: mail.threadingText), let ticket = try TicketStore.ticket(tx, reference: id) {
            return ticket
        }
        for referenced in mail.threadingMessageIDs {
            if let ticket = try TicketStore.ticket(tx, emailMessageID: referenced) { return ticket }
            if let id = try tx.queryOne("SELECT ticket_id FROM ticket_messages WHERE email_message_id = ?", [.text(referenced)])?.text("ticket_id"),
               let ticket = try TicketStore.ticket(tx, reference: id) {
                return ticket
            }
        }
        return nil
    }

    /// A message's attachments for its open or reply: all of them inside it
    /// (`OpenTicketRequest.files`, `ReplyRequest.files`: stored in that call's own transaction, so a
    /// refused or interrupted one leaves no upload behind) when they all fit its limits, else all
    /// uploaded first (their ids). All or none, so the ticket lists them in the message's order.
    func attachments(of mail: MailMessage, caller: Caller) throws -> (files: [IntakeV1.OpenTicketFile], uploadedIDs: [String]) {
        let limit = OpenTicketFiles.fileLimit(settings)
        let fit = !mail.attachments.isEmpty && mail.attachments.count <= settings.openFilesMaxCount
            && mail.attachments.allSatisfy { Int64($0.bytes.count) <= limit }
            && mail.attachments.reduce(Int64(0)) { $0 + Int64($1.bytes.count) } <= settings.openFilesMaxBytes
        guard fit else { return ([], try storeAttachments(mail, caller: caller)) }
        let files = mail.attachments.map { attachment in
            var file = IntakeV1.OpenTicketFile()
            file.fileName = attachment.fileName
            file.contentType = attachment.contentType
            file.data = attachment.bytes
            return file
        }
        return (files, [])
    }

    /// Stores the message's attachments as uploads of `caller`; their ids, in the message's
    /// order (the open or reply naming them puts them on the ticket in that order).
    func storeAttachments(_ mail: MailMessage, caller: Caller) throws -> [String] {
        try mail.attachments.map { attachment in
            var first = IntakeV1.UploadAttachmentRequest()
            first.fileName = attachment.fileName
            first.contentType = attachment.contentType
            first.sizeBytes = Int64(attachment.bytes.count)
            first.sha256 = Self.sha256Hex(attachment.bytes)
            first.data = attachment.bytes
            return try upload(first: first, next: { nil }, caller: caller).id
        }
    }

    /// The customer an e-mail acts as, once its sender is matched to a contact.
    static func mailCaller(_ contact: IntakeV1.Contact, mail: MailMessage) -> Caller {
        var principal = AuthV1.Principal()
        principal.kind = .customer
        principal.id = contact.id
        principal.displayName = contact.name.isEmpty ? mail.fromName : contact.name
        principal.email = mail.fromAddress
        principal.organizationID = contact.organizationID
        return Caller(principal)
    }

    /// The reply without the quoted previous message: lines starting with `>` and everything
    /// from the first marker of a quoted message on:
    /// - an attribution "On ... wrote:" / "Em ... escreveu:" (Gmail, Apple Mail, Thunderbird),
    ///   also when the client wrapped it over two lines (Gmail does past ~76 characters); it
    ///   holds a date, so a customer's own sentence without a digit ("Em relação ao que o
    ///   analista escreveu:") is not taken for one;
    /// - Outlook's "-----Original Message-----" / "-----Mensagem original-----", also as mobile
    ///   clients write it ("-------- Mensagem original --------");
    /// - Outlook's header block "From:" / "De:" followed by "Sent:" / "Enviado:" / "Date:" /
    ///   "Data:" (with or without the `____` line above it, in English or Portuguese).
    /// When nothing is left (a reply typed below the quote), the whole text is kept. Lines end
    /// in LF or CRLF (mail bodies come with either).
    static func withoutQuotedText(_ text: String) -> String {
        // "\r\n" is one Character: split on it too, or a CRLF body is one long line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        func lower(_ index: Int) -> String {
            index < lines.count ? lines[index].trimmingCharacters(in: .whitespaces).lowercased() : ""
        }
        func isAttributionEnd(_ line: String) -> Bool { line.hasSuffix("wrote:") || line.hasSuffix("escreveu:") }
        func startsAttribution(_ line: String) -> Bool { line.hasPrefix("on ") || line.hasPrefix("em ") }
        func hasDigit(_ text: String) -> Bool { text.contains(where: \.isNumber) }
        func isOriginalMarker(_ line: String) -> Bool {
            guard line.hasPrefix("-") else { return false }
            if line.hasPrefix("-----original message-----") || line.hasPrefix("-----mensagem original-----") { return true }
            return ["original message", "mensagem original"].contains(line.trimmingCharacters(in: CharacterSet(charactersIn: "- ")))
        }
        var kept: [Substring] = []
        for index in lines.indices {
            let line = lower(index)
            if line.hasPrefix(">") { continue }
            if startsAttribution(line) {
                if isAttributionEnd(line) && hasDigit(line) { break }
                let next = lower(index + 1)
                if !next.hasPrefix(">") && isAttributionEnd(next) && hasDigit(line + next) { break }
            }
            if isOriginalMarker(line) { break }
            if line.hasPrefix("from:") || line.hasPrefix("de:") {
                let next = lower(index + 1)
                if ["sent:", "enviado:", "enviada:", "date:", "data:"].contains(where: { next.hasPrefix($0) }) { break }
            }
            kept.append(lines[index])
        }
        while let last = kept.last, last.trimmingCharacters(in: .whitespaces).isEmpty || last.trimmingCharacters(in: .whitespaces).hasPrefix("___") {
            kept.removeLast()
        }
        let result = kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return result.isEmpty ? text.trimmingCharacters(in: .whitespacesAndNewlines) : result
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        Digest.hex(Digest.sha256(bytes))
    }
}
