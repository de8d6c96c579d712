import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// What happens to a ticket on intake's side after it is opened: reading it, customer replies,
/// cancellation, and an agent changing its contact.
extension IntakeContext {
    /// The ticket as submitted, with its attachments and replies. A customer of another
    /// organization gets `NOT_FOUND`, exactly as for a ticket that does not exist; customers and
    /// representatives get no internal file (`AttachmentRef.internal`). An agent gets it only when
    /// workflow lets them see the ticket (``requireTicketAccess(_:caller:)``), else `NOT_FOUND` too.
    /// Its messages come a page at a time (`messages_limit`, `messages_before`: ``TicketPage``).
    public func getTicket(_ reference: String, caller: Caller) throws -> IntakeV1.Ticket {
        var request = IntakeV1.GetTicketRequest()
        request.ticket = reference
        return try getTicket(request, caller: caller)
    }

    /// ``getTicket(_:caller:)`` for a request: its ticket, with the page of messages it asks for.
    public func getTicket(_ request: IntakeV1.GetTicketRequest, caller: Caller) throws -> IntakeV1.Ticket {
        let page = try TicketPage(limit: request.messagesLimit, before: request.messagesBefore, keys: 1,
                                  limitField: "messages_limit", beforeField: "messages_before", maxFrameSize: settings.maxFrameBytes)
        let (ticket, complete) = try database.read { tx in
            let ticket = try visibleTicket(tx, request.ticket, caller: caller)
            return (ticket, try TicketStore.complete(tx, ticket, includeInternal: caller.isStaffOrSystem, page: page))
        }
        // Asked after the read, outside its transaction: no connection waits on workflow.
        try requireTicketAccess(ticket, caller: caller)
        return complete
    }

    /// Adds a customer reply (text and files) and publishes `CustomerReplied`.
    ///
    /// `request.email_message_id` is the e-mail it came from: the same Message-ID is stored once,
    /// and taken in again it answers the stored message with its files, as `GetTicket` lists
    /// them (also when another process stored it at the same moment). The files carried in
    /// `request.files` are checked and hashed before the transaction and stored in it, on the
    /// ticket and the new message, after the uploads named in `attachment_ids` or where
    /// `request.file_positions` places them (``FilePositions``); a refused reply stores none of them.
    /// - Parameter idempotencyKey: A retry with the same key (and the same request, files
    ///   included) answers the first reply byte for byte and stores nothing; the same key with
    ///   another request is `FAILED_PRECONDITION`. Keys are per caller.
    public func reply(_ request: IntakeV1.ReplyRequest, caller: Caller, idempotencyKey: String? = nil) throws -> IntakeV1.ReplyResponse {
        try requireTicketAccess(reference: request.ticket, caller: caller, toAct: true)
        let files = OpenTicketFiles(request.files, settings: settings, carrier: .reply)
        do {
            // The whole request is the fingerprint, file bytes included: the same key with another
            // file is another request; uploaded files count by what they are, not by their ids.
            let fingerprint = idempotencyKey?.isEmpty == false
                ? try idempotencyFingerprint(request, ids: request.attachmentIDs) { $0.attachmentIDs = $1 } : []
            let answer = try Idempotent.write(database, key: idempotencyKey, scope: "intake.Reply|\(caller.id)", fingerprint: fingerprint) { tx in
                try replying(tx, request, files: files, caller: caller)
            }
            // CustomerReplied goes out now, not at the relay's next idle poll.
            nudgeRelay()
            return answer
        } catch let error as StorageError where error.kind == .uniqueViolation && !request.emailMessageID.isEmpty {
            // The same e-mail stored by another process meanwhile (PostgreSQL): its message.
            guard let existing = try database.read({ try TicketStore.message($0, emailMessageID: request.emailMessageID) }) else { throw error }
            var response = IntakeV1.ReplyResponse()
            response.message = existing
            return response
        }
    }

