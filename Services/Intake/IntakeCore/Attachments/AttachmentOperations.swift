import Foundation
import Messages
import RPC
import Storage

/// Uploading, linking and downloading attachments.
extension IntakeContext {
    /// Stores one uploaded file. `first` describes the file (and may carry data); `next` yields
    /// the following chunks and `nil` at the end. The size and SHA-256 come in `first`, or, when
    /// `first` has no SHA-256 (a sender that learns them only at the end, like the gateway
    /// streaming an HTTP body), in the last message that sets `sha256`. The content is hashed
    /// while it is written and must match the announced SHA-256 and size; a failure at any point
    /// (including the caller going away) leaves nothing behind.
    /// - Throws: `INVALID_ARGUMENT` for a bad description, size or hash; `RESOURCE_EXHAUSTED`
    ///   beyond the per-file limit; `NOT_FOUND` for a `ticket_id` the caller may not see
    ///   (``requireTicketAccess(_:caller:)``).
    public func upload(first: IntakeV1.UploadAttachmentRequest, next: () throws -> IntakeV1.UploadAttachmentRequest?,
                       caller: Caller) throws -> CommonV1.AttachmentRef {
        let received = try receiveUpload(first: first, next: next, caller: caller)
        do {
            if let uploadCommits { return try uploadCommits.run(received.rows) }
            return try database.write { tx in try received.rows(tx) }
        } catch {
            releaseUnrecorded(received.file)
            throw error
        }
    }

    /// ``upload(first:next:caller:)`` without waiting for its rows to commit: the file is
    /// received and checked on the calling thread, then its rows are queued to the group commit's
    /// writer, and `completion` runs there once its batch committed (or failed), exactly once
    /// (with group commit off, on the calling thread before this returns). The `UploadAttachment`
    /// handler answers from `completion`, so no RPC worker thread waits for the batch.
    /// - Parameter isCancelled: Checked when the batch starts: an upload whose caller has given
    ///   up by then stores nothing (`DEADLINE_EXCEEDED`).
    public func upload(first: IntakeV1.UploadAttachmentRequest, next: () throws -> IntakeV1.UploadAttachmentRequest?,
                       caller: Caller, isCancelled: (@Sendable () -> Bool)? = nil,
                       completion: @escaping @Sendable (Result<CommonV1.AttachmentRef, any Error>) -> Void) {
        let received: ReceivedUpload
        do { received = try receiveUpload(first: first, next: next, caller: caller) } catch {
            completion(.failure(error))
            return
        }
        let rows = received.rows
        var completion = completion
        if let file = received.file {
            let answer = completion
            completion = { [self] result in
                if case .failure = result { releaseUnrecorded(file) }
                answer(result)
            }
        }
        guard let uploadCommits else {
            completion(Result { try database.write { tx in try rows(tx) } })
            return
        }
        uploadCommits.submit(rows, isCancelled: isCancelled, completion: completion)
    }

    /// A file received and checked: the transaction body recording it, and the content's
    /// SHA-256 when its bytes are in the file store (already renamed into place) rather than at hand.
    private struct ReceivedUpload {
        let file: String?
        let rows: @Sendable (any SQLExecutor) throws -> CommonV1.AttachmentRef
    }

    /// Removes the file of an upload whose recording transaction failed (refused, cancelled, or
    /// the batch failed), unless a `contents` row names its content.
    ///
    /// The same steps as a scan's adoption and the garbage collector's removal
    /// (``adoptOrphanFiles(olderThanMilliseconds:batchSize:)``), in one transaction: a row at
    /// `ref_count` 0 is inserted with `ON CONFLICT DO NOTHING`, and only when it was inserted is
    /// the file unlinked, before the row is deleted and the transaction commits. That insert is
    /// serialized with any transaction recording the same content: one written before it keeps
    /// the file (nothing is inserted, nothing removed); one after it finds no file and answers
    /// `ABORTED` (upload again), as after a collection. A failure here leaves the file to the scan.
    func releaseUnrecorded(_ sha: String?) {
        guard let sha else { return }
        _ = try? database.write { tx in
            guard try Self.insertUnreferenced(tx, [(sha, 0)]) == 1 else { return }
            try contents.remove(sha)
            try tx.execute("DELETE FROM contents WHERE sha256 = ?", [.text(sha)])
        }
    }

    /// Whether an upload whose messages are all here (`requests`) is received, checked and
    /// queued without blocking, so its RPC handler may run on the event loop
    /// (``RPCRouter/registerStreamingCompleting(_:runsInline:_:)``): group commit on, no ticket
    /// whose access would be read first, and at most ``uploadInlineMaxBytes`` (kept in memory
    /// and in the row: no file; hashed in microseconds).
    public func uploadRunsWithoutBlocking(_ requests: [IntakeV1.UploadAttachmentRequest]) -> Bool {
        guard uploadCommits != nil, let first = requests.first, first.ticketID.isEmpty else { return false }
        var bytes = 0
        for request in requests { bytes += request.data.count }
        return bytes <= min(Self.uploadInlineMaxBytes, Int(settings.inlineContentMaxBytes))
    }

