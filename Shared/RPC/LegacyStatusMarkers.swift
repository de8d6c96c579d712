/// How servers marked two errors until 2026-12-01, read for as long as such a server may answer.
///
/// Before `Status.metadata` existed, `handler_started` and `response_too_large` travelled as a
/// ``FieldViolation`` with an empty field and that reason (there was no other way on the wire).
/// Servers now send ``ErrorMetadata/handlerStarted`` and ``ErrorMetadata/responseTooLarge``
/// instead; a new client reading an old server's answer turns such a violation into the same
/// metadata and drops it (``RPCError/init(status:)``), so nothing downstream (the gateway's
/// `details`, `ocorre call`) ever shows it as a field error.
///
/// Remove this file once no process older than this change can answer a call: every service
/// and the gateway have been upgraded past it (docs/PROTOCOL.md, "Error metadata").
enum LegacyStatusMarkers {
    /// The reason of the violation that marked an `UNAVAILABLE` answered after its handler started.
    static let handlerStartedReason = "handler_started"
    /// The reason of the violation that marked a `RESOURCE_EXHAUSTED` answered instead of a
    /// response too large for one frame.
    static let responseTooLargeReason = "response_too_large"

    /// Moves an old server's marker violations (empty field, one of the two reasons, on the code
    /// that carried it) into `metadata`.
    static func adopt(code: RPCStatusCode, violations: inout [FieldViolation], metadata: inout [String: String]) {
        let marker: (reason: String, key: String)
        switch code {
        case .unavailable: marker = (handlerStartedReason, ErrorMetadata.handlerStarted)
        case .resourceExhausted: marker = (responseTooLargeReason, ErrorMetadata.responseTooLarge)
        default: return
        }
        guard violations.contains(where: { $0.field.isEmpty && $0.reason == marker.reason }) else { return }
        violations.removeAll { $0.field.isEmpty && $0.reason == marker.reason }
        metadata[marker.key] = "true"
    }
}
