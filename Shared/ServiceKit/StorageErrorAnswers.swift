import RPC
import Storage

/// Storage's errors as a service answers them: a database that cannot take work right now
/// (``Storage/StorageError/isUnavailable``: unreachable, busy, full) is `UNAVAILABLE`, which
/// callers retry and the gateway answers 503 "indisponível", instead of `INTERNAL` (500
/// "erro interno"); the cause still goes to the log. Registered once by ``ServiceMain``.
enum StorageErrorAnswers {
    static let registered: Void = HandlerErrorTranslation.register { error in
        guard let storage = error as? StorageError, storage.isUnavailable else { return nil }
        return RPCError(.unavailable, "banco de dados indisponível no momento / the database is unavailable right now")
    }
}
