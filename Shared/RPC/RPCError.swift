import Messages

/// The error a call ends with: a status code, a message and, for ``RPCStatusCode/invalidArgument``,
/// the offending fields.
///
/// Handlers throw it to choose the status; any other error thrown by a handler becomes `INTERNAL`
/// without its text leaving the process.
///
/// ```swift
/// throw RPCError(.invalidArgument, "pedido inválido", violations: [
///     .init(field: "subject", reason: "required", pt: "Informe o assunto.", en: "Subject is required."),
/// ])
/// ```
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: RPCStatusCode
    public var message: String
    public var violations: [FieldViolation]
    /// Metadata of the error. Only keys under ``ErrorMetadata/prefix`` (`status.`) travel with
    /// the status, within ``ErrorMetadata``'s limits; the others stay in the process that set
    /// them (``causeKey``, the client's `transport.*` keys).
    public var metadata: [String: String]

    public init(_ code: RPCStatusCode, _ message: String, violations: [FieldViolation] = [], metadata: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.violations = violations
        self.metadata = metadata
    }

    /// Metadata key holding, on the error a server answers for any other error a handler threw
    /// (``HandlerErrorTranslation/answer(for:)``), that error's text: the server logs it with the
    /// call (`error`), and it never travels (it is not under ``ErrorMetadata/prefix``), so
    /// nothing of it reaches the caller.
    public static let causeKey = "server.cause"

    /// Whether this is an `UNAVAILABLE` a handler answered after it had started
    /// (``ErrorMetadata/handlerStarted``; also once read from the wire, from a new server or an
    /// old one's marker violation): the call may have done part of its work, so clients repeat
    /// it only with an idempotency key.
    public var handlerStarted: Bool { metadata[ErrorMetadata.handlerStarted] == "true" }

    /// When the server said the caller may try again (``ErrorMetadata/retryAfterMilliseconds``),
    /// in milliseconds; `nil` when it did not, or said something that is not a positive number.
    public var retryAfterMilliseconds: Int? {
        metadata[ErrorMetadata.retryAfterMilliseconds].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// Metadata key a client sets on the `UNAVAILABLE` it makes up when a call fails in transport:
    /// "false" when the request never left the process (a retry cannot apply it twice), "true"
    /// when it was sent and the connection went away before the answer (it may have run). Never
    /// travels (``ErrorMetadata/wire(_:)``); a handler that fails with a "true" one answers
    /// ``ErrorMetadata/handlerStarted`` instead (``HandlerErrorTranslation/answer(for:)``).
    public static let sentKey = "transport.sent"

    /// Metadata key set to "true" on the error of a call whose request was refused before it
    /// left the client because its frame would pass the frame limit (`OCORRENCIAS_RPC_MAX_FRAME_BYTES`):
    /// a server reading such a frame closes the whole connection, every other call on it included.
    public static let requestTooLargeKey = "transport.request_too_large"

    /// The error of a request too large for one frame (``requestTooLargeKey``): `RESOURCE_EXHAUSTED`,
    /// never sent, not retried.
    public static func requestTooLarge(bytes: Int, limit: Int) -> RPCError {
        RPCError(.resourceExhausted,
                 "pedido grande demais: \(bytes) bytes, o limite de um quadro é \(limit) / request too large: \(bytes) bytes, the frame limit is \(limit)",
                 metadata: [sentKey: "false", requestTooLargeKey: "true", frameLimitKey: String(limit)])
    }

    /// Metadata key of ``requestTooLarge(bytes:limit:)``: the frame limit passed, in bytes (local,
    /// like ``requestTooLargeKey``), so an HTTP answer can state it.
    public static let frameLimitKey = "transport.frame_limit_bytes"

    /// The frame limit a ``requestTooLarge(bytes:limit:)`` error passed, when it says.
    public var frameLimitBytes: Int? { isRequestTooLarge ? metadata[Self.frameLimitKey].flatMap { Int($0) } : nil }

    /// The error a server answers instead of a response whose frame would pass its frame limit
    /// (the client would close the connection on reading it): `RESOURCE_EXHAUSTED`, saying so in
    /// both languages, marked ``ErrorMetadata/responseTooLarge``.
    public static func responseTooLarge(bytes: Int, limit: Int) -> RPCError {
        RPCError(.resourceExhausted,
                 "resposta grande demais: \(bytes) bytes, o limite de um quadro é \(limit) (OCORRENCIAS_RPC_MAX_FRAME_BYTES) / response too large: \(bytes) bytes, the frame limit is \(limit) (OCORRENCIAS_RPC_MAX_FRAME_BYTES)",
                 metadata: [ErrorMetadata.responseTooLarge: "true"])
    }

    /// Whether this is the error of ``responseTooLarge(bytes:limit:)`` (also once read from the
    /// wire, from a new server or an old one's marker violation).
    public var isResponseTooLarge: Bool {
        code == .resourceExhausted && metadata[ErrorMetadata.responseTooLarge] == "true"
    }

    /// Whether this is the error of ``requestTooLarge(bytes:limit:)``.
    public var isRequestTooLarge: Bool { code == .resourceExhausted && metadata[Self.requestTooLargeKey] == "true" }

    public var description: String {
        var text = "\(code.name): \(message)"
        if !violations.isEmpty {
            text += " [" + violations.map { "\($0.field): \($0.reason)" }.joined(separator: ", ") + "]"
        }
        return text
    }

    /// The wire form of this error: its metadata as far as it may travel (``ErrorMetadata/wire(_:)``),
    /// and, for clients older than that metadata, its markers in their old form too
    /// (``LegacyStatusMarkers``).
    public var status: RpcV1.Status {
        var status = RpcV1.Status()
        status.code = code.rawValue
        status.message = message
        status.metadata = ErrorMetadata.wire(metadata)
        let legacy = LegacyStatusMarkers.emit(code: code, metadata: status.metadata)
        status.violations = (violations + legacy.filter { marker in !violations.contains { $0.field.isEmpty && $0.reason == marker.reason } }).map(\.message)
        return status
    }

    /// Reads an error from a wire status; `nil` when the status is OK. Keeps of its metadata only
    /// what may travel (``ErrorMetadata/wire(_:)``), and reads an older server's marker
    /// violations as that metadata (``LegacyStatusMarkers``).
    public init?(status: RpcV1.Status?) {
        guard let status, status.code != 0 else { return nil }
        let code = RPCStatusCode(code: status.code)
        var violations = status.violations.map(FieldViolation.init)
        var metadata = ErrorMetadata.wire(status.metadata)
        LegacyStatusMarkers.adopt(code: code, violations: &violations, metadata: &metadata)
        self.init(code, status.message, violations: violations, metadata: metadata)
    }
}

/// One offending field of an `INVALID_ARGUMENT` error, explained in Portuguese and English.
public struct FieldViolation: Sendable, Hashable {
    /// Dotted path of the field, e.g. `contact.email`.
    public var field: String
    /// Stable reason code, e.g. `required`, `too_long`, `invalid_format`.
    public var reason: String
    /// Text for people, Brazilian Portuguese.
    public var descriptionPT: String
    /// Text for people, English.
    public var descriptionEN: String

    public init(field: String, reason: String, pt: String, en: String) {
        self.field = field
        self.reason = reason
        self.descriptionPT = pt
        self.descriptionEN = en
    }

    init(_ message: RpcV1.FieldViolation) {
        self.init(field: message.field, reason: message.reason, pt: message.description, en: message.descriptionEn)
    }

    var message: RpcV1.FieldViolation {
        var m = RpcV1.FieldViolation()
        m.field = field
        m.reason = reason
        m.description = descriptionPT
        m.descriptionEn = descriptionEN
        return m
    }
}
