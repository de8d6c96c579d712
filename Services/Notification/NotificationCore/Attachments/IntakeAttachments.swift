import Foundation
import Messages
import RPC
import RPCTransport

/// Fetches attachments stored by intake for an on-demand e-mail, over intake's server-streaming
/// `DownloadAttachment`, with the caller's identity (intake decides what the caller may read),
/// within a byte budget, checking each file's SHA-256 against intake's reference.
struct IntakeAttachments {
    let client: RPCClient
    /// The caller's signed principal, forwarded to intake.
    let metadata: [String: String]
    var timeoutMilliseconds = 60_000

    /// - Parameters:
    ///   - refs: the request's references (only `id` is needed).
    ///   - budget: bytes allowed for all of them together.
    /// - Throws: ``RPCError``: NOT_FOUND for an attachment intake does not show the caller,
    ///   INVALID_ARGUMENT when the files exceed the budget, DATA_LOSS on a checksum mismatch,
    ///   UNAVAILABLE when intake cannot be reached.
    func fetch(_ refs: [CommonV1.AttachmentRef], budget: Int) throws -> [MailAttachment] {
        var left = budget
        var files: [MailAttachment] = []
        for (index, ref) in refs.enumerated() {
            let field = "attachment_refs[\(index)]"
            guard !ref.id.isEmpty else { throw Access.required(field, "Informe o anexo.", "Attachment id is required.") }
            var request = IntakeV1.DownloadAttachmentRequest()
            request.attachmentID = ref.id
            let stream: ResponseStream<IntakeV1.DownloadAttachmentChunk>
            do {
                stream = try client.serverStream(IntakeV1.Intake.downloadAttachment, request,
                                                  options: CallOptions(timeoutMilliseconds: timeoutMilliseconds, metadata: metadata))
            } catch let error as RPCError {
                throw Self.translate(error, field: field)
            }
            var stored = CommonV1.AttachmentRef()
            var content: [UInt8] = []
            do {
                while let chunk = try stream.receive() {
                    if let attachment = chunk.attachment, !attachment.id.isEmpty {
                        stored = attachment
                        // Refuse before the content travels when intake announces too much.
                        guard attachment.sizeBytes <= Int64(left) else {
                            stream.cancel()
                            throw Self.tooLarge(field, budget: budget)
                        }
                        content.reserveCapacity(Int(attachment.sizeBytes))
                    }
                    guard content.count + chunk.data.count <= left else {
                        stream.cancel()
                        throw Self.tooLarge(field, budget: budget)
                    }
                    content += chunk.data
                }
            } catch let error as RPCError {
                throw Self.translate(error, field: field)
            }
            guard Int64(content.count) == stored.sizeBytes,
                  stored.sha256.isEmpty || Digest.hex(Digest.sha256(content)) == stored.sha256.lowercased() else {
                throw RPCError(.dataLoss, "anexo corrompido / attachment content does not match its checksum: \(ref.id)")
            }
            left -= content.count
            files.append(MailAttachment(fileName: stored.fileName.isEmpty ? ref.fileName : stored.fileName,
                                        contentType: stored.contentType.isEmpty ? (ref.contentType.isEmpty ? "application/octet-stream" : ref.contentType)
                                                                                : stored.contentType,
                                        content: content))
        }
        return files
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
