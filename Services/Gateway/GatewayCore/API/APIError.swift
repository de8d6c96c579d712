import Foundation
import RPC

/// An error answered as JSON:
/// `{"error": {"code": "...", "message": "pt-BR", "message_en": "...", "details": [{"field": "...", "reason": "..."}]}}`.
///
/// Every RPC status maps to an HTTP status in ``init(_:)`` (the one place where that happens).
public struct APIError: Error, Sendable {
    public var status: Int
    /// Stable, upper-case code (`NOT_FOUND`, `INVALID_ARGUMENT`, `CSRF_TOKEN_MISMATCH`, ...).
    public var code: String
    public var messagePT: String
    public var messageEN: String
    public var details: [Detail]
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: [(String, String)] = []

    /// One offending field.
    public struct Detail: Sendable {
        public var field: String
        public var reason: String
        public var messagePT: String?
        public var messageEN: String?
        /// A limit the value passed, in bytes (a 413's): answered as `limit_bytes` and, in binary
        /// units, `limit` (`"100 MiB"`).
        public var limitBytes: Int?

        public init(field: String, reason: String, pt: String? = nil, en: String? = nil, limitBytes: Int? = nil) {
            self.field = field
            self.reason = reason
            self.messagePT = pt
            self.messageEN = en
            self.limitBytes = limitBytes
        }
    }

    public init(status: Int, code: String, pt: String, en: String, details: [Detail] = [], headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.messagePT = pt
        self.messageEN = en
        self.details = details
        self.headers = headers
    }

    /// Maps an RPC error from a service to HTTP: the single mapping of the gateway.
    ///
    /// | RPC | HTTP |
    /// |---|---|
    /// | INVALID_ARGUMENT, OUT_OF_RANGE | 400 (422 when the request was well formed but a rule rejected it: FAILED_PRECONDITION) |
    /// | UNAUTHENTICATED | 401 |
    /// | PERMISSION_DENIED | 403 |
    /// | NOT_FOUND | 404 |
    /// | ALREADY_EXISTS, ABORTED | 409 |
    /// | FAILED_PRECONDITION | 422 |
    /// | RESOURCE_EXHAUSTED | 429 |
    /// | UNAVAILABLE, DEADLINE_EXCEEDED | 503 |
    /// | UNIMPLEMENTED | 501 |
    /// | anything else | 500 (message not passed on) |
    ///
    /// `details` are the error's field violations only: what the status says beyond them
    /// (``ErrorMetadata``: a handler that had started, a response too large) is said by the
    /// HTTP status and code. A 429 or 503 carries `Retry-After` in whole seconds, rounded up,
    /// from the service's `status.retry_after_ms` when it sent one, else (503) 1.
    public init(_ error: RPCError) {
        if error.isRequestTooLarge {
            // Not a rate limit: the request (a JSON body under the HTTP limit, with files inside
            // it, say) is larger than one call to the service may be.
            self = error.frameLimitBytes.map { Self.tooLarge(frameLimit: $0) } ?? .tooLarge
            return
        }
        if error.isResponseTooLarge {
            // Not a rate limit either, and not the caller's doing: what was asked for (a ticket
            // with very long texts, say) is larger than one call from the service may carry.
            self.init(status: 500, code: "RESPONSE_TOO_LARGE",
                      pt: "A resposta do serviço passa do limite de uma chamada (OCORRENCIAS_RPC_MAX_FRAME_BYTES).",
                      en: "The service's answer is larger than one call may carry (OCORRENCIAS_RPC_MAX_FRAME_BYTES).")
            return
        }
        let status = Self.httpStatus(for: error.code)
        let (pt, en) = Self.split(error.message)
        if status == 500 {
            self.init(status: 500, code: "INTERNAL", pt: "Erro interno.", en: "Internal error.")
        } else {
            self.init(status: status, code: error.code.name, pt: pt, en: en,
                      details: error.violations.map { Detail(field: $0.field, reason: $0.reason, pt: $0.descriptionPT, en: $0.descriptionEN) })
        }
        if let seconds = Self.retryAfterSeconds(error, status: status) { headers.append(("Retry-After", String(seconds))) }
    }

    /// The `Retry-After` of a 429 or 503 answering `error`: the service's
    /// ``RPCError/retryAfterMilliseconds`` in whole seconds rounded up (at most a day), else 1
    /// for a 503.
    static func retryAfterSeconds(_ error: RPCError, status: Int) -> Int? {
        guard status == 429 || status == 503 else { return nil }
        if let milliseconds = error.retryAfterMilliseconds { return (min(milliseconds, 86_400_000) + 999) / 1_000 }
        return status == 503 ? 1 : nil
    }

    /// The HTTP status of an RPC status code.
    public static func httpStatus(for code: RPCStatusCode) -> Int {
        switch code {
        case .ok: 200
        case .invalidArgument, .outOfRange: 400
        case .unauthenticated: 401
        case .permissionDenied: 403
        case .notFound: 404
        case .alreadyExists, .aborted: 409
        case .failedPrecondition: 422
        case .resourceExhausted: 429
        case .unavailable, .deadlineExceeded: 503
        case .unimplemented: 501
        case .cancelled, .unknown, .internal, .dataLoss: 500
        }
    }

    /// Messages are written "português / English": split them for the two fields.
    static func split(_ message: String) -> (String, String) {
        BilingualText.split(message)
    }

