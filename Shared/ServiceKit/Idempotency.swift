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
    /// own (or their own refusal), never the first caller's stored answer. What the caller may
    /// reach can change between the first call and a retry (a level lowered, an agent disabled,
    /// a ticket made confidential): `replayCheck` runs in the replay's transaction before the
    /// stored answer is given back, and what it throws is the answer instead.
    /// - Parameter seal: seals the stored answer (answers that carry a secret, ``ResponseSeal``).
    /// - Parameter replayCheck: the caller's access checked again on a replay (not on a first call).
    /// - Throws: `FAILED_PRECONDITION` when the key was used for a different request.
    public static func write<Request: ProtoMessage, Response: ProtoMessage>(
        _ database: any Database, _ context: ServerContext, caller: String, _ request: Request, sealing seal: ResponseSeal? = nil,
        replayCheck: ReplayCheck? = nil, _ body: (any SQLExecutor) throws -> Response
    ) throws -> Response {
        try write(database, key: context.idempotencyKey, scope: "\(context.method)|\(caller)", request, sealing: seal,
                  replayCheck: replayCheck, body)
    }

    /// What a replay checks again before it answers (``write(_:_:caller:_:sealing:replayCheck:_:)``):
    /// runs in the replay's transaction; throws the refusal.
    public typealias ReplayCheck = (any SQLExecutor) throws -> Void

    /// Runs `body` in a write transaction, keyed by `key` within `scope` when there is a key
    /// (nil or empty: no key): the first response is stored with the effect and a retry with
    /// the same request gets it back.
    /// - Throws: `INVALID_ARGUMENT` for a key over 200 bytes; `FAILED_PRECONDITION` when the key
    ///   was used for a different request.
    public static func write<Request: ProtoMessage, Response: ProtoMessage>(
        _ database: any Database, key: String?, scope: String, _ request: Request, sealing seal: ResponseSeal? = nil,
        replayCheck: ReplayCheck? = nil, _ body: (any SQLExecutor) throws -> Response
    ) throws -> Response {
        guard let key, !key.isEmpty else { return try database.write { try body($0) } }
        // A sealed answer's request may carry a secret too: its fingerprint is keyed.
        let bytes = request.serializedBytes()
        return try write(database, key: key, scope: scope, fingerprint: seal?.fingerprint(bytes) ?? Digest.sha256(bytes), sealing: seal,
                         replayCheck: replayCheck, body)
    }

    /// ``write(_:key:scope:_:_:)`` with the request's fingerprint worked out by the caller (one
    /// that stands for some of the request's fields by what they name, say).
    public static func write<Response: ProtoMessage>(
        _ database: any Database, key: String?, scope: String, fingerprint: [UInt8], sealing seal: ResponseSeal? = nil,
        replayCheck: ReplayCheck? = nil, _ body: (any SQLExecutor) throws -> Response
    ) throws -> Response {
        guard let key, !key.isEmpty else {
            return try database.write { try body($0) }
        }
        let result = try bytes(database, key: key, scope: scope, fingerprint: fingerprint, sealing: seal,
                               replayCheck: replayCheck) { tx in try body(tx).serializedBytes() }
        return try Response(serializedBytes: result.response)
    }

    /// The mechanism under the others, for answers that are bytes of any kind (the gateway's
    /// own HTTP answers): `body` runs once per `(scope, key)`, its bytes are stored with its
    /// effect (sealed when `seal` is given) and a retry gets them back (`replayed`).
    /// - Throws: as ``write(_:key:scope:fingerprint:sealing:_:)``.
    public static func bytes(
        _ database: any Database, key: String?, scope: String, fingerprint: [UInt8], sealing seal: ResponseSeal? = nil,
        replayCheck: ReplayCheck? = nil, _ body: (any SQLExecutor) throws -> [UInt8]
    ) throws -> IdempotentResult {
        guard let key, !key.isEmpty else { return IdempotentResult(response: try database.write { try body($0) }, replayed: false) }
        try check(key)
        do {
            var fresh: [UInt8]?
            let result = try database.write { tx in
                fresh = nil
                let result = try IdempotencyStore.run(tx, scope: scope, key: key, requestFingerprint: fingerprint) {
                    let answer = try body(tx)
                    fresh = answer
                    return seal?.seal(answer) ?? answer
                }
                if result.replayed { try replayCheck?(tx) }
                return result
            }
            if !result.replayed, let fresh { return IdempotentResult(response: fresh, replayed: false) }
            return IdempotentResult(response: try seal?.open(result.response) ?? result.response, replayed: true)
        } catch let error as StorageError where error.kind == .idempotencyMismatch {
            throw mismatch
        }
    }

    /// The answer stored for `(scope, key)` by a call that committed, opened when `seal` is
    /// given; nil when the key is unused (or its first call is still running). Lets a caller
    /// skip work it would do before ``bytes(_:key:scope:fingerprint:sealing:_:)`` (a call to
    /// another service) on a plain retry.
    /// - Throws: `FAILED_PRECONDITION` when the key was used for a different request.
    public static func replay(_ database: any Database, key: String?, scope: String, fingerprint: [UInt8],
                              sealing seal: ResponseSeal? = nil) throws -> [UInt8]? {
        guard let key, !key.isEmpty else { return nil }
        try check(key)
        guard let stored = try database.read({ try IdempotencyStore.stored($0, scope: scope, key: key) }) else { return nil }
        guard stored.fingerprint == fingerprint else { throw mismatch }
        return try stored.response.map { try seal?.open($0) ?? $0 }
    }

    static func check(_ key: String) throws {
        guard key.utf8.count <= 200 else {
            throw RPCError(.invalidArgument, "chave de idempotência longa demais / idempotency key too long", violations: [
                FieldViolation(field: "idempotency-key", reason: "too_long", pt: "No máximo 200 caracteres.", en: "At most 200 characters."),
            ])
        }
    }

    static let mismatch = RPCError(.failedPrecondition,
                                   "chave de idempotência já usada com outro pedido / idempotency key reused with a different request")
}
