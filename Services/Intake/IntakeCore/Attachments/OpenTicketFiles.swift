import Messages
import RPC
import RPCTransport
import Storage

/// Small files carried inside `OpenTicketRequest.files`: checked like uploads (the same file name
/// and content type rules, ``IntakeContext/checkedFileName(_:field:into:)``), hashed before the
/// open's transaction (off the group commit's writer), and stored in that transaction — in their
/// `contents` row, as small uploads are (``ContentUpload``) — with attachment rows already on the
/// ticket. A rejected open stores none of them; an acknowledged one has them all committed.
struct OpenTicketFiles: Sendable {
    /// One file, checked and hashed.
    struct File: Sendable {
        /// Id (new), name, content type, size and SHA-256, as the ticket lists it.
        var ref: CommonV1.AttachmentRef
        var bytes: [UInt8]
    }

    var files: [File] = []
    /// Every problem found, under `files[i].…` or `files`.
    var violations: [FieldViolation] = []

    var isEmpty: Bool { files.isEmpty }
    var totalBytes: Int64 { files.reduce(0) { $0 + $1.ref.sizeBytes } }
    var refs: [CommonV1.AttachmentRef] { files.map(\.ref) }

    /// The largest file an open may carry: it is stored in its row, so at most
    /// ``IntakeSettings/inlineContentMaxBytes``, and never more than ``IntakeSettings/maxFileBytes``.
    static func fileLimit(_ settings: IntakeSettings) -> Int64 {
        min(settings.inlineContentMaxBytes, settings.maxFileBytes)
    }

    /// The request carrying the files, for the messages people read.
    enum Carrier: Sendable {
        /// `OpenTicketRequest.files`.
        case open
        /// `ReplyRequest.files`.
        case reply
        /// `AddFilesRequest.files` (an agent's discussion entry's files).
        case addFiles

        var pt: (in: String, of: String) {
            switch self {
            case .open: ("na abertura", "da abertura")
            case .reply: ("na resposta", "da resposta")
            case .addFiles: ("no envio", "do envio")
            }
        }
        var en: (in: String, of: String) {
            switch self {
            case .open: ("in the open", "The open's")
            case .reply: ("in the reply", "The reply's")
            case .addFiles: ("in the call", "The call's")
            }
        }
    }

    /// Checks and hashes `files`; new attachment ids are drawn here.
    /// - Parameter carrier: The request they came in (only the wording of the violations differs).
    init(_ submitted: [IntakeV1.OpenTicketFile], settings: IntakeSettings, carrier: Carrier = .open) {
        guard !submitted.isEmpty else { return }
        var violations = Violations()
        if submitted.count > settings.openFilesMaxCount {
            violations.add("files", "too_many_files",
                           pt: "No máximo \(settings.openFilesMaxCount) arquivos \(carrier.pt.in); envie os demais com UploadAttachment.",
                           en: "At most \(settings.openFilesMaxCount) files \(carrier.en.in); send the others with UploadAttachment.")
        }
        let limit = Self.fileLimit(settings)
        var total: Int64 = 0
        files.reserveCapacity(submitted.count)
        // Time-ordered ids, like every other id; the ticket lists its files by their position
        // (in the order sent), not by id.
        let ids = RandomID.timeOrdered(submitted.count, milliseconds: IntakeContext.now(), lowercase: true)
        for (index, file) in submitted.enumerated() {
            let field = "files[\(index)]"
            let name = IntakeContext.checkedFileName(file.fileName, field: "\(field).file_name", into: &violations)
            let contentType = IntakeContext.checkedContentType(file.contentType, field: "\(field).content_type", into: &violations)
            let size = Int64(file.data.count)
            total += size
            if size > limit {
                violations.add(IntakeContext.fileTooLarge("\(field).data", limit: limit))
                continue  // not hashed: the open is refused anyway
            }
            var ref = CommonV1.AttachmentRef()
            ref.id = ids[index]
            ref.fileName = name
            ref.contentType = contentType
            ref.sizeBytes = size
            ref.sha256 = Digest.hex(Digest.sha256(file.data))
            files.append(File(ref: ref, bytes: file.data))
        }
        if total > settings.openFilesMaxBytes {
            violations.add("files", "files_too_large",
                           pt: "Os arquivos \(carrier.pt.of) somam \(total) bytes; o limite é \(settings.openFilesMaxBytes). Envie os maiores com UploadAttachment.",
                           en: "\(carrier.en.of) files add up to \(total) bytes; the limit is \(settings.openFilesMaxBytes). Send the larger ones with UploadAttachment.")
        }
        self.violations = violations.items
    }
}

extension IntakeContext {
    /// The files a reply or ``addFiles(_:caller:idempotencyKey:)`` adds to an existing ticket,
    /// checked together: the caller's pending uploads named in `attachmentIDs` (returned) and the
    /// `files` carried inside (`sent`: the request had some, valid or not), against the ticket's
    /// total (reported on `files` when only files were sent); every problem goes to `violations`.
    func filesToAdd(_ tx: any SQLExecutor, attachmentIDs: [String], files: OpenTicketFiles, sent: Bool, caller: Caller, ticketID: String,
                    violations: inout Violations) throws -> [CommonV1.AttachmentRef] {
        let uploaded = try pendingAttachments(tx, ids: attachmentIDs, field: "attachment_ids", caller: caller, ticketID: ticketID,
                                              alsoBytes: files.totalBytes,
                                              totalField: attachmentIDs.isEmpty && sent ? "files" : nil, violations: &violations)
        for violation in files.violations { violations.add(violation) }
        return uploaded
    }

    /// Stores an open's (or a reply's) own files on `ticketID` in the caller's transaction: their
    /// contents (each once, ``storeContents(_:_:)``) and their attachment rows, one `INSERT` each.
    ///
    /// - Parameters:
    ///   - uploaded: Uploads put on the same ticket (or message) by the same open or reply: the
    ///     files take the positions after them, so `GetTicket` lists them in the order the open
    ///     answered (uploads first, then these, each in the order given).
    ///   - messageID: The reply they came with (its `message_id`, as ``link(_:_:ticketID:organizationID:messageID:firstPosition:addToTicketTotal:)``
    ///     records for uploads); their size is then added to the ticket's `attachment_bytes` too
    ///     (an open writes its total with the ticket's row instead).
    ///   - firstPosition: Where the files added by this call start among the ticket's (or
    ///     message's) files: 0 for an open or reply, after the ticket's own files for ``addFiles(_:caller:idempotencyKey:)``.
    ///   - positions: One position per file instead (an open placing its files, ``FilePositions``).
    func store(_ files: OpenTicketFiles, ticketID: String, organizationID: String, caller: Caller,
               after uploaded: [CommonV1.AttachmentRef], messageID: String? = nil, firstPosition: Int64 = 0,
               positions: [Int64]? = nil, _ tx: any SQLExecutor) throws {
        guard !files.isEmpty else { return }
        try storeContents(tx, files.files.map { ($0.ref.sha256, $0.ref.sizeBytes, $0.bytes) })
        try insertAttachments(tx, files.refs, uploaderID: caller.id, organizationID: organizationID, ticketID: ticketID,
                              messageID: messageID, firstPosition: firstPosition + Int64(uploaded.count), positions: positions)
        if messageID != nil { try addAttachmentBytes(tx, ticketID: ticketID, files.totalBytes, field: "files") }
    }
}
