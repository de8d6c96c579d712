import Foundation
import Messages
import RPCTransport
import ServiceKit
import Storage

extension IntakeContext {
    /// Runs a change in one write transaction, once per idempotency key of `caller`'s call
    /// (``Caller/idempotencyKey``; none: every call), scoped by `operation` and the caller: a
    /// retry gets the first answer, the same key with another request `FAILED_PRECONDITION`
    /// (``Idempotent``).
    func write<Request: ProtoMessage, Response: ProtoMessage>(_ operation: String, _ caller: Caller, _ request: Request,
                                                               _ body: (any SQLExecutor) throws -> Response) throws -> Response {
        try write(operation, caller, fingerprint: request.serializedBytes(), body)
    }

    /// The answer a committed first call with `caller`'s key stored for `operation`, for the
    /// changes whose checks would refuse a retry (a message already resolved): nil when the
    /// key is unused. The same key with another request: `FAILED_PRECONDITION`.
    func replayed<Response: ProtoMessage>(_ operation: String, _ caller: Caller, fingerprint: [UInt8]) throws -> Response? {
        try Idempotent.replay(database, key: caller.idempotencyKey, scope: Self.scope(operation, caller),
                              fingerprint: Digest.sha256(fingerprint)).map { try Response(serializedBytes: $0) }
    }

    /// ``write(_:_:_:_:)`` for a request given as its parts (`fingerprint`: their bytes).
    func write<Response: ProtoMessage>(_ operation: String, _ caller: Caller, fingerprint: [UInt8],
                                       _ body: (any SQLExecutor) throws -> Response) throws -> Response {
        try Idempotent.write(database, key: caller.idempotencyKey, scope: Self.scope(operation, caller),
                             fingerprint: Digest.sha256(fingerprint), body)
    }

    /// Where `caller`'s keys for `operation` live: one caller's, one operation's.
    private static func scope(_ operation: String, _ caller: Caller) -> String { "intake.\(operation)|\(caller.id)" }
}
