import Foundation
import Messages
import RPC
import RPCTransport
import Storage

/// Opening a ticket: validation, permissions, the readable code, duplicates and the event.
extension IntakeContext {
    /// Opens a ticket for `caller`.
    ///
    /// Everything happens in one transaction: validation against the directory and the catalog,
    /// the code (`YYYY-NNNNNN` from a counter row locked until commit), the ticket row, the
    /// attachments it takes over and the `TicketOpened` outbox rows. A rejected request stores
    /// nothing.
    ///
    /// - Parameters:
    ///   - idempotencyKey: A retry with the same key returns the same ticket (a unique
    ///     constraint on the key, in the same transaction).
    /// - Throws: `INVALID_ARGUMENT` naming every bad field; `PERMISSION_DENIED`;
    ///   `FAILED_PRECONDITION` for an inactive organization or a supplier when that is forbidden.
    public func openTicket(_ submitted: IntakeV1.OpenTicketRequest, caller: Caller,
                           idempotencyKey: String? = nil) throws -> IntakeV1.OpenTicketResponse {
        let (request, reads, body) = try openingBody(submitted, caller: caller, idempotencyKey: idempotencyKey)
        do {
            if let openCommits { return try openCommits.run(body, reads: reads) }
            return try database.write { try body($0) }
        } catch {
            return try recover(error, request: request)
        }
    }

    /// Whether ``openTicket(_:caller:idempotencyKey:isCancelled:completion:)`` can be used: opens
    /// go through the group commit's writer thread, so nothing blocks the caller.
    public var opensWithoutBlocking: Bool { openCommits != nil }

    /// ``openTicket(_:caller:idempotencyKey:)`` without blocking the calling thread: the open is
    /// queued to the group commit's writer and `completion` runs there once its batch committed
    /// (or failed), exactly once. Requires ``opensWithoutBlocking``.
    /// - Parameter isCancelled: Checked when the batch starts: an open whose caller has given up
    ///   by then is not run (`DEADLINE_EXCEEDED`).
    public func openTicket(_ submitted: IntakeV1.OpenTicketRequest, caller: Caller, idempotencyKey: String?,
                           isCancelled: (@Sendable () -> Bool)? = nil,
                           completion: @escaping @Sendable (Result<IntakeV1.OpenTicketResponse, any Error>) -> Void) {
        guard let openCommits else {
            completion(Result { try openTicket(submitted, caller: caller, idempotencyKey: idempotencyKey) })
            return
        }
        let request: IntakeV1.OpenTicketRequest
        let reads: [OpenBatch.Read]
        let body: @Sendable (any SQLExecutor) throws -> IntakeV1.OpenTicketResponse
        do { (request, reads, body) = try openingBody(submitted, caller: caller, idempotencyKey: idempotencyKey) } catch {
            completion(.failure(error))
            return
        }
        openCommits.submit(body, reads: reads, isCancelled: isCancelled) { [self] result in
            switch result {
            case .success: completion(result)
            case .failure(let error): completion(Result { try recover(error, request: request) })
            }
        }
    }

    /// The queries an open of `request` runs first, which a PostgreSQL batch sends for all its
    /// opens in one round trip (``OpenBatch``): the organization and contact (the contact
    /// locked), the double-submission check, and this year's code counter (locked; the batch then
    /// numbers its opens itself, ``OpenBatch/nextNumber(_:)``).
    private func openingReads(_ request: IntakeV1.OpenTicketRequest, caller: Caller, submittedAt: Int64,
                              submissionHash: String) -> [OpenBatch.Read] {
        guard request.emailMessageID.isEmpty else { return [] }
        let contactID = Self.openingContactID(request, caller: caller)
        let window = settings.duplicateWindowMilliseconds
        // Without a double-submission window the contact is not locked and each open reads it itself.
        guard window > 0, !request.organizationID.isEmpty, !contactID.isEmpty else { return [] }
        var reads: [OpenBatch.Read] = [.opening(organizationID: request.organizationID, contactID: contactID)]
        // (SQLite answers the check from memory, RecentSubmissions.)
        if request.attachmentIDs.isEmpty && request.files.isEmpty && recentSubmissions == nil {
            reads.append(.duplicate(contactID: contactID, submissionHash: submissionHash, since: submittedAt - window))
        }
        // PostgreSQL: the uploads it names, read (and locked) with the batch, not one round trip each.
        if database.engine == .postgres && !request.attachmentIDs.isEmpty {
            reads.append(.pendingAttachments(ids: request.attachmentIDs, uploaderID: caller.id))
        }
        if database.engine == .postgres { reads.append(.counter("ticket-\(settings.ticketCodeTimeZone.year(ofMilliseconds: submittedAt))")) }
        return reads
    }

