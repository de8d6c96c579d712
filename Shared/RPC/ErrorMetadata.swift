/// The metadata an error may carry on the wire (`Status.metadata`, docs/PROTOCOL.md "Error
/// metadata"): only keys under ``prefix``, at most ``maxEntries`` of them, each within
/// ``maxKeyBytes`` and ``maxValueBytes``.
///
/// Both sides apply the same rule (``wire(_:)``): a server sends nothing else, so the process's
/// own keys (``RPCError/causeKey``, the client's `transport.*`) never leave it, and a client
/// keeps nothing else, so no server (an older one, a misbehaving one) can set them or flood the
/// caller with entries.
public enum ErrorMetadata {
    /// Keys under this prefix travel with a status; no other key does.
    public static let prefix = "status."

    /// "true" on an `UNAVAILABLE` a handler answered after it had started (its database went
    /// away mid-call, ``HandlerErrorTranslation``): unlike the transport's `UNAVAILABLE`
    /// (draining, not ready), the call may have done part of its work, so clients repeat it only
    /// with an idempotency key (``RPCError/handlerStarted``).
    public static let handlerStarted = "status.handler_started"

    /// "true" on the `RESOURCE_EXHAUSTED` a server answers instead of a response whose frame would
    /// pass its frame limit (``RPCError/responseTooLarge(bytes:limit:)``).
    public static let responseTooLarge = "status.response_too_large"

    /// Milliseconds (a positive decimal integer) after which the caller may try again, when the
    /// server knows it: a rate limit's reset, what is left of a draining server's grace period
    /// (``RPCError/retryAfterMilliseconds``).
    public static let retryAfterMilliseconds = "status.retry_after_ms"

    /// Entries one status carries at most.
    public static let maxEntries = 16
    /// Longest key, in UTF-8 bytes.
    public static let maxKeyBytes = 64
    /// Longest value, in UTF-8 bytes.
    public static let maxValueBytes = 256

    /// The keys this version gives a meaning to: kept before any other when there are more entries
    /// than ``maxEntries``.
    static let known: Set<String> = [handlerStarted, responseTooLarge, retryAfterMilliseconds]

    /// The entries of `metadata` that travel with a status: those under ``prefix`` within the size
    /// limits, the known keys first and then the others in key order, at most ``maxEntries``.
    /// What a server sends and what a client keeps of what it read.
    public static func wire(_ metadata: [String: String]) -> [String: String] {
        guard !metadata.isEmpty else { return [:] }
        let allowed = metadata.filter { key, value in
            key.hasPrefix(prefix) && key.utf8.count <= maxKeyBytes && value.utf8.count <= maxValueBytes
        }
        guard allowed.count > maxEntries else { return allowed }
        let ordered = allowed.keys.sorted { a, b in
            let (aKnown, bKnown) = (known.contains(a), known.contains(b))
            return aKnown != bKnown ? aKnown : a < b
        }
        var kept: [String: String] = [:]
        for key in ordered.prefix(maxEntries) { kept[key] = allowed[key] }
        return kept
    }
}
