import Foundation
import Messages
import RPC
import RPCTransport
import Storage

/// Runs a mutating handler at most once per idempotency key: the key and the encoded response
/// are stored in the same transaction as the effect, so a retry returns the first response.
///
/// ```swift
/// router.register(IntakeV1.Intake.openTicket) { request, context in
///     try Idempotent.write(database, context, caller: principal.id, request) { tx in try open(request, tx) }
/// }
/// ```
public enum Idempotent {
    /// Runs `body` in a write transaction, keyed by the call's `idempotency-key` when it has one,
    /// scoped by the method and the caller (`caller`: the verified principal's id). A replay
    /// does not run `body`, so its checks of the caller do not run either: keys are one
    /// caller's, and another caller who sends the same key and request gets an effect of their
    /// own (or their own refusal), never the first caller's stored answer.
    /// - Throws: `FAILED_PRECONDITION` when the key was used for a different request.
    public static func write<Request: ProtoMessage, Response: ProtoMessage>(
        _ database: any Database, _ context: ServerContext, caller: String, _ request: Request,
        _ body: (any SQLExecutor) throws -> Response
    ) throws -> Response {
        try write(database, key: context.idempotencyKey, scope: "\(context.method)|\(caller)", request, body)
    }

    /// Runs `body` in a write transaction, keyed by `key` within `scope` when there is a key
    /// (nil or empty: no key): the first response is stored with the effect and a retry with
    /// the same request gets it back.
    /// - Throws: `INVALID_ARGUMENT` for a key over 200 bytes; `FAILED_PRECONDITION` when the key
    ///   was used for a different request.
    public static func write<Request: ProtoMessage, Response: ProtoMessage>(
        _ database: any Database, key: String?, scope: String, _ request: Request,
        _ body: (any SQLExecutor) throws -> Response
    ) throws -> Response {
        guard let key, !key.isEmpty else { return try database.write { try body($0) } }
        return try write(database, key: key, scope: scope, fingerprint: Digest.sha256(request.serializedBytes()), body)
    }

    /// ``write(_:key:scope:_:_:)`` with the request's fingerprint worked out by the caller (one
    /// that stands for some of the request's fields by what they name, say).
    public static func write<Response: ProtoMessage>(
        _ database: any Database, key: String?, scope: String, fingerprint: [UInt8],
        _ body: (any SQLExecutor) throws -> Response
    ) throws -> Response {
        guard let key, !key.isEmpty else {
            return try database.write { try body($0) }
        }
        guard key.utf8.count <= 200 else {
            throw RPCError(.invalidArgument, "chave de idempotência longa demais / idempotency key too long", violations: [
                FieldViolation(field: "idempotency-key", reason: "too_long", pt: "No máximo 200 caracteres.", en: "At most 200 characters."),
            ])
        }
        do {
            let result = try database.write { tx in
                try IdempotencyStore.run(tx, scope: scope, key: key, requestFingerprint: fingerprint) {
                    try body(tx).serializedBytes()
                }
            }
            return try Response(serializedBytes: result.response)
        } catch let error as StorageError where error.kind == .idempotencyMismatch {
            throw RPCError(.failedPrecondition,
                           "chave de idempotência já usada com outro pedido / idempotency key reused with a different request")
        }
    }
}
