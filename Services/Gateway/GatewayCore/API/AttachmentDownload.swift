import Messages
import RPC
import RPCTransport

/// `GET /v1/attachments/{id}`: intake's `DownloadAttachment` relayed as it arrives. The first
/// chunk is awaited before answering (so a missing or hidden file is a JSON 404/403, not a cut
/// body); the rest is read from intake while the HTTP body is sent, in chunks of
/// ``AttachmentUpload/chunkBytes`` (with the call's flow-control window, at most ≈ 4 MiB of one
/// download is in the gateway at a time).
enum AttachmentDownload {
    /// The answer: headers from the attachment's description, the body streamed.
    static func response(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        var ask = IntakeV1.DownloadAttachmentRequest()
        ask.attachmentID = request.parameter("id")
        ask.chunkBytes = Int32(AttachmentUpload.chunkBytes)
        let stream = try context.gateway.runtime.client(for: "intake").serverStream(
            IntakeV1.Intake.downloadAttachment, ask,
            options: context.transferCallOptions())
        let first: IntakeV1.DownloadAttachmentChunk?
        do { first = try stream.receive() } catch {
            stream.cancel()
            throw error
        }
        let reference = first?.attachment ?? CommonV1.AttachmentRef()
        let type = reference.contentType.isEmpty ? "application/octet-stream" : reference.contentType
        let safeName = reference.fileName.filter { $0.isLetter || $0.isNumber || "._- ".contains($0) }
        return HTTPResponse(status: 200, headers: [("Content-Type", type),
                                                   ("Content-Disposition", "attachment; filename=\"\(safeName)\""),
                                                   ("Content-Security-Policy", "sandbox")],
                            source: StreamedChunks(stream: stream, first: first?.data ?? [], ended: first == nil) { $0.data },
                            length: first == nil ? 0 : reference.sizeBytes)
    }
}
