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
    /// Extra metadata sent back with the status.
    public var metadata: [String: String]

    public init(_ code: RPCStatusCode, _ message: String, violations: [FieldViolation] = [], metadata: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.violations = violations
        self.metadata = metadata
    }

    /// Metadata key holding, on the error a server answers for any other error a handler threw
    /// (``HandlerErrorTranslation/answer(for:)``), that error's text: the server logs it with the call (`error`), and it never
    /// travels (metadata is not sent with a status), so nothing of it reaches the caller.
    public static let causeKey = "server.cause"

    /// The reason of the one violation marking an `UNAVAILABLE` a handler answered after it had
    /// started (``HandlerErrorTranslation``: its database went away mid-call): unlike the
    /// transport's `UNAVAILABLE` (draining, not ready), the call may have done part of its work,
    /// so clients repeat it only with an idempotency key. A violation, since it travels on the
    /// wire (metadata does not).
    public static let handlerStartedReason = "handler_started"

    /// Whether this error carries ``handlerStartedReason`` (also once read from the wire).
    public var handlerStarted: Bool { violations.contains { $0.reason == Self.handlerStartedReason } }

    /// Metadata key set to "true" on the error of a call whose request was refused before it
    /// left the client because its frame would pass the frame limit (`OCORRENCIAS_RPC_MAX_FRAME_BYTES`):
    /// a server reading such a frame closes the whole connection, every other call on it included.
    public static let requestTooLargeKey = "transport.request_too_large"

    /// The error of a request too large for one frame (``requestTooLargeKey``): `RESOURCE_EXHAUSTED`,
    /// never sent, not retried.
    public static func requestTooLarge(bytes: Int, limit: Int) -> RPCError {
        RPCError(.resourceExhausted,
                 "pedido grande demais: \(bytes) bytes, o limite de um quadro é \(limit) / request too large: \(bytes) bytes, the frame limit is \(limit)",
                 metadata: ["transport.sent": "false", requestTooLargeKey: "true"])
    }

    /// The reason of the one violation that marks the error a server answers instead of a
    /// response whose frame would pass the frame limit (the client would close the connection on
    /// reading it); a violation, since it travels on the wire (metadata does not).
    public static let responseTooLargeReason = "response_too_large"

    /// The error of a response too large for one frame: `RESOURCE_EXHAUSTED` with one violation
    /// (``responseTooLargeReason``) saying so in both languages.
    public static func responseTooLarge(bytes: Int, limit: Int) -> RPCError {
        RPCError(.resourceExhausted,
                 "resposta grande demais: \(bytes) bytes, o limite de um quadro é \(limit) / response too large: \(bytes) bytes, the frame limit is \(limit)",
                 violations: [FieldViolation(field: "", reason: responseTooLargeReason,
                                             pt: "A resposta (\(bytes) bytes) passa do limite de uma chamada (\(limit) bytes, OCORRENCIAS_RPC_MAX_FRAME_BYTES).",
                                             en: "The answer (\(bytes) bytes) is larger than one call may carry (\(limit) bytes, OCORRENCIAS_RPC_MAX_FRAME_BYTES).")])
    }

    /// Whether this is the error of ``responseTooLarge(bytes:limit:)`` (also once read from the wire).
    public var isResponseTooLarge: Bool {
        code == .resourceExhausted && violations.contains { $0.reason == Self.responseTooLargeReason }
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

    /// The wire form of this error.
    public var status: RpcV1.Status {
        var status = RpcV1.Status()
        status.code = code.rawValue
        status.message = message
        status.violations = violations.map(\.message)
        return status
    }

    /// Reads an error from a wire status; `nil` when the status is OK.
    public init?(status: RpcV1.Status?) {
        guard let status, status.code != 0 else { return nil }
        self.init(RPCStatusCode(code: status.code), status.message, violations: status.violations.map(FieldViolation.init))
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