    /// The JSON response.
    public var response: HTTPResponse {
        var error: [String: Any] = ["code": code, "message": messagePT, "message_en": messageEN]
        error["details"] = details.map { detail -> [String: Any] in
            var item: [String: Any] = ["field": detail.field, "reason": detail.reason]
            if let pt = detail.messagePT { item["message"] = pt }
            if let en = detail.messageEN { item["message_en"] = en }
            if let limit = detail.limitBytes {
                item["limit_bytes"] = limit
                item["limit"] = ByteCount.text(limit)
            }
            return item
        }
        var response = HTTPResponse.json(["error": error], status: status)
        for (name, value) in headers { response.addHeader(name, value) }
        return response
    }

    // MARK: common errors

    public static let unauthenticated = APIError(status: 401, code: "UNAUTHENTICATED", pt: "Autenticação necessária.",
                                                 en: "Authentication required.", headers: [("WWW-Authenticate", "Bearer realm=\"ocorrencias\"")])
    public static let forbidden = APIError(status: 403, code: "PERMISSION_DENIED", pt: "Você não tem permissão para isso.",
                                           en: "You are not allowed to do this.")
    public static let notFound = APIError(status: 404, code: "NOT_FOUND", pt: "Recurso não encontrado.", en: "Resource not found.")
    public static let csrf = APIError(status: 403, code: "CSRF_TOKEN_MISMATCH", pt: "Token CSRF ausente ou inválido.",
                                      en: "Missing or invalid CSRF token.")
    /// A streaming route got a body in a shape it does not take (raw vs form).
    public static let unsupportedBody = APIError(status: 415, code: "UNSUPPORTED_MEDIA_TYPE",
                                                 pt: "Formato de corpo não aceito nesta rota.", en: "Body format not accepted on this route.")
    public static let malformedForm = APIError(status: 400, code: "INVALID_FORM", pt: "Formulário (multipart/form-data) malformado.",
                                               en: "Malformed form (multipart/form-data).")
    /// 413 without a known limit (none of the gateway's own answers: each states its limit).
    public static let tooLarge = APIError(status: 413, code: "PAYLOAD_TOO_LARGE", pt: "O corpo da requisição é grande demais.",
                                          en: "The request body is too large.")

    /// 413 for a request body over `limit` bytes (`GATEWAY_HTTP_MAX_BODY_BYTES`, or a form's JSON
    /// field): the message and the detail (`field`, reason `body_too_large`, `limit_bytes`,
    /// `limit`) state the limit in bytes and in binary units, so a client can say it.
    public static func tooLarge(bodyLimit limit: Int, field: String = "body") -> APIError {
        tooLarge(limit, field: field, reason: "body_too_large",
                 pt: "O corpo da requisição passa do limite de \(ByteCount.stated(limit, portuguese: true)).",
                 en: "The request body is larger than the limit of \(ByteCount.stated(limit)).")
    }

    /// 413 for a file over `limit` bytes (`GATEWAY_HTTP_MAX_UPLOAD_BYTES`, lowered to intake's),
    /// stated as ``tooLarge(bodyLimit:field:)`` does, reason `file_too_large`.
    public static func tooLarge(fileLimit limit: Int) -> APIError {
        tooLarge(limit, field: "body", reason: "file_too_large",
                 pt: "O arquivo passa do limite de \(ByteCount.stated(limit, portuguese: true)).",
                 en: "The file is larger than the limit of \(ByteCount.stated(limit)).")
    }

    /// 413 for a request that fits the HTTP limit but not one call to the service
    /// (`OCORRENCIAS_RPC_MAX_FRAME_BYTES`: files inside a JSON body, say), reason `request_too_large`.
    public static func tooLarge(frameLimit limit: Int) -> APIError {
        tooLarge(limit, field: "body", reason: "request_too_large",
                 pt: "A requisição passa do limite de uma chamada ao serviço, \(ByteCount.stated(limit, portuguese: true)) "
                     + "(OCORRENCIAS_RPC_MAX_FRAME_BYTES); envie os arquivos antes (POST /v1/attachments).",
                 en: "The request is larger than one call to the service may be, \(ByteCount.stated(limit)) "
                     + "(OCORRENCIAS_RPC_MAX_FRAME_BYTES); upload the files first (POST /v1/attachments).")
    }

    private static func tooLarge(_ limit: Int, field: String, reason: String, pt: String, en: String) -> APIError {
        APIError(status: 413, code: "PAYLOAD_TOO_LARGE", pt: pt, en: en, details: [
            Detail(field: field, reason: reason, pt: "Limite: \(ByteCount.stated(limit, portuguese: true)).",
                   en: "Limit: \(ByteCount.stated(limit)).", limitBytes: limit)])
    }

    public static func invalid(_ field: String, _ reason: String, pt: String, en: String) -> APIError {
        APIError(status: 400, code: "INVALID_ARGUMENT", pt: pt, en: en, details: [Detail(field: field, reason: reason, pt: pt, en: en)])
    }

    public static func rateLimited(retryAfter: Int) -> APIError {
        APIError(status: 429, code: "RATE_LIMITED", pt: "Muitas requisições; tente novamente em instantes.",
                 en: "Too many requests; try again shortly.", headers: [("Retry-After", String(retryAfter))])
    }

    public static let unavailable = APIError(status: 503, code: "UNAVAILABLE", pt: "Serviço indisponível no momento.",
                                             en: "Service unavailable right now.", headers: [("Retry-After", "1")])
}
