import Foundation
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
        return HTTPResponse(status: 200, headers: [("Content-Type", type),
                                                   ("Content-Disposition", Self.disposition(reference.fileName)),
                                                   ("Content-Security-Policy", "sandbox")],
                            source: StreamedChunks(stream: stream, first: first?.data ?? [], ended: first == nil) { $0.data },
                            length: first == nil ? 0 : reference.sizeBytes)
    }

    /// `attachment` with the file's name twice (RFC 6266): `filename="…"` in ASCII for old
    /// clients (accents folded, "relatório.pdf" → "relatorio.pdf", other characters `_`) and
    /// `filename*=UTF-8''…` percent-encoded, the name as stored, which browsers, `curl -J` and
    /// HTTP libraries prefer. (Before, only `filename` carried the raw UTF-8 bytes, which header
    /// parsers read as Latin-1: "aplicaÃ§Ã£o".)
    static func disposition(_ fileName: String) -> String {
        let kept = fileName.filter { $0.isLetter || $0.isNumber || "._- ()".contains($0) }
        let ascii = String(kept.folding(options: .diacriticInsensitive, locale: nil).map { $0.isASCII ? $0 : "_" })
        var value = "attachment; filename=\"\(ascii.isEmpty ? "arquivo" : ascii)\""
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        if kept != ascii, let encoded = kept.addingPercentEncoding(withAllowedCharacters: unreserved) {
            value += "; filename*=UTF-8''\(encoded)"
        }
        return value
    }
}
