import Synchronization

/// How a server answers an error a handler threw that is not an ``RPCError``: by default
/// `INTERNAL`, "erro interno / internal error", the error's text kept for the server's log
/// (``RPCError/causeKey``). A lower layer's errors that mean "cannot take work right now" (the
/// database unreachable, full) are better answered `UNAVAILABLE`, which callers retry and the
/// gateway answers 503: the layer that knows both registers a translation once
/// (ServiceKit registers storage's). Such an `UNAVAILABLE` is marked
/// ``ErrorMetadata/handlerStarted``, which travels; the cause does not. So is an `UNAVAILABLE`
/// the handler rethrows from a call of its own that was lost after it was sent
/// (``RPCError/sentKey`` "true": the gateway's RPC port forwarding to a service that went away
/// mid-call, a service whose call to another did): that call may have run.
public enum HandlerErrorTranslation {
    private static let translations = Mutex<[@Sendable (any Error) -> RPCError?]>([])

    /// Adds a translation, asked before `INTERNAL` is chosen; the first one that answers wins.
    public static func register(_ translation: @escaping @Sendable (any Error) -> RPCError?) {
        translations.withLock { $0.append(translation) }
    }

    /// What a server answers for `error`, with its text under ``RPCError/causeKey`` (never sent).
    public static func answer(for error: any Error) -> RPCError {
        if var rpc = error as? RPCError {
            if rpc.code == .unavailable && rpc.metadata[RPCError.sentKey] == "true" {
                rpc.metadata[ErrorMetadata.handlerStarted] = "true"
            }
            return rpc
        }
        let cause = String(describing: error)
        for translate in translations.withLock({ $0 }) {
            if var answer = translate(error) {
                answer.metadata[RPCError.causeKey] = cause
                // The handler had started: the call may have done part of its work.
                if answer.code == .unavailable { answer.metadata[ErrorMetadata.handlerStarted] = "true" }
                return answer
            }
        }
        return RPCError(.internal, "erro interno / internal error", metadata: [RPCError.causeKey: cause])
    }
}
