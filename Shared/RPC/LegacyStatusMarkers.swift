/// How servers marked two errors until 2026-12-01, read for as long as such a server may answer.
///
/// Before `Status.metadata` existed, `handler_started` and `response_too_large` travelled as a
/// ``FieldViolation`` with an empty field and that reason (there was no other way on the wire).
/// Servers now send ``ErrorMetadata/handlerStarted`` and ``ErrorMetadata/responseTooLarge``,
/// and for one release also the old violation beside it (``emit(code:metadata:)``), so a client
/// older than this change, during a rolling upgrade, still repeats a started call only with an
/// idempotency key. A new client reading either form turns such a violation into the same
/// metadata and drops it (``RPCError/init(status:)``), so nothing downstream (the gateway's
/// `details`, `ocorre call`) ever shows it as a field error.
///
/// Remove this file once no process older than this change can answer or make a call: every
/// service and the gateway have been upgraded past it (docs/PROTOCOL.md, "Error metadata").
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

    /// The old-form violations of `metadata`'s markers on an error of `code`, sent beside the
    /// metadata for clients that read only the old form.
    static func emit(code: RPCStatusCode, metadata: [String: String]) -> [FieldViolation] {
        switch code {
        case .unavailable where metadata[ErrorMetadata.handlerStarted] == "true":
            return [FieldViolation(field: "", reason: handlerStartedReason,
                                   pt: "A chamada pode ter feito parte do trabalho.", en: "The call may have done part of its work.")]
        case .resourceExhausted where metadata[ErrorMetadata.responseTooLarge] == "true":
            return [FieldViolation(field: "", reason: responseTooLargeReason,
                                   pt: "A resposta passa do limite de uma chamada.", en: "The answer is larger than one call may carry.")]
        default:
            return []
        }
    }
}