    /// The double-submission check: the first ticket of the same contact with the same subject
    /// and text since `since`, not cancelled.
    static let duplicateSQL = """
        SELECT id FROM tickets WHERE contact_id = ? AND submission_hash = ? AND opened_at >= ? AND \(TicketStore.firstOfDuplicates)
        ORDER BY opened_at LIMIT 1
        """

    static func duplicateParameters(contactID: String, submissionHash: String, since: Int64) -> [SQLValue] {
        [.text(contactID), .text(submissionHash), .integer(since)]
    }

    /// What identifies a submission for the double-submission check: the subject as stored
    /// (trimmed: "Erro " again is the same subject) and the text.
    static func submissionHash(_ request: IntakeV1.OpenTicketRequest) -> String {
        // SHA-256 of subject, NUL, text: hashed in place, without joining them into a new string.
        var stream = Digest.SHA256Stream()
        for (index, part) in [trimmed(request.subject), request.request].enumerated() {
            if index > 0 { withUnsafeBytes(of: UInt8(0)) { stream.update($0) } }
            var text = part
            text.withUTF8 { stream.update(UnsafeRawBufferPointer($0)) }
        }
        return Digest.hex(stream.finish())
    }

    /// The contact a ticket of `request` is for: the one named, or a customer's own.
    static func openingContactID(_ request: IntakeV1.OpenTicketRequest, caller: Caller) -> String {
        request.contactID.isEmpty && caller.isCustomer && !caller.isRepresentative ? caller.id : request.contactID
    }

    /// The request as the caller may send it (organization and representative filled in or
    /// refused) and the transaction body that opens it.
    private func openingBody(_ submitted: IntakeV1.OpenTicketRequest, caller: Caller, idempotencyKey: String?) throws
        -> (IntakeV1.OpenTicketRequest, [OpenBatch.Read], @Sendable (any SQLExecutor) throws -> IntakeV1.OpenTicketResponse) {
        var adjusted = submitted
        if caller.isRepresentative {
            // A representative's person opens for one of the represented organizations (named in
            // the request, checked again in the directory) and is the ticket's representative.
            if !adjusted.organizationID.isEmpty && !caller.canSee(organizationID: adjusted.organizationID) { throw Denied.otherOrganization }
            adjusted.representativeID = caller.principal.representativeID
        } else {
            if caller.isCustomer && adjusted.organizationID.isEmpty { adjusted.organizationID = caller.principal.organizationID }
            if caller.isCustomer && caller.principal.organizationID != adjusted.organizationID && !adjusted.organizationID.isEmpty {
                throw Denied.otherOrganization
            }
        }
        // Product and module without surrounding white space, as the subject is stored: custom
        // fields (and routing) match the product, and " ERP" must not escape "ERP"'s required fields.
        adjusted.product = Self.trimmed(adjusted.product)
        adjusted.module = Self.trimmed(adjusted.module)
        let request = adjusted
        // Lists too long to name each offending entry are refused before the transaction (and
        // before a PostgreSQL batch would read the uploads ahead), with what the request alone
        // says is wrong.
        var oversized = Violations()
        let manyFields = CustomFieldValidation.tooMany(request.customFields, &oversized)
        let manyUploads = Self.tooManyUploads(request.attachmentIDs, field: "attachment_ids", &oversized)
        if manyFields || manyUploads {
            for violation in Self.whatViolations(request, caller: caller) { oversized.add(violation) }
            try oversized.check("ocorrência inválida / invalid ticket")
        }
        // The double-submission window starts from when the open was submitted, so the check a
        // PostgreSQL batch reads ahead (``openingReads``) is the very statement the open runs.
        let submittedAt = Self.now()
        let hash = Self.submissionHash(request)
        // Work that needs no database, done here (on the RPC event loop for the OpenTicket
        // handler) rather than on the group commit's writer thread, which every open waits for:
        // the new ids (time-ordered; unused if the open turns out a double submission or fails)
        // and the trimmed subject.
        // The files carried in the request are checked and hashed here too.
        let ticketID = Self.newID(), eventID = Self.newID()
        let base = baseTicket(request, caller: caller, id: ticketID)
        // In a group-commit batch whose rows are deferred (no Message-ID), the snapshot and the
        // event are encoded here as far as they do not depend on the database, and the writer
        // only completes them (OpenEncoding).
        let encoding = openCommits != nil && request.emailMessageID.isEmpty
            ? OpenEncoding(base, eventID: eventID, publisher: publisher) : nil
        let prepared = Prepared(ticketID: ticketID, eventID: eventID, base: base,
                                files: OpenTicketFiles(request.files, settings: settings), encoding: encoding,
                                whatViolations: Self.whatViolations(request, caller: caller))
        // An idempotency key's request fingerprint is the whole request as received, files and
        // their bytes included: the same key with another file is another request. Uploaded
        // files count by what they are, not by their ids (``idempotencyFingerprint``, read in the
        // open's transaction): a form retried with the same key uploads them again under new ids.
        let body: @Sendable (any SQLExecutor) throws -> IntakeV1.OpenTicketResponse = { [self] tx in
            if let key = idempotencyKey, !key.isEmpty {
                guard key.utf8.count <= 200 else {
                    throw RPCError(.invalidArgument, "chave de idempotência longa demais / idempotency key too long")
                }
                let fingerprint = try idempotencyFingerprint(tx, request, ids: request.attachmentIDs) { $0.attachmentIDs = $1 }
                let result = try IdempotencyStore.run(tx, scope: "intake.OpenTicket|\(caller.id)", key: key,
                                                      requestFingerprint: fingerprint) {
                    try open(tx, request, caller: caller, submittedAt: submittedAt, hash: hash, prepared: prepared).serializedBytes()
                }
                return try IntakeV1.OpenTicketResponse(serializedBytes: result.response)
            }
            return try open(tx, request, caller: caller, submittedAt: submittedAt, hash: hash, prepared: prepared)
        }
        return (request, openingReads(request, caller: caller, submittedAt: submittedAt, submissionHash: hash), body)
    }

