import RPC

/// An error about a field a binding filled from a query argument names the argument the caller
/// sent, not the request message's field: `GET /v1/tickets?priority=X` is refused on `priority`,
/// not `filter.priorities[0]`; `GET /v1/backlog?version=…` on `version`, not `version_id`.
///
/// Both kinds of error are renamed: the gateway's own (a value that does not convert,
/// ``ProtoJSON/Failure``, as ``APIError``) and the service's field violations (``RPCError``,
/// kept an ``RPCError`` so wrappers that look at its code still see it). On a route that reads a
/// body, a field the caller may have sent in it keeps its name unless the query argument was
/// sent; on one that reads none, a violation on a mapped field (`query` required, say) is about
/// the argument even when it was left out.
///
/// Used by every binding (``RPCBinding``) and by the hand-written routes that fill a request from
/// query arguments (`GET /v1/tickets`).
struct QueryArgumentNames: Sendable {
    /// Query argument → request field (dotted for nested messages).
    var mapping: [String: String]
    /// Whether the route's body feeds the request too.
    var readsBody: Bool

    init(_ mapping: [String: String], readsBody: Bool = false) {
        self.mapping = mapping
        self.readsBody = readsBody
    }

    /// Runs `body`, renaming the fields of the errors it throws (``APIError``, ``RPCError``).
    func naming<T>(_ request: HTTPRequest, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as APIError {
            throw renamed(error, request)
        } catch let error as RPCError {
            throw renamed(error, request)
        }
    }

    /// The query argument a violation on `field` is about (`filter.priorities[0]` → `priority`),
    /// or nil when no argument of `request` fed it.
    func callerName(of field: String, in request: HTTPRequest) -> String? {
        // The longest mapped field first: `filter.group_id` before `filter`.
        for (argument, mapped) in mapping.sorted(by: { $0.value.count > $1.value.count }) where argument != mapped {
            guard !readsBody || !(request.query[argument] ?? "").isEmpty else { continue }
            // An item of a comma list (`filter.priorities[1]`) is the argument too: the caller
            // wrote no index.
            if field == mapped { return argument }
            if field.hasPrefix(mapped), let next = field.dropFirst(mapped.count).first, next == "." || next == "[" { return argument }
        }
        return nil
    }

    /// `error` with its fields (and the field names quoted in its texts) as the caller sent them.
    func renamed(_ error: RPCError, _ request: HTTPRequest) -> RPCError {
        var renamed = error
        for index in renamed.violations.indices {
            let field = renamed.violations[index].field
            guard let name = callerName(of: field, in: request) else { continue }
            renamed.violations[index].field = name
            renamed.message = Self.replacingWord(field, with: name, in: renamed.message)
        }
        return renamed
    }

    /// `error` with its details' fields (and the field names quoted in its texts) as the caller sent them.
    func renamed(_ error: APIError, _ request: HTTPRequest) -> APIError {
        var renamed = error
        for index in renamed.details.indices {
            let field = renamed.details[index].field
            guard let name = callerName(of: field, in: request) else { continue }
            renamed.details[index].field = name
            renamed.messagePT = Self.replacingWord(field, with: name, in: renamed.messagePT)
            renamed.messageEN = Self.replacingWord(field, with: name, in: renamed.messageEN)
        }
        return renamed
    }

    /// `text` with `word` replaced where it stands alone (not inside a longer identifier).
    static func replacingWord(_ word: String, with replacement: String, in text: String) -> String {
        guard !word.isEmpty, text.contains(word) else { return text }
        func isIdentifier(_ character: Character?) -> Bool {
            guard let character else { return false }
            return character.isLetter || character.isNumber || character == "_"
        }
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: word) {
            let before = range.lowerBound == rest.startIndex ? result.last : rest[rest.index(before: range.lowerBound)]
            let tail = rest[range.upperBound...]
            // A dot joins identifiers (`filter.group_id`) but also ends a sentence (`… page_size.`).
            let joined = tail.first == "." && isIdentifier(tail.dropFirst().first)
            result += rest[..<range.lowerBound]
            result += isIdentifier(before) || before == "." || isIdentifier(tail.first) || joined ? word : replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
