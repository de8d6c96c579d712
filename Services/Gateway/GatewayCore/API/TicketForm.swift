import Foundation

/// `POST /v1/tickets`, `POST /v1/tickets/{id}/replies` and `POST /v1/tickets/{id}/discussion` as
/// `multipart/form-data`: a `ticket` (open), `reply` or `discussion` field holding the JSON the
/// route takes otherwise, and any number of files (fields with a file name). The ticket is opened,
/// the reply sent or the entry added through the JSON route's own handler with the files added to
/// it (``DiscussionRoute`` puts them on the ticket with intake's `AddFiles`):
/// - a small file (one that fits ``InlineFileLimits``, the gateway's
///   ``HTTPServerConfiguration/inlineFiles`` lowered to intake's, ``Gateway/fileLimits``, also
///   served at `GET /v1/file-limits`) is kept in memory and sent
///   inside intake's `OpenTicket` / `Reply` (`files`), so the open or reply and its files are one
///   call and one transaction;
/// - a larger one is relayed to intake as an attachment while it arrives (``AttachmentUpload``)
///   and its id added to `attachment_ids`.
///
/// The ticket (or message) lists the files in form order: the call says where each file inside
/// it goes (`file_positions` of intake's `OpenTicketRequest`, `ReplyRequest` and
/// `AddFilesRequest`), so every small file that fits the allowance goes inside wherever it stands
/// and only the others are uploaded: a small file before a large one is not uploaded for the
/// order's sake (``InlineFileLimits/placed(_:)``, as `ocorre` and the portal's `sendableFiles`).
/// The whole form is bounded by ``HTTPServerConfiguration/maxUploadBytes``, the JSON field
/// by ``HTTPServerConfiguration/maxBodyBytes``. Files uploaded before a refusal stay unlinked and
/// intake's garbage collection removes them; small files of a refused call are never stored.
///
/// ```sh
/// curl -H "Authorization: Bearer $TOKEN" -F 'ticket={"subject":"...","request":"..."};type=application/json' \
///      -F files=@gravacao.webm -F files=@log.txt http://127.0.0.1:8080/v1/tickets
/// curl -H "Authorization: Bearer $TOKEN" -F 'reply={"text":"Segue o XML."}' -F files=@nota.xml \
///      http://127.0.0.1:8080/v1/tickets/$ID/replies
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
    /// The JSON field's name: `ticket` (open), `reply` or `discussion`.
    private let field: String
    private let send: @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse
    private let limit: Int
    private let jsonLimit: Int
    private var file: AttachmentUpload?
    private var held: HeldFile?
    private var jsonField: [UInt8]?
    private var inJSON = false
    private var uploaded: [String] = []
    private var inline: [HeldFile] = []
    /// For each file of the form in order: whether it went inside the call (else uploaded).
    private var carried: [Bool] = []
    /// What is left of the call's inline allowance.
    private var budget: InlineFileLimits.Budget
    private var total = 0

    /// - Parameters:
    ///   - field: the name of the form field holding the JSON request (`ticket`, `reply`, `discussion`).
    ///   - send: the JSON route's handler, called with the JSON and the files added to it.
    init(_ request: HTTPRequest, _ context: RequestContext, field: String,
         send: @escaping @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse) {
        self.request = request
        self.context = context
        self.field = field
        self.send = send
        limit = context.gateway.configuration.http.maxUploadBytes
        jsonLimit = context.gateway.configuration.http.maxBodyBytes
        budget = context.gateway.fileLimits.budget()
    }

    func write(part: HTTPFormPart, offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws {
        total += bytes.count
        guard total <= limit else { throw AttachmentUpload.tooLarge(limit) }
        if offset == 0 { try begin(part) }
        if held != nil {
            held!.bytes.append(contentsOf: bytes)
            // Inside while it fits what is left of the allowance, wherever it stands (the call places it).
            if !budget.fits(held!.bytes.count) { try startUpload() }
        } else if let file {
            try file.write(bytes)
        } else if inJSON {
            jsonField!.append(contentsOf: bytes)
            guard jsonField!.count <= jsonLimit else { throw APIError.tooLarge(bodyLimit: jsonLimit, field: field) }
        }
    }

    func finish() throws -> HTTPResponse {
        try endFile()
        guard let jsonField else {
            throw APIError.invalid(field, "required", pt: "Envie o campo \"\(field)\" em JSON.", en: "Send the \"\(field)\" field as JSON.")
        }
        guard var object = (try? JSONSerialization.jsonObject(with: Data(jsonField))) as? [String: Any] else {
            throw APIError.invalid(field, "invalid_json", pt: "O campo \"\(field)\" não é um objeto JSON.", en: "The \"\(field)\" field is not a JSON object.")
        }
        if let member = JSONDuplicateKeys.first(in: jsonField) {
            throw APIError.invalid("\(field).\(member)", "duplicate_key", pt: "Campo repetido: envie-o uma vez só.", en: "Repeated field: send it once.")
        }
        if let positions = Self.positions(of: object, carried: carried) { object["file_positions"] = positions }
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
        return try send(json, context)
    }

    func abandon() {
        file?.abandon()
        file = nil
        held = nil
    }

    /// A new field: a file is held (small so far) or starts its upload, the JSON field its JSON;
    /// anything else is refused.
    private func begin(_ part: HTTPFormPart) throws {
        try endFile()
        inJSON = false
        if let name = part.fileName, !name.isEmpty {
            let contentType = part.contentType ?? "application/octet-stream"
            held = HeldFile(name: name, contentType: contentType)
            if !budget.fits(0) { try startUpload() }
        } else if part.name == field {
            guard jsonField == nil else {
                throw APIError.invalid(field, "duplicate", pt: "O campo \"\(field)\" veio mais de uma vez.", en: "The \"\(field)\" field came more than once.")
            }
            jsonField = []
            inJSON = true
        } else {
            throw APIError.invalid(part.name, "unknown_field", pt: "Campo desconhecido: envie \"\(field)\" (JSON) e arquivos.",
                                   en: "Unknown field: send \"\(field)\" (JSON) and files.")
        }
    }

    /// `file_positions` for the JSON `object` with the form's files added (`carried`: for each,
    /// in form order, whether it goes inside the call): the JSON's own files where it put them
    /// (or after its own `attachment_ids`), then the form's in form order, after every file the
    /// JSON named. Nil when no file goes inside the call (uploads alone keep their order).
    static func positions(of object: [String: Any], carried: [Bool]) -> [Int]? {
        let ownUploads = Set(((object["attachment_ids"] as? [Any]) ?? []).map { "\($0)" }).count
        let ownFiles = ((object["files"] as? [Any]) ?? []).count
        let own = ((object["file_positions"] as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.intValue ?? ($0 as? Int) }
        // (The JSON's own, even wrong: intake judges them.)
        var positions = own.isEmpty ? Array(ownUploads..<(ownUploads + ownFiles)) : own
        positions += InlineFileLimits.positions(carried).map { ownUploads + ownFiles + $0 }
        return positions.isEmpty ? nil : positions
    }

    /// The held file outgrew the call: it becomes an upload, starting with what was held.
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
            carried.append(true)
            _ = budget.take(current.bytes.count)
        }
        guard let current = file else { return }
        file = nil
        uploaded.append(try current.finishReference().id)
        carried.append(false)
    }
}