    /// The reply's work in the caller's transaction (``reply(_:caller:idempotencyKey:)``).
    private func replying(_ tx: any SQLExecutor, _ request: IntakeV1.ReplyRequest, files: OpenTicketFiles,
                          caller: Caller) throws -> IntakeV1.ReplyResponse {
        if !request.emailMessageID.isEmpty, let existing = try TicketStore.message(tx, emailMessageID: request.emailMessageID) {
            var response = IntakeV1.ReplyResponse()
            response.message = existing
            return response
        }
        let ticket = try visibleTicket(tx, request.ticket, caller: caller)
        var violations = Violations()
        let text = request.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty && request.attachmentIDs.isEmpty && request.files.isEmpty {
            violations.add("text", "required", pt: "Escreva a resposta ou anexe um arquivo.", en: "Write the reply or attach a file.")
        }
        violations.maxLength("text", text, 100_000)
        let channel = request.channel.isEmpty ? BuiltInEntries.defaultChannel(for: caller, opening: false) : request.channel.lowercased()
        if try CatalogStore.activeEntry(tx, list: "channel", key: channel) == nil {
            violations.add("channel", "unknown_channel", pt: "Canal não cadastrado ou inativo.", en: "Unknown or inactive channel.")
        }
        let uploaded = try filesToAdd(tx, attachmentIDs: request.attachmentIDs, files: files, sent: !request.files.isEmpty, caller: caller,
                                      ticketID: ticket.id, violations: &violations)
        let placed = FilePositions.placing(named: Set(request.attachmentIDs).count, sent: request.files.count, requested: request.filePositions,
                                           uploaded: uploaded.count, carried: files.files.count, violations: &violations)
        try violations.check("resposta inválida / invalid reply")
        // A reply to a finished ticket still goes to workflow, which decides about reopening it.
        guard ticket.status != TicketStore.cancelled else {
            throw RPCError(.failedPrecondition, "ocorrência cancelada / the ticket was cancelled")
        }
        // Its place among the ticket's messages, under the ticket row's lock until commit; the
        // id and time are taken after it, so within one process they follow the same order.
        let sequence = try TicketStore.nextMessageSequence(tx, ticketID: ticket.id)
        var message = IntakeV1.TicketMessage()
        message.id = Self.newID()
        message.author = person(of: caller)
        message.text = text
        message.channel = channel
        message.createdAtMs = Self.now()
        try TicketStore.insert(tx, message: message, ticketID: ticket.id, sequence: sequence, emailMessageID: request.emailMessageID)
        try markActingContactLinked(tx, caller)
        let organizationID = ticket.organization?.id ?? ""
        try link(tx, uploaded, ticketID: ticket.id, organizationID: organizationID, messageID: message.id, positions: placed.uploads)
        try store(files, ticketID: ticket.id, organizationID: organizationID, caller: caller, after: uploaded,
                  messageID: message.id, positions: placed.files, tx)
        // Uploaded files first, then the request's own, each in the order given, unless the
        // request places its own (file_positions): their positions on the message, by which
        // GetTicket lists them.
        let attachments = placed.ordered(uploaded, files.refs)
        message.attachments = attachments

        var event = IntakeV1.CustomerReplied()
        event.ticketID = ticket.id
        event.code = ticket.code
        event.messageID = message.id
        event.author = message.author
        event.text = text
        event.attachments = attachments
        event.channel = channel
        event.repliedAtMs = message.createdAtMs
        event.organizationID = ticket.organization?.id ?? ""
        try publisher.publish(tx, event: event, key: ticket.id)
        var response = IntakeV1.ReplyResponse()
        response.message = message
        return response
    }

    /// Cancels a ticket that is no longer valid and publishes `TicketCancelledByCustomer`.
    /// Everyone who reads the ticket does not cancel it: ``requireMayCancel(_:caller:)``.
    public func cancel(_ request: IntakeV1.CancelTicketRequest, caller: Caller) throws -> IntakeV1.Ticket {
        try requireTicketAccess(reference: request.ticket, caller: caller, toAct: true)
        defer { nudgeRelay() }
        return try write("CancelTicket", caller, request) { tx in
            var ticket = try visibleTicket(tx, request.ticket, caller: caller)
            try requireMayCancel(tx, ticket, caller: caller)
            var violations = Violations()
            violations.maxLength("reason", request.reason, 2_000)
            try violations.check()
            guard ticket.status == TicketStore.open else {
                throw ticket.status == TicketStore.finished
                    ? RPCError(.failedPrecondition, "ocorrência já finalizada / ticket already finished")
                    : RPCError(.failedPrecondition, "ocorrência já cancelada / ticket already cancelled")
            }
            ticket.status = TicketStore.cancelled
            ticket.cancelReason = request.reason
            try TicketStore.save(tx, ticket)
            try markActingContactLinked(tx, caller)
            var event = IntakeV1.TicketCancelledByCustomer()
            event.ticketID = ticket.id
            event.code = ticket.code
            event.by = person(of: caller)
            event.reason = request.reason
            event.cancelledAtMs = Self.now()
            event.organizationID = ticket.organization?.id ?? ""
            try publisher.publish(tx, event: event, key: ticket.id)
            return try TicketStore.complete(tx, ticket, page: newestPage)
        }
    }

