import Foundation

/// `POST /v1/tickets` as `multipart/form-data`: a `ticket` field holding the JSON the route takes
/// otherwise, and any number of files (fields with a file name), each relayed to intake as an
/// attachment while it arrives (``AttachmentUpload``); the ticket is then opened through the
/// JSON route's own handler with their ids added to `attachment_ids`. The whole form is bounded
/// by ``HTTPServerConfiguration/maxUploadBytes``, the `ticket` field by
/// ``HTTPServerConfiguration/maxBodyBytes``. Files stored before a refusal stay unlinked and
/// intake's garbage collection removes them.
///
/// ```sh
/// curl -H "Authorization: Bearer $TOKEN" -F 'ticket={"subject":"...","request":"..."};type=application/json' \
///      -F files=@gravacao.webm -F files=@log.txt http://127.0.0.1:8080/v1/tickets
/// ```
final class TicketForm: RequestBodyConsumer {
    private let request: HTTPRequest
    private let context: RequestContext
    private let open: @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse
    private let limit: Int
    private let ticketLimit: Int
    private var file: AttachmentUpload?
    private var ticket: [UInt8]?
    private var inTicket = false
    private var uploaded: [String] = []
    private var total = 0

    init(_ request: HTTPRequest, _ context: RequestContext, open: @escaping @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse) {
        self.request = request
        self.context = context
        self.open = open
        limit = context.gateway.configuration.http.maxUploadBytes
        ticketLimit = context.gateway.configuration.http.maxBodyBytes
    }

    func write(part: HTTPFormPart, offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws {
        total += bytes.count
        guard total <= limit else { throw AttachmentUpload.tooLarge(limit) }
        if offset == 0 { try begin(part) }
        if let file {
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
        var json = request
        json.body = Array(try JSONSerialization.data(withJSONObject: object))
        json.headers["content-type"] = "application/json"
        return try open(json, context)
    }

    func abandon() {
        file?.abandon()
        file = nil
    }

    /// A new field: a file starts its upload, `ticket` its JSON; anything else is refused.
    private func begin(_ part: HTTPFormPart) throws {
        try endFile()
        inTicket = false
        if let name = part.fileName, !name.isEmpty {
            file = try AttachmentUpload(fileName: name, contentType: part.contentType, announcedBytes: nil, ticketID: "", context)
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

    /// The current file is complete: intake checks its size and hash and answers its id.
    private func endFile() throws {
        guard let current = file else { return }
        file = nil
        uploaded.append(try current.finishReference().id)
    }
}
