import Foundation

/// One HTTP request as the gateway's handlers see it: everything already read, body included.
public struct HTTPRequest: Sendable {
    /// `GET`, `POST`, ...
    public var method: String
    /// The path without the query string, e.g. `/v1/tickets/T-1`.
    public var path: String
    /// Query arguments (the last value wins when a name repeats).
    public var query: [String: String]
    /// Headers by lower-cased name.
    public var headers: [String: String]
    /// The request body (bounded by ``HTTPServerConfiguration/maxBodyBytes``).
    public var body: [UInt8]
    /// The peer's address as text.
    public var clientAddress: String
    /// Values of `{name}` segments of the matched route template.
    public var pathParameters: [String: String] = [:]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: [UInt8] = [], clientAddress: String = "127.0.0.1") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }

    /// A header by case-insensitive name.
    public func header(_ name: String) -> String? {
        // Callers mostly ask with lower-case names already: no new string for those.
        headers[Self.isLowercaseASCII(name) ? name : name.lowercased()]
    }

    /// True when `text` is ASCII without upper-case letters (what `lowercased()` leaves as it is).
    static func isLowercaseASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 && !($0 >= 0x41 && $0 <= 0x5A) }
    }

    /// A cookie sent in the `Cookie` header.
    public func cookie(_ name: String) -> String? {
        guard let header = header("cookie") else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            guard let equals = pair.firstIndex(of: "=") else { continue }
            if pair[..<equals] == name { return String(pair[pair.index(after: equals)...]) }
        }
        return nil
    }

    /// The path parameter `name` (routes guarantee it is present).
    public func parameter(_ name: String) -> String { pathParameters[name] ?? "" }

    /// The body decoded as a JSON object.
    /// - Throws: ``APIError`` 400 `INVALID_JSON` when the body is not a JSON object, or names a
    ///   member twice in one object (``JSONDuplicateKeys``).
    public func jsonObject() throws -> [String: Any] {
        if body.isEmpty { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw APIError(status: 400, code: "INVALID_JSON", pt: "O corpo não é um objeto JSON válido.",
                           en: "The body is not a valid JSON object.")
        }
        try refuseDuplicateKeys()
        return object
    }

    /// 400 `INVALID_JSON` naming the first member the (valid) JSON body names twice in one object.
    func refuseDuplicateKeys() throws {
        guard let member = JSONDuplicateKeys.first(in: body) else { return }
        throw APIError(status: 400, code: "INVALID_JSON", pt: "O corpo repete o campo \(member).", en: "The body repeats the field \(member).",
                       details: [.init(field: member, reason: "duplicate_key", pt: "Campo repetido: envie-o uma vez só.",
                                       en: "Repeated field: send it once.")])
    }

    /// The body decoded into `T`.
    /// - Throws: ``APIError`` 400 naming what could not be decoded.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if !body.isEmpty, (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) == nil {
            throw APIError(status: 400, code: "INVALID_JSON", pt: "O corpo não é JSON válido.", en: "The body is not valid JSON.")
        }
        try refuseDuplicateKeys()
        do { return try JSONDecoder().decode(T.self, from: Data(body.isEmpty ? Array("{}".utf8) : body)) } catch let error as DecodingError {
            var field = ""
            var reason = "invalid"
            switch error {
            case .keyNotFound(let key, let context):
                field = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
                reason = "required"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                field = context.codingPath.map(\.stringValue).joined(separator: ".")
                reason = "invalid_type"
            @unknown default: break
            }
            let (pt, en) = reason == "required" ? ("Campo obrigatório.", "Required field.")
                : ("Valor de tipo errado ou inválido.", "Value of the wrong type, or invalid.")
            throw APIError(status: 400, code: "INVALID_ARGUMENT", pt: "Requisição inválida.", en: "Invalid request.",
                           details: [.init(field: field, reason: reason, pt: pt, en: en)])
        } catch {
            throw APIError(status: 400, code: "INVALID_JSON", pt: "O corpo não é JSON válido.", en: "The body is not valid JSON.")
        }
    }
}

/// What a handler answers.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Headers in order; a name may repeat (`Set-Cookie`).
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// A body produced while it is sent, instead of ``body`` (a relayed download).
    public var source: (any HTTPBodySource)?
    /// The size of ``source``'s body when known (`Content-Length`; else chunked).
    public var sourceLength: Int64?

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response whose body `source` produces while it is sent.
    public init(status: Int, headers: [(String, String)], source: any HTTPBodySource, length: Int64?) {
        self.init(status: status, headers: headers)
        self.source = source
        sourceLength = length
    }

    /// A JSON response from a `JSONSerialization`-compatible value.
    public static func json(_ value: Any, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: JSONWriter.data(value))
    }

    /// A JSON response whose body is already JSON text.
    public static func jsonText(_ body: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: body)
    }

    /// A JSON response from an `Encodable` value.
    public static func encoded<T: Encodable>(_ value: T, status: Int = 200) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: Array(data))
    }

    /// A text response.
    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// 204 No Content.
    public static var noContent: HTTPResponse { HTTPResponse(status: 204) }

    /// 304 Not Modified standing for a representation of `length` bytes: headers only, with
    /// `Content-Length: length`, the 200's (RFC 9110 §8.6 allows only that value on a 304).
    ///
    /// libmicrohttpd 0.9.75 writes a `Content-Length` on every 304, from the response's size, and
    /// never sends a 304's body: an empty response said `Content-Length: 0`, which a cache may take
    /// for the stored response's new length. A header of our own cannot replace it (with
    /// `MHD_RF_INSANITY_HEADER_CONTENT_LENGTH` both go out; `MHD_RF_HEAD_ONLY_RESPONSE`, which
    /// would omit it, is libmicrohttpd 1.0's), and a response of unknown size gets
    /// `Transfer-Encoding: chunked` instead; so the 304 is given the 200's size and no bytes
    /// (``NoBody``, never read).
    public static func notModified(length: Int) -> HTTPResponse {
        HTTPResponse(status: 304, headers: [], source: NoBody(), length: Int64(length))
    }

    /// This answer for a HEAD request: the same status and headers, with the length of the body
    /// the GET would send (libmicrohttpd sends a HEAD's headers only and states `Content-Length`
    /// from the response's size, so an emptied body said `Content-Length: 0`); a streamed body of
    /// unknown size stays unknown (`Transfer-Encoding: chunked`, as for the GET). A streamed
    /// body's source is closed here.
    public func withoutBody() -> HTTPResponse {
        source?.close()
        return HTTPResponse(status: status, headers: headers, source: NoBody(), length: source == nil ? Int64(body.count) : sourceLength)
    }

    /// The body of ``notModified(length:)`` and ``withoutBody()``: libmicrohttpd never reads a
    /// 304's or a HEAD's body; were it asked, it would end at once.
    final class NoBody: HTTPBodySource {
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { 0 }
        func close() {}
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { Self.asciiCaseInsensitiveEqual($0.0, name) }?.1
    }

    /// Header names are ASCII: compares bytes, without Foundation's locale-aware comparison.
    static func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        for (x, y) in zip(a.utf8, b.utf8) where x != y {
            let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
            let ly = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }

    /// Adds a header.
    public mutating func addHeader(_ name: String, _ value: String) { headers.append((name, value)) }
}
