import Foundation

/// `POST /v1/tickets` as `multipart/form-data`: a `ticket` field holding the JSON the route takes
/// otherwise, and any number of files (fields with a file name). The ticket is opened through the
/// JSON route's own handler with the files added to it:
/// - a small file (one that fits ``InlineFileLimits``, the gateway's
///   ``HTTPServerConfiguration/inlineFiles``, also served at `GET /v1/file-limits`) is kept in memory and sent
///   inside intake's `OpenTicket` (`files`), so the open and its files are one call and one
///   transaction;
/// - a larger one is relayed to intake as an attachment while it arrives (``AttachmentUpload``)
///   and its id added to `attachment_ids`.
///
/// The ticket lists uploaded files first, then the small ones, each group in form order. The
/// whole form is bounded by ``HTTPServerConfiguration/maxUploadBytes``, the `ticket` field by
/// ``HTTPServerConfiguration/maxBodyBytes``. Files uploaded before a refusal stay unlinked and
/// intake's garbage collection removes them; small files of a refused open are never stored.
///
/// ```sh
/// curl -H "Authorization: Bearer $TOKEN" -F 'ticket={"subject":"...","request":"..."};type=application/json' \
///      -F files=@gravacao.webm -F files=@log.txt http://127.0.0.1:8080/v1/tickets
/// ```
final class TicketForm: RequestBodyConsumer {
    /// A small file held until the form ends.
    private struct HeldFile {
        var name: String
        var contentType: String
        var bytes: [UInt8] = []
    }

    private let request: HTTPRequest
    private let context: RequestContext
    private let open: @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse
    private let limit: Int
    private let ticketLimit: Int
    private var file: AttachmentUpload?
    private var held: HeldFile?
    private var ticket: [UInt8]?
    private var inTicket = false
    private var uploaded: [String] = []
    private var inline: [HeldFile] = []
    /// What is left of the open's inline allowance.
    private var budget: InlineFileLimits.Budget
    private var total = 0

    init(_ request: HTTPRequest, _ context: RequestContext, open: @escaping @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse) {
        self.request = request
        self.context = context
        self.open = open
        limit = context.gateway.configuration.http.maxUploadBytes
        ticketLimit = context.gateway.configuration.http.maxBodyBytes
        budget = context.gateway.configuration.http.inlineFiles.budget()
    }

    func write(part: HTTPFormPart, offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws {
        total += bytes.count
        guard total <= limit else { throw AttachmentUpload.tooLarge(limit) }
        if offset == 0 { try begin(part) }
        if held != nil {
            held!.bytes.append(contentsOf: bytes)
            if !fitsInline(held!.bytes.count) { try startUpload() }
        } else if let file {
            try file.write(bytes)
        } else if inTicket {
            ticket!.append(contentsOf: bytes)
            guard ticket!.count <= ticketLimit else { throw APIError.tooLarge }
        }
    }

    func finish() throws -> HTTPResponse {
        try endFile()
        guard let ticket else {
            throw APIError.invalid("ticket", "required", pt: "Envie o campo \"ticket\" com a ocorrência em JSON.",
                                   en: "Send the \"ticket\" field with the ticket as JSON.")
        }
        guard var object = (try? JSONSerialization.jsonObject(with: Data(ticket))) as? [String: Any] else {
            throw APIError.invalid("ticket", "invalid_json", pt: "O campo \"ticket\" não é um objeto JSON.", en: "The \"ticket\" field is not a JSON object.")
        }
        object["attachment_ids"] = ((object["attachment_ids"] as? [Any]) ?? []) + uploaded
        if !inline.isEmpty {
            // `bytes` fields are base64 in the JSON the route reads (ProtoJSON).
            object["files"] = ((object["files"] as? [Any]) ?? []) + inline.map { file -> [String: Any] in
                ["file_name": file.name, "content_type": file.contentType, "data": Data(file.bytes).base64EncodedString()]
            }
        }
        var json = request
        json.body = Array(try JSONSerialization.data(withJSONObject: object))
        json.headers["content-type"] = "application/json"
        return try open(json, context)
    }

    func abandon() {
        file?.abandon()
        file = nil
        held = nil
    }

    /// A new field: a file is held (small so far) or starts its upload, `ticket` its JSON;
    /// anything else is refused.
    private func begin(_ part: HTTPFormPart) throws {
        try endFile()
        inTicket = false
        if let name = part.fileName, !name.isEmpty {
            let contentType = part.contentType ?? "application/octet-stream"
            held = HeldFile(name: name, contentType: contentType)
            if !fitsInline(0) { try startUpload() }
        } else if part.name == "ticket" {
            guard ticket == nil else {
                throw APIError.invalid("ticket", "duplicate", pt: "O campo \"ticket\" veio mais de uma vez.", en: "The \"ticket\" field came more than once.")
            }
            ticket = []
            inTicket = true
        } else {
            throw APIError.invalid(part.name, "unknown_field", pt: "Campo desconhecido: envie \"ticket\" (JSON) e arquivos.",
                                   en: "Unknown field: send \"ticket\" (JSON) and files.")
        }
    }

    /// Whether the held file, at `size` bytes, may still travel inside the open.
    private func fitsInline(_ size: Int) -> Bool {
        budget.fits(size)
    }

    /// The held file outgrew the open: it becomes an upload, starting with what was held.
    private func startUpload() throws {
        guard let current = held else { return }
        held = nil
        let upload = try AttachmentUpload(fileName: current.name, contentType: current.contentType, announcedBytes: nil, ticketID: "", context)
        file = upload
        try current.bytes.withUnsafeBytes { try upload.write($0) }
    }

    /// The current file is complete: a held one joins the open; an upload's size and hash are
    /// checked by intake, which answers its id.
    private func endFile() throws {
        if let current = held {
            held = nil
            inline.append(current)
            _ = budget.take(current.bytes.count)
        }
        guard let current = file else { return }
        file = nil
        uploaded.append(try current.finishReference().id)
    }
}