    /// What a failed open answers: the errors callers understand, or the ticket of an e-mail
    /// delivered twice at once (the other delivery committed first).
    private func recover(_ error: any Error, request: IntakeV1.OpenTicketRequest) throws -> IntakeV1.OpenTicketResponse {
        if let error = error as? StorageError, error.kind == .idempotencyMismatch {
            throw RPCError(.failedPrecondition,
                           "chave de idempotência já usada com outro pedido / idempotency key reused with a different request")
        }
        if let storage = error as? StorageError, storage.kind == .uniqueViolation, !request.emailMessageID.isEmpty {
            if let existing = try database.read({ tx in try TicketStore.ticket(tx, emailMessageID: request.emailMessageID).map { try TicketStore.complete(tx, $0, page: newestPage) } }) {
                var response = IntakeV1.OpenTicketResponse()
                response.ticket = existing
                response.duplicate = true
                return response
            }
        }
        throw error
    }

    /// What an open prepares before its transaction (``openingBody``).
    struct Prepared: Sendable {
        var ticketID: String
        var eventID: String
        /// The new ticket's fields that do not depend on the database (``baseTicket(_:caller:id:)``).
        var base: IntakeV1.Ticket
        /// `request.files`, checked and hashed.
        var files: OpenTicketFiles
        /// The snapshot's and the event's encoding as far as it does not depend on the database
        /// (only for opens whose rows a group-commit batch writes).
        var encoding: OpenEncoding?
        /// ``whatViolations(_:caller:)``.
        var whatViolations: [FieldViolation]
    }

    /// A new ticket of `request` with the fields that do not depend on the database: its id, who
    /// registered it, the channel, the origin's key (the one the catalog is asked for), category,
    /// priority, product, module, the trimmed subject, the request, the details, the status and
    /// the e-mail Message-ID. ``open(_:_:caller:submittedAt:hash:prepared:)`` adds the rest.
    private func baseTicket(_ request: IntakeV1.OpenTicketRequest, caller: Caller, id: String) -> IntakeV1.Ticket {
        var ticket = IntakeV1.Ticket()
        ticket.id = id
        if caller.isAgent { ticket.registeredByAgent = person(of: caller) }
        ticket.channel = Self.openingChannel(request, caller: caller)
        // The representative named is the ticket's when the open succeeds (it is checked then).
        ticket.origin = Self.openingOriginKey(request, hasRepresentative: !request.representativeID.isEmpty)
        ticket.category = request.category
        ticket.priority = request.priority == .unspecified ? CommonV1.Priority.normal : request.priority
        ticket.product = request.product
        ticket.module = request.module
        ticket.subject = Self.trimmed(request.subject)
        ticket.request = request.request
        ticket.details = request.details
        ticket.status = TicketStore.open
        ticket.emailMessageID = request.emailMessageID
        return ticket
    }