    /// The largest upload ``uploadRunsWithoutBlocking(_:)`` lets run on the event loop: 64 KiB.
    static let uploadInlineMaxBytes = 64 << 10

    /// Receives, checks and hashes an upload (see ``upload(first:next:caller:)``) and returns
    /// the transaction body that records it.
    private func receiveUpload(first: IntakeV1.UploadAttachmentRequest, next: () throws -> IntakeV1.UploadAttachmentRequest?,
                               caller: Caller) throws -> ReceivedUpload {
        var violations = Violations()
        Self.checkInternal(first.`internal`, caller: caller, into: &violations)
        let fileName = Self.checkedFileName(first.fileName, field: "file_name", into: &violations)
        let contentType = Self.checkedContentType(first.contentType, field: "content_type", into: &violations)
        let describedFirst = !first.sha256.isEmpty
        if describedFirst { Self.checkDescription(sha256: first.sha256, sizeBytes: first.sizeBytes, into: &violations) }
        try violations.check()
        if first.sizeBytes > settings.maxFileBytes { throw tooLarge() }
        // Before a byte is received: an agent workflow hides the ticket from stores nothing.
        if !first.ticketID.isEmpty { try requireTicketAccess(reference: first.ticketID, caller: caller, toAct: !first.`internal`) }

        let upload = ContentUpload(store: contents, inlineLimit: settings.inlineContentMaxBytes)
        defer { upload.abort() }
        // A full disk or an unwritable store is said as such (``storeFailure(_:)``), not as an internal error.
        try Self.contentStoreCalls { try upload.append(first.data) }
        var announcedSHA = first.sha256
        var announcedSize = first.sizeBytes
        while let chunk = try next() {
            try Self.contentStoreCalls { try upload.append(chunk.data) }
            if upload.size > settings.maxFileBytes { throw tooLarge() }
            if !describedFirst && !chunk.sha256.isEmpty {
                announcedSHA = chunk.sha256
                announcedSize = chunk.sizeBytes
            }
        }
        if !describedFirst {
            var trailing = Violations()
            Self.checkDescription(sha256: announcedSHA, sizeBytes: announcedSize, into: &trailing)
            try trailing.check()
        }
        let announced = announcedSHA.lowercased()
        if upload.size != announcedSize {
            var sizeViolation = Violations()
            sizeViolation.add("size_bytes", "size_mismatch", pt: "Recebidos \(upload.size) bytes, anunciados \(announcedSize).",
                              en: "Received \(upload.size) bytes, announced \(announcedSize).")
            try sizeViolation.check("envio incompleto / incomplete upload")
        }
        let content: UploadedContent
        do { content = try Self.contentStoreCalls { try upload.commit(expected: announced) } } catch let mismatch as ContentMismatch {
            var hashViolation = Violations()
            hashViolation.add("sha256", "sha256_mismatch", pt: "O conteúdo recebido tem SHA-256 \(mismatch.actual).",
                              en: "The received content has SHA-256 \(mismatch.actual).")
            try hashViolation.check("conteúdo diferente do anunciado / content does not match its hash")
            throw mismatch
        }
        let sha = content.sha256
        var ref = CommonV1.AttachmentRef()
        ref.id = Self.newID()
        ref.fileName = fileName
        ref.contentType = contentType
        ref.sizeBytes = upload.size
        ref.sha256 = sha
        ref.`internal` = first.`internal`
        let stored = ref
        let ticketID = first.ticketID
        // Concurrent uploads share a transaction and its COMMIT, like opens (``GroupCommit``):
        // each runs in its own savepoint and keeps its own outcome.
        let organizationID = caller.isCustomer ? caller.principal.organizationID : ""
        let file: String?
        if case .file = content { file = sha } else { file = nil }
        return ReceivedUpload(file: file) { [self] tx in
            let inlineBytes: [UInt8]?
            if case .inline(_, let bytes) = content { inlineBytes = bytes } else { inlineBytes = nil }
            if let batch = tx as? OpenBatch, let inlineBytes, ticketID.isEmpty, !stored.`internal` {
                // In a batch, a pending upload stored in its row writes nothing that can fail on a
                // constraint: its rows go out with the batch's others before COMMIT (one statement
                // for all contents and one for all attachment rows, instead of two per upload).
                batch.deferFiles(contents: [OpenBatch.DeferredContent(sha256: sha, sizeBytes: stored.sizeBytes, bytes: inlineBytes)],
                                 attachments: [Self.attachmentValues(stored, uploaderID: caller.id, organizationID: organizationID, ticketID: nil,
                                                                     createdAt: Self.now(), position: 0)])
                if batch.existingContents == nil { batch.existingContents = { [self] in try ensureStored($0, $1) } }
                return stored
            }
            try storeContents(tx, [(sha, stored.sizeBytes, inlineBytes)])
            try insertAttachments(tx, [stored], uploaderID: caller.id, organizationID: organizationID, ticketID: nil)
            if stored.`internal` { try markInternal(tx, [stored]) }
            if !ticketID.isEmpty {
                let ticket = try visibleTicket(tx, ticketID, caller: caller)
                guard ticket.status != TicketStore.cancelled else {
                    throw RPCError(.failedPrecondition, "ocorrência cancelada / ticket cancelled")
                }
                var linkViolations = Violations()
                let refs = try pendingAttachments(tx, ids: [stored.id], field: "data", caller: caller,
                                                  ticketID: ticket.id, violations: &linkViolations)
                try linkViolations.check()
                // After the files the ticket has (its own, not its replies').
                let next = try tx.queryOne("""
                    SELECT COALESCE(MAX(position) + 1, 0) AS next FROM attachments WHERE ticket_id = ? AND message_id = ''
                    """, [.text(ticket.id)])?.int("next") ?? 0
                try link(tx, refs, ticketID: ticket.id, organizationID: (ticket.organization?.id ?? ""), messageID: "", firstPosition: next,
                         totalField: "data")
                var event = IntakeV1.AttachmentAdded()
                event.ticketID = ticket.id
                event.code = ticket.code
                event.attachment = stored
                event.by = person(of: caller)
                event.addedAtMs = Self.now()
                try publisher.publish(tx, event: event, key: ticket.id)
            }
            return stored
        }
    }

