import Messages
import RPC
import RPCTransport

/// `POST /v1/attachments?file_name=...[&ticket_id=...]`: the raw body is the file. It goes to
/// intake's `UploadAttachment` as it arrives, in messages of ``chunkBytes``, so the gateway holds
/// a few chunks per upload however large the file (up to
/// ``HTTPServerConfiguration/maxUploadBytes`` lowered to intake's file limit,
/// ``Gateway/fileLimits``). The SHA-256 and size travel in the last message (intake checks
/// both); a client that goes away cancels the call and intake keeps nothing.
final class AttachmentUpload: RequestBodyConsumer {
    /// 256 KiB: with the call's flow-control window of 16 messages, at most ≈ 4 MiB of one upload
    /// is in the gateway at a time.
    static let chunkBytes = 256 << 10

    private let call: StreamingCall<IntakeV1.UploadAttachmentRequest, CommonV1.AttachmentRef>
    private let limit: Int
    private let metrics: GatewayMetrics
    private let started = MonotonicClock.nanoseconds()
    private var digest = Digest.SHA256Stream()
    private var pending: [UInt8] = []
    private var size = 0

    /// The raw-body route: checks the name and announced size, then opens the call.
    /// - Throws: 400 without `file_name`, 413 when `Content-Length` is over the limit.
    convenience init(_ request: HTTPRequest, _ context: RequestContext) throws {
        let name = request.query["file_name"] ?? ""
        guard !name.isEmpty else {
            throw APIError.invalid("file_name", "required", pt: "Informe o nome do arquivo (?file_name=).", en: "file_name is required.")
        }
        try self.init(fileName: name, contentType: request.header("content-type"),
                      announcedBytes: request.header("content-length").flatMap { Int($0) },
                      ticketID: request.query["ticket_id"] ?? "", context)
    }

    /// Opens intake's upload call with the file's description (a file of a multipart form, or
    /// the raw body).
    /// - Throws: 413 when `announcedBytes` is over the limit; the call's error.
    init(fileName: String, contentType: String?, announcedBytes: Int?, ticketID: String, _ context: RequestContext) throws {
        limit = context.gateway.fileLimits.uploadBytes
        metrics = context.gateway.metrics
        if let announcedBytes, announcedBytes > limit { throw Self.tooLarge(limit) }
        var description = IntakeV1.UploadAttachmentRequest()
        description.fileName = fileName
        description.contentType = contentType ?? "application/octet-stream"
        description.sizeBytes = Int64(announcedBytes ?? 0)
        description.ticketID = ticketID
        // The description leaves with the call's opening, the last chunk with its end.
        call = try context.gateway.runtime.client(for: "intake").streamingCall(
            IntakeV1.Intake.uploadAttachment, sending: description,
            options: context.transferCallOptions())
        pending.reserveCapacity(Self.chunkBytes)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        size += bytes.count
        guard size <= limit else { throw Self.tooLarge(limit) }
        digest.update(bytes)
        var rest = bytes.assumingMemoryBound(to: UInt8.self)
        while !rest.isEmpty {
            let taken = min(rest.count, Self.chunkBytes - pending.count)
            pending.append(contentsOf: UnsafeBufferPointer(rebasing: rest[..<taken]))
            rest = UnsafeBufferPointer(rebasing: rest[taken...])
            if pending.count == Self.chunkBytes { try flush() }
        }
    }

    func finish() throws -> HTTPResponse {
        .json(try ProtoJSON.decode(finishReference().serializedBytes(), as: CommonV1.AttachmentRef._descriptor.pointer), status: 201)
    }

    /// Sends the rest with the size and SHA-256; intake's answer. Counted in `/metrics` with
    /// the gateway's other calls (`gateway_rpc_client_calls_total`, method `UploadAttachment`).
    func finishReference() throws -> CommonV1.AttachmentRef {
        let path = IntakeV1.Intake.uploadAttachment.path
        do {
            let reference = try call.finish(last: lastMessage())
            metrics.recordCall(method: path, code: 0, nanoseconds: MonotonicClock.nanoseconds() - started)
            return reference
        } catch let error as RPCError {
            metrics.recordCall(method: path, code: error.code.rawValue, nanoseconds: MonotonicClock.nanoseconds() - started)
            throw error
        }
    }

    func abandon() { call.cancel() }

    /// Sends what is pending.
    private func flush() throws {
        var message = IntakeV1.UploadAttachmentRequest()
        message.data = pending
        try call.send(message)
        pending.removeAll(keepingCapacity: true)
    }

    /// What is pending with the size and SHA-256: the last message, sent with the end of the
    /// stream.
    private func lastMessage() -> IntakeV1.UploadAttachmentRequest {
        var message = IntakeV1.UploadAttachmentRequest()
        message.data = pending
        message.sizeBytes = Int64(size)
        message.sha256 = Digest.hex(digest.finish())
        pending = []
        return message
    }

    static func tooLarge(_ limit: Int) -> APIError { .tooLarge(fileLimit: limit) }
}