    /// A contact who wrote on a ticket or cancelled it is linked to it, as its own contact is:
    /// the directory keeps them (deactivated at most), so the reply's author or the one who
    /// cancelled stays someone (`DeleteContact` refuses a linked contact).
    func markActingContactLinked(_ tx: any SQLExecutor, _ caller: Caller) throws {
        if caller.isCustomer && !caller.isRepresentative { try TicketStore.markLinked(tx, contactID: caller.id) }
    }

    /// Throws `PERMISSION_DENIED` unless `caller` may cancel `ticket` (one they already see):
    /// staff (agents and integrations workflow lets act, services), and among customers those
    /// ServiceKit's ``TicketDecisionRule`` names — the ticket's own contact, a company
    /// administrator of its organization, and the people of the ticket's representative (the one
    /// who opened it, or whom an agent named since); workflow's `AnswerSolution` follows the same
    /// rule. Another contact of the company reads and answers the ticket, but does not cancel a
    /// colleague's; neither does a representative who is not the ticket's. A company
    /// administrator is one as ``CompanyAdministrator`` says: the signed role **and** their
    /// contact's `admin` flag, read in `tx` (before 2026-12-02 the signed role alone, so a
    /// contact support had taken the flag from kept cancelling colleagues' tickets).
    func requireMayCancel(_ tx: any SQLExecutor, _ ticket: IntakeV1.Ticket, caller: Caller) throws {
        guard caller.isCustomer else { return }
        let contactID = ticket.contact?.id ?? ""
        // The directory is read only when the role alone would decide (not the ticket's contact).
        var administrator = false
        if caller.principal.organizationAdmin && !caller.isRepresentative && contactID != caller.id {
            administrator = CompanyAdministrator.acts(caller, me: try DirectoryStore.contact(tx, id: caller.id),
                                                      organizationID: ticket.organization?.id ?? "")
        }
        guard TicketDecisionRule.mayDecide(callerID: caller.id, callerRepresentativeID: caller.principal.representativeID,
                                           organizationAdmin: administrator, contactID: contactID,
                                           representativeID: ticket.representative?.id ?? "") else { throw Denied.notTheTicketsOwn }
    }

    /// Changes a ticket's contact and/or representative. Allowed only while the ticket is open
    /// and only to the agent holding it (or that agent's chefe) with the permission to link
    /// customers; workflow says who holds it (asked as the caller, with their call's deadline).
    /// A ticket workflow hides from the caller is `NOT_FOUND`; one it has not received yet
    /// `FAILED_PRECONDITION`.
    public func changeContact(_ request: IntakeV1.ChangeTicketContactRequest, caller: Caller) throws -> IntakeV1.Ticket {
        guard caller.isAgent else { throw Denied.staffOnly }
        let current = try database.read { tx in try visibleTicket(tx, request.ticket, caller: caller) }
        let holder: WorkflowV1.GetTicketHolderResponse
        switch try workflowAccess(ticketID: current.id, caller: caller) {
        case .visible(let answer): holder = answer
        case .hidden: throw Self.ticketNotFound
        case .unknown: throw RPCError(.failedPrecondition, "o workflow não conhece a ocorrência ainda / workflow does not know the ticket yet")
        }
        guard holder.open, current.status == TicketStore.open else {
            throw RPCError(.failedPrecondition, "ocorrência encerrada: o contato não muda mais / ticket closed: its contact is fixed")
        }
        let holds = holder.holder.map { !$0.agentID.isEmpty && ($0.agentID == caller.id || ($0.chefeAgentID == caller.id && caller.principal.chefe)) } ?? false
        guard holds else {
            throw RPCError(.permissionDenied, "apenas quem detém a ocorrência (ou seu chefe) / only the holding agent (or their chefe)")
        }
        // Workflow knows the caller's permissions from the signed principal and from its own
        // directory roles; either may grant linking customers.
        guard holder.callerMayLinkCustomers
                || caller.has(permission: "tickets.link_customer") || caller.has(permission: "link_customers") else {
            throw RPCError(.permissionDenied, "falta a permissão de vincular clientes / missing the permission to link customers")
        }
        return try write("ChangeTicketContact", caller, request) { tx in
            var ticket = try visibleTicket(tx, request.ticket, caller: caller)
            guard ticket.status == TicketStore.open else {
                throw RPCError(.failedPrecondition, "ocorrência cancelada / ticket cancelled")
            }
            let organizationID = ticket.organization?.id ?? ""
            var violations = Violations()
            if request.contactID.isEmpty && request.representativeID.isEmpty && !request.clearRepresentative {
                violations.add("contact_id", "nothing_to_change", pt: "Informe o novo contato ou representante.",
                               en: "Give the new contact or representative.")
            }
            if !request.contactID.isEmpty {
                if let contact = try DirectoryStore.contact(tx, id: request.contactID) {
                    // The rule an open applies to its contact.
                    if let refused = TicketContactRule.violation(contact, organizationID: organizationID) {
                        violations.add(refused)
                    } else {
                        ticket.contact = Self.person(contact)
                    }
                } else {
                    violations.notFound("contact_id")
                }
            }
            if !request.representativeID.isEmpty {
                if let representative = try DirectoryStore.representative(tx, id: request.representativeID) {
                    if !representative.active || !representative.organizationIDs.contains(organizationID) {
                        violations.add("representative_id", "not_representing", pt: "O representante não atende esta organização.",
                                       en: "The representative does not act for this organization.")
                    } else {
                        ticket.representative = Self.person(representative)
                    }
                } else {
                    violations.notFound("representative_id")
                }
            } else if request.clearRepresentative {
                ticket.representative = nil
            }
            try violations.check()
            try TicketStore.save(tx, ticket)
            var event = IntakeV1.TicketContactChanged()
            event.ticketID = ticket.id
            event.code = ticket.code
            event.contact = ticket.contact
            event.representative = ticket.representative
            event.changedByAgentID = caller.id
            event.changedAtMs = Self.now()
            try publisher.publish(tx, event: event, key: ticket.id)
            return try TicketStore.complete(tx, ticket, includeInternal: true, page: newestPage)
        }
    }