    /// Records contents in the caller's transaction (one `INSERT` for all of them), each once
    /// per SHA-256: a content already stored keeps where it was stored (in its row or in a file);
    /// a new one is stored with `inline` bytes in its row, or as the file already renamed into
    /// place (`inline` nil). Every item is one attachment row the caller inserts next
    /// (``insertAttachments(_:_:uploaderID:organizationID:ticketID:createdAt:messageID:)``): each
    /// content's `ref_count` grows by the items naming it.
    ///
    /// The garbage collector may have removed a content (no attachment referred to it) between
    /// an upload's rename and this transaction; its delete and ours are serialized on the content
    /// row, so checking here means no attachment points at missing content. A row this
    /// transaction wrote with the bytes in it needs no check; an existing row whose file is gone
    /// (only after a crash) gets the bytes in its row when they are at hand.
    /// - Throws: `ABORTED` when a content is neither stored nor at hand (the upload is to be sent again).
    func storeContents(_ tx: any SQLExecutor, _ items: [(sha256: String, sizeBytes: Int64, inline: [UInt8]?)]) throws {
        var references: [String: Int64] = [:]
        for item in items { references[item.sha256, default: 0] += 1 }
        var seen = Set<String>()
        let unique = items.filter { seen.insert($0.sha256).inserted }
        guard !unique.isEmpty else { return }
        let now = Self.now()
        let rows = Array(repeating: "(?, ?, ?, ?, ?)", count: unique.count).joined(separator: ", ")
        var values: [SQLValue] = []
        values.reserveCapacity(unique.count * 5)
        for item in unique {
            values += [.text(item.sha256), .integer(item.sizeBytes), .integer(now), item.inline.map { .blob($0) } ?? .null,
                       .integer(references[item.sha256] ?? 1)]
        }
        let inserted: Set<String>
        if unique.count == 1 {
            inserted = try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data, ref_count) VALUES \(rows) ON CONFLICT (sha256) DO NOTHING",
                                      values) == 1 ? [unique[0].sha256] : []
        } else {
            inserted = Set(try tx.query("INSERT INTO contents (sha256, size_bytes, stored_at, data, ref_count) VALUES \(rows) ON CONFLICT (sha256) DO NOTHING RETURNING sha256",
                                        values).map { try $0.text("sha256") })
        }
        for item in unique where !inserted.contains(item.sha256) {
            guard try !addReferences(tx, item.sha256, references[item.sha256] ?? 1, restoring: item.inline, sizeBytes: item.sizeBytes) else { continue }
            throw Self.contentRemoved
        }
        for item in unique where !(inserted.contains(item.sha256) && item.inline != nil) {
            guard try !contentIsStored(tx, item.sha256) else { continue }
            if let bytes = item.inline, inserted.contains(item.sha256) == false {
                try tx.execute("UPDATE contents SET data = ? WHERE sha256 = ?", [.blob(bytes), .text(item.sha256)])
                continue
            }
            throw Self.contentRemoved
        }
    }

    /// A content removed by the garbage collector before the transaction recording its
    /// attachment, with no bytes at hand to store it again: the upload is to be sent again.
    static let contentRemoved = RPCError(.aborted, "conteúdo removido durante o envio; envie de novo / content removed during the upload; upload again")

    /// Contents whose row was already there when an open's files were written with its batch
    /// (``OpenBatch/finish()``): each is readable, or gets the bytes at hand in its row.
    /// Counts the batch's attachments on each in `ref_count`.
    func ensureStored(_ tx: any SQLExecutor, _ contents: [OpenBatch.DeferredContent]) throws {
        for content in contents {
            try addReferences(tx, content.sha256, content.references, restoring: content.bytes, sizeBytes: content.sizeBytes)
            if try !contentIsStored(tx, content.sha256) {
                try tx.execute("UPDATE contents SET data = ? WHERE sha256 = ?", [.blob(content.bytes), .text(content.sha256)])
            }
        }
    }

    /// Counts `count` more attachment rows naming the content `sha`, whose row this
    /// transaction's `INSERT … ON CONFLICT DO NOTHING` found already there.
    ///
    /// Taking the row's lock orders this transaction against the garbage collector, which
    /// deletes a content only at `ref_count = 0`
    /// (``collectGarbage(pendingOlderThanMilliseconds:batchSize:)``). On PostgreSQL the collector
    /// may have deleted it between that `INSERT` and this `UPDATE`: the row is then written again
    /// with `restoring` bytes when they are at hand.
    /// - Returns: false when the row is gone and no bytes were at hand to write it again.
    @discardableResult
    func addReferences(_ tx: any SQLExecutor, _ sha: String, _ count: Int64, restoring bytes: [UInt8]?, sizeBytes: Int64) throws -> Bool {
        guard count > 0 else { return true }
        if try tx.execute("UPDATE contents SET ref_count = ref_count + ? WHERE sha256 = ?", [.integer(count), .text(sha)]) == 1 { return true }
        guard let bytes else { return false }
        try tx.execute("INSERT INTO contents (sha256, size_bytes, stored_at, data, ref_count) VALUES (?, ?, ?, ?, ?)",
                       [.text(sha), .integer(sizeBytes), .integer(Self.now()), .blob(bytes), .integer(count)])
        return true
    }

    /// The columns of an `attachments` row as ``attachmentValues(_:uploaderID:organizationID:ticketID:createdAt:position:)`` gives them.
    static let attachmentColumns = "id, sha256, file_name, content_type, size_bytes, uploader_id, organization_id, ticket_id, created_at, position"
    static let attachmentColumnCount = 10

    /// The values of one `attachments` row, in the order of ``attachmentColumns``.
    /// - Parameter position: Its place among the files of its ticket (or reply), from 0 in the
    ///   order the open or reply gave them; 0 for a pending upload (set when it is linked).
    static func attachmentValues(_ ref: CommonV1.AttachmentRef, uploaderID: String, organizationID: String, ticketID: String?,
                                 createdAt: Int64, position: Int64) -> [SQLValue] {
        [.text(ref.id), .text(ref.sha256), .text(ref.fileName), .text(ref.contentType), .integer(ref.sizeBytes),
         .text(uploaderID), .text(organizationID), ticketID.map { .text($0) } ?? .null, .integer(createdAt), .integer(position)]
    }

    /// Inserts attachment rows for stored contents (one `INSERT` for all of them): pending
    /// uploads (`ticketID` nil), files put on a ticket as it is opened, or files of a reply
    /// (`messageID`, the reply's message), at positions `firstPosition`, `firstPosition + 1`, … in
    /// the order of `refs`, or at `positions` (one per ref) when given.
    func insertAttachments(_ tx: any SQLExecutor, _ refs: [CommonV1.AttachmentRef], uploaderID: String, organizationID: String,
                           ticketID: String?, createdAt: Int64? = nil, messageID: String? = nil, firstPosition: Int64 = 0,
                           positions: [Int64]? = nil) throws {
        guard !refs.isEmpty else { return }
        let now = createdAt ?? Self.now()
        let width = Self.attachmentColumnCount + (messageID == nil ? 0 : 1)
        let row = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
        let rows = Array(repeating: row, count: refs.count).joined(separator: ", ")
        var values: [SQLValue] = []
        values.reserveCapacity(refs.count * width)
        for (index, ref) in refs.enumerated() {
            values += Self.attachmentValues(ref, uploaderID: uploaderID, organizationID: organizationID, ticketID: ticketID, createdAt: now,
                                            position: positions?[index] ?? firstPosition + Int64(index))
            if let messageID { values.append(.text(messageID)) }
        }
        let columns = Self.attachmentColumns + (messageID == nil ? "" : ", message_id")
        try tx.execute("INSERT INTO attachments (\(columns)) VALUES \(rows)", values)
    }

    /// Whether the content `sha` is there to be read: in its `contents` row, or as a file.
    public func contentIsStored(_ tx: any SQLExecutor, _ sha: String) throws -> Bool {
        guard let row = try tx.queryOne("SELECT CASE WHEN data IS NULL THEN 0 ELSE 1 END AS inline FROM contents WHERE sha256 = ?", [.text(sha)]) else {
            return false
        }
        return try row.bool("inline") || contents.contains(sha)
    }

    /// At most this many uploads are named in one call (an open, a reply, `AddFiles`): far above
    /// what a form sends (600 are tested), and naming each unknown one stays well inside an RPC
    /// frame (40,000 ids made a 6 MB error the caller never received, after seconds of work).
    static let maxNamedUploads = 1_000

    /// Adds `too_many` on `field` and returns true when `ids` names more than ``maxNamedUploads``.
    static func tooManyUploads(_ ids: [String], field: String, _ violations: inout Violations) -> Bool {
        guard ids.count > maxNamedUploads else { return false }
        violations.add(field, "too_many", pt: "No máximo \(maxNamedUploads) anexos enviados antes.",
                       en: "At most \(maxNamedUploads) uploaded files.")
        return true
    }

    /// Attachments named by `ids` that `caller` uploaded and that are on no ticket yet, checked
    /// against the ticket's total limit; every problem is added to `violations`.
    /// - Parameters:
    ///   - alsoBytes: Files added with them (an open's own files), counted in the total too.
    ///   - totalField: Where the ticket's total is reported (default `field`).
    func pendingAttachments(_ tx: any SQLExecutor, ids: [String], field: String, caller: Caller, ticketID: String?,
                            alsoBytes: Int64 = 0, totalField: String? = nil,
                            violations: inout Violations) throws -> [CommonV1.AttachmentRef] {
        if Self.tooManyUploads(ids, field: field, &violations) { return [] }
        var found: [String: CommonV1.AttachmentRef] = [:]
        if let query = Self.pendingQuery(ids: ids, uploaderID: caller.id, engine: tx.engine) {
            // One statement for all the files named (in a group-commit batch on PostgreSQL, read
            // ahead with the batch's other reads).
            let batch = tx as? OpenBatch
            for row in try tx.query(query.sql, query.params) {
                let ref = try Self.attachmentRef(row)
                // Put on its ticket by an earlier open of the same batch, maybe not written yet.
                if batch?.isClaimed(ref.id) == true { continue }
                found[ref.id] = ref
            }
        }
        var refs: [CommonV1.AttachmentRef] = []
        var seen = Set<String>()
        for (index, id) in ids.enumerated() {
            guard seen.insert(id).inserted else { continue }
            guard let ref = found[id] else {
                violations.add("\(field)[\(index)]", "not_found", pt: "Anexo não encontrado ou já usado.",
                               en: "Attachment not found or already used.")
                continue
            }
            refs.append(ref)
        }
        let existing = try ticketID.map { try tx.scalar("SELECT attachment_bytes FROM tickets WHERE id = ?", [.text($0)]) }
        var total: Int64 = 0
        if case .integer(let bytes)? = existing { total = bytes }
        total += refs.reduce(0) { $0 + $1.sizeBytes } + alsoBytes
        if total > settings.maxTicketBytes { violations.add(ticketTooLarge(totalField ?? field)) }
        return refs
    }

    /// The statement reading the pending uploads `ids` (each once, in order) of `uploaderID`, `nil`
    /// for none. On PostgreSQL their rows are locked (`FOR UPDATE`) until the transaction ends,
    /// so nothing else (another open, a reply, the garbage collector) changes them between this
    /// read and the `UPDATE` that puts them on a ticket, which a group-commit batch sends with its
    /// other rows just before `COMMIT` (``OpenBatch/finish()``). SQLite's single writer already
    /// holds them.
    static func pendingQuery(ids: [String], uploaderID: String, engine: DatabaseEngine) -> (sql: String, params: [SQLValue])? {
        var unique: [String] = []
        var seen = Set<String>()
        for id in ids where seen.insert(id).inserted { unique.append(id) }
        guard !unique.isEmpty else { return nil }
        let marks = Array(repeating: "?", count: unique.count).joined(separator: ", ")
        return ("""
            SELECT id, sha256, file_name, content_type, size_bytes, internal FROM attachments
            WHERE id IN (\(marks)) AND uploader_id = ? AND ticket_id IS NULL\(engine == .postgres ? " FOR UPDATE" : "")
            """, unique.map { .text($0) } + [.text(uploaderID)])
    }

    /// Puts `refs` on a ticket (and a message of it) in the caller's transaction, with one
    /// `UPDATE` per 256 of them, at positions `firstPosition`, `firstPosition + 1`, … in the order
    /// of `refs`: the ticket (or message) lists its files by position, so in the order the open
    /// or reply named them whenever they were uploaded (two uploads in one millisecond have ids
    /// in random order, ``RandomID``).
    /// - Parameter positions: One position per ref instead (an open placing its own files,
    ///   ``FilePositions``).
    /// - Parameter addToTicketTotal: Adds their size to the ticket's `attachment_bytes`; a
    ///   ticket being opened writes its total with its row instead.
    /// - Parameter totalField: Where a total over the ticket's limit is reported
    ///   (``addAttachmentBytes(_:ticketID:_:field:)``).
    func link(_ tx: any SQLExecutor, _ refs: [CommonV1.AttachmentRef], ticketID: String, organizationID: String, messageID: String,
              firstPosition: Int64 = 0, positions: [Int64]? = nil, addToTicketTotal: Bool = true,
              totalField: String = "attachment_ids") throws {
        guard !refs.isEmpty else { return }
        // A later open of the same group-commit batch naming one of them finds it used.
        (tx as? OpenBatch)?.claim(refs.map(\.id))
        // In statements of at most 256 files (three parameters each), well within either engine's limit.
        for start in stride(from: 0, to: refs.count, by: 256) {
            let chunk = refs[start..<min(start + 256, refs.count)]
            func place(_ index: Int) -> Int64 { positions?[index] ?? firstPosition + Int64(index) }
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            var values: [SQLValue] = [.text(ticketID), .text(organizationID), .text(messageID)]
            let position: String
            if chunk.count == 1 {
                position = "?"
                values.append(.integer(place(start)))
            } else {
                // (Typed: PostgreSQL would take a CASE of untyped parameters for text.)
                position = "CASE id" + String(repeating: " WHEN ? THEN CAST(? AS BIGINT)", count: chunk.count) + " END"
                for (offset, ref) in chunk.enumerated() { values += [.text(ref.id), .integer(place(start + offset))] }
            }
            let updated = try tx.execute("""
                UPDATE attachments SET ticket_id = ?, organization_id = ?, message_id = ?, position = \(position)
                WHERE id IN (\(marks)) AND ticket_id IS NULL
                """, values + chunk.map { .text($0.id) })
            if updated != chunk.count { throw RPCError(.aborted, "anexo usado ao mesmo tempo / attachment used concurrently") }
        }
        if addToTicketTotal {
            try addAttachmentBytes(tx, ticketID: ticketID, refs.reduce(0) { $0 + $1.sizeBytes }, field: totalField)
        }
    }

    /// Adds `bytes` of files put on an existing ticket to its `attachment_bytes` (the total its
    /// limit is checked against; a ticket being opened writes it with its row), only while the
    /// total stays within ``IntakeSettings/maxTicketBytes``.
    ///
    /// The limit was checked before, on the total read without a lock
    /// (``pendingAttachments(_:ids:field:caller:ticketID:alsoBytes:totalField:violations:)``); two
    /// replies or uploads on one ticket at once (PostgreSQL) both passed that check on the same
    /// old total and together went over the limit. The `UPDATE`'s own condition is evaluated on
    /// the row as it is when the update takes its lock (after a concurrent writer committed), so
    /// the later one is refused here instead.
    /// - Throws: `INVALID_ARGUMENT`, `ticket_too_large` on `field`, when the total would pass the limit.
    func addAttachmentBytes(_ tx: any SQLExecutor, ticketID: String, _ bytes: Int64, field: String) throws {
        guard bytes > 0 else { return }
        let updated = try tx.execute("""
            UPDATE tickets SET attachment_bytes = attachment_bytes + CAST(? AS BIGINT)
            WHERE id = ? AND attachment_bytes + CAST(? AS BIGINT) <= CAST(? AS BIGINT)
            """, [.integer(bytes), .text(ticketID), .integer(bytes), .integer(settings.maxTicketBytes)])
        guard updated == 0 else { return }
        var violations = Violations()
        violations.add(ticketTooLarge(field))
        try violations.check()
    }

    /// The violation of files that would take a ticket's attachments over ``IntakeSettings/maxTicketBytes``.
    func ticketTooLarge(_ field: String) -> FieldViolation {
        FieldViolation(field: field, reason: "ticket_too_large",
                       pt: "Os anexos da ocorrência passariam de \(settings.maxTicketBytes) bytes.",
                       en: "The ticket's attachments would exceed \(settings.maxTicketBytes) bytes.")
    }

    /// Streams a stored attachment, byte-exact, in chunks of `chunkBytes`.
    /// - Throws: `NOT_FOUND` for an attachment the caller may not see (another organization's,
    ///   an internal one to a customer or representative, one on a ticket workflow hides from an
    ///   agent (``requireTicketAccess(_:caller:)``), and another's pending upload to such an
    ///   agent, are indistinguishable from a missing one).
    public func download(_ request: IntakeV1.DownloadAttachmentRequest, caller: Caller,
                         send: (IntakeV1.DownloadAttachmentChunk) throws -> Void) throws {
        let (row, callerOrganization, representativeMayRead, ticket) = try database.read { tx in
            let row = try tx.queryOne("""
                SELECT a.id, a.sha256, a.file_name, a.content_type, a.size_bytes, a.uploader_id, a.organization_id, a.ticket_id,
                       a.internal, c.data
                FROM attachments a JOIN contents c ON c.sha256 = a.sha256 WHERE a.id = ?
                """, [.text(request.attachmentID)])
            let organization = row.flatMap { $0.optionalText("organization_id") } ?? ""
            var representativeMayRead = false
            if caller.isRepresentative, row?["ticket_id"].isNull == false {
                representativeMayRead = try representativeActs(tx, caller, organizationID: organization)
            }
            // The file's ticket, for workflow's check of an agent.
            var ticket: IntakeV1.Ticket?
            if caller.needsWorkflowAccess, let ticketID = row?.optionalText("ticket_id") {
                ticket = try TicketStore.ticket(tx, reference: ticketID)
            }
            return (row, try verifiedOrganization(tx, caller), representativeMayRead, ticket)
        }
        guard let row else { throw RPCError(.notFound, "anexo não encontrado / attachment not found") }
        let onTicket = !row["ticket_id"].isNull
        let visible: Bool
        if caller.needsWorkflowAccess {
            if onTicket {
                guard let ticket else { throw RPCError(.notFound, "anexo não encontrado / attachment not found") }
                do { try requireTicketAccess(ticket, caller: caller) } catch let error as RPCError where error.code == .notFound {
                    throw RPCError(.notFound, "anexo não encontrado / attachment not found")
                }
                visible = true
            } else {
                // A pending upload is on no ticket yet: only its uploader reads it.
                visible = try row.text("uploader_id") == caller.id
            }
        } else if caller.isStaffOrSystem {
            visible = true
        } else if try row.bool("internal") {
            // Staff-only evidence: to a customer or representative, exactly like a missing file.
            visible = false
        } else if onTicket && caller.isRepresentative {
            visible = representativeMayRead
        } else if onTicket {
            let organization = try row.text("organization_id")
            visible = caller.canSee(organizationID: organization) && callerOrganization == organization
        } else {
            visible = try row.text("uploader_id") == caller.id
        }
        guard visible else { throw RPCError(.notFound, "anexo não encontrado / attachment not found") }
        let ref = try Self.attachmentRef(row)
        // Small contents live in their row (``ContentUpload``), larger ones in the file store.
        let inline = try row.optionalBlob("data")
        if let inline, inline.count != ref.sizeBytes { throw RPCError(.dataLoss, "conteúdo truncado / truncated content") }
        let chunk = request.chunkBytes <= 0 ? 1 << 20 : min(Int(request.chunkBytes), 2 << 20)
        var offset: Int64 = 0
        var first = true
        repeat {
            var message = IntakeV1.DownloadAttachmentChunk()
            if first { message.attachment = ref }
            message.offset = offset
            let length = Int(min(Int64(chunk), ref.sizeBytes - offset))
            if length <= 0 {
                message.data = []
            } else if let inline {
                message.data = Array(inline[Int(offset)..<(Int(offset) + length)])
            } else {
                message.data = try readStored(ref.sha256, offset: offset, length: length)
            }
            offset += Int64(message.data.count)
            try send(message)
            if length > 0 && message.data.isEmpty { throw RPCError(.dataLoss, "conteúdo truncado / truncated content") }
            first = false
        } while offset < ref.sizeBytes
    }

    /// An attachment as its row (`id, sha256, file_name, content_type, size_bytes`, and
    /// `internal` when selected) gives it.
    static func attachmentRef(_ row: Row) throws -> CommonV1.AttachmentRef {
        var ref = CommonV1.AttachmentRef()
        ref.id = try row.text("id")
        ref.sha256 = try row.text("sha256")
        ref.fileName = try row.text("file_name")
        ref.contentType = try row.text("content_type")
        ref.sizeBytes = try row.int("size_bytes")
        if case .integer(let flag) = row["internal"] { ref.`internal` = flag != 0 }
        return ref
    }

    /// Only staff mark a file internal: a customer or representative asking for it gets a
    /// violation on `internal` (INVALID_ARGUMENT), not a silently public file.
    static func checkInternal(_ requested: Bool, caller: Caller, into violations: inout Violations) {
        guard requested, !caller.isStaffOrSystem else { return }
        violations.add("internal", "staff_only", pt: "Apenas a equipe marca um arquivo como interno.",
                       en: "Only staff mark a file as internal.")
    }

    /// Marks `refs`' rows internal in the caller's transaction (one `UPDATE` per 256 of them).
    func markInternal(_ tx: any SQLExecutor, _ refs: [CommonV1.AttachmentRef]) throws {
        for start in stride(from: 0, to: refs.count, by: 256) {
            let chunk = refs[start..<min(start + 256, refs.count)]
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            try tx.execute("UPDATE attachments SET internal = 1 WHERE id IN (\(marks))", chunk.map { .text($0.id) })
        }
    }

    /// The name of a new file as it is stored (``cleanFileName(_:)``), with its violations (under
    /// `field`) added: required, at most 255 characters. Uploads and an open's own files alike.
    static func checkedFileName(_ name: String, field: String, into violations: inout Violations) -> String {
        let fileName = cleanFileName(name)
        violations.required(field, fileName)
        violations.maxLength(field, fileName, 255)
        // Characters, not bytes, above: one character may carry any number of combining marks
        // ("x" and 5,000 accents is one character of 10,001 bytes).
        if fileName.utf8.count > fileNameMaxBytes && fileName.count <= 255 {
            violations.add(field, "too_long", pt: "No máximo \(fileNameMaxBytes) bytes (UTF-8).", en: "At most \(fileNameMaxBytes) bytes (UTF-8).")
        }
        return fileName
    }

    /// The most bytes a file name takes in UTF-8: 255 characters of 4 bytes.
    static let fileNameMaxBytes = 1_020

    /// The content type of a new file as it is stored: `application/octet-stream` when none is
    /// given; at most 255 characters, no control characters (a violation under `field`): a type
    /// is sent back as a header (`Content-Type` of the gateway's download, a mail part's).
    static func checkedContentType(_ declared: String, field: String, into violations: inout Violations) -> String {
        violations.maxLength(field, declared, 255)
        if declared.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            violations.add(field, "invalid_content_type", pt: "Tipo de conteúdo com caracteres de controle.",
                           en: "Content type with control characters.")
        }
        return declared.isEmpty ? "application/octet-stream" : declared
    }

    /// The violation of a file over `limit` bytes.
    static func fileTooLarge(_ field: String, limit: Int64) -> FieldViolation {
        FieldViolation(field: field, reason: "file_too_large", pt: "O limite por arquivo é \(limit) bytes.",
                       en: "The limit per file is \(limit) bytes.")
    }

    /// The last path component, without control characters (C0, DEL and C1) nor the invisible
    /// characters that change how a name reads (bidirectional overrides, embeddings, isolates
    /// and marks: "fatura\u{202E}fdp.exe" shows as "fatura" + "exe.pdf"; a zero-width space), in
    /// Unicode's composed form (NFC: "é" typed as "e" + U+0301 is stored as "é", as other
    /// systems write it).
    static func cleanFileName(_ name: String) -> String {
        // The usual name (printable ASCII, no path separator, no space at either end) is already
        // clean: returned without Foundation's trimming, which cost ≈ 3 µs per file.
        let utf8 = name.utf8
        if let first = utf8.first, let last = utf8.last, first != 0x20, last != 0x20,
           utf8.allSatisfy({ (0x20...0x7E).contains($0) && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\\") }) {
            return name
        }
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: last.unicodeScalars.filter { !hiddenInFileNames($0.value) })
        return String(kept).precomposedStringWithCanonicalMapping.trimmingCharacters(in: .whitespaces)
    }

    /// Scalars ``cleanFileName(_:)`` removes: C0 controls, DEL, C1 controls, the bidirectional
    /// formatting characters (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069) and the
    /// zero-width space, word joiner and byte order mark (U+200B, U+2060, U+FEFF; the joiners
    /// U+200C–U+200D stay: scripts and emoji sequences need them).
    static func hiddenInFileNames(_ value: UInt32) -> Bool {
        switch value {
        case 0..<0x20, 0x7F...0x9F, 0x061C, 0x200B, 0x200E...0x200F, 0x202A...0x202E, 0x2060, 0x2066...0x2069, 0xFEFF: true
        default: false
        }
    }

    /// An announced SHA-256 is 64 hex digits; a size is not negative.
    static func checkDescription(sha256: String, sizeBytes: Int64, into violations: inout Violations) {
        // (64 ASCII hex digits, checked on the bytes; anything else as Character.isHexDigit says.)
        let asciiHex = sha256.utf8.count == 64 && sha256.utf8.allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0)
        }
        if !asciiHex && (sha256.count != 64 || !sha256.allSatisfy({ $0.isHexDigit })) {
            violations.add("sha256", "invalid_sha256", pt: "Informe o SHA-256 do arquivo (64 dígitos hexadecimais).",
                           en: "Give the file's SHA-256 (64 hex digits).")
        }
        if sizeBytes < 0 {
            violations.add("size_bytes", "negative", pt: "Tamanho inválido.", en: "Invalid size.")
        }
    }

    private func tooLarge() -> RPCError {
        RPCError(.resourceExhausted, "arquivo maior que \(settings.maxFileBytes) bytes / file larger than \(settings.maxFileBytes) bytes",
                 violations: [Self.fileTooLarge("size_bytes", limit: settings.maxFileBytes)])
    }
}
