import Foundation
import Messages
import RPC
import RPCTransport

/// Fetches attachments stored by intake for an on-demand e-mail, over intake's server-streaming
/// `DownloadAttachment`, with the caller's identity (intake decides what the caller may read),
/// within a byte budget, checking each file's SHA-256 against intake's reference. Each chunk is
/// base64-encoded into a spool file as it arrives (``AttachmentSpool``): a file is never whole in
/// memory.
struct IntakeAttachments {
    let client: RPCClient
    /// The caller's signed principal, forwarded to intake.
    let metadata: [String: String]
    let spool: AttachmentSpool
    var timeoutMilliseconds = 60_000
    /// The deadline of the call being served: a download ends with it (or after
    /// ``timeoutMilliseconds``, if sooner), not after the caller gave up.
    var deadline: Deadline?
    /// Bytes per chunk asked of intake.
    var chunkBytes = 256 << 10

    /// - Parameters:
    ///   - refs: the request's references (only `id` is needed).
    ///   - budget: bytes allowed for all of them together.
    /// - Throws: ``RPCError``: NOT_FOUND for an attachment intake does not show the caller,
    ///   INVALID_ARGUMENT when the files exceed the budget, DATA_LOSS on a checksum mismatch,
    ///   UNAVAILABLE when intake cannot be reached.
    func fetch(_ refs: [CommonV1.AttachmentRef], budget: Int) throws -> [SpooledAttachment] {
        var left = budget
        var files: [SpooledAttachment] = []
        do {
            for (index, ref) in refs.enumerated() {
                let file = try fetch(ref, field: "attachment_refs[\(index)]", left: left, budget: budget)
                files.append(file)
                left -= file.size
            }
        } catch {
            AttachmentSpool.remove(files)
            throw error
        }
        return files
    }

    private func fetch(_ ref: CommonV1.AttachmentRef, field: String, left: Int, budget: Int) throws -> SpooledAttachment {
        guard !ref.id.isEmpty else { throw Access.required(field, "Informe o anexo.", "Attachment id is required.") }
        var request = IntakeV1.DownloadAttachmentRequest()
        request.attachmentID = ref.id
        request.chunkBytes = Int32(chunkBytes)
        let stream: ResponseStream<IntakeV1.DownloadAttachmentChunk>
        do {
            let own = Deadline.after(milliseconds: timeoutMilliseconds)
            stream = try client.serverStream(IntakeV1.Intake.downloadAttachment, request,
                                              options: CallOptions(deadline: deadline.map { min($0, own) } ?? own, metadata: metadata))
        } catch let error as RPCError {
            throw Self.translate(error, field: field)
        }
        let (path, handle) = try spool.create()
        var kept = false
        defer {
            try? handle.close()
            if !kept { try? FileManager.default.removeItem(atPath: path) }
        }
        var stored = CommonV1.AttachmentRef()
        var size = 0
        var encoder = Base64LineEncoder()
        var hash = Digest.SHA256Stream()
        do {
            while let chunk = try stream.receive() {
                if let attachment = chunk.attachment, !attachment.id.isEmpty {
                    stored = attachment
                    // Refuse before the content travels when intake announces too much.
                    guard attachment.sizeBytes <= Int64(left) else {
                        stream.cancel()
                        throw Self.tooLarge(field, budget: budget)
                    }
                }
                guard size + chunk.data.count <= left else {
                    stream.cancel()
                    throw Self.tooLarge(field, budget: budget)
                }
                size += chunk.data.count
                hash.update(chunk.data)
                try handle.write(contentsOf: encoder.feed(chunk.data))
            }
            try handle.write(contentsOf: encoder.finish())
        } catch let error as RPCError {
            throw Self.translate(error, field: field)
        }
        // Intake's first chunk names the file: a stream that ended without it is not a file.
        guard !stored.id.isEmpty, Int64(size) == stored.sizeBytes,
              stored.sha256.isEmpty || Digest.hex(hash.finish()) == stored.sha256.lowercased() else {
            throw RPCError(.dataLoss, "anexo corrompido / attachment content does not match its checksum: \(ref.id)")
        }
        kept = true
        return SpooledAttachment(fileName: stored.fileName.isEmpty ? ref.fileName : stored.fileName,
                                 contentType: stored.contentType.isEmpty ? (ref.contentType.isEmpty ? "application/octet-stream" : ref.contentType)
                                                                         : stored.contentType,
                                 path: path, size: size)
    }

    static func tooLarge(_ field: String, budget: Int) -> RPCError {
        Access.invalid(field, "Anexos acima do limite de \(budget) bytes.", "Attachments exceed the \(budget)-byte limit.")
    }

    /// Intake's answer in terms of this request.
    static func translate(_ error: RPCError, field: String) -> RPCError {
        switch error.code {
        case .notFound, .permissionDenied:
            RPCError(.notFound, "anexo não encontrado / attachment not found",
                     violations: [FieldViolation(field: field, reason: "not_found", pt: "Anexo não encontrado.", en: "Attachment not found.")])
        case .invalidArgument where !error.violations.isEmpty:
            error
        default:
            RPCError(error.code == .deadlineExceeded ? .unavailable : error.code,
                     "intake não entregou o anexo / intake did not deliver the attachment: \(error.message)")
        }
    }
}
