import Foundation

/// The outcome of ``IdempotencyStore/run(_:scope:key:requestFingerprint:_:)``.
public struct IdempotentResult: Sendable, Hashable {
    /// The response bytes: produced now, or stored by the first call with this key.
    public var response: [UInt8]
    /// `true` when the body did not run because the key had been used before.
    public var replayed: Bool

    /// Creates a result.
    public init(response: [UInt8], replayed: Bool) {
        self.response = response
        self.replayed = replayed
    }
}

/// Idempotency keys for mutating calls: a client retrying a request with the same key gets the
/// first response back instead of the effect happening twice.
///
/// Keys live in `storage_idempotency` (created by ``openDatabase(_:migrations:)``), unique per
/// `(scope, key)`, written in the same transaction as the call's effects.
///
/// ```swift
/// let result = try db.write { tx in
///     try IdempotencyStore.run(tx, scope: "intake.v1.OpenTicket", key: request.idempotencyKey,
///                              requestFingerprint: sha256(requestBytes)) {
///         try tx.execute("INSERT INTO tickets ...", [...])
///         return responseBytes
///     }
/// }
/// ```
public enum IdempotencyStore {
    /// Runs `body` once per `(scope, key)` and stores its response with the key.
    ///
    /// The key is inserted *before* `body` runs, relying on the primary key: a concurrent first
    /// use of the same key on PostgreSQL waits for the winner's transaction, then replays its
    /// stored response, so the effect happens once and both callers get identical bytes. If the
    /// winner's row is not visible yet (a stricter isolation level), a retryable
    /// ``StorageError/Kind/serialization`` error makes ``Database/write(_:)`` run the transaction
    /// again, which then replays. Only successful calls are stored: when `body` throws, the
    /// transaction rolls back and the key stays free.
    ///
    /// - Parameters:
    ///   - executor: The caller's write transaction.
    ///   - scope: The operation, e.g. the RPC method name.
    ///   - key: The client's idempotency key.
    ///   - requestFingerprint: A digest of the request; the same key with another request is an error.
    ///   - body: Performs the effect with `executor` and returns the encoded response.
    /// - Throws: ``StorageError/Kind/idempotencyMismatch`` when `key` was used with a different
    ///   request, or what `body` throws.
    public static func run(_ executor: any SQLExecutor, scope: String, key: String, requestFingerprint: [UInt8],
                           _ body: () throws -> [UInt8]) throws -> IdempotentResult {
        let inserted = try executor.execute("""
            INSERT INTO storage_idempotency (scope, idem_key, fingerprint, response, created_at)
            VALUES (?, ?, ?, NULL, ?) ON CONFLICT DO NOTHING
            """, [.text(scope), .text(key), .blob(requestFingerprint), .timestamp(Date())])
        if inserted == 1 {
            let response = try body()
            try executor.execute("UPDATE storage_idempotency SET response = ? WHERE scope = ? AND idem_key = ?",
                                 [.blob(response), .text(scope), .text(key)])
            return IdempotentResult(response: response, replayed: false)
        }
        guard let row = try executor.queryOne("SELECT fingerprint, response FROM storage_idempotency WHERE scope = ? AND idem_key = ?",
                                              [.text(scope), .text(key)]) else {
            throw StorageError(.serialization, "idempotency key '\(key)' for \(scope) was taken by a concurrent transaction not visible yet; retry")
        }
        guard try row.blob("fingerprint") == requestFingerprint else {
            throw StorageError(.idempotencyMismatch, "idempotency key '\(key)' was already used for a different \(scope) request")
        }
        guard let response = try row.optionalBlob("response") else {
            throw StorageError(.misuse, "idempotency key '\(key)' for \(scope) is being used again inside its own call")
        }
        return IdempotentResult(response: response, replayed: true)
    }

    /// What the first call with `(scope, key)` stored: its request fingerprint and its response
    /// (nil while that call's transaction has not committed); nil when the key is unused. For
    /// callers that must know about a replay before doing work outside the transaction (the
    /// gateway's writes that call a service first); ``run(_:scope:key:requestFingerprint:_:)``
    /// stays the one that decides.
    public static func stored(_ executor: any SQLExecutor, scope: String, key: String) throws -> (fingerprint: [UInt8], response: [UInt8]?)? {
        guard let row = try executor.queryOne("SELECT fingerprint, response FROM storage_idempotency WHERE scope = ? AND idem_key = ?",
                                              [.text(scope), .text(key)]) else { return nil }
        return (try row.blob("fingerprint"), try row.optionalBlob("response"))
    }

    /// Forgets keys created before `cutoff`; a retry after that runs the call again.
    /// - Parameter limit: At most this many keys (oldest first) in this call; nil: all of them.
    /// - Returns: The number of keys removed.
    @discardableResult
    public static func prune(_ executor: any SQLExecutor, olderThan cutoff: Date, limit: Int? = nil) throws -> Int {
        try OldRows.delete(executor, table: "storage_idempotency", key: "scope, idem_key", time: "created_at", before: cutoff, limit: limit)
    }

    /// Forgets keys older than `retention` (e.g. `.seconds(86_400)` for the usual 24-hour window).
    @discardableResult
    public static func prune(_ executor: any SQLExecutor, retention: Duration, now: Date = Date()) throws -> Int {
        try prune(executor, olderThan: now.addingTimeInterval(-retention.timeInterval))
    }
}