    /// `text` without surrounding white space and newlines, as `trimmingCharacters(in:
    /// .whitespacesAndNewlines)` gives it, without Foundation's walk when its first and last
    /// characters are printable ASCII other than the space (the usual case: nothing to trim).
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        if let first = utf8.first, let last = utf8.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) { return text }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The violations of `request` that depend on nothing but the request and the caller (the
    /// category, product, module, subject, request and details), in the order ``open(_:_:caller:submittedAt:hash:prepared:)``
    /// reports them; found before the transaction.
    static func whatViolations(_ request: IntakeV1.OpenTicketRequest, caller: Caller) -> [FieldViolation] {
        var found = Violations()
        switch request.category {
        case .unspecified:
            found.add("category", "required", pt: "Escolha a categoria.", en: "Choose the category.")
        case .estrategica where !caller.isInternalStaff:
            found.add("category", "internal_only", pt: "A categoria Estratégica é exclusiva da equipe interna.",
                      en: "The Estratégica category is for internal staff only.")
        default: break
        }
        found.required("product", request.product)
        found.maxLength("product", request.product, 100)
        found.maxLength("module", request.module, 100)
        found.required("subject", request.subject)
        found.maxLength("subject", request.subject, 200)
        found.required("request", request.request)
        found.maxLength("request", request.request, 100_000)
        if let details = request.details {
            // (The field's name is made only for a text over the limit in bytes.)
            for (name, value) in Self.detailFields(details) where value.utf8.count > 2_000 { found.maxLength("details.\(name)", value, 2_000) }
        }
        return found.items
    }

    /// Whether `request` is an e-mail intake took in (the e-mail channel in process, or a
    /// service): mail has no way to carry custom fields, so their being required is waived. A
    /// customer or agent naming the e-mail channel (and a Message-ID) over RPC is not mail taken
    /// in: before 2026-12-02 that skipped every required field.
    static func isMailTakenIn(_ request: IntakeV1.OpenTicketRequest, channel: String, caller: Caller) -> Bool {
        channel == BuiltInEntries.emailChannel && !request.emailMessageID.isEmpty && (caller.isInProcess || caller.isService)
    }

    /// The channel key of a ticket of `request`: the one named, or the caller's usual one.
    static func openingChannel(_ request: IntakeV1.OpenTicketRequest, caller: Caller) -> String {
        request.channel.isEmpty ? BuiltInEntries.defaultChannel(for: caller, opening: true) : request.channel.lowercased()
    }

    /// The origin key of a ticket of `request`: the one named, or by who opens it.
    static func openingOriginKey(_ request: IntakeV1.OpenTicketRequest, hasRepresentative: Bool) -> String {
        request.origin.isEmpty ? (hasRepresentative ? BuiltInEntries.representativeOrigin : BuiltInEntries.customerOrigin) : request.origin.lowercased()
    }

    private func open(_ tx: any SQLExecutor, _ request: IntakeV1.OpenTicketRequest, caller: Caller,
                      submittedAt: Int64, hash: String, prepared: Prepared) throws -> IntakeV1.OpenTicketResponse {
        if !request.emailMessageID.isEmpty, let existing = try TicketStore.ticket(tx, emailMessageID: request.emailMessageID) {
            guard caller.canSee(organizationID: existing.organization?.id ?? "") else { throw Denied.otherOrganization }
            var response = IntakeV1.OpenTicketResponse()
            response.ticket = try TicketStore.complete(tx, existing, page: newestPage)
            response.duplicate = true
            return response
        }
        var violations = Violations()
        violations.required("organization_id", request.organizationID)

        // Who: organization, contact, representative. The organization and the ticket's contact
        // come in one statement; on PostgreSQL the contact row is locked there, so two identical
        // submissions at once are serialized for the double-submission check below.
        let contactID = Self.openingContactID(request, caller: caller)
        let read = try DirectoryStore.forOpening(tx, organizationID: request.organizationID, contactID: contactID,
                                                 lockContact: tx.engine == .postgres && settings.duplicateWindowMilliseconds > 0,
                                                 lockOrganization: tx.engine == .postgres,
                                                 readAhead: (tx as? OpenBatch)?.takeOpening(organizationID: request.organizationID, contactID: contactID))
        let organization = read.organization
        if !request.organizationID.isEmpty && organization == nil { violations.notFound("organization_id") }
        if caller.isRepresentative {
            // The person and the representative active, and it represents the organization.
            if !request.organizationID.isEmpty, try !representativeActs(tx, caller, organizationID: request.organizationID) {
                throw Denied.otherOrganization
            }
        } else if caller.isCustomer {
            // A customer acts only as an active, authorized contact of their own organization.
            let me = contactID == caller.id ? read.contact : try DirectoryStore.contact(tx, id: caller.id)
            guard let me, me.organizationID == request.organizationID, me.active, me.authorized else { throw Denied.notAuthorized }
            // For a colleague only as the company's administrator (the signed role and the
            // contact's `admin` flag).
            if contactID != caller.id && !CompanyAdministrator.acts(caller, me: me, organizationID: request.organizationID) {
                throw RPCError(.permissionDenied, "apenas o administrador da empresa abre em nome de outro contato / only the company's administrator opens for another contact")
            }
        } else if !caller.isStaffOrSystem {
            throw RPCError(.permissionDenied, "sem permissão para abrir ocorrências / not allowed to open tickets")
        }
        violations.required("contact_id", contactID)
        let contact = read.contact
        if !contactID.isEmpty {
            if let found = contact, organization != nil {
                if let refused = TicketContactRule.violation(found, organizationID: request.organizationID) { violations.add(refused) }
            } else if contact == nil {
                violations.notFound("contact_id")
            }
        }
        var representative: IntakeV1.Representative?
        if let refused = OpeningSources.representativeViolation(request, caller: caller) {
            violations.add(refused)
        } else if !request.representativeID.isEmpty {
            representative = try DirectoryStore.representative(tx, id: request.representativeID)
            if let found = representative {
                if !found.active {
                    violations.add("representative_id", "inactive", pt: "Representante desativado.", en: "Inactive representative.")
                } else if !found.organizationIDs.contains(request.organizationID) {
                    violations.add("representative_id", "not_representing", pt: "O representante não atende esta organização.",
                                   en: "The representative does not act for this organization.")
                }
            } else {
                violations.notFound("representative_id")
            }
        }

        // How: channel and origin from the configurable lists.
        let channel = prepared.base.channel
        let originKey = Self.openingOriginKey(request, hasRepresentative: representative != nil)
        let catalog = try catalogCache.forOpening(tx, version: read.catalogVersion, channel: channel, origin: originKey)
        if catalog.channel == nil {
            violations.add("channel", "unknown_channel", pt: "Canal não cadastrado ou inativo.", en: "Unknown or inactive channel.")
        } else if let refused = OpeningSources.channelViolation(channel, request: request, caller: caller) {
            violations.add(refused)
        }
        let origin = catalog.origin
        if origin == nil {
            violations.add("origin", "unknown_origin", pt: "Origem não cadastrada ou inativa.", en: "Unknown or inactive origin.")
        } else if let refused = OpeningSources.originViolation(originKey, caller: caller) {
            violations.add(refused)
        } else if origin?.originKind == .internal && !caller.isInternalStaff {
            violations.add("origin", "internal_only", pt: "Origem interna só para a equipe.", en: "Internal origin is for staff only.")
        }

        // What (checked before the transaction: ``whatViolations(_:caller:)``).
        for violation in prepared.whatViolations { violations.add(violation) }
        let customFields = CustomFieldValidation.validate(request.customFields, fields: catalog.fields,
                                                          product: request.product, category: request.category,
                                                          requireFields: !Self.isMailTakenIn(request, channel: channel, caller: caller),
                                                          violations: &violations)
        if !request.emailMessageID.isEmpty && !caller.isStaffOrSystem && channel != BuiltInEntries.emailChannel {
            violations.add("email_message_id", "email_channel_only", pt: "Só para o canal e-mail.", en: "E-mail channel only.")
        }
        let files = prepared.files
        let uploaded = try pendingAttachments(tx, ids: request.attachmentIDs, field: "attachment_ids", caller: caller, ticketID: nil,
                                              alsoBytes: files.totalBytes, totalField: request.attachmentIDs.isEmpty ? "files" : nil,
                                              violations: &violations)
        for violation in files.violations { violations.add(violation) }
        // Uploaded files first, then the request's own, each in the order given, unless the
        // request places its own (file_positions): their positions on the ticket, by which
        // GetTicket lists them.
        // (Checked against what the request names; an open with another violation is refused anyway.)
        let placed = FilePositions.placing(named: Set(request.attachmentIDs).count, sent: request.files.count, requested: request.filePositions,
                                           uploaded: uploaded.count, carried: files.files.count, violations: &violations)
        let attachments = placed.ordered(uploaded, files.refs)
        try violations.check("ocorrência inválida / invalid ticket")
        guard let organization, let contact, let origin else { throw RPCError(.internal, "validation incomplete") }

        // State rules.
        guard organization.active else {
            throw RPCError(.failedPrecondition, "organização inativa não abre ocorrências / an inactive organization cannot open tickets")
        }
        if organization.kind == .organizationSupplier && settings.forbidSupplierTickets {
            throw RPCError(.failedPrecondition, "fornecedores não abrem ocorrências / suppliers cannot open tickets")
        }

        // An obvious double submission returns the first ticket (the contact row is locked on
        // PostgreSQL since the first read).
        let now = Self.now()
        // (With files it is a new ticket whatever came before.)
        let year = settings.ticketCodeTimeZone.year(ofMilliseconds: now)
        let (duplicate, counted) = try Self.duplicateOrNumber(
            tx, recent: recentSubmissions, contactID: contact.id, submissionHash: hash, since: submittedAt - settings.duplicateWindowMilliseconds,
            checkDuplicate: settings.duplicateWindowMilliseconds > 0 && attachments.isEmpty, counter: "ticket-\(year)")
        switch duplicate {
        case .inBatch(let first)?:
            // An earlier open of this batch (its rows maybe not written yet): the ticket it made,
            // which has neither files nor messages yet.
            var response = IntakeV1.OpenTicketResponse()
            response.ticket = first
            response.duplicate = true
            return response
        case .stored(let id)?:
            if let first = try TicketStore.ticket(tx, reference: id) {
                var response = IntakeV1.OpenTicketResponse()
                response.ticket = try TicketStore.complete(tx, first, page: newestPage)
                response.duplicate = true
                return response
            }
        case nil: break
        }
        guard let number = counted else { throw RPCError(.internal, "no ticket number") }

        // The ticket: what the request decided (prepared before the transaction) and what the
        // database did.
        var ticket = prepared.base
        ticket.code = "\(Self.zeroPadded(Int64(year), width: 4))-\(Self.zeroPadded(number, width: 6))"
        ticket.organization = Self.reference(organization)
        ticket.contact = Self.person(contact)
        ticket.representative = representative.map(Self.person)
        ticket.origin = origin.key
        ticket.customFields = customFields
        ticket.openedAtMs = now
        ticket.attachments = attachments

        // The ticket id is new in this transaction: nobody else can publish under it yet.
        let eventID = prepared.eventID
        let batch = tx as? OpenBatch
        if let batch, ticket.emailMessageID.isEmpty {
            // The encodings completed from the parts prepared before the transaction, unless the
            // catalog's origin key is not the one they were made with.
            let snapshot: [UInt8]
            let outbox: [OutboxEvent]
            if let encoding = prepared.encoding, encoding.originKey == ticket.origin {
                let encoded = encoding.encode(ticket, originKind: origin.originKind)
                snapshot = encoded.snapshot
                outbox = publisher.outboxEvents(encoding.outbox, encodedEvent: encoded.event)
            } else {
                snapshot = TicketStore.snapshot(ticket)
                outbox = publisher.outboxEvents(event: Self.openedEvent(ticket, origin: origin), key: ticket.id, id: eventID)
            }
            // In a group-commit batch: nothing here can fail on a constraint (new ids, a code from
            // the counter the batch holds, no Message-ID; the request's own files are new
            // attachment rows and contents inserted if missing; the uploads it names were read
            // in this transaction, locked on PostgreSQL, and are claimed in the batch), so the rows
            // are written with those of the other opens of the batch, in multi-row statements
            // before COMMIT.
            batch.claim(uploaded.map(\.id))
            batch.deferTicket(TicketStore.insertValues(ticket, submissionHash: hash, attachmentBytes: attachments.reduce(0) { $0 + $1.sizeBytes },
                                                       snapshot: snapshot, registeredByIntegration: Self.registeringIntegration(caller)),
                              outbox: outbox,
                              contents: files.files.map { OpenBatch.DeferredContent(sha256: $0.ref.sha256, sizeBytes: $0.ref.sizeBytes, bytes: $0.bytes) },
                              attachments: files.files.enumerated().map { index, file in
                                  Self.attachmentValues(file.ref, uploaderID: caller.id, organizationID: organization.id, ticketID: ticket.id,
                                                        createdAt: now, position: placed.files[index])
                              },
                              links: uploaded.enumerated().map { index, ref in
                                  OpenBatch.DeferredLink(attachmentID: ref.id, ticketID: ticket.id, organizationID: organization.id,
                                                         position: placed.uploads[index])
                              })
            if !files.isEmpty && batch.existingContents == nil { batch.existingContents = { [self] in try ensureStored($0, $1) } }
            if !read.contactLinked { try TicketStore.markLinked(tx, contactID: contact.id) }
        } else if tx.engine == .postgres && attachments.isEmpty {
            // One round trip for the ticket row and its outbox rows: it runs while this year's code
            // counter row is locked, so every round trip saved here shortens the queue behind it.
            let insert = TicketStore.insertStatement(ticket, submissionHash: hash, attachmentBytes: 0,
                                                     registeredByIntegration: Self.registeringIntegration(caller))
            let outbox = Outbox.insertStatement(publisher.outboxEvents(event: Self.openedEvent(ticket, origin: origin), key: ticket.id, id: eventID))
            try tx.execute("WITH ticket AS (\(insert.sql)) \(outbox.sql)", insert.values + outbox.values)
            if !read.contactLinked { try TicketStore.markLinked(tx, contactID: contact.id) }
        } else {
            try TicketStore.insert(tx, ticket, submissionHash: hash, attachmentBytes: attachments.reduce(0) { $0 + $1.sizeBytes },
                                   contactLinked: read.contactLinked, registeredByIntegration: Self.registeringIntegration(caller))
            try link(tx, uploaded, ticketID: ticket.id, organizationID: organization.id, messageID: "", positions: placed.uploads,
                     addToTicketTotal: false)
            try store(files, ticketID: ticket.id, organizationID: organization.id, caller: caller, after: uploaded, positions: placed.files, tx)
            try publisher.publish(tx, event: Self.openedEvent(ticket, origin: origin), key: ticket.id, id: eventID, keyIsNew: true)
        }

        if let batch, settings.duplicateWindowMilliseconds > 0 && attachments.isEmpty {
            batch.opened(contactID: contact.id, submissionHash: hash, ticket: ticket)
        }
        var response = IntakeV1.OpenTicketResponse()
        response.ticket = ticket
        return response
    }

    /// The integration key an open records as the ticket's registrant (`tickets.registered_by_integration`):
    /// the caller's id when it is one, else ''. An agent is recorded in `registered_by_agent` instead.
    static func registeringIntegration(_ caller: Caller) -> String {
        caller.principal.kind == .integration ? caller.id : ""
    }

    /// The `TicketOpened` event of a new ticket whose origin is `origin`.
    static func openedEvent(_ ticket: IntakeV1.Ticket, origin: IntakeV1.ListEntry) -> IntakeV1.TicketOpened {
        var event = IntakeV1.TicketOpened()
        event.ticketID = ticket.id
        event.code = ticket.code
        event.organization = ticket.organization
        event.contact = ticket.contact
        event.representative = ticket.representative
        event.registeredByAgent = ticket.registeredByAgent
        event.channel = ticket.channel
        event.origin = origin.originKind
        event.originKey = origin.key
        event.category = ticket.category
        event.priority = ticket.priority
        event.product = ticket.product
        event.module = ticket.module
        event.subject = ticket.subject
        event.request = ticket.request
        event.details = ticket.details
        event.customFields = Dictionary(ticket.customFields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        event.attachments = ticket.attachments
        event.openedAtMs = ticket.openedAtMs
        event.emailMessageID = ticket.emailMessageID
        return event
    }

    /// The first ticket of an obvious double submission.
    enum Duplicate {
        /// Stored before this transaction or by an open outside a batch.
        case stored(id: String)
        /// Made by an earlier open of the same group-commit batch (``OpenBatch``).
        case inBatch(IntakeV1.Ticket)
    }

    /// The first ticket of an obvious double submission (same contact, same subject and text since
    /// `since`), or else the next number of `counter` (its row stays locked until commit). On
    /// PostgreSQL outside a batch both in one statement (one round trip); in a batch the check
    /// also counts the batch's earlier opens and the batch numbers the opens in memory.
    static func duplicateOrNumber(_ tx: any SQLExecutor, recent: RecentSubmissions?, contactID: String, submissionHash: String, since: Int64,
                                  checkDuplicate: Bool, counter: String) throws -> (duplicate: Duplicate?, number: Int64?) {
        let duplicateParameters = Self.duplicateParameters(contactID: contactID, submissionHash: submissionHash, since: since)
        if let batch = tx as? OpenBatch {
            // The check was read ahead with the batch on PostgreSQL (or runs now; on SQLite from
            // memory, caught up at the start of the batch), and an earlier open of the batch
            // counts too; the number is the batch's next one when it holds the counter (on
            // PostgreSQL read ahead and locked; on SQLite once the row exists).
            if checkDuplicate {
                if let sibling = batch.sibling(contactID: contactID, submissionHash: submissionHash) { return (.inBatch(sibling), nil) }
                if let recent {
                    if let id = try recent.first(tx, contactID: contactID, hash: submissionHash, since: since) { return (.stored(id: id), nil) }
                } else if let id = try tx.queryOne(duplicateSQL, duplicateParameters)?.text("id") {
                    return (.stored(id: id), nil)
                }
            }
            if try batch.numbers(counter) { return (nil, batch.nextNumber(counter)) }
            return (nil, try DirectoryStore.nextCounter(tx, counter))
        }
        guard checkDuplicate else { return (nil, try DirectoryStore.nextCounter(tx, counter)) }
        if tx.engine == .postgres {
            let row = try tx.queryOne("""
                WITH duplicate AS (
                    SELECT id FROM tickets WHERE contact_id = ? AND submission_hash = ? AND opened_at >= ? AND \(TicketStore.firstOfDuplicates)
                    ORDER BY opened_at LIMIT 1
                ), number AS (
                    INSERT INTO counters (name, last_value) SELECT CAST(? AS TEXT), 1 WHERE NOT EXISTS (SELECT 1 FROM duplicate)
                    ON CONFLICT (name) DO UPDATE SET last_value = counters.last_value + 1
                    RETURNING last_value
                )
                SELECT (SELECT id FROM duplicate) AS duplicate_id, (SELECT last_value FROM number) AS number
                """, duplicateParameters + [.text(counter)])
            return (row?.optionalText("duplicate_id").map { .stored(id: $0) }, try row?.optionalInt("number"))
        }
        if let recent {
            // SQLite, an open in a transaction of its own: the memory caught up first (this
            // transaction has written no ticket yet); its own ticket is read by the next catch-up.
            try recent.catchUp(tx, now: now())
            if let id = try recent.first(tx, contactID: contactID, hash: submissionHash, since: since) { return (.stored(id: id), nil) }
        } else if let id = try tx.queryOne(duplicateSQL, duplicateParameters)?.text("id") {
            return (.stored(id: id), nil)
        }
        return (nil, try DirectoryStore.nextCounter(tx, counter))
    }

    static func detailFields(_ details: CommonV1.TechnicalDetails) -> [(String, String)] {
        [("system_version", details.systemVersion), ("database", details.database), ("environment", details.environment),
         ("test_environment_access", details.testEnvironmentAccess), ("company_branch", details.companyBranch),
         ("routine", details.routine), ("example_record", details.exampleRecord), ("previous_version", details.previousVersion),
         ("current_version", details.currentVersion), ("happens_since", details.happensSince),
         ("affected_users", details.affectedUsers), ("expected_behaviour", details.expectedBehaviour),
         ("steps_to_reproduce", details.stepsToReproduce), ("operational_impact", details.operationalImpact)]
    }
}
