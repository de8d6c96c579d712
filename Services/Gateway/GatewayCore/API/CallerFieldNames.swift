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

    /// `error` with its fields (and the field names quoted in its message) as the caller sent them.
    func renamed(_ error: RPCError, _ request: HTTPRequest) -> RPCError {
        var renamed = error
        var texts = [error.message]
        rename(&renamed.violations, \.field, texts: &texts, request)
        renamed.message = texts[0]
        return renamed
    }

    /// `error` with its details' fields (and the field names quoted in its messages) as the caller sent them.
    func renamed(_ error: APIError, _ request: HTTPRequest) -> APIError {
        var renamed = error
        var texts = [error.messagePT, error.messageEN]
        rename(&renamed.details, \.field, texts: &texts, request)
        (renamed.messagePT, renamed.messageEN) = (texts[0], texts[1])
        return renamed
    }

    /// Renames the `field` of each item that a query argument fed, and the name in `texts`.
    private func rename<Item>(_ items: inout [Item], _ field: WritableKeyPath<Item, String>, texts: inout [String], _ request: HTTPRequest) {
        for index in items.indices {
            let old = items[index][keyPath: field]
            guard let name = callerName(of: old, in: request) else { continue }
            items[index][keyPath: field] = name
            texts = texts.map { Self.replacingWord(old, with: name, in: $0) }
        }
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