    /// Whether a representative's person (`caller.id`, of `principal.representative_id`) may act
    /// for `organizationID` now, by intake's own directory: the person and the representative
    /// are active and the representative represents the organization.
    func representativeActs(_ tx: any SQLExecutor, _ caller: Caller, organizationID: String) throws -> Bool {
        guard caller.isRepresentative, caller.canSee(organizationID: organizationID) else { return false }
        return try tx.queryOne("""
            SELECT 1 AS ok FROM representative_contacts c
            JOIN representatives r ON r.id = c.representative_id
            JOIN representative_organizations o ON o.representative_id = r.id
            WHERE c.id = ? AND c.representative_id = ? AND c.active = 1 AND r.active = 1 AND o.organization_id = ?
            """, [.text(caller.id), .text(caller.principal.representativeID), .text(organizationID)]) != nil
    }

    /// The organization of a customer caller as the directory knows it (an active contact's);
    /// `nil` for anyone else or an unknown/inactive contact. Principals are signed by the gateway,
    /// and intake still checks the claim against its own directory.
    func verifiedOrganization(_ tx: any SQLExecutor, _ caller: Caller) throws -> String? {
        guard caller.isCustomer, let me = try DirectoryStore.contact(tx, id: caller.id), me.active else { return nil }
        return me.organizationID
    }

    /// The ticket if `caller` may see it; `NOT_FOUND` otherwise (never revealing another
    /// organization's tickets).
    func visibleTicket(_ tx: any SQLExecutor, _ reference: String, caller: Caller) throws -> IntakeV1.Ticket {
        guard !reference.isEmpty, let ticket = try TicketStore.ticket(tx, reference: reference),
              caller.canSee(organizationID: ticket.organization?.id ?? "") else {
            throw RPCError(.notFound, "ocorrência não encontrada / ticket not found")
        }
        if caller.isRepresentative {
            // Only an active person of an active representative that represents the organization.
            guard try representativeActs(tx, caller, organizationID: ticket.organization?.id ?? "") else {
                throw RPCError(.notFound, "ocorrência não encontrada / ticket not found")
            }
        } else if caller.isCustomer {
            // Only a current authorized contact of the organization.
            guard let me = try DirectoryStore.contact(tx, id: caller.id), me.active, me.organizationID == ticket.organization?.id else {
                throw RPCError(.notFound, "ocorrência não encontrada / ticket not found")
            }
        } else if !caller.isStaffOrSystem {
            throw RPCError(.notFound, "ocorrência não encontrada / ticket not found")
        }
        return ticket
    }
}
