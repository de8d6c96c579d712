import Foundation
import Messages
import RPC
import ServiceKit
import Storage

/// Files staff put on an existing ticket outside any reply: an agent's discussion entry's files.
extension IntakeContext {
    /// Puts `request.attachment_ids` (the caller's pending uploads) and `request.files` (small
    /// files inside the call, ``OpenTicketFiles``) on a ticket, after the files it has (in the
    /// order named, or where `request.file_positions` places them, ``FilePositions``), in one
    /// transaction, and publishes an `AttachmentAdded` for each. With `request.internal` every
    /// file becomes internal (`AttachmentRef.internal`); an upload already internal stays so.
    ///
    /// The files are the ticket's own (`message_id` empty): intake knows no discussion entries.
    /// Workflow lists them on the entry the gateway adds next with them; should that entry fail,
    /// they stay the ticket's files, each visible only as its flag allows.
    /// - Parameter idempotencyKey: A retry with the same key and request answers the first call
    ///   and stores nothing more.
    /// - Throws: `PERMISSION_DENIED` to customers and representatives (they reply with
    ///   ``reply(_:caller:idempotencyKey:)``); `NOT_FOUND` for an unknown ticket;
    ///   `INVALID_ARGUMENT` per field (`attachment_ids[i]` not_found, `files[i].…`, `files`,
    ///   `attachment_ids` required when nothing is named); `FAILED_PRECONDITION` for a cancelled ticket.
    public func addFiles(_ request: IntakeV1.AddFilesRequest, caller: Caller, idempotencyKey: String? = nil) throws -> IntakeV1.AddFilesResponse {
        guard caller.isStaffOrSystem else { throw Denied.staffOnly }
        try requireTicketAccess(reference: request.ticket, caller: caller, toAct: !request.`internal`)
        let files = OpenTicketFiles(request.files, settings: settings, carrier: .addFiles)
        // Uploaded files count by what they are, not by their ids (a discussion form retried).
        let fingerprint = idempotencyKey?.isEmpty == false
                ? try idempotencyFingerprint(request, ids: request.attachmentIDs) { $0.attachmentIDs = $1 } : []
        return try Idempotent.write(database, key: idempotencyKey, scope: "intake.AddFiles|\(caller.id)", fingerprint: fingerprint) { tx in
            try addingFiles(tx, request, files: files, caller: caller)
        }
    }

    /// The work of ``addFiles(_:caller:idempotencyKey:)`` in the caller's transaction.
    private func addingFiles(_ tx: any SQLExecutor, _ request: IntakeV1.AddFilesRequest, files: OpenTicketFiles,
                             caller: Caller) throws -> IntakeV1.AddFilesResponse {
        let ticket = try visibleTicket(tx, request.ticket, caller: caller)
        var violations = Violations()
        if request.attachmentIDs.isEmpty && request.files.isEmpty {
            violations.add("attachment_ids", "required", pt: "Informe os arquivos.", en: "Name the files.")
        }
        let uploaded = try filesToAdd(tx, attachmentIDs: request.attachmentIDs, files: files, sent: !request.files.isEmpty, caller: caller,
                                      ticketID: ticket.id, violations: &violations)
        let positions = FilePositions.placing(named: Set(request.attachmentIDs).count, sent: request.files.count, requested: request.filePositions,
                                              uploaded: uploaded.count, carried: files.files.count, violations: &violations)
        try violations.check("arquivos inválidos / invalid files")
        guard ticket.status != TicketStore.cancelled else {
            throw RPCError(.failedPrecondition, "ocorrência cancelada / ticket cancelled")
        }
        let organizationID = ticket.organization?.id ?? ""
        // After the files the ticket has (its own, not its replies'), placed as the request asks.
        let next = try tx.queryOne("""
            SELECT COALESCE(MAX(position) + 1, 0) AS next FROM attachments WHERE ticket_id = ? AND message_id = ''
            """, [.text(ticket.id)])?.int("next") ?? 0
        let placed = positions.after(next)
        try link(tx, uploaded, ticketID: ticket.id, organizationID: organizationID, messageID: "", positions: placed.uploads)
        try store(files, ticketID: ticket.id, organizationID: organizationID, caller: caller, after: uploaded, messageID: "",
                  positions: placed.files, tx)
        var attachments = placed.ordered(uploaded, files.refs)
        for index in attachments.indices where request.`internal` { attachments[index].`internal` = true }
        try markInternal(tx, attachments.filter(\.`internal`))
        let at = Self.now()
        let by = person(of: caller)
        for attachment in attachments {
            var event = IntakeV1.AttachmentAdded()
            event.ticketID = ticket.id
            event.code = ticket.code
            event.attachment = attachment
            event.by = by
            event.addedAtMs = at
            try publisher.publish(tx, event: event, key: ticket.id)
        }
        var response = IntakeV1.AddFilesResponse()
        response.attachments = attachments
        return response
    }
}
